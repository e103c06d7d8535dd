"""The storage layer: constraints enforced by the database itself, SQLite pragmas, money in cents, the unit of
work, and the refusal of a database written by a newer Parcours."""
import json
from decimal import Decimal

import pytest
from sqlalchemy import exc, select, text

import main
from models import User
from services.dataset import import_dataset

from tests.conftest import DATA

EXAMPLE = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    """main.main() writes its log under the user's state folder: keep it inside the test's folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def stored(engine, uow):
    """A database holding the example dataset; returns the engine for raw SQL."""
    import_dataset(uow(), EXAMPLE)
    return engine


SESSION_INSERT = text(
    "INSERT INTO home_session (id, created_at, updated_at, key, family_id, intervenant_id, date, duration_minutes,"
    " status, referent_present, approved_exception) VALUES (:id, '2025-03-01 10:00:00', '2025-03-01 10:00:00',"
    " :key, COALESCE(:family_id, (SELECT id FROM family WHERE key = 'F1')),"
    " (SELECT id FROM intervenant WHERE key = 'i-aes'), '2025-03-20', :duration, :status, false, false)"
)


# What each store says when a constraint refuses a row: SQLite, then PostgreSQL.
def check_failed(name: str) -> str:
    return rf'CHECK constraint failed: {name}\b|violates check constraint "{name}"'


def unique_failed(table: str, column: str) -> str:
    return rf"UNIQUE constraint failed: {table}\.{column}\b|duplicate key value violates unique constraint (.|\n)*Key \({column}\)"


FOREIGN_KEY_FAILED = "FOREIGN KEY constraint failed|violates foreign key constraint"


def insert_session(engine, key, duration=60, status="held", family_id=None):
    with engine.begin() as conn:
        conn.execute(SESSION_INSERT, {"id": f"id-{key}", "key": key, "duration": duration, "status": status,
                                      "family_id": family_id})


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


# -- constraints at the database level ---------------------------------------------------------------

def test_raw_insert_of_a_valid_session_succeeds(stored):
    insert_session(stored, "SX-ok")
    assert count(stored, "home_session") == 5


@pytest.mark.parametrize("duration", [-30, 0, 1441])
def test_raw_insert_of_session_with_impossible_duration_fails_at_db_level(stored, duration):
    with pytest.raises(exc.IntegrityError, match=check_failed("ck_home_session_duration")):
        insert_session(stored, "SX-dur", duration=duration)
    assert count(stored, "home_session") == 4


def test_raw_insert_of_session_with_unknown_status_fails_at_db_level(stored):
    with pytest.raises(exc.IntegrityError, match=check_failed("ck_home_session_status")):
        insert_session(stored, "SX-status", status="done")
    assert count(stored, "home_session") == 4


def test_raw_insert_of_session_for_unknown_family_fails_because_foreign_keys_are_on(stored):
    with pytest.raises(exc.IntegrityError, match=FOREIGN_KEY_FAILED):
        insert_session(stored, "SX-fk", family_id="no-such-family")
    assert count(stored, "home_session") == 4


def test_session_key_is_unique(stored):
    with pytest.raises(exc.IntegrityError, match=unique_failed("home_session", "key")):
        insert_session(stored, "S1")


def test_user_key_is_unique_and_role_is_checked(engine):
    insert = text("INSERT INTO app_user (id, created_at, updated_at, key, name, role, active)"
                  " VALUES (:id, '2025-01-01', '2025-01-01', :key, 'N', :role, true)")
    with engine.begin() as conn:
        conn.execute(insert, {"id": "u1", "key": "k", "role": "referent"})
    with pytest.raises(exc.IntegrityError, match=unique_failed("app_user", "key")), engine.begin() as conn:
        conn.execute(insert, {"id": "u2", "key": "k", "role": "referent"})
    with pytest.raises(exc.IntegrityError, match=check_failed("ck_app_user_role")), engine.begin() as conn:
        conn.execute(insert, {"id": "u3", "key": "k3", "role": "boss"})
    assert count(engine, "app_user") == 1


def test_tariff_kind_price_and_uniqueness_are_checked(stored):
    insert = text("INSERT INTO tariff (id, created_at, updated_at, convention_id, qualification, kind, unit_price)"
                  " VALUES (:id, '2025-01-01', '2025-01-01', (SELECT id FROM convention WHERE key = 'ap-2025'),"
                  " :q, :kind, :price)")
    cases = [
        ({"q": "AES", "kind": "holiday", "price": 100}, check_failed("ck_tariff_kind")),
        ({"q": "AES", "kind": "home_intervention", "price": -1}, check_failed("ck_tariff_unit_price")),
        ({"q": "AES", "kind": "home_intervention", "price": 100}, "UNIQUE constraint failed|duplicate key value violates unique constraint"),  # line exists
    ]
    for i, (params, message) in enumerate(cases):
        with pytest.raises(exc.IntegrityError, match=message), stored.begin() as conn:
            conn.execute(insert, {"id": f"t{i}", **params})
    assert count(stored, "tariff") == 8


def test_orientation_decision_before_eps_and_convention_end_before_start_fail_at_db_level(stored):
    with pytest.raises(exc.IntegrityError, match="ck_orientation_decided_after_eps"), stored.begin() as conn:
        conn.execute(text("UPDATE orientation SET decided_on = '2025-01-01' WHERE key = 'O1'"))
    with pytest.raises(exc.IntegrityError, match="ck_convention_period"), stored.begin() as conn:
        conn.execute(text("UPDATE convention SET end_date = '2024-12-31' WHERE key = 'ap-2025'"))


# -- pragmas -------------------------------------------------------------------------------------------

@pytest.mark.sqlite_only("SQLite's pragmas")
def test_sqlite_pragmas_are_set_on_every_connection(engine):
    seen = []
    for _ in range(2):
        # two distinct DBAPI connections at once, read outside any transaction (a second BEGIN IMMEDIATE in the
        # same thread would wait for the first one's lock)
        first, second = engine.raw_connection(), engine.raw_connection()
        for conn in (first, second):
            cursor = conn.cursor()
            seen.append(tuple(cursor.execute(f"PRAGMA {name}").fetchone()[0]
                              for name in ("foreign_keys", "journal_mode", "synchronous", "busy_timeout")))
        first.close()
        second.close()
        engine.dispose()  # the next round opens brand-new connections
    assert seen == [(1, "wal", 2, 15_000)] * 4


# -- money ---------------------------------------------------------------------------------------------

def test_money_is_stored_as_integer_cents(stored, backend):
    with stored.connect() as conn:
        price = conn.execute(text("SELECT unit_price FROM tariff WHERE qualification = 'TISF'"
                                  " AND kind = 'home_intervention'")).scalar_one()
        cap = conn.execute(text("SELECT budget_cap FROM convention WHERE key = 'ap-2025'")).scalar_one()
        type_of = "typeof(unit_price)" if backend == "sqlite" else "pg_typeof(unit_price)::text"
        price_type = conn.execute(text(f"SELECT {type_of} FROM tariff LIMIT 1")).scalar_one()
    assert price == 5613 and isinstance(price, int)
    assert cap == 2_500_000
    assert price_type in ("integer", "bigint")


def test_money_column_refuses_a_float(stored, uow):
    from models import Convention

    with uow() as work:
        convention = work.session.scalars(select(Convention)).one()
        assert convention.budget_cap == Decimal("25000.00")
        convention.budget_cap = 25000.5
        with pytest.raises(exc.StatementError, match="money must be a Decimal"):
            work.session.flush()


# -- unit of work --------------------------------------------------------------------------------------

def test_unit_of_work_rolls_back_when_not_committed(uow, engine):
    with uow() as work:
        work.session.add(User(key="u1", name="Anne", role="referent"))
        work.session.flush()
        assert work.session.scalars(select(User)).one().key == "u1"
    assert count(engine, "app_user") == 0


def test_unit_of_work_rolls_back_on_error(uow, engine):
    with pytest.raises(RuntimeError, match="boom"):
        with uow() as work:
            work.session.add(User(key="u1", name="Anne", role="referent"))
            work.session.flush()
            raise RuntimeError("boom")
    assert count(engine, "app_user") == 0


def test_unit_of_work_commit_persists_and_next_use_gets_a_fresh_session(uow, engine):
    work = uow()
    with work:
        work.session.add(User(key="u1", name="Anne", role="referent"))
        work.commit()
    assert work.session is None
    with work:
        assert [u.key for u in work.session.scalars(select(User))] == ["u1"]
    assert count(engine, "app_user") == 1


def test_unit_of_work_cannot_be_entered_twice(uow):
    work = uow()
    with work:
        with pytest.raises(RuntimeError, match="already in use"):
            work.__enter__()


# -- schema version --------------------------------------------------------------------------------------

def test_database_from_a_newer_parcours_is_refused_by_main(engine, db_path, tmp_path, capsys):
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()

    status = main.main(["--db", db_path, "import", str(DATA / "example_dataset.json")])

    assert status == 2
    err = capsys.readouterr().err
    assert "version plus récente de Parcours" in err and "9999" in err
    with engine.connect() as conn:  # left as it was: neither upgraded nor filled
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [("9999",)]
        assert conn.execute(text("SELECT COUNT(*) FROM app_user")).scalar_one() == 0
    engine.dispose()
