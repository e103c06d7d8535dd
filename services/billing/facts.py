"""The plain facts the billing rules read: loaded once from the store, never ORM objects."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import NamedTuple


@dataclass(frozen=True)
class ConventionTerms:
    key: str
    partner_id: str
    partner_name: str
    action: str
    start: date
    end: date | None
    period_end_months: frozenset[int]
    tariffs: dict[tuple[str, str], Decimal]  # (qualification, kind) -> unit price, as the convention writes it
    max_families: int | None
    budget_cap: Decimal | None
    budget_imputation: str | None
    holiday_zone: str

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


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

    @property
    def order(self) -> tuple:
        return (self.date, self.start_time or time(0, 0), self.key)


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
