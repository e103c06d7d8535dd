"""Dérogations: which held sessions wait for a coordinator, and what approving or refusing writes."""
from datetime import date

import pytest

from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from models import HomeSession, Orientation
from models.db import MIGRATIONS_DIR, head_revision, make_engine, migrate
from services.access_export import export_family
from services.errors import PermissionDenied, ValidationError
from services.home_sessions import SessionDraft, list_sessions, record_session
from services.permissions import SYSTEM
from services.retention import anonymise_expired_families
from services.session_exceptions import approve_exceptions, flagged_sessions, refuse_exceptions
from services.uow import unit_of_work_factory
from tests.programme_fixture import load_example, programme  # noqa: F401 - fixture

TODAY = date(2025, 3, 31)


def _second_in_week(p) -> str:
    draft = SessionDraft(p.family["F1"], p.intervenant["i-aes"], date(2025, 3, 13), 60)
    return record_session(p.uow(), p.referent, draft, TODAY).id


def test_holiday_and_second_in_week_sessions_are_flagged(programme):
    second = _second_in_week(programme)
    flagged = {f.session.key if f.session.id != second else "new": f.reasons
               for f in flagged_sessions(programme.uow(), programme.coordinator)}
    assert flagged == {"S1": ("school_holiday",), "new": ("extra_session_in_week",)}  # S1: 04/03, winter holidays


def test_approving_writes_approved_by_and_leaves_the_queue(programme):
    second = _second_in_week(programme)
    assert approve_exceptions(programme.uow(), programme.coordinator, [second]) == 1
    with programme.uow() as w:
        session = w.session.get(HomeSession, second)
        assert session.approved_exception is True and session.approved_by_id == programme.coordinator.id
    assert [f.session.key for f in flagged_sessions(programme.uow(), programme.coordinator)] == ["S1"]


def test_approving_a_batch(programme):
    ids = [f.session.id for f in flagged_sessions(programme.uow(), programme.coordinator)] + [
        _second_in_week(programme)]
    assert approve_exceptions(programme.uow(), programme.coordinator, ids) == 2
    assert flagged_sessions(programme.uow(), programme.coordinator) == ()


def test_only_a_coordinator_approves(programme):
    second = _second_in_week(programme)
    for user in (programme.referent, programme.administrator):
        with pytest.raises(PermissionDenied):
            approve_exceptions(programme.uow(), user, [second])
        with pytest.raises(PermissionDenied):
            refuse_exceptions(programme.uow(), user, [second], "non", TODAY)


def test_refusing_needs_a_reason_and_records_the_decision_on_the_session_not_in_its_notes(programme):
    second = _second_in_week(programme)
    with pytest.raises(ValidationError) as err:
        refuse_exceptions(programme.uow(), programme.coordinator, [second], "  ", TODAY)
    assert err.value.field == "reason"
    refuse_exceptions(programme.uow(), programme.coordinator, [second], "Pas de raison impérieuse", TODAY)
    with programme.uow() as w:
        session = w.session.get(HomeSession, second)
        assert session.approved_exception is False and session.approved_by_id is None
        assert session.exception_refused is True and session.exception_decided_by_id == programme.coordinator.id
        assert session.exception_reason == "Pas de raison impérieuse"
        assert session.notes is None
    assert [f.session.key for f in flagged_sessions(programme.uow(), programme.coordinator)] == ["S1"]


def test_approving_a_refused_session_clears_the_refusal(programme):
    second = _second_in_week(programme)
    refuse_exceptions(programme.uow(), programme.coordinator, [second], "Pas de raison impérieuse", TODAY)
    approve_exceptions(programme.uow(), programme.coordinator, [second])
    with programme.uow() as w:
        session = w.session.get(HomeSession, second)
        assert (session.approved_exception, session.approved_by_id) == (True, programme.coordinator.id)
        assert (session.exception_refused, session.exception_decided_by_id, session.exception_reason) == (
            False, None, None)


def test_upgrade_to_0003_marks_the_sessions_refused_the_old_way(tmp_path):
    """Before 0003 a refusal was a line of the notes: after the upgrade those sessions are refused, still out of the
    queue; a session refused then approved stays approved; the downgrade writes new refusals back into the notes."""
    engine = make_engine(str(tmp_path / "old.sqlite"))
    migrate(engine)
    old = unit_of_work_factory(engine)
    p = load_example(old)
    second = _second_in_week(p)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")  # nothing refused yet: the notes are left as they are
        conn.execute(text("UPDATE home_session SET notes = 'RAS\nDérogation refusée le 31/03/2025 par Sophie "
                          "Durand : non' WHERE id = :id"), {"id": second})
        conn.execute(text("UPDATE home_session SET notes = 'Dérogation refusée le 31/03/2025 par Sophie Durand : "
                          "non', approved_exception = 1, approved_by_id = :c WHERE key = 'S1'"),
                     {"c": p.coordinator.id})  # refused, then approved
    assert migrate(engine) == head_revision()
    with old() as w:
        refused = {s.key: s.exception_refused for s in w.session.scalars(select(HomeSession))}
        second_key = w.session.get(HomeSession, second).key
    assert refused == {"S1": False, "S2": False, "S3": False, "S4": False, second_key: True}
    assert flagged_sessions(old(), p.coordinator) == ()
    with engine.begin() as conn:
        conn.execute(text("UPDATE home_session SET exception_refused = 1, exception_reason = 'hors cadre' "
                          "WHERE key = 'S3'"))
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
        notes = dict(conn.execute(text("SELECT key, notes FROM home_session")).all())
    assert notes["S3"] == "Dérogation refusée : hors cadre"
    assert notes[second_key].count("Dérogation refusée") == 1
    engine.dispose()


def test_empty_selection_is_refused(programme):
    with pytest.raises(ValidationError):
        approve_exceptions(programme.uow(), programme.coordinator, [])


def test_the_refusal_reason_is_in_the_access_export_and_erased_by_retention(programme):
    """The reason is free text about a family: the right of access shows it, the anonymisation erases it."""
    s4 = next(s.id for s in list_sessions(programme.uow(), programme.coordinator) if s.key == "S4")
    refuse_exceptions(programme.uow(), programme.coordinator, [s4], "Famille partie en vacances", TODAY)
    exported = {x["key"]: x for x in export_family(programme.uow(), programme.coordinator, "F2")["sessions"]}
    assert (exported["S4"]["exception_refused"], exported["S4"]["exception_reason"]) == (
        True, "Famille partie en vacances")
    with programme.uow() as w:  # F2's orientation ends: the family is no longer followed
        o2 = w.session.scalars(select(Orientation).where(Orientation.key == "O2")).one()
        o2.status, o2.end_date = "ended", date(2025, 3, 31)
        w.commit()
    report = anonymise_expired_families(programme.uow(), SYSTEM, years=1, today=date(2030, 1, 1))
    assert "F2" in report.anonymised
    with programme.uow() as w:
        session = w.session.get(HomeSession, s4)
        assert (session.exception_refused, session.exception_reason) == (True, None)
