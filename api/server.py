"""Running the API over HTTPS with uvicorn: `serve` for main.py, `make_server` for it and for the tests."""
from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Callable

from services.errors import ValidationError
from services.uow import UnitOfWork

from api import DEFAULT_LISTEN
from api.tls import TlsFileError, fingerprint


def parse_listen(listen: str) -> tuple[str, int]:
    """« HOST:PORT » (« [::1]:8443 » for IPv6) → (host, port); ValidationError in French otherwise."""
    host, sep, port = (listen or "").rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError(f"Adresse d'écoute « {listen} » illisible : écrivez HÔTE:PORT, par exemple "
                              f"{DEFAULT_LISTEN} ou 0.0.0.0:8443 (toutes les interfaces).", field="listen")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValidationError(f"Adresse IPv6 « {host} » illisible.", field="listen") from None
    return host, int(port)


def check_tls_pair(certfile: str | os.PathLike, keyfile: str | os.PathLike) -> str:
    """The certificate's fingerprint once the pair is known to load together; TlsFileError (French) otherwise, so
    that the server refuses to start with a sentence rather than a traceback."""
    for path, what in ((certfile, "Le certificat"), (keyfile, "La clé")):
        if not path or not os.path.isfile(path):
            raise TlsFileError(f"{what} « {path} » est introuvable : donnez --cert et --key, ou créez une paire "
                               "avec « serve --init DOSSIER ».")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError):
        raise TlsFileError(f"Le certificat « {certfile} » et la clé « {keyfile} » ne vont pas ensemble ou ne peuvent "
                           "pas être lus (format PEM attendu, clé non chiffrée).") from None
    return fingerprint(certfile)


def make_server(app, host: str, port: int, certfile: str | os.PathLike, keyfile: str | os.PathLike):
    """A uvicorn server for `app` over TLS. Its log goes to the root logger (main.py's file, where exceptions are
    written without their message): log_config=None keeps uvicorn from installing its own console handlers."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, ssl_certfile=str(certfile), ssl_keyfile=str(keyfile),
                            log_config=None, access_log=True, server_header=False, proxy_headers=False,
                            lifespan="off", timeout_keep_alive=5)
    return uvicorn.Server(config)


def serve(uow_factory: Callable[[], UnitOfWork], listen: str = DEFAULT_LISTEN, certfile: str | None = None,
          keyfile: str | None = None, *, schema_version: str | None = None,
          announce: Callable[[str], None] = print) -> None:
    """Serve the API until interrupted (Ctrl+C, SIGTERM). `schema_version`: the database's revision (after
    migration, the head revision of this Parcours)."""
    from models.db import head_revision

    from api.app import build_app

    host, port = parse_listen(listen)
    certificate = check_tls_pair(certfile, keyfile)
    schema = schema_version or head_revision()
    app = build_app(uow_factory, schema_version=schema)
    shown = f"[{host}]" if ":" in host else host
    announce(f"Serveur Parcours sur https://{shown}:{port} (schéma {schema}).")
    announce(f"Empreinte SHA-256 du certificat, à comparer sur chaque poste : {certificate}")
    make_server(app, host, port, certfile, keyfile).run()
