"""The administrator's management of partners, intervenants and conventions (Qt-free)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.billing import issue_statement
from services.conventions_admin import (ConventionInput, ConventionLocked, IntervenantInput, InvalidFields,
                                        create_convention, create_intervenant, create_partner, get_convention,
                                        list_conventions, list_intervenants, list_partners, lock_message,
                                        months_between, parse_amount, rename_partner, tariff_field,
                                        update_convention, update_intervenant)
from services.dataset import import_dataset, parse_json
from services.directory import CurrentUser, list_users
from services.errors import NotFound, PermissionDenied
from tests.conftest import DATA

ADMIN, COORDINATOR, REFERENT = "admin-petit", "coord-durand", "ref-martin"
KINDS = ("home_intervention", "weekly_preparation", "launch_meeting", "period_end_meeting")


@pytest.fixture
def store(uow):
    import_dataset(uow(), parse_json((DATA / "example_dataset.json").read_text(encoding="utf-8")))
    return uow


def person(uow, key: str | None) -> CurrentUser | None:
    """The imported account of that key; an unknown key gives an account the store does not hold."""
    if key is None:
        return None
    return {u.key: u for u in list_users(uow())}.get(key) or CurrentUser("0", key, key, "administrator")


def admin(uow) -> CurrentUser:
    return person(uow, ADMIN)


def as_input(convention, **changes) -> ConventionInput:
    """The editor's submission for an existing convention, unchanged unless told."""
    data = ConventionInput(
        key=convention.key, partner=convention.partner, action=convention.action, start=convention.start,
        end=convention.end, max_families=convention.max_families, budget_cap=convention.budget_cap,
        budget_imputation=convention.budget_imputation, period_end_months=convention.period_end_months,
        tariffs={(t.qualification, t.kind): t.unit_price for t in convention.tariffs},
        sessions_per_week=convention.sessions_per_week, holidays_need_exception=convention.holidays_need_exception,
        referent_at_first_session=convention.referent_at_first_session, home_unit=convention.home_unit,
        hour_rounding_minutes=convention.hour_rounding_minutes)
    return replace(data, **changes)


def new_convention(**changes) -> ConventionInput:
    data = ConventionInput(
        key="AS-2026", partner="adom", action="Accompagnement scolaire", start=date(2026, 1, 1),
        end=date(2026, 12, 31), max_families="12", budget_cap="20 000,00", budget_imputation="Chapitre 65",
        period_end_months=(6, 12), tariffs={("AES", k): "31,50" for k in KINDS})
    return replace(data, **changes)


def test_lists_show_the_imported_partner_intervenants_and_convention_with_its_tariff_table(store):
    assert [(p.key, p.name, p.intervenants, p.conventions) for p in list_partners(store(), admin(store))] == [
        ("adom", "Adom 01", 2, 1)]
    assert [(i.name, i.qualification, i.partner_name) for i in list_intervenants(store(), admin(store))] == [
        ("Julien Morel", "TISF", "Adom 01"), ("Nadia Benali", "AES", "Adom 01")]
    (convention,) = list_conventions(store(), admin(store))
    assert convention.key == "ap-2025" and convention.partner_name == "Adom 01"
    assert convention.period_end_months == (2, 4, 7, 10, 12)
    assert convention.tariff("TISF", "weekly_preparation") == Decimal("20.07")
    assert convention.budget_cap == Decimal("25000.00") and convention.max_families == 18
    assert convention.issued_months == () and not convention.locked and lock_message(convention) is None


def test_months_of_a_convention_run_over_its_period_and_the_next_to_issue_is_the_first_draft(store):
    convention = get_convention(store(), admin(store), "ap-2025")
    months = convention.months(today=date(2030, 1, 1))
    assert months[0] == "2025-01" and months[-1] == "2025-12" and len(months) == 12
    issue_statement(store(), admin(store), "ap-2025", "2025-01")
    assert get_convention(store(), admin(store), "ap-2025").next_to_issue(date(2030, 1, 1)) == "2025-02"
    assert months_between("2025-11", "2026-02") == ("2025-11", "2025-12", "2026-01", "2026-02")


