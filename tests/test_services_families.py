"""« Mes familles » and the family file."""
from datetime import date

import pytest

from services.errors import PermissionDenied
from services.families import family_choices, family_file, list_families
from tests.programme_fixture import add_family, programme  # noqa: F401 - fixture

TODAY = date(2025, 3, 20)


def test_a_referent_lists_the_families_they_follow_with_their_figures(programme):
    add_family(programme, "F9", "Famille Autre")
    rows = {r.key: r for r in list_families(programme.uow(), programme.referent, TODAY)}
    assert set(rows) == {"F1", "F2"}
    f1 = rows["F1"]
    assert (f1.children, f1.active_orientations, f1.last_session, f1.sessions_this_month) == (
        2, 1, date(2025, 3, 11), 2)
    assert rows["F2"].sessions_this_month == 1  # the family_absent session does not count
    assert len(list_families(programme.uow(), programme.coordinator, TODAY)) == 3
    assert [c.key for c in family_choices(programme.uow(), programme.referent)] == ["F2", "F1"]


def test_family_file_gathers_household_children_parcours_orientations_sessions_and_hours(programme):
    file = family_file(programme.uow(), programme.referent, programme.family["F1"], TODAY)
    assert (file.name, file.address, file.priority_neighbourhood) == ("Famille Lefèvre", "12 rue des Lilas", True)
    assert [g.name for g in file.guardians] == ["Aurélie Lefèvre"]
    assert [(c.first_name, c.age) for c in file.children] == [("Lucas", 8), ("Emma", 5)]
    assert file.children[0].current_parcours.objectives == "Confiance en soi, organisation du travail"
    assert [o.status_label for o in file.orientations] == ["Validée"]
    assert [s.key for s in file.sessions] == ["S2", "S1"]
    assert file.hours.total_minutes == 120
    assert [(t.name, t.minutes) for t in file.hours.by_intervenant] == [("Nadia Benali", 120)]
    assert file.usual_intervenant_id == programme.intervenant["i-aes"]
    labels = [e.label for e in file.timeline]
    assert labels[0].startswith("Première séance") and any("EPS" in label for label in labels)


def test_a_referent_cannot_open_the_file_of_a_family_they_do_not_follow(programme):
    other = add_family(programme, "F9", "Famille Autre")
    with pytest.raises(PermissionDenied):
        family_file(programme.uow(), programme.referent, other, TODAY)
    assert family_file(programme.uow(), programme.coordinator, other, TODAY).sessions == ()
