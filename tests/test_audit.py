"""The audit log: append-only even against raw SQL, purged only past retention (and the purge is audited),
field names and never values, and migration 0002 on new and existing databases."""
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import exc, text

from models.db import MIGRATIONS_DIR, current_revision, head_revision, make_engine, migrate
from services import audit
from services.errors import ValidationError
from services.permissions import SYSTEM
from services.users import AuthenticationFailed, add_user, authenticate, change_password

PASSWORD = "cheval-agrafe-pile"
NOW = datetime.now(timezone.utc)


def add_entry(uow, days_ago, key="F1", action="update"):
    with uow() as u:
        audit.record(u.session, "coord-durand", action, "family", key, ["address", "commune"],
                     at=NOW - timedelta(days=days_ago))
        u.commit()


@pytest.fixture
def entry(uow):
    add_entry(uow, days_ago=0)
    return audit.list_entries(uow(), SYSTEM)[0]


# The triggers refuse with the same French message on both stores; SQLite's RAISE(ABORT) arrives as an
# IntegrityError, PostgreSQL's RAISE EXCEPTION (SQLSTATE P0001) as a ProgrammingError: both are DBAPIErrors.
REFUSED = exc.DBAPIError


def raw(engine, sql, **params):
    with engine.begin() as conn:
        return conn.execute(text(sql), params)


# -- append only --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE audit_log SET actor_key = 'quelqu-un-d-autre' WHERE id = :id",
    "UPDATE audit_log SET at = '2000-01-01 00:00:00.000000'",
])
def test_audit_entry_cannot_be_updated_even_with_raw_sql(engine, entry, sql):
    with pytest.raises(REFUSED, match="modification interdite"):
        raw(engine, sql, id=entry.id)


def test_audit_entry_cannot_be_deleted_even_with_raw_sql(engine, uow, entry, db_path, backend):
    with pytest.raises(REFUSED, match="suppression interdite"):
        raw(engine, "DELETE FROM audit_log WHERE id = :id", id=entry.id)
    if backend == "sqlite":
        conn = sqlite3.connect(db_path)  # nor through another driver connection, outside SQLAlchemy
        with pytest.raises(sqlite3.IntegrityError, match="suppression interdite"):
            conn.execute("DELETE FROM audit_log")
        conn.close()
    assert [e.id for e in audit.list_entries(uow(), SYSTEM)] == [entry.id]


@pytest.mark.sqlite_only("INSERT OR REPLACE is SQLite's (on PostgreSQL an upsert is an UPDATE, refused above)")
def test_audit_entry_cannot_be_overwritten_by_insert_or_replace(engine, entry):
    with pytest.raises(exc.IntegrityError, match="identifiant déjà utilisé"):
        raw(engine, "INSERT OR REPLACE INTO audit_log (id, at, action, record_type, changed_fields) "
                    "VALUES (:id, '2020-01-01 00:00:00', 'create', 'family', '[]')", id=entry.id)


def test_old_audit_entry_cannot_be_deleted_without_a_purge_permit(engine, uow):
    add_entry(uow, days_ago=800)
    with pytest.raises(REFUSED, match="suppression interdite"):
        raw(engine, "DELETE FROM audit_log")


