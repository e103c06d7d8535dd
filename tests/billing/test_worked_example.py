"""January to March 2025 under the Atout Plus convention, computed by hand from the convention's rules.

Zone A school holidays: 22 February to 9 March 2025.
F1 (3 children, AES A1): weekly sessions in February, an approved extra session, an unapproved one, one in the
  holidays. F2 (TISF T1): first session Friday 31 January, an approved extra one on Saturday 1 February (the
  week straddles two months), an absence, a cancellation. F3 (AES A1): a session before its orientation, then a
  first session without the référent. F4: no orientation at all.
Meetings: launch on 10 February (A1, T1); period-end on 27 February (A1) and again on 28 February (A1:
  duplicate); period-end in March (T1: not a period-end month).
"""
from decimal import Decimal

import pytest

from services.billing import get_statement
from services.dataset import import_dataset
from services.permissions import SYSTEM
from tests.billing.builders import dataset, family, meeting, session


@pytest.fixture
def worked(uow):
    data = dataset()
    family(data, "F1", children=3)
    family(data, "F2")
    family(data, "F3", decided_on="2025-02-01")
    family(data, "F4", decided_on=None)
    session(data, "F1-a", "F1", "A1", "2025-02-03", referent=True)
    session(data, "F1-b", "F1", "A1", "2025-02-06", approved=True)        # extra in week 6, approved
    session(data, "F1-c", "F1", "A1", "2025-02-11")
    session(data, "F1-d", "F1", "A1", "2025-02-12")                       # extra in week 7, not approved
    session(data, "F1-e", "F1", "A1", "2025-02-18")
    session(data, "F1-f", "F1", "A1", "2025-02-25")                       # school holidays, not approved
    session(data, "F2-a", "F2", "T1", "2025-01-31", referent=True)
    session(data, "F2-b", "F2", "T1", "2025-02-01", approved=True)        # same ISO week as 31 January
    session(data, "F2-c", "F2", "T1", "2025-02-04")
    session(data, "F2-d", "F2", "T1", "2025-02-11", status="family_absent")
    session(data, "F2-e", "F2", "T1", "2025-02-18", status="cancelled")
    session(data, "F3-a", "F3", "A1", "2025-01-29", referent=True)        # before the orientation
    session(data, "F3-b", "F3", "A1", "2025-02-05")                       # first under it, référent absent
    session(data, "F4-a", "F4", "A1", "2025-02-07")                       # no orientation
    meeting(data, "M-launch", "launch", "2025-02-10", ["A1", "T1"])
    meeting(data, "M-end-1", "period_end", "2025-02-27", ["A1"])
    meeting(data, "M-end-2", "period_end", "2025-02-28", ["A1"])
    meeting(data, "M-end-3", "period_end", "2025-03-12", ["T1"])
    import_dataset(uow(), data)
    return uow


def lines_of(statement):
    return [(l.kind, l.qualification, l.quantity, str(l.unit_price), str(l.amount)) for l in statement.lines]


def flags_of(statement):
    return sorted((f.kind, f.session or f.meeting, f.billed) for f in statement.flags)


def test_february_lines_and_total_match_the_hand_computation(worked):
    statement = get_statement(worked(), SYSTEM, "AP", "2025-02")
    assert lines_of(statement) == [
        ("home_intervention", "AES", 5, "30.00", "150.00"),       # F1 a, b (approved), c, e + F3 b
        ("home_intervention", "TISF", 2, "56.13", "112.26"),      # F2 b (approved), c
        ("weekly_preparation", "AES", 4, "15.00", "60.00"),       # F1 weeks 6, 7, 8 + F3 week 6
        ("weekly_preparation", "TISF", 1, "20.07", "20.07"),      # F2 week 6 (week 5 belongs to January)
        ("launch_meeting", "AES", 1, "30.00", "30.00"),
        ("launch_meeting", "TISF", 1, "56.13", "56.13"),
        ("period_end_meeting", "AES", 1, "30.00", "30.00"),
    ]
    assert statement.total == Decimal("458.46")


def test_february_flags_name_each_exception_and_whether_it_was_billed(worked):
    statement = get_statement(worked(), SYSTEM, "AP", "2025-02")
    assert flags_of(statement) == sorted([
        ("extra_session_in_week", "F1-b", True),
        ("extra_session_in_week", "F1-d", False),
        ("school_holiday", "F1-f", False),
        ("extra_session_in_week", "F2-b", True),
        ("referent_absent_first_session", "F3-b", True),
        ("no_orientation", "F4-a", False),
        ("duplicate_period_end_meeting", "M-end-2", False),
    ])


def test_january_bills_the_week_straddling_into_february_once(worked):
    statement = get_statement(worked(), SYSTEM, "AP", "2025-01")
    assert lines_of(statement) == [
        ("home_intervention", "TISF", 1, "56.13", "56.13"),
        ("weekly_preparation", "TISF", 1, "20.07", "20.07"),
    ]
    assert statement.total == Decimal("76.20")
    assert flags_of(statement) == [("no_orientation", "F3-a", False)]


def test_period_end_meeting_outside_the_period_end_months_is_flagged_not_billed(worked):
    statement = get_statement(worked(), SYSTEM, "AP", "2025-03")
    assert ("not_a_period_end_month", "M-end-3", False) in flags_of(statement)
    assert not any(l.kind == "period_end_meeting" for l in statement.lines)


def test_family_detail_counts_sessions_and_hours_whatever_the_number_of_children(worked):
    statement = get_statement(worked(), SYSTEM, "AP", "2025-02")
    f1 = next(f for f in statement.families if f.code == "F1")
    assert (f1.sessions_billed, f1.preparations_billed, f1.amount) == (4, 3, Decimal("165.00"))
    assert f1.minutes_delivered == 6 * 60  # every held session counts in hours, billed or not


def test_period_to_date_adds_the_issued_months_and_counts_families(worked):
    from services.billing import issue_statement
    issue_statement(worked(), SYSTEM, "AP", "2025-01")
    statement = get_statement(worked(), SYSTEM, "AP", "2025-02")
    assert statement.period_to_date == Decimal("76.20") + Decimal("458.46")
    assert statement.budget_cap == Decimal("25000.00")
    assert statement.budget_left == Decimal("25000.00") - statement.period_to_date
    assert statement.families_in_period == 3 and statement.max_families == 18
