"""Backup, restore and check of a PostgreSQL store (the team server), with the rules of the SQLite copies.

    backup_postgres(db, to=None, …) -> BackupReport    pg_dump --format=custom into a private file (0600) written
                                                       beside its final name then renamed; verified by pg_restore
                                                       (the table of contents lists every table the database had,
                                                       and every byte of data reads back); thinned as SQLite's
                                                       copies (the 3 newest, 12 daily, 10 weekly, 9 monthly)
    restore_postgres(db, dump) -> PostgresRestoreReport  into an EMPTY database only, the dump verified first (a
                                                       truncated or foreign file is refused before anything is
                                                       written), pg_restore --exit-on-error --no-owner in one
                                                       transaction, then the schema revision and the chains checked
    check_postgres(db) -> CheckReport                  the `check` verb: tables, schema revision, and the chains of
                                                       issued statements and of the audit log (services.integrity),
                                                       in a read-only transaction
    list_dumps, thin_dumps, remove_dump_leftovers      as services.backup's, for `.dump` files

services.backup dispatches here for a PostgreSQL URL, so the command line's `check`, `backup` and `restore` are the
same verbs on both stores. The dumps are named as SQLite's copies (`NAME-<hash of the URL without its password>-
AAAAMMJJ-HHMMSS.dump`) and go, by default, to the folder services.backup.backups_folder gives the URL.

The tools: `pg_dump` and `pg_restore` from the folder named by PARCOURS_PG_BIN when it is set (only there), else
from the PATH, else from the folders the packages install to (Debian's /usr/lib/postgresql/<version>/bin, newest
first). They get the connection as libpq keywords without the password, which goes through the PGPASSWORD
variable of their own environment: never on a command line (that other users of the machine can read) nor in the
log. A backup that cannot be made says why in French: tool missing, server unreachable, password refused, disk
full, pg_dump older than the server.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from models.db import PARCOURS_TABLES, known_revisions
from services import backup
from services.backup import BackupList, BackupReport, CheckReport, StorageError

if TYPE_CHECKING:
    from services.integrity import IntegrityReport

TOOLS_ENV = "PARCOURS_PG_BIN"
SUFFIX = ".dump"
_STAMP = r"(\d{8}-\d{6})(?:-(\d{1,3}))?\.dump"
# What a backup must hold whatever else the schema has: the tables that recognise a Parcours database, the
# issued statements and the audit log.
REQUIRED_TABLES = PARCOURS_TABLES | {"statement", "statement_line", "audit_log"}
LOCK_WAIT_MS = 60_000  # a migration holding a table: the backup gives up after a minute rather than hang
_NOTHING = "rien n'a été écrit."
_REFUSED = "Restauration refusée ; la base n'a pas été modifiée."
# pg_restore's table of contents: `215; 1259 16386 TABLE public statement parcours` (the owner may be absent).
_TOC_LINE = re.compile(r"^\d+;\s+\d+\s+\d+\s+(TABLE DATA|TABLE)\s+(\S+)\s+(\S+)")


@dataclass(frozen=True)
class PostgresRestoreReport:
    revision: str
    integrity: "IntegrityReport | None"
    safety_copy: None = None  # nothing to keep: a PostgreSQL restore only ever writes into an empty database


def is_postgres(db: str | os.PathLike) -> bool:
    return backup._postgres(db)


# -- the tools --------------------------------------------------------------------------------------------

def _version_key(path: str) -> tuple:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def tool_folders() -> list[Path]:
    """Where the packages install pg_dump when it is not on the PATH, newest version first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)  # Debian, Ubuntu
    found += sorted(glob.glob("/usr/pgsql-*/bin"), key=_version_key, reverse=True)  # RHEL (PGDG)
    found += sorted(glob.glob(r"C:\Program Files\PostgreSQL\*\bin"), key=_version_key, reverse=True)
    return [Path(folder) for folder in found]


