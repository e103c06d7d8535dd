"""The same migrations on PostgreSQL (the team server's store of record): an empty database reaches the head
revision, the example programme imports, an issued statement is frozen by PostgreSQL's own triggers, and the whole
chain goes down to nothing and up again. Each test gets its own database (tests/postgres.py); without a PostgreSQL
they are skipped with « PostgreSQL absent : … »."""
from decimal import Decimal

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from models import Base
from models.db import MIGRATIONS_DIR, current_revision, head_revision, make_engine, migrate
from services.billing import get_statement, issue_statement, list_issued
from services.uow import unit_of_work_factory
from tests.programme_fixture import load_example

FROZEN_SQL = [
    "UPDATE statement SET total = 0",
    "DELETE FROM statement",
    "UPDATE statement_line SET quantity = quantity + 1",
    "DELETE FROM statement_line",
]


@pytest.fixture
def pg_engine(postgres_url):
    engine = make_engine(postgres_url)
    assert engine.dialect.name == "postgresql"
    yield engine
    engine.dispose()


def alembic(engine, verb: str, target: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, target)


def tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def own_functions(engine) -> set[str]:
    """The functions the migrations created in the public schema (the trigger functions)."""
    with engine.connect() as conn:
        return set(conn.scalars(text(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'")))


def test_migrate_brings_an_empty_postgresql_database_to_the_head_revision(pg_engine):
    assert tables(pg_engine) == set() and current_revision(pg_engine) is None
    assert migrate(pg_engine) == head_revision()
    assert current_revision(pg_engine) == head_revision()
    assert tables(pg_engine) == set(Base.metadata.tables)
    assert migrate(pg_engine) == head_revision()  # a second run is a no-op


def test_example_programme_imports_and_issued_rows_are_frozen_by_postgresql(pg_engine):
    migrate(pg_engine)
    programme = load_example(unit_of_work_factory(pg_engine))
    assert len(programme.family) == 2 and set(programme.convention) == {"ap-2025"}
    uow = programme.uow
    for month in ("2025-01", "2025-02", "2025-03"):
        march = issue_statement(uow(), programme.administrator, "ap-2025", month)
    assert [s.number for s in list_issued(uow(), programme.administrator, "ap-2025")] == [
        "ap-2025-001", "ap-2025-002", "ap-2025-003"]
    assert march.total > Decimal("0") and march.lines
    assert get_statement(uow(), programme.administrator, "ap-2025", "2025-03") == march  # read back, not recomputed
    with pg_engine.connect() as conn:
        before = conn.execute(text("SELECT sum(total), (SELECT count(*) FROM statement_line) FROM statement")).one()
    assert before[1] == len(march.lines)
    for sql in FROZEN_SQL:
        with pytest.raises(Exception, match="issued statements are frozen"):
            with pg_engine.begin() as conn:
                conn.execute(text(sql))
    with pg_engine.connect() as conn:
        after = conn.execute(text("SELECT sum(total), (SELECT count(*) FROM statement_line) FROM statement")).one()
    assert after == before


@pytest.mark.parametrize("sql, refusal", [
    ("UPDATE audit_log SET action = 'x'", "modification interdite"),
    ("DELETE FROM audit_log", "suppression interdite"),
    ("TRUNCATE audit_log", "modification interdite"),
])
def test_audit_log_is_append_only_on_postgresql_too(pg_engine, sql, refusal):
    migrate(pg_engine)
    load_example(unit_of_work_factory(pg_engine))  # the import writes audit rows
    with pg_engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM audit_log")).scalar()
    assert count > 0
    with pytest.raises(Exception, match=refusal):
        with pg_engine.begin() as conn:
            conn.execute(text(sql))
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == count


def test_downgrade_to_base_and_upgrade_again_on_postgresql(pg_engine):
    migrate(pg_engine)
    functions_at_head = own_functions(pg_engine)
    alembic(pg_engine, "downgrade", "base")
    assert current_revision(pg_engine) is None
    assert tables(pg_engine) == set()
    assert own_functions(pg_engine) == set()  # no trigger function left behind to collide with the next upgrade
    assert migrate(pg_engine) == head_revision()
    assert tables(pg_engine) == set(Base.metadata.tables)
    assert own_functions(pg_engine) == functions_at_head


def test_models_and_migrations_agree_on_postgresql(pg_engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    migrate(pg_engine)
    with pg_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
