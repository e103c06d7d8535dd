"""Backups (online copy, checked, private, thinned), verified restore, `check`, and the refusal of network
shares."""
import json
import os
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import main
from models.db import head_revision, make_engine
from services import backup
from services.backup import StorageError, backup_database, backups_to_keep, check_local_filesystem, restore_database
from services.dataset import export_dataset, import_dataset
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory
from services.users import add_user

from tests.conftest import DATA

# Backups of the SQLite file (online copy, its checks, thinning in a folder); a PostgreSQL URL's backup (pg_dump) and
# restore are tested in tests/test_pg_cli.py.
pytestmark = pytest.mark.sqlite_only("the backup of the SQLite file (pg_dump's: tests/test_pg_cli.py)")

EXAMPLE = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
CLOCK = lambda: datetime(2026, 3, 31, 18, 30, 5)  # noqa: E731


@pytest.fixture
def stored(uow, db_path):
    import_dataset(uow(), EXAMPLE)
    return db_path


@pytest.fixture
def backups(tmp_path):
    return tmp_path / "backups"


def export_of(path):
    engine = make_engine(str(path))
    try:
        return export_dataset(unit_of_work_factory(engine)(), SYSTEM)
    finally:
        engine.dispose()


def damaged_copy(source, target):
    """A copy whose header is intact but whose other pages are garbage."""
    data = bytearray(Path(source).read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = os.urandom(len(data) - page)
    Path(target).write_bytes(bytes(data))
    return target


# -- backup ---------------------------------------------------------------------------------------------------

def test_backup_is_a_checked_self_contained_copy_named_by_date(stored, backups):
    done = backup_database(stored, backups_dir=backups, clock=CLOCK)
    assert backup.backup_prefix(stored).startswith("parcours-")
    assert done.path == backups / f"{backup.backup_prefix(stored)}20260331-183005.sqlite"
    assert backup.inspect_database(done.path).ok
    assert sorted(p.name for p in backups.iterdir()) == [done.path.name]  # no -wal, no leftover partial file
    assert export_of(done.path) == export_of(stored)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_backup_file_is_readable_by_its_owner_only(stored, backups, tmp_path):
    umask = os.umask(0o022)  # the usual one, under which new files are readable by everyone
    try:
        done = backup_database(stored, backups_dir=backups)
        explicit = backup_database(stored, tmp_path / "copie.sqlite")
    finally:
        os.umask(umask)
    assert done.path.stat().st_mode & 0o777 == 0o600
    assert explicit.path.stat().st_mode & 0o777 == 0o600
    assert backups.stat().st_mode & 0o077 == 0


def test_two_backups_in_the_same_second_are_both_kept(stored, backups):
    first = backup_database(stored, backups_dir=backups, clock=CLOCK).path
    second = backup_database(stored, backups_dir=backups, clock=CLOCK).path
    assert first != second and first.exists() and second.exists()


def test_fourth_backup_of_the_day_removes_the_oldest_of_that_day(stored, backups):
    made = [backup_database(stored, backups_dir=backups, clock=lambda h=h: datetime(2026, 3, 31, h)).path
            for h in (8, 10, 12, 14)]
    assert [p.exists() for p in made] == [False, True, True, True]


def test_backup_to_an_existing_file_is_refused(stored, tmp_path):
    (tmp_path / "copie.sqlite").write_bytes(b"precious")
    with pytest.raises(StorageError, match="existe déjà"):
        backup_database(stored, tmp_path / "copie.sqlite")
    assert (tmp_path / "copie.sqlite").read_bytes() == b"precious"


def test_backup_thins_old_dated_backups_and_touches_nothing_else(stored, backups):
    backups.mkdir()
    prefix = backup.backup_prefix(stored)
    for n in range(1, 60):
        (backups / f"{prefix}{date(2026, 3, 31) - timedelta(days=n):%Y%m%d}-120000.sqlite").write_bytes(b"")
    others = [f"{prefix}avant-restauration-20250101-120000.sqlite", "notes.txt"]
    for name in others:
        (backups / name).write_bytes(b"")
    done = backup_database(stored, backups_dir=backups, clock=CLOCK)
    left = {p.name for p in backups.iterdir()}
    assert done.removed and not any(p.exists() for p in done.removed)
    assert set(others) | {done.path.name} <= left
    assert len(left) == len(others) + 1 + 59 - len(done.removed)


def test_thinning_keeps_12_daily_10_weekly_and_9_monthly_backups_of_daily_backups():
    every_day = [datetime(2025, 1, 1, 12) + timedelta(days=n) for n in range(455)]  # to 31/03/2026, a Tuesday
    kept = {stamp.date() for stamp in backups_to_keep(every_day)}
    daily = {date(2026, 3, d) for d in range(20, 32)}
    weekly = {date(2026, 3, 15), date(2026, 3, 8), date(2026, 3, 1), date(2026, 2, 22), date(2026, 2, 15),
              date(2026, 2, 8), date(2026, 2, 1)}  # Sundays; the 3 newest weeks are already kept as days
    monthly = {date(2026, 2, 28), date(2026, 1, 31), date(2025, 12, 31), date(2025, 11, 30), date(2025, 10, 31),
               date(2025, 9, 30), date(2025, 8, 31), date(2025, 7, 31)}  # March is already kept
    assert kept == daily | weekly | monthly


@given(st.lists(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)), max_size=200))
def test_thinning_keeps_the_3_newest_backups_at_most_34_and_removes_nothing_more_when_run_again(stamps):
    kept = backups_to_keep(stamps)
    assert kept <= set(stamps) and len(kept) <= 3 + 12 + 10 + 9
    assert set(sorted(set(stamps))[-3:]) <= kept
    assert backups_to_keep(kept) == kept


