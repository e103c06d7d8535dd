"""The coordinator's dashboard on the cases' programme (tests/service_cases.py), counted by hand:

* ap-2025 (maximum 18): O1 (F1), O2 (F2), O3 (F3) validated in January, O-prop (F4) only proposed → 3 families;
  as-2025: no orientation → 0;
* spending of ap-2025: nothing billable in January, February's only session (S6, 25/02) falls in the winter
  holidays without a dérogation → 0; March: S2 (AES, 30,00) and S4 (TISF, 56,13), their weekly preparations
  (15,00 and 20,07) and the launch meeting M1 (30,00 + 56,13) → 207,33 €;
* held sessions per week: S6 (week of 24/02), S1 and S5 (03/03), S2 and S4 (10/03); S3 is a family absence;
* decisions: O-prop to validate; S6, S1 and S5 in the holidays wait for a dérogation.
"""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from services import home_sessions
from services.billing import get_statement, issue_statement
from services.dashboard import WEEKS, coordinator_dashboard
from services.errors import PermissionDenied
from services.permissions import SYSTEM
from services.session_exceptions import approve_exceptions, flagged_sessions
from tests.both_stores import env, template  # noqa: F401 - fixtures
from tests.service_cases import TODAY


def _fake_pdf(_statement) -> bytes:
    return b"%PDF-1.4 test"


def _dashboard(env, today=TODAY, who="coord-durand"):
    return coordinator_dashboard(env.uow(), env.users[who], today)


def test_families_under_each_convention_in_force_against_its_maximum(env):
    board = _dashboard(env)
    assert [(f.convention, f.families, f.max_families) for f in board.families] == [("ap-2025", 3, 18),
                                                                                    ("as-2025", 0, 18)]
    assert board.families[0].label == "Atout Plus — Adom 01"


def test_spending_month_by_month_over_the_convention_year_against_the_cap(env):
    budget = _dashboard(env).budgets[0]
    assert (budget.convention, budget.cap) == ("ap-2025", Decimal("25000.00"))
    assert [m.month for m in budget.months] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert [m.spent for m in budget.months[:3]] == [Decimal("0.00"), Decimal("0.00"), Decimal("207.33")]
    assert all(m.spent is None and m.cumulative is None for m in budget.months[3:])  # still to come
    assert budget.spent == Decimal("207.33")
    admin = env.users["admin-petit"]
    assert budget.months[2].spent == get_statement(env.uow(), admin, "ap-2025", "2025-03").total


def test_an_issued_month_counts_as_issued_and_a_correction_is_counted_once(env):
    for month in ("2025-01", "2025-02", "2025-03"):
        issue_statement(env.uow(), SYSTEM, "ap-2025", month, render_pdf=_fake_pdf)
    # a late session of March (F1, AES, week of 17/03): regularised on April's statement, 30,00 + 15,00
    late = home_sessions.SessionDraft(env.id("family", "F1"), env.id("intervenant", "i-aes"), date(2025, 3, 18), 60,
                                      referent_present=True)
    home_sessions.record_session(env.uow(), env.users["coord-durand"], late, date(2025, 5, 20))
    months = _dashboard(env, today=date(2025, 5, 20)).budgets[0].months
    assert [m.issued for m in months[:5]] == [True, True, True, False, False]
    assert months[2].spent == Decimal("207.33")  # as issued, the late session is not in it
    admin = env.users["admin-petit"]
    april = get_statement(env.uow(), admin, "ap-2025", "2025-04")
    may = get_statement(env.uow(), admin, "ap-2025", "2025-05")
    assert sum(l.amount for l in april.regularisation_lines) == Decimal("45.00")
    assert months[3].spent == april.total  # April's draft carries the régularisation…
    assert months[4].spent == sum((l.amount for l in may.current_lines), Decimal("0.00"))  # …May's does not again
    assert months[4].cumulative == Decimal("207.33") + april.total + months[4].spent


def test_an_open_ended_convention_shows_its_current_year(env):
    with env.engine.begin() as conn:
        conn.execute(text("UPDATE convention SET end_date = NULL WHERE key = 'as-2025'"))
    budget = next(b for b in _dashboard(env, today=date(2026, 3, 20)).budgets if b.convention == "as-2025")
    assert [m.month for m in budget.months] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [m.spent for m in budget.months[:3]] == [Decimal("0.00")] * 3 and budget.months[3].spent is None


def test_held_sessions_per_week_over_the_last_thirteen_weeks(env):
    weeks = _dashboard(env).weeks
    assert len(weeks) == WEEKS == 13
    assert weeks[0].monday == date(2024, 12, 23) and weeks[-1].monday == date(2025, 3, 17)
    counted = {w.monday: w.sessions for w in weeks if w.sessions}
    assert counted == {date(2025, 2, 24): 1, date(2025, 3, 3): 2, date(2025, 3, 10): 2}


def test_decisions_waiting_are_the_proposed_orientations_and_the_undecided_dérogations(env):
    board = _dashboard(env)
    coordinator = env.users["coord-durand"]
    assert (board.orientations_to_validate, board.exceptions_to_decide) == (1, 3)
    assert board.exceptions_to_decide == len(flagged_sessions(env.uow(), coordinator))
    approve_exceptions(env.uow(), coordinator, [env.id("session", "S1")])
    board = _dashboard(env)
    assert (board.exceptions_to_decide, board.decisions_waiting) == (2, 3)


def test_no_convention_in_force_gives_an_empty_dashboard_not_an_error(env):
    board = _dashboard(env, today=date(2027, 6, 1))
    assert board.families == () and board.budgets == ()
    assert all(w.sessions == 0 for w in board.weeks)


def test_the_administration_may_read_it_a_referent_may_not(env):
    assert _dashboard(env, who="admin-petit").families
    with pytest.raises(PermissionDenied) as refused:
        _dashboard(env, who="ref-martin")
    assert "tableau de bord" in refused.value.message


def test_a_board_asked_again_is_reused_until_something_is_written_or_the_day_changes(env):
    coordinator = env.users["coord-durand"]
    board = _dashboard(env)
    assert coordinator_dashboard(env.uow(), coordinator, TODAY, unless_unchanged=board) is board
    approve_exceptions(env.uow(), coordinator, [env.id("session", "S1")])  # audited: the board is made again
    fresh = coordinator_dashboard(env.uow(), coordinator, TODAY, unless_unchanged=board)
    assert fresh is not board and fresh.exceptions_to_decide == board.exceptions_to_decide - 1
    assert coordinator_dashboard(env.uow(), coordinator, TODAY, unless_unchanged=fresh) is fresh
    tomorrow = coordinator_dashboard(env.uow(), coordinator, date(2025, 3, 21), unless_unchanged=fresh)
    assert tomorrow is not fresh and tomorrow.today == date(2025, 3, 21)
    with pytest.raises(PermissionDenied):  # the check comes first, a board in hand or not
        coordinator_dashboard(env.uow(), env.users["ref-martin"], TODAY, unless_unchanged=fresh)
