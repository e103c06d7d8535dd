"""Issue 9, conventions other than Atout Plus: the billing model of a convention is data (migration 0007).

An hourly convention, checked by hand: a TISF at 25,00 € per hour, durations rounded up to the quarter hour per
session, no weekly limit, school holidays as ordinary days, no référent expected at the first session. Zone A spring
holidays 2025: from Saturday 19 April to Monday 5 May.

  Tue 01/04  1 h 10 → 1 h 15                         31,25 €
  Tue 08/04  45 min                                  18,75 €
  Tue 15/04 and Thu 17/04, 1 h each (same week)      50,00 €
  Tue 22/04  1 h, in the holidays                    25,00 €
  ------------------------------------------------------------
  5 h (300 billed minutes) × 25,00 €                125,00 €
plus one weekly preparation per week (weeks 14, 15, 16, 17) at 20,07 €: 80,28 €.
"""
from __future__ import annotations

from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal

from alembic.config import Config
from alembic.script import ScriptDirectory
from hypothesis import given, strategies as st
import pytest
from sqlalchemy import select

from models import Convention, Family, Intervenant
from models.db import MIGRATIONS_DIR, head_revision, make_engine, migrate
from services.billing import get_statement, issue_statement
from services.billing.facts import ConventionTerms
from services.billing.labels import KIND_LABELS, quantity_text
from services.billing.pdf import render_statement_pdf
from services.billing.statements import _line
from services.dataset import export_dataset, import_dataset
from services.directory import list_users
from services.home_sessions import SessionDraft, awaiting_decision_ids, check_session, list_sessions
from services.integrity import verify
from services.permissions import SYSTEM
from services.session_exceptions import flagged_sessions
from services.uow import unit_of_work_factory
from tests.billing.migration_steps import downgrade_to, issued_rows
from tests.billing.builders import dataset, family, session

HOURLY = {"sessions_per_week": None, "holidays_need_exception": False, "referent_at_first_session": False,
          "home_unit": "hour"}


def hourly_dataset() -> dict:
    data = dataset()
    data["conventions"][0].update(HOURLY)
    data["conventions"][0]["tariffs"]["TISF"]["home_intervention"] = "25.00"
    family(data, "F1")
    session(data, "a", "F1", "T1", "2025-04-01", minutes=70)
    session(data, "b", "F1", "T1", "2025-04-08", minutes=45)
    session(data, "c", "F1", "T1", "2025-04-15", minutes=60)
    session(data, "d", "F1", "T1", "2025-04-17", minutes=60)
    session(data, "e", "F1", "T1", "2025-04-22", minutes=60)
    return data


def lines_of(statement):
    return [(l.kind, l.qualification, l.quantity, str(l.unit_price), str(l.amount)) for l in statement.lines]


def test_an_hourly_convention_bills_the_minutes_rounded_up_to_the_quarter_hour_at_the_hourly_rate(uow):
    import_dataset(uow(), hourly_dataset())
    april = get_statement(uow(), SYSTEM, "AP", "2025-04")
    assert lines_of(april) == [("home_hours", "TISF", 300, "25.00", "125.00"),
                               ("weekly_preparation", "TISF", 4, "20.07", "80.28")]
    assert april.total == Decimal("205.28")
    assert april.flags == ()  # two in a week, one in the holidays, no référent: all billed, nothing flagged
    (detail,) = april.families
    assert (detail.sessions_billed, detail.minutes_delivered, detail.amount) == (5, 295, Decimal("205.28"))


def test_one_session_of_1_h_10_is_billed_1_h_15_and_one_of_45_minutes_18_75(uow):
    data = hourly_dataset()
    data["sessions"] = [s for s in data["sessions"] if s["key"] in ("a", "b")]
    data["conventions"][0]["tariffs"]["TISF"].pop("weekly_preparation")
    data["sessions"][1]["date"] = "2025-05-13"  # another month
    import_dataset(uow(), data)
    april = get_statement(uow(), SYSTEM, "AP", "2025-04")
    may = get_statement(uow(), SYSTEM, "AP", "2025-05")
    assert [(l.kind, l.quantity, str(l.amount)) for l in april.lines if l.kind == "home_hours"] == [
        ("home_hours", 75, "31.25")]
    assert [(l.kind, l.quantity, str(l.amount)) for l in may.lines if l.kind == "home_hours"] == [
        ("home_hours", 45, "18.75")]


def test_the_hourly_line_is_named_and_counted_in_hours_in_the_pdf():
    assert KIND_LABELS["home_hours"] == "Intervention à domicile (à l'heure)"
    assert [quantity_text("home_hours", m) for m in (735, 75, 120, -45)] == ["12 h 15", "1 h 15", "2 h", "-0 h 45"]
    assert quantity_text("home_intervention", 12) == "12"


def test_an_hourly_statement_is_issued_with_its_pdf_and_the_chain_checks(uow, engine):
    import_dataset(uow(), hourly_dataset())
    for month in ("2025-01", "2025-02", "2025-03", "2025-04"):
        issued = issue_statement(uow(), SYSTEM, "AP", month, render_pdf=render_statement_pdf)
    assert issued.lines[0].kind == "home_hours"
    assert verify(engine).ok


