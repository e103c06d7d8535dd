"""No English on screen at the command line, every nameable fault named in French: argparse's usage and errors
(cli.french_argparse), file faults (services.file_faults) and database faults (services.store_faults), on real
files and real SQLite databases."""
from __future__ import annotations

import argparse
import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.exc import IntegrityError, OperationalError

import main
from cli.french_argparse import FrenchArgumentParser, translate_error
from services import store_faults
from services.activity import ActivityReport, export_csv
from services.file_faults import READ, WRITE, FileFault, describe_json_error, describe_os_error, write_atomically
from services.store_faults import describe_store_fault

ENGLISH = ("usage:", "error:", "required", "invalid", "choose from", "unrecognized", "expected", "allowed",
           "ambiguous", "could match", "show this help", "positional arguments", "No such file", "Permission denied",
           "Is a directory", "Not a directory", "No space", "Read-only", "Expecting", "Errno", "database",
           "Traceback", "inattendue")


def assert_french(text: str) -> None:
    for words in ENGLISH:
        assert words not in text, f"« {words} » in {text!r}"


def run_main(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main.main(list(argv))
    except SystemExit as exc:  # argparse ends the process: exit code 2 on a usage error, 0 after --help
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


# -- argparse ------------------------------------------------------------------------------------------------

def test_a_missing_required_option_is_refused_in_french_with_exit_code_2(capsys):
    code, out, err = run_main(capsys, "statement")
    assert code == 2 and out == ""
    assert err.startswith("utilisation : parcours statement")
    assert "parcours statement : erreur : arguments obligatoires manquants : --convention" in err
    code, _, err = run_main(capsys, "statement", "--convention", "AP")
    assert code == 2 and "parcours statement : erreur : l'un des arguments --month --closing est obligatoire" in err
    assert_french(err)


def test_an_unknown_verb_is_refused_in_french(capsys):
    code, _out, err = run_main(capsys, "frobnicate")
    assert code == 2
    assert "choix non valide : 'frobnicate'" in err and "choix possibles : 'demo'" in err
    assert_french(err)


def test_help_is_french_and_exits_0(capsys):
    code, out, err = run_main(capsys, "--help")
    assert code == 0 and err == ""
    assert out.startswith("utilisation : parcours")
    assert "-h, --help" in out and "afficher cette aide et quitter" in out and "access-export" in out
    assert_french(out)


@pytest.mark.parametrize("argv", [["statement", "--help"], ["user", "add", "--help"], ["access-export", "-h"]])
def test_the_help_of_each_verb_is_french(capsys, argv):
    code, out, _err = run_main(capsys, *argv)
    assert code == 0 and "afficher cette aide et quitter" in out
    assert_french(out)


@pytest.mark.parametrize("argv, french", [
    (["audit-purge", "--days", "x"], "argument --days : valeur non valide : 'x' (un nombre entier est attendu)"),
    (["import"], "arguments obligatoires manquants : FICHIER"),
    (["user"], "arguments obligatoires manquants : {add,passwd,disable}"),
    (["--db"], "argument --db : une valeur est attendue"),
    (["demo", "--extra"], "arguments non reconnus : --extra"),
])
def test_each_usage_error_is_french(capsys, argv, french):
    code, _out, err = run_main(capsys, *argv)
    assert code == 2 and french in err
    assert_french(err)


def _odd_parser() -> FrenchArgumentParser:
    parser = FrenchArgumentParser(prog="essai")
    parser.add_argument("--alpha")
    parser.add_argument("--alpine")
    parser.add_argument("--pair", nargs=2)
    parser.add_argument("--some", nargs="+")
    parser.add_argument("--ratio", type=float)
    parser.add_argument("--size", choices=["s", "m"])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--yes", action="store_true")
    group.add_argument("--no", action="store_true")
    return parser


@pytest.mark.parametrize("argv, french", [
    (["--al", "x", "--yes"], "option ambiguë : --al peut désigner --alpha, --alpine"),
    (["--pair", "a", "--yes"], "argument --pair : 2 valeur(s) attendue(s)"),
    (["--some", "--yes"], "argument --some : au moins une valeur est attendue"),
    (["--ratio", "x", "--yes"], "argument --ratio : valeur non valide : 'x' (un nombre est attendu)"),
    (["--size", "xl", "--yes"], "argument --size : choix non valide : 'xl' (choix possibles : 's', 'm')"),
    (["--yes", "--no"], "argument --no : incompatible avec l'argument --yes"),
    ([], "l'un des arguments --yes --no est obligatoire"),
    (["--yes=1"], "argument --yes : valeur non attendue : '1'"),
])
def test_argparse_errors_are_all_translated(capsys, argv, french):
    with pytest.raises(SystemExit) as ended:
        _odd_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert ended.value.code == 2 and f"essai : erreur : {french}" in err
    assert_french(err)


def test_a_message_of_ours_is_left_as_it_is():
    assert translate_error("--years attend un nombre entier") == "--years attend un nombre entier"


def test_the_main_parser_and_its_verbs_are_french_parsers():
    parser = main.build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert all(isinstance(p, FrenchArgumentParser) for p in verbs.choices.values())


# -- file faults ---------------------------------------------------------------------------------------------

def _raised(fn) -> OSError:
    with pytest.raises(OSError) as caught:
        fn()
    return caught.value


def test_a_missing_file_is_named(tmp_path):
    missing = tmp_path / "absent.json"
    message = describe_os_error(_raised(missing.read_bytes), missing, READ)
    assert message == f"Le fichier « {missing} » est introuvable."


def test_a_missing_folder_on_write_names_the_folder(tmp_path):
    target = tmp_path / "nulle-part" / "export.json"
    with pytest.raises(FileFault) as caught:
        write_atomically(target, b"{}")
    assert caught.value.message == (f"Le dossier « {target.parent} » est introuvable : « export.json » n'a pas pu y "
                                    "être écrit.")
    assert caught.value.field == "path"


def test_a_folder_given_for_a_file_and_a_file_given_for_a_folder(tmp_path):
    assert "est un dossier, pas un fichier" in describe_os_error(_raised(tmp_path.read_bytes), tmp_path, READ)
    (tmp_path / "plain").write_text("x")
    below = tmp_path / "plain" / "x.pdf"
    assert describe_os_error(_raised(lambda: below.write_bytes(b"")), below, WRITE) == (
        f"Le chemin « {below} » passe par un fichier là où un dossier est attendu.")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_full_disk_is_named():
    def fill():
        with open("/dev/full", "wb") as out:
            out.write(b"x")

    error = _raised(fill)
    assert error.errno == errno.ENOSPC
    assert describe_os_error(error, "/dev/full", WRITE).startswith("Le disque est plein : « /dev/full » n'a pas pu "
                                                                   "être écrit.")


def test_no_permission_is_named(tmp_path):
    target = tmp_path / "privé.json"
    target.write_text("{}")
    target.chmod(0o000)
    try:
        if os.geteuid() == 0:  # root reads anything: the error it would get elsewhere, as the OS raises it
            error = PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
        else:
            error = _raised(target.read_bytes)
    finally:
        target.chmod(0o600)
    assert describe_os_error(error, target, READ) == f"Parcours n'a pas le droit de lire « {target} »."
    assert describe_os_error(error, target, WRITE).startswith(f"Parcours n'a pas le droit d'écrire « {target} »")


@pytest.mark.parametrize("code, words", [(errno.EROFS, "est en lecture seule"), (errno.EIO, "entrée-sortie"),
                                         (errno.ECONNRESET, "erreur du système ECONNRESET")])
def test_other_faults_never_show_the_english_strerror(code, words):
    message = describe_os_error(OSError(code, os.strerror(code), "/media/clé/état.pdf"), action=WRITE)
    assert "« /media/clé/état.pdf »" in message and words in message
    assert os.strerror(code) not in message
    assert_french(message)


def test_invalid_json_is_named_with_line_and_column():
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads('{\n  "format": }')
    assert describe_json_error(caught.value, "données.json") == (
        "Le fichier « données.json » n'est pas un JSON valide (ligne 2, colonne 13) : une valeur est attendue.")


def test_an_activity_export_into_a_missing_folder_is_a_named_refusal(tmp_path):
    report = ActivityReport(month="2025-03", lines=(), by_family=(), by_intervenant=())
    with pytest.raises(FileFault, match="est introuvable"):
        export_csv(report, tmp_path / "absent" / "heures.csv")


# -- the command line's files --------------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path, capsys) -> str:
    path = str(tmp_path / "parcours.sqlite")
    assert main.main(["--db", path, "export", str(tmp_path / "vide.json")]) == 0  # creates the schema
    capsys.readouterr()
    return path


def test_cli_import_of_a_missing_file(db, tmp_path, capsys):
    code, _out, err = run_main(capsys, "--db", db, "import", str(tmp_path / "absent.json"))
    assert code == 2 and f"Le fichier « {tmp_path / 'absent.json'} » est introuvable." in err
    assert_french(err)


def test_cli_import_of_an_empty_file_is_not_json(db, tmp_path, capsys):
    (tmp_path / "vide-aussi.json").write_text("")
    code, _out, err = run_main(capsys, "--db", db, "import", str(tmp_path / "vide-aussi.json"))
    assert code == 2 and "n'est pas un JSON valide (ligne 1, colonne 1) : une valeur est attendue" in err
    assert_french(err)


def test_cli_export_into_a_file_taken_for_a_folder(db, tmp_path, capsys):
    target = tmp_path / "vide.json" / "x.json"
    code, out, err = run_main(capsys, "--db", db, "export", str(target))
    assert code == 2 and out == "" and "passe par un fichier là où un dossier est attendu" in err
    assert_french(err)


def test_cli_statement_pdf_into_a_missing_folder(db, tmp_path, capsys):
    code, _out, err = run_main(capsys, "--db", db, "demo")
    assert code == 0
    convention, month = _first_convention(db)
    code, _out, err = run_main(capsys, "--db", db, "statement", "--convention", convention, "--month", month,
                               "--pdf", str(tmp_path / "absent" / "état.pdf"))
    assert code == 2 and f"Le dossier « {tmp_path / 'absent'} » est introuvable" in err
    assert_french(err)


def _first_convention(db: str) -> tuple[str, str]:
    """(key, its first month AAAA-MM)."""
    with sqlite3.connect(db) as conn:
        key, start = conn.execute("SELECT key, start_date FROM convention ORDER BY key LIMIT 1").fetchone()
    return key, start[:7]


# -- database faults -----------------------------------------------------------------------------------------

def _fault(engine, *statements) -> Exception:
    with pytest.raises(Exception) as caught:
        with engine.begin() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql)
    return caught.value


