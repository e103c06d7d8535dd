"""The laptop's sync verbs (services.sync.client), and the enrolled user behind every other verb on a connected copy.

  connect https://HÔTE:PORT --user NOM --password-stdin [--fingerprint SHA256] [--label NOM]
  sync [--json]          push the outbox, pull the server's changes; prints what was done
  conflicts [--json]     the open conflicts (base, local and server values) and the refused changes
  status [--json]        {"pending", "last_sync", "server", …}
  password [--changed-elsewhere] [--password-stdin]
                         the account's password, changed on the server from here (the copy's key rewrapped at
                         once), or, --changed-elsewhere, one changed on the server or another computer, taken by
                         the copy once the server confirms it; reads the password that opens the copy now, then
                         the new one (with --unlock-stdin, stdin holds that first one twice: to open, then here)

A server that cannot be reached is said in French, exit 2, every pending change kept. A refusal (wrong password,
certificate that does not match the fingerprint, revoked device — then the copy is erased) exits 2 as well.
"""
from __future__ import annotations

import json
import sys

from services.errors import DomainError

COMMANDS = ("connect", "sync", "conflicts", "status", "password")
EXIT_OK, EXIT_REFUSED = 0, 2


def add_parser(sub) -> None:
    """Add the sync verbs to the sub-commands of main.build_parser()."""
    p = sub.add_parser("connect", help="connecte ce poste au serveur d'équipe et reçoit les dossiers de son compte")
    p.add_argument("url", metavar="https://HÔTE:PORT", help="adresse du serveur d'équipe")
    p.add_argument("--user", required=True, metavar="NOM", help="identifiant sur le serveur")
    p.add_argument("--password-stdin", action="store_true", help="lit le mot de passe sur l'entrée standard")
    p.add_argument("--fingerprint", metavar="SHA256",
                   help="empreinte SHA-256 du certificat du serveur, donnée par le service informatique")
    p.add_argument("--label", metavar="NOM", help="nom de ce poste (défaut : « Poste de NOM »)")
    p = sub.add_parser("sync", help="envoie les modifications en attente et reçoit celles du serveur")
    p.add_argument("--json", action="store_true", help="affiche le bilan au format JSON")
    p = sub.add_parser("conflicts", help="liste les conflits à résoudre et les modifications refusées")
    p.add_argument("--json", action="store_true", help="affiche la liste au format JSON")
    p = sub.add_parser("status", help="état de la synchronisation de ce poste")
    p.add_argument("--json", action="store_true", help="affiche l'état au format JSON")
    p = sub.add_parser("password", help="change le mot de passe du compte de ce poste connecté (sur le serveur), ou "
                                        "fait prendre à la copie celui changé ailleurs")
    p.add_argument("--changed-elsewhere", action="store_true",
                   help="le mot de passe a déjà été changé sur le serveur ou sur un autre poste : la copie le prend "
                        "dès que le serveur le confirme")
    p.add_argument("--password-stdin", action="store_true",
                   help="lit sur l'entrée standard le mot de passe qui ouvre cette copie, puis le nouveau (une ligne "
                        "chacun)")


def act_as_enrolled_user(uow, command: str | None) -> None:
    """On a connected copy, every verb acts as the enrolled user, and its writes go through the outbox.

    The verbs of cli/commands.py and cli/sheet_command.py name their actor through their module's `SYSTEM`: on a
    connected copy that name is bound to the enrolled user instead (the machine's operator is not who the server
    will see). A standalone copy is left exactly as it was."""
    from services.permissions import SYSTEM

    user = SYSTEM  # bound again on every run: a process that runs main() twice (tests, scripts) starts afresh
    if uow is not None and command not in COMMANDS:  # check, backup, restore work on the file itself
        from services.sync import client

        with uow() as w:
            bind = w.session.get_bind()
        if client.attach_if_connected(getattr(bind, "engine", bind)):
            user = client.acting_user(uow)
    from cli import commands, sheet_command

    for module in (commands, sheet_command):
        module.SYSTEM = user


def login_password(from_stdin: bool) -> str:
    """The password of a login: read once (no confirmation, unlike a new password)."""
    if from_stdin:
        from cli.admin_commands import read_password

        return read_password(True)
    if not sys.stdin.isatty():
        raise DomainError("Aucun terminal pour saisir le mot de passe : utilisez --password-stdin.")
    from getpass import getpass

    return getpass("Mot de passe sur le serveur : ")


def run_connect(args, connect) -> int:
    """`connect()` enrols this copy (main.py makes it an encrypted copy first) and returns (Connection, _)."""
    done, _uow = connect()
    print(f"Poste {done.device_key} connecté à {done.server} pour {done.user_key} : {done.pulled} "
          "enregistrement(s) reçu(s).")
    if not args.fingerprint:
        print(f"Empreinte du certificat du serveur, enregistrée : {done.fingerprint}\nComparez-la avec celle "
              "que le service informatique vous a donnée ; si elles diffèrent, ne travaillez pas sur ce poste "
              "et prévenez-le.")
    return EXIT_OK