@given(st.integers(min_value=1, max_value=480), st.integers(min_value=0, max_value=20000))
def test_a_line_is_the_rate_times_the_rounded_minutes_over_60_rounded_half_up(duration, cents):
    terms = ConventionTerms("X", "p", "P", "a", date(2025, 1, 1), None, frozenset(), (), None, None, None, "A",
                            home_unit="hour")
    minutes = terms.billed_minutes(duration)
    assert minutes % 15 == 0 and duration <= minutes < duration + 15
    rate = Decimal(cents) / 100
    line = _line(("home_hours", "TISF", rate), minutes, "2025-04")
    assert line.amount == (rate * minutes / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert line.quantity == minutes


def _ids(uow):
    with uow() as u:
        return (u.session.scalar(select(Family.id).where(Family.key == "F1")),
                u.session.scalar(select(Intervenant.id).where(Intervenant.key == "T1")))


def test_the_form_asks_no_derogation_for_an_hourly_convention_without_weekly_limit(uow):
    data = hourly_dataset()
    data["users"].append({"key": "admin", "name": "Alice Admin", "role": "administrator"})
    import_dataset(uow(), data)
    users = {u.key: u for u in list_users(uow())}
    family_id, intervenant_id = _ids(uow)
    for day in (date(2025, 4, 16), date(2025, 4, 23)):  # a 3rd session in a week; a holiday; first without référent
        check = check_session(uow(), users["ref"], SessionDraft(family_id, intervenant_id, day, 60,
                                                                start_time=time(10, 0)), date(2025, 5, 1))
        assert check.errors == () and check.warnings == ()
    assert flagged_sessions(uow(), users["coord"]) == ()
    with uow() as u:
        assert awaiting_decision_ids(u, users["coord"]) == []
    assert {r.decision for r in list_sessions(uow(), users["coord"])} == {None}


def test_the_same_sessions_under_atout_plus_ask_for_derogations(uow):
    data = hourly_dataset()
    for field in HOURLY:
        del data["conventions"][0][field]
    import_dataset(uow(), data)
    users = {u.key: u for u in list_users(uow())}
    family_id, intervenant_id = _ids(uow)
    check = check_session(uow(), users["ref"], SessionDraft(family_id, intervenant_id, date(2025, 4, 23), 60),
                          date(2025, 5, 1))
    assert len(check.warnings) == 2  # the holidays, and a 2nd session in the week
    assert {f.session.key for f in flagged_sessions(uow(), users["coord"])} == {"d", "e"}


def test_an_export_carries_the_settings_and_imports_back_identically(uow, tmp_path):
    data = hourly_dataset()
    data["conventions"][0].update(sessions_per_week=2, hour_rounding_minutes=30)
    import_dataset(uow(), data)
    exported = export_dataset(uow(), SYSTEM)
    (convention,) = exported["conventions"]
    assert {k: convention[k] for k in (*HOURLY, "hour_rounding_minutes")} == {
        **HOURLY, "sessions_per_week": 2, "hour_rounding_minutes": 30}
    engine = make_engine(str(tmp_path / "other.sqlite"))
    migrate(engine)
    other = unit_of_work_factory(engine)
    import_dataset(other(), exported)
    with other() as u:
        stored = u.session.scalars(select(Convention)).one()
        assert (stored.sessions_per_week, stored.holidays_need_exception, stored.referent_at_first_session,
                stored.home_unit, stored.hour_rounding_minutes) == (2, False, False, "hour", 30)
    again = export_dataset(other(), SYSTEM)
    assert again["conventions"] == exported["conventions"]
    engine.dispose()


def test_a_file_without_the_settings_gives_atout_plus_and_exports_without_them(uow):
    data = dataset()
    import_dataset(uow(), data)
    with uow() as u:
        stored = u.session.scalars(select(Convention)).one()
        assert (stored.sessions_per_week, stored.holidays_need_exception, stored.referent_at_first_session,
                stored.home_unit, stored.hour_rounding_minutes) == (1, True, True, "session", 15)
    (convention,) = export_dataset(uow(), SYSTEM)["conventions"]
    assert not set(convention) & {*HOURLY, "hour_rounding_minutes"}


@pytest.mark.sqlite_only("brings the SQLite file back to 0006 (writable_schema, PRAGMA integrity_check)")
def test_the_migration_keeps_issued_statements_byte_identical_and_check_passes(engine, uow):
    """Atout Plus statements issued on a base brought back to 0006 keep payload, PDF and hashes through 0007; the
    convention reads Atout Plus's defaults and the next draft carries no régularisation."""
    data = dataset()
    family(data, "F1")
    session(data, "a", "F1", "A1", "2025-01-21", referent=True)
    session(data, "b", "F1", "A1", "2025-01-23")  # a 2nd in the week, not approved: flagged
    session(data, "c", "F1", "T1", "2025-02-18", minutes=70)  # winter holidays (zone A): flagged
    import_dataset(uow(), data)
    for month in ("2025-01", "2025-02"):
        issue_statement(uow(), SYSTEM, "AP", month, render_pdf=render_statement_pdf)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_revision("0007").down_revision == "0006"
    downgrade_to(engine, "0006")
    before = issued_rows(uow)
    assert migrate(engine) == head_revision()
    after = issued_rows(uow)
    with uow() as u:
        stored = u.session.scalars(select(Convention)).one()
        assert (stored.sessions_per_week, stored.holidays_need_exception, stored.referent_at_first_session,
                stored.home_unit, stored.hour_rounding_minutes) == (1, True, True, "session", 15)
    assert after == before and len(after) == 2
    assert verify(engine).ok
    march = get_statement(uow(), SYSTEM, "AP", "2025-03")
    assert [l for l in march.lines if l.month != "2025-03"] == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