def _engine(url: str, busy_ms: int = 50):
    engine = create_engine(url)
    event.listen(engine, "connect", lambda conn, _r: conn.execute(f"PRAGMA busy_timeout={busy_ms}"))
    return engine


@pytest.fixture
def plain_db(tmp_path) -> Path:
    path = tmp_path / "essai.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    return path


def test_a_locked_database_is_busy(plain_db):
    holder = sqlite3.connect(plain_db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        error = _fault(_engine(f"sqlite:///{plain_db}"), "INSERT INTO t VALUES (1)")
    finally:
        holder.rollback()
        holder.close()
    assert isinstance(error, OperationalError)
    assert describe_store_fault(error) == store_faults.BUSY
    assert describe_store_fault(error) == "La base est occupée par une autre opération : réessayez dans un instant."


def test_a_read_only_database(plain_db):
    if os.geteuid() != 0:  # the real thing: no right to write the file nor its folder
        plain_db.chmod(0o444)
        plain_db.parent.chmod(0o555)
        url = f"sqlite:///{plain_db}"
    else:  # root writes anything: open it read-only, the fault SQLite then gives is the same
        url = f"sqlite:///file:{plain_db}?mode=ro&uri=true"
    try:
        error = _fault(_engine(url), "INSERT INTO t VALUES (1)")
    finally:
        plain_db.parent.chmod(0o755)
        plain_db.chmod(0o644)
    assert describe_store_fault(error) == store_faults.READ_ONLY


@pytest.mark.parametrize("garbage", [b"ceci n'est pas une base " * 300,
                                     b"SQLite format 3\x00" + b"\xff" * 4080])
def test_a_damaged_database(tmp_path, garbage):
    damaged = tmp_path / "abîmée.sqlite"
    damaged.write_bytes(garbage)
    error = _fault(_engine(f"sqlite:///{damaged}"), "SELECT * FROM sqlite_master")
    assert describe_store_fault(error) == store_faults.DAMAGED
    assert store_faults.DAMAGED.startswith("La base de données est endommagée")


def test_a_full_database(plain_db):
    error = _fault(_engine(f"sqlite:///{plain_db}"), "PRAGMA max_page_count=3",
                   "INSERT INTO t SELECT randomblob(4000) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3)")
    assert describe_store_fault(error) == store_faults.FULL


def test_an_io_error_as_sqlite_reports_it():
    wrapped = OperationalError("INSERT …", {}, sqlite3.OperationalError("disk I/O error"))
    assert describe_store_fault(wrapped) == store_faults.IO_ERROR
    assert describe_store_fault(sqlite3.OperationalError("disk I/O error")) == store_faults.IO_ERROR


def test_other_errors_are_not_named(plain_db):
    assert describe_store_fault(ValueError("database is locked")) is None  # not from the database
    assert describe_store_fault(IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE failed"))) is None
    assert describe_store_fault(None) is None


def test_a_fault_raised_while_handling_another_is_found_through_the_chain(plain_db):
    try:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            raise RuntimeError("the import failed") from exc
    except RuntimeError as outer:
        assert describe_store_fault(outer) == store_faults.BUSY


def test_cli_on_a_damaged_database_names_the_fault_and_logs_it(tmp_path, capsys):
    damaged = tmp_path / "abîmée.sqlite"
    # a SQLite header over damaged pages (a file without one is not a Parcours database: tests/test_file_safety.py)
    damaged.write_bytes(b"SQLite format 3\x00" + b"ceci n'est pas une base " * 300)
    code, out, err = run_main(capsys, "--db", str(damaged), "export", str(tmp_path / "x.json"))
    assert code == 2 and out == ""  # a named fault is not a bug: exit 2 (issue 15)
    assert err.startswith(store_faults.DAMAGED) and str(damaged) in err
    assert_french(err.replace(str(damaged), ""))


def test_cli_on_a_read_only_database_names_the_fault(db, capsys):
    code, _out, err = run_main(capsys, "--db", f"sqlite:///file:{db}?mode=ro&uri=true", "demo")
    assert code == 2 and err.startswith(store_faults.READ_ONLY)
