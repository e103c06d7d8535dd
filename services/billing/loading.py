"""Reads, in a few set-based queries, the facts the billing rules need for a range of months."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import String, and_, false, func, or_, select, type_coerce

from models import (Convention, Family, HomeSession, Intervenant, IntervenantHistory, Meeting, Orientation, Programme,
                    TariffAmendment, meeting_attendance)
from services.billing.facts import (BillingFacts, ConventionTerms, IntervenantTerm, MeetingFact, OrientationFact,
                                    Person, SessionFact, TariffVersion)
from services.errors import NotFound, StatementError

def convention_by_key(session, key: str) -> Convention:
    convention = session.scalars(select(Convention).where(Convention.key == key)).first()
    if convention is None:
        raise NotFound(f"Aucune convention de clé « {key} ».", field="convention")
    return convention

def convention_terms(session, convention: Convention) -> ConventionTerms:
    programme = session.scalars(select(Programme)).first()
    if programme is None:
        raise StatementError("Le programme n'est pas encore paramétré (zone de vacances scolaires inconnue).")
    return ConventionTerms(
        key=convention.key, partner_id=convention.partner_id, partner_name=convention.partner.name,
        action=convention.action.name, start=convention.start_date, end=convention.end_date,
        period_end_months=frozenset(convention.period_end_months or ()),
        tariff_versions=tariff_versions(session, convention),
        max_families=convention.max_families, budget_cap=convention.budget_cap,
        budget_imputation=convention.budget_imputation, holiday_zone=programme.holiday_zone,
        sessions_per_week=convention.sessions_per_week, holidays_need_exception=convention.holidays_need_exception,
        referent_at_first_session=convention.referent_at_first_session, home_unit=convention.home_unit,
        hour_rounding_minutes=convention.hour_rounding_minutes,
    )

def tariff_versions(session, convention: Convention) -> tuple[TariffVersion, ...]:
    """The first table from the convention's start, then each avenant's from its own start."""
    amended: dict[date, dict] = {}
    for row in session.execute(select(TariffAmendment.starts_on, TariffAmendment.qualification, TariffAmendment.kind,
                                      TariffAmendment.unit_price)
                               .where(TariffAmendment.convention_id == convention.id)):
        amended.setdefault(row.starts_on, {})[(row.qualification, row.kind)] = row.unit_price
    first = TariffVersion(convention.start_date, {(t.qualification, t.kind): t.unit_price for t in convention.tariffs})
    return (first, *(TariffVersion(day, prices) for day, prices in sorted(amended.items())))


def intervenant_terms(session) -> dict[str, tuple[IntervenantTerm, ...]]:
    """Every intervenant's qualification and employer over time. One without history (written by an older import)
    has its current ones from the beginning."""
    h = IntervenantHistory
    history: dict[str, list[IntervenantTerm]] = {}
    for row in session.execute(select(h.intervenant_id, h.starts_on, h.qualification, h.partner_id)):
        history.setdefault(row.intervenant_id, []).append(IntervenantTerm(row.starts_on, row.qualification,
                                                                          row.partner_id))
    terms = {}
    for row in session.execute(select(Intervenant.id, Intervenant.qualification, Intervenant.partner_id)):
        rows = sorted(history.get(row.id, ()), key=lambda t: (t.start is not None, t.start or date.min))
        terms[row.id] = tuple(rows) or (IntervenantTerm(None, row.qualification, row.partner_id),)
    return terms


def _with_partner(terms: dict[str, tuple[IntervenantTerm, ...]], partner_id: str, intervenant_column, date_column):
    """SQL: the intervenant worked for the partner on that day (the employer in force on the session's date)."""
    whole, bounded = [], []
    for intervenant_id, history in terms.items():
        spans = []
        for index, term in enumerate(history):
            if term.partner_id != partner_id:
                continue
            start = term.start if index else None  # the first row holds from the beginning
            end = history[index + 1].start if index + 1 < len(history) else None
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end)  # two rows in a row with this partner: one span
            else:
                spans.append((start, end))
        for start, end in spans:
            if start is None and end is None:
                whole.append(intervenant_id)
                continue
            bounded.append(and_(intervenant_column == intervenant_id,
                                *([date_column >= start] if start else []), *([date_column < end] if end else [])))
    conditions = ([intervenant_column.in_(whole)] if whole else []) + bounded
    return or_(*conditions) if conditions else false()


_make_session = SessionFact._make


def session_fact(key: str, family_id: str, intervenant_id: str, day: date, start: time | None, minutes: int,
                 status: str, referent_present: bool, approved_exception: bool) -> SessionFact:
    return _make_session((key, family_id, intervenant_id, day, start, minutes, status, referent_present,
                          approved_exception, (day, start or MIDNIGHT, key)))


MIDNIGHT = time(0, 0)


