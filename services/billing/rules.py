"""The billing rules of a convention, for one month — written to be read next to the convention.

Atout Plus (Bourg-en-Bresse, 2025), per intervenant, at the qualification's rate:
  * one home intervention per week, outside school holidays, whatever the number of children;
  * 30 minutes of weekly preparation per intervenant and per family;
  * one hour of launch meeting per intervenant present;
  * one hour of period-end meeting per intervenant present, in the period-end months only.
The first session of a family should have the référent de parcours present.

Prices are those in force on the day of the session or meeting: the intervenant's qualification and employer on
that day, and the convention's tariff table on that day (its first one, or an avenant's from the avenant's start).
The week, preparation and référent rules run across an avenant as over the rest of the convention.

Another convention may read otherwise (ConventionTerms, migration 0007; the defaults are the above): at most N
billed interventions per week, or no limit; school holidays as ordinary days; no référent expected; or home
interventions paid per hour delivered (`home_hours`: the duration rounded up to the quarter hour, per session, at the
qualification's home_intervention tariff read as an hourly rate). The qualifications are the convention's own
(migration 0008): any label its table prices; an intervenant whose qualification it does not price is
`missing_tariff`. A convention may also pay a monthly flat per family followed (`monthly_family_flat`): one unit
for each family with a validated orientation to the convention in force on at least one day of the month (and of the
convention), at the flat of the table in force on the first such day; no flat in the table: nothing.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from vacances_scolaires_france import SchoolHolidayDates

from models.enums import FLAT_KIND, FLAT_QUALIFICATION
from services.billing.facts import BillingFacts, MeetingFact, SessionFact
from services.errors import StatementError
from services.rules import iso_week, orientation_in_force

# Flags that keep a session out of the bill unless a coordinator approved it.
EXCEPTION_FLAGS = ("extra_session_in_week", "school_holiday")
# Flags that no approval can lift: the data must be corrected.
BLOCKING_FLAGS = ("no_orientation", "outside_convention", "missing_tariff")


@dataclass(frozen=True)
class BilledUnit:
    kind: str
    qualification: str
    unit_price: Decimal
    family_id: str | None
    intervenant_id: str | None  # None: the monthly flat of a family
    date: date
    source_key: str  # the session or meeting billed, or the family of a monthly flat
    quantity: int = 1  # minutes for home_hours, else 1

    @property
    def amount(self) -> Decimal:
        """Unrounded: a line rounds its total (rate × minutes / 60) half up to the cent."""
        return self.unit_price * self.quantity / 60 if self.kind == "home_hours" else self.unit_price


@dataclass(frozen=True)
class Flag:
    kind: str
    date: date
    session_key: str | None = None
    meeting_key: str | None = None
    family_id: str | None = None
    intervenant_id: str | None = None
    approved: bool = False
    billed: bool = False


@dataclass(frozen=True)
class MonthBilling:
    month: str
    units: tuple[BilledUnit, ...]
    flags: tuple[Flag, ...]
    minutes_by_family: dict[str, int]  # held sessions under the convention: hours delivered
    minutes_by_intervenant: dict[str, int]


def month_bounds(month: str) -> tuple[date, date]:
    year, number = int(month[:4]), int(month[5:7])
    first = date(year, number, 1)
    last = (date(year + number // 12, number % 12 + 1, 1)) - timedelta(days=1)
    return first, last


def billing_window(month: str) -> tuple[date, date]:
    """The whole ISO weeks touching the month: a week straddling two months is judged as one week."""
    first, last = month_bounds(month)
    return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


@lru_cache(maxsize=1)
def _holiday_calendar() -> SchoolHolidayDates:
    return SchoolHolidayDates()  # bundled data: works offline


def is_school_holiday(day: date, zone: str) -> bool:
    try:
        return _holiday_calendar().is_holiday_for_zone(day, zone)
    except Exception:  # the package raises its own error for years it does not know
        raise StatementError(
            f"Le calendrier des vacances scolaires de l'année {day.year} n'est pas connu de cette version de Parcours."
        ) from None


def bill_month(facts: BillingFacts, month: str) -> MonthBilling:
    first, last = month_bounds(month)
    holidays: dict[date, bool] = {}

    def holiday(day: date) -> bool:
        if day not in holidays:
            holidays[day] = is_school_holiday(day, facts.terms.holiday_zone)
        return holidays[day]

    units: list[BilledUnit] = []
    flags: list[Flag] = []
    minutes_family: dict[str, int] = defaultdict(int)
    minutes_intervenant: dict[str, int] = defaultdict(int)

    sessions, seen_before = _sessions_of_convention(facts, first, last, flags)
    billed_sessions = _home_interventions(facts, sessions, seen_before, first, last, units, flags, holiday)
    for s in sessions:
        if first <= s.date <= last:
            minutes_family[s.family_id] += s.duration_minutes
            minutes_intervenant[s.intervenant_id] += s.duration_minutes
    _weekly_preparation(facts, billed_sessions, first, last, units, flags)
    _meetings(facts, month, first, last, units, flags)
    _monthly_flat(facts, first, last, units)
    flags.sort(key=lambda f: (f.date, f.session_key or f.meeting_key or "", f.kind, f.intervenant_id or ""))
    return MonthBilling(month, tuple(units), tuple(flags), dict(minutes_family), dict(minutes_intervenant))


def _sessions_of_convention(facts: BillingFacts, first: date, last: date,
                            flags: list[Flag]) -> tuple[list[SessionFact], set[str]]:
    """Held sessions of the month's weeks that belong to the convention (the others of the month are flagged
    for correction), and the families that already had one before those weeks (the référent rule)."""
    terms = facts.terms
    by_family: dict[str, list] = defaultdict(list)
    for o in facts.orientations:
        by_family[o.family_id].append(o)
    window_start, window_end = first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())
    belonging, seen_before = [], set(facts.families_with_earlier_session)
    for s in facts.sessions:
        if s.status != "held" or s.date > window_end:
            continue  # cancelled and absent sessions are never billed
        orientations = by_family.get(s.family_id, ())
        in_force = any(o.convention_id == facts.convention_id and
                       orientation_in_force(o.status, o.decided_on, o.end, s.date) for o in orientations)
        if s.date < window_start:
            if in_force and terms.covers(s.date):
                seen_before.add(s.family_id)
            continue
        if in_force and terms.covers(s.date):
            belonging.append(s)
            continue
        if not first <= s.date <= last:
            continue
        if any(o.convention_id in facts.other_convention_ids and
               orientation_in_force(o.status, o.decided_on, o.end, s.date) for o in orientations):
            continue  # billed under another convention of the same partner
        kind = "outside_convention" if in_force or not terms.covers(s.date) else "no_orientation"
        flags.append(Flag(kind, s.date, session_key=s.key, family_id=s.family_id, intervenant_id=s.intervenant_id,
                          approved=s.approved_exception))
    belonging.sort(key=lambda s: s.order)
    return belonging, seen_before


def _home_interventions(facts, sessions, seen_before, first, last, units, flags, holiday) -> list[SessionFact]:
    """One billed session per family and ISO week (the convention's N, or no limit), outside school holidays (unless
    the convention allows them), unless a coordinator approved it."""
    terms = facts.terms
    seen_week: dict[tuple[str, int], int] = defaultdict(int)
    seen_family: set[str] = set(seen_before)
    billed = []
    for s in sessions:  # in (date, start time, key) order
        week = (s.family_id, iso_week(s.date))
        reasons = []
        if terms.sessions_per_week is not None and seen_week[week] >= terms.sessions_per_week:
            reasons.append("extra_session_in_week")
        seen_week[week] += 1
        if terms.holidays_need_exception and holiday(s.date):
            reasons.append("school_holiday")
        first_of_family = s.family_id not in seen_family
        seen_family.add(s.family_id)
        is_billed = not reasons or s.approved_exception
        qualification = facts.intervenant_on(s.intervenant_id, s.date).qualification
        price = facts.terms.tariff(qualification, "home_intervention", s.date)
        if price is None and is_billed:
            reasons.append("missing_tariff")
            is_billed = False
        if not first <= s.date <= last:
            if is_billed:
                billed.append(s)  # kept for the weekly preparation of a week that began last month
            continue
        for reason in reasons:
            flags.append(Flag(reason, s.date, session_key=s.key, family_id=s.family_id,
                              intervenant_id=s.intervenant_id, approved=s.approved_exception, billed=is_billed))
        if first_of_family and not s.referent_present and terms.referent_at_first_session:
            flags.append(Flag("referent_absent_first_session", s.date, session_key=s.key, family_id=s.family_id,
                              intervenant_id=s.intervenant_id, billed=is_billed))
        if is_billed:
            billed.append(s)
            if terms.hourly:
                units.append(BilledUnit("home_hours", qualification, price, s.family_id, s.intervenant_id,
                                        s.date, s.key, terms.billed_minutes(s.duration_minutes)))
            else:
                units.append(BilledUnit("home_intervention", qualification, price, s.family_id, s.intervenant_id,
                                        s.date, s.key))
    return billed


def _weekly_preparation(facts, billed_sessions, first, last, units, flags) -> None:
    """30 minutes per (intervenant, family, week) with a billed session, in the month of the week's first one."""
    earliest: dict[tuple, SessionFact] = {}
    for s in billed_sessions:
        key = (s.intervenant_id, s.family_id, iso_week(s.date))
        if key not in earliest or s.order < earliest[key].order:
            earliest[key] = s
    for (intervenant_id, family_id, _week), s in sorted(earliest.items(), key=lambda item: item[1].order):
        if not first <= s.date <= last:
            continue
        qualification = facts.intervenant_on(intervenant_id, s.date).qualification  # the week's first billed day
        price = facts.terms.tariff(qualification, "weekly_preparation", s.date)
        if price is None:
            flags.append(Flag("missing_tariff", s.date, session_key=s.key, family_id=family_id,
                              intervenant_id=intervenant_id))
            continue
        units.append(BilledUnit("weekly_preparation", qualification, price, family_id, intervenant_id, s.date, s.key))