# -- each database its own backups -----------------------------------------------------------------------------

def copy_of(stored, target):
    """Another Parcours database, at `target` (its folder created)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return backup_database(stored, target).path


def test_two_databases_in_two_folders_have_their_backups_in_their_own_place(stored, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    a = copy_of(stored, tmp_path / "a" / "parcours.sqlite")
    b = copy_of(stored, tmp_path / "b" / "parcours.sqlite")  # the same name, another folder
    made_a = backup_database(a, clock=CLOCK).path
    made_b = backup_database(b, clock=CLOCK).path
    assert made_a.parent == tmp_path / "a" / "parcours-sauvegardes"
    assert made_b.parent == tmp_path / "b" / "parcours-sauvegardes"
    assert made_a.name != made_b.name  # even copied into one folder, they could not be taken for each other
    assert not (tmp_path / "data").exists()
    assert backup.list_backups(a).own == (made_a,) and backup.list_backups(b).own == (made_b,)


def test_thinning_one_database_never_removes_another_ones_files_in_the_same_folder(stored, tmp_path):
    shared = tmp_path / "partage"
    a = copy_of(stored, tmp_path / "a" / "parcours.sqlite")
    others = [copy_of(stored, tmp_path / "b" / "parcours.sqlite"), copy_of(stored, tmp_path / "parcours-a.sqlite")]
    shared.mkdir()
    real = backup_database(others[0], shared, clock=lambda: datetime(2026, 1, 5, 9)).path  # one made for real
    day = lambda n: f"{date(2026, 3, 31) - timedelta(days=n):%Y%m%d}-120000"  # noqa: E731
    for n in range(1, 60):
        (shared / f"{backup.backup_prefix(a)}{day(n)}.sqlite").write_bytes(b"")
    theirs = {f"{backup.backup_prefix(other)}{day(n)}{same}.sqlite"
              for other in others for n in range(1, 60) for same in ("", "-1")}
    # …and names as older versions gave them, whose database nobody can tell.
    theirs |= {f"parcours-{day(n)}.sqlite" for n in range(1, 60)} | {f"parcours-a-{day(3)}.sqlite"}
    for name in theirs:
        (shared / name).write_bytes(b"")
    done = backup_database(a, shared, clock=CLOCK)
    left = {p.name for p in shared.iterdir()}
    assert len(done.removed) == 59 + 1 - len(backups_to_keep(
        [datetime(2026, 3, 31, 12) - timedelta(days=n) for n in range(1, 60)] + [CLOCK()]))
    assert theirs | {real.name, done.path.name} <= left
    assert all(p.name.startswith(backup.backup_prefix(a)) for p in done.removed)


def test_a_url_database_has_a_folder_of_the_data_folder_keyed_by_its_url_without_the_password(tmp_path,
                                                                                               monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = backup.backups_folder("postgresql://pre:secret@serveur/parcours")
    assert folder.parent == tmp_path / "data" / "Parcours" / "sauvegardes"
    assert "secret" not in str(folder) and folder.name.startswith("parcours-")
    assert backup.backups_folder("postgresql://pre:autre@serveur/parcours") == folder
    assert backup.backups_folder("postgresql://pre:secret@serveur2/parcours") != folder
    assert backup.backups_folder(f"sqlite:///{tmp_path}/x.sqlite") == tmp_path / "x-sauvegardes"


def test_backups_of_older_versions_in_the_shared_folder_are_left_there_and_listed_apart(cli, stored, tmp_path,
                                                                                        capsys):
    legacy = tmp_path / "data" / "Parcours" / "backups"
    legacy.mkdir(parents=True)
    names = [f"parcours-202501{d:02}-120000.sqlite" for d in range(1, 29)]
    for name in names:
        (legacy / name).write_bytes(b"")
    assert cli("backup") == 0
    assert cli("backup") == 0
    assert sorted(p.name for p in legacy.iterdir()) == names
    capsys.readouterr()
    assert cli("backup", "--list") == 0
    out = capsys.readouterr().out
    assert f"Sauvegardes de cette base dans « {tmp_path / 'parcours-sauvegardes'} » : 2" in out
    assert "base d'origine inconnue) : 28" in out and str(legacy / names[0]) in out


def test_cli_backup_into_a_folder_that_cannot_be_created_names_it_in_french(cli, capsys, tmp_path):
    in_the_way = tmp_path / "parcours-sauvegardes"
    in_the_way.write_text("un fichier, pas un dossier")
    assert cli("backup") == 2
    err = capsys.readouterr().err
    assert f"Sauvegarde impossible dans le dossier « {in_the_way} »" in err and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="POSIX modes, which root ignores")
def test_backup_into_a_read_only_folder_names_it_in_french(stored, tmp_path):
    folder = tmp_path / "lecture-seule"
    folder.mkdir(mode=0o500)
    try:
        with pytest.raises(StorageError, match=f"« {folder} ».*droits insuffisants"):
            backup_database(stored, folder)
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(os.name != "posix", reason="file size limit (RLIMIT_FSIZE)")
def test_cli_backup_on_a_full_disk_names_the_folder_in_french(stored, tmp_path):
    """A real full disk, as the process sees it: writes past 8 KiB fail (as on a full or too small disk)."""
    script = ("import resource, signal, sys\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))\n"
              "import main\n"
              f"sys.exit(main.main(['--db', {str(stored)!r}, 'backup']))\n")
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(main.__file__).parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    folder = tmp_path / "parcours-sauvegardes"
    assert f"Sauvegarde impossible dans le dossier « {folder} »" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(folder.iterdir()) == []  # no partial copy left behind
    assert backup.inspect_database(stored).ok


# -- restore --------------------------------------------------------------------------------------------------

def test_backup_then_restore_gives_back_exactly_the_same_export(stored, uow, backups):
    before = export_dataset(uow(), SYSTEM)
    done = backup_database(stored, backups_dir=backups)
    add_user(uow(), SYSTEM, "nouvelle", "referent", "cheval-agrafe-pile")
    assert export_dataset(uow(), SYSTEM) != before
    restore_database(stored, done.path, backups_dir=backups)
    assert export_dataset(uow(), SYSTEM) == before  # seen by the engine that was open all along


def test_restore_first_keeps_a_copy_of_the_current_database(stored, uow, backups):
    done = backup_database(stored, backups_dir=backups)
    add_user(uow(), SYSTEM, "nouvelle", "referent", "cheval-agrafe-pile")
    current = export_dataset(uow(), SYSTEM)
    report = restore_database(stored, done.path, backups_dir=backups)
    assert report.safety_copy.name.startswith(f"{backup.backup_prefix(stored)}avant-restauration-")
    assert export_of(report.safety_copy) == current


def test_restore_replaces_a_database_that_sqlite_cannot_read_and_keeps_its_bytes(stored, backups, tmp_path):
    done = backup_database(stored, backups_dir=backups)
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database at all" * 100)
    report = restore_database(broken, done.path, backups_dir=backups)
    assert report.safety_copy.read_bytes() == b"not a database at all" * 100
    assert export_of(broken) == export_of(stored)


def refused_restore(stored, uow, candidate, backups, match):
    before = export_dataset(uow(), SYSTEM)
    with pytest.raises(StorageError, match=match) as refused:
        restore_database(stored, candidate, backups_dir=backups)
    assert "n'a pas été modifiée" in refused.value.message
    assert export_dataset(uow(), SYSTEM) == before
    assert not backups.exists() or not any(backups.glob("*avant-restauration*"))


def test_restore_refuses_garbage_bytes_and_leaves_the_current_database_untouched(stored, uow, backups, tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(os.urandom(64 * 1024))
    refused_restore(stored, uow, garbage, backups, "pas une base de données SQLite")


def test_restore_refuses_a_database_that_fails_the_integrity_check(stored, uow, tmp_path):
    good = backup_database(stored, tmp_path / "good.sqlite").path
    damaged = damaged_copy(good, tmp_path / "damaged.sqlite")
    refused_restore(stored, uow, damaged, tmp_path / "backups", "illisible ou endommagée|Intégrité")


def test_restore_refuses_a_sqlite_file_that_is_not_a_parcours_database(stored, uow, backups, tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE recette (nom TEXT)")
    conn.close()
    refused_restore(stored, uow, other, backups, "pas une base de données Parcours")


def test_restore_refuses_a_database_from_a_newer_parcours(stored, uow, backups, tmp_path):
    newer = backup_database(stored, tmp_path / "newer.sqlite").path
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.close()
    refused_restore(stored, uow, newer, backups, "version plus récente")


def test_restore_of_a_missing_file_is_refused(stored, uow, backups, tmp_path):
    refused_restore(stored, uow, tmp_path / "absent.sqlite", backups, "n'existe pas")


# -- command line ---------------------------------------------------------------------------------------------

@pytest.fixture
def cli(stored, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return lambda *argv: main.main(["--db", stored, *argv])


def test_check_prints_ok_and_the_schema_revision(cli, capsys):
    assert cli("check") == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["ok", f"schéma : {head_revision()}"]


def test_check_of_a_damaged_database_lists_the_problems_and_exits_2(stored, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    damaged = damaged_copy(backup_database(stored, tmp_path / "good.sqlite").path, tmp_path / "damaged.sqlite")
    assert main.main(["--db", str(damaged), "check"]) == 2
    err = capsys.readouterr().err
    assert "a des problèmes" in err and "Traceback" not in err


def test_cli_backup_without_to_writes_beside_the_database_then_restore(cli, capsys, tmp_path, uow):
    before = export_dataset(uow(), SYSTEM)
    assert cli("backup") == 0
    [copy] = (tmp_path / "parcours-sauvegardes").glob("parcours-*.sqlite")
    assert not (tmp_path / "data").exists()  # nothing in the folder every database used to share
    assert str(copy) in capsys.readouterr().out
    add_user(uow(), SYSTEM, "nouvelle", "referent", "cheval-agrafe-pile")
    assert cli("restore", str(copy)) == 0
    assert "Base restaurée" in capsys.readouterr().out
    assert export_dataset(uow(), SYSTEM) == before


def test_cli_restore_of_garbage_exits_2_with_a_french_message(cli, capsys, tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(os.urandom(10_000))
    assert cli("restore", str(garbage)) == 2
    err = capsys.readouterr().err
    assert "Restauration refusée" in err and "Traceback" not in err


# -- network shares ---------------------------------------------------------------------------------------------

MOUNTS = """\
/dev/sda2 / ext4 rw,relatime 0 0
tmpfs /tmp tmpfs rw 0 0
nas:/export/pre /home nfs4 rw,vers=4.2 0 0
/dev/sdb1 /home/local ext4 rw 0 0
//serveur/partage /mnt/partage\\040pre cifs rw 0 0
//serveur/smb /mnt/smb smb3 rw 0 0
alice@serveur:/srv /mnt/ssh fuse.sshfs rw 0 0
"""


@pytest.mark.parametrize("path, kind", [
    ("/home/alice/parcours.sqlite", "nfs4"),
    ("/mnt/partage pre/PRE/parcours.sqlite", "cifs"),
    ("/mnt/smb/parcours.sqlite", "smb3"),
    ("/mnt/ssh/parcours.sqlite", "fuse.sshfs"),
    ("sqlite:////home/alice/parcours.sqlite", "nfs4"),
])
def test_database_on_a_network_share_is_refused_with_the_reason(path, kind):
    with pytest.raises(StorageError, match=f"partage réseau \\({kind}\\).*WAL"):
        check_local_filesystem(path, mounts=MOUNTS, system="Linux")


@pytest.mark.parametrize("path", ["/var/lib/parcours.sqlite", "/tmp/parcours.sqlite",
                                  "/home/local/parcours.sqlite", "/homework/parcours.sqlite",
                                  "postgresql://serveur/parcours", "sqlite://"])
def test_database_on_a_local_disk_is_accepted(path):
    check_local_filesystem(path, mounts=MOUNTS, system="Linux")


@pytest.mark.parametrize("path", [r"\\serveur\partage\parcours.sqlite", "//serveur/partage/parcours.sqlite"])
def test_windows_unc_path_is_refused(path):
    with pytest.raises(StorageError, match="partage réseau"):
        check_local_filesystem(path, system="Windows")


def test_application_refuses_to_open_a_database_on_a_network_share(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    fake_mounts = tmp_path / "mounts"
    fake_mounts.write_text(f"/dev/sda2 / ext4 rw 0 0\nnas:/pre {tmp_path / 'nas'} nfs rw 0 0\n", encoding="utf-8")
    monkeypatch.setattr(backup, "MOUNTS_FILE", fake_mounts)
    db = tmp_path / "nas" / "parcours.sqlite"
    assert main.main(["--db", str(db), "export", str(tmp_path / "out.json")]) == 2
    assert "partage réseau (nfs)" in capsys.readouterr().err
    assert not db.exists()
