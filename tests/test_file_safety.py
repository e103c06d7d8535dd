"""Integrity and confidentiality of the files around the database, through the real command line (subprocesses):
a foreign file given as --db is refused untouched, a killed backup's or restore's copy is cleaned at the next
start, every file holding personal data is the owner's only, and no name reaches the log."""
from __future__ import annotations

import hashlib
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import update

import main
from models import Family
from services.activity import export_csv, export_xlsx, monthly_activity
from services.backup import backup_database, backups_folder
from tests.programme_fixture import programme  # noqa: F401 - fixture

ROOT = Path(main.__file__).resolve().parent
EXAMPLE = ROOT / "tests" / "data" / "example_dataset.json"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and signals")


def run_cli(tmp_path, *args, **kwargs) -> subprocess.CompletedProcess:
    """`python main.py ARGS` in its own process, with the usual umask, its log and data folders in tmp_path."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHONDONTWRITEBYTECODE": "1", "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, umask=0o022, **kwargs)


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(path.stat().st_mode)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def stored_db(tmp_path) -> Path:
    db = tmp_path / "parcours.sqlite"
    done = run_cli(tmp_path, "--db", str(db), "import", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    return db


# -- a file that is not a Parcours database --------------------------------------------------------------------

def _other_apps_sqlite(path: Path, *tables: str) -> Path:
    with sqlite3.connect(path) as conn:
        for table in tables:
            conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute(f"INSERT INTO {tables[0]} (body) VALUES ('les notes de quelqu''un d''autre')")
    conn.close()
    os.chmod(path, 0o644)
    return path


@posix_only
@pytest.mark.parametrize("tables", [("notes", "contacts"), ("alembic_version", "users")],
                         ids=["other-app", "other-alembic-app"])
def test_another_applications_sqlite_file_is_refused_with_exit_2_and_left_byte_for_byte(tmp_path, tables):
    other = _other_apps_sqlite(tmp_path / "carnet.sqlite", *tables)
    before = fingerprint(other)
    for args in (["export", str(tmp_path / "out.json")], ["demo"]):
        done = run_cli(tmp_path, "--db", str(other), *args)
        assert done.returncode == 2, done.stderr
        assert f"Le fichier « {other} » n'est pas une base Parcours" in done.stderr
        assert "Traceback" not in done.stderr
    assert fingerprint(other) == before  # same bytes (no Parcours table, no WAL header), still 0644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["carnet.sqlite", "state"]  # no -wal, -shm, export


@posix_only
@pytest.mark.parametrize("content", [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
                                     os.urandom(4096), b"nom;prenom\nDupont;Lina\n"], ids=["pdf", "garbage", "csv"])
def test_a_file_that_is_not_sqlite_is_refused_in_french_and_left_untouched(tmp_path, content):
    path = tmp_path / "base.sqlite"
    path.write_bytes(content)
    os.chmod(path, 0o644)
    before = fingerprint(path)
    done = run_cli(tmp_path, "--db", str(path), "export", str(tmp_path / "out.json"))
    assert done.returncode == 2, done.stderr
    assert "n'est pas une base Parcours" in done.stderr and "Traceback" not in done.stderr
    assert fingerprint(path) == before


def test_a_directory_given_as_db_is_refused_with_a_clear_french_message(tmp_path):
    folder = tmp_path / "dossier"
    folder.mkdir()
    done = run_cli(tmp_path, "--db", str(folder), "export", str(tmp_path / "out.json"))
    assert done.returncode == 2, done.stderr
    assert f"« {folder} » est un dossier, pas une base Parcours" in done.stderr
    assert list(folder.iterdir()) == []


@posix_only
@pytest.mark.parametrize("existing", [True, False], ids=["empty-file", "missing-file"])
def test_an_empty_or_missing_file_becomes_a_new_private_database(tmp_path, existing):
    db = tmp_path / "neuve.sqlite"
    if existing:
        db.touch(mode=0o644)
    done = run_cli(tmp_path, "--db", str(db), "import", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert mode(db) == 0o600
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM family").fetchone()[0] > 0
    conn.close()


# -- leftovers of a killed backup or restore -----------------------------------------------------------------

KILLED_MIDWAY = textwrap.dedent("""
    import os, signal, sys
    from services import backup

    real_copy = backup._copy

    def copy_then_get_killed(source, target):  # the copy is written, not yet verified nor renamed
        real_copy(source, target)
        print(target, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    backup._copy = copy_then_get_killed
    db, verb = sys.argv[1], sys.argv[2]
    if verb == "backup":
        backup.backup_database(db)
    else:
        backup.restore_database(db, sys.argv[3])
""")


def _killed(db: Path, *args: str) -> Path:
    """Run a backup or restore that SIGKILL stops right after it wrote its temporary copy; that copy's path."""
    done = subprocess.run([sys.executable, "-c", KILLED_MIDWAY, str(db), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    leftover = Path(done.stdout.strip())
    assert leftover.is_file()
    return leftover


@posix_only
@pytest.mark.parametrize("verb", ["check", "export", "backup"])
def test_next_start_removes_what_a_killed_backup_and_a_killed_restore_left(stored_db, tmp_path, verb):
    kept = backup_database(stored_db).path  # a real backup: must survive the cleaning
    partial = _killed(stored_db, "backup")
    staged = _killed(stored_db, "restore", str(kept))
    assert partial.name.endswith(".partial") and partial.parent == backups_folder(stored_db)
    assert staged.name.startswith(f".{stored_db.name}.restore-") and staged.parent == stored_db.parent
    args = {"check": ["check"], "export": ["export", str(tmp_path / "out.json")], "backup": ["backup"]}[verb]
    done = run_cli(tmp_path, "--db", str(stored_db), *args)
    assert done.returncode == 0, done.stderr
    assert not partial.exists() and not staged.exists()
    assert kept.is_file()
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".partial") or ".restore-" in p.name]


@posix_only
def test_leftovers_of_a_running_process_and_of_another_database_are_kept(stored_db, tmp_path):
    other = tmp_path / "autre.sqlite"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        folder = backups_folder(stored_db)
        folder.mkdir(exist_ok=True)
        stamp = "20250301-120000.sqlite"
        from services.backup import backup_prefix

        running = [stored_db.with_name(f".{stored_db.name}.restore-{sleeper.pid}"),
                   folder / f".{backup_prefix(stored_db)}{stamp}.{sleeper.pid}.partial"]
        foreign = [tmp_path / f".{other.name}.restore-999999999",
                   folder / f".{backup_prefix(other)}{stamp}.partial"]
        for path in running + foreign:
            path.write_bytes(b"copie en cours")
        done = run_cli(tmp_path, "--db", str(stored_db), "check")
        assert done.returncode == 0, done.stderr
        assert all(path.exists() for path in running + foreign)
    finally:
        sleeper.kill()
        sleeper.wait()


# -- files holding personal data: the owner's only ------------------------------------------------------------

@posix_only
def test_json_export_statement_with_names_and_access_export_files_are_created_0600(stored_db, tmp_path):
    outputs = {
        "export": (["export", str(tmp_path / "tout.json")], [tmp_path / "tout.json"]),
        "statement": (["statement", "--convention", "ap-2025", "--month", "2025-03", "--pdf",
                       str(tmp_path / "etat.pdf"), "--with-names"], [tmp_path / "etat.pdf"]),
        "access-export": (["access-export", "F1", "--json", str(tmp_path / "f1.json"), "--pdf",
                           str(tmp_path / "f1.pdf")], [tmp_path / "f1.json", tmp_path / "f1.pdf"]),
    }
    for verb, (args, files) in outputs.items():
        done = run_cli(tmp_path, "--db", str(stored_db), *args)
        assert done.returncode == 0, (verb, done.stderr)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}, verb


