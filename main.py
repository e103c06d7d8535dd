"""Parcours — the one composition root: parses arguments, builds the engine and the unit-of-work
factory, then starts the window or runs a command-line verb."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import platformdirs

APP_NAME = "Parcours"


def default_database() -> str:
    return str(Path(platformdirs.user_data_dir(APP_NAME)) / "parcours.sqlite")


def log_file() -> Path:
    folder = Path(platformdirs.user_log_dir(APP_NAME))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "parcours.log"


def build_parser() -> argparse.ArgumentParser:
    from cli.french_argparse import FrenchArgumentParser  # usage, help and errors in French

    parser = FrenchArgumentParser(prog="parcours", description="Parcours — Programme de Réussite Éducative")
    parser.add_argument("--db", default=None, metavar="BASE",
                        help="fichier SQLite ou URL SQLAlchemy (défaut : dossier de données)")
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", title="commandes")
    sub.add_parser("demo", help="remplit la base avec un programme fictif réaliste")
    p = sub.add_parser("import", help="importe un fichier parcours-dataset/1")
    p.add_argument("file", metavar="FICHIER")
    p = sub.add_parser("export", help="exporte toute la base au format parcours-dataset/1")
    p.add_argument("file", metavar="FICHIER")
    p = sub.add_parser("statement", help="état mensuel d'une convention")
    p.add_argument("--convention", required=True, metavar="CODE", help="code de la convention")
    p.add_argument("--month", required=True, metavar="AAAA-MM", help="mois de l'état")
    p.add_argument("--json", action="store_true", help="affiche l'état au format JSON")
    p.add_argument("--pdf", metavar="SORTIE.pdf", help="écrit le PDF de l'état dans ce fichier")
    p.add_argument("--issue", action="store_true", help="émet l'état (numéro définitif)")
    p.add_argument("--with-names", action="store_true", help="noms des familles sur l'exemplaire du partenaire")
    from cli import admin_commands

    admin_commands.add_parsers(sub)  # user, check, backup, restore
    from cli import rgpd_commands

    rgpd_commands.add_parsers(sub)  # retention, access-export
    return parser


def open_store(db: str):
    """Engine + migrations + unit-of-work factory; refuses a database from a newer Parcours."""
    from models.db import SchemaTooNew, make_engine, migrate, restrict_permissions
    from services.backup import check_local_filesystem
    from services.errors import DatabaseVersionError
    from services.uow import unit_of_work_factory

    check_local_filesystem(db)  # SQLite's locks are not safe on a network share
    engine = make_engine(db)
    try:
        migrate(engine)
    except SchemaTooNew as exc:
        raise DatabaseVersionError(str(exc)) from None
    restrict_permissions(db)
    return engine, unit_of_work_factory(engine)


def run_command(args, uow) -> int:
    from cli import commands

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

        return admin_commands.run(args, uow, args.db or default_database())
    if args.command in ("retention", "access-export"):
        from cli import rgpd_commands

        return rgpd_commands.run(args, uow)
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(filename=str(log_file()), level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    db = args.db or default_database()
    from services.errors import DomainError

    try:
        from cli.admin_commands import FILE_COMMANDS

        # check, backup and restore work on the file itself: they must run even when it cannot be opened.
        engine, uow = (None, None) if args.command in FILE_COMMANDS else open_store(db)
        if args.command is None:
            from cli.admin_commands import purge_audit_on_start
            from ui.app import run_app

            purge_audit_on_start(uow)
            return run_app(uow, db_label=db)
        return run_command(args, uow)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`: not an error
        return 0
    except Exception as exc:
        logging.exception("unexpected error")
        named = _named_fault(exc, db)
        if named:  # a locked, full, read-only or damaged database, a missing file…: said as such
            print(named, file=sys.stderr)
            return 1
        print(f"Une erreur inattendue est survenue. Le détail a été enregistré dans {log_file()}.", file=sys.stderr)
        return 1


def _named_fault(exc: Exception, db: str) -> str | None:
    """The French sentence for a fault that can be named (database or file), else None."""
    from services.file_faults import describe_os_error
    from services.store_faults import describe_store_fault

    named = describe_store_fault(exc)
    if named:
        return f"{named}\n(base : {db})"
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    return None


if __name__ == "__main__":
    sys.exit(main())
