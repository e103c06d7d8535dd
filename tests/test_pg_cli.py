"""Issue 10, the team server's command line: every verb on a PostgreSQL URL (`main.py --db postgresql+psycopg://…`),
as on a SQLite file, on a real PostgreSQL server (tests/postgres.py) — demo, export, import into a second empty
database, statement --issue --pdf, user, check; backup through pg_dump (verified, private, thinned) and restore
into an empty database only (the same rows and hashes back), with the refusals said in French: a database that
has tables, a truncated dump, pg_dump missing, a server that does not answer, a refused password, a full disk."""
from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import main
from cli import store_url
from models.db import head_revision
from services import backup, pg_backup, pg_faults

ROOT = Path(main.__file__).resolve().parent
CONVENTION = "AP-2026"


# -- helpers -------------------------------------------------------------------------------------------------

def cli(capsys, db: str, *args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    """main.main(['--db', db, *args]) in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main.main(["--db", db, *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_french_refusal(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "inattendue" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def relations(db: str) -> list[str]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return pg_backup._user_relations(conn)
    finally:
        engine.dispose()


def contents(db: str) -> dict:
    """Every table's row count, and the hashes of the issued statements and of the audit log."""
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            tables = sorted(pg_backup._public_tables(conn))
            counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
            statements = conn.execute(text("SELECT number, chain_hash, pdf_sha256 FROM statement ORDER BY number")).all()
            audit = conn.execute(text("SELECT seq, entry_hash FROM audit_log ORDER BY seq")).all()
    finally:
        engine.dispose()
    return {"counts": counts, "statements": [tuple(r) for r in statements], "audit": [tuple(r) for r in audit]}


def without_stamp(export: dict) -> dict:
    return {key: value for key, value in export.items() if key != "exported_at"}


@pytest.fixture
def new_database(postgres_server):
    """make() -> the URL of one more new, empty database (dropped at the end)."""
    admin = create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"test_{secrets.token_hex(6)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
        made.append(name)
        return postgres_server.url.set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(autouse=True)
def own_folders(tmp_path, monkeypatch):
    """The log and the default backups folder of this test only."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv(pg_backup.TOOLS_ENV, raising=False)


@pytest.fixture(scope="module")
def programme(postgres_server, tmp_path_factory):
    """One database of the module with the demo programme and the first month issued (with its PDF), and a dump of
    it made by `backup --to`: (URL, dump, the issued month, contents() at the dump). Tests read it, never write it
    (reading may add audit entries)."""
    folder = tmp_path_factory.mktemp("programme")
    admin = create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    name = f"test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    db = postgres_server.url.set(database=name).render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(folder / "state"))
        patch.setenv("XDG_DATA_HOME", str(folder / "data"))
        assert main.main(["--db", db, "demo"]) == 0
        first_month = _first_month(db)
        assert main.main(["--db", db, "statement", "--convention", CONVENTION, "--month", first_month, "--issue",
                          "--pdf", str(folder / "issued.pdf")]) == 0
        (folder / "dumps").mkdir()
        assert main.main(["--db", db, "backup", "--to", str(folder / "dumps")]) == 0
        dumped = contents(db)  # what the dump holds
    dump, = (folder / "dumps").iterdir()
    yield db, dump, first_month, dumped
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _first_month(db: str) -> str:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT min(date) FROM home_session")).scalar()
    finally:
        engine.dispose()
    return f"{first:%Y-%m}"


# -- every verb ----------------------------------------------------------------------------------------------

def test_demo_then_export_then_import_into_a_second_empty_database_gives_the_same_export(
        capsys, postgres_url, new_database, tmp_path):
    code, out, err = cli(capsys, postgres_url, "demo")
    assert code == 0, err
    assert "Programme de démonstration chargé : 32 familles" in out
    first = tmp_path / "premiere.json"
    code, out, err = cli(capsys, postgres_url, "export", first)
    assert (code, out) == (0, f"Export écrit dans {first}.\n"), err
    second_db = new_database()
    code, out, err = cli(capsys, second_db, "import", first)
    assert code == 0, err
    assert out.startswith("Import terminé : 1 programme, 5 utilisateurs")
    again = tmp_path / "seconde.json"
    assert cli(capsys, second_db, "export", again)[0] == 0
    exported = json.loads(first.read_text(encoding="utf-8"))
    assert without_stamp(json.loads(again.read_text(encoding="utf-8"))) == without_stamp(exported)
    assert len(exported["sessions"]) == 504


def test_statement_is_issued_with_its_pdf_and_printed_again_the_same(capsys, programme, tmp_path):
    db, _dump, month, _ = programme
    code, out, err = cli(capsys, db, "statement", "--convention", CONVENTION, "--month", month, "--json",
                         "--pdf", tmp_path / "encore.pdf")
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["status"], shown["number"]) == ("issued", f"{CONVENTION}-001")
    pdf = (tmp_path / "encore.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert pdf == (programme[1].parent.parent / "issued.pdf").read_bytes()  # the issued copy, as stored


def test_user_add_passwd_and_disable_on_postgres(capsys, postgres_url, monkeypatch):
    from services import users
    from services.uow import unit_of_work_factory

    code, out, err = cli(capsys, postgres_url, "user", "add", "camille", "--role", "coordinator",
                         "--password-stdin", stdin="une-phrase-de-passe-longue\n", monkeypatch=monkeypatch)
    assert code == 0 and out.startswith("Compte « camille » créé (rôle : "), err
    code, out, err = cli(capsys, postgres_url, "user", "passwd", "camille", "--password-stdin",
                         stdin="une-autre-phrase-plus-longue\n", monkeypatch=monkeypatch)
    assert (code, out) == (0, "Mot de passe de « camille » changé.\n"), err
    engine = create_engine(postgres_url)
    try:
        assert users.authenticate(unit_of_work_factory(engine)(), "camille", "une-autre-phrase-plus-longue")
        code, out, err = cli(capsys, postgres_url, "user", "disable", "camille")
        assert code == 0, err
        with pytest.raises(users.AuthenticationFailed):
            users.authenticate(unit_of_work_factory(engine)(), "camille", "une-autre-phrase-plus-longue")
    finally:
        engine.dispose()


def test_check_says_ok_with_the_schema_revision_and_what_the_chains_vouch_for(capsys, programme):
    db = programme[0]
    code, out, err = cli(capsys, db, "check")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["ok", f"schéma : {head_revision()}"]
    assert lines[2].startswith("vérifiés : 1 état(s) émis, ")


def test_check_names_an_issued_statement_changed_behind_parcours_back(capsys, programme, new_database, tmp_path):
    db = new_database()
    assert cli(capsys, db, "restore", programme[1])[0] == 0
    engine = create_engine(db, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:  # the test's user is a superuser: it can lift the freezing triggers
            conn.execute(text("ALTER TABLE statement DISABLE TRIGGER ALL"))
            conn.execute(text("UPDATE statement SET total = total + 1"))
    finally:
        engine.dispose()
    code, out, err = cli(capsys, db, "check")
    assert_french_refusal(code, err, "a des problèmes", f"L'état {CONVENTION}-001")
    assert make_url(db).password not in err


def test_the_real_command_line_runs_a_verb_on_a_postgresql_url(programme, tmp_path):
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", programme[0], "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.splitlines()[0]) == (0, "ok"), done.stderr


# -- backup and restore --------------------------------------------------------------------------------------

def test_backup_then_restore_into_an_empty_database_gives_back_the_same_rows_and_hashes(capsys, programme,
                                                                                       new_database):
    db, dump, _month, dumped = programme
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert dump.name.startswith(backup.backup_prefix(db)) and dump.suffix == ".dump"
    target = new_database()
    code, out, err = cli(capsys, target, "restore", dump)
    assert code == 0, err
    assert out.splitlines()[0] == f"Base restaurée depuis « {dump} » (schéma {head_revision()})."
    assert out.splitlines()[1].startswith("vérifiés : 1 état(s) émis, ")
    restored = contents(target)
    assert restored == dumped
    assert len(restored["statements"]) == 1 and restored["counts"]["home_session"] == 504
    assert cli(capsys, target, "check")[0] == 0


def test_backup_into_the_default_folder_is_listed_and_thinned_like_sqlite_copies(capsys, programme, tmp_path):
    db, dump, _, _ = programme
    folder = backup.backups_folder(db)
    folder.mkdir(parents=True)
    start = datetime(2026, 1, 1, 3, 0, 0)
    for day in range(40):  # forty older daily dumps (the same bytes will do: thinning reads names only)
        shutil.copyfile(dump, folder / f"{backup.backup_prefix(db)}{start + timedelta(days=day):%Y%m%d-%H%M%S}.dump")
    foreign = folder / "autre-chose.dump"
    foreign.write_bytes(b"pas une sauvegarde de cette base")
    done = backup.backup_database(db, clock=lambda: start + timedelta(days=40))
    stamps = [start + timedelta(days=day) for day in range(41)]
    kept = backup.backups_to_keep(stamps)
    assert len(done.removed) == 41 - len(kept) > 0
    left = sorted(p.name for p in folder.iterdir() if p != foreign)
    assert left == sorted(f"{backup.backup_prefix(db)}{s:%Y%m%d-%H%M%S}.dump" for s in kept)
    assert foreign.exists()
    code, out, err = cli(capsys, db, "backup", "--list")
    assert code == 0 and f"Sauvegardes de cette base dans « {folder} » : {len(kept)}" in out, err


def test_restore_into_a_database_that_has_tables_is_refused_and_changes_nothing(capsys, programme, postgres_url):
    assert cli(capsys, postgres_url, "user", "disable", "personne")[0] == 2  # migrated: the tables are there
    before = contents(postgres_url)
    code, out, err = cli(capsys, postgres_url, "restore", programme[1])
    assert_french_refusal(code, err, "Restauration refusée ; la base n'a pas été modifiée.", "n'est pas vide",
                          "base vide")
    assert make_url(postgres_url).password not in err
    assert contents(postgres_url) == before


@pytest.mark.parametrize("cut", ["in its table of contents", "in its data"])
def test_a_truncated_dump_is_refused_before_anything_is_written(capsys, programme, new_database, tmp_path, cut):
    data = programme[1].read_bytes()
    truncated = tmp_path / "tronquee.dump"
    truncated.write_bytes(data[:2000] if cut == "in its table of contents" else data[:-200])
    target = new_database()
    code, out, err = cli(capsys, target, "restore", truncated)
    assert_french_refusal(code, err, "Restauration refusée ; la base n'a pas été modifiée.", str(truncated))
    assert relations(target) == []


def test_a_sqlite_backup_given_to_a_postgresql_restore_is_refused_in_french(capsys, postgres_url, tmp_path):
    sqlite_db = tmp_path / "poste.sqlite"
    assert main.main(["--db", str(sqlite_db), "user", "disable", "personne"]) == 2  # creates the file
    code, out, err = cli(capsys, postgres_url, "restore", sqlite_db)
    assert_french_refusal(code, err, "est une sauvegarde d'une base SQLite")
    assert relations(postgres_url) == []


# -- refusals --------------------------------------------------------------------------------------------------

def test_backup_without_pg_dump_is_refused_in_french_and_writes_nothing(capsys, programme, tmp_path, monkeypatch):
    empty = tmp_path / "sans-outils"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # PATH without pg_dump…
    monkeypatch.setenv(pg_backup.TOOLS_ENV, str(empty))  # …and the packages' folders set aside
    out_folder = tmp_path / "sauvegardes"
    out_folder.mkdir()
    code, out, err = cli(capsys, programme[0], "backup", "--to", out_folder)
    assert_french_refusal(code, err, "pg_dump est introuvable : installez le paquet postgresql-client")
    assert list(out_folder.iterdir()) == []


@pytest.mark.skipif(not pg_backup.tool_folders() or not any((f / "pg_dump").exists() for f in pg_backup.tool_folders()),
                    reason="no /usr/lib/postgresql/<version>/bin/pg_dump here")
def test_pg_dump_off_the_path_is_found_in_the_packages_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    found = Path(pg_backup.find_tool("pg_dump"))
    assert found.parent in pg_backup.tool_folders() and found.name == "pg_dump"


@pytest.mark.skipif(os.name != "posix", reason="the recording pg_dump is a shell script")
def test_the_password_goes_to_pg_dump_through_its_environment_never_its_command_line(programme, tmp_path,
                                                                                      monkeypatch):
    """A pg_dump in PARCOURS_PG_BIN that records its arguments and whether PGPASSWORD is set, then runs the real
    one: the backup is made, and the password is nowhere in the arguments."""
    real = Path(pg_backup.find_tool("pg_dump"))
    tools = tmp_path / "outils"
    tools.mkdir()
    record = tmp_path / "appel.txt"
    (tools / "pg_dump").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n'
                                   f'[ -n "$PGPASSWORD" ] && echo PGPASSWORD-set >> {record}\nexec {real} "$@"\n')
    (tools / "pg_dump").chmod(0o700)
    (tools / "pg_restore").symlink_to(pg_backup.find_tool("pg_restore"))
    monkeypatch.setenv(pg_backup.TOOLS_ENV, str(tools))
    done = backup.backup_database(programme[0], tmp_path / "copie.dump")
    assert done.path.exists()
    called = record.read_text()
    assert "PGPASSWORD-set" in called and "--format=custom" in called
    assert make_url(programme[0]).password not in called


def test_a_server_that_does_not_answer_and_a_refused_password_are_said_in_french(capsys, programme, tmp_path):
    url = make_url(programme[0])
    nobody = url.set(port=1).render_as_string(hide_password=False)  # nothing listens on port 1
    wrong = url.set(password="pas-le-bon").render_as_string(hide_password=False)
    out_folder = tmp_path / "sorties"
    out_folder.mkdir()
    for verb in (("backup", "--to", out_folder), ("export", out_folder / "x.json"), ("check",)):
        code, out, err = cli(capsys, nobody, *verb)
        assert_french_refusal(code, err, pg_faults.UNREACHABLE)
        code, out, err = cli(capsys, wrong, *verb)
        assert_french_refusal(code, err, pg_faults.AUTH_FAILED)
        assert "pas-le-bon" not in err and url.password not in err
    assert list(out_folder.iterdir()) == []


def test_restore_into_a_database_that_does_not_exist_says_to_create_it(capsys, programme):
    missing = make_url(programme[0]).set(database=f"absente_{secrets.token_hex(4)}").render_as_string(
        hide_password=False)
    code, out, err = cli(capsys, missing, "restore", programme[1])
    assert_french_refusal(code, err, "Restauration refusée", pg_faults.NO_DATABASE)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"),
                    reason="mounting a small tmpfs needs root")
def test_backup_on_a_full_disk_names_the_folder_and_leaves_nothing(capsys, programme, tmp_path):
    disk = tmp_path / "petit-disque"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", str(disk)], check=True)
    try:
        filler = disk / "remplissage"
        with open(filler, "wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 4096)
            except OSError:  # full
                pass
        os.truncate(filler, filler.stat().st_size - 16 * 1024)  # 16 KiB left: less than the dump
        code, out, err = cli(capsys, programme[0], "backup", "--to", disk)
        assert_french_refusal(code, err, f"Sauvegarde impossible dans le dossier « {disk} » : le disque de ce "
                                         "dossier est plein")
        assert [p.name for p in disk.iterdir()] == ["remplissage"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# -- the store's URL (cli.store_url, called by main.py) ---------------------------------------------------------

def test_a_bare_postgresql_url_is_given_the_psycopg_driver():
    assert store_url.normalise("postgresql://u:p@h:5432/parcours") == "postgresql+psycopg://u:p@h:5432/parcours"
    assert store_url.normalise("postgres://u@/parcours?host=/run/postgresql") == \
        "postgresql+psycopg://u@/parcours?host=/run/postgresql"
    assert store_url.normalise("/srv/parcours.sqlite") == "/srv/parcours.sqlite"
    assert store_url.shown("postgresql+psycopg://u:secret@h/parcours") == "postgresql+psycopg://u:***@h/parcours"


def test_a_postgresql_database_of_another_application_is_refused_and_left_untouched(postgres_url):
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE factures (id int)"))
    engine.dispose()
    with pytest.raises(backup.StorageError, match="n'est pas une base Parcours"):
        store_url.refuse_foreign_database(postgres_url)
    assert relations(postgres_url) == ["public.factures"]


def test_an_empty_or_parcours_postgresql_database_is_accepted(postgres_url, programme):
    store_url.refuse_foreign_database(postgres_url)  # empty: becomes a new Parcours database
    store_url.refuse_foreign_database(programme[0])


def test_a_killed_backups_partial_dump_is_removed_at_the_next_start_and_a_running_ones_kept(capsys, programme):
    db = programme[0]
    folder = backup.backups_folder(db)
    folder.mkdir(parents=True, exist_ok=True)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # a process that is gone, as a killed backup's
    stem = f".{backup.backup_prefix(db)}20261201-021500.dump"
    killed, running = folder / f"{stem}.{ended.pid}.partial", folder / f"{stem}.{os.getpid()}.partial"
    killed.write_bytes(b"PGDMP")
    running.write_bytes(b"PGDMP")
    assert cli(capsys, db, "backup", "--list")[0] == 0
    assert not killed.exists() and running.exists()


@pytest.mark.parametrize("said, expected", [
    ('connection to server at "10.0.0.9", port 5432 failed: Connection refused', pg_faults.UNREACHABLE),
    ('connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "p"',
     pg_faults.AUTH_FAILED),
    ('la connexion au serveur a échoué : FATAL:  l\'authentification par mot de passe a échoué pour l\'utilisateur '
     '« parcours »', pg_faults.AUTH_FAILED),
    ('FATAL:  la base de données « parcours » n\'existe pas', pg_faults.NO_DATABASE),
    ('FATAL:  database "parcours" does not exist', pg_faults.NO_DATABASE),
    ('FATAL:  role "parcours" does not exist', pg_faults.AUTH_FAILED),
    ('pg_dump: error: query failed: ERROR:  could not obtain lock on relation "statement"', pg_faults.BUSY),
    ("failed to resolve host 'serveur.invalid': [Errno -2] Name or service not known", pg_faults.UNREACHABLE),
])
def test_what_libpq_says_in_english_or_french_is_named(said, expected):
    assert pg_faults.describe_pg_tool_error(said) == expected


def test_a_pg_dump_older_than_the_server_says_which_client_to_install(tmp_path):
    said = ("pg_dump: error: aborting because of server version mismatch\n"
            "pg_dump: detail: server version: 17.2; pg_dump version: 15.10\n")
    done = subprocess.CompletedProcess(["pg_dump"], 1, "", said)
    message = pg_backup._dump_failed(done, tmp_path).message
    assert message.startswith("pg_dump (version 15.10) est plus ancien que le serveur PostgreSQL (version 17.2) : "
                              "installez le paquet postgresql-client-17")


def test_an_import_refused_on_postgres_writes_nothing(capsys, postgres_url, programme, tmp_path):
    export = tmp_path / "programme.json"
    assert cli(capsys, programme[0], "export", export)[0] == 0
    data = json.loads(export.read_text(encoding="utf-8"))
    data["sessions"][-1]["duration_minutes"] = -5  # the last record of the file is wrong
    broken = tmp_path / "faux.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    assert cli(capsys, postgres_url, "user", "disable", "personne")[0] == 2  # the schema, migrated and empty
    before = contents(postgres_url)
    code, out, err = cli(capsys, postgres_url, "import", broken)
    assert_french_refusal(code, err, "Import refusé, rien n'a été enregistré.", data["sessions"][-1]["key"])
    assert contents(postgres_url) == before


def test_the_other_verbs_run_on_postgres_too(capsys, programme, tmp_path):
    db = programme[0]
    code, out, err = cli(capsys, db, "retention", "--dry-run")
    assert code == 0 and out.startswith("Simulation : rien n'a été modifié."), err
    code, out, err = cli(capsys, db, "audit-purge", "--days", "3650")
    assert code == 0 and out.startswith("Journal d'audit : 0 entrée(s) de plus de 3650 jours effacée(s)"), err
    code, out, err = cli(capsys, db, "access-export", "F001", "--json", tmp_path / "f001.json",
                         "--pdf", tmp_path / "f001.pdf")
    assert code == 0, err
    assert json.loads((tmp_path / "f001.json").read_text(encoding="utf-8"))
    assert (tmp_path / "f001.pdf").read_bytes().startswith(b"%PDF")


def test_a_server_dump_given_to_a_sqlite_restore_is_refused_in_french(capsys, programme, tmp_path):
    sqlite_db = tmp_path / "poste.sqlite"
    assert main.main(["--db", str(sqlite_db), "user", "disable", "personne"]) == 2  # creates the file
    before = sqlite_db.read_bytes()
    code, out, err = cli(capsys, str(sqlite_db), "restore", programme[1])
    assert_french_refusal(code, err, "est une sauvegarde d'une base PostgreSQL (pg_dump)")
    assert sqlite_db.read_bytes() == before
