"""Reads, in a few set-based queries, the facts the billing rules need for a range of months."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import String, func, select, type_coerce

from models import Convention, Family, HomeSession, Intervenant, Meeting, Orientation, Programme, meeting_attendance
from services.billing.facts import (BillingFacts, ConventionTerms, MeetingFact, OrientationFact, Person,
                                    SessionFact)
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
        tariffs={(t.qualification, t.kind): t.unit_price for t in convention.tariffs},
        max_families=convention.max_families, budget_cap=convention.budget_cap,
        budget_imputation=convention.budget_imputation, holiday_zone=programme.holiday_zone,
    )

def load_facts(session, convention: Convention, window_start: date, window_end: date) -> BillingFacts:
    terms = convention_terms(session, convention)
    partner_id = convention.partner_id
    other_ids = frozenset(session.scalars(
        select(Convention.id).where(Convention.partner_id == partner_id, Convention.id != convention.id)))

    intervenants = {row.id: Person(row.id, row.key, row.name, row.qualification, row.partner_id)
                    for row in session.execute(select(Intervenant.id, Intervenant.key, Intervenant.name,
                                                      Intervenant.qualification, Intervenant.partner_id))}
    partner_intervenants = select(Intervenant.id).where(Intervenant.partner_id == partner_id)

    s = HomeSession
    # Dates come back as ISO text and are parsed with date.fromisoformat: several times faster than the
    # generic type processing on the thousands of rows of a large month. (SQLite only: type_coerce casts
    # nothing in SQL, so PostgreSQL's driver still hands over date and time objects, taken as they are.)
    rows = session.execute(
        select(s.key, s.family_id, s.intervenant_id, type_coerce(s.date, String), type_coerce(s.start_time, String),
               s.duration_minutes, s.status, s.referent_present, s.approved_exception)
        .where(s.date.between(window_start, window_end), s.status == "held",  # only held sessions are billed
               s.intervenant_id.in_(partner_intervenants)))
    sessions = tuple(
        SessionFact(key, family, intervenant, day if type(day) is date else date.fromisoformat(day),
                    start if start is None or type(start) is time else time.fromisoformat(start),
                    minutes, status, bool(referent), bool(approved))
        for key, family, intervenant, day, start, minutes, status, referent, approved in rows)

    o = Orientation
    family_ids = {x.family_id for x in sessions}
    orientation_rows = session.execute(
        select(o.family_id, o.convention_id, o.status, o.decided_on, o.end_date)
        .where(o.convention_id.in_([convention.id, *other_ids]), o.status.in_(("validated", "ended"))))
    orientations = tuple(OrientationFact(*row) for row in orientation_rows)

    m = Meeting
    meeting_rows = session.execute(
        select(m.key, m.kind, m.date, meeting_attendance.c.intervenant_id)
        .join(meeting_attendance, meeting_attendance.c.meeting_id == m.id)
        .where(m.convention_id == convention.id, m.date.between(window_start, window_end))
        .order_by(m.date, m.key, meeting_attendance.c.intervenant_id))
    grouped: dict[str, list] = {}
    for key, kind, day, intervenant_id in meeting_rows:
        grouped.setdefault(key, [kind, day, []])[2].append(intervenant_id)
    meetings = tuple(MeetingFact(k, v[0], v[1], tuple(v[2])) for k, v in grouped.items())

    family_ids |= {x.family_id for x in orientations}
    families = {row.id: Person(row.id, row.key, row.name) for row in session.execute(
        select(Family.id, Family.key, Family.name).where(Family.id.in_(family_ids)))} if family_ids else {}

    # Whether a family's first session under the convention lies before the window (the référent rule):
    # one indexed probe per family seen in the window, instead of a scan of the convention's whole history.
    first_decision = (select(func.min(o.decided_on)).where(
        o.family_id == Family.id, o.convention_id == convention.id, o.status.in_(("validated", "ended")))
        .scalar_subquery())
    earlier_session = (select(s.id).where(
        s.family_id == Family.id, s.status == "held", s.date < window_start, s.date >= convention.start_date,
        s.date >= first_decision, s.intervenant_id.in_(partner_intervenants)).exists())
    window_families = sorted({x.family_id for x in sessions if x.status == "held"})
    earlier = frozenset(session.scalars(
        select(Family.id).where(Family.id.in_(window_families), earlier_session))) if window_families else frozenset()

    return BillingFacts(convention.id, terms, sessions, orientations, other_ids, meetings, families, intervenants,
                        earlier)

def families_under_orientation(session, convention: Convention, start: date, end: date) -> int:
    """Families with a validated orientation to the convention in force at some day of [start, end]."""
    o = Orientation
    return session.scalar(select(func.count(func.distinct(o.family_id))).where(
        o.convention_id == convention.id, o.status.in_(("validated", "ended")), o.decided_on <= end,
        (o.end_date.is_(None)) | (o.end_date >= start)))

