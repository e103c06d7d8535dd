"""The coordinator's dashboard: where the programme stands today, in a few figures.

    coordinator_dashboard(uow, user, today) -> Dashboard

* families under each convention in force today against its indicative maximum of families;
* each such convention's spending month by month over its period (an open-ended one: its current year), against
  its budget cap: an issued month counts its statement as issued, a month still to issue its draft as computed now
  (the first draft also carries the régularisations of the issued months, which the next statement will bill;
  later drafts do not repeat them);
* held home sessions per week (Monday to Sunday) over the last thirteen weeks, today's week included;
* the decisions waiting: orientations proposed by the EPS, held sessions waiting for a dérogation.

Counts only, no family's name: reading it writes no audit entry.

The drafts take seconds on a year's programme. Given `unless_unchanged` (a board it returned before), the function
returns that same board when it is of `today` and nothing was written since: every write appends to the audit log,
so its last entry, read in a millisecond, says so. (A laptop's pull from the team server is not audited here: the
page asks again for a fresh board after a minute anyway.)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from models import AuditEntry, Convention, HomeSession, Orientation, Statement as StoredStatement
from services.billing.statements import compute_draft
from services.home_sessions import awaiting_decision_ids
from services.month import Month
from services.permissions import CurrentUser, require
from services.rules import orientation_in_force
from services.uow import UnitOfWork

WEEKS = 13  # « the last three months », in whole weeks
ZERO = Decimal("0.00")
_WRITTEN_UP_TO = "_written_up_to"  # a board's attribute, not a field: neither a figure nor in the API's JSON
_UNKNOWN = object()


@dataclass(frozen=True)
class ConventionFamilies:
    convention: str  # key
    label: str  # « Atout Plus — Adom 01 »
    families: int  # with an orientation in force today
    max_families: int | None


@dataclass(frozen=True)
class BudgetMonth:
    month: str  # YYYY-MM
    spent: Decimal | None  # None for a month still to come
    cumulative: Decimal | None  # since the period's start, this month included
    issued: bool


@dataclass(frozen=True)
class ConventionBudget:
    convention: str
    label: str
    cap: Decimal | None
    months: tuple[BudgetMonth, ...]  # every month shown (see _period_months)

    @property
    def spent(self) -> Decimal:
        reached = [m.cumulative for m in self.months if m.cumulative is not None]
        return reached[-1] if reached else ZERO


@dataclass(frozen=True)
class WeekCount:
    monday: date
    sessions: int  # held home sessions of the week


@dataclass(frozen=True)
class Dashboard:
    today: date
    families: tuple[ConventionFamilies, ...]
    budgets: tuple[ConventionBudget, ...]
    weeks: tuple[WeekCount, ...]
    orientations_to_validate: int
    exceptions_to_decide: int

    @property
    def decisions_waiting(self) -> int:
        return self.orientations_to_validate + self.exceptions_to_decide


def coordinator_dashboard(uow: UnitOfWork, user: CurrentUser, today: date, *,
                          unless_unchanged: Dashboard | None = None) -> Dashboard:
    with uow:
        require(user, "dashboard.read", session=uow.session)
        session = uow.session
        written = session.scalar(select(func.max(AuditEntry.seq)))
        if unless_unchanged is not None and unless_unchanged.today == today \
                and getattr(unless_unchanged, _WRITTEN_UP_TO, _UNKNOWN) == written:
            return unless_unchanged
        conventions = session.scalars(select(Convention).where(
            Convention.start_date <= today, (Convention.end_date.is_(None)) | (Convention.end_date >= today))
            .order_by(Convention.key)).all()
        board = Dashboard(
            today=today,
            families=tuple(_families(session, c, today) for c in conventions),
            budgets=tuple(_budget(session, c, today) for c in conventions),
            weeks=_weeks(session, today),
            orientations_to_validate=session.scalar(select(func.count()).select_from(Orientation).where(
                Orientation.status == "proposed")) or 0,
            exceptions_to_decide=len(awaiting_decision_ids(uow, user)),
        )
        object.__setattr__(board, _WRITTEN_UP_TO, written)  # frozen: set once, here
        return board


def _label(c: Convention) -> str:
    return f"{c.action.name} — {c.partner.name}"


def _families(session, convention: Convention, today: date) -> ConventionFamilies:
    rows = session.execute(select(Orientation.family_id, Orientation.status, Orientation.decided_on,
                                  Orientation.end_date).where(Orientation.convention_id == convention.id)).all()
    families = {r.family_id for r in rows if orientation_in_force(r.status, r.decided_on, r.end_date, today)}
    return ConventionFamilies(convention.key, _label(convention), len(families), convention.max_families)


def _budget(session, convention: Convention, today: date) -> ConventionBudget:
    first, last = _period_months(convention, today)
    issued = dict(session.execute(select(StoredStatement.month, StoredStatement.total).where(
        StoredStatement.convention_id == convention.id)).all())
    current, months, total, carried = first, [], ZERO, False
    while current <= last:
        month = str(current)
        if current > Month.of(today):
            months.append(BudgetMonth(month, None, None, False))
        else:
            if month in issued:
                spent = issued[month]
            else:
                draft = compute_draft(session, convention, month)
                lines = draft.lines if not carried else draft.current_lines
                spent = sum((line.amount for line in lines), ZERO)
                carried = True
            total += spent
            months.append(BudgetMonth(month, spent, total, month in issued))
        current = current.next()
    return ConventionBudget(convention.key, _label(convention), convention.budget_cap, tuple(months))


def _period_months(convention: Convention, today: date) -> tuple[Month, Month]:
    """The first and last months shown: the convention's period; for an open-ended one, the current year of it
    (from the last anniversary of its start), counted from that anniversary."""
    first = Month.of(convention.start_date)
    if convention.end_date is not None:
        return first, Month.of(convention.end_date)
    while Month(first.year + 1, first.number) <= Month.of(today):
        first = Month(first.year + 1, first.number)
    last = first
    for _ in range(11):
        last = last.next()
    return first, last


def _weeks(session, today: date) -> tuple[WeekCount, ...]:
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=WEEKS - 1)
    days = session.scalars(select(HomeSession.date).where(
        HomeSession.status == "held", HomeSession.date >= first, HomeSession.date <= this_monday + timedelta(days=6)))
    counts = {first + timedelta(weeks=i): 0 for i in range(WEEKS)}
    for day in days:
        counts[day - timedelta(days=day.weekday())] += 1
    return tuple(WeekCount(monday, n) for monday, n in counts.items())