def _meetings(facts, month, first, last, units, flags) -> None:
    period_end_seen: set[str] = set()
    month_number = int(month[5:7])
    meetings: list[MeetingFact] = sorted((m for m in facts.meetings if first <= m.date <= last),
                                         key=lambda m: (m.date, m.key))
    for m in meetings:
        kind = "launch_meeting" if m.kind == "launch" else "period_end_meeting"
        for intervenant_id in m.intervenant_ids:
            reason = None
            if not facts.terms.covers(m.date):
                reason = "outside_convention"
            elif facts.intervenant_on(intervenant_id, m.date).partner_id != facts.terms.partner_id:
                # « Adom 01 s'engage à mettre à disposition 2 ou 3 professionnels »: the partner is paid for its own
                reason = "not_partner_intervenant"
            elif kind == "period_end_meeting" and month_number not in facts.terms.period_end_months:
                reason = "not_a_period_end_month"
            elif kind == "period_end_meeting" and intervenant_id in period_end_seen:
                reason = "duplicate_period_end_meeting"
            qualification = facts.intervenant_on(intervenant_id, m.date).qualification
            price = facts.terms.tariff(qualification, kind, m.date)
            if reason is None and price is None:
                reason = "missing_tariff"
            if reason:
                flags.append(Flag(reason, m.date, meeting_key=m.key, intervenant_id=intervenant_id))
                continue
            if kind == "period_end_meeting":
                period_end_seen.add(intervenant_id)
            units.append(BilledUnit(kind, qualification, price, None, intervenant_id, m.date, m.key))


def _monthly_flat(facts, first, last, units) -> None:
    """One unit per family followed on at least one day of the month, at the flat in force on the first such day."""
    terms = facts.terms
    start, end = max(first, terms.start), min(last, terms.end or last)
    followed: dict[str, date] = {}
    for o in facts.orientations:
        if o.convention_id != facts.convention_id or o.status not in ("validated", "ended") or o.decided_on is None:
            continue
        day = max(start, o.decided_on)
        if day <= end and (o.end is None or o.end >= day):
            followed[o.family_id] = min(day, followed.get(o.family_id, day))
    for family_id, day in sorted(followed.items(), key=lambda item: (facts.families[item[0]].code, item[0])):
        price = terms.tariff(FLAT_QUALIFICATION, FLAT_KIND, day)
        if price is not None:
            units.append(BilledUnit(FLAT_KIND, FLAT_QUALIFICATION, price, family_id, None, day, family_id))