def find_tool(name: str) -> str:
    """The path of pg_dump or pg_restore; StorageError in French when it cannot be found."""
    exe = name + (".exe" if os.name == "nt" else "")
    chosen = os.environ.get(TOOLS_ENV)
    if chosen:
        candidate = Path(chosen) / exe
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise StorageError(f"{name} est introuvable : installez le paquet postgresql-client (Debian : apt-get "
                           f"install postgresql-client), ou corrigez le dossier « {chosen} » donné par {TOOLS_ENV}, "
                           f"qui ne le contient pas ; {_NOTHING}")
    found = shutil.which(name)
    if found:
        return found
    for folder in tool_folders():
        if (folder / exe).is_file():
            return str(folder / exe)
    raise StorageError(f"{name} est introuvable : installez le paquet postgresql-client (Debian : apt-get install "
                       "postgresql-client), de la version du serveur ou plus récente, ou donnez le dossier qui "
                       f"contient {name} dans la variable {TOOLS_ENV} ; {_NOTHING}")


def _libpq(db: str | os.PathLike) -> tuple[str, dict[str, str]]:
    """(libpq connection string without the password, environment of the tool with PGPASSWORD)."""
    from psycopg.conninfo import make_conninfo

    url = make_url(os.fspath(db))
    params: dict[str, object] = {key: (value[-1] if isinstance(value, tuple) else value)
                                 for key, value in url.query.items()}  # sslmode, host=/run/postgresql…
    params.update({key: value for key, value in (("host", url.host), ("port", url.port), ("user", url.username),
                                                 ("dbname", url.database)) if value is not None})
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    env.setdefault("PGCONNECT_TIMEOUT", "15")
    return make_conninfo(**params), env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """A PostgreSQL tool, its output captured; never a prompt for a password (--no-password is in `args`)."""
    extra = {"umask": 0o077} if os.name == "posix" else {}
    return subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                          **extra)


def _tool_said(done: subprocess.CompletedProcess) -> str:
    """The last line pg_dump or pg_restore wrote, for the IT (it never holds the password)."""
    lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
    return lines[-1] if lines else f"code de sortie {done.returncode}"


def _version_mismatch(stderr: str) -> str | None:
    match = re.search(r"server version: ([\d.]+\w*); (pg_dump|pg_restore) version: ([\d.]+\w*)", stderr)
    if not match:
        return None
    server, tool, own = match.groups()
    major = server.split(".")[0]
    return (f"{tool} (version {own}) est plus ancien que le serveur PostgreSQL (version {server}) : installez le "
            f"paquet postgresql-client-{major} (ou donnez son dossier, /usr/lib/postgresql/{major}/bin, dans "
            f"{TOOLS_ENV}), puis recommencez ; {_NOTHING}")


# -- the database -----------------------------------------------------------------------------------------

def _engine(db: str | os.PathLike):
    from sqlalchemy import create_engine

    return create_engine(os.fspath(db), hide_parameters=True, pool_pre_ping=False,
                         connect_args={"connect_timeout": 15})


def _named(exc: BaseException, what: str) -> StorageError | None:
    from services.pg_faults import describe_pg_fault

    named = describe_pg_fault(exc)
    return StorageError(f"{what} {named}".replace("\n ", "\n")) if named else None