def test_open_ended_convention_lists_months_up_to_today(store):
    convention = replace(get_convention(store(), admin(store), "ap-2025"), end=None)
    assert convention.months(today=date(2026, 2, 10))[-1] == "2026-02"


def test_administrator_creates_a_convention_with_french_amounts(store):
    created = create_convention(store(), admin(store), new_convention())
    assert created.budget_cap == Decimal("20000.00") and created.max_families == 12
    assert created.tariff("AES", "home_intervention") == Decimal("31.50")
    assert created.tariff("TISF", "home_intervention") is None  # a blank cell is no tariff
    assert created.action == "Accompagnement scolaire" and created.period_end_months == (6, 12)
    assert {c.key for c in list_conventions(store(), admin(store))} == {"ap-2025", "AS-2026"}


def test_negative_tariff_is_refused_with_a_message_on_its_cell(store):
    with pytest.raises(InvalidFields) as refused:
        create_convention(store(), admin(store), new_convention(tariffs={("AES", "home_intervention"): "-3,00"}))
    assert refused.value.problems == {
        tariff_field("AES", "home_intervention"): "Le montant ne peut pas être négatif."}
    assert refused.value.field == "tariffs.AES.home_intervention"
    with pytest.raises(InvalidFields):
        create_convention(store(), admin(store), new_convention(tariffs={("TISF", "launch_meeting"): Decimal("-0.01")}))
    assert [c.key for c in list_conventions(store(), admin(store))] == ["ap-2025"]


def test_every_wrong_field_is_reported_at_once(store):
    with pytest.raises(InvalidFields) as refused:
        create_convention(store(), admin(store), new_convention(
            key="ap-2025", end=date(2025, 6, 30), period_end_months=(0, 13), budget_cap="12,345",
            max_families="-2", tariffs={("AES", "home_intervention"): "abc"}))
    assert set(refused.value.problems) == {"key", "end", "period_end_months", "budget_cap", "max_families",
                                           "tariffs.AES.home_intervention"}
    assert "existe déjà" in refused.value.problems["key"]
    assert "précède le début" in refused.value.problems["end"]


@pytest.mark.parametrize("text, expected", [
    ("56,13", Decimal("56.13")), ("56.1", Decimal("56.10")), (" 1 234,50 € ", Decimal("1234.50")),
    ("0", Decimal("0.00")), ("", None), (Decimal("30"), Decimal("30.00")), (None, None)])
def test_amounts_read_french_or_dotted_text_and_decimals(text, expected):
    problems = {}
    assert parse_amount(text, "x", problems) == expected and problems == {}


@pytest.mark.parametrize("value", ["-1", "1,234", "12e3", "NaN", "1.2.3", Decimal("1.005"), Decimal("NaN"), 1.5])
def test_amounts_refuse_negative_overprecise_or_unreadable_values(value):
    problems = {}
    assert parse_amount(value, "x", problems) is None and "x" in problems


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=Decimal("-1000"), max_value=Decimal("1000"), places=2, allow_nan=False))
def test_amount_text_round_trips_with_the_french_comma(value):
    problems = {}
    text = f"{value:.2f}".replace(".", ",")
    result = parse_amount(text, "x", problems)
    assert (result == value and not problems) if value >= 0 else (result is None and "x" in problems)


def test_only_an_administrator_may_write(store):
    for key in (COORDINATOR, REFERENT, None, "nobody"):
        user = person(store, key)
        with pytest.raises(PermissionDenied):
            create_partner(store(), user, "pep", "PEP 01")
        with pytest.raises(PermissionDenied):
            update_convention(store(), user, "ap-2025", as_input(get_convention(store(), admin(store), "ap-2025")))
    assert [p.key for p in list_partners(store(), admin(store))] == ["adom"]


