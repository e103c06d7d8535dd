"""A lost laptop reveals nothing: the connected copy is a SQLCipher file whose random key is wrapped by the user's
password (services.local_crypto), and what opens SQLite files by path (migrations, backups, the check) works on it."""
import json
import os
import shutil
import sqlite3
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.db import (_alembic_config, check_parcours_file, current_revision, head_revision, make_engine, migrate,
                       NotParcoursDatabase)
from services import backup, local_crypto
from services.dataset import export_dataset, import_dataset
from services.local_crypto import CopyExists, CopyLocked, WrongPassword
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory

from tests.conftest import DATA

pytestmark = pytest.mark.sqlite_only("the laptop copy is SQLite")

EXAMPLE = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
PASSWORD = "Cerisier-du-Japon-42"
# Words the example dataset writes into the families' records: none may be read from the encrypted bytes.
SECRETS = ("Lefèvre", "Famille Lefèvre", "rue des Lilas", "Aurélie", "06 00 00 00 01")
LOCKED = "reconnectez cet ordinateur au serveur"


def _fill(path: Path, key: bytes | None) -> None:
    engine = make_engine(str(path), key=key)
    try:
        migrate(engine)
        import_dataset(unit_of_work_factory(engine)(), EXAMPLE)
    finally:
        engine.dispose()


def export_of(path: Path, key: bytes | None) -> dict:
    engine = make_engine(str(path), key=key)
    try:
        return export_dataset(unit_of_work_factory(engine)(), SYSTEM)
    finally:
        engine.dispose()


def plain_text_found(data: bytes) -> list[str]:
    return [word for word in SECRETS if word.encode("utf-8") in data]


def unreadable_by_sqlite3(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return "not a database" in str(exc)
    return False


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, bytes]:
    """An encrypted copy, migrated, with the example dataset; built once, copied (file and key file) per test."""
    path = tmp_path_factory.mktemp("laptop-template") / "LAPTOP.sqlite"
    key = local_crypto.create_encrypted_copy(path, PASSWORD)
    _fill(path, key)
    return path, key


@pytest.fixture
def laptop(template, tmp_path) -> tuple[Path, bytes]:
    source, key = template
    path = tmp_path / "LAPTOP.sqlite"
    shutil.copyfile(source, path)
    shutil.copyfile(local_crypto.key_file(source), local_crypto.key_file(path))
    return path, key


# -- what the file holds -----------------------------------------------------------------------------------------

def test_the_plain_file_of_the_same_data_does_hold_the_names_the_encrypted_one_must_not(tmp_path):
    plain = tmp_path / "plain.sqlite"
    _fill(plain, None)
    assert plain_text_found(plain.read_bytes()) == list(SECRETS)  # so the grep below can find them


def test_neither_the_encrypted_file_nor_its_wal_holds_a_family_name_in_plain_text(tmp_path):
    path = tmp_path / "LAPTOP.sqlite"
    key = local_crypto.create_encrypted_copy(path, PASSWORD)
    engine = make_engine(str(path), key=key)
    try:
        migrate(engine)
        import_dataset(unit_of_work_factory(engine)(), EXAMPLE)
        wal = Path(f"{path}-wal")
        # The engine is still open: the import's pages are in the write-ahead log, not yet checkpointed.
        assert wal.stat().st_size > 0
        assert plain_text_found(wal.read_bytes()) == []
        assert plain_text_found(path.read_bytes()) == []
    finally:
        engine.dispose()
    assert plain_text_found(path.read_bytes()) == []
    assert plain_text_found(local_crypto.key_file(path).read_bytes()) == []


def test_the_encrypted_file_has_no_sqlite_header_and_the_standard_sqlite3_cannot_open_it(laptop):
    path, _ = laptop
    assert path.read_bytes()[:16] != b"SQLite format 3\x00"
    assert unreadable_by_sqlite3(path)


def test_the_key_file_is_private_and_holds_the_data_key_only_wrapped(laptop):
    import base64

    path, key = laptop
    secret = local_crypto.key_file(path)
    text = secret.read_text(encoding="utf-8")
    record = json.loads(text)
    assert record["format"] == "parcours-local-key/1" and record["kdf"] == "argon2id"
    assert key.hex() not in text.lower() and base64.b64encode(key).decode() not in text



