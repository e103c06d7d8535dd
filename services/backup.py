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
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import platformdirs
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from models.db import MIGRATIONS_DIR
from services.errors import DomainError

APP_NAME = "Parcours"
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 12, 10, 9
# Also the last few whatever their dates: a copy made this morning before a risky import must survive the one
# made after it this afternoon, although "daily" keeps only the newest of a day.
KEEP_LAST = 3
# Tables every Parcours database has had since the first revision: how we recognise one.
PARCOURS_TABLES = frozenset({"alembic_version", "programme", "app_user", "family", "home_session", "convention"})
_BACKUP_NAME = re.compile(r"parcours-(\d{8}-\d{6})(?:-(\d{1,3}))?\.sqlite")
_NETWORK_FS = ("nfs", "cifs", "smb", "sshfs", "fuse.sshfs")  # nfs4, smb3, smbfs… start with one of these
MOUNTS_FILE = Path("/proc/mounts")  # Linux's table of mounted file systems


class StorageError(DomainError):
    """The database file cannot be used, backed up or restored safely; `message` says why, in French."""


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[str, ...]
    revision: str | None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class BackupReport:
    path: Path
    removed: tuple[Path, ...]


@dataclass(frozen=True)
class RestoreReport:
    safety_copy: Path | None
    revision: str


def default_backups_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "backups"


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

