"""Parcours — the one composition root: parses arguments, builds the engine and the unit-of-work
factory, then starts the window or runs a command-line verb."""
from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import traceback
from pathlib import Path

import platformdirs

APP_NAME = "Parcours"


def default_database() -> str:
    return str(Path(platformdirs.user_data_dir(APP_NAME)) / "parcours.sqlite")


def log_file() -> Path:
    """The log's folder is the owner's only (0700), whatever the umask or an older version made of it."""
    folder = Path(platformdirs.user_log_dir(APP_NAME))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder / "parcours.log"


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> logging.Handler:
    """Log to log_file(), a 0600 file, through CodeOnlyFormatter; returns the handler added to the root logger."""
    path = log_file()
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))  # created private, never 0644 first
    os.chmod(path, 0o600)  # a log an older version created with the umask's mode
    root = logging.getLogger()
    for previous in [h for h in root.handlers if getattr(h, "parcours_log", False)]:  # main() run again (tests)
        root.removeHandler(previous)
        previous.close()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.parcours_log = True
    handler.setFormatter(CodeOnlyFormatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return handler


class CodeOnlyFormatter(logging.Formatter):
    """Writes an exception as its type and the code locations it went through, never its message: the message of
    an openpyxl, SQLAlchemy, ValueError or even a DomainError may embed a family's name or a note (openpyxl's
    IllegalCharacterError is the whole text of the cell), and the log is kept on the disk, outside the database.
    What is kept — the exception's class, an OS error's errno name, SQLite's result code name, each chained
    exception, every file, line and function — says where and what failed, which is what a fix needs."""

    _CAUSE = "The above exception was the direct cause of the following exception:"
    _CONTEXT = "During handling of the above exception, another exception occurred:"

    def format(self, record: logging.LogRecord) -> str:
        saved, record.exc_text = record.exc_text, None  # another handler's text, message included, is not reused
        try:
            return super().format(record)
        finally:
            record.exc_text = saved

    def formatException(self, ei) -> str:
        chain: list[tuple[BaseException, str | None]] = []  # newest first, with how it follows the one before
        current = ei[1]
        while current is not None and all(current is not seen for seen, _ in chain):
            cause = current.__cause__
            earlier = cause if cause is not None else (None if current.__suppress_context__ else current.__context__)
            chain.append((current, None if earlier is None else self._CAUSE if cause is not None else self._CONTEXT))
            current = earlier
        blocks = []
        for exc, joint in reversed(chain):
            lines = ["Traceback (most recent call last):\n",
                     *traceback.format_list(traceback.extract_tb(exc.__traceback__)), self._kind(exc)]
            blocks.append((f"{joint}\n\n" if joint else "") + "".join(lines))
        return "\n\n".join(blocks)

    @staticmethod
    def _kind(exc: BaseException) -> str:
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        if isinstance(exc, OSError) and exc.errno is not None:
            kind += f" [{errno.errorcode.get(exc.errno, exc.errno)}]"
        if getattr(exc, "sqlite_errorname", None):
            kind += f" [{exc.sqlite_errorname}]"
        return kind + " (message non journalisé : il peut contenir des données personnelles)"


def build_parser() -> argparse.ArgumentParser:
    from cli.french_argparse import FrenchArgumentParser  # usage, help and errors in French

    parser = FrenchArgumentParser(prog="parcours", description="Parcours — Programme de Réussite Éducative")
    from services.version import parcours_version

    parser.add_argument("--version", action="version", version=f"Parcours {parcours_version()}",
                        help="affiche la version de Parcours et quitte")
    parser.add_argument("--db", default=None, metavar="BASE",
                        help="fichier SQLite ou URL SQLAlchemy (défaut : dossier de données)")
    parser.add_argument("--unlock-stdin", action="store_true",
                        help="lit sur l'entrée standard le mot de passe qui déverrouille la copie chiffrée d'un poste "
                             "connecté")
    # benchmarks/gui_startup.py: quit once the first window is painted, to time the real start from outside.
    parser.add_argument(PROBE_FLAG, action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", title="commandes")
    sub.add_parser("demo", help="remplit la base avec un programme fictif réaliste")
    p = sub.add_parser("import", help="importe un fichier parcours-dataset/1")
    p.add_argument("file", metavar="FICHIER")
    p = sub.add_parser("export", help="exporte toute la base au format parcours-dataset/1")
    p.add_argument("file", metavar="FICHIER")
    p = sub.add_parser("statement", help="état mensuel d'une convention")
    p.add_argument("--convention", required=True, metavar="CODE", help="code de la convention")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", metavar="AAAA-MM", help="mois de l'état")
    which.add_argument("--closing", action="store_true",
                       help="état complémentaire de clôture (régularisations après le dernier mois de la période)")
    p.add_argument("--json", action="store_true", help="affiche l'état au format JSON")
    p.add_argument("--pdf", metavar="SORTIE.pdf", help="écrit le PDF de l'état dans ce fichier")
    p.add_argument("--issue", action="store_true", help="émet l'état (numéro définitif)")
    p.add_argument("--with-names", action="store_true", help="noms des familles sur l'exemplaire du partenaire")
    from cli import admin_commands

    admin_commands.add_parsers(sub)  # user, check, backup, restore
    from cli import rgpd_commands

    rgpd_commands.add_parsers(sub)  # retention, access-export
    from cli import selfcheck_command

    selfcheck_command.add_parser(sub)  # selfcheck
    from cli import serve_command

    serve_command.add_parser(sub)  # serve: the team server's HTTPS API
    from cli import sheet_command

    sheet_command.add_parser(sub)  # import-sheet: a team's spreadsheet (XLSX, ODS, CSV)
    from cli import report_command

    report_command.add_parser(sub)  # report bilan|caf: the one-click bilans (PDF, XLSX, JSON)
    from cli import sync_command

    sync_command.add_parser(sub)  # connect, sync, conflicts, status: a laptop copy of the team server
    return parser


def open_store(db: str, key: bytes | None = None):
    """Engine + migrations + unit-of-work factory; refuses a database from a newer Parcours, and a file that is not
    a Parcours database (before anything connects to it: it is left untouched)."""
    from models.db import (NotParcoursDatabase, SchemaTooNew, check_parcours_file, make_engine, migrate,
                           restrict_permissions)
    from services.backup import StorageError, check_local_filesystem
    from services.errors import DatabaseVersionError
    from services.uow import unit_of_work_factory

    check_local_filesystem(db)  # SQLite's locks are not safe on a network share
    try:
        check_parcours_file(db)
    except NotParcoursDatabase as exc:
        raise StorageError(str(exc)) from None
    from cli.store_url import refuse_foreign_database

    refuse_foreign_database(db)  # a PostgreSQL database of another application: refused before migrating
    engine = make_engine(db, key=key)  # key: a connected laptop's encrypted copy (services.local_crypto), else None
    try:
        migrate(engine)
    except SchemaTooNew as exc:
        raise DatabaseVersionError(str(exc)) from None
    except Exception as exc:  # locked, full, read-only, damaged: a StoreFault in French (the window's start too)
        from services.store_faults import store_fault

        raise store_fault(exc, db) or exc
    restrict_permissions(db)
    return engine, unit_of_work_factory(engine)


def open_unlocked_copy(db: str, password: str):
    """A connected laptop's encrypted copy, opened with its user's password (that is the offline login check: the
    accounts pulled from the server carry no password hash); its writes go through the outbox."""
    from services import local_crypto
    from services.sync import client

    engine, uow = open_store(db, key=local_crypto.unlock(db, password))
    client.attach_if_connected(engine)
    return uow


def connect_encrypted_copy(db: str, url: str, user: str, password: str, fingerprint: str | None,
                           label: str | None = None):
    """Enrol this computer with the team server on an encrypted copy of `db` (made now, from a plain copy that holds
    no family), and pull the user's scope. If the enrolment fails, the copy is erased and a plain, empty store is
    made again, so that a retry starts afresh and today's standalone mode still opens; a copy already enrolled
    (connected before, or whose first pull was cut short) is never erased. Returns (Connection, uow,
    engine)."""
    from services import local_crypto
    from services.sync import client

    engine, uow = open_store(db, key=local_crypto.prepare_connected_copy(db, password))
    try:
        done = client.connect(uow, url, user, password, fingerprint, **({"label": label} if label else {}))
    except BaseException:
        from services.sync import local

        try:
            with engine.connect() as conn:  # enrolled (a first pull cut short) or connected before: kept, sync resumes
                keep = local.read_state(conn) is not None
        except Exception:  # the store itself failed (locked, full…): its fault is the one raised; nothing erased
            keep = True
        engine.dispose()
        if not keep:
            local_crypto.erase_copy(db)
            open_store(db)[0].dispose()
        raise
    return done, uow, engine


def run_command(args, uow) -> int:
    from cli import commands, sync_command

    sync_command.act_as_enrolled_user(uow, args.command)  # a connected copy: the enrolled user, writes through the outbox
    if args.command in sync_command.COMMANDS:
        return sync_command.run(args, uow)

    if args.command == "import":
        return commands.run_import(uow, args.file)
    if args.command == "export":
        return commands.run_export(uow, args.file)
    if args.command == "demo":
        return commands.run_demo(uow)
    if args.command == "statement":
        return commands.run_statement(uow, args)
    if args.command in ("user", "check", "backup", "restore", "audit-purge"):
        from cli import admin_commands

        return admin_commands.run(args, uow, args.db or default_database(), key=getattr(args, "key", None))
    if args.command == "serve":
        from cli import serve_command

        return serve_command.run(args, uow)
    if args.command == "report":
        from cli import report_command

        return report_command.run(args, uow)
    if args.command == "import-sheet":
        from cli import sheet_command

        return sheet_command.run(args, uow)
    if args.command in ("retention", "access-export"):
        from cli import rgpd_commands

        return rgpd_commands.run(args, uow)
    raise AssertionError(args.command)


PROBE_FLAG = "--quit-after-first-paint"


def window_arguments(argv: list[str]) -> argparse.Namespace | None:
    """The arguments of a plain window start, `[--db BASE]`, read without building the parser of every command (a
    few milliseconds of the window's start); None for anything else, which build_parser() reads (and refuses)."""
    rest = [arg for arg in argv if arg != PROBE_FLAG]
    if not rest:
        db = None
    elif len(rest) == 2 and rest[0] == "--db" and not rest[1].startswith("-"):
        db = rest[1]
    elif len(rest) == 1 and rest[0].startswith("--db=") and rest[0] != "--db=":
        db = rest[0].removeprefix("--db=")
    else:
        return None
    return argparse.Namespace(db=db, command=None, unlock_stdin=False, quit_after_first_paint=PROBE_FLAG in argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = window_arguments(argv) or build_parser().parse_args(argv)
    if args.db:  # postgres:// and postgresql:// are read as postgresql+psycopg://
        from cli.store_url import normalise

        args.db = normalise(args.db)
    if args.command == "selfcheck":  # checks the installation: reports even where the log or the base cannot open
        from cli.selfcheck_command import run as run_selfcheck

        return run_selfcheck(args.db or default_database())
    configure_logging()
    db = args.db or default_database()
    from services.errors import DomainError

    engine = None
    try:
        from services.backup import remove_leftovers

        if removed := remove_leftovers(db):  # copies of the data that a killed backup or restore left behind
            logging.info("removed %d leftover file(s) of killed backups or restores", len(removed))
        from cli.admin_commands import FILE_COMMANDS, unlock_password

        # check, backup and restore work on the file itself: they must run even when it cannot be opened.
        from services import local_crypto
        from services.backup import sqlite_file

        # A connected laptop's copy is encrypted: its user's password opens it (the window asks it; a verb reads it
        # with --unlock-stdin or at the terminal), and `connect` makes such a copy before it opens the store.
        path = sqlite_file(db)
        # (its key file beside it: a file of random bytes without one is refused as « not a Parcours database »)
        encrypted = path is not None and local_crypto.key_file(path).exists()
        if args.command == "connect" and path is not None:
            from cli import sync_command

            args.login_password = sync_command.login_password(args.password_stdin)

            def connect():
                done, connected_uow, connected_engine = connect_encrypted_copy(
                    db, args.url, args.user, args.login_password, args.fingerprint, label=args.label)
                connected_engine.dispose()  # see `finally` below: no connection left open on return
                return done, connected_uow

            return sync_command.run_connect(args, connect)
        if args.command is None and encrypted:
            engine, uow = None, None
        elif args.command in FILE_COMMANDS:
            engine, uow = None, None
            args.key = local_crypto.key_for(db, lambda: unlock_password(args)) if encrypted else None
        else:
            key = local_crypto.key_for(db, lambda: unlock_password(args)) if encrypted else None
            engine, uow = open_store(db, key=key)
            if encrypted:
                from services.sync import client

                client.attach_if_connected(engine)
        if engine is not None and (args.command == "serve" or engine.dialect.name == "postgresql"):
            from services.sync.changes import install_change_log

            # change numbers for the laptops' pulls: the team server's store only (serve, or the IT's verbs on
            # its PostgreSQL), never a desktop's file
            install_change_log(engine, seed=args.command == "serve")
        if args.command is None:
            from cli.admin_commands import purge_audit_on_start
            from ui.app import run_app

            # The purge writes (and syncs) the audit log: done once the login is on screen, not before.
            from cli.store_url import shown
            from ui.smoke import smoke_requested

            if smoke_requested():  # CI on the frozen bundle (packaging/ci-linux.sh): login, statements, PDF preview
                from ui.smoke import run_smoke

                return run_smoke(uow, db)
            return run_app(uow, db_label=shown(db), after_first_paint=None if uow is None else lambda: purge_audit_on_start(uow),
                           quit_after_first_paint=args.quit_after_first_paint,
                           reopen_store=lambda: open_store(db)[1],  # a revoked copy erased: a new empty one
                           unlock_copy=(lambda password: open_unlocked_copy(db, password)) if encrypted else None,
                           connect_copy=None if path is None else (
                               lambda url, user, password, fingerprint: connect_encrypted_copy(
                                   db, url, user, password, fingerprint)[1]))
        return run_command(args, uow)
    except DomainError as exc:
        return _refused(args, exc.message)
    except BrokenPipeError:  # output piped into `head`: not an error
        return 0
    except Exception as exc:
        named = _named_fault(exc, db)
        if named:  # a locked, full, read-only or damaged database, a missing file…: said as such, not a bug
            logging.warning("named fault", exc_info=True)
            return _refused(args, named)
        logging.exception("unexpected error")
        print(f"Une erreur inattendue est survenue. Le détail a été enregistré dans {log_file()}.", file=sys.stderr)
        return 1
    finally:
        # Close every connection before returning. A caller that runs main() again in the same process (a test, a
        # script) would otherwise keep SQLite connections of this call open while the next one reads the file's
        # header with a plain open(): closing that descriptor drops all the process's POSIX locks on the file, and
        # another process may then checkpoint or reset the WAL under the old connections (SQLITE_CORRUPT, seen).
        if engine is not None:
            engine.dispose()


def _refused(args, message: str) -> int:
    """Exit 2 with the French message: on stderr, and — when the window was asked for, which may have been started
    from an icon with no terminal to read — in a dialog too."""
    print(message, file=sys.stderr)
    if args.command is None:
        from ui.startup_error import show_startup_error

        show_startup_error(message)
    return 2


def _named_fault(exc: Exception, db: str) -> str | None:
    """The French sentence for a fault that can be named (database or file), else None."""
    from services.file_faults import describe_os_error
    from services.store_faults import store_fault

    fault = store_fault(exc, db)
    if fault is not None:
        return fault.message
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    return None


if __name__ == "__main__":
    sys.exit(main())