@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_new_copy_and_its_key_file_are_readable_by_their_owner_only(tmp_path):
    umask = os.umask(0o022)  # the usual one, under which new files are readable by everyone
    try:
        path = tmp_path / "LAPTOP.sqlite"
        local_crypto.create_encrypted_copy(path, PASSWORD)
        local_crypto.rewrap(path, PASSWORD, "Nouveau-mot-de-passe-2027")
    finally:
        os.umask(umask)
    assert local_crypto.key_file(path).stat().st_mode & 0o777 == 0o600
    assert path.stat().st_mode & 0o777 == 0o600


# -- unlocking ---------------------------------------------------------------------------------------------------

def test_the_right_password_opens_the_copy_with_all_its_data(laptop):
    path, key = laptop
    assert local_crypto.is_encrypted(path)
    assert local_crypto.unlock(path, PASSWORD) == key
    exported = export_of(path, local_crypto.unlock(path, PASSWORD))
    assert [f["name"] for f in exported["families"]] == [f["name"] for f in EXAMPLE["families"]]


def test_a_wrong_password_is_refused_in_french_and_changes_nothing(laptop):
    path, _ = laptop
    before = local_crypto.key_file(path).read_bytes(), path.read_bytes()
    with pytest.raises(WrongPassword, match="Mot de passe incorrect") as refused:
        local_crypto.unlock(path, PASSWORD + "!")
    assert refused.value.field == "password"
    assert (local_crypto.key_file(path).read_bytes(), path.read_bytes()) == before


def test_a_missing_key_file_says_to_reconnect_this_computer(laptop):
    path, _ = laptop
    local_crypto.key_file(path).unlink()
    assert local_crypto.is_encrypted(path)  # told apart from a plain file by its bytes
    with pytest.raises(CopyLocked, match=LOCKED) as locked:
        local_crypto.unlock(path, PASSWORD)
    assert "est absent" in locked.value.message


@pytest.mark.parametrize("damage", [
    lambda r: "pas du JSON",
    lambda r: json.dumps({**r, "salt": "!!!"}),
    lambda r: json.dumps({k: v for k, v in r.items() if k != "wrapped_key"}),
    lambda r: json.dumps({**r, "format": "autre/2"}),
    lambda r: json.dumps({**r, "memory_cost": 1 << 30}),  # would make the login spin: refused before deriving
    lambda r: json.dumps({**r, "nonce": "AAAA"}),
    lambda r: json.dumps([r]),
], ids=["not-json", "bad-base64", "no-wrapped-key", "other-format", "huge-cost", "short-nonce", "a-list"])
def test_a_damaged_key_file_says_to_reconnect_this_computer(laptop, damage):
    path, _ = laptop
    secret = local_crypto.key_file(path)
    secret.write_text(damage(json.loads(secret.read_text(encoding="utf-8"))), encoding="utf-8")
    with pytest.raises(CopyLocked, match=LOCKED):
        local_crypto.unlock(path, PASSWORD)


def test_a_changed_kdf_parameter_does_not_open_the_copy(laptop):
    path, _ = laptop
    secret = local_crypto.key_file(path)
    record = json.loads(secret.read_text(encoding="utf-8"))
    secret.write_text(json.dumps({**record, "time_cost": 1}), encoding="utf-8")  # authenticated with the key
    with pytest.raises(WrongPassword):
        local_crypto.unlock(path, PASSWORD)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                 st.dictionaries(st.sampled_from(["format", "kdf", "time_cost", "memory_cost", "parallelism", "salt",
                                                  "nonce", "wrapped_key"]),
                                 st.one_of(st.integers(-5, 70000), st.text(string.ascii_letters + "+/=", max_size=40),
                                           st.none())).map(lambda d: json.dumps(d).encode())))
