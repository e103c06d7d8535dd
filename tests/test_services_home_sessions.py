"""Recording home sessions: the form's rules, the key, the scope of each role, the lists, corrections."""
import json
from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from models import AuditEntry, Family, HomeSession
from services.errors import NotFound, PermissionDenied, ValidationError
from services.home_sessions import (SessionDraft, SessionQuery, check_session, count_sessions, delete_session,
                                    get_session, list_sessions, parse_duration, record_session, update_session,
                                    usual_intervenant, week_sessions)
from tests.programme_fixture import add_family, programme  # noqa: F401 - fixture

TODAY = date(2025, 3, 20)


def draft(p, **changes) -> SessionDraft:
    values = dict(family_id=p.family["F1"], intervenant_id=p.intervenant["i-aes"], date=date(2025, 3, 18),
                  duration_minutes=60)
    values.update(changes)
    return SessionDraft(**values)


@pytest.mark.parametrize("text, minutes", [("90", 90), ("90 min", 90), ("1h30", 90), ("1 h 30", 90), ("1:30", 90),
                                           ("2h", 120), ("1,5", 90), ("1.5h", 90), ("45mn", 45)])
def test_parse_duration_reads_what_people_type(text, minutes):
    assert parse_duration(text) == minutes


@given(st.integers(min_value=1, max_value=600))
def test_parse_duration_hours_and_minutes_round_trip(minutes):
    assert parse_duration(f"{minutes // 60}h{minutes % 60:02d}") == minutes


@pytest.mark.parametrize("text", ["", "abc", "1h75", "-3"])
def test_parse_duration_refuses_unreadable_text_on_the_duration_field(text):
    with pytest.raises(ValidationError) as err:
        parse_duration(text)
    assert err.value.field == "duration"


def test_a_future_date_is_an_error_on_the_date_field(programme):
    check = check_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 21)), TODAY)
    assert [(i.field, "futur" in i.message) for i in check.errors] == [("date", True)]


@pytest.mark.parametrize("minutes, words", [(0, "supérieure à zéro"), (481, "au plus 8 h"), (None, "Indiquez")])
def test_duration_must_be_between_one_minute_and_eight_hours(programme, minutes, words):
    check = check_session(programme.uow(), programme.referent, draft(programme, duration_minutes=minutes), TODAY)
    assert [i.field for i in check.errors] == ["duration"]
    assert words in check.errors[0].message


def test_eight_hours_exactly_is_accepted(programme):
    assert check_session(programme.uow(), programme.referent, draft(programme, duration_minutes=480), TODAY).ok


def test_no_validated_orientation_on_the_day_warns_and_the_held_session_is_recorded(programme):
    without = draft(programme, date=date(2025, 1, 15))
    check = check_session(programme.uow(), programme.referent, without, TODAY)
    assert check.ok
    assert [w.field for w in check.warnings if "Aucune orientation validée" in w.message] == ["family"]
    assert "pas payée" in next(w.message for w in check.warnings if w.field == "family")
    row = record_session(programme.uow(), programme.referent, without, TODAY)
    assert get_session(programme.uow(), programme.referent, row.id).date == date(2025, 1, 15)


def test_a_stale_correction_is_refused_and_keeps_the_newer_edit(programme):
    from services.errors import StaleEdit

    row = record_session(programme.uow(), programme.referent, draft(programme), TODAY)
    newer = update_session(programme.uow(), programme.referent, row.id, draft(programme, duration_minutes=90), TODAY,
                           based_on=row.updated_at)
    with pytest.raises(StaleEdit) as err:
        update_session(programme.uow(), programme.referent, row.id, draft(programme, duration_minutes=30), TODAY,
                       based_on=row.updated_at)
    assert "entre-temps" in err.value.message
    assert get_session(programme.uow(), programme.referent, row.id).duration_minutes == 90
    with pytest.raises(StaleEdit):
        delete_session(programme.uow(), programme.coordinator, row.id, based_on=row.updated_at)
    delete_session(programme.uow(), programme.coordinator, row.id, based_on=newer.updated_at)


def test_an_earlier_session_in_the_week_names_the_later_one_as_the_extra(programme):
    record_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 19)), TODAY)
    check = check_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 17)), TODAY)
    [message] = [w.message for w in check.warnings if "Deuxième séance" in w.message]
    assert "séance du 19/03/2025 qui devra être approuvée" in message
    later = check_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 20)), TODAY)
    [message] = [w.message for w in later.warnings if "Deuxième séance" in w.message]
    assert "déjà une le 19/03/2025" in message and "celle-ci devra être approuvée" in message


