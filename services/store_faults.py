"""Database faults that can be named, in French: a locked, full, read-only or damaged SQLite file.

    describe_store_fault(exc) -> str | None

Takes any exception (SQLAlchemy's OperationalError / DatabaseError, which wrap the driver's, or sqlite3's own)
and returns the sentence to show, or None when the fault is not one of these (then it is truly unexpected).
Here rather than in ui/, which never imports the database layer; the window and main.py call it before falling
back to « erreur inattendue ». The caller still logs the exception.
"""
from __future__ import annotations

import sqlite3

BUSY = "La base est occupée par une autre opération : réessayez dans un instant."
FULL = ("Le disque est plein : la base de données n'a pas pu être enregistrée. Libérez de la place sur le disque, "
        "puis réessayez.")
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


def describe_store_fault(exc: BaseException | None) -> str | None:
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