def test_purge_permit_cannot_open_recent_entries_to_deletion(engine, entry):
    with pytest.raises(REFUSED, match="conservation minimale"):
        raw(engine, "INSERT INTO audit_purge_permit (id, cutoff) VALUES (1, :cutoff)",
            cutoff=(NOW + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S.%f"))


def test_audit_entry_written_in_a_unit_of_work_that_is_not_committed_disappears_with_it(uow):
    with uow() as u:
        audit.record(u.session, None, "create", "family", "F9", ["address"])
    assert audit.list_entries(uow(), SYSTEM) == []


# -- purge ---------------------------------------------------------------------------------------------------

def test_purge_deletes_entries_older_than_a_year_and_records_itself(uow, engine):
    for days_ago in (800, 400, 366, 364, 10):
        add_entry(uow, days_ago, key=f"F{days_ago}")
    assert audit.purge_older_than(uow(), SYSTEM, days=365) == 3
    entries = audit.list_entries(uow(), SYSTEM)
    assert [e.record_key for e in entries if e.action == "update"] == ["F10", "F364"]
    [purge] = [e for e in entries if e.action == "purge"]
    assert (purge.actor_key, purge.record_type, purge.changed_fields) == ("system", "audit_log", ())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM audit_purge_permit")).scalar_one() == 0


def test_after_a_purge_the_remaining_entries_are_protected_again(uow, engine):
    add_entry(uow, days_ago=800)
    audit.purge_older_than(uow(), SYSTEM, days=365)
    add_entry(uow, days_ago=900)  # e.g. imported late: no permit any more, so it stays
    with pytest.raises(REFUSED, match="suppression interdite"):
        raw(engine, "DELETE FROM audit_log")


def test_purge_keeping_less_than_180_days_is_refused(uow):
    add_entry(uow, days_ago=100)
    with pytest.raises(ValidationError, match="au moins 180 jours"):
        audit.purge_older_than(uow(), SYSTEM, days=30)
    assert len(audit.list_entries(uow(), SYSTEM)) == 1


# -- names, never values ------------------------------------------------------------------------------------

def test_changed_fields_hold_field_names_and_no_value_reaches_the_log(uow, engine):
    add_user(uow(), SYSTEM, "alice", "referent", PASSWORD, name="Alice Referente")
    change_password(uow(), SYSTEM, "alice", "nouveau-mot-de-passe")
    authenticate(uow(), "alice", "nouveau-mot-de-passe")
    changed = audit.list_entries(uow(), SYSTEM, action="change_password")[0].changed_fields
    assert changed == ("failed_logins", "locked_until", "password_hash")
    with engine.connect() as conn:
        stored = json.dumps([list(row) for row in conn.execute(text("SELECT * FROM audit_log"))], default=str)
    for value in (PASSWORD, "nouveau-mot-de-passe", "Alice Referente", "$argon2"):
        assert value not in stored


@pytest.mark.parametrize("field", ["Claire Martin", "12 rue des Lilas", "name=Claire", ""])
def test_recording_something_that_is_not_a_field_name_is_refused(uow, field):
    with uow() as u, pytest.raises(ValueError):
        audit.record(u.session, None, "update", "family", "F1", [field])


def test_failed_login_for_an_unknown_login_is_recorded_under_a_hash_never_the_typed_name(uow):
    with pytest.raises(AuthenticationFailed):
        authenticate(uow(), "cheval-agrafe-pile", "x")  # a password typed in the login field
    [entry] = audit.list_entries(uow(), SYSTEM)
    assert (entry.actor_key, entry.action, entry.record_type) == (None, "login_failed", "login_name")
    assert "cheval" not in entry.record_key and entry.record_key.startswith("h-")


def test_list_entries_filters_and_returns_newest_first(uow):
    add_entry(uow, 20, key="F1")
    add_entry(uow, 10, key="F2")
    add_entry(uow, 5, key="F1", action="create")
    assert [e.record_key for e in audit.list_entries(uow(), SYSTEM)] == ["F1", "F2", "F1"]
    assert [e.action for e in audit.list_entries(uow(), SYSTEM, record_key="F1")] == ["create", "update"]
    recent = audit.list_entries(uow(), SYSTEM, since=NOW - timedelta(days=15))
    assert [e.record_key for e in recent] == ["F1", "F2"]
    assert recent[0].at.tzinfo is not None


# -- migration ----------------------------------------------------------------------------------------------

def test_fresh_database_is_migrated_to_the_head_which_includes_0002(engine):
    assert current_revision(engine) == head_revision()


def test_database_at_0001_is_upgraded_through_0002_keeping_its_users(tmp_path):
    engine = make_engine(str(tmp_path / "old.sqlite"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(text("INSERT INTO app_user (id, created_at, updated_at, key, name, role, active) VALUES "
                          "('u1', '2025-01-01 00:00:00', '2025-01-01 00:00:00', 'ref', 'Réf', 'referent', 1)"))
    assert migrate(engine) == head_revision()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT key, password_hash, failed_logins, locked_until FROM app_user")).one()
        triggers = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    assert tuple(row) == ("ref", None, 0, None)
    assert {"audit_log_no_update", "audit_log_no_delete", "audit_log_no_overwrite"} <= triggers
    engine.dispose()