def test_rows_say_which_sessions_await_a_decision_and_the_filter_finds_them(programme):
    first = record_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 17)), TODAY)
    second = record_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 19)), TODAY)
    rows = {r.id: r for r in list_sessions(programme.uow(), programme.referent)}
    assert rows[first.id].decision is None and rows[second.id].decision == "awaiting"
    assert rows[second.id].decision_label == "À décider"
    awaiting = list_sessions(programme.uow(), programme.referent, SessionQuery(decision="awaiting"))
    assert second.id in {r.id for r in awaiting} and first.id not in {r.id for r in awaiting}
    assert all(r.decision == "awaiting" for r in awaiting)
    in_march = list_sessions(programme.uow(), programme.referent, SessionQuery(month="2025-03"))
    assert in_march and all(r.date.month == 3 for r in in_march)
    absent = list_sessions(programme.uow(), programme.coordinator, SessionQuery(status="family_absent"))
    assert absent and all(r.status == "family_absent" for r in absent)


def test_school_holidays_warn_that_approval_is_needed(programme):
    check = check_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 2, 25)), TODAY)
    assert check.ok
    assert any("Vacances scolaires" in w.message and "coordination" in w.message for w in check.warnings)


def test_second_session_in_the_week_warns(programme):
    check = check_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 13)),
                          TODAY)  # S2 on 11/03
    assert check.ok
    assert any("Deuxième séance de la semaine" in w.message and "11/03/2025" in w.message for w in check.warnings)


def test_cancelled_sessions_raise_no_exception_warning(programme):
    cancelled = draft(programme, date=date(2025, 3, 13), status="cancelled")
    check = check_session(programme.uow(), programme.referent, cancelled, TODAY)
    assert check.ok and check.warnings == ()


def test_first_session_without_referent_warns(programme):
    family_f2 = dict(family_id=programme.family["F2"], intervenant_id=programme.intervenant["i-tisf"])
    check = check_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 2, 18), **family_f2),
                          TODAY)
    assert [w.field for w in check.warnings] == ["referent_present"]


def test_record_session_saves_with_a_generated_key(programme):
    row = record_session(programme.uow(), programme.referent,
                         draft(programme, start_time=time(14, 0), children_present=2, notes="  Devoirs  "), TODAY)
    assert row.key.startswith("S-") and len(row.key) == 12
    assert (row.family_name, row.intervenant_name, row.duration_minutes, row.notes) == (
        "Famille Lefèvre", "Nadia Benali", 60, "Devoirs")
    assert count_sessions(programme.uow(), programme.referent) == 5


def test_record_session_refuses_invalid_draft_with_the_field_at_fault(programme):
    with pytest.raises(ValidationError) as err:
        record_session(programme.uow(), programme.referent, draft(programme, duration_minutes=600), TODAY)
    assert err.value.field == "duration"
    assert count_sessions(programme.uow(), programme.referent) == 4


def test_an_administrator_cannot_record_sessions(programme):
    with pytest.raises(PermissionDenied):
        record_session(programme.uow(), programme.administrator, draft(programme), TODAY)


def test_a_referent_cannot_record_for_a_family_they_do_not_follow(programme):
    other = add_family(programme, "F9", "Famille Autre")
    with pytest.raises(PermissionDenied):
        record_session(programme.uow(), programme.referent, draft(programme, family_id=other), TODAY)


def test_referents_see_only_their_families_sessions(programme):
    other = add_family(programme, "F9", "Famille Autre")
    assert count_sessions(programme.uow(), programme.referent) == 4
    assert count_sessions(programme.uow(), programme.coordinator, SessionQuery(family_id=other)) == 0


def test_list_sessions_sorts_filters_and_pages_in_the_database(programme):
    by_family = list_sessions(programme.uow(), programme.coordinator, SessionQuery(sort="family", descending=False))
    assert [r.family_name for r in by_family] == ["Famille Diallo"] * 2 + ["Famille Lefèvre"] * 2
    assert [r.key for r in list_sessions(programme.uow(), programme.coordinator, SessionQuery(text="morel"))] == [
        "S4", "S3"]
    assert [r.key for r in list_sessions(programme.uow(), programme.coordinator, offset=1, limit=2)] == ["S2", "S3"]


def test_usual_intervenant_is_the_one_of_the_latest_held_session(programme):
    usual = usual_intervenant(programme.uow(), programme.referent, programme.family["F2"])
    assert usual == programme.intervenant["i-tisf"]


def test_week_view_shades_school_holidays(programme):
    holidays = week_sessions(programme.uow(), programme.referent, date(2025, 2, 26))
    assert holidays.monday == date(2025, 2, 24) and all(d.school_holiday for d in holidays.days)
    term = week_sessions(programme.uow(), programme.referent, date(2025, 3, 12))
    assert not any(d.school_holiday for d in term.days)
    assert [s.key for s in term.sessions] == ["S2", "S4"]


# -- correcting and deleting a session ---------------------------------------------------------------------

def _session_id(p, key: str) -> str:
    with p.uow() as w:
        return w.session.scalar(select(HomeSession.id).where(HomeSession.key == key))


def _audit(p, action: str) -> list[tuple[str, str, str, list[str]]]:
    with p.uow() as w:
        return [(e.actor_key, e.record_type, e.record_key, json.loads(e.changed_fields))
                for e in w.session.scalars(select(AuditEntry).where(AuditEntry.action == action))]


def _approve(p, key: str) -> None:
    with p.uow() as w:
        session = w.session.scalar(select(HomeSession).where(HomeSession.key == key))
        session.approved_exception, session.approved_by_id = True, p.coordinator.id
        w.commit()