def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def inspect_database(path: str | os.PathLike) -> CheckReport:
    """Integrity, foreign keys and schema revision of a SQLite file, read only; problems in French."""
    path = Path(path)
    if not path.is_file():
        return CheckReport((f"Le fichier « {path} » n'existe pas.",), None)
    try:
        with open(path, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                return CheckReport(("Ce fichier n'est pas une base de données SQLite.",), None)
        with closing(_read_only(path)) as conn:
            rows = [row[0] for row in conn.execute("PRAGMA integrity_check(50)")]
            problems = [] if rows == ["ok"] else [f"Intégrité : {row}" for row in rows]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not PARCOURS_TABLES <= tables:
                return CheckReport((*problems, "Ce fichier n'est pas une base de données Parcours."), None)
            for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchmany(50):
                problems.append(f"Référence cassée : table {table}, ligne {rowid}, vers {parent}.")
            versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.DatabaseError as exc:
        return CheckReport((f"La base est illisible ou endommagée ({exc}).",), None)
    revision = versions[0] if len(versions) == 1 else None
    if revision is None:
        problems.append("La version du schéma est absente ou multiple.")
    elif revision not in known_revisions():
        problems.append(f"Cette base a été créée par une version plus récente de Parcours (schéma « {revision} »).")
    return CheckReport(tuple(problems), revision)


def check_database(db: str | os.PathLike) -> CheckReport:
    return inspect_database(_required_file(db))


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


def _copy(source: Path, target: Path) -> None:
    """A consistent snapshot of `source` into the new file `target` (mode 0600), as one self-contained file."""
    _private_file(target)
    try:
        with closing(_read_only(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # no -wal to carry around with the copy
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _fsync_dir(folder: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _free_name(folder: Path, stem: str) -> Path:
    for n in range(1000):
        candidate = folder / (f"{stem}.sqlite" if n == 0 else f"{stem}-{n}.sqlite")
        if not candidate.exists():
            return candidate
    raise StorageError(f"Trop de sauvegardes portent le nom « {stem} » dans {folder}.")


def backup_database(db: str | os.PathLike, to: str | os.PathLike | None = None, *,
                    backups_dir: Path | None = None, clock: Callable[[], datetime] = datetime.now) -> BackupReport:
    """Copy the database with SQLite's online backup API, check the copy, then thin the backup folder.

    `to` may be a folder (a dated file is written there, and that folder is thinned) or a file name (written
    as is, nothing thinned). Without `to`, the folder is `backups_dir` or the user's data folder."""
    source = _required_file(db)
    if not source.is_file():
        raise StorageError(f"La base « {source} » n'existe pas : rien à sauvegarder.")
    folder, target = None, None
    if to is None or Path(to).is_dir() or os.fspath(to).endswith(("/", os.sep)):
        folder = Path(to) if to is not None else (backups_dir or default_backups_dir())
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = _free_name(folder, f"parcours-{clock():%Y%m%d-%H%M%S}")
    else:
        target = Path(to)
        if target.exists():
            raise StorageError(f"« {target} » existe déjà : choisissez un autre nom ou un dossier.")
        if not target.parent.is_dir():
            raise StorageError(f"Le dossier « {target.parent} » n'existe pas.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"Sauvegarde impossible, la base est illisible ({exc}). Lancez « check ».") from None
    except OSError as exc:
        raise StorageError(f"Sauvegarde impossible dans « {target.parent} » : {exc.strerror}.") from None
    problems = inspect_database(partial).problems
    if problems:
        partial.unlink(missing_ok=True)
        raise StorageError("La copie ne passe pas la vérification d'intégrité ; aucune sauvegarde n'a été gardée.\n"
                           + "\n".join(problems))
    os.replace(partial, target)
    _fsync_dir(target.parent)
    removed = thin_backups(folder) if folder is not None else ()
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


def _stamp(name: str) -> datetime | None:
    match = _BACKUP_NAME.fullmatch(name)
    if not match:
        return None
    # Same-second copies (-1, -2…) sort after the first one.
    return datetime.strptime(match[1], "%Y%m%d-%H%M%S") + timedelta(microseconds=int(match[2] or 0))


def thin_backups(folder: Path) -> list[Path]:
    """Delete the dated backups of `folder` that the last 3 / 12 daily / 10 weekly / 9 monthly rule does not keep.
    Other files (copies kept before a restore, anything else) are never touched."""
    dated = {path: stamp for path in folder.iterdir() if (stamp := _stamp(path.name)) is not None}
    keep = backups_to_keep(dated.values())
    removed = sorted(path for path, stamp in dated.items() if stamp not in keep)
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


# -- restore --------------------------------------------------------------------------------------------

def restore_database(db: str | os.PathLike, candidate: str | os.PathLike, *, backups_dir: Path | None = None,
                     clock: Callable[[], datetime] = datetime.now) -> RestoreReport:
    """Replace the database by the copy `candidate`, after checking that it is an intact Parcours database
    that this version can open; the current database is first copied into the backups folder."""
    target = _required_file(db)
    check_local_filesystem(target)
    candidate = Path(candidate)
    if target.exists() and candidate.exists() and candidate.resolve() == target.resolve():
        raise StorageError("Le fichier à restaurer est la base actuelle elle-même.")
    refused = "Restauration refusée ; la base actuelle n'a pas été modifiée."
    report = inspect_database(candidate)
    if not report.ok:
        raise StorageError("\n".join((refused, *report.problems)))
    # Stage a private, verified copy beside the database: checked again, since the candidate could change.
    staged = target.with_name(f".{target.name}.restore-{os.getpid()}")
    staged.unlink(missing_ok=True)
    try:
        try:
            _copy(candidate, staged)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StorageError(f"{refused}\nCopie impossible : {exc}.") from None
        report = inspect_database(staged)
        if not report.ok:
            raise StorageError("\n".join((refused, *report.problems)))
        safety = _safety_copy(target, backups_dir or default_backups_dir(), clock) if target.exists() else None
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


def _safety_copy(current: Path, folder: Path, clock: Callable[[], datetime]) -> Path:
    """Keep the current database before overwriting it, even if SQLite can no longer read it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = _free_name(folder, f"parcours-avant-restauration-{clock():%Y%m%d-%H%M%S}")
    try:
        _copy(current, target)
    except sqlite3.DatabaseError:  # unreadable: keep its bytes as they are, with its -wal
        for suffix in ("", "-wal"):
            if Path(f"{current}{suffix}").exists():
                _private_file(Path(f"{target}{suffix}"))
                shutil.copyfile(f"{current}{suffix}", f"{target}{suffix}")
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
            raise StorageError(f"Restauration impossible : {exc}. Fermez Parcours sur cet ordinateur et "
                               "réessayez ; la base actuelle n'a pas été modifiée.") from None
        return
    for suffix in ("-wal", "-shm"):  # they belong to the unreadable file, which is already kept aside
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)
    _fsync_dir(target.parent)
