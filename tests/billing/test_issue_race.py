"""Issue 10: two administrators issuing at once never get a duplicate or a gap in a convention's numbered series,
on the team server's PostgreSQL (the convention's row is the series' counter, taken FOR UPDATE) as on a SQLite file
(BEGIN IMMEDIATE). The first issue is held inside its transaction while its PDF is drawn; the second starts then."""
from __future__ import annotations

import threading
import time

import pytest

from models.db import make_engine, migrate
from services.billing import issue_statement, list_issued
from services.billing.statements import StatementError
from services.uow import unit_of_work_factory
from tests.programme_fixture import load_example


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'race.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    migrate(engine)
    yield load_example(unit_of_work_factory(engine))
    engine.dispose()


def race(programme, first_month: str, second_month: str) -> list:
    """Issue `first_month` (its PDF takes 0.8 s, the transaction open) and, 0.2 s later, `second_month`; returns
    what each call gave: a Statement or the StatementError it raised."""
    results: list = [None, None]
    started = threading.Event()

    def slow_pdf(statement) -> bytes:
        started.set()
        time.sleep(0.8)
        return f"%PDF {statement.number}".encode()

    def issue(slot: int, month: str, render) -> None:
        try:
            results[slot] = issue_statement(programme.uow(), programme.administrator, "ap-2025", month,
                                            render_pdf=render)
        except StatementError as exc:
            results[slot] = exc

    first = threading.Thread(target=issue, args=(0, first_month, slow_pdf))
    first.start()
    assert started.wait(10)
    time.sleep(0.2)
    second = threading.Thread(target=issue, args=(1, second_month, lambda s: f"%PDF {s.number}".encode()))
    second.start()
    first.join(30)
    second.join(30)
    return results


def test_the_same_month_issued_twice_at_once_gives_one_statement_and_a_french_refusal(store):
    first, second = race(store, "2025-01", "2025-01")
    assert first.number == "ap-2025-001"
    assert isinstance(second, StatementError) and "déjà émis" in second.message
    assert [s.number for s in list_issued(store.uow(), store.administrator, "ap-2025")] == ["ap-2025-001"]


def test_the_next_month_issued_meanwhile_waits_and_takes_the_next_number(store):
    first, second = race(store, "2025-01", "2025-02")
    assert (first.number, second.number) == ("ap-2025-001", "ap-2025-002")
    issued = list_issued(store.uow(), store.administrator, "ap-2025")
    assert [(s.month, s.number) for s in issued] == [("2025-01", "ap-2025-001"), ("2025-02", "ap-2025-002")]
