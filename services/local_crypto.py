"""A connected laptop's copy encrypted at rest (SQLCipher 4), unlocked by its user's login.

A lost laptop must reveal nothing: the copy of the families it holds is a SQLCipher file whose 32-byte data key is
random, never derived from anything a person chooses. That key is kept beside the file, in `LAPTOP.sqlite.key`,
wrapped (AES-256-GCM) by a key derived with argon2id from the user's login password:

    {"format": "parcours-local-key/1", "kdf": "argon2id", "time_cost": 2, "memory_cost": 47104, "parallelism": 1,
     "salt": b64, "nonce": b64, "wrapped_key": b64}

so the login that opens the window also opens the copy, a password change rewraps the key without re-encrypting
the file, and erasing the key file makes the copy and its local backups (encrypted with the same key) unreadable
for good. The standalone mode (a plain SQLite file without a key file) never comes here.

    create_encrypted_copy(path, password) -> key   a new, empty encrypted file and its key file
    encrypt_plain_copy(path, password) -> key      a plain copy without families, encrypted in place
    prepare_connected_copy(path, password) -> key  what `connect` calls: one of the two above, or unlock
    unlock(path, password) -> key                  WrongPassword / CopyLocked (missing or damaged key file)
    rewrap(path, old, new)                         after a password change
    erase_copy(path)                               the file, its journals, its key file, its local backups
    is_encrypted(path)                             a copy this module made (its key file is there)
    key_for(db, password) -> key | None            for main.py: None for a plain file or a URL
    connect(path, key, read_only=False)            a raw SQLCipher connection, the key given first

models.db.make_engine(path, key=key) builds the engine on such a file.
"""
from __future__ import annotations

import base64
import binascii
import glob
import json
import os
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from models.db import KEY_FILE_SUFFIX, cipher_key_pragma
# The same owner-only file creation, durable rename, and backups' folder and names as the backups themselves.
from services.backup import _fsync_dir, _private_file, backup_prefix, backups_folder, sqlite_file
from services.errors import DomainError

FORMAT = "parcours-local-key/1"
KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12  # AES-GCM's standard nonce
# Those of services.users' password hashes: the key file is no easier to attack than the account's hash.
KDF_PARAMETERS = {"time_cost": 2, "memory_cost": 47104, "parallelism": 1}
# Bounds on what a key file may ask (the parameters are checked only after deriving): a tampered one must not make
# the login take minutes or gigabytes. 256 MiB, 10 passes, 8 lanes: well above KDF_PARAMETERS, for future raises.
_MAX_MEMORY_COST, _MAX_TIME_COST, _MAX_PARALLELISM = 1 << 18, 10, 8
_JOURNALS = ("-wal", "-shm", "-journal")

_LOCKED = ("La copie locale ne peut pas être déverrouillée : {why}. Les données de cet ordinateur sont "
           "inaccessibles ; reconnectez cet ordinateur au serveur du programme (« Se connecter au serveur du "
           "programme ») pour retrouver vos familles.")


class CopyLocked(DomainError):
    """The key file is missing or damaged: the copy can no longer be opened, only enrolled again."""


class WrongPassword(DomainError):
    """The password given does not unwrap the copy's key."""


class CopyExists(DomainError):
    """An encrypted copy is created only where there is nothing yet."""


class CannotEncrypt(DomainError):
    """A plain file that cannot become a connected copy: unreadable, or already holding families."""


class CopyHoldsFamilies(CannotEncrypt):
    """A plain copy that already holds families is not encrypted in place (their names stay on the disk)."""


def key_file(path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(path)}{KEY_FILE_SUFFIX}")


def is_encrypted(path: str | os.PathLike) -> bool:
    """Whether `path` is a copy made by create_encrypted_copy: its key file is beside it. A copy whose key file
    was lost is one too when its bytes are not plain SQLite (unlock then says to reconnect)."""
    if key_file(path).exists():
        return True
    try:
        with open(path, "rb") as f:
            header = f.read(16)
        size = os.path.getsize(path)
    except OSError:
        return False
    # SQLCipher writes whole 4 KiB pages and begins with a random salt where SQLite writes its header.
    return bool(header) and header != b"SQLite format 3\x00" and size % 4096 == 0


def create_encrypted_copy(path: str | os.PathLike, password: str) -> bytes:
    """A new encrypted SQLite file at `path` (empty, no table yet: migrate it through make_engine(path, key=…))
    and its key file wrapping a fresh random key for `password`; returns the key."""
    path = Path(path)
    if path.exists() or key_file(path).exists():
        raise CopyExists(f"« {path} » existe déjà : une copie chiffrée ne se crée que sur un emplacement libre.")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(KEY_BYTES)
    _write_key_file(path, key, password)
    try:
        _private_file(path)
        with closing(connect(path, key)) as conn:
            # The header page is written now: the file is a SQLCipher database from its first byte.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA user_version=0")
    except BaseException:
        for leftover in (path, key_file(path), *(Path(f"{path}{s}") for s in _JOURNALS)):
            leftover.unlink(missing_ok=True)
        raise
    return key


