"""Reading a test's store as it is, on either store: `db` is a SQLite file's path or a PostgreSQL URL (conftest's
`db_path`). SQLite is read through the sqlite3 module (as the tests always did: no engine, no pragma on the file);
PostgreSQL through a short-lived engine."""
from __future__ import annotations

import sqlite3

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from models.db import make_engine


def is_url(db: str) -> bool:
    return "://" in str(db)


def every_row(conn: Connection) -> dict[str, list[tuple]]:
    """Every row of every table through a SQLAlchemy connection, as tuples of Python values."""
    return {t: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}"'))]
            for t in sorted(inspect(conn).get_table_names())}


def dump_connection(conn: Connection) -> dict[str, list[str]]:
    """Every row of every table through a SQLAlchemy connection, as sorted reprs."""
    return {t: sorted(map(repr, found)) for t, found in every_row(conn).items()}


def dump(db: str) -> dict[str, list[str]]:
    """Every row of every table (timestamps included): equal dumps mean that nothing at all was written."""
    if not is_url(db):
        with sqlite3.connect(db) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            return {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"'))) for t in tables}
    return {t: sorted(map(repr, found)) for t, found in table_rows(db).items()}


def table_rows(db: str) -> dict[str, list[tuple]]:
    """Every row of every table of a PostgreSQL database (`db`, a URL), as tuples of Python values."""
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return every_row(conn)
    finally:
        engine.dispose()


def rows(db: str, sql: str, **params) -> list[tuple]:
    """The rows of one query (named parameters, `:name`), as tuples."""
    if not is_url(db):
        with sqlite3.connect(db) as conn:
            return conn.execute(sql, params).fetchall()
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def execute(db: str, *sql: str) -> None:
    """Raw statements, each on its own, as someone with a database client would type them: on SQLite a bare
    sqlite3 connection (none of the application's pragmas: foreign keys and recursive triggers off), on PostgreSQL
    a connection in autocommit."""
    if not is_url(db):
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            for statement in sql:
                conn.execute(statement)
        finally:
            conn.close()
        return
    engine = make_engine(db).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in sql:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()
