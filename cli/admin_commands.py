"""Command-line verbs for administrators: user accounts, integrity check, backup and restore.

`user …` works through the services on the opened store. `check`, `backup` and `restore` work on the database
file itself, without migrating or even opening it through SQLAlchemy first: they must still run when the file is
damaged or comes from another version. On a PostgreSQL URL (the team server) they work on the database through
pg_dump and pg_restore, and `restore` writes only into an empty database (services.pg_backup). Passwords are read from standard input (`--password-stdin`) or typed
without echo, never taken from the command line, where other users of the machine could read them.
"""
from __future__ import annotations

import sys
from getpass import getpass
from pathlib import Path

from services.errors import DomainError

EXIT_OK, EXIT_REFUSED = 0, 2
FILE_COMMANDS = frozenset({"check", "backup", "restore"})


def add_parsers(sub) -> None:
    """Add `user`, `check`, `backup` and `restore` to the sub-commands of main.build_parser()."""
    p = sub.add_parser("user", help="comptes des utilisateurs")
    verbs = p.add_subparsers(dest="user_command", required=True, metavar="{add,passwd,disable}")
    p = verbs.add_parser("add", help="crée un compte")
    p.add_argument("name", metavar="IDENTIFIANT", help="identifiant de connexion")
    p.add_argument("--role", required=True, metavar="RÔLE", help="referent, coordinator ou administrator")
    p.add_argument("--full-name", metavar="NOM", help="nom affiché (défaut : l'identifiant)")
    p.add_argument("--password-stdin", action="store_true", help="lit le mot de passe sur l'entrée standard")
    p = verbs.add_parser("passwd", help="change le mot de passe d'un compte")
    p.add_argument("name", metavar="IDENTIFIANT")
    p.add_argument("--password-stdin", action="store_true", help="lit le mot de passe sur l'entrée standard")
    p = verbs.add_parser("disable", help="désactive un compte (il ne peut plus se connecter)")
    p.add_argument("name", metavar="IDENTIFIANT")
    sub.add_parser("check", help="vérifie l'intégrité de la base et affiche la version du schéma")
    p = sub.add_parser("backup", help="copie la base (sauvegardes datées, les plus anciennes éclaircies)")
    p.add_argument("--to", metavar="CHEMIN",
                   help="dossier ou fichier de destination (défaut : dossier NOM-sauvegardes à côté de la base)")
    p.add_argument("--list", action="store_true", help="liste les sauvegardes de cette base, sans rien copier")
    p = sub.add_parser("restore", help="remplace la base par une sauvegarde vérifiée")
    p.add_argument("path", metavar="FICHIER", help="fichier de sauvegarde")
    p = sub.add_parser("audit-purge", help="efface du journal d'audit les entrées plus anciennes que --days jours")
    p.add_argument("--days", type=int, default=365, metavar="JOURS", help="durée de conservation en jours (défaut : 365)")


def run(args, uow, db: str, key: bytes | None = None) -> int:
    if args.command == "user":
        return run_user(args, uow)
    if args.command == "audit-purge":
        return run_audit_purge(uow, args.days)
    return run_file_command(args, db, key)


def run_audit_purge(uow, days: int) -> int:
    """The dated, audited purge job: also run by the window at each start (see purge_audit_on_start)."""
    from services.audit import purge_older_than
    from services.permissions import SYSTEM

    deleted = purge_older_than(uow(), SYSTEM, days)
    print(f"Journal d'audit : {deleted} entrée(s) de plus de {days} jours effacée(s) ; la purge est elle-même "
          "journalisée.")
    return 0


def purge_audit_on_start(uow, days: int = 365) -> None:
    """Run the purge when the window starts; a failure is logged (never personal data) and never blocks."""
    import logging

    from services.audit import purge_older_than
    from services.permissions import SYSTEM

    try:
        deleted = purge_older_than(uow(), SYSTEM, days)
        logging.getLogger("parcours.audit").info("audit purge at start: %d entries older than %d days", deleted, days)
    except Exception:
        logging.getLogger("parcours.audit").exception("audit purge at start failed")


