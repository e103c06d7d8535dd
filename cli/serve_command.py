"""`serve [--listen HÔTE:PORT] --cert FICHIER --key FICHIER`: the team server's HTTPS API on this store.
`serve --init DOSSIER [--name NOM]…`: writes a self-signed certificate and its key into DOSSIER and prints the
fingerprint the desks will pin, then stops (the server is started by a second `serve` with --cert and --key).
"""
from __future__ import annotations

import sys

from services.errors import DomainError

EXIT_OK, EXIT_REFUSED = 0, 2


def add_parser(sub) -> None:
    """Add `serve` to the sub-commands of main.build_parser()."""
    from api import DEFAULT_LISTEN  # the package only: nothing of the server is imported to build the parser

    p = sub.add_parser("serve", help="serveur d'équipe : l'API HTTPS sur cette base (PostgreSQL en équipe)")
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HÔTE:PORT",
                   help=f"adresse et port d'écoute (défaut : {DEFAULT_LISTEN} ; 0.0.0.0:8443 pour le réseau)")
    p.add_argument("--cert", metavar="FICHIER", help="certificat TLS (PEM), celui du service informatique ou de --init")
    p.add_argument("--key", metavar="FICHIER", help="clé privée du certificat (PEM, non chiffrée)")
    p.add_argument("--init", metavar="DOSSIER",
                   help="crée dans DOSSIER un certificat auto-signé et sa clé, affiche l'empreinte, puis s'arrête")
    p.add_argument("--name", action="append", default=[], metavar="NOM",
                   help="avec --init : nom ou adresse IP par lesquels les postes joindront le serveur (répétable)")


def run(args, uow) -> int:
    try:
        if args.init:
            return _init(args)
        from api.server import serve

        serve(uow, args.listen, args.cert, args.key)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def _init(args) -> int:
    from api.server import parse_listen
    from api.tls import generate_self_signed

    host, _port = parse_listen(args.listen)
    pair = generate_self_signed(args.init, [*args.name, host])
    print(f"Certificat : {pair.certfile}")
    print(f"Clé privée (lisible par ce compte seulement) : {pair.keyfile}")
    print(f"Empreinte SHA-256 : {pair.fingerprint}")
    print(f"Lancez le serveur avec : serve --listen {args.listen} --cert {pair.certfile} --key {pair.keyfile}")
    return EXIT_OK
