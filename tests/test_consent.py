"""The parents' consent: which families lack it (so the window can warn), and recording it with its checks."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from models import Family
from services import text_rules
from services.consent import MAX_SCOPE_LENGTH, families_without_consent, record_consent
from services.dataset import import_dataset
from services.directory import CurrentUser
from services.errors import NotFound, ValidationError
from services.permissions import SYSTEM
from services.retention import anonymise_expired_families
from tests.billing.builders import dataset
from tests.test_retention import add_family, audit_entries

TODAY = date(2025, 6, 15)
LATER = date(2028, 1, 1)  # GONE, whose orientation ended in February 2025, is then past its retention period


@pytest.fixture
def families(uow):
    data = dataset()
    data["users"].append({"key": "ref2", "name": "Bruno Petit", "role": "referent"})
    add_family(data, "WITH", "Famille Accord", consent_date="2025-01-05", consent_scope="Atout Plus")
    add_family(data, "NONE", "Famille Zéro")
    add_family(data, "NOSCOPE", "Famille Sans Objet", consent_date="2025-01-05")
    add_family(data, "NODATE", "Famille Sans Date", consent_scope="Atout Plus")
    add_family(data, "OTHER", "Famille Autre", decided_on=None)
    data["families"][-1]["referent"] = "ref2"
    add_family(data, "GONE", "Famille Partie", decided_on="2025-01-10", end="2025-02-28")
    import_dataset(uow(), data)
    return uow


def user(uow, key: str) -> CurrentUser:
    from models import User
    with uow() as u:
        found = u.session.scalars(select(User).where(User.key == key)).one()
        return CurrentUser(found.id, found.key, found.name, found.role)


def coordinator(uow) -> CurrentUser:
    return user(uow, "coord")


def stored(uow, key: str) -> tuple:
    with uow() as u:
        family = u.session.scalars(select(Family).where(Family.key == key)).one()
        return family.consent_date, family.consent_scope


# ---------------------------------------------------------------------------------------------- the warning list

def test_families_without_consent_date_or_scope_are_listed_with_code_name_and_referent(families):
    rows = families_without_consent(families(), coordinator(families))
    assert [(r.key, r.name, r.referent_name) for r in rows] == [
        ("OTHER", "Famille Autre", "Bruno Petit"), ("GONE", "Famille Partie", "Claire Martin"),
        ("NODATE", "Famille Sans Date", "Claire Martin"), ("NOSCOPE", "Famille Sans Objet", "Claire Martin"),
        ("NONE", "Famille Zéro", "Claire Martin")]


def test_a_scope_of_blanks_counts_as_missing(families):
    with families() as u:
        u.session.execute(text("UPDATE family SET consent_scope = '   ' WHERE key = 'WITH'"))
        u.commit()
    assert "WITH" in {r.key for r in families_without_consent(families(), coordinator(families))}


def test_a_referent_sees_only_the_families_they_follow(families):
    assert [r.key for r in families_without_consent(families(), user(families, "ref2"))] == ["OTHER"]
    assert len(families_without_consent(families(), coordinator(families))) == 5


def test_anonymised_families_are_no_longer_listed(families):
    assert anonymise_expired_families(families(), SYSTEM, today=LATER).anonymised == ("GONE",)
    assert "GONE" not in {r.key for r in families_without_consent(families(), coordinator(families))}


# ---------------------------------------------------------------------------------------------- recording

def test_consent_is_recorded_trimmed_and_audited_by_field_name(families):
    record = record_consent(families(), coordinator(families), "NONE", date(2025, 6, 1),
                            "  Atout Plus ; échanges en EPS  ", today=TODAY)
    assert (record.family_key, record.consent_date, record.consent_scope) == (
        "NONE", date(2025, 6, 1), "Atout Plus ; échanges en EPS")
    assert stored(families, "NONE") == (date(2025, 6, 1), "Atout Plus ; échanges en EPS")
    [entry] = audit_entries(families, "record_consent")
    assert (entry.record_key, entry.actor_key, entry.changed_fields) == (
        "NONE", "coord", ("consent_date", "consent_scope"))
    assert "NONE" not in {r.key for r in families_without_consent(families(), coordinator(families))}


def test_today_is_accepted_and_a_timestamp_counts_as_its_day(families):
    recorded = record_consent(families(), coordinator(families), "NONE", TODAY, "Atout Plus", today=TODAY)
    assert recorded.consent_date == TODAY
    assert record_consent(families(), coordinator(families), "NONE", datetime(2025, 6, 2, 10, 30), "Atout Plus",
                          today=TODAY).consent_date == date(2025, 6, 2)


@pytest.mark.parametrize("day, scope, field, message", [
    (date(2025, 6, 16), "Atout Plus", "consent_date",
     "La date du consentement (16/06/2025) ne peut pas être dans le futur (nous sommes le 15/06/2025)."),
    (None, "Atout Plus", "consent_date", "Indiquez la date à laquelle la famille a donné son accord."),
    ("2025-06-01", "Atout Plus", "consent_date", "La date du consentement n'est pas une date valide."),
    (date(2025, 6, 1), "", "consent_scope", "Précisez ce à quoi la famille a consenti (objet du consentement)."),
    (date(2025, 6, 1), "   \n ", "consent_scope", "Précisez ce à quoi la famille a consenti (objet du consentement)."),
    (date(2025, 6, 1), None, "consent_scope", "Précisez ce à quoi la famille a consenti (objet du consentement)."),
    (date(2025, 6, 1), 42, "consent_scope", "L'objet du consentement doit être un texte."),
    (date(2025, 6, 1), "x" * 301, "consent_scope",
     "L'objet du consentement ne peut pas dépasser 300 caractères (301 saisis)."),
    (date(2025, 6, 1), "Atout\x00Plus", "consent_scope",
     "L'objet du consentement contient un caractère invalide (caractère de contrôle)."),
    (date(2025, 6, 1), "Atout \ud800", "consent_scope",
     "L'objet du consentement contient un caractère invalide (caractère de contrôle)."),
])
def test_invalid_consent_is_refused_with_a_french_message_on_its_field(families, day, scope, field, message):
    with pytest.raises(ValidationError) as refused:
        record_consent(families(), coordinator(families), "NOSCOPE", day, scope, today=TODAY)
    assert (refused.value.message, refused.value.field) == (message, field)
    assert stored(families, "NOSCOPE") == (date(2025, 1, 5), None)  # nothing written


def test_a_scope_of_exactly_300_characters_is_accepted(families):
    longest = record_consent(families(), coordinator(families), "NONE", TODAY, "é" * MAX_SCOPE_LENGTH, today=TODAY)
    assert len(longest.consent_scope) == 300


def test_unknown_or_anonymised_family_is_refused(families):
    with pytest.raises(NotFound, match="Aucune famille de code « NOPE »"):
        record_consent(families(), coordinator(families), "NOPE", TODAY, "Atout Plus", today=TODAY)
    anonymise_expired_families(families(), SYSTEM, today=LATER)
    with pytest.raises(ValidationError, match="Cette famille a été anonymisée"):
        record_consent(families(), coordinator(families), "GONE", TODAY, "Atout Plus", today=TODAY)


# Without the characters services.text_rules refuses (the unit of work turns them away): those are its tests'.
scopes = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), min_size=1,
                 max_size=MAX_SCOPE_LENGTH).filter(lambda t: text_rules.first_forbidden(t, text_rules.TEXT) is None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scope=scopes, days_ago=st.integers(0, 5000))
def test_any_printable_scope_up_to_300_characters_is_stored_as_typed_without_surrounding_spaces(
        families, scope, days_ago):
    day = date.fromordinal(TODAY.toordinal() - days_ago)
    if not scope.strip():
        with pytest.raises(ValidationError):
            record_consent(families(), coordinator(families), "NONE", day, scope, today=TODAY)
        return
    record_consent(families(), coordinator(families), "NONE", day, scope, today=TODAY)
    assert stored(families, "NONE") == (day, scope.strip())
