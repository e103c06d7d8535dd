"""Database faults that can be named, in French: a locked, full, read-only or damaged SQLite file, and a
PostgreSQL server's faults (services.pg_faults: not answering, password refused, no such database, full, read-only,
busy), asked first.

    describe_store_fault(exc, db=None) -> str | None
    store_fault(exc, db=None) -> StoreFault | None     the same, as a DomainError naming the database, for the
                                                       command line (exit 2) and open_store (the window's start)

Takes any exception (SQLAlchemy's OperationalError / DatabaseError, which wrap the driver's, or sqlite3's own)
and returns the sentence to show, or None when the fault is not one of these (then it is truly unexpected).
Here rather than in ui/, which never imports the database layer; the window and main.py call it before falling
back to « erreur inattendue ». The caller still logs the exception.

Given the database (`db`, a path or URL), a vague « disk I/O error » or « unable to open database file » is told
apart by looking at the disk that holds the file: SQLite reports a full disk that way when it cannot even create
the `-shm` file of a WAL database, and a read-only file system (a locked USB key, a read-only mount) when it
cannot create it there at all.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from services.errors import DomainError

BUSY = "La base est occupée par une autre opération : réessayez dans un instant."
FULL = "Le disque qui contient la base de données est plein : libérez de la place puis recommencez."
READ_ONLY = ("La base est en lecture seule : Parcours ne peut rien y enregistrer. Vérifiez que le fichier et son "
             "dossier sont modifiables (droits, clé verrouillée, disque en lecture seule).")
IO_ERROR = ("Le disque n'a pas pu lire ou écrire la base de données (erreur d'entrée-sortie). Vérifiez le disque ou "
            "la clé, puis réessayez.")
DAMAGED = ("La base de données est endommagée ou ce fichier n'est pas une base Parcours. Vos sauvegardes permettent "
           "de la retrouver : restaurez la plus récente (commande « parcours restore »).")
CANNOT_OPEN = ("La base de données n'a pas pu être ouverte : vérifiez que son fichier et son dossier existent et sont "
               "accessibles.")

# SQLite's primary result codes (sqlite3.Error.sqlite_errorcode & 0xFF) and, for errors that carry no code,
# the words of their message.
NOTHING_SAVED = "Rien n'a été enregistré."
# Below this, a « disk I/O error » on the database's disk is the disk being full (SQLite needs 32 KiB for -shm).
_NEARLY_FULL_BYTES = 1 << 20

_BY_CODE = {5: BUSY, 6: BUSY, 8: READ_ONLY, 10: IO_ERROR, 11: DAMAGED, 13: FULL, 14: CANNOT_OPEN, 26: DAMAGED}
_BY_TEXT = (
    ("database is locked", BUSY), ("database table is locked", BUSY), ("database schema is locked", BUSY),
    ("database or disk is full", FULL), ("readonly database", READ_ONLY), ("read-only database", READ_ONLY),
    ("disk i/o error", IO_ERROR), ("file is not a database", DAMAGED), ("disk image is malformed", DAMAGED),
    ("file is encrypted or is not a database", DAMAGED), ("unable to open database file", CANNOT_OPEN),
)


def _causes(exc: BaseException | None):
    """exc, the driver error SQLAlchemy wraps (`orig`), then its causes and contexts; each once."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


class StoreFault(DomainError):
    """The database could not be used (busy, full, read-only, damaged, cannot be opened); `message` says so in
    French, names the database and that nothing was saved (a unit of work is all or nothing)."""


def describe_store_fault(exc: BaseException | None, db: str | os.PathLike | None = None) -> str | None:
    from services.pg_faults import describe_pg_fault  # a PostgreSQL server's faults (psycopg), named there

    named = describe_pg_fault(exc) or _describe(exc)
    if named in (IO_ERROR, CANNOT_OPEN) and db is not None:
        return _disk_state(db) or named
    return named


def store_fault(exc: BaseException | None, db: str | os.PathLike | None = None) -> StoreFault | None:
    """The StoreFault to raise for `exc`, or None when `exc` is not a database fault that can be named."""
    if isinstance(exc, StoreFault):
        return exc
    named = describe_store_fault(exc, db)
    if named is None:
        return None
    where = f"\n(base : {shown_database(db)})" if db is not None else ""
    return StoreFault(f"{named} {NOTHING_SAVED}{where}")


def shown_database(db: str | os.PathLike) -> str:
    """The database as a message may name it: a URL without its password."""
    text = os.fspath(db)
    if "://" not in text:
        return text
    try:
        from sqlalchemy.engine import make_url

        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: nothing after the scheme is shown, it may hold a password
        return text.split("://", 1)[0] + "://…"


def _database_folder(db: str | os.PathLike) -> Path | None:
    from services.backup import sqlite_file  # the one place that turns --db into a file

    try:
        path = sqlite_file(db)
    except Exception:  # an URL that cannot be parsed: nothing to look at
        return None
    if path is None:
        return None
    path = path.expanduser()
    folder = path.parent if not path.is_dir() else path
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _disk_state(db: str | os.PathLike) -> str | None:
    """FULL or READ_ONLY when the disk holding the database is full or mounted read-only, else None."""
    folder = _database_folder(db)
    if folder is None:
        return None
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs on Windows
        return None
    if stats.f_flag & getattr(os, "ST_RDONLY", 1):
        return READ_ONLY
    if stats.f_bavail * stats.f_frsize < _NEARLY_FULL_BYTES:
        return FULL
    return None


def _describe(exc: BaseException | None) -> str | None:
    for current in _causes(exc):
        if not isinstance(current, sqlite3.Error) and type(current).__module__.split(".")[0] != "sqlalchemy":
            continue
        code = getattr(current, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _BY_CODE:
            return _BY_CODE[code & 0xFF]
        text = str(current.args[0] if isinstance(current, sqlite3.Error) and current.args else current).lower()
        for words, message in _BY_TEXT:
            if words in text:
                return message
    return None
