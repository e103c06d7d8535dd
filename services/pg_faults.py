"""PostgreSQL faults that can be named, in French: a server that does not answer, a refused password, a database
that does not exist, a full disk or a read-only server, a lock or a serialisation conflict, damaged pages.

    describe_pg_fault(exc) -> str | None          for an exception of psycopg (or SQLAlchemy wrapping one)
    describe_pg_tool_error(stderr) -> str | None  for the error output of pg_dump / pg_restore (libpq's same words)

The server's own errors carry a SQLSTATE (read first). A connection that fails carries none: libpq's message is
then read, in English (libpq's own words) or in French (a server whose `lc_messages` is French sends its FATAL
lines so). The sentences never repeat the server's text, which can hold a user name or a value of a row, nor the
URL's password. services.store_faults asks here first for a PostgreSQL error, so the command line (exit 2), the
window and the API (503) say the same thing.
"""
from __future__ import annotations

from services.store_faults import _causes  # exc, the driver's error SQLAlchemy wraps, its causes: each once

UNREACHABLE = ("Le serveur PostgreSQL ne répond pas (adresse, port, pare-feu ou serveur arrêté) : vérifiez l'adresse "
               "donnée à --db et que le serveur est démarré, puis recommencez.")
AUTH_FAILED = ("Le serveur PostgreSQL a refusé l'identification (utilisateur ou mot de passe) : vérifiez l'utilisateur "
               "et le mot de passe de l'URL donnée à --db (ou le fichier ~/.pgpass), puis recommencez.")
NO_DATABASE = ("La base nommée dans l'URL donnée à --db n'existe pas sur le serveur PostgreSQL : créez-la (par exemple "
               "« createdb -O parcours parcours ») ou corrigez son nom.")
LOST = ("La connexion au serveur PostgreSQL a été coupée (serveur redémarré ou réseau interrompu) : recommencez dans "
        "un instant.")
TOO_MANY = "Le serveur PostgreSQL refuse de nouvelles connexions (trop de connexions) : réessayez dans un instant."
STARTING = ("Le serveur PostgreSQL démarre, s'arrête ou se rétablit : réessayez dans un instant.")
BUSY = ("La base PostgreSQL est occupée par une autre opération (verrou ou modification concurrente) : réessayez "
        "dans un instant.")
FULL = ("Le disque du serveur PostgreSQL est plein : le service informatique doit y libérer de la place, puis "
        "recommencez.")
READ_ONLY = ("La base PostgreSQL est en lecture seule (serveur de secours ou transaction en lecture seule) : "
             "Parcours ne peut rien y enregistrer. Utilisez le serveur principal.")
NO_RIGHT = ("L'utilisateur PostgreSQL de l'URL donnée à --db n'a pas les droits nécessaires sur cette base : le "
            "service informatique doit les lui donner (propriétaire de la base).")
DAMAGED = ("La base PostgreSQL est endommagée (pages ou index illisibles) : le service informatique doit la réparer "
           "ou restaurer la dernière sauvegarde (commande « parcours restore » dans une base vide).")
TLS = ("La connexion chiffrée au serveur PostgreSQL a échoué (certificat ou paramètre sslmode de l'URL) : vérifiez "
       "les paramètres TLS de l'URL donnée à --db.")

# SQLSTATE classes and codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_BY_STATE = {
    "28P01": AUTH_FAILED, "28000": AUTH_FAILED, "3D000": NO_DATABASE,
    "53100": FULL, "53300": TOO_MANY, "53200": FULL,  # disk full, too many connections, out of memory
    "25006": READ_ONLY, "42501": NO_RIGHT,
    "40001": BUSY, "40P01": BUSY, "55P03": BUSY, "57014": BUSY,  # serialisation, deadlock, lock timeout, cancel
    "57P01": LOST, "57P02": LOST, "57P03": STARTING, "08006": LOST, "08003": LOST, "08001": UNREACHABLE,
    "08004": UNREACHABLE, "XX001": DAMAGED, "XX002": DAMAGED,
}
# libpq's words (English, and French from a server set to French), lower case, most specific first; a tuple's
# words must all be there.
_BY_TEXT = (
    ("password authentication failed", AUTH_FAILED), ("authentification par mot de passe", AUTH_FAILED),
    ("peer authentication failed", AUTH_FAILED), ("authentification peer", AUTH_FAILED),
    ("no password supplied", AUTH_FAILED), ("aucun mot de passe", AUTH_FAILED),
    ("no pg_hba.conf entry", AUTH_FAILED), ("aucune entrée dans pg_hba.conf", AUTH_FAILED),
    (("role \"", "does not exist"), AUTH_FAILED), (("le rôle « ", "n'existe pas"), AUTH_FAILED),
    (("database \"", "does not exist"), NO_DATABASE), (("la base de données « ", "n'existe pas"), NO_DATABASE),
    ("too many clients", TOO_MANY), ("trop de clients", TOO_MANY),
    ("the database system is starting up", STARTING), ("the database system is shutting down", STARTING),
    ("in recovery mode", STARTING), ("se lance", STARTING), ("en cours d'arrêt", STARTING),
    ("could not obtain lock", BUSY), ("canceling statement due to lock timeout", BUSY),
    ("no space left on device", FULL), ("could not extend file", FULL),
    ("server closed the connection unexpectedly", LOST), ("terminating connection", LOST),
    ("ssl error", TLS), ("ssl syscall", TLS), ("server does not support ssl", TLS), ("invalid sslmode", TLS),
    ("root certificate file", TLS), ("certificate verify failed", TLS), ("ssl connection is required", TLS),
    ("connection refused", UNREACHABLE), ("connexion refusée", UNREACHABLE), ("timeout expired", UNREACHABLE),
    ("could not translate host name", UNREACHABLE), ("failed to resolve host", UNREACHABLE),
    ("name or service not known", UNREACHABLE), ("no route to host", UNREACHABLE),
    ("network is unreachable", UNREACHABLE), ("could not connect to server", UNREACHABLE),
    ("no such file or directory", UNREACHABLE),  # the local socket of a server that is not running
    ("connection to server", UNREACHABLE), ("connection failed", UNREACHABLE),
)


def _from_text(text: str) -> str | None:
    lowered = text.lower()
    for words, message in _BY_TEXT:  # a str, or a tuple of words that must all be there
        if all(word in lowered for word in ((words,) if isinstance(words, str) else words)):
            return message
    return None


def describe_pg_fault(exc: BaseException | None) -> str | None:
    """The French sentence for a PostgreSQL error (psycopg's, or SQLAlchemy's around it); None for anything else."""
    for current in _causes(exc):
        module = type(current).__module__.split(".")[0]
        if module != "psycopg":
            continue
        state = getattr(current, "sqlstate", None)
        if state in _BY_STATE:
            return _BY_STATE[state]
        if state and state[:2] == "08":
            return UNREACHABLE
        if state is None:  # libpq's own failure: no server answer to read a code from
            named = _from_text(str(current))
            if named is not None:
                return named
            import psycopg

            if isinstance(current, psycopg.OperationalError):
                return UNREACHABLE
    return None


def describe_pg_tool_error(stderr: str) -> str | None:
    """The French sentence for what pg_dump or pg_restore wrote when they could not connect or write."""
    return _from_text(stderr)


def is_postgres_error(exc: BaseException | None) -> bool:
    return any(type(current).__module__.split(".")[0] == "psycopg" for current in _causes(exc))