def encrypt_plain_copy(path: str | os.PathLike, password: str) -> bytes:
    """Turn a plain SQLite copy that holds no family yet (the file a first start or `connect` just created and
    migrated) into an encrypted copy at the same path, with its key file; returns the key. Every engine on the
    file must be disposed first. Refused when it holds families: their names would stay readable in the disk's
    free blocks whatever is done to the file afterwards."""
    path = Path(path)
    if key_file(path).exists():
        raise CopyExists(f"« {path} » est déjà une copie chiffrée.")
    staged = path.with_name(f".{path.name}.encrypting-{os.getpid()}")
    staged.unlink(missing_ok=True)
    key = os.urandom(KEY_BYTES)
    _private_file(staged)
    try:
        _export_encrypted(path, staged, key)
        for journal in _JOURNALS:  # a plain file's journal must never be paired with the encrypted file
            Path(f"{path}{journal}").unlink(missing_ok=True)
        # The file before its key: a crash in between leaves a copy to reconnect, never a plain file taken for
        # an encrypted one.
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)
    _write_key_file(path, key, password)
    return key


def prepare_connected_copy(path: str | os.PathLike, password: str) -> bytes:
    """The key of the copy that `connect` enrols: a new encrypted copy where there is no file (or an empty one),
    the copy a first attempt left unlocked, or a plain copy without families encrypted (encrypt_plain_copy). If
    the enrolment then fails, dispose the engine and erase_copy(path): a retry wraps the key anew."""
    path = Path(path)
    if key_file(path).exists():
        return unlock(path, password)
    if not path.exists() or path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        return create_encrypted_copy(path, password)
    return encrypt_plain_copy(path, password)


def unlock(path: str | os.PathLike, password: str) -> bytes:
    """The copy's data key, unwrapped with the user's password; WrongPassword or CopyLocked in French."""
    record = _read_key_file(path)
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    wrapping = _derive(password, record["salt"], record)
    try:
        key = AESGCM(wrapping).decrypt(record["nonce"], record["wrapped_key"], _associated_data(record))
    except InvalidTag:
        raise WrongPassword("Mot de passe incorrect : la copie locale reste verrouillée. Saisissez le mot de passe "
                            "de votre compte Parcours.", field="password") from None
    if len(key) != KEY_BYTES:
        raise CopyLocked(_LOCKED.format(why="son fichier de clé est endommagé"))
    return key


def key_for(db: str, password: Callable[[], str]) -> bytes | None:
    """What main.py gives make_engine for `--db`: None for a URL or a plain file (the standalone mode, unchanged),
    the key of an encrypted copy unlocked with `password()`, asked only then."""
    path = sqlite_file(db)
    if path is None or not is_encrypted(path):
        return None
    return unlock(path, password())


def rewrap(path: str | os.PathLike, old_password: str, new_password: str) -> None:
    """Wrap the same data key for the new password (the file itself is not rewritten); the old password no longer
    opens the copy."""
    key = unlock(path, old_password)
    _write_key_file(Path(path), key, new_password)


def erase_copy(path: str | os.PathLike) -> tuple[Path, ...]:
    """Erase the copy: its key file first (overwritten, then deleted: without the key nothing below can ever be
    read again), then the file, its journals and its local backups (services.backup's folder and names). Returns
    what was removed; a file that is not there is skipped."""
    path = Path(path)
    prefix, folder = backup_prefix(path), backups_folder(path)  # named from the path, found before it is gone
    # A killed restore's staged copy and a killed rewrap's key file (`.LAPTOP.sqlite.…`), with their journals.
    staged = sorted(p for p in path.parent.glob(f".{glob.escape(path.name)}.*") if p.is_file())
    secrets = [key_file(path), *(p for p in staged if p.name.startswith(f".{key_file(path).name}."))]
    removed: list[Path] = []
    for secret in secrets:
        if secret.exists():
            _overwrite(secret)
            secret.unlink()
            removed.append(secret)
    for leftover in (path, *(Path(f"{path}{s}") for s in _JOURNALS), *staged):
        if leftover.exists():
            leftover.unlink()
            removed.append(leftover)
    if folder.is_dir():
        for copy in sorted(folder.iterdir()):
            # The dated copies, those kept before a restore, and a killed backup's `.…partial` (with journals).
            if copy.is_file() and copy.name.lstrip(".").startswith(prefix):
                copy.unlink()
                removed.append(copy)
        if not any(folder.iterdir()):
            folder.rmdir()
    return tuple(removed)