@posix_only
def test_csv_and_xlsx_activity_exports_are_created_0600_even_over_a_readable_file(programme, tmp_path):
    report = monthly_activity(programme.uow(), programme.coordinator, "2025-03")
    old_umask = os.umask(0o022)
    try:
        for name, export in (("heures.csv", export_csv), ("heures.xlsx", export_xlsx)):
            target = tmp_path / name
            target.write_bytes(b"ancien")
            os.chmod(target, 0o644)
            export(report, target)
            assert mode(target) == 0o600, name
    finally:
        os.umask(old_umask)


@posix_only
def test_the_log_is_a_0600_file_in_a_0700_folder_even_when_an_older_version_made_them_readable(stored_db, tmp_path):
    log_folder = tmp_path / "state" / "Parcours" / "log"
    log = log_folder / "parcours.log"
    os.chmod(log_folder, 0o755)  # as the import of the fixture, or an older version, may have left them
    os.chmod(log, 0o644)
    done = run_cli(tmp_path, "--db", str(stored_db), "check")
    assert done.returncode == 0, done.stderr
    assert (mode(log_folder), mode(log)) == (0o700, 0o600)
    fresh = tmp_path / "fresh"
    done = run_cli(fresh, "--db", str(stored_db), "check")
    assert done.returncode == 0, done.stderr
    assert (mode(fresh / "state" / "Parcours" / "log"), mode(fresh / "state" / "Parcours" / "log" / "parcours.log")) \
        == (0o700, 0o600)


# -- no personal data in the log -------------------------------------------------------------------------------

SECRET = "Famille Zébulon-Secret\x07"


@pytest.fixture
def app_log(tmp_path, monkeypatch):
    """The log file exactly as main.main() sets it up, for this test only."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    handler = main.configure_logging()
    yield Path(handler.baseFilename)
    logging.getLogger().removeHandler(handler)
    handler.close()


def test_xlsx_export_of_a_family_named_with_a_control_character_succeeds_and_keeps_the_name_out_of_the_log(
        qtbot, programme, tmp_path, app_log):
    from datetime import date

    import openpyxl

    from ui.pages.activity_page import ActivityPage

    with programme.uow() as w:
        w.session.execute(update(Family).where(Family.key == "F1").values(name=SECRET))
        w.commit()
    page = ActivityPage(programme.uow, programme.coordinator, today=lambda: date(2025, 4, 15))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.activity_loaded, timeout=5000):
        page.refresh()
    target = tmp_path / "heures.xlsx"
    with qtbot.waitSignal(page.exported, timeout=10000):  # it failed: IllegalCharacterError, name in the log
        page.export_to(str(target), "xlsx")
    assert openpyxl.load_workbook(target)["Heures"]["C4"].value == "Famille Zébulon-Secret\ufffd"  # after Diallo
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "Zébulon" not in app_log.read_text(encoding="utf-8")


def test_an_exception_that_embeds_a_name_is_logged_by_its_type_and_code_locations_only(qtbot, app_log):
    from openpyxl import Workbook

    from ui.errors import show_unexpected_error

    try:
        Workbook().active["A1"] = SECRET  # openpyxl's message is the whole text of the cell
    except Exception as exc:  # IllegalCharacterError
        try:
            raise RuntimeError(f"export impossible pour {SECRET}") from exc
        except RuntimeError as chained:
            box = show_unexpected_error(None, chained)  # the window's path: log, then a calm dialog
            box.close()
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = app_log.read_text(encoding="utf-8")
    assert "Zébulon" not in text
    assert "openpyxl.utils.exceptions.IllegalCharacterError" in text and "builtins.RuntimeError" in text
    assert "test_file_safety.py" in text and "The above exception was the direct cause" in text
