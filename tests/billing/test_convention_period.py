"""The cap and the indicative maximum of families hold over the convention's own period, not the calendar year.

Dijon, PEP 21 (shared/seeds/003): « du 1er septembre 2016 au 31 août 2017 … ne peut excéder 49 975 € ». A
September–August convention must count in January what September to December cost, and warn once the cap is passed.
"""
from decimal import Decimal

import pytest

from services.billing import get_statement, issue_statement
from services.billing.statement import to_public_json
from services.dataset import import_dataset
from services.permissions import SYSTEM
from tests.billing.builders import dataset, family, session

SEPTEMBER_TO_AUGUST = {"start": "2025-09-01", "end": "2026-08-31", "budget_cap": "200.00", "max_families": 1,
                       "period_end_months": []}


@pytest.fixture
def school_year(uow):
    data = dataset()
    data["conventions"][0].update(SEPTEMBER_TO_AUGUST)
    family(data, "F1", decided_on="2025-09-01")
    family(data, "F2", decided_on="2025-12-01")
    # one AES session a week (30,00 € + 15,00 € of preparation), outside the school holidays of zone A
    for key, family_key, day in (("s1", "F1", "2025-09-09"), ("s2", "F1", "2025-10-07"), ("s3", "F1", "2025-11-18"),
                                 ("s4", "F2", "2025-12-09"), ("s5", "F1", "2026-01-13")):
        session(data, key, family_key, "A1", day, referent=True)
    import_dataset(uow(), data)
    for month in ("2025-09", "2025-10", "2025-11", "2025-12"):
        issue_statement(uow(), SYSTEM, "AP", month)
    return uow


def test_january_counts_what_september_to_december_cost(school_year):
    january = get_statement(school_year(), SYSTEM, "AP", "2026-01")
    assert january.total == Decimal("45.00")
    assert january.period_to_date == Decimal("225.00")  # 4 × 45,00 issued + January; the calendar year said 45,00
    assert january.cumulative_label == "depuis le début de la convention (du 01/09/2025 au 31/08/2026)"


def test_the_cap_passed_in_january_is_said_in_the_json_and_the_amount_left_with_it(school_year):
    december = get_statement(school_year(), SYSTEM, "AP", "2025-12")
    assert (december.period_to_date, december.budget_left, december.over_budget) == (
        Decimal("180.00"), Decimal("20.00"), False)
    data = to_public_json(get_statement(school_year(), SYSTEM, "AP", "2026-01"))
    assert (data["period_to_date"], data["budget_left"], data["over_cap"]) == ("225.00", "-25.00", True)


def test_the_families_of_the_whole_period_count_against_the_indicative_maximum(school_year):
    data = to_public_json(get_statement(school_year(), SYSTEM, "AP", "2026-01"))
    assert (data["families_in_period"], data["max_families"], data["over_max_families"]) == (2, 1, True)
