"""Migration 0012 (the closed lists the reports count) on both stores: the CHECKs refuse a code outside its list,
the reasons of a parcours go with it, the migration goes down to 0011 and up again, and models and migrations agree
on the new columns."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from models import Base
from models.db import MIGRATIONS_DIR

NEW_COLUMNS = {
    "family": {"qpv_name"},
    "child": {"school_level", "priority_education"},
    "parcours": {"exit_reason_code", "referral_source", "referral_source_other", "referral_reason_other",
                 "support_profile", "support_profile_other"},
    "programme": {"qpv_names"},
}
STAMP = "'2026-01-05 10:00:00+00'"


def _alembic(engine, verb: str, target: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, target)


def _seed(conn) -> None:
    conn.execute(text(f"INSERT INTO family (id, key, name, commune, priority_neighbourhood, created_at, updated_at) "
                      f"VALUES ('f1', 'F-1', 'Foyer', 'Bourg', false, {STAMP}, {STAMP})"))
    conn.execute(text(f"INSERT INTO child (id, key, family_id, first_name, last_name, birth_date, created_at, "
                      f"updated_at) VALUES ('c1', 'C-1', 'f1', 'Léa', 'Martin', '2016-03-01', {STAMP}, {STAMP})"))
    conn.execute(text(f"INSERT INTO parcours (id, key, child_id, status, created_at, updated_at) "
                      f"VALUES ('p1', 'P-1', 'c1', 'open', {STAMP}, {STAMP})"))


@pytest.mark.parametrize("sql", [
    "UPDATE child SET school_level = 'cp' WHERE id = 'c1'",
    "UPDATE child SET priority_education = 'rep+' WHERE id = 'c1'",
    "UPDATE parcours SET referral_source = 'mairie' WHERE id = 'p1'",
    "UPDATE parcours SET support_profile = 'leger' WHERE id = 'p1'",
    "UPDATE parcours SET exit_reason_code = 'fin' WHERE id = 'p1'",
    "INSERT INTO parcours_reason (parcours_id, reason) VALUES ('p1', 'ennui')",
])
def test_a_code_outside_its_closed_list_is_refused_by_the_database(engine, sql):
    with engine.begin() as conn:
        _seed(conn)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(sql))


def test_codes_of_the_lists_are_stored_and_the_reasons_go_with_their_parcours(engine):
    with engine.begin() as conn:
        _seed(conn)
        conn.execute(text("UPDATE child SET school_level = 'college', priority_education = 'rep_plus'"))
        conn.execute(text("UPDATE parcours SET referral_source = 'autre', referral_source_other = 'Club de foot', "
                          "support_profile = 'renforce', exit_reason_code = 'demenagement'"))
        conn.execute(text("INSERT INTO parcours_reason (parcours_id, reason) VALUES ('p1', 'sante'), "
                          "('p1', 'langage')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO parcours_reason (parcours_id, reason) VALUES ('p1', 'sante')"))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM parcours WHERE id = 'p1'"))
        assert conn.execute(text("SELECT count(*) FROM parcours_reason")).scalar() == 0


def test_the_migration_goes_down_to_0011_and_up_again_keeping_the_rows(engine):
    with engine.begin() as conn:
        _seed(conn)
        conn.execute(text("UPDATE family SET qpv_name = 'Croix-Blanche'"))
    _alembic(engine, "downgrade", "0011")
    columns = {c["name"] for c in inspect(engine).get_columns("parcours")}
    assert not columns & NEW_COLUMNS["parcours"] and "parcours_reason" not in inspect(engine).get_table_names()
    _alembic(engine, "upgrade", "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, qpv_name FROM family")).one() == ("Foyer", None)


def test_models_and_migration_agree_on_the_new_columns_and_table(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in differences if _touches_mine(d)]
    assert mine == []


def _touches_mine(difference) -> bool:
    """A difference about parcours_reason or one of the new columns (other helpers' tables are not this test's)."""
    flat = difference if isinstance(difference, tuple) else difference[0]
    for item in flat:
        name = getattr(item, "name", None)
        table = getattr(getattr(item, "table", None), "name", None)
        if name == "parcours_reason" or table == "parcours_reason":
            return True
        if isinstance(item, str) and item in NEW_COLUMNS and any(
                getattr(x, "name", None) in NEW_COLUMNS[item] for x in flat):
            return True
    return False