def connect(path: str | os.PathLike, key: bytes, *, read_only: bool = False):
    """A sqlcipher3 connection on `path` with `key` given before anything is read; a wrong key raises
    sqlcipher3.dbapi2.DatabaseError (« file is not a database ») at the first read, done here."""
    from sqlcipher3 import dbapi2 as sqlcipher

    target = f"{Path(path).resolve().as_uri()}?mode=ro" if read_only else os.fspath(path)
    conn = sqlcipher.connect(target, uri=read_only, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(cipher_key_pragma(key))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _export_encrypted(plain: Path, target: Path, key: bytes) -> None:
    """Every table, index and trigger of `plain` into the empty file `target`, encrypted with `key`
    (SQLCipher's sqlcipher_export)."""
    from sqlcipher3 import dbapi2 as sqlcipher

    try:
        with closing(sqlcipher.connect(os.fspath(plain), isolation_level=None)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            has_family = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'family'").fetchone()
            if has_family and conn.execute("SELECT count(*) FROM family").fetchone()[0]:
                raise CopyHoldsFamilies(
                    f"« {plain} » contient déjà des familles, enregistrées en clair : elle ne peut pas devenir la "
                    "copie chiffrée d'un poste connecté. Connectez ce poste sur une base neuve (option --db).")
            conn.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{key.hex()}'\"", (os.fspath(target),))
            conn.execute("SELECT sqlcipher_export('encrypted')").fetchall()
            conn.execute("DETACH DATABASE encrypted")
        with closing(connect(target, key)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")  # as create_encrypted_copy and make_engine leave it
    except sqlcipher.DatabaseError:
        raise CannotEncrypt(f"« {plain} » n'a pas pu être chiffrée : ce n'est pas une base SQLite lisible. "
                            "Connectez ce poste sur une base neuve (option --db).") from None


# -- the key file ---------------------------------------------------------------------------------------------

def _derive(password: str, salt: bytes, parameters: dict) -> bytes:
    from argon2 import Type
    from argon2.low_level import hash_secret_raw

    return hash_secret_raw(password.encode("utf-8", "surrogatepass"), salt, time_cost=parameters["time_cost"],
                           memory_cost=parameters["memory_cost"], parallelism=parameters["parallelism"],
                           hash_len=KEY_BYTES, type=Type.ID)


def _associated_data(record: dict) -> bytes:
    """The format and the KDF's parameters are authenticated with the key: editing them fails like a wrong key."""
    return json.dumps({"format": FORMAT, **{k: record[k] for k in KDF_PARAMETERS}}, sort_keys=True).encode()


def _write_key_file(path: Path, key: bytes, password: str) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    record = {"format": FORMAT, "kdf": "argon2id", **KDF_PARAMETERS}
    wrapped = AESGCM(_derive(password, salt, record)).encrypt(nonce, key, _associated_data(record))
    text = json.dumps({**record, **{name: base64.b64encode(value).decode("ascii") for name, value in
                                    (("salt", salt), ("nonce", nonce), ("wrapped_key", wrapped))}}, indent=1)
    # Written whole, then renamed over the old one: a crash leaves the old key file or the new, never half of one.
    target = key_file(path)
    staged = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staged.unlink(missing_ok=True)
    _private_file(staged)
    try:
        with open(staged, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    _fsync_dir(target.parent)


def _read_key_file(path: str | os.PathLike) -> dict:
    secret = key_file(path)
    try:
        text = secret.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CopyLocked(_LOCKED.format(why=f"son fichier de clé « {secret.name} » est absent")) from None
    except (OSError, UnicodeDecodeError):
        raise CopyLocked(_LOCKED.format(why=f"son fichier de clé « {secret.name} » est illisible")) from None
    damaged = CopyLocked(_LOCKED.format(why=f"son fichier de clé « {secret.name} » est endommagé"))
    try:
        raw = json.loads(text)
        record = {k: raw[k] for k in ("format", "kdf", *KDF_PARAMETERS)}
        record.update({k: base64.b64decode(raw[k], validate=True) for k in ("salt", "nonce", "wrapped_key")})
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise damaged from None
    costs_sound = all(type(record[k]) is int and record[k] >= 1 for k in KDF_PARAMETERS) and (
        record["memory_cost"] <= _MAX_MEMORY_COST and record["time_cost"] <= _MAX_TIME_COST
        and record["parallelism"] <= _MAX_PARALLELISM and record["memory_cost"] >= 8 * record["parallelism"])
    if record["format"] != FORMAT or record["kdf"] != "argon2id" or not costs_sound \
            or len(record["salt"]) < 8 or len(record["nonce"]) != NONCE_BYTES:
        raise damaged
    return record


def _overwrite(path: Path) -> None:
    """Random bytes over the key file's own blocks before it is unlinked (as far as the file system keeps them)."""
    size = max(path.stat().st_size, 1)
    with open(path, "r+b") as f:
        f.write(os.urandom(size))
        f.flush()
        os.fsync(f.fileno())