def test_whatever_the_key_file_holds_unlock_answers_with_a_french_refusal(laptop, data):
    path, _ = laptop
    local_crypto.key_file(path).write_bytes(data)
    with pytest.raises((CopyLocked, WrongPassword)) as refused:
        local_crypto.unlock(path, PASSWORD)
    assert refused.value.message.startswith(("La copie locale ne peut pas être déverrouillée", "Mot de passe"))


# -- a password change -------------------------------------------------------------------------------------------

def test_rewrap_opens_with_the_new_password_only_and_leaves_the_data_file_as_it_was(laptop):
    path, key = laptop
    data = path.read_bytes()
    local_crypto.rewrap(path, PASSWORD, "Nouveau-mot-de-passe-2027")
    assert local_crypto.unlock(path, "Nouveau-mot-de-passe-2027") == key
    with pytest.raises(WrongPassword):
        local_crypto.unlock(path, PASSWORD)
    assert path.read_bytes() == data  # not re-encrypted
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_rewrap_with_a_wrong_old_password_is_refused_and_keeps_the_old_key_file(laptop):
    path, _ = laptop
    before = local_crypto.key_file(path).read_bytes()
    with pytest.raises(WrongPassword):
        local_crypto.rewrap(path, "pas le bon", "Nouveau-mot-de-passe-2027")
    assert local_crypto.key_file(path).read_bytes() == before


# -- erasing (a revoked device) ----------------------------------------------------------------------------------

def test_erase_leaves_nothing_readable_of_the_family_data(laptop, tmp_path):
    path, key = laptop
    made = backup.backup_database(path, key=key)
    other = backup.backups_folder(path) / "notes.txt"
    other.write_text("à garder", encoding="utf-8")
    stolen = tmp_path / "stolen.sqlite"  # what a thief could have copied (or recovered from the disk's blocks)
    shutil.copyfile(path, stolen)
    removed = local_crypto.erase_copy(path)
    assert set(removed) >= {path, local_crypto.key_file(path), made.path}
    assert not path.exists() and not local_crypto.key_file(path).exists() and not made.path.exists()
    assert not any(Path(f"{path}{s}").exists() for s in ("-wal", "-shm", "-journal"))
    assert other.read_text(encoding="utf-8") == "à garder"  # not a file of this copy's
    # The data key existed only wrapped in the key file: the stolen bytes stay unreadable, and nothing is in clear.
    assert plain_text_found(stolen.read_bytes()) == [] and unreadable_by_sqlite3(stolen)
    with pytest.raises(CopyLocked, match=LOCKED):
        local_crypto.unlock(path, PASSWORD)


def test_erase_of_an_open_copy_removes_its_wal_and_shm_too(laptop):
    path, key = laptop
    engine = make_engine(str(path), key=key)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM family").scalar()
        assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
    engine.dispose()  # the revocation closes the store first
    # A killed process leaves them: recreate them to be sure erase looks for them.
    Path(f"{path}-wal").write_bytes(b"x")
    Path(f"{path}-shm").write_bytes(b"x")
    local_crypto.erase_copy(path)
    assert [p.name for p in path.parent.iterdir() if p.name.startswith("LAPTOP")] == []


def test_erase_of_a_copy_already_gone_removes_nothing_and_does_not_fail(tmp_path):
    assert local_crypto.erase_copy(tmp_path / "absent.sqlite") == ()


# -- creating ----------------------------------------------------------------------------------------------------

def test_a_copy_is_created_only_where_nothing_is(laptop, tmp_path):
    path, _ = laptop
    before = path.read_bytes()
    with pytest.raises(CopyExists, match="existe déjà"):
        local_crypto.create_encrypted_copy(path, PASSWORD)
    assert path.read_bytes() == before
    plain = tmp_path / "plain.sqlite"
    plain.write_bytes(b"")
    with pytest.raises(CopyExists):
        local_crypto.create_encrypted_copy(plain, PASSWORD)


def test_a_plain_file_is_not_taken_for_an_encrypted_copy_and_keeps_its_plain_engine(tmp_path):
    plain = tmp_path / "parcours.sqlite"
    engine = make_engine(str(plain))
    migrate(engine)
    assert engine.url.drivername == "sqlite" and engine.dialect.driver == "pysqlite"
    engine.dispose()
    assert not local_crypto.is_encrypted(plain)
    assert not local_crypto.is_encrypted(tmp_path / "absent.sqlite")


