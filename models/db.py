"""Engine creation (with the SQLite pragmas we rely on) and schema migration through Alembic."""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaTooNew(Exception):
    """The database was written by a newer version of Parcours."""


class NotParcoursDatabase(Exception):
    """The file given as the database is something else (another application's SQLite file, a PDF, a folder);
    the message, in French, names it."""


# Tables every Parcours database has had since the first revision: how we recognise one.
PARCOURS_TABLES = frozenset({"alembic_version", "programme", "app_user", "family", "home_session", "convention"})
SQLITE_HEADER = b"SQLite format 3\x00"


def database_url(db: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path."""
    if "://" in db:
        return db
    path = Path(db).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # INSERT OR REPLACE then fires the DELETE triggers of the row it replaces (frozen statements, audit log).
    cursor.execute("PRAGMA recursive_triggers=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a session acknowledged to the user survives a power cut on a laptop.
    cursor.execute("PRAGMA synchronous=FULL")
    # A second writer (a background load, the autobackup, another window) waits its turn instead of failing.
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


BUSY_TIMEOUT_MS = 15_000


def _begin_sqlite(conn) -> None:
    """BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads, then writes (opening a file
    writes its audit row) fails at once with « database is locked » when another connection wrote in between —
    SQLite's busy handler cannot wait there — while an immediate one simply waits for the lock. A read-only file
    cannot take that lock: it is still read, in a plain transaction."""
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if "readonly" not in str(exc.orig) and "read-only" not in str(exc.orig):
            raise
        conn.exec_driver_sql("BEGIN")


def make_engine(db: str) -> Engine:
    url = database_url(db)
    # hide_parameters: an error written to the log must never carry a child's name or a note.
    engine = create_engine(url, hide_parameters=True)
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
        # pysqlite's implicit transactions would defer BEGIN; make it explicit so each unit of work is atomic.
        event.listen(engine, "connect", lambda conn, _r: setattr(conn, "isolation_level", None))
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision; refuse a database from a newer Parcours."""
    script = ScriptDirectory.from_config(_alembic_config())
    current = current_revision(engine)
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaTooNew(
            f"Cette base de données a été créée par une version plus récente de Parcours (schéma « {current} »). "
            "Mettez Parcours à jour avant de l'ouvrir."
        )
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return script.get_current_head()


def check_parcours_file(db: str) -> None:
    """Refuse, before any connection writes to it, a file that is not a Parcours database: migrating would add
    Parcours's tables to another application's SQLite file, and connecting alone turns on WAL mode (rewriting its
    header) and restrict_permissions would chmod it. A missing or empty file, or a SQLite file without any table,
    holds nothing to lose: it becomes a new database, as before. Only reads: the file is left byte for byte."""
    url = make_url(db) if "://" in db else None
    if url is not None and (url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:"):
        return
    path = Path(url.database if url is not None else db).expanduser()
    if path.is_dir():
        raise NotParcoursDatabase(f"« {path} » est un dossier, pas une base Parcours : indiquez le fichier de la "
                                  "base (par exemple « parcours.sqlite »).")
    try:
        with open(path, "rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    if not header:
        return
    if header != SQLITE_HEADER:
        raise NotParcoursDatabase(f"Le fichier « {path} » n'est pas une base Parcours (ce n'est pas une base "
                                  "SQLite) : Parcours refuse de l'ouvrir et ne l'a pas modifié. Vérifiez le chemin "
                                  "donné à --db.")
    try:
        # Read only: a foreign file is never written (its journal mode, its pages) while we look at its tables.
        # Without a -wal beside it, immutable: SQLite creates no -shm either; with one, its pages must be read too.
        wal = Path(f"{path}-wal").exists()
        uri = f"{path.resolve().as_uri()}?{'mode=ro' if wal else 'immutable=1'}"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")}
    except sqlite3.DatabaseError:
        return  # damaged or locked: left to the engine, whose error is named (services.store_faults)
    if tables and not PARCOURS_TABLES <= tables:
        raise NotParcoursDatabase(f"Le fichier « {path} » n'est pas une base Parcours (c'est la base SQLite d'une "
                                  "autre application) : Parcours refuse de l'ouvrir et ne l'a pas modifié. Vérifiez "
                                  "le chemin donné à --db.")


def restrict_permissions(db: str) -> None:
    """Children's data: the file is readable by its owner only."""
    url = make_url(database_url(db))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            path = url.database + suffix
            if os.path.exists(path):
                os.chmod(path, 0o600)
