"""The plain facts the billing rules read: loaded once from the store, never ORM objects."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from functools import cached_property
from datetime import date, time
from decimal import Decimal
from typing import NamedTuple


@dataclass(frozen=True)
class TariffVersion:
    """The convention's tariff table from `start` on: its first table, or an avenant's."""

    start: date
    prices: dict[tuple[str, str], Decimal]  # (qualification, kind) -> unit price, as the convention writes it


@dataclass(frozen=True)
class ConventionTerms:
    key: str
    partner_id: str
    partner_name: str
    action: str
    start: date
    end: date | None
    period_end_months: frozenset[int]
    # The first starts with the convention, each avenant's on its own day; in order of start.
    tariff_versions: tuple[TariffVersion, ...]
    max_families: int | None
    budget_cap: Decimal | None
    budget_imputation: str | None
    holiday_zone: str
    # The billing model; the defaults are Atout Plus's (see services.billing.rules).
    sessions_per_week: int | None = 1  # None: no weekly limit
    holidays_need_exception: bool = True
    referent_at_first_session: bool = True
    home_unit: str = "session"  # session: a flat price per intervention | hour: per hour delivered
    hour_rounding_minutes: int = 15

    @property
    def hourly(self) -> bool:
        return self.home_unit == "hour"

    def billed_minutes(self, duration_minutes: int) -> int:
        """An hourly convention's minutes for a session: its duration rounded up to the rounding step."""
        step = self.hour_rounding_minutes or 1
        return -(-duration_minutes // step) * step

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    @property
    def tariffs(self) -> dict[tuple[str, str], Decimal]:
        """The first table, in force from the convention's start."""
        return self.tariff_versions[0].prices if self.tariff_versions else {}

    @cached_property
    def _prices_of_day(self) -> dict:
        return {}  # asked once per session and line: a month asks the same few days thousands of times

    def tariff(self, qualification: str, kind: str, day: date) -> Decimal | None:
        """The unit price of the table in force on `day` (None when that table has none for this line)."""
        versions, known = self.tariff_versions, self._prices_of_day
        prices = known.get(day)
        if prices is None:
            index = bisect_right([v.start for v in versions], day) - 1
            prices = known[day] = versions[max(index, 0)].prices if versions else {}
        return prices.get((qualification, kind))


@dataclass(frozen=True)
class OrientationFact:
    family_id: str
    convention_id: str
    status: str
    decided_on: date | None
    end: date | None


class SessionFact(NamedTuple):
    """A named tuple rather than a dataclass: thousands are built per statement, and tuples build fast."""

    key: str
    family_id: str
    intervenant_id: str
    date: date
    start_time: time | None
    duration_minutes: int
    status: str
    referent_present: bool
    approved_exception: bool
    # (date, start time or midnight, key): the order of the week rule, read thousands of times a month, so stored
    # once (services.billing.loading.session_fact) rather than rebuilt by a property at each comparison
    order: tuple


@dataclass(frozen=True)
class MeetingFact:
    key: str
    kind: str  # launch | period_end
    date: date
    intervenant_ids: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    """A family or an intervenant as a statement names it."""
    id: str
    code: str
    name: str
    qualification: str | None = None
    partner_id: str | None = None  # an intervenant's employer


class IntervenantTerm(NamedTuple):
    """An intervenant's qualification and employer from `start` on (None: from the beginning)."""

    start: date | None
    qualification: str
    partner_id: str


@dataclass(frozen=True)
class BillingFacts:
    convention_id: str
    terms: ConventionTerms
    sessions: tuple[SessionFact, ...]  # held ones, by the partner's intervenants, within the loaded window
    orientations: tuple[OrientationFact, ...]  # of every convention of the partner
    other_convention_ids: frozenset[str]  # the partner's other conventions
    meetings: tuple[MeetingFact, ...]
    families: dict[str, Person]
    intervenants: dict[str, Person]
    families_with_earlier_session: frozenset[str]  # had a held session under the convention before the window
    # Each intervenant's qualification and employer over time, in order of start (the first one from the beginning).
    intervenant_terms: dict[str, tuple[IntervenantTerm, ...]]

    @cached_property
    def _sessions_by_date(self) -> tuple[list[date], tuple[SessionFact, ...]]:
        ordered = tuple(sorted(self.sessions, key=lambda s: s.date))
        return [s.date for s in ordered], ordered

    def cut(self, start: date, end: date) -> "BillingFacts":
        """The sessions and meetings of [start, end] only, so that billing one month of a load of many months reads
        that month's weeks, not all of them. Its amounts are those of a load of [start, end] alone; not its référent
        flags (the families seen earlier in the longer load are not counted), so it serves régularisations only."""
        days, ordered = self._sessions_by_date
        return replace(self, sessions=ordered[bisect_left(days, start):bisect_right(days, end)],
                       meetings=tuple(m for m in self.meetings if start <= m.date <= end))

    @cached_property
    def _terms_of_day(self) -> dict:
        return {}

    def intervenant_on(self, intervenant_id: str, day: date) -> IntervenantTerm:
        """The qualification and partner in force on `day`: a session is billed at those of its own day."""
        known = self._terms_of_day.get((intervenant_id, day))
        if known is not None:
            return known
        terms = self.intervenant_terms[intervenant_id]
        chosen = terms[0]
        for term in terms[1:]:
            if term.start > day:
                break
            chosen = term
        self._terms_of_day[(intervenant_id, day)] = chosen
        return chosen
