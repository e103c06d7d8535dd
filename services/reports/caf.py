"""Annexe CAF / Département: the home-support actions (conventions paying home interventions, as Atout Plus).

A held home session belongs to the convention its family was oriented to (validated orientation in force on the
day), within the convention's period, delivered by an intervenant employed by the convention's partner that day;
it is counted at the qualification the intervenant held that day (services.billing.loading.intervenant_terms), for
its real duration (the hours delivered, not the billed rounding). Amounts are the statements': an issued month is
its issued total, a month not issued yet is its draft computed now (months after today are not counted).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from models import Child, Convention, HomeSession, Orientation, Parcours, Statement, Tariff
from services.billing.loading import intervenant_terms
from services.billing.rules import month_bounds
from services.billing.statements import compute_draft
from services.formatting import month_in_words
from services.permissions import require
from services.reports.model import Report, ReportTable
from services.reports.period import ReportPeriod, checked
from services.reports.tables import ALL, TOTAL, programme_name
from services.reports.values import BILLED, CAP, DRAFTS, ISSUED, MONTH_AMOUNT, RUNNING
from services.rules import orientation_in_force

TITLE = "Annexe CAF / Département — actions d'accompagnement à domicile"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def caf_report(uow, user, period: ReportPeriod, today: date | None = None) -> Report:
    with uow:
        require(user, "report.read", session=uow.session)
        period = checked(period)
        session = uow.session
        conventions = _home_conventions(session, period)
        sessions = _sessions(session, period, conventions)
        billed = {c.id: _billed(session, c, period, today or date.today()) for c in conventions}
        tables = (
            _supported(session, period, conventions, sessions),
            _by_qualification(sessions),
            _hours_by_month(sessions, period),
            _billing(conventions, billed),
            _spending_by_month(conventions, billed, period),
        )
        return Report("caf", TITLE, period, programme_name(session), tables)


def _home_conventions(session, period: ReportPeriod) -> list[Convention]:
    """The conventions that price home interventions and run on at least one day of the period."""
    c = Convention
    return list(session.scalars(
        select(c).where(c.start_date <= period.end, c.end_date.is_(None) | (c.end_date >= period.start),
                        select(Tariff.id).where(Tariff.convention_id == c.id,
                                                Tariff.kind == "home_intervention").exists())
        .order_by(c.start_date, c.key)))


def _label(convention: Convention) -> str:
    return f"{convention.action.name} — {convention.partner.name} ({convention.key})"


def _sessions(session, period: ReportPeriod, conventions: list[Convention]) -> list[tuple]:
    """(convention id, family id, qualification, day, minutes) of each held session of the period that belongs to a
    home-support convention."""
    if not conventions:
        return []
    ids = [c.id for c in conventions]
    orientations: dict[str, list] = defaultdict(list)
    for row in session.execute(select(Orientation.family_id, Orientation.convention_id, Orientation.status,
                                      Orientation.decided_on, Orientation.end_date)
                               .where(Orientation.convention_id.in_(ids),
                                      Orientation.status.in_(("validated", "ended")))):
        orientations[row.family_id].append(row)
    terms = intervenant_terms(session)
    s = HomeSession
    out = []
    for family_id, intervenant_id, day, minutes in session.execute(
            select(s.family_id, s.intervenant_id, s.date, s.duration_minutes)
            .where(s.status == "held", s.date.between(period.start, period.end))):
        term = _term_on(terms.get(intervenant_id, ()), day)
        if term is None:
            continue
        for convention in conventions:
            if convention.partner_id == term.partner_id and _covers(convention, day) and any(
                    o.convention_id == convention.id and orientation_in_force(o.status, o.decided_on, o.end_date, day)
                    for o in orientations.get(family_id, ())):
                out.append((convention.id, family_id, term.qualification, day, minutes))
                break
    return out


def _term_on(history, day: date):
    current = None
    for term in history:  # ordered: the first holds from the beginning
        if term.start is None or term.start <= day:
            current = term
    return current


def _covers(convention: Convention, day: date) -> bool:
    return convention.start_date <= day and (convention.end_date is None or day <= convention.end_date)


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(CENT, ROUND_HALF_UP)


def _supported(session, period: ReportPeriod, conventions: list[Convention], sessions: list[tuple]) -> ReportTable:
    o, p = Orientation, Parcours
    oriented: dict[str, set[str]] = defaultdict(set)
    for convention_id, family_id in session.execute(
            select(o.convention_id, o.family_id).distinct()
            .where(o.convention_id.in_([c.id for c in conventions]), o.status.in_(("validated", "ended")),
                   o.decided_on <= period.end, o.end_date.is_(None) | (o.end_date >= period.start))):
        oriented[convention_id].add(family_id)
    followed: dict[str, set[str]] = defaultdict(set)
    for family_id, child_id in session.execute(
            select(Child.family_id, Child.id).distinct().join(p, p.child_id == Child.id)
            .where(p.status.in_(("open", "suspended", "closed")), p.start_date <= period.end,
                   p.end_date.is_(None) | (p.end_date >= period.start))):
        followed[family_id].add(child_id)
    visited: dict[str, set[str]] = defaultdict(set)
    for convention_id, family_id, *_ in sessions:
        visited[convention_id].add(family_id)

    def row(label: str, families: set[str], with_sessions: set[str]) -> tuple:
        return (label, len(families), len(with_sessions), sum(len(followed[f]) for f in families))
    rows = [row(_label(c), oriented[c.id], visited[c.id]) for c in conventions]
    rows.append(row(f"{ALL} (familles distinctes)", set().union(*oriented.values()) if oriented else set(),
                    set().union(*visited.values()) if visited else set()))
    return ReportTable("caf_supported", "Familles et enfants accompagnés à domicile (orientation validée en "
                       "vigueur sur la période ; enfants : ceux de ces familles suivis en parcours)",
                       ("Convention", "Familles orientées", "Familles ayant eu une séance", "Enfants suivis"),
                       tuple(rows), chart="bars")


def _qualifications(sessions: list[tuple]) -> list[str]:
    return sorted({q for _, _, q, _, _ in sessions}) or ["AES", "TISF"]


def _by_qualification(sessions: list[tuple]) -> ReportTable:
    count, minutes = Counter(), Counter()
    for _, _, qualification, _, duration in sessions:
        count[qualification] += 1
        minutes[qualification] += duration
    rows = [(q, count[q], _hours(minutes[q])) for q in _qualifications(sessions)]
    rows.append((TOTAL, sum(count.values()), _hours(sum(minutes.values()))))
    return ReportTable("caf_by_qualification", "Séances à domicile réalisées et heures d'intervention par "
                       "qualification de l'intervenant·e (AES, TISF) à la date de la séance",
                       ("Qualification", "Séances réalisées", "Heures réalisées"), tuple(rows), chart="bars",
                       counts_children=False)


def _hours_by_month(sessions: list[tuple], period: ReportPeriod) -> ReportTable:
    qualifications = _qualifications(sessions)
    minutes: Counter = Counter()
    for _, _, qualification, day, duration in sessions:
        minutes[(f"{day.year:04d}-{day.month:02d}", qualification)] += duration
    rows = []
    for month in period.months():
        per = [minutes[(month, q)] for q in qualifications]
        rows.append((month_in_words(month), *(_hours(m) for m in per), _hours(sum(per))))
    rows.append((TOTAL, *(_hours(sum(minutes[(m, q)] for m in period.months())) for q in qualifications),
                 _hours(sum(minutes.values()))))
    return ReportTable("caf_hours_by_month", "Heures d'intervention à domicile réalisées par mois et par "
                       "qualification", ("Mois", *(f"Heures {q}" for q in qualifications), TOTAL), tuple(rows),
                       chart="line", counts_children=False)


def _billed(session, convention: Convention, period: ReportPeriod, today: date) -> dict[str, tuple[Decimal, bool]]:
    """Month -> (amount, issued) for each month of the period the convention bills."""
    stored = {month: total for month, total in session.execute(
        select(Statement.month, Statement.total).where(Statement.convention_id == convention.id))}
    out = {}
    for month in period.months():
        if month in stored:
            out[month] = (stored[month], True)
            continue
        first, last = month_bounds(month)
        if first > today or last < convention.start_date or first > (convention.end_date or date.max):
            continue  # not yet, or outside the convention
        out[month] = (compute_draft(session, convention, month).total, False)
    return out


def _billing(conventions: list[Convention], billed: dict) -> ReportTable:
    rows = []
    for c in conventions:
        months = billed[c.id]
        issued = sum((a for a, done in months.values() if done), ZERO)
        drafts = sum((a for a, done in months.values() if not done), ZERO)
        total = issued + drafts
        share = (total * 100 / c.budget_cap).quantize(Decimal("0.1"), ROUND_HALF_UP) if c.budget_cap else "—"
        rows.append((_label(c), sum(1 for _, done in months.values() if done),
                     sum(1 for _, done in months.values() if not done), issued, drafts, total,
                     c.budget_cap if c.budget_cap is not None else "—", share))
    return ReportTable("caf_billing", "Montants facturés par convention sur la période, face au plafond de la "
                       "convention (mois émis : total de l'état émis ; mois non émis : brouillon calculé ce jour)",
                       ("Convention", "Mois émis", "Mois en brouillon", ISSUED, DRAFTS, BILLED, CAP,
                        "Part du plafond (%)"), tuple(rows), counts_children=False)


def _spending_by_month(conventions: list[Convention], billed: dict, period: ReportPeriod) -> ReportTable:
    caps = [c.budget_cap for c in conventions if c.budget_cap is not None]
    cap = sum(caps, ZERO) if caps else None
    rows, running = [], ZERO
    for month in period.months():
        amount = sum((billed[c.id][month][0] for c in conventions if month in billed[c.id]), ZERO)
        running += amount
        rows.append((month_in_words(month), amount, running, cap if cap is not None else "—"))
    return ReportTable("caf_spending_by_month", "Dépense facturée par mois et cumul depuis le début de la période, "
                       "face au plafond (somme des plafonds des conventions)",
                       ("Mois", MONTH_AMOUNT, RUNNING, CAP), tuple(rows), chart="line",
                       counts_children=False)
