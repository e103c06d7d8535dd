"""Reads that show personal data leave one « read » entry per call in the audit log (issue 15): the sessions list
when its notes are shown (first page of a query only), a family's hours, the month's hours, the sessions awaiting a
dérogation, an EPS meeting's detail, a statement printed with the families' names; the audit page names them."""
import json

from models.db import make_engine
from services import activity, audit, home_sessions, orientations, session_exceptions
from services.home_sessions import SessionQuery
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory
from tests.billing.test_statement_cli import db, run  # noqa: F401 (fixture)
from tests.billing.test_worked_example import worked  # noqa: F401 (fixture)
from tests.service_cases import actor
from tests.both_stores import env, template  # noqa: F401 (fixtures, on both stores)
from ui.pages.audit_page import ACTION_LABELS, RECORD_TYPE_LABELS

NEW_READS = {("read", "home_session"), ("read", "family_hours"), ("read", "activity"), ("read", "exception"),
             ("read", "eps_meeting"), ("read", "statement_names"), ("login_failed", "login_name")}


def new_entries(env, call):
    before = {row[0] for row in env.audit_rows()}
    call()
    return [(r[1], r[2], r[3], r[4], json.loads(r[5])) for r in env.audit_rows() if r[0] not in before]


def test_the_sessions_list_with_notes_is_audited_once_per_query_not_per_page(env):
    coordinator = actor(env, "coordinator")
    first = new_entries(env, lambda: home_sessions.list_sessions(env.uow(), coordinator, SessionQuery(), 0, 2))
    later = new_entries(env, lambda: home_sessions.list_sessions(env.uow(), coordinator, SessionQuery(), 2, 2))
    assert first == [("coord-durand", "read", "home_session", "liste", [])]
    assert later == []


def test_the_sessions_list_of_one_family_is_audited_under_the_familys_key(env):
    referent = actor(env, "referent")
    query = SessionQuery(family_id=env.id("family", "F1"))
    assert new_entries(env, lambda: home_sessions.list_sessions(env.uow(), referent, query)) == [
        ("ref-martin", "read", "home_session", "F1", [])]


def test_the_sessions_list_without_notes_is_not_audited(env):
    admin = actor(env, "administrator")
    assert new_entries(env, lambda: home_sessions.list_sessions(env.uow(), admin)) == []


def test_a_familys_hours_and_the_months_hours_are_audited(env):
    coordinator = actor(env, "coordinator")
    assert new_entries(env, lambda: activity.family_hours(env.uow(), coordinator, env.id("family", "F3"))) == [
        ("coord-durand", "read", "family_hours", "F3", [])]
    admin = actor(env, "administrator")
    assert new_entries(env, lambda: activity.monthly_activity(env.uow(), admin, "2025-03")) == [
        ("admin-petit", "read", "activity", "2025-03", [])]


def test_the_sessions_awaiting_a_derogation_are_audited_at_each_call(env):
    coordinator = actor(env, "coordinator")
    rows = new_entries(env, lambda: [session_exceptions.flagged_sessions(env.uow(), coordinator) for _ in range(2)])
    assert rows == [("coord-durand", "read", "exception", "liste", [])] * 2


def test_an_eps_meetings_detail_is_audited_under_its_key(env):
    coordinator = actor(env, "coordinator")
    detail = []
    rows = new_entries(env, lambda: detail.append(
        orientations.eps_meeting_detail(env.uow(), coordinator, env.id("eps", "EPS-2025-01"))))
    assert rows == [("coord-durand", "read", "eps_meeting", "EPS-2025-01", [])]
    assert detail[0].meeting.key == "EPS-2025-01" and detail[0].situations


def test_a_statement_printed_with_the_families_names_is_audited_and_one_without_is_not(db, capsys, tmp_path):
    assert run(db, capsys, "--month", "2025-02", "--pdf", str(tmp_path / "codes.pdf"))[0] == 0
    assert run(db, capsys, "--month", "2025-02", "--pdf", str(tmp_path / "noms.pdf"), "--with-names")[0] == 0
    engine = make_engine(db)
    try:
        entries = audit.list_entries(unit_of_work_factory(engine)(), SYSTEM, action="read")
    finally:
        engine.dispose()
    assert [(e.actor_key, e.record_type, e.record_key) for e in entries] == [("system", "statement_names", "AP/2025-02")]


def test_the_audit_page_names_every_new_read():
    for action, record_type in NEW_READS:
        assert action in ACTION_LABELS and record_type in RECORD_TYPE_LABELS, (action, record_type)
    assert ACTION_LABELS["read"] == "Consultation"