def unlock_password(args) -> str:
    """The password of the account enrolled on this connected copy: it unlocks the encrypted copy."""
    if getattr(args, "unlock_stdin", False):
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if args.command is None or not sys.stdin.isatty():
        raise DomainError("Cette base est la copie chiffrée d'un poste connecté au serveur du programme : elle ne "
                          "s'ouvre qu'avec le mot de passe du compte de ce poste (option --unlock-stdin).")
    return getpass("Mot de passe de votre compte Parcours (copie chiffrée de ce poste) : ")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n") if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise DomainError("Aucun terminal pour saisir le mot de passe : utilisez --password-stdin.")
    first = getpass("Mot de passe (12 caractères au moins) : ")
    if getpass("Confirmez le mot de passe : ") != first:
        raise DomainError("Les deux saisies diffèrent ; rien n'a été modifié.")
    return first


def run_user(args, uow) -> int:
    from services import users
    from services.directory import ROLE_LABELS
    from services.permissions import SYSTEM  # the command line: the operator of the machine

    if args.user_command == "add":
        info = users.add_user(uow(), SYSTEM, args.name, args.role, read_password(args.password_stdin),
                              name=args.full_name)
        print(f"Compte « {info.key} » créé (rôle : {ROLE_LABELS.get(info.role, info.role)}).")
    elif args.user_command == "passwd":
        info = users.change_password(uow(), SYSTEM, args.name, read_password(args.password_stdin))
        print(f"Mot de passe de « {info.key} » changé.")
    else:
        info = users.disable_user(uow(), SYSTEM, args.name)
        print(f"Compte « {info.key} » désactivé : il ne peut plus se connecter.")
    return EXIT_OK


def run_file_command(args, db: str, key: bytes | None = None) -> int:
    """check, backup, restore: on a SQLite file itself, or on a PostgreSQL URL through pg_dump and pg_restore
    (services.pg_backup, which services.backup dispatches to)."""
    from services import backup
    from services.store_faults import shown_database

    backup.check_local_filesystem(db)
    if args.command == "check":
        report = backup.check_database(db, key=key)
        if not report.ok:
            print(f"La base « {shown_database(db)} » a des problèmes :", file=sys.stderr)
            for problem in report.problems:
                print(f"- {problem}", file=sys.stderr)
            return EXIT_REFUSED
        print("ok")
        print(f"schéma : {report.revision}")
        if report.integrity is not None:  # the chains were recomputed: say how much was vouched for
            print(f"vérifiés : {report.integrity.statements} état(s) émis, "
                  f"{report.integrity.entries} entrée(s) du journal d'audit")
        return EXIT_OK
    if args.command == "backup" and args.list:
        return print_backups(backup.list_backups(db, backups_dir=args.to and Path(args.to)))
    if args.command == "backup":
        done = backup.backup_database(db, args.to, key=key)
        print(f"Sauvegarde écrite et vérifiée : {done.path}")
        if done.removed:
            print(f"Anciennes sauvegardes supprimées (12 quotidiennes, 10 hebdomadaires et 9 mensuelles gardées) : "
                  f"{len(done.removed)}.")
        return EXIT_OK
    if args.command == "restore":
        done = backup.restore_database(db, args.path)
        print(f"Base restaurée depuis « {args.path} » (schéma {done.revision}).")
        integrity = getattr(done, "integrity", None)  # a PostgreSQL restore is checked like `check`
        if integrity is not None:
            print(f"vérifiés : {integrity.statements} état(s) émis, {integrity.entries} entrée(s) du journal d'audit")
        if done.safety_copy:
            print(f"La base précédente est conservée dans « {done.safety_copy} ».")
        return EXIT_OK
    raise AssertionError(args.command)


def print_backups(found) -> int:
    """The database's own copies, then those of the folder older versions shared between every database, whose
    origin is unknown (they are never thinned; `restore` takes any of them)."""
    print(f"Sauvegardes de cette base dans « {found.folder} » : {len(found.own)}")
    for path in found.own:
        print(f"  {path}")
    if found.unattributed:
        print(f"Anciennes sauvegardes du dossier commun (base d'origine inconnue) : {len(found.unattributed)}")
        for path in found.unattributed:
            print(f"  {path}")
    return EXIT_OK