# -- the rest of Parcours on an encrypted copy -------------------------------------------------------------------

def test_migrations_create_and_upgrade_the_schema_of_an_encrypted_copy(tmp_path):
    from alembic import command

    path = tmp_path / "LAPTOP.sqlite"
    key = local_crypto.create_encrypted_copy(path, PASSWORD)
    engine = make_engine(str(path), key=key)
    try:
        cfg = _alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0005")
        assert current_revision(engine) == "0005"
        assert migrate(engine) == head_revision() == current_revision(engine)
    finally:
        engine.dispose()
    assert unreadable_by_sqlite3(path)


def test_the_engine_of_an_encrypted_copy_has_the_pragmas_of_a_plain_file(laptop):
    path, key = laptop
    engine = make_engine(str(path), key=key)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA cipher_version").scalar().startswith("4.")
        assert key.hex() not in repr(engine) and key.hex() not in str(engine.url)
    finally:
        engine.dispose()


def test_an_engine_with_a_wrong_key_cannot_read_the_copy(laptop):
    from sqlalchemy.exc import DatabaseError

    path, key = laptop
    engine = make_engine(str(path), key=bytes(32))
    try:
        with pytest.raises(DatabaseError, match="not a database"):
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM family").scalar()
    finally:
        engine.dispose()


def test_the_parcours_file_check_accepts_an_encrypted_copy_and_refuses_one_without_its_key_file(laptop):
    path, _ = laptop
    check_parcours_file(str(path))
    local_crypto.key_file(path).unlink()
    with pytest.raises(NotParcoursDatabase):
        check_parcours_file(str(path))


def test_a_backup_of_an_encrypted_copy_is_encrypted_with_the_same_key(laptop, tmp_path):
    path, key = laptop
    made = backup.backup_database(path, key=key)
    assert made.path.parent == backup.backups_folder(path)
    data = made.path.read_bytes()
    assert data[:16] != b"SQLite format 3\x00" and plain_text_found(data) == []
    assert unreadable_by_sqlite3(made.path)
    assert made.path.stat().st_mode & 0o777 == 0o600
    assert backup.inspect_database(made.path, key=key).ok
    assert export_of(made.path, key) == export_of(path, key)
    explicit = backup.backup_database(path, tmp_path / "copie.sqlite", key=key)
    assert unreadable_by_sqlite3(explicit.path) and backup.inspect_database(explicit.path, key=key).ok


def test_a_backup_or_check_of_an_encrypted_copy_without_its_key_says_it_needs_the_password(laptop):
    path, _ = laptop
    with pytest.raises(backup.StorageError, match="rien n'a été écrit.*copie chiffrée.*mot de passe"):
        backup.backup_database(path)
    assert "copie chiffrée" in backup.check_database(path).problems[0]
    with pytest.raises(backup.StorageError, match="rien n'a été écrit"):
        backup.backup_database(path, key=bytes(32))
    folder = backup.backups_folder(path)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_the_check_verifies_an_encrypted_copy_and_its_chains(laptop):
    path, key = laptop
    report = backup.check_database(path, key=key)
    assert report.ok and report.revision == head_revision()
    assert report.integrity is not None and report.integrity.ok
    refused = backup.check_database(path, key=bytes(32))
    assert not refused.ok and refused.revision is None


def test_erase_removes_what_a_killed_restore_or_rewrap_left_beside_the_copy_and_nothing_else(laptop):
    path, _ = laptop
    restore_leftover = path.with_name(f".{path.name}.restore-4242")
    rewrap_leftover = path.with_name(f".{local_crypto.key_file(path).name}.4242.tmp")
    unrelated = path.with_name(".LAPTOP2.sqlite.restore-1")
    for leftover in (restore_leftover, rewrap_leftover, unrelated):
        leftover.write_bytes(b"x")
    removed = local_crypto.erase_copy(path)
    assert {restore_leftover, rewrap_leftover} <= set(removed)
    assert not restore_leftover.exists() and not rewrap_leftover.exists() and unrelated.exists()


