"""Engine creation (with the SQLite pragmas we rely on) and schema migration through Alembic.

Alembic is imported only when the schema must change (a new file, an older schema): at every other start the
revision stored in `alembic_version` is compared with the head read from the migration files' own
`revision = '…'` / `down_revision = '…'` lines (scanned_revisions), which saves Alembic, Mako and every SQL
dialect Alembic loads — a sixth of the window's start."""
from __future__ import annotations

import ast
import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
# `revision = '0009'`, `down_revision: str | None = '0008'` (the two spellings of Alembic's templates).
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


class SchemaTooNew(Exception):
    """The database was written by a newer version of Parcours."""


class NotParcoursDatabase(Exception):
    """The file given as the database is something else (another application's SQLite file, a PDF, a folder);
    the message, in French, names it."""


# Tables every Parcours database has had since the first revision: how we recognise one.
PARCOURS_TABLES = frozenset({"alembic_version", "programme", "app_user", "family", "home_session", "convention"})
SQLITE_HEADER = b"SQLite format 3\x00"
# A connected laptop's copy is SQLCipher-encrypted; its wrapped key lives in `<file>.key` (services.local_crypto).
KEY_FILE_SUFFIX = ".key"


def cipher_key_pragma(key: bytes) -> str:
    """SQLCipher's raw-key form (x'…', 32 bytes): the key is random already, so no passphrase derivation."""
    if len(key) != 32:
        raise ValueError("a SQLCipher raw key is 32 bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


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


def make_engine(db: str, key: bytes | None = None) -> Engine:
    """`key`: the 32-byte data key of an encrypted laptop copy (services.local_crypto.unlock); None for a plain
    file or a URL, as before."""
    url = database_url(db) if key is None else _cipher_url(db, key)
    # hide_parameters: an error written to the log must never carry a child's name or a note. QueuePool: the pool a
    # plain file gets (pysqlcipher's default, one connection per thread, would differ from the standalone mode's).
    engine = create_engine(url, hide_parameters=True, **({} if key is None else {"poolclass": QueuePool}))
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
        # pysqlite's implicit transactions would defer BEGIN; make it explicit so each unit of work is atomic.
        event.listen(engine, "connect", lambda conn, _r: setattr(conn, "isolation_level", None))
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def _cipher_url(db: str, key: bytes) -> URL:
    """SQLAlchemy's pysqlcipher dialect on sqlcipher3, which gives the URL's password as `PRAGMA key` before the
    connect listeners' pragmas (WAL…) run; the raw-key form is the password. Its repr hides it (***)."""
    cipher_key_pragma(key)  # checks the length
    path = Path(make_url(db).database if "://" in db else db).expanduser()
    return URL.create("sqlite+pysqlcipher", password=f"x'{key.hex()}'", database=str(path))


def _alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def scanned_revisions() -> dict[str, tuple[str, ...]] | None:
    """Each migration file's revision and the revisions it follows, read from its `revision` and `down_revision`
    lines without importing Alembic (the files are scanned each time: a migration added is seen at once). None
    when a file does not state them plainly once each: Alembic, which runs the files, then decides."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted(VERSIONS_DIR.glob("*.py")):
        if path.name.startswith((".#", "__init__")):  # the files Alembic skips too
            continue
        found = _REVISION_LINE.findall(path.read_text(encoding="utf-8"))
        values = dict(found)
        if len(found) != 2 or len(values) != 2:
            return None
        try:
            revision, down = ast.literal_eval(values["revision"]), ast.literal_eval(values["down_revision"])
        except (ValueError, SyntaxError):
            return None
        down = () if down is None else (down,) if isinstance(down, str) else down
        if not isinstance(revision, str) or revision in graph or not all(isinstance(d, str) for d in down):
            return None
        graph[revision] = tuple(down)
    return graph


def _scanned_head() -> tuple[str | None, set[str]]:
    """(the single head, every revision) from scanned_revisions; (None, …) when the scan cannot say."""
    graph = scanned_revisions()
    if not graph:
        return None, set()
    followed = {d for downs in graph.values() for d in downs}
    heads = set(graph) - followed
    if len(heads) != 1 or not followed <= set(graph):
        return None, set(graph)
    return heads.pop(), set(graph)


def head_revision() -> str:
    head, _ = _scanned_head()
    if head is not None:
        return head
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every revision this version of Parcours knows: a database at another one comes from a newer Parcours."""
    head, revisions = _scanned_head()
    if head is not None:
        return revisions
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision stored in the database's `alembic_version`; None for a database Alembic never touched."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:  # a branched history: ours is linear, so Alembic is left to say what it is
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    return versions[0] if versions else None


def migrate(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision; refuse a database from a newer Parcours."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return head  # the everyday start: nothing to upgrade, Alembic stays unimported
    if current is not None and current not in known_revisions():
        raise SchemaTooNew(
            f"Cette base de données a été créée par une version plus récente de Parcours (schéma « {current} »). "
            "Mettez Parcours à jour avant de l'ouvrir."
        )
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return head


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
    if header != SQLITE_HEADER and Path(f"{path}{KEY_FILE_SUFFIX}").is_file():
        return  # an encrypted laptop copy: its key (services.local_crypto.unlock) is what tells whether it opens
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
