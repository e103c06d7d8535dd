"""EPS meetings, situations and the orientations the coordination proposes, validates or rejects."""
from datetime import date

import pytest

from sqlalchemy import select

from models import AuditEntry, Orientation
from services.errors import PermissionDenied, ValidationError
from services.orientations import (ConventionLoad, add_situation, convention_capacity, create_eps_meeting,
                                   end_orientation, eps_meeting_detail, list_eps_meetings, list_orientations, propose_orientation,
                                   record_recommendation, reject_orientation, validate_orientation)
from tests.programme_fixture import add_family, programme  # noqa: F401 - fixture

EPS_DAY = date(2025, 4, 8)


def _proposed(p, key="F9") -> tuple[str, str]:
    family = add_family(p, key, f"Famille {key}", p.referent.id)
    meeting = create_eps_meeting(p.uow(), p.coordinator, EPS_DAY, "Séance d'avril")
    situation = add_situation(p.uow(), p.coordinator, meeting.id, family, "Atout Plus")
    orientation = propose_orientation(p.uow(), p.coordinator, situation.id, p.convention["ap-2025"])
    return meeting.id, orientation.id


def test_a_meeting_records_situations_recommendations_and_proposals(programme):
    meeting_id, orientation_id = _proposed(programme)
    detail = eps_meeting_detail(programme.uow(), programme.coordinator, meeting_id)
    assert detail.meeting.key == "EPS-2025-04-08" and detail.meeting.situation_count == 1
    situation = detail.situations[0]
    record_recommendation(programme.uow(), programme.coordinator, situation.id, "Atout Plus, TISF")
    situation = eps_meeting_detail(programme.uow(), programme.coordinator, meeting_id).situations[0]
    assert situation.recommendation == "Atout Plus, TISF"
    assert [(o.id, o.status, o.eps_date) for o in situation.orientations] == [(orientation_id, "proposed", EPS_DAY)]
    assert list_eps_meetings(programme.uow(), programme.coordinator)[0].situation_count == 1


def test_two_meetings_on_one_day_get_distinct_keys(programme):
    first = create_eps_meeting(programme.uow(), programme.coordinator, EPS_DAY)
    second = create_eps_meeting(programme.uow(), programme.coordinator, EPS_DAY)
    assert (first.key, second.key) == ("EPS-2025-04-08", "EPS-2025-04-08-2")


def test_a_family_is_studied_once_per_meeting_and_proposed_once_per_convention(programme):
    meeting = create_eps_meeting(programme.uow(), programme.coordinator, EPS_DAY)
    situation = add_situation(programme.uow(), programme.coordinator, meeting.id, programme.family["F1"])
    with pytest.raises(ValidationError):
        add_situation(programme.uow(), programme.coordinator, meeting.id, programme.family["F1"])
    with pytest.raises(ValidationError) as err:  # F1 already has a validated Atout Plus orientation
        propose_orientation(programme.uow(), programme.coordinator, situation.id, programme.convention["ap-2025"])
    assert "déjà une orientation validée" in err.value.message


def test_validating_writes_decision_day_and_coordinator(programme):
    _, orientation_id = _proposed(programme)
    row = validate_orientation(programme.uow(), programme.coordinator, orientation_id, date(2025, 4, 10))
    assert (row.status, row.decided_on, row.decided_by_name) == ("validated", date(2025, 4, 10), "Sophie Durand")
    with programme.uow() as w:
        assert w.session.get(Orientation, orientation_id).decided_by_id == programme.coordinator.id
    assert list_orientations(programme.uow(), programme.coordinator, status="proposed") == ()


def test_decision_cannot_precede_the_eps(programme):
    _, orientation_id = _proposed(programme)
    with pytest.raises(ValidationError) as err:
        validate_orientation(programme.uow(), programme.coordinator, orientation_id, date(2025, 4, 7))
    assert err.value.field == "decided_on" and "08/04/2025" in err.value.message


def test_rejecting_requires_and_writes_a_reason(programme):
    _, orientation_id = _proposed(programme)
    with pytest.raises(ValidationError) as err:
        reject_orientation(programme.uow(), programme.coordinator, orientation_id, "", EPS_DAY)
    assert err.value.field == "reason"
    row = reject_orientation(programme.uow(), programme.coordinator, orientation_id, "Famille déménagée", EPS_DAY)
    assert (row.status, row.reason) == ("rejected", "Famille déménagée")
    with pytest.raises(ValidationError):  # nothing left to decide
        validate_orientation(programme.uow(), programme.coordinator, orientation_id, EPS_DAY)