def load_facts(session, convention: Convention, window_start: date, window_end: date) -> BillingFacts:
    terms = convention_terms(session, convention)
    # The thousands of rows below are read on the session's connection: plain rows, without the ORM's result
    # layer (a fifth of a month's draft); same transaction.
    rows_of = session.connection().execute
    partner_id = convention.partner_id
    other_ids = frozenset(session.scalars(
        select(Convention.id).where(Convention.partner_id == partner_id, Convention.id != convention.id)))

    history = intervenant_terms(session)
    # A statement names an intervenant with the qualification in force at the end of the loaded weeks.
    named = {i: next((t for t in reversed(h[1:]) if t.start <= window_end), h[0]) for i, h in history.items()}
    intervenants = {row.id: Person(row.id, row.key, row.name, named[row.id].qualification, named[row.id].partner_id)
                    for row in session.execute(select(Intervenant.id, Intervenant.key, Intervenant.name))}

    s = HomeSession
    # Dates come back as ISO text and are parsed with date.fromisoformat: several times faster than the
    # generic type processing on the thousands of rows of a large month. (SQLite only: type_coerce casts
    # nothing in SQL, so PostgreSQL's driver still hands over date and time objects, taken as they are.)
    rows = rows_of(
        select(s.key, s.family_id, s.intervenant_id, type_coerce(s.date, String), type_coerce(s.start_time, String),
               s.duration_minutes, s.status, s.referent_present, s.approved_exception)
        .where(s.date.between(window_start, window_end), s.status == "held",  # only held sessions are billed
               _with_partner(history, partner_id, s.intervenant_id, s.date))).fetchall()
    # A month's thousands of sessions fall on a few dozen days and start times: each text is parsed once.
    days: dict = {}
    starts: dict = {None: None}
    sessions = tuple(
        session_fact(key, family, intervenant,
                     days.get(day) or days.setdefault(day, day if type(day) is date else date.fromisoformat(day)),
                     starts[start] if start in starts else starts.setdefault(
                         start, start if type(start) is time else time.fromisoformat(start)),
                     minutes, status, bool(referent), bool(approved))
        for key, family, intervenant, day, start, minutes, status, referent, approved in rows)

    o = Orientation
    family_ids = {x.family_id for x in sessions}
    orientation_rows = rows_of(
        select(o.family_id, o.convention_id, o.status, o.decided_on, o.end_date)
        .where(o.convention_id.in_([convention.id, *other_ids]), o.status.in_(("validated", "ended"))))
    orientations = tuple(OrientationFact(*row) for row in orientation_rows)

    m = Meeting
    meeting_rows = rows_of(
        select(m.key, m.kind, m.date, meeting_attendance.c.intervenant_id)
        .join(meeting_attendance, meeting_attendance.c.meeting_id == m.id)
        .where(m.convention_id == convention.id, m.date.between(window_start, window_end))
        .order_by(m.date, m.key, meeting_attendance.c.intervenant_id))
    grouped: dict[str, list] = {}
    for key, kind, day, intervenant_id in meeting_rows:
        grouped.setdefault(key, [kind, day, []])[2].append(intervenant_id)
    meetings = tuple(MeetingFact(k, v[0], v[1], tuple(v[2])) for k, v in grouped.items())

    family_ids |= {x.family_id for x in orientations}
    families = {row.id: Person(row.id, row.key, row.name) for row in rows_of(
        select(Family.id, Family.key, Family.name).where(Family.id.in_(family_ids)))} if family_ids else {}

    # Whether a family's first session under the convention lies before the window (the référent rule):
    # one indexed probe per family seen in the window, instead of a scan of the convention's whole history.
    # `|| ''` keeps SQLite's planner off an index that does not narrow to the family: the convention's orientations
    # are all of them (it read 1,000 for each of 1,000 families), and the session list's (status, date) index (0009)
    # made it scan every held session before the window for each family (1.4 s); the family's own indexes serve.
    first_decision = (select(func.min(o.decided_on)).where(
        o.family_id == Family.id, o.convention_id.concat("") == convention.id, o.status.in_(("validated", "ended")))
        .correlate(Family).scalar_subquery())  # the family's own first decision (uncorrelated, it was anyone's)
    earlier_session = (select(s.id).where(
        s.family_id == Family.id, s.status.concat("") == "held", s.date < window_start,
        s.date >= convention.start_date, s.date >= first_decision,
        _with_partner(history, partner_id, s.intervenant_id, s.date)).exists())
    window_families = sorted({x.family_id for x in sessions if x.status == "held"})
    earlier = frozenset(session.scalars(
        select(Family.id).where(Family.id.in_(window_families), earlier_session))) if window_families else frozenset()

    return BillingFacts(convention.id, terms, sessions, orientations, other_ids, meetings, families, intervenants,
                        earlier, history)

def families_under_orientation(session, convention: Convention, start: date, end: date) -> int:
    """Families with a validated orientation to the convention in force at some day of [start, end]."""
    o = Orientation
    return session.scalar(select(func.count(func.distinct(o.family_id))).where(
        o.convention_id == convention.id, o.status.in_(("validated", "ended")), o.decided_on <= end,
        (o.end_date.is_(None)) | (o.end_date >= start)))

