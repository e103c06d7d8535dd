"""The --db argument as the command line opens it, for a PostgreSQL URL (the team server).

    normalise(db) -> str          `postgresql://…` and `postgres://…` (libpq's and most tools' spellings) become
                                  `postgresql+psycopg://…`: SQLAlchemy knows no `postgres` dialect, and before 2.1
                                  its `postgresql://` means psycopg2, which Parcours does not install — both an
                                  « erreur inattendue » otherwise
    refuse_foreign_database(db)   a PostgreSQL database that holds another application's tables is refused before
                                  migrating (which would add Parcours's tables among them), as check_parcours_file
                                  refuses another application's SQLite file; an empty database becomes a new
                                  Parcours database, as an empty file does
    shown(db) -> str              the database as a message or the window's title may name it: no password

main.py calls them (composition root); a path or a sqlite:// URL goes through each unchanged.
"""
from __future__ import annotations

from models.db import PARCOURS_TABLES

_BARE_SCHEMES = ("postgresql://", "postgres://")
DRIVER_SCHEME = "postgresql+psycopg://"


def normalise(db: str) -> str:
    if db.startswith(_BARE_SCHEMES):
        return DRIVER_SCHEME + db.split("://", 1)[1]
    return db


def refuse_foreign_database(db: str) -> None:
    from services.backup import StorageError, _postgres

    if not _postgres(db):
        return  # a file: check_parcours_file's, and nothing more imported at the window's start
    from services.pg_backup import public_tables

    tables = public_tables(db, "La base n'a pas pu être ouverte.")
    if tables and not PARCOURS_TABLES <= tables:
        raise StorageError(f"La base PostgreSQL « {shown(db)} » n'est pas une base Parcours (elle contient les tables "
                           "d'une autre application) : Parcours refuse de l'ouvrir et ne l'a pas modifiée. Vérifiez "
                           "l'URL donnée à --db, ou créez une base vide pour Parcours (createdb).")


def shown(db: str) -> str:
    from services.store_faults import shown_database

    return shown_database(db)
