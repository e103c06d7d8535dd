"""Issue 9's hand-made year, checked by hand: a September–August convention whose cap is passed in the spring, an
intervenant who qualifies as TISF on 1 June, an avenant on 1 July, another partner's intervenant at the launch
meeting, and a late session after every month is issued, carried by the closing statement.

One held session a month (approved, so a holiday date changes nothing), i.e. one home intervention and one weekly
preparation: AES 30,00 + 15,00 = 45,00 ; TISF 56,13 + 20,07 = 76,20 ; TISF after the avenant 58,00 + 21,00 = 79,00.
"""
from datetime import date
from decimal import Decimal

import pytest

from services.billing import get_statement, issue_statement
from services.billing.statements import get_closing_statement, issue_closing_statement
from services.dataset import import_dataset
from services.home_sessions import SessionDraft, record_session
from services.permissions import SYSTEM
from services.session_exceptions import approve_exceptions
from tests.billing.builders import dataset, family, meeting, session

MONTHS = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
          "2026-06", "2026-07", "2026-08"]
DAYS = ["2025-09-09", "2025-10-07", "2025-11-18", "2025-12-09", "2026-01-13", "2026-02-03", "2026-03-10",
        "2026-04-28", "2026-05-12", "2026-06-09", "2026-07-07", "2026-08-25"]
AVENANT = {"AES": {"home_intervention": "32.00", "weekly_preparation": "16.00", "launch_meeting": "32.00",
                   "period_end_meeting": "32.00"},
           "TISF": {"home_intervention": "58.00", "weekly_preparation": "21.00", "launch_meeting": "58.00",
                    "period_end_meeting": "58.00"}}


@pytest.fixture
def year(uow):
    data = dataset()
    data["conventions"][0].update({"start": "2025-09-01", "end": "2026-08-31", "budget_cap": "400.00",
                                   "period_end_months": [], "amendments": [{"start": "2026-07-01",
                                                                            "tariffs": AVENANT}]})
    data["partners"].append({"key": "pep", "name": "Les PEP de l'Ain"})
    a1 = next(i for i in data["intervenants"] if i["key"] == "A1")
    a1.update({"qualification": "TISF", "history": [
        {"from": None, "qualification": "AES", "partner": "adom"},
        {"from": "2026-06-01", "qualification": "TISF", "partner": "adom"}]})
    data["intervenants"].append({"key": "P1", "partner": "pep", "name": "Inès Garnier", "qualification": "AES"})
    family(data, "F1", decided_on="2025-09-01")
    for n, day in enumerate(DAYS):
        session(data, f"s{n}", "F1", "A1", day, referent=True, approved=True)
    meeting(data, "M-launch", "launch", "2025-09-16", ["A1", "P1"])
    import_dataset(uow(), data)
    return uow


def test_each_month_bills_at_the_qualification_and_tariff_in_force_and_the_cap_is_passed_in_may(year):
    totals = {}
    for month in MONTHS:
        statement = issue_statement(year(), SYSTEM, "AP", month)
        totals[month] = statement.total
        assert not statement.regularisation_lines, month  # nothing issued is ever re-priced
        if month == "2026-04":
            assert (statement.period_to_date, statement.over_budget) == (Decimal("390.00"), False)
        if month == "2026-05":
            assert (statement.period_to_date, statement.over_budget) == (Decimal("435.00"), True)
    assert totals["2025-09"] == Decimal("75.00")  # 45,00 + the launch meeting of Nadia Benali (AES) only
    assert {totals[m] for m in MONTHS[1:9]} == {Decimal("45.00")}  # AES until May
    assert totals["2026-06"] == Decimal("76.20")  # TISF from 1 June
    assert totals["2026-07"] == totals["2026-08"] == Decimal("79.00")  # the avenant from 1 July
    september = get_statement(year(), SYSTEM, "AP", "2025-09")
    assert [(f.kind, f.intervenant, f.billed) for f in september.flags if f.meeting] == [
        ("not_partner_intervenant", "P1", False)]


def test_a_late_august_session_after_the_last_month_is_carried_by_the_closing_statement(year, uow):
    for month in MONTHS:
        issue_statement(year(), SYSTEM, "AP", month)
    from services.directory import list_users

    users = {u.key: u for u in list_users(uow())}
    late = record_session(uow(), users["coord"], SessionDraft(
        family_id=_id(uow, "F1"), intervenant_id=_id(uow, "A1", intervenant=True), date=date(2026, 8, 18),
        duration_minutes=60, referent_present=True), date(2026, 9, 2))
    approve_exceptions(uow(), users["coord"], [late.id])
    closing = get_closing_statement(uow(), SYSTEM, "AP")
    assert [(l.kind, l.qualification, l.quantity, l.amount, l.month) for l in closing.lines] == [
        ("home_intervention", "TISF", 1, Decimal("58.00"), "2026-08"),
        ("weekly_preparation", "TISF", 1, Decimal("21.00"), "2026-08")]
    issued = issue_closing_statement(uow(), SYSTEM, "AP")
    assert (issued.number, issued.total) == ("AP-013", Decimal("79.00"))


def _id(uow, key: str, intervenant: bool = False) -> str:
    from sqlalchemy import select

    from models import Family, Intervenant

    model = Intervenant if intervenant else Family
    with uow() as w:
        return w.session.scalar(select(model.id).where(model.key == key))