def test_update_session_keeps_the_key_and_audits_the_changed_field_names(programme):
    s2 = _session_id(programme, "S2")  # F1, 11/03/2025, 60 min, referent absent
    row = update_session(programme.uow(), programme.referent, s2,
                         draft(programme, date=date(2025, 3, 11), start_time=time(14, 0), duration_minutes=90,
                               notes="Devoirs"), TODAY)
    assert (row.id, row.key, row.duration_minutes, row.notes) == (s2, "S2", 90, "Devoirs")
    assert count_sessions(programme.uow(), programme.referent) == 4
    assert _audit(programme, "update") == [("ref-martin", "home_session", "S2", ["duration_minutes", "notes"])]


def test_update_session_applies_the_form_rules_in_french(programme):
    s2 = _session_id(programme, "S2")
    with pytest.raises(ValidationError) as err:
        update_session(programme.uow(), programme.referent, s2, draft(programme, date=date(2025, 3, 21)), TODAY)
    assert err.value.field == "date" and "futur" in err.value.message
    with pytest.raises(ValidationError) as err:
        update_session(programme.uow(), programme.referent, s2, draft(programme, duration_minutes=0), TODAY)
    assert err.value.field == "duration" and "supérieure à zéro" in err.value.message
    assert _audit(programme, "update") == []


def test_update_session_does_not_count_the_session_itself_in_its_week(programme):
    s2 = _session_id(programme, "S2")  # alone in its week: moving it within the week is no second session
    check = check_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 12)), TODAY,
                          exclude_id=s2)
    assert not any("Deuxième séance" in w.message for w in check.warnings)
    row = update_session(programme.uow(), programme.referent, s2, draft(programme, date=date(2025, 3, 12)), TODAY)
    assert row.date == date(2025, 3, 12)


def test_a_referent_cannot_correct_a_session_of_a_family_they_do_not_follow(programme):
    other = add_family(programme, "F9", "Famille Autre")
    s3 = _session_id(programme, "S3")  # F2 (followed)
    with pytest.raises(PermissionDenied):  # moving it to a family not followed
        update_session(programme.uow(), programme.referent, s3, draft(programme, family_id=other), TODAY)
    with programme.uow() as w:
        w.session.get(Family, programme.family["F2"]).referent_id = None  # F2 no longer followed
        w.commit()
    with pytest.raises(PermissionDenied):
        update_session(programme.uow(), programme.referent, s3,
                       draft(programme, family_id=programme.family["F2"], intervenant_id=programme.intervenant["i-tisf"]),
                       TODAY)
    with pytest.raises(PermissionDenied):
        update_session(programme.uow(), programme.administrator, s3, draft(programme), TODAY)
    assert _audit(programme, "update") == []
    assert get_session(programme.uow(), programme.coordinator, s3).duration_minutes == 90


def test_changing_an_approved_session_withdraws_the_approval_but_a_note_does_not(programme):
    s2 = _session_id(programme, "S2")
    _approve(programme, "S2")
    same = dict(date=date(2025, 3, 11), start_time=time(14, 0))
    row = update_session(programme.uow(), programme.coordinator, s2, draft(programme, notes="Vu", **same), TODAY)
    assert row.approved_exception
    row = update_session(programme.uow(), programme.coordinator, s2,
                         draft(programme, notes="Vu", duration_minutes=45, **same), TODAY)
    assert not row.approved_exception
    with programme.uow() as w:
        assert w.session.get(HomeSession, s2).approved_by_id is None
    assert [a[3] for a in _audit(programme, "update")] == [
        ["notes"], ["approved_by_id", "approved_exception", "duration_minutes"]]


def test_only_the_coordination_deletes_a_session_and_it_is_audited(programme):
    s2 = _session_id(programme, "S2")
    with pytest.raises(PermissionDenied):
        delete_session(programme.uow(), programme.referent, s2)
    with pytest.raises(PermissionDenied):
        delete_session(programme.uow(), programme.administrator, s2)
    assert count_sessions(programme.uow(), programme.coordinator) == 4 and _audit(programme, "delete") == []
    delete_session(programme.uow(), programme.coordinator, s2)
    assert count_sessions(programme.uow(), programme.coordinator) == 3
    [(actor, kind, key, _fields)] = _audit(programme, "delete")
    assert (actor, kind, key) == ("coord-durand", "home_session", "S2")
    with pytest.raises(NotFound):
        delete_session(programme.uow(), programme.coordinator, s2)


def test_on_the_same_day_the_warning_names_the_later_session_with_its_time(programme):
    record_session(programme.uow(), programme.referent,
                   draft(programme, date=date(2025, 3, 19), start_time=time(14, 0)), TODAY)
    check = check_session(programme.uow(), programme.referent, draft(programme, date=date(2025, 3, 19)), TODAY)
    [message] = [w.message for w in check.warnings if "Deuxième séance" in w.message]
    assert "la séance du 19/03/2025 à 14:00 qui devra être approuvée" in message
