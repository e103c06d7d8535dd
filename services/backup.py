"""Safety of the database file: integrity check, online backups with thinning, verified restore, and the
refusal of network shares.

Everything works on the SQLite file itself through Python's `sqlite3` (the online backup API), never by
copying bytes of a live database: a copy made while Parcours writes would mix two states, and the `-wal` file
would be left behind.

Restore writes the verified copy INTO the current database with the same backup API (as the `sqlite3` shell's
`.restore` does) rather than renaming a file over it: SQLite then replaces every page in one transaction, under
its own locks, with the `-wal`/`-shm` files kept consistent, and a crash half-way leaves the old database whole.
Renaming over a WAL database could pair the new file with the old `-wal`/`-shm` and corrupt it. Only when the
current file is not a database at all (nothing to lose, nothing SQLite could write into) is it swapped by an
atomic rename, after its stale `-wal`/`-shm` are set aside.

Where backups go (backups_folder): each database keeps its own, so that `--db` really keeps its data apart.
A SQLite file `…/NAME.sqlite` has them beside it, in `…/NAME-sauvegardes/`. Beside rather than in the user's
data folder because they then follow the choice the operator made for the database (its disk, its permissions,
its folder when it is moved or archived), two databases in two folders can never mix, and that folder is
writable anyway (SQLite creates its `-wal` there). A database that is not a file (a PostgreSQL URL…) has a folder
in the data folder keyed by a hash of its URL without the password (changing the password keeps the folder, and
no secret can be read back from a folder name).

Every name also carries the database's identity, `NAME-<hash of its absolute path or URL>-`: thinning considers
only the files of that database, so that even in a folder shared through `backup --to` it never removes another
database's copies, nor anything else it did not write. The price: a database moved elsewhere no longer
recognises its older copies, which are then kept, never thinned. The backups of the versions before this one,
all in one shared `backups` folder of the data folder, cannot be attributed: they are left where they are, never
thinned, and `list_backups` shows them apart.
"""
from __future__ import annotations

import errno
import hashlib
import os
import platform
import re
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from sqlalchemy.engine import make_url

from models.db import KEY_FILE_SUFFIX, PARCOURS_TABLES, known_revisions  # how we recognise a Parcours database
from services.errors import DomainError
from services.file_faults import os_reason

if TYPE_CHECKING:
    from services.integrity import IntegrityReport

APP_NAME = "Parcours"
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 12, 10, 9
# Also the last few whatever their dates: a copy made this morning before a risky import must survive the one
# made after it this afternoon, although "daily" keeps only the newest of a day.
KEEP_LAST = 3
_STAMP = r"(\d{8}-\d{6})(?:-(\d{1,3}))?\.sqlite"
_LEGACY_NAME = re.compile(rf"parcours-(?:avant-restauration-)?{_STAMP}")  # the shared folder of older versions
FOLDER_SUFFIX = "-sauvegardes"
# SQLite's primary result codes that mean the copy could not be written (the target's fault, not the source's).
_WRITE_CODES = frozenset(getattr(sqlite3, name) for name in (
    "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"))
_NETWORK_FS = ("nfs", "cifs", "smb", "sshfs", "fuse.sshfs")  # nfs4, smb3, smbfs… start with one of these
MOUNTS_FILE = Path("/proc/mounts")  # Linux's table of mounted file systems


class StorageError(DomainError):
    """The database file cannot be used, backed up or restored safely; `message` says why, in French."""


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[str, ...]
    revision: str | None
    integrity: "IntegrityReport | None" = None  # what check_database verified of the chains, when it could

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class BackupReport:
    path: Path
    removed: tuple[Path, ...]


@dataclass(frozen=True)
class BackupList:
    folder: Path
    own: tuple[Path, ...]  # by name: the dated copies oldest first, then the copies kept before a restore
    unattributed: tuple[Path, ...]  # copies from the shared folder of older versions: whose, nobody knows


@dataclass(frozen=True)
class RestoreReport:
    safety_copy: Path | None
    revision: str