def test_a_connected_copy_is_not_restored_from_a_backup(laptop):
    path, key = laptop
    made = backup.backup_database(path, key=key)
    before = path.read_bytes()
    with pytest.raises(backup.StorageError, match="ne se restaure pas depuis une sauvegarde"):
        backup.restore_database(path, made.path)
    assert path.read_bytes() == before


def test_the_chains_of_an_encrypted_copy_verify_through_its_engine(laptop):
    from services import integrity

    path, key = laptop
    engine = make_engine(str(path), key=key)
    try:
        assert integrity.verify(engine).ok
    finally:
        engine.dispose()


# -- what `connect` calls ------------------------------------------------------------------------------------------

def _plain_migrated(path: Path) -> None:
    engine = make_engine(str(path))
    migrate(engine)
    engine.dispose()


def test_a_plain_copy_without_families_is_encrypted_in_place_with_its_schema(tmp_path):
    path = tmp_path / "LAPTOP.sqlite"
    _plain_migrated(path)
    key = local_crypto.encrypt_plain_copy(path, PASSWORD)
    assert unreadable_by_sqlite3(path) and local_crypto.unlock(path, PASSWORD) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LAPTOP.sqlite", "LAPTOP.sqlite.key"]  # no plain -wal
    engine = make_engine(str(path), key=key)
    try:
        assert current_revision(engine) == head_revision()
        assert migrate(engine) == head_revision()
        import_dataset(unit_of_work_factory(engine)(), EXAMPLE)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
    assert plain_text_found(path.read_bytes()) == []
    assert backup.check_database(path, key=key).ok


def test_a_plain_copy_holding_families_is_not_encrypted_and_stays_as_it_was(tmp_path):
    path = tmp_path / "parcours.sqlite"
    _fill(path, None)
    before = path.read_bytes()
    with pytest.raises(local_crypto.CopyHoldsFamilies, match="contient déjà des familles"):
        local_crypto.encrypt_plain_copy(path, PASSWORD)
    assert path.read_bytes() == before and not local_crypto.key_file(path).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parcours.sqlite"]


def test_a_file_that_is_no_database_is_not_encrypted(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"pas une base" * 100)
    with pytest.raises(local_crypto.CannotEncrypt, match="pas pu être chiffrée"):
        local_crypto.encrypt_plain_copy(path, PASSWORD)
    assert path.read_bytes() == b"pas une base" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]


def test_prepare_creates_unlocks_or_encrypts_the_copy_to_enrol(tmp_path):
    fresh = tmp_path / "new" / "LAPTOP.sqlite"
    key = local_crypto.prepare_connected_copy(fresh, PASSWORD)
    assert local_crypto.unlock(fresh, PASSWORD) == key
    assert local_crypto.prepare_connected_copy(fresh, PASSWORD) == key  # a second attempt: the same copy
    with pytest.raises(WrongPassword):
        local_crypto.prepare_connected_copy(fresh, "autre")
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    assert len(local_crypto.prepare_connected_copy(empty, PASSWORD)) == 32 and unreadable_by_sqlite3(empty)
    plain = tmp_path / "plain.sqlite"
    _plain_migrated(plain)
    key = local_crypto.prepare_connected_copy(plain, PASSWORD)
    assert unreadable_by_sqlite3(plain) and local_crypto.unlock(plain, PASSWORD) == key


def test_key_for_asks_the_password_of_an_encrypted_copy_only(laptop, tmp_path):
    path, key = laptop
    asked = []
    ask = lambda: asked.append(1) or PASSWORD  # noqa: E731
    plain = tmp_path / "parcours.sqlite"
    _plain_migrated(plain)
    assert local_crypto.key_for(str(plain), ask) is None
    assert local_crypto.key_for(str(tmp_path / "absent.sqlite"), ask) is None
    assert local_crypto.key_for("postgresql+psycopg://parcours@localhost/parcours", ask) is None
    assert asked == []
    assert local_crypto.key_for(str(path), ask) == key and asked == [1]
    assert local_crypto.key_for(f"sqlite:///{path}", ask) == key