def _user_relations(conn) -> list[str]:
    """Tables, views, sequences… of the database outside PostgreSQL's own schemas."""
    return list(conn.exec_driver_sql(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND left(n.nspname, 8) <> 'pg_toast' AND left(n.nspname, 7) <> 'pg_temp' ORDER BY 1").scalars())


def _public_tables(conn) -> set[str]:
    return set(conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").scalars())


def check_postgres(db: str | os.PathLike) -> CheckReport:
    """What `check` says of a SQLite file, for a PostgreSQL database: its tables, its one known schema revision,
    then the chains (services.integrity) — in a read-only transaction."""
    from services import integrity

    engine = _engine(db)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            tables = _public_tables(conn)
            if not tables:
                return CheckReport(("La base PostgreSQL est vide : ce n'est pas (encore) une base Parcours.",), None)
            if not PARCOURS_TABLES <= tables:
                return CheckReport(("Cette base PostgreSQL n'est pas une base Parcours.",), None)
            versions = list(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
            revision = versions[0] if len(versions) == 1 else None
            if revision is None:
                return CheckReport(("La version du schéma est absente ou multiple.",), None)
            if revision not in known_revisions():
                return CheckReport((f"Cette base a été créée par une version plus récente de Parcours (schéma "
                                    f"« {revision} »).",), revision)
            columns = set(conn.exec_driver_sql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'audit_log'").scalars())
            if "entry_hash" not in columns:  # an older schema, chained when Parcours next opens it
                return CheckReport((), revision)
            try:
                found = integrity.verify(conn)
            except Exception as exc:  # noqa: BLE001 — a row the check cannot even read is itself a finding
                if _named(exc, "") is not None:
                    raise
                return CheckReport((f"Les états émis ou le journal d'audit sont illisibles ({type(exc).__name__}) : "
                                    "la base a été modifiée hors de Parcours ou endommagée.",), revision)
            return CheckReport(found.problems, revision, found)
    except StorageError:
        raise
    except Exception as exc:
        raise _named(exc, "Vérification impossible.") or exc from None
    finally:
        engine.dispose()


def _read(db: str | os.PathLike, read: Callable, refused: str):
    """read(connection) on the database; a connection that fails is said in French after `refused`."""
    engine = _engine(db)
    try:
        with engine.connect() as conn:
            return read(conn)
    except Exception as exc:
        raise _named(exc, refused) or exc from None
    finally:
        engine.dispose()


def public_tables(db: str | os.PathLike, refused: str = "") -> set[str]:
    """The tables of the database's schema (`public`); a connection that fails is said in French after `refused`."""
    return _read(db, _public_tables, refused)


def _tables_to_back_up(db: str | os.PathLike) -> set[str]:
    tables = public_tables(db, f"Sauvegarde impossible ; {_NOTHING}")
    if not tables:
        raise StorageError(f"La base PostgreSQL est vide : rien à sauvegarder ; {_NOTHING}")
    if not PARCOURS_TABLES <= tables:
        raise StorageError("Cette base PostgreSQL n'est pas une base Parcours : rien n'a été sauvegardé.")
    return tables


# -- the dump's verification --------------------------------------------------------------------------------

def dump_problems(path: Path, expected: set[str] = REQUIRED_TABLES) -> list[str]:
    """Why the file is not a whole, readable Parcours dump (French), or [] when it is: pg_restore reads its table of
    contents, which must list each expected table and its data, then reads every byte of data (a truncated or
    damaged file fails there, since the table of contents is written at its start)."""
    pg_restore = find_tool("pg_restore")
    env = dict(os.environ)
    listed = _run([pg_restore, "--list", str(path)], env)
    if listed.returncode != 0:
        return [f"« {path} » n'est pas une sauvegarde PostgreSQL lisible (format personnalisé de pg_dump) ou elle est "
                "endommagée."]
    tables, data = set(), set()
    for line in listed.stdout.splitlines():
        match = _TOC_LINE.match(line)
        if match:
            (data if match[1] == "TABLE DATA" else tables).add(match[3])
    missing = sorted(expected - tables) or sorted(expected - data)
    if missing:
        return [f"« {path} » n'est pas une sauvegarde complète de Parcours : il y manque la table ou les données de "
                f"{', '.join(missing)}."]
    read = _run([pg_restore, f"--file={os.devnull}", str(path)], env)
    if read.returncode != 0:
        return [f"« {path} » est tronquée ou endommagée : pg_restore ne peut pas en lire toutes les données."]
    return []


def dump_of_postgres(path: str | os.PathLike) -> bool:
    """Whether the file starts as pg_dump's custom format does (`PGDMP`); False when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(5) == b"PGDMP"
    except OSError:
        return False


def dump_revision(path: Path) -> str | None:
    """The schema revision stored in the dump (its alembic_version row), read without restoring anything."""
    done = _run([find_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
                dict(os.environ))
    lines = done.stdout.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            rows = []
            for row in lines[number + 1:]:
                if row == "\\.":
                    break
                rows.append(row.strip())
            return rows[0] if len(rows) == 1 else None
    return None


# -- backup -----------------------------------------------------------------------------------------------

def _disk_full(folder: Path, stderr: str) -> bool:
    if "no space left on device" in stderr.lower() or "disk quota exceeded" in stderr.lower():
        return True
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return stats.f_bavail * stats.f_frsize < (1 << 20)


def backup_postgres(db: str | os.PathLike, to: str | os.PathLike | None = None, *, backups_dir: Path | None = None,
                    clock: Callable[[], datetime] = datetime.now) -> BackupReport:
    """pg_dump the database into a verified, private file; `to` and the folder as backup.backup_database."""
    pg_dump = find_tool("pg_dump")
    find_tool("pg_restore")  # the verification needs it: said before anything is dumped
    expected = _tables_to_back_up(db)
    folder, target = backup.backup_destination(db, to, backups_dir, clock, SUFFIX)
    # The PID in the name: remove_dump_leftovers can tell a killed dump's file from one being written.
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    conninfo, env = _libpq(db)
    try:
        try:
            backup._private_file(partial)  # 0600 before pg_dump writes in it (it keeps an existing file's mode)
        except OSError as exc:
            raise StorageError(backup._cannot_write(target.parent, backup._write_reason(exc))) from None
        done = _run([pg_dump, "--format=custom", "--no-password", f"--lock-wait-timeout={LOCK_WAIT_MS}",
                     f"--file={partial}", f"--dbname={conninfo}"], env)
        if done.returncode != 0:
            raise _dump_failed(done, target.parent)
        problems = dump_problems(partial, expected)
        if problems:
            raise StorageError("La copie ne passe pas la vérification ; aucune sauvegarde n'a été gardée.\n"
                               + "\n".join(problems))
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    backup._fsync_dir(target.parent)
    removed = thin_dumps(folder, db) if folder is not None else []
    return BackupReport(target, tuple(removed))


def _dump_failed(done: subprocess.CompletedProcess, folder: Path) -> StorageError:
    from services.pg_faults import describe_pg_tool_error

    if _disk_full(folder, done.stderr):
        return StorageError(backup._cannot_write(folder, backup._FULL))
    if "permission denied" in done.stderr.lower() and "could not open output file" in done.stderr.lower():
        return StorageError(backup._cannot_write(folder, "impossible d'y écrire (droits insuffisants ou disque en "
                                                         "lecture seule)"))
    mismatch = _version_mismatch(done.stderr)
    if mismatch:
        return StorageError(mismatch)
    named = describe_pg_tool_error(done.stderr)
    if named:
        return StorageError(f"Sauvegarde impossible ; {_NOTHING} {named}")
    return StorageError(f"Sauvegarde impossible ; {_NOTHING} pg_dump a échoué (message de pg_dump : "
                        f"{_tool_said(done)}).")


def _dated_name(db: str | os.PathLike) -> re.Pattern:
    return re.compile(re.escape(backup.backup_prefix(db)) + _STAMP)


def thin_dumps(folder: Path, db: str | os.PathLike) -> list[Path]:
    """backup.thin_backups for this database's dated `.dump` files: nothing else in `folder` is touched."""
    return backup.thin_backups(folder, db, pattern=_dated_name(db))


def list_dumps(db: str | os.PathLike, *, backups_dir: Path | None = None) -> BackupList:
    folder = backups_dir or backup.backups_folder(db)
    prefix = backup.backup_prefix(db)
    own = [p for p in backup._files(folder) if p.name.startswith(prefix) and p.suffix == SUFFIX]
    return BackupList(folder, tuple(sorted(own)), ())


def remove_dump_leftovers(db: str | os.PathLike) -> tuple[Path, ...]:
    """The `.NAME.dump.<PID>.partial` files of this database's killed backups (their process gone), in its
    default folder. Never raises."""
    pattern = re.compile(r"\." + re.escape(backup.backup_prefix(db)) + _STAMP + r"\.(\d+)\.partial")
    removed = []
    for path in backup._files(backup.backups_folder(db)):
        match = pattern.fullmatch(path.name)
        if match is None or backup._process_alive(int(match[3])):
            continue
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return tuple(removed)


# -- restore ----------------------------------------------------------------------------------------------

def restore_postgres(db: str | os.PathLike, candidate: str | os.PathLike) -> PostgresRestoreReport:
    """Restore the dump `candidate` into the database `db`, which must be empty (created by the IT with
    `createdb`); the dump is verified first, restored in one transaction, then checked like `check`."""
    candidate = Path(candidate)
    if not candidate.is_file():
        raise StorageError(f"{_REFUSED}\nLe fichier « {candidate} » n'existe pas.")
    try:
        with open(candidate, "rb") as f:
            header = f.read(16)
    except OSError as exc:
        from services.file_faults import READ, describe_os_error

        raise StorageError(f"{_REFUSED}\n{describe_os_error(exc, candidate, READ)}") from None
    if header == b"SQLite format 3\x00":
        raise StorageError(f"{_REFUSED}\n« {candidate} » est une sauvegarde d'une base SQLite (un fichier) : elle se "
                           "restaure dans un fichier (--db CHEMIN.sqlite restore …), pas dans une base PostgreSQL.")
    pg_restore = find_tool("pg_restore")
    problems = dump_problems(candidate)
    if problems:
        raise StorageError("\n".join((_REFUSED, *problems)))
    revision = dump_revision(candidate)
    if revision is None:
        raise StorageError(f"{_REFUSED}\nLa version du schéma est absente de la sauvegarde « {candidate} ».")
    if revision not in known_revisions():
        raise StorageError(f"{_REFUSED}\nCette sauvegarde vient d'une version plus récente de Parcours (schéma "
                           f"« {revision} ») : mettez Parcours à jour avant de la restaurer.")
    _require_empty(db)
    conninfo, env = _libpq(db)
    done = _run([pg_restore, "--exit-on-error", "--no-owner", "--no-acl", "--single-transaction", "--no-password",
                 f"--dbname={conninfo}", str(candidate)], env)
    if done.returncode != 0:
        from services.pg_faults import describe_pg_tool_error

        named = describe_pg_tool_error(done.stderr)
        why = named or f"pg_restore a échoué (message de pg_restore : {_tool_said(done)})."
        raise StorageError(f"{_REFUSED} (la restauration se fait en une seule transaction)\n{why}")
    after = check_postgres(db)
    if not after.ok:
        raise StorageError("\n".join(("La base a été restaurée mais ne passe pas la vérification :", *after.problems,
                                      "Videz-la (dropdb puis createdb) avant de restaurer une autre sauvegarde.")))
    return PostgresRestoreReport(after.revision or revision, after.integrity)


def _require_empty(db: str | os.PathLike) -> None:
    relations = _read(db, _user_relations, f"{_REFUSED}\n")
    if relations:
        from services.store_faults import shown_database

        shown = ", ".join(relations[:5]) + (", …" if len(relations) > 5 else "")
        raise StorageError(f"{_REFUSED}\nLa base « {shown_database(db)} » n'est pas vide ({len(relations)} "
                           f"table(s) ou objet(s) : {shown}). Une sauvegarde se restaure dans une base vide : créez-en "
                           "une (par exemple « createdb -O parcours parcours_restauree »), restaurez-y la sauvegarde, "
                           "puis faites pointer le serveur sur elle.")
