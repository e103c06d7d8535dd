"""Dérogations: which held sessions wait for a coordinator, and what approving or refusing writes."""
from datetime import date

import pytest

from models import HomeSession
from services.errors import PermissionDenied, ValidationError
from services.home_sessions import SessionDraft, record_session
from services.session_exceptions import approve_exceptions, flagged_sessions, refuse_exceptions
from tests.programme_fixture import programme  # noqa: F401 - fixture

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


def test_refusing_needs_a_reason_and_writes_it_in_the_notes(programme):
    second = _second_in_week(programme)
    with pytest.raises(ValidationError) as err:
        refuse_exceptions(programme.uow(), programme.coordinator, [second], "  ", TODAY)
    assert err.value.field == "reason"
    refuse_exceptions(programme.uow(), programme.coordinator, [second], "Pas de raison impérieuse", TODAY)
    with programme.uow() as w:
        session = w.session.get(HomeSession, second)
        assert session.approved_exception is False and session.approved_by_id is None
        assert "Dérogation refusée le 31/03/2025 par Sophie Durand : Pas de raison impérieuse" in session.notes
    assert [f.session.key for f in flagged_sessions(programme.uow(), programme.coordinator)] == ["S1"]


def test_empty_selection_is_refused(programme):
    with pytest.raises(ValidationError):
        approve_exceptions(programme.uow(), programme.coordinator, [])