def run(args, uow) -> int:
    from services.permissions import SYSTEM
    from services.sync import client

    if args.command == "connect":  # on a PostgreSQL URL: refused by client.connect in French
        return run_connect(args, lambda: (client.connect(uow, args.url, args.user, login_password(args.password_stdin),
                                                          args.fingerprint, label=args.label), None))
    if args.command == "sync":
        try:
            report = client.sync_once(uow)
        except client.ServerUnreachable as exc:
            print(exc.message, file=sys.stderr)
            return EXIT_REFUSED
        counts = {"pushed": report.pushed, "applied": report.applied, "conflicts": report.conflicts,
                  "refused": report.refused, "pulled": report.pulled}
        if args.json:
            print(json.dumps(counts))
        else:
            print(f"Synchronisé : {report.pushed} modification(s) envoyée(s) ({report.applied} appliquée(s), "
                  f"{report.conflicts} en conflit, {report.refused} refusée(s)), {report.pulled} reçue(s).")
            if report.conflicts or report.refused:
                print("Voyez « conflicts » pour les conflits à résoudre et les refus à corriger.")
        return EXIT_OK
    if args.command == "conflicts":
        conflicts = client.list_conflicts(uow(), SYSTEM)
        refused = client.list_refused(uow(), SYSTEM)
        if args.json:
            print(json.dumps({
                "conflicts": [{"key": c.key, "operation": c.operation, "table": c.record_table,
                               "record": c.record_key, "label": c.label,
                               "fields": {f.name: {"label": client.field_label(f.name, c.record_table),
                                                   "base": f.base, "local": f.local, "server": f.server}
                                          for f in c.fields}}
                              for c in conflicts],
                "refused": [{"id": r.operation_id, "operation": r.operation, "table": r.record_table,
                             "record": r.record_key, "label": r.label, "reason": r.reason} for r in refused]},
                ensure_ascii=False))
            return EXIT_OK
        if not conflicts and not refused:
            print("Aucun conflit à résoudre, aucune modification refusée.")
        for c in conflicts:
            print(f"Conflit {c.key} — {c.label} ({client.operation_label(c.operation)}) :")
            for f in c.fields:
                print(f"  {client.field_label(f.name, c.record_table)} : au départ {f.base!r}, sur ce poste "
                      f"{f.local!r}, sur le serveur {f.server!r}")
        for r in refused:
            print(f"Refusée — {r.label} ({client.operation_label(r.operation)}) : {r.reason}")
        return EXIT_OK
    if args.command == "password":
        return run_password(args, uow)
    if args.command == "status":
        status = client.sync_status(uow(), SYSTEM)
        payload = {"pending": status.pending, "last_sync": status.last_sync.isoformat() if status.last_sync else None,
                   "server": status.server, "connected": status.connected, "refused": status.refused,
                   "open_conflicts": status.open_conflicts, "last_error": status.last_error}
        if args.json:
            print(json.dumps(payload, ensure_ascii=False))
        elif not status.connected:
            print("Ce poste n'est connecté à aucun serveur (mode autonome).")
        else:
            when = status.last_sync.astimezone().strftime("%d/%m/%Y %H:%M") if status.last_sync else "jamais"
            print(f"Serveur {status.server} ; dernière synchronisation : {when} ; {status.pending} modification(s) "
                  f"en attente, {status.open_conflicts} conflit(s), {status.refused} refus.")
            if status.last_error:
                print(status.last_error)
        return EXIT_OK
    raise DomainError(f"Commande inconnue : {args.command}")


def run_password(args, uow) -> int:
    """`password`: see the module's docstring. The new password is confirmed twice at a terminal when it is set
    here (read_password), once when it was already set elsewhere (login_password)."""
    from cli.admin_commands import read_password
    from services.sync import client

    if args.password_stdin:
        current, new = read_password(True), read_password(True)
    else:
        if not sys.stdin.isatty():
            raise DomainError("Aucun terminal pour saisir le mot de passe : utilisez --password-stdin.")
        from getpass import getpass

        current = getpass("Mot de passe qui ouvre cette copie (l'ancien) : ")
        new = login_password(False) if args.changed_elsewhere else read_password(False)
    if args.changed_elsewhere:
        client.confirm_new_password(uow, current, new)
        print("Le serveur a confirmé le nouveau mot de passe : la copie de ce poste s'ouvre désormais avec lui.")
    else:
        client.change_own_password(uow, current, new)
        print("Mot de passe changé sur le serveur du programme : la copie de ce poste s'ouvre désormais avec le "
              "nouveau.")
    return EXIT_OK
