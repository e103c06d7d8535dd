"""Fuzzing the session form's service: odd Unicode, markup characters, 10,000-character notes, impossible values.
Every input either saves a whole session or raises a DomainError with a French message; nothing else."""
from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import AuditEntry, HomeSession
from services.errors import DomainError
from services.home_sessions import SessionDraft, parse_duration, record_session
from tests.programme_fixture import programme  # noqa: F401  (fixture)

TODAY = date(2025, 6, 30)
odd_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50).map(lambda s: f"<b>&{s}</b> \u202e\u0000"),
    st.just("é" * 10_000),
    st.just("\ud800 lone surrogate"),
    st.none(),
)
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(text=st.text(max_size=30))
def test_duration_text_is_read_or_refused_in_french(text):
    try:
        minutes = parse_duration(text)
    except DomainError as exc:
        assert exc.field == "duration" and exc.message
    else:
        assert isinstance(minutes, int) and minutes >= 0


def counts(programme):
    with programme.uow() as w:
        return (w.session.scalar(select(func.count()).select_from(HomeSession)),
                w.session.scalar(select(func.count()).select_from(AuditEntry)))


@FUZZ
@given(notes=odd_text,
       day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
       minutes=st.integers(-100, 2000) | st.none(),
       status=st.sampled_from(("held", "cancelled", "family_absent")) | st.text(max_size=12),
       children=st.integers(-5, 100) | st.none(),
       start=st.times() | st.none(),
       family=st.sampled_from(("F1", "F2", "unknown")))
def test_any_input_saves_a_whole_session_or_is_refused_with_nothing_written(
        programme, notes, day, minutes, status, children, start, family):
    before = counts(programme)
    draft = SessionDraft(family_id=programme.family.get(family, "no-such-id"),
                         intervenant_id=programme.intervenant["i-aes"], date=day, duration_minutes=minutes,
                         status=status, start_time=start, children_present=children, notes=notes)
    try:
        row = record_session(programme.uow(), programme.referent, draft, TODAY)
    except DomainError as exc:
        assert exc.message
        assert counts(programme) == before
    else:
        assert counts(programme) == (before[0] + 1, before[1] + 1)  # the session and its audit row
        assert row.date == day and row.duration_minutes == minutes
        assert (row.notes or None) == ((notes or "").strip() or None)


def test_time_and_ten_thousand_character_notes_survive_the_round_trip(programme):
    notes = "Séance <b>&amp; « jeu »</b> " + "x" * 10_000
    row = record_session(programme.uow(), programme.referent, SessionDraft(
        family_id=programme.family["F1"], intervenant_id=programme.intervenant["i-aes"], date=date(2025, 6, 3),
        duration_minutes=60, start_time=time(14, 0), notes=notes), TODAY)
    assert row.notes == notes.strip()


def test_a_lone_surrogate_in_the_notes_is_refused_in_french_and_nothing_is_written(programme):
    draft = SessionDraft(family_id=programme.family["F1"], intervenant_id=programme.intervenant["i-aes"],
                         date=date(2025, 6, 3), duration_minutes=60, notes="\ud800 moitié de caractère")
    before = counts(programme)
    with pytest.raises(DomainError, match="caractère invalide"):
        record_session(programme.uow(), programme.referent, draft, TODAY)
    assert counts(programme) == before
