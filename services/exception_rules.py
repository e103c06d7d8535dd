"""Which held sessions need a coordinator's decision (dérogation), as billing reads the convention.

A held session needs one when it falls in the school holidays of the programme's zone, or when it is not the first
held session of its family in its ISO week, in the order (date, start time, key). Shared by the coordination's
queue, the référent's lists and the week view so that they all name the same sessions. Each session is judged by the
rules of the convention of its family's orientation in force on its day (`SessionRules`): a convention without a
weekly limit and with holidays allowed never asks for a dérogation.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, time

from services.rules import iso_week

REASON_LABELS = {"school_holiday": "Vacances scolaires", "extra_session_in_week": "2e séance de la semaine"}
DECISION_LABELS = {"awaiting": "À décider", "approved": "Approuvée", "refused": "Refusée"}
MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class SessionRules:
    """What a convention asks of a family's sessions (the billing rules of services.billing.rules). The defaults are
    Atout Plus's, which also hold for a session without an orientation in force."""

    sessions_per_week: int | None = 1  # None: no weekly limit
    holidays_need_exception: bool = True
    referent_at_first_session: bool = True


DEFAULT_RULES = SessionRules()


def _default_rules(family_id: str, day: date) -> SessionRules:
    return DEFAULT_RULES


@dataclass(frozen=True)
class HeldFact:
    id: str
    family_id: str
    date: date
    start_time: time | None
    key: str


def week_order(fact) -> tuple:
    return fact.date, fact.start_time or MIDNIGHT, fact.key


def exception_reasons(held: Iterable[HeldFact], is_holiday: Callable[[date], bool],
                      rules_of: Callable[[str, date], SessionRules] = _default_rules) -> dict[str, tuple[str, ...]]:
    """Session id -> the reasons (keys of REASON_LABELS) it needs a decision; sessions that need none are absent.
    `held` must hold every held session of each family for the weeks concerned. `rules_of(family_id, day)`: the
    rules of the convention of the family's orientation in force that day (Atout Plus's by default)."""
    seen_week: dict[tuple[str, int], int] = {}
    holidays: dict[date, bool] = {}
    out: dict[str, tuple[str, ...]] = {}
    for fact in sorted(held, key=week_order):
        rules = rules_of(fact.family_id, fact.date)
        reasons = []
        week = (fact.family_id, iso_week(fact.date))
        count = seen_week.get(week, 0)
        if rules.sessions_per_week is not None and count >= rules.sessions_per_week:
            reasons.append("extra_session_in_week")
        seen_week[week] = count + 1
        if rules.holidays_need_exception and fact.date not in holidays:
            holidays[fact.date] = is_holiday(fact.date)
        if rules.holidays_need_exception and holidays[fact.date]:
            reasons.append("school_holiday")
        if reasons:
            out[fact.id] = tuple(reasons)
    return out


def decision_state(needs_decision: bool, approved: bool, refused: bool) -> str | None:
    """awaiting | approved | refused, or None for a session that needs no decision."""
    if approved:
        return "approved"
    if refused:
        return "refused"
    return "awaiting" if needs_decision else None