def test_administrator_creates_and_renames_partners_and_intervenants(store):
    create_partner(store(), admin(store), "pep", "Les PEP de l'Ain")
    assert rename_partner(store(), admin(store), "pep", "PEP 01").name == "PEP 01"
    with pytest.raises(InvalidFields) as refused:
        create_partner(store(), admin(store), "pep", "")
    assert set(refused.value.problems) == {"key", "name"}
    created = create_intervenant(store(), admin(store), IntervenantInput("i-new", "Inès Roux", "TISF", "pep"))
    assert (created.partner, created.partner_name) == ("pep", "PEP 01")
    moved = update_intervenant(store(), admin(store), "i-new", IntervenantInput("i-new", "Inès Roux-Blanc", "AES", "adom"))
    assert (moved.name, moved.qualification, moved.partner) == ("Inès Roux-Blanc", "AES", "adom")
    with pytest.raises(InvalidFields) as refused:
        create_intervenant(store(), admin(store), IntervenantInput("i-x", "X", " ", "nowhere"))
    assert set(refused.value.problems) == {"qualification", "partner"}
    with pytest.raises(NotFound):
        update_intervenant(store(), admin(store), "missing", IntervenantInput("missing", "X", "AES", "adom"))


def test_tariffs_and_period_months_change_while_nothing_is_issued(store):
    convention = get_convention(store(), admin(store), "ap-2025")
    updated = update_convention(store(), admin(store), "ap-2025", as_input(
        convention, period_end_months=(6, 12), tariffs={("AES", "home_intervention"): "32,00"}))
    assert len(updated.tariffs) == 1 and updated.tariff("AES", "home_intervention") == Decimal("32.00")
    assert updated.period_end_months == (6, 12)


def test_issued_month_freezes_tariffs_and_period_and_says_how_to_change_them(store):
    issue_statement(store(), admin(store), "ap-2025", "2025-01")
    convention = get_convention(store(), admin(store), "ap-2025")
    assert convention.locked and convention.issued_months == ("2025-01",)
    attempts = {
        "tariffs": {**as_input(convention).tariffs, ("AES", "home_intervention"): Decimal("35.00")},
        "start": date(2025, 2, 1), "end": date(2025, 6, 30), "period_end_months": (6, 12), "partner": None,
    }
    create_partner(store(), admin(store), "pep", "PEP 01")
    attempts["partner"] = "pep"
    for name, value in attempts.items():
        with pytest.raises(ConventionLocked) as refused:
            update_convention(store(), admin(store), "ap-2025", as_input(convention, **{name: value}))
        assert refused.value.field == name
        assert "nouvelle convention ou un avenant avec sa date de début" in refused.value.message
        assert refused.value.message == lock_message(convention)
    assert get_convention(store(), admin(store), "ap-2025") == convention


def test_issued_convention_keeps_its_cap_families_and_imputation_editable(store):
    issue_statement(store(), admin(store), "ap-2025", "2025-01")
    convention = get_convention(store(), admin(store), "ap-2025")
    updated = update_convention(store(), admin(store), "ap-2025", as_input(
        convention, max_families="20", budget_cap="30000", budget_imputation="Article 6574"))
    assert (updated.max_families, updated.budget_cap, updated.budget_imputation) == (20, Decimal("30000.00"),
                                                                                     "Article 6574")
    assert updated.tariffs == convention.tariffs


def test_a_new_convention_can_be_hourly_without_weekly_limit_and_bad_rules_are_refused_by_field(store):
    created = create_convention(store(), admin(store), new_convention(
        sessions_per_week=None, holidays_need_exception=False, referent_at_first_session=False, home_unit="hour"))
    assert (created.sessions_per_week, created.holidays_need_exception, created.referent_at_first_session,
            created.home_unit, created.hour_rounding_minutes) == (None, False, False, "hour", 15)
    with pytest.raises(InvalidFields) as refused:
        update_convention(store(), admin(store), "AS-2026", as_input(created, sessions_per_week=0, home_unit="day",
                                                                    hour_rounding_minutes=0))
    assert set(refused.value.problems) == {"sessions_per_week", "home_unit", "hour_rounding_minutes"}


def test_issued_month_freezes_the_billing_rules(store):
    issue_statement(store(), admin(store), "ap-2025", "2025-01")
    convention = get_convention(store(), admin(store), "ap-2025")
    for name, value in (("sessions_per_week", None), ("holidays_need_exception", False),
                        ("referent_at_first_session", False), ("home_unit", "hour"), ("hour_rounding_minutes", 30)):
        with pytest.raises(ConventionLocked) as refused:
            update_convention(store(), admin(store), "ap-2025", as_input(convention, **{name: value}))
        assert refused.value.field == name
    assert get_convention(store(), admin(store), "ap-2025") == convention
