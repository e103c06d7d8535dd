"""Issuing: numbering in order, frozen rows (even against raw SQL), regularisation of changed issued months."""
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from models import HomeSession, Statement as StoredStatement
from services.billing import get_statement, issue_statement, list_issued
from services.errors import StatementError
from services.permissions import SYSTEM
from tests.billing.test_worked_example import worked  # noqa: F401  (fixture)


def test_months_are_issued_in_order_with_sequential_numbers(worked):
    with pytest.raises(StatementError, match="janvier 2025 est encore un projet"):
        issue_statement(worked(), SYSTEM, "AP", "2025-02")
    first = issue_statement(worked(), SYSTEM, "AP", "2025-01")
    second = issue_statement(worked(), SYSTEM, "AP", "2025-02")
    assert (first.number, second.number) == ("AP-001", "AP-002")
    assert [s.month for s in list_issued(worked(), SYSTEM, "AP")] == ["2025-01", "2025-02"]


def test_issuing_twice_is_refused(worked):
    issue_statement(worked(), SYSTEM, "AP", "2025-01")
    with pytest.raises(StatementError, match="déjà émis"):
        issue_statement(worked(), SYSTEM, "AP", "2025-01")


def test_a_month_with_nothing_to_bill_is_issued_with_a_zero_total(worked):
    for month in ("2025-01", "2025-02", "2025-03", "2025-04"):
        statement = issue_statement(worked(), SYSTEM, "AP", month)
    assert statement.total == Decimal("0.00") and statement.lines == ()


def test_issued_statement_is_read_back_not_recomputed(worked):
    issued = issue_statement(worked(), SYSTEM, "AP", "2025-01")
    with worked() as uow:  # a late change to January
        uow.session.execute(text("DELETE FROM home_session WHERE key = 'F2-a'"))
        uow.commit()
    again = get_statement(worked(), SYSTEM, "AP", "2025-01")
    assert again == issued and again.status == "issued"


@pytest.mark.parametrize("sql", [
    "UPDATE statement SET total = 0",
    "DELETE FROM statement",
    "UPDATE statement_line SET quantity = quantity + 1",
    "DELETE FROM statement_line",
])
def test_issued_rows_cannot_be_changed_even_with_raw_sql(worked, engine, sql):
    issue_statement(worked(), SYSTEM, "AP", "2025-01")
    with pytest.raises(Exception, match="frozen"):
        with engine.begin() as conn:
            conn.execute(text(sql))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT total FROM statement")).scalar() == 7620
        assert conn.execute(text("SELECT count(*) FROM statement_line")).scalar() == 2


def test_a_change_to_an_issued_month_appears_as_regularisation_in_the_next_draft(worked):
    issue_statement(worked(), SYSTEM, "AP", "2025-01")
    issue_statement(worked(), SYSTEM, "AP", "2025-02")
    with worked() as uow:  # the coordinator approves F1's extra session of 12 February, and F2-c was cancelled
        sessions = {s.key: s for s in uow.session.scalars(select(HomeSession))}
        sessions["F1-d"].approved_exception = True
        sessions["F2-c"].status = "cancelled"
        uow.commit()
    march = get_statement(worked(), SYSTEM, "AP", "2025-03")
    regularisations = [(l.kind, l.qualification, l.quantity, l.amount, l.month) for l in march.regularisation_lines]
    assert regularisations == [
        ("home_intervention", "AES", 1, Decimal("30.00"), "2025-02"),
        ("home_intervention", "TISF", -1, Decimal("-56.13"), "2025-02"),
        ("weekly_preparation", "TISF", -1, Decimal("-20.07"), "2025-02"),
    ]
    issue_statement(worked(), SYSTEM, "AP", "2025-03")
    april = get_statement(worked(), SYSTEM, "AP", "2025-04")
    assert april.regularisation_lines == ()  # already carried by March


def test_issued_statement_is_stored_with_its_total_and_lines(worked, uow):
    issued = issue_statement(worked(), SYSTEM, "AP", "2025-01")
    with uow() as u:
        row = u.session.scalars(select(StoredStatement)).one()
        assert row.total == issued.total == Decimal("76.20")
        assert [(l.kind, l.quantity) for l in row.lines] == [("home_intervention", 1), ("weekly_preparation", 1)]


def test_stored_statement_holds_family_codes_but_no_names(worked, uow):
    issue_statement(worked(), SYSTEM, "AP", "2025-01")
    with uow() as u:
        payload = u.session.scalars(select(StoredStatement.payload)).one()
    assert '"F2"' in payload and "Famille F2" not in payload
    assert get_statement(worked(), SYSTEM, "AP", "2025-01").families[0].name == "Famille F2"  # looked up when read


def test_issuing_earlier_months_does_not_change_the_flags_of_a_later_draft(worked):
    from tests.billing.builders import session
    data = {"format": "parcours-dataset/1", "sessions": []}
    session(data, "F3-march", "F3", "A1", "2025-03-11")  # F3 began on 5 February: no référent needed now
    from services.dataset import import_dataset
    import_dataset(worked(), data)
    before = get_statement(worked(), SYSTEM, "AP", "2025-03")
    issue_statement(worked(), SYSTEM, "AP", "2025-01")
    issue_statement(worked(), SYSTEM, "AP", "2025-02")
    after = get_statement(worked(), SYSTEM, "AP", "2025-03")
    assert after.flags == before.flags
    assert not any(f.kind == "referent_absent_first_session" for f in after.flags)