def test_only_the_coordination_decides(programme):
    _, orientation_id = _proposed(programme)
    with pytest.raises(PermissionDenied):
        validate_orientation(programme.uow(), programme.referent, orientation_id, EPS_DAY)
    with pytest.raises(PermissionDenied):
        reject_orientation(programme.uow(), programme.administrator, orientation_id, "non", EPS_DAY)
    with pytest.raises(PermissionDenied):
        create_eps_meeting(programme.uow(), programme.referent, EPS_DAY)


def test_capacity_counts_families_with_an_orientation_in_force(programme):
    [load] = convention_capacity(programme.uow(), programme.coordinator, date(2025, 3, 1))
    assert (load.max_families, load.families, load.level) == (18, 2, "ok")
    assert convention_capacity(programme.uow(), programme.coordinator, date(2025, 1, 1))[0].families == 0  # decided on 20/01


@pytest.mark.parametrize("families, level", [(17, "ok"), (18, "near"), (20, "near"), (21, "over")])
def test_capacity_levels(families, level):
    assert ConventionLoad("c", "AP", 20, families).level == level


def _o1(p) -> str:
    with p.uow() as w:
        return w.session.scalar(select(Orientation.id).where(Orientation.key == "O1"))  # F1, decided 20/01/2025


def _end_entries(p) -> list[tuple[str, str, str]]:
    with p.uow() as w:
        return [(e.actor_key, e.record_key, e.changed_fields)
                for e in w.session.scalars(select(AuditEntry).where(AuditEntry.action == "end"))]


def test_ending_a_validated_orientation_writes_end_reason_and_audit(programme):
    row = end_orientation(programme.uow(), programme.coordinator, _o1(programme), date(2025, 3, 31),
                          "  Objectifs atteints  ")
    assert (row.status, row.end_date, row.reason, row.status_label) == (
        "ended", date(2025, 3, 31), "Objectifs atteints", "Terminée")
    assert _end_entries(programme) == [("coord-durand", "O1", '["end_date", "reason", "status"]')]
    # it still covers the days up to its end, not after
    assert convention_capacity(programme.uow(), programme.coordinator, date(2025, 3, 31))[0].families == 2
    assert convention_capacity(programme.uow(), programme.coordinator, date(2025, 4, 1))[0].families == 1


def test_ending_requires_a_date_not_before_the_decision_and_a_reason(programme):
    o1 = _o1(programme)
    with pytest.raises(ValidationError) as err:
        end_orientation(programme.uow(), programme.coordinator, o1, date(2025, 1, 19), "")
    assert err.value.problems == {"end": "La fin ne peut pas précéder la décision du 20/01/2025.",
                                  "reason": "Indiquez le motif de la fin de l'orientation."}
    with pytest.raises(ValidationError) as err:
        end_orientation(programme.uow(), programme.coordinator, o1, None, "Déménagement")
    assert err.value.field == "end"
    assert end_orientation(programme.uow(), programme.coordinator, o1, date(2025, 1, 20), "Déménagement").status == (
        "ended")
    with pytest.raises(ValidationError) as err:  # already ended
        end_orientation(programme.uow(), programme.coordinator, o1, date(2025, 3, 1), "Encore")
    assert "Seule une orientation validée" in err.value.message
    assert len(_end_entries(programme)) == 1


def test_only_a_validated_orientation_can_be_ended(programme):
    _, proposed = _proposed(programme)
    with pytest.raises(ValidationError, match="proposée"):
        end_orientation(programme.uow(), programme.coordinator, proposed, date(2025, 4, 10), "Sans objet")
    assert _end_entries(programme) == []


def test_only_the_coordination_ends_an_orientation(programme):
    o1 = _o1(programme)
    for user in (programme.referent, programme.administrator):
        with pytest.raises(PermissionDenied):
            end_orientation(programme.uow(), user, o1, date(2025, 3, 1), "Fin")
    with programme.uow() as w:
        assert w.session.get(Orientation, o1).status == "validated"
    assert _end_entries(programme) == []
