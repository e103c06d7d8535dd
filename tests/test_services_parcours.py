"""Opening, suspending, resuming and closing a child's parcours; children about to leave the age range."""
from datetime import date

import pytest

from services.errors import PermissionDenied, ValidationError
from services.families import family_file
from services.parcours import (add_months, children_turning_17, close_parcours, open_parcours, resume_parcours,
                               suspend_parcours)
from tests.programme_fixture import programme  # noqa: F401 - fixture

DAY = date(2025, 3, 3)


def _child(p, first_name="Emma"):
    file = family_file(p.uow(), p.coordinator, p.family["F1"], DAY)
    return next(c for c in file.children if c.first_name == first_name)


def test_open_suspend_resume_close(programme):
    child = _child(programme)
    row = open_parcours(programme.uow(), programme.coordinator, child.id, DAY, "Langage")
    assert (row.status, row.start_date, row.referent_name) == ("open", DAY, "Claire Martin")
    assert suspend_parcours(programme.uow(), programme.coordinator, row.id).status == "suspended"
    assert resume_parcours(programme.uow(), programme.coordinator, row.id).status == "open"
    closed = close_parcours(programme.uow(), programme.coordinator, row.id, date(2025, 6, 30), "Déménagement")
    assert (closed.status, closed.end_date, closed.exit_reason) == ("closed", date(2025, 6, 30), "Déménagement")
    assert _child(programme).current_parcours.status == "closed"


def test_one_running_parcours_per_child(programme):
    child = _child(programme, "Lucas")  # P1 is open
    with pytest.raises(ValidationError):
        open_parcours(programme.uow(), programme.coordinator, child.id, DAY)


def test_closing_needs_an_exit_reason_and_an_end_after_the_start(programme):
    parcours_id = _child(programme, "Lucas").current_parcours.id
    with pytest.raises(ValidationError) as err:
        close_parcours(programme.uow(), programme.coordinator, parcours_id, DAY, " ")
    assert err.value.field == "exit_reason"
    with pytest.raises(ValidationError) as err:
        close_parcours(programme.uow(), programme.coordinator, parcours_id, date(2024, 12, 1), "Fin")
    assert err.value.field == "end"


def test_only_the_coordination_changes_a_parcours(programme):
    parcours_id = _child(programme, "Lucas").current_parcours.id
    with pytest.raises(PermissionDenied):
        suspend_parcours(programme.uow(), programme.referent, parcours_id)


def test_children_turning_17_within_three_months(programme):
    # Lucas Lefèvre, born 02/04/2016, turns 17 on 02/04/2033
    leaving = children_turning_17(programme.uow(), programme.coordinator, date(2033, 1, 3))
    assert [(c.child_name, c.leaves_on, c.parcours_status) for c in leaving] == [
        ("Lucas Lefèvre", date(2033, 4, 2), "open")]
    assert children_turning_17(programme.uow(), programme.coordinator, date(2032, 12, 1)) == ()
    assert children_turning_17(programme.uow(), programme.coordinator, date(2033, 4, 3)) == ()


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 1, 15), 12) == date(2026, 1, 15)
