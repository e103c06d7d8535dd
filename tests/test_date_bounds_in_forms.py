"""A date typed with a slip (1025 for 2025) is refused by every form of the window with a French message under its
field, as the import refuses it (services.date_bounds)."""
from datetime import date

import pytest

from services.consent import check_consent
from services.errors import InvalidFields, ValidationError
from services.home_sessions import SessionDraft, check_session
from services.orientations import create_eps_meeting, end_orientation
from services.parcours import close_parcours
from tests.programme_fixture import programme  # noqa: F401 - fixture

TODAY = date(2025, 3, 20)


def test_a_session_dated_before_2000_is_an_error_on_the_date(programme):  # noqa: F811
    draft = SessionDraft(family_id=programme.family["F1"], intervenant_id=programme.intervenant["i-aes"],
                         date=date(1025, 3, 18), duration_minutes=60)
    check = check_session(programme.uow(), programme.referent, draft, TODAY)
    assert [(i.field, "hors de la période admise" in i.message) for i in check.errors] == [("date", True)]


def test_an_eps_meeting_in_2205_is_refused_on_its_date(programme):  # noqa: F811
    with pytest.raises(ValidationError) as err:
        create_eps_meeting(programme.uow(), programme.coordinator, date(2205, 3, 18))
    assert err.value.field == "date" and "hors de la période admise" in err.value.message


def test_a_consent_of_1925_is_refused_on_its_date():
    with pytest.raises(ValidationError) as err:
        check_consent(date(1925, 3, 1), "Parcours", TODAY)
    assert err.value.field == "consent_date" and "entre le 01/01/2000" in err.value.message


def test_the_end_of_a_parcours_or_an_orientation_in_9999_is_refused(programme):  # noqa: F811
    from sqlalchemy import select

    from models import Orientation, Parcours

    with programme.uow() as w:
        parcours_id = w.session.scalars(select(Parcours.id)).first()
        orientation_id = w.session.scalars(select(Orientation.id).where(Orientation.status == "validated")).first()
    with pytest.raises(ValidationError) as err:
        close_parcours(programme.uow(), programme.coordinator, parcours_id, date(9999, 12, 31), "Déménagement")
    assert err.value.field == "end"
    with pytest.raises(InvalidFields) as err:
        end_orientation(programme.uow(), programme.coordinator, orientation_id, date(9999, 12, 31), "Fin")
    assert "hors de la période admise" in err.value.problems["end"]