def legacy_backups_dir() -> Path:
    """The folder that every database shared before backups were kept apart: read, never written or thinned."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "backups"


def _identity(db: str | os.PathLike) -> tuple[str, str]:
    """A readable name and a short hash that tell this database apart from any other on this machine."""
    path = sqlite_file(db)
    if path is not None:
        name, key = path.stem, os.path.normcase(os.path.realpath(path))
    else:
        url = make_url(os.fspath(db))
        name = Path(url.database or "").stem or url.get_backend_name()
        key = url._replace(password=None).render_as_string(hide_password=False)  # a new password: same base
    name = re.sub(r"[^\w.-]+", "_", name).strip("._") or "base"
    return name, hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def backup_prefix(db: str | os.PathLike) -> str:
    """The start of every backup file name of this database: `NAME-<hash>-`."""
    name, key = _identity(db)
    return f"{name}-{key}-"


def backups_folder(db: str | os.PathLike) -> Path:
    """Where the backups of `db` go by default: `NAME-sauvegardes/` beside a SQLite file, otherwise a folder of
    the data folder keyed by the URL (see the module's docstring for why)."""
    path = sqlite_file(db)
    if path is not None:
        return path.absolute().with_name(path.stem + FOLDER_SUFFIX)
    return Path(platformdirs.user_data_dir(APP_NAME)) / "sauvegardes" / backup_prefix(db).rstrip("-")


def sqlite_file(db: str | os.PathLike) -> Path | None:
    """The file behind a path or a SQLAlchemy URL; None for another database or an in-memory one."""
    text = os.fspath(db)
    if "://" not in text:
        return Path(text).expanduser()
    url = make_url(text)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


# -- network shares ---------------------------------------------------------------------------------------

def check_local_filesystem(db: str | os.PathLike, *, mounts: str | None = None, system: str | None = None) -> None:
    """Refuse a database on a network share, where SQLite's locks (and the shared memory of WAL mode) are
    unreliable: two writers, or a reader and a writer, could corrupt the file or lose acknowledged sessions.
    `mounts` (the text of /proc/mounts) and `system` let tests describe another machine."""
    path = sqlite_file(db)
    if path is None:
        return
    system = system or platform.system()
    if system == "Windows":
        text = os.fspath(path)
        if text.startswith(("\\\\", "//")):
            raise StorageError(_network_message(text, "chemin réseau UNC"))
        if platform.system() == "Windows" and _windows_drive_is_remote(path):
            raise StorageError(_network_message(text, "lecteur réseau"))
        return
    if mounts is None:
        try:
            mounts = MOUNTS_FILE.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return  # not Linux (macOS has no such table): nothing reliable to read
    fstype = _filesystem_type(os.path.realpath(path), mounts)
    if fstype and fstype.startswith(_NETWORK_FS):
        raise StorageError(_network_message(os.fspath(path), fstype))


def _network_message(where: str, kind: str) -> str:
    return (f"La base de données « {where} » est sur un partage réseau ({kind}). Parcours refuse de l'ouvrir : "
            "SQLite ne peut pas y verrouiller le fichier de façon sûre (mode WAL), et la base pourrait être "
            "endommagée ou perdre des séances enregistrées. Fermez Parcours, copiez le fichier sur un disque de "
            "cet ordinateur, puis ouvrez cette copie (option --db).")


def _filesystem_type(path: str, mounts: str) -> str | None:
    """The type of the mount that holds `path`: the longest mount point that contains it."""
    best, best_type = "", None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, fields[2]
    return best_type


def _windows_drive_is_remote(path: Path) -> bool:
    import ctypes  # Windows only

    drive = os.path.splitdrive(os.path.abspath(path))[0]
    return bool(drive) and ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == 4  # DRIVE_REMOTE


# -- inspection -----------------------------------------------------------------------------------------

def _read_only(path: Path, key: bytes | None = None) -> sqlite3.Connection:
    if key is not None:  # an encrypted laptop copy (services.local_crypto): SQLCipher's driver, the key first
        from services.local_crypto import connect

        return connect(path, key, read_only=True)
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _database_errors() -> tuple[type[Exception], ...]:
    """sqlite3's DatabaseError, and SQLCipher's once an encrypted copy was opened (its driver is imported only
    then, so before that none of its errors can be raised)."""
    cipher = sys.modules.get("sqlcipher3.dbapi2")
    return (sqlite3.DatabaseError,) if cipher is None else (sqlite3.DatabaseError, cipher.DatabaseError)


def _needs_key(path: Path) -> str:
    return (f"« {path} » est la copie chiffrée d'un poste connecté au serveur du programme : elle ne s'ouvre "
            "qu'avec le mot de passe du compte de ce poste.")


def inspect_database(path: str | os.PathLike, *, key: bytes | None = None) -> CheckReport:
    """Integrity, foreign keys and schema revision of a SQLite file, read only; problems in French. `key`: the
    data key of an encrypted laptop copy, whose bytes have no SQLite header."""
    path = Path(path)
    if not path.is_file():
        return CheckReport((f"Le fichier « {path} » n'existe pas.",), None)
    if key is None and Path(f"{path}{KEY_FILE_SUFFIX}").exists():
        return CheckReport((_needs_key(path),), None)
    try:
        with open(path, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00" and key is None:
                return CheckReport(("Ce fichier n'est pas une base de données SQLite.",), None)
        with closing(_read_only(path, key)) as conn:
            rows = [row[0] for row in conn.execute("PRAGMA integrity_check(50)")]
            problems = [] if rows == ["ok"] else [f"Intégrité : {row}" for row in rows]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not PARCOURS_TABLES <= tables:
                return CheckReport((*problems, "Ce fichier n'est pas une base de données Parcours."), None)
            for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchmany(50):
                problems.append(f"Référence cassée : table {table}, ligne {rowid}, vers {parent}.")
            versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
    except _database_errors() as exc:
        return CheckReport((unreadable(exc, path),), None)
    revision = versions[0] if len(versions) == 1 else None
    if revision is None:
        problems.append("La version du schéma est absente ou multiple.")
    elif revision not in known_revisions():
        problems.append(f"Cette base a été créée par une version plus récente de Parcours (schéma « {revision} »).")
    return CheckReport(tuple(problems), revision)


def unreadable(exc: BaseException, path: Path) -> str:
    """Why SQLite could not read the file, in French: a full or read-only disk is not a damaged database."""
    from services import store_faults

    named = store_faults.describe_store_fault(exc, path)
    where = f"le disque qui contient « {path} »"
    if named == store_faults.READ_ONLY:
        return (f"La base n'a pas pu être lue : {where} est en lecture seule (SQLite doit pouvoir y créer le fichier "
                f"« {path.name}-shm »). Elle n'est pas endommagée pour autant : rendez ce dossier modifiable, ou "
                "copiez la base sur un disque modifiable, puis recommencez.")
    if named == store_faults.FULL:
        return (f"La base n'a pas pu être lue : {where} est plein. Elle n'est pas endommagée pour autant : libérez "
                "de la place sur ce disque, puis recommencez.")
    if named == store_faults.BUSY:
        return "La base n'a pas pu être lue : elle est occupée par une autre opération. Réessayez dans un instant."
    if named in (store_faults.IO_ERROR, store_faults.CANNOT_OPEN):
        return f"La base n'a pas pu être lue : {named[0].lower()}{named[1:]}"
    return ("La base est illisible ou endommagée : SQLite ne peut pas la lire. Restaurez la dernière sauvegarde "
            "(commande « parcours restore »).")


def check_database(db: str | os.PathLike, *, key: bytes | None = None) -> CheckReport:
    """inspect_database, then, on a sound file whose schema has the chains (0005 on), services.integrity: the
    chains of issued statements and of the audit log, the PDFs and the payloads — read only, like the rest.
    A PostgreSQL URL: services.pg_backup.check_postgres. `key`: an encrypted laptop copy's (inspect_database)."""
    if _postgres(db):
        from services.pg_backup import check_postgres

        return check_postgres(db)
    path = _required_file(db)
    report = inspect_database(path, key=key)
    if not report.ok:
        return report
    from sqlalchemy import create_engine

    from services import integrity

    engine = create_engine("sqlite://", creator=lambda: _read_only(path, key))
    try:
        with engine.connect() as conn:
            columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(audit_log)")}
            if "entry_hash" not in columns:  # an older schema, chained when Parcours next opens it
                return report
            found = integrity.verify(conn)
    except Exception as exc:  # noqa: BLE001 — a row the check cannot even read is itself a finding
        return CheckReport((f"Les états émis ou le journal d'audit sont illisibles ({type(exc).__name__}) : "
                            "la base a été modifiée hors de Parcours ou endommagée.",), report.revision)
    finally:
        engine.dispose()
    return CheckReport(found.problems, report.revision, found)


def _postgres(db: str | os.PathLike) -> bool:
    """A PostgreSQL URL: check, backup, restore and the listing are services.pg_backup's (pg_dump, pg_restore),
    imported only then (remove_leftovers runs at every start of the window)."""
    text = os.fspath(db)
    if "://" not in text:
        return False
    try:
        return make_url(text).get_backend_name() == "postgresql"
    except Exception:  # not a URL SQLAlchemy reads: not PostgreSQL's
        return False


def _required_file(db: str | os.PathLike) -> Path:
    path = sqlite_file(db)
    if path is None:
        raise StorageError("Cette commande ne concerne qu'une base SQLite (un fichier).")
    return path


# -- backup ---------------------------------------------------------------------------------------------

def _private_file(path: Path) -> None:
    """Create `path` empty, readable by its owner only, before anything is written in it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(path, 0o600)  # whatever the umask


_FULL = "le disque est plein"


class _WriteFailed(Exception):
    """The copy could not be written (the target's folder or disk), as opposed to the source being unreadable."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _write_reason(exc: BaseException) -> str:
    """Why writing failed, in French words a user can act on."""
    if isinstance(exc, (sqlite3.Error, *_database_errors())):  # SQLCipher's carry the same codes
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if code == sqlite3.SQLITE_FULL:
            return _FULL
        if code == sqlite3.SQLITE_IOERR:
            return "l'écriture a échoué (disque plein, trop petit ou défectueux ?)"
        return "impossible d'y écrire (droits insuffisants ou disque en lecture seule)"
    number = getattr(exc, "errno", None)
    if number in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return _FULL
    if number in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "impossible d'y écrire (droits insuffisants ou disque en lecture seule)"
    if number in (errno.EEXIST, errno.ENOTDIR):
        return "un fichier porte déjà ce nom, ce n'est pas un dossier"
    return f"erreur d'écriture ({os_reason(exc) if isinstance(exc, OSError) else 'cause inconnue, voir le journal'})"


def _copy(source: Path, target: Path, key: bytes | None = None) -> None:
    """A consistent snapshot of `source` into the new file `target` (mode 0600), as one self-contained file.
    A failure to write raises _WriteFailed; a source SQLite cannot read raises sqlite3.DatabaseError. `key`: an
    encrypted copy's, the snapshot encrypted with the same key (SQLCipher's backup copies pages as they are)."""
    try:
        _private_file(target)
    except OSError as exc:
        raise _WriteFailed(_write_reason(exc)) from None
    try:
        # The source is opened and read first, so that what fails afterwards is the writing of the copy.
        with closing(_read_only(source, key)) as src:
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            try:
                with closing(sqlite3.connect(target) if key is None else _keyed(target, key)) as dst:
                    src.backup(dst)
                    dst.execute("PRAGMA journal_mode=DELETE")  # no -wal to carry around with the copy
            except _database_errors() as exc:
                if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF not in _WRITE_CODES:
                    raise
                raise _WriteFailed(_write_reason(exc)) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _keyed(target: Path, key: bytes):
    from services.local_crypto import connect

    return connect(target, key)


def _fsync_dir(folder: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _writable_folder(folder: Path) -> None:
    """Create the backups folder (owner only) or say in French why it cannot be."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(_cannot_write(folder, _write_reason(exc))) from None


def _cannot_write(folder: Path, reason: str, what: str = "Sauvegarde impossible") -> str:
    if reason == _FULL:  # whose disk: this folder's, which need not be the database's
        return (f"{what} dans le dossier « {folder} » : le disque de ce dossier est plein. Libérez-y de la place ou "
                "choisissez un autre dossier ; rien n'a été écrit.")
    return (f"{what} dans le dossier « {folder} » : {reason}. Libérez de la place ou corrigez les droits de ce "
            "dossier ; rien n'a été écrit.")


def _free_name(folder: Path, stem: str, suffix: str = ".sqlite") -> Path:
    for n in range(1000):
        candidate = folder / (f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}")
        if not candidate.exists():
            return candidate
    raise StorageError(f"Trop de sauvegardes portent le nom « {stem} » dans {folder}.")


def backup_destination(db: str | os.PathLike, to: str | os.PathLike | None, backups_dir: Path | None,
                       clock: Callable[[], datetime], suffix: str = ".sqlite") -> tuple[Path | None, Path]:
    """(the folder to thin or None, the file to write) for a backup of `db`: see backup_database."""
    if to is None or Path(to).is_dir() or os.fspath(to).endswith(("/", os.sep)):
        folder = Path(to) if to is not None else (backups_dir or backups_folder(db))
        _writable_folder(folder)
        return folder, _free_name(folder, f"{backup_prefix(db)}{clock():%Y%m%d-%H%M%S}", suffix)
    target = Path(to)
    if target.exists():
        raise StorageError(f"« {target} » existe déjà : choisissez un autre nom ou un dossier.")
    if not target.parent.is_dir():
        raise StorageError(f"Le dossier « {target.parent} » n'existe pas.")
    return None, target


def backup_database(db: str | os.PathLike, to: str | os.PathLike | None = None, *,
                    backups_dir: Path | None = None, clock: Callable[[], datetime] = datetime.now,
                    key: bytes | None = None) -> BackupReport:
    """Copy the database with SQLite's online backup API, check the copy, then thin this database's backups.

    `to` may be a folder (a dated file is written there, and this database's copies in it are thinned) or a
    file name (written as is, nothing thinned). Without `to`, the folder is `backups_dir` or, by default, the
    database's own (backups_folder). A PostgreSQL URL: services.pg_backup.backup_postgres (pg_dump). `key`: an
    encrypted laptop copy's; the backup is encrypted with the same key (the copy's key file unlocks it)."""
    if _postgres(db):
        from services.pg_backup import backup_postgres

        return backup_postgres(db, to, backups_dir=backups_dir, clock=clock)
    source = _required_file(db)
    if not source.is_file():
        raise StorageError(f"La base « {source} » n'existe pas : rien à sauvegarder.")
    if key is None and Path(f"{source}{KEY_FILE_SUFFIX}").exists():
        raise StorageError(f"Sauvegarde impossible ; rien n'a été écrit. {_needs_key(source)}")
    folder, target = backup_destination(db, to, backups_dir, clock)
    # The PID in the name: remove_leftovers can tell a killed copy's file from one another process is writing.
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial) if key is None else _copy(source, partial, key)  # a plain file's call as before
    except _WriteFailed as exc:
        raise StorageError(_cannot_write(target.parent, exc.reason)) from None
    except _database_errors() as exc:
        # Reading a WAL database also writes its -shm beside it: a full or read-only disk there, not damage. That
        # disk is the database's, which need not be the one of the backups.
        raise StorageError(f"Sauvegarde impossible ; rien n'a été écrit. {unreadable(exc, source)}") from None
    problems = inspect_database(partial, key=key).problems
    if problems:
        partial.unlink(missing_ok=True)
        raise StorageError("La copie ne passe pas la vérification d'intégrité ; aucune sauvegarde n'a été gardée.\n"
                           + "\n".join(problems))
    os.replace(partial, target)
    _fsync_dir(target.parent)
    removed = thin_backups(folder, db) if folder is not None else ()
    return BackupReport(target, tuple(removed))


def backups_to_keep(stamps: Iterable[datetime], daily: int = KEEP_DAILY, weekly: int = KEEP_WEEKLY,
                    monthly: int = KEEP_MONTHLY, last: int = KEEP_LAST) -> set[datetime]:
    """The `last` newest backups, and the newest backup of each of the last `daily` days, `weekly` ISO weeks
    and `monthly` months that have one (days, weeks and months without a backup do not count)."""
    ordered = sorted(set(stamps), reverse=True)
    keep: set[datetime] = set(ordered[:last])
    periods: tuple[tuple[int, Callable[[datetime], object]], ...] = (
        (daily, lambda t: t.date()), (weekly, lambda t: t.isocalendar()[:2]), (monthly, lambda t: (t.year, t.month)))
    for count, period_of in periods:
        seen: set[object] = set()
        for stamp in ordered:
            period = period_of(stamp)
            if period in seen:
                continue
            if len(seen) == count:
                break
            seen.add(period)
            keep.add(stamp)
    return keep


def _dated_name(db: str | os.PathLike) -> re.Pattern:
    """The names backup_database gives this database's dated copies, and no other database's."""
    return re.compile(re.escape(backup_prefix(db)) + _STAMP)


def _stamp(name: str, pattern: re.Pattern) -> datetime | None:
    match = pattern.fullmatch(name)
    if not match:
        return None
    # Same-second copies (-1, -2…) sort after the first one.
    return datetime.strptime(match[1], "%Y%m%d-%H%M%S") + timedelta(microseconds=int(match[2] or 0))


def thin_backups(folder: Path, db: str | os.PathLike, *, pattern: re.Pattern | None = None) -> list[Path]:
    """Delete the dated backups of `db` in `folder` that the last 3 / 12 daily / 10 weekly / 9 monthly rule does
    not keep. Only files named as backup_database names this database's copies are considered: another
    database's copies, copies kept before a restore, older versions' copies and anything else are never touched.
    `pattern`: the names of the dated copies when they are not SQLite files (services.pg_backup's `.dump`)."""
    pattern = pattern or _dated_name(db)
    dated = {path: stamp for path in folder.iterdir()
             if (stamp := _stamp(path.name, pattern)) is not None and path.is_file()}
    keep = backups_to_keep(dated.values())
    removed = sorted(path for path, stamp in dated.items() if stamp not in keep)
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def list_backups(db: str | os.PathLike, *, backups_dir: Path | None = None) -> BackupList:
    """This database's copies in its folder (dated ones and those kept before a restore), and the copies of the
    shared folder of older versions, which may be this database's or another's."""
    if _postgres(db):
        from services.pg_backup import list_dumps

        return list_dumps(db, backups_dir=backups_dir)
    folder = backups_dir or backups_folder(db)
    prefix = backup_prefix(db)
    own = [p for p in _files(folder) if p.name.startswith(prefix) and p.suffix == ".sqlite"]
    legacy = [p for p in _files(legacy_backups_dir()) if _LEGACY_NAME.fullmatch(p.name)]
    return BackupList(folder, tuple(sorted(own)), tuple(sorted(legacy)))


def _files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_file()]
    except OSError:  # no such folder yet, or unreadable: nothing to list
        return []


# -- leftovers of a killed backup or restore ------------------------------------------------------------

# What a backup or a restore killed half-way leaves (copies of the database: personal data, possibly unreadable):
# the copy before it takes its name, `.<backup name>.<PID>.partial` in the backups folder (`.<name>.partial`
# before the PID was added), and the staged restore, `.<database name>.restore-<PID>` beside the database, each
# with the journal SQLite may have left with it.
_SIDE_FILES = r"(?:-journal|-wal|-shm)?"


def remove_leftovers(db: str | os.PathLike) -> tuple[Path, ...]:
    """Delete the leftovers of THIS database's killed backups and restores, whose process is no longer alive (a
    backup or restore running right now, from the window or another command, keeps its file). Another database's
    files, and the copies written with `backup --to` elsewhere, are never looked at. Never raises: a file that
    cannot be removed is left for the next start."""
    if _postgres(db):
        from services.pg_backup import remove_dump_leftovers

        return remove_dump_leftovers(db)
    path = sqlite_file(db)
    if path is None:
        return ()
    restores = re.compile(re.escape(f".{path.name}.restore-") + r"(\d+)" + _SIDE_FILES)
    partials = re.compile(r"\." + re.escape(backup_prefix(db)) + _STAMP + r"(?:\.(\d+))?\.partial" + _SIDE_FILES)
    candidates = [(p, restores.fullmatch(p.name), 1) for p in _files(path.absolute().parent)]
    candidates += [(p, partials.fullmatch(p.name), 3) for p in _files(backups_folder(db))]
    removed = []
    for leftover, match, pid_group in candidates:
        if match is None or (match[pid_group] and _process_alive(int(match[pid_group]))):
            continue
        try:
            leftover.unlink()
        except OSError:
            continue
        removed.append(leftover)
    return tuple(removed)


def _process_alive(pid: int) -> bool:
    """Whether process `pid` is running (a process of another user counts as running)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # ERROR_ACCESS_DENIED: it exists
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


# -- restore --------------------------------------------------------------------------------------------

def restore_database(db: str | os.PathLike, candidate: str | os.PathLike, *, backups_dir: Path | None = None,
                     clock: Callable[[], datetime] = datetime.now) -> RestoreReport:
    """Replace the database by the copy `candidate`, after checking that it is an intact Parcours database
    that this version can open; the current database is first copied into its backups folder. A PostgreSQL URL:
    services.pg_backup.restore_postgres (a pg_dump file, into an empty database only)."""
    if _postgres(db):
        from services.pg_backup import restore_postgres

        return restore_postgres(db, candidate)
    target = _required_file(db)
    check_local_filesystem(target)
    if Path(f"{target}{KEY_FILE_SUFFIX}").exists():
        # A connected laptop's copy (services.local_crypto): an older state would rewind its sync (cursor, outbox);
        # the server keeps the data of record.
        raise StorageError("Restauration refusée ; la base actuelle n'a pas été modifiée.\nCette base est la "
                           "copie d'un ordinateur connecté au serveur du programme : elle ne se restaure pas depuis "
                           "une sauvegarde. Synchronisez-la, ou reconnectez cet ordinateur au serveur pour retrouver "
                           "les données du serveur.")
    candidate = Path(candidate)
    if target.exists() and candidate.exists() and candidate.resolve() == target.resolve():
        raise StorageError("Le fichier à restaurer est la base actuelle elle-même.")
    refused = "Restauration refusée ; la base actuelle n'a pas été modifiée."
    report = inspect_database(candidate)
    if not report.ok:
        from services.pg_backup import dump_of_postgres

        if dump_of_postgres(candidate):  # a server's backup given to a desk's file
            raise StorageError(f"{refused}\n« {candidate} » est une sauvegarde d'une base PostgreSQL (pg_dump) : elle "
                               "se restaure dans une base PostgreSQL vide (--db postgresql+psycopg://… restore …), pas "
                               "dans un fichier SQLite.")
        raise StorageError("\n".join((refused, *report.problems)))
    # Stage a private, verified copy beside the database: checked again, since the candidate could change.
    staged = target.with_name(f".{target.name}.restore-{os.getpid()}")
    staged.unlink(missing_ok=True)
    try:
        try:
            _copy(candidate, staged)
        except _WriteFailed as exc:
            raise StorageError(f"{refused}\n" + _cannot_write(staged.parent, exc.reason, "Copie impossible")) from None
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{refused}\n{unreadable(exc, candidate)}") from None
        except OSError as exc:
            raise StorageError(f"{refused}\nCopie impossible : {_write_reason(exc)}.") from None
        report = inspect_database(staged)
        if not report.ok:
            raise StorageError("\n".join((refused, *report.problems)))
        if target.exists():
            safety = _safety_copy(target, backups_dir or backups_folder(db), backup_prefix(db), clock)
        else:
            safety = None
        _replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{target}{suffix}").exists():
            os.chmod(f"{target}{suffix}", 0o600)
    after = inspect_database(target)
    if not after.ok:  # should not happen; say where the previous database is
        raise StorageError("\n".join(("La base restaurée ne passe pas la vérification.", *after.problems,
                                      f"L'ancienne base est conservée dans « {safety} ».")))
    return RestoreReport(safety, after.revision)


def _safety_copy(current: Path, folder: Path, prefix: str, clock: Callable[[], datetime]) -> Path:
    """Keep the current database before overwriting it, even if SQLite can no longer read it. Its name is not a
    dated backup's: thinning never removes it."""
    _writable_folder(folder)
    target = _free_name(folder, f"{prefix}avant-restauration-{clock():%Y%m%d-%H%M%S}")
    try:
        try:
            _copy(current, target)
        except sqlite3.DatabaseError:  # unreadable: keep its bytes as they are, with its -wal
            for suffix in ("", "-wal"):
                if Path(f"{current}{suffix}").exists():
                    _private_file(Path(f"{target}{suffix}"))
                    shutil.copyfile(f"{current}{suffix}", f"{target}{suffix}")
    except (_WriteFailed, OSError) as exc:
        reason = exc.reason if isinstance(exc, _WriteFailed) else _write_reason(exc)
        raise StorageError("Restauration refusée ; la base actuelle n'a pas été modifiée.\n"
                           + _cannot_write(folder, reason, "Copie de la base actuelle impossible")) from None
    _fsync_dir(folder)
    return target


def _readable(path: Path) -> bool:
    try:
        with closing(_read_only(path)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlite3.DatabaseError:
        return False


def _replace(staged: Path, target: Path) -> None:
    if target.exists() and _readable(target):
        try:
            with closing(_read_only(staged)) as src, closing(sqlite3.connect(target, timeout=10)) as dst:
                src.backup(dst)
        except sqlite3.DatabaseError as exc:
            from services import store_faults

            reason = store_faults.describe_store_fault(exc, target) or "La base est en cours d'utilisation."
            raise StorageError(f"Restauration impossible. {reason} Fermez Parcours sur cet ordinateur et "
                               "réessayez ; la base actuelle n'a pas été modifiée.") from None
        return
    for suffix in ("-wal", "-shm"):  # they belong to the unreadable file, which is already kept aside
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)
    _fsync_dir(target.parent)
