"""Issue 15: every failure of the command line is explained — exit 2, a French sentence that says what happened
and what to do, nothing half-written — never « Une erreur inattendue » (exit 1, kept for true bugs).

Each fault is produced for real, on real files, by real processes (`main.py --db …` in a subprocess):
- a full disk: a small tmpfs filled to the brim (needs root, which mounts it; skipped otherwise);
- a read-only file system: a read-only bind mount (root ignores file modes, so chmod would prove nothing);
- a damaged database: garbage written over the file;
- impossible input: months 9999-12 and 0000-01, audit-purge --days 99999999, a birth date in year 9999.
Nothing half-written: the database's dump (or its bytes) is the same before and after, no output file is left.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

import main

ROOT = Path(main.__file__).resolve().parent
DATA = Path(__file__).parent / "data"
CONVENTION, MONTH = "ap-2025", "2025-01"
# What the system or SQLite would say in English, and what a bug would print.
ENGLISH = ("error", "database", "disk", "locked", "unable", "malformed", "readonly", "read-only", "no space",
           "out of range", "permission", "traceback", "not a", "file is")

as_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"),
                             reason="mounting a small tmpfs or a read-only bind mount needs root")


# -- helpers ---------------------------------------------------------------------------------------------------

def run(db: Path | str, *args: str, env_dir: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_STATE_HOME": str(env_dir / "state"), "XDG_DATA_HOME": str(env_dir / "data"),
           "PYTHONDONTWRITEBYTECODE": "1", "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", str(db), *map(str, args)], cwd=ROOT,
                          env=env, input=stdin, capture_output=True, text=True, timeout=120)


def assert_refused_in_french(done: subprocess.CompletedProcess, *expected: str, paths: tuple = ()) -> str:
    """Exit 2, a French message holding each of `expected`, no English, no « inattendue »; returns stderr."""
    err = done.stderr
    assert done.returncode == 2, (done.returncode, err)
    assert "inattendue" not in err and "Traceback" not in err, err
    assert err.strip(), "a refusal must say why"
    text = err
    for path in sorted((str(p) for p in paths), key=len, reverse=True):
        text = text.replace(path, "")
    text = re.sub(r"/\S*", "", text).lower()  # any other path (a temporary folder) is not words
    assert not [word for word in ENGLISH if word in text], err
    for fragment in expected:
        assert fragment in err, (fragment, err)
    return err


def dump(db: Path) -> list[str]:
    """Every row of every table (audit entries included), read only. An export that could not be written leaves no
    « exported » entry either (its entry is committed only once the file is written)."""
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        return list(conn.iterdump())


def example_dataset() -> dict:
    """The example dataset, plus family R1 whose only session was in 2020: past any retention period."""
    data = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
    data["families"].append({"key": "R1", "name": "Famille Ancienne", "commune": "Bourg-en-Bresse",
                             "referent": "ref-martin", "notes": "à effacer"})
    data["sessions"].append({"key": "SR1", "family": "R1", "intervenant": "i-aes", "date": "2020-03-03",
                             "start_time": "14:00", "duration_minutes": 60, "status": "held",
                             "referent_present": True, "approved_exception": False})
    return data


def private_copy(source: Path, target: Path) -> Path:
    """A self-contained copy (no -wal beside it) through SQLite's backup API."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    return target


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A migrated database holding the example dataset (one convention from January 2025, families F1 and F2)."""
    folder = tmp_path_factory.mktemp("template")
    db, file = folder / "modèle.sqlite", folder / "exemple.json"
    file.write_text(json.dumps(example_dataset(), ensure_ascii=False), encoding="utf-8")
    done = run(db, "import", file, env_dir=folder)
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture(scope="module")
def empty_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("empty")
    db = folder / "vide.sqlite"
    done = run(db, "audit-purge", env_dir=folder)  # opens, migrates, writes one audit entry
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture(scope="module")
def big_import(tmp_path_factory) -> Path:
    """An import of about a megabyte: more than the space left on the nearly full disk."""
    data = example_dataset()
    data["families"] += [{"key": f"G{i}", "name": f"Famille {i}", "commune": "Bourg-en-Bresse",
                          "referent": "ref-martin", "notes": "n" * 3000} for i in range(300)]
    path = tmp_path_factory.mktemp("big") / "gros.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount {' '.join(args)} refused here: {done.stderr.strip()}")


def _umount(point: Path) -> None:
    subprocess.run(["umount", "-l", str(point)], capture_output=True)


class SmallDisk:
    """A tmpfs mounted at `path`; fill(leave) fills it with one file so that only `leave` bytes stay free."""

    def __init__(self, path: Path):
        self.path = path
        self.filler = path / "remplissage"

    def fill(self, leave: int = 0) -> None:
        with open(self.filler, "ab") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        if leave:
            os.truncate(self.filler, max(0, self.filler.stat().st_size - leave))

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def files(self) -> set[str]:
        return {p.name for p in self.path.iterdir()} - {self.filler.name}


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs, unmounted by the finalizer even when the test fails."""
    point = tmp_path / "petit-disque"
    point.mkdir()
    _mount("-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(point))
    try:
        yield SmallDisk(point)
    finally:
        _umount(point)


@pytest.fixture
def read_only_view(tmp_path):
    """(writable folder, its read-only bind mount): what is written under the first is seen read-only in the
    second, as on a locked key or a read-only share."""
    source, view = tmp_path / "modifiable", tmp_path / "lecture-seule"
    source.mkdir()
    view.mkdir()
    _mount("--bind", str(source), str(view))
    try:
        _mount("-o", "remount,bind,ro", str(view))
        with pytest.raises(OSError):
            (view / "essai").write_bytes(b"")
        yield source, view
    finally:
        _umount(view)


# -- impossible input: months, days, dates ------------------------------------------------------------------

@pytest.mark.parametrize("month", ["9999-12", "0000-01", "1999-12", "2200-01"])
@pytest.mark.parametrize("issue", [False, True], ids=["projet", "émission"])
def test_statement_of_an_implausible_month_is_refused_in_french(template, tmp_path, month, issue):
    db = private_copy(template, tmp_path / "base.sqlite")
    before = dump(db)
    done = run(db, "statement", "--convention", CONVENTION, "--month", month, *(["--issue"] if issue else []),
               "--pdf", tmp_path / "état.pdf", env_dir=tmp_path)
    assert_refused_in_french(done, f"« {month} »", "2000-01 à 2199-12")
    assert dump(db) == before
    assert not (tmp_path / "état.pdf").exists()


def test_audit_purge_of_a_hundred_thousand_years_is_refused_in_french(template, tmp_path):
    db = private_copy(template, tmp_path / "base.sqlite")
    before = dump(db)
    done = run(db, "audit-purge", "--days", "99999999", env_dir=tmp_path)
    assert_refused_in_french(done, "99999999 jours", "36500")
    assert dump(db) == before


def test_import_of_a_birth_date_in_year_9999_is_refused_in_french(template, tmp_path):
    data = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
    data["families"][0]["children"][0]["birth_date"] = "9999-12-31"
    file = tmp_path / "an-9999.json"
    file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for db in (tmp_path / "neuve.sqlite", private_copy(template, tmp_path / "base.sqlite")):
        before = dump(db) if db.exists() else None
        done = run(db, "import", file, env_dir=tmp_path)
        assert_refused_in_french(done, "rien n'a été enregistré")
        assert before is None or dump(db) == before


# -- a damaged database ------------------------------------------------------------------------------------

def _garbage_over(db: Path, keep: int) -> bytes:
    data = db.read_bytes()
    damaged = data[:keep] + bytes((i * 37 + 11) % 251 for i in range(len(data) - keep))
    db.write_bytes(damaged)
    return damaged


DAMAGING_COMMANDS = {
    "statement": ("statement", "--convention", CONVENTION, "--month", MONTH),
    "statement --issue": ("statement", "--convention", CONVENTION, "--month", MONTH, "--issue"),
    "export": ("export", "{out}/export.json"),
    "access-export": ("access-export", "F1", "--json", "{out}/famille.json"),
    "retention": ("retention", "--years", "1"),
    "import": ("import", str(DATA / "example_dataset.json")),
    "demo": ("demo",),
    "audit-purge": ("audit-purge",),
    "check": ("check",),
    "backup": ("backup", "--to", "{out}/"),
}


@pytest.mark.parametrize("keep", [0, 100, 4096], ids=["tout", "après-l-en-tête", "après-la-première-page"])
@pytest.mark.parametrize("command", DAMAGING_COMMANDS)
def test_a_damaged_database_is_named_and_left_as_it_is(template, tmp_path, command, keep):
    db = private_copy(template, tmp_path / "abîmée.sqlite")
    damaged = _garbage_over(db, keep)
    out = tmp_path / "sorties"
    out.mkdir()
    args = [a.format(out=out) for a in DAMAGING_COMMANDS[command]]
    done = run(db, *args, env_dir=tmp_path)
    err = assert_refused_in_french(done, paths=(db, out))
    assert re.search("endommagée|n'est pas une base", err), err
    assert db.read_bytes() == damaged  # nothing written into it
    assert list(out.iterdir()) == []  # no partial export, PDF or copy


# -- a full disk ---------------------------------------------------------------------------------------------

@as_root
@pytest.mark.parametrize("command", ["import", "statement --issue", "retention", "audit-purge", "user add"])
def test_writing_to_a_database_on_a_full_disk_says_so_and_saves_nothing(template, big_import, small_disk, tmp_path,
                                                                        command):
    db = private_copy(template, small_disk.path / "base.sqlite")
    before = dump(db)
    small_disk.fill()
    args = {"import": ("import", big_import),
            "statement --issue": ("statement", "--convention", CONVENTION, "--month", MONTH, "--issue"),
            "retention": ("retention", "--years", "1"), "audit-purge": ("audit-purge",),
            "user add": ("user", "add", "nouvelle", "--role", "referent", "--password-stdin")}[command]
    done = run(db, *args, env_dir=tmp_path, stdin="cheval-agrafe-pile-bleue\n")
    assert_refused_in_french(done, "plein", "libérez de la place", "Rien n'a été enregistré", paths=(db, big_import))
    small_disk.free()
    assert dump(db) == before


@as_root
def test_a_disk_that_fills_up_during_the_import_says_so_and_saves_nothing(template, big_import, small_disk, tmp_path):
    """Room enough to open the database (its -shm), not for what the import writes."""
    db = private_copy(template, small_disk.path / "base.sqlite")
    before = dump(db)
    small_disk.fill(leave=96 * 1024)
    done = run(db, "import", big_import, env_dir=tmp_path)
    assert_refused_in_french(done, "plein", "Rien n'a été enregistré", paths=(db, big_import))
    small_disk.free()
    assert dump(db) == before


@as_root
def test_demo_on_a_full_disk_says_so_and_saves_nothing(empty_template, small_disk, tmp_path):
    db = private_copy(empty_template, small_disk.path / "vide.sqlite")
    before = dump(db)
    small_disk.fill(leave=96 * 1024)
    done = run(db, "demo", env_dir=tmp_path)
    assert_refused_in_french(done, "plein", "Rien n'a été enregistré", paths=(db,))
    small_disk.free()
    assert dump(db) == before


@as_root
@pytest.mark.parametrize("command", ["export", "statement --pdf", "access-export", "access-export --pdf"])
def test_an_output_file_on_a_full_disk_is_named_and_not_left_half_written(template, small_disk, tmp_path,
                                                                          command):
    db = private_copy(template, tmp_path / "base.sqlite")
    before = dump(db)
    out = small_disk.path
    small_disk.fill(leave=2048 if command == "access-export --pdf" else 0)
    args = {"export": ("export", out / "export.json"),
            "statement --pdf": ("statement", "--convention", CONVENTION, "--month", MONTH, "--pdf", out / "é.pdf"),
            "access-export": ("access-export", "F1", "--json", out / "famille.json"),
            "access-export --pdf": ("access-export", "F1", "--json", out / "famille.json", "--pdf",
                                    out / "famille.pdf")}[command]
    done = run(db, *args, env_dir=tmp_path)
    assert_refused_in_french(done, "Le disque est plein", str(out), paths=(db,))
    assert small_disk.files() == set()  # neither the file, nor its temporary, nor the JSON without its PDF
    assert dump(db) == before


@as_root
def test_backup_names_the_full_disk_of_the_backup_folder(template, small_disk, tmp_path):
    db = private_copy(template, tmp_path / "base.sqlite")
    small_disk.fill()
    done = run(db, "backup", "--to", f"{small_disk.path}/", env_dir=tmp_path)
    err = assert_refused_in_french(done, f"dans le dossier « {small_disk.path} »", "le disque de ce dossier est plein",
                                   paths=(db,))
    assert str(db) not in err
    assert small_disk.files() == set()


@as_root
def test_backup_beside_a_database_on_a_full_disk_names_that_disk_and_a_copy_elsewhere_works(template, small_disk,
                                                                                           tmp_path):
    db = private_copy(template, small_disk.path / "base.sqlite")
    before = dump(db)
    small_disk.fill()
    folder = small_disk.path / "base-sauvegardes"
    done = run(db, "backup", env_dir=tmp_path)
    assert_refused_in_french(done, f"dans le dossier « {folder} »", "le disque de ce dossier est plein", paths=(db,))
    assert not folder.exists() or list(folder.iterdir()) == []
    elsewhere = tmp_path / "sauvegardes"
    elsewhere.mkdir()
    done = run(db, "backup", "--to", f"{elsewhere}/", env_dir=tmp_path)  # reading needs no room on that disk
    assert done.returncode == 0, done.stderr
    small_disk.free()
    assert dump(db) == before


@as_root
def test_check_on_a_full_disk_does_not_call_the_database_damaged(template, small_disk, tmp_path):
    db = private_copy(template, small_disk.path / "base.sqlite")
    small_disk.fill()
    err = assert_refused_in_french(run(db, "check", env_dir=tmp_path), "plein", paths=(db,))
    assert "endommagée pour autant" in err or "endommagée" not in err


# -- a read-only file system ------------------------------------------------------------------------------

READ_ONLY_COMMANDS = {
    "import": ("import", str(DATA / "example_dataset.json")),
    "statement": ("statement", "--convention", CONVENTION, "--month", MONTH),
    "statement --issue": ("statement", "--convention", CONVENTION, "--month", MONTH, "--issue"),
    "export": ("export", "{out}/export.json"),
    "access-export": ("access-export", "F1", "--json", "{out}/famille.json"),
    "retention": ("retention", "--years", "1"),
    "audit-purge": ("audit-purge",),
    "backup": ("backup",),  # beside the database, on the read-only disk
}


@as_root
@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_a_database_on_a_read_only_file_system_is_named_and_left_as_it_is(template, read_only_view, tmp_path,
                                                                          command):
    source, view = read_only_view
    private_copy(template, source / "base.sqlite")
    db = view / "base.sqlite"
    before = dump(source / "base.sqlite")
    out = tmp_path / "sorties"
    out.mkdir()
    done = run(db, *[a.format(out=out) for a in READ_ONLY_COMMANDS[command]], env_dir=tmp_path)
    err = assert_refused_in_french(done, "lecture seule", paths=(db, out, view))
    assert "endommagée" not in err
    assert dump(source / "base.sqlite") == before
    assert list(out.iterdir()) == []


@as_root
def test_check_on_a_read_only_folder_does_not_call_the_database_damaged(template, read_only_view, tmp_path):
    source, view = read_only_view
    private_copy(template, source / "base.sqlite")
    done = run(view / "base.sqlite", "check", env_dir=tmp_path)
    err = assert_refused_in_french(done, "lecture seule", paths=(view,))
    assert "endommagée pour autant" in err and "illisible ou endommagée" not in err


@as_root
@pytest.mark.parametrize("command", ["export", "statement --pdf", "access-export --pdf"])
def test_an_output_file_in_a_read_only_folder_is_named(template, read_only_view, tmp_path, command):
    _source, view = read_only_view
    db = private_copy(template, tmp_path / "base.sqlite")
    before = dump(db)
    args = {"export": ("export", view / "export.json"),
            "statement --pdf": ("statement", "--convention", CONVENTION, "--month", MONTH, "--pdf", view / "é.pdf"),
            "access-export --pdf": ("access-export", "F1", "--json", tmp_path / "famille.json", "--pdf",
                                    view / "famille.pdf")}[command]
    done = run(db, *args, env_dir=tmp_path)
    assert_refused_in_french(done, "lecture seule", str(view), paths=(db, tmp_path))
    assert dump(db) == before
    assert not (tmp_path / "famille.json").exists()  # no JSON left without the PDF asked with it


# -- the window's start -----------------------------------------------------------------------------------

@pytest.fixture
def damaged_after_header(template, tmp_path) -> Path:
    """A Parcours file whose pages after the first are garbage: SQLite sees a database, then finds it malformed."""
    db = private_copy(template, tmp_path / "abîmée.sqlite")
    _garbage_over(db, 4096)
    return db


def test_open_store_names_a_damaged_database_as_a_domain_error(damaged_after_header, monkeypatch, tmp_path):
    from services.errors import DomainError

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with pytest.raises(DomainError) as refused:
        main.open_store(str(damaged_after_header))
    assert refused.value.message.startswith("La base de données est endommagée")
    assert str(damaged_after_header) in refused.value.message


def test_the_window_on_a_damaged_database_ends_with_exit_2_and_the_french_message_in_a_dialog(
        damaged_after_header, tmp_path):
    """main() with no command is the window, maybe started from an icon: no main window opens, and the message is
    shown in a dialog as well as on stderr."""
    script = ("import sys, main\n"
              "import ui.startup_error as startup\n"
              "startup.run_dialog = lambda box: print('DIALOG', box.windowTitle(), '|', box.text())\n"
              f"code = main.main(['--db', {str(damaged_after_header)!r}])\n"
              "from PySide6.QtWidgets import QApplication\n"
              "shown = [w for w in QApplication.topLevelWidgets() if w.isVisible()]\n"
              "print('no window' if not shown else 'a window is shown')\n"
              "sys.exit(code)\n")
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    err = assert_refused_in_french(done, "endommagée", "parcours restore", paths=(damaged_after_header,))
    assert str(damaged_after_header) in err
    assert done.stdout.startswith("DIALOG Parcours ne peut pas s'ouvrir | La base de données est endommagée")
    assert done.stdout.strip().splitlines()[-1] == "no window"
