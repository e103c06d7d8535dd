"""Bilan annuel du Programme de Réussite Éducative: the tables the State and the partners ask for.

Who is counted: a child is « suivi » during the period when one of their parcours was taken on (status open,
suspended or closed, with a start date) and ran on at least one day of it. Each child counts once, described by
their latest parcours of the period (its référent, referral source, reasons, profile) and their age on the first
day they were followed in the period. Entries, exits and lengths are counted on parcours that start or end
within the period. Everything is read in a few grouped queries and one pass over the followed parcours: the
demo programme has thousands of rows, and a query per child would not do.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from sqlalchemy import func, select

from models import Action, Child, Convention, EpsMeeting, EpsSituation, Family, Orientation, Parcours, Partner, User
from models.enums import (EXIT_REASON_LABELS, PRIORITY_EDUCATION_LABELS, REFERRAL_REASON_LABELS,
                          REFERRAL_SOURCE_LABELS, SCHOOL_LEVEL_LABELS, SUPPORT_PROFILE_LABELS)
from models.families import ParcoursReason
from services.formatting import format_date
from services.permissions import require
from services.reports.model import Report, ReportTable
from services.reports.period import ReportPeriod, checked
from services.reports.tables import ALL, MISSING, TOTAL, count_table, cross_table, mean_or_none, programme_name
from services.rules import age_on

TITLE = "Bilan annuel du Programme de Réussite Éducative"
TAKEN_ON = ("open", "suspended", "closed")
AGE_BANDS = (("Moins de 2 ans", 0, 1), ("2 à 5 ans", 2, 5), ("6 à 10 ans", 6, 10), ("11 à 16 ans", 11, 16),
             ("17 ans et plus", 17, 200))
SEX_LABELS = {"F": "Filles", "M": "Garçons"}
# Lengths in days; a month is 365.25 / 12 days.
DURATION_BANDS = (("Moins de 6 mois", 0, 182), ("6 mois à moins d'un an", 183, 364),
                  ("1 an à moins de 2 ans", 365, 729), ("2 ans et plus", 730, 10 ** 6))
DAYS_PER_MONTH = Decimal("365.25") / 12
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Followed:
    """One parcours that ran during the period, with what the bilan reads of its child and family."""

    parcours_id: str
    child_id: str
    family_id: str
    status: str
    start: date
    end: date | None
    referent_id: str | None
    referral_source: str | None
    support_profile: str | None
    exit_reason_code: str | None
    sex: str | None
    birth_date: date
    school_level: str | None
    priority_education: str | None
    qpv_name: str | None
    priority_neighbourhood: bool


def bilan_report(uow, user, period: ReportPeriod) -> Report:
    with uow:
        require(user, "report.read", session=uow.session)
        period = checked(period)
        session = uow.session
        followed = _followed(session, period)
        children = _latest_per_child(followed)
        reasons = _reasons(session, period)
        tables = (
            _overview(followed, children, period),
            _not_taken_on(session, period),
            _sex_by_age(children, period),
            _school(children),
            _qpv(children),
            _referral(children, reasons),
            _support_profile(children),
            *_durations(followed, period),
            _actions(session, period, children),
            _exits(followed, period),
            _eps(session, period),
            _referents(session, children),
        )
        return Report("bilan", TITLE, period, programme_name(session), tables)


def _followed_filter(period: ReportPeriod):
    p = Parcours
    return (p.status.in_(TAKEN_ON), p.start_date.is_not(None), p.start_date <= period.end,
            p.end_date.is_(None) | (p.end_date >= period.start))


def _followed(session, period: ReportPeriod) -> list[Followed]:
    p, c, f = Parcours, Child, Family
    rows = session.execute(
        select(p.id, p.child_id, c.family_id, p.status, p.start_date, p.end_date, p.referent_id, p.referral_source,
               p.support_profile, p.exit_reason_code, c.sex, c.birth_date, c.school_level, c.priority_education,
               f.qpv_name, f.priority_neighbourhood)
        .join(c, c.id == p.child_id).join(f, f.id == c.family_id)
        .where(*_followed_filter(period)).order_by(p.child_id, p.start_date, p.id))
    return [Followed(*row) for row in rows]


def _latest_per_child(followed: list[Followed]) -> list[Followed]:
    latest: dict[str, Followed] = {}
    for row in followed:  # ordered by child, then start: the last one wins
        latest[row.child_id] = row
    return list(latest.values())


def _reasons(session, period: ReportPeriod) -> dict[str, set[str]]:
    r, p = ParcoursReason, Parcours
    out: dict[str, set[str]] = defaultdict(set)
    for parcours_id, reason in session.execute(
            select(r.parcours_id, r.reason).join(p, p.id == r.parcours_id).where(*_followed_filter(period))):
        out[parcours_id].add(reason)
    return out


def _overview(followed: list[Followed], children: list[Followed], period: ReportPeriod) -> ReportTable:
    entered = {r.child_id for r in followed if r.start >= period.start}
    left = {r.child_id for r in followed if r.status == "closed" and r.end is not None and r.end <= period.end}
    ongoing = {r.child_id for r in followed if r.end is None or r.end > period.end}
    rows = (("Enfants suivis sur la période", len(children)),
            ("Familles de ces enfants", len({r.family_id for r in children})),
            ("Nouvelles entrées (parcours commencé sur la période)", len(entered)),
            ("Sorties (parcours clos sur la période)", len(left)),
            (f"Parcours en cours au {format_date(period.end)}", len(ongoing)))
    return ReportTable("overview", "Enfants suivis, entrées et sorties (nombre d'enfants)",
                       ("Indicateur", "Enfants"), rows, chart="bars")


def _not_taken_on(session, period: ReportPeriod) -> ReportTable:
    o = Orientation
    counts = dict(session.execute(
        select(o.status, func.count(func.distinct(o.family_id)))
        .where(o.eps_date.between(period.start, period.end), o.status.in_(("rejected", "proposed")))
        .group_by(o.status)).all())
    proposed = session.scalar(select(func.count(func.distinct(Parcours.child_id))).where(
        Parcours.status == "proposed")) or 0
    rows = (("Orientations refusées par la coordination (familles)", counts.get("rejected", 0)),
            ("Orientations jamais validées, toujours en attente (familles)", counts.get("proposed", 0)),
            ("Parcours proposés et pas encore ouverts, à ce jour (enfants)", proposed))
    return ReportTable("not_taken_on", "Situations orientées et non prises en charge (orientations proposées "
                       "par une EPS de la période)", ("Situation", "Nombre"), rows, chart="bars")


def _age_band(child: Followed, period: ReportPeriod) -> str:
    age = age_on(child.birth_date, max(child.start, period.start))
    return next(label for label, low, high in AGE_BANDS if low <= age <= high)


def _sex_by_age(children: list[Followed], period: ReportPeriod) -> ReportTable:
    pairs = Counter((_age_band(c, period), SEX_LABELS.get(c.sex or "", MISSING)) for c in children)
    bands = [label for label, low, _ in AGE_BANDS if low >= 2 or any(k[0] == label for k in pairs)]
    return cross_table("sex_by_age", "Enfants suivis par sexe et tranche d'âge (âge au premier jour de suivi sur "
                       "la période : son début, ou l'entrée si elle est plus tardive)",
                       ("Tranche d'âge", *SEX_LABELS.values(), MISSING), bands,
                       (*SEX_LABELS.values(), MISSING), pairs)


def _school(children: list[Followed]) -> ReportTable:
    pairs = Counter((SCHOOL_LEVEL_LABELS.get(c.school_level or "", MISSING),
                     PRIORITY_EDUCATION_LABELS.get(c.priority_education or "", MISSING)) for c in children)
    columns = (*PRIORITY_EDUCATION_LABELS.values(), MISSING)
    return cross_table("school_level", "Enfants suivis par niveau scolaire et éducation prioritaire (REP, REP+)",
                       ("Niveau scolaire", *columns), (*SCHOOL_LEVEL_LABELS.values(), MISSING), columns, pairs)


def _qpv(children: list[Followed]) -> ReportTable:
    def place(c: Followed) -> str:
        if c.qpv_name:
            return c.qpv_name
        return "QPV (nom non renseigné)" if c.priority_neighbourhood else "Hors quartier prioritaire (QPV)"
    counts = Counter(place(c) for c in children)
    named = sorted(k for k in counts if k not in ("QPV (nom non renseigné)", "Hors quartier prioritaire (QPV)"))
    order = (*named, "QPV (nom non renseigné)", "Hors quartier prioritaire (QPV)")
    return count_table("qpv", "Enfants suivis selon le quartier prioritaire (QPV) de résidence de la famille",
                       ("Quartier de résidence", "Enfants"), order, counts)


def _referral(children: list[Followed], reasons: dict[str, set[str]]) -> ReportTable:
    reason_labels = (*REFERRAL_REASON_LABELS.values(), "Motif non renseigné")
    source_labels = (*REFERRAL_SOURCE_LABELS.values(), MISSING)
    per_source: Counter = Counter()
    pairs: Counter = Counter()
    for c in children:
        source = REFERRAL_SOURCE_LABELS.get(c.referral_source or "", MISSING)
        per_source[source] += 1
        for reason in sorted(reasons.get(c.parcours_id, ())) or [None]:
            pairs[(source, REFERRAL_REASON_LABELS[reason] if reason else "Motif non renseigné")] += 1
    rows = [(s, per_source[s], *(pairs[(s, r)] for r in reason_labels)) for s in source_labels]
    rows.append((TOTAL, sum(per_source.values()),
                 *(sum(pairs[(s, r)] for s in source_labels) for r in reason_labels)))
    return ReportTable("referral_source_by_reason",
                       "Enfants suivis par origine de l'orientation (qui a adressé l'enfant) et motifs (plusieurs "
                       "motifs possibles par enfant : les colonnes de motifs ne s'additionnent pas)",
                       ("Origine de l'orientation", "Enfants", *reason_labels), tuple(rows), chart="bars")


def _support_profile(children: list[Followed]) -> ReportTable:
    counts = Counter(SUPPORT_PROFILE_LABELS.get(c.support_profile or "", MISSING) for c in children)
    return count_table("support_profile", "Enfants suivis par profil d'accompagnement",
                       ("Profil d'accompagnement", "Enfants"), (*SUPPORT_PROFILE_LABELS.values(), MISSING), counts)


def _durations(followed: list[Followed], period: ReportPeriod) -> tuple[ReportTable, ReportTable]:
    ended = [(r.end - r.start).days for r in followed
             if r.status == "closed" and r.end is not None and r.end <= period.end]
    ongoing = [(period.end - r.start).days for r in followed if r.end is None or r.end > period.end]

    def summary(days: list[int]) -> tuple:
        if not days:
            return (0, "—", "—", "—", "—")
        mean = mean_or_none(days)
        middle = Decimal(median(days)).quantize(TENTH, ROUND_HALF_UP)
        return (len(days), mean, middle, (mean / DAYS_PER_MONTH).quantize(TENTH, ROUND_HALF_UP),
                (middle / DAYS_PER_MONTH).quantize(TENTH, ROUND_HALF_UP))
    summary_table = ReportTable(
        "duration_summary", f"Durée des parcours : parcours clos sur la période (de leur début à leur fin) et "
        f"parcours en cours au {format_date(period.end)} (de leur début à cette date)",
        ("Parcours", "Nombre", "Durée moyenne (jours)", "Durée médiane (jours)", "Durée moyenne (mois)",
         "Durée médiane (mois)"),
        (("Clos sur la période", *summary(ended)), (f"En cours au {format_date(period.end)}", *summary(ongoing))))
    bands = [label for label, _, _ in DURATION_BANDS]

    def band(days: int) -> str:
        return next(label for label, low, high in DURATION_BANDS if low <= days <= high)
    pairs = Counter([(band(d), "Clos sur la période") for d in ended]
                    + [(band(d), f"En cours au {format_date(period.end)}") for d in ongoing])
    columns = ("Clos sur la période", f"En cours au {format_date(period.end)}")
    bands_table = cross_table("duration_bands", "Parcours par durée (nombre de parcours)",
                              ("Durée du parcours", *columns), bands, columns, pairs)
    return summary_table, bands_table


def _actions(session, period: ReportPeriod, children: list[Followed]) -> ReportTable:
    o = Orientation
    rows = session.execute(
        select(Action.name, Partner.name, o.family_id).distinct()
        .join(Convention, Convention.id == o.convention_id).join(Action, Action.id == Convention.action_id)
        .join(Partner, Partner.id == Convention.partner_id)
        .where(o.status.in_(("validated", "ended")), o.decided_on <= period.end,
               o.end_date.is_(None) | (o.end_date >= period.start))
        .order_by(Action.name, Partner.name)).all()
    children_of: dict[str, set[str]] = defaultdict(set)
    for c in children:
        children_of[c.family_id].add(c.child_id)
    families: dict[tuple[str, str], set[str]] = defaultdict(set)
    for action, partner, family_id in rows:
        families[(action, partner)].add(family_id)
    out = [(action, partner, len(ids), sum(len(children_of[f]) for f in ids))
           for (action, partner), ids in families.items()]
    everyone = {f for ids in families.values() for f in ids}
    out.append((f"{ALL} des actions", "(familles distinctes)", len(everyone),
                sum(len(children_of[f]) for f in everyone)))
    return ReportTable("actions_by_partner", "Actions mobilisées par domaine et partenaire : familles orientées "
                       "(orientation validée en vigueur sur la période) et enfants suivis de ces familles",
                       ("Action", "Partenaire", "Familles", "Enfants suivis"), tuple(out), label_columns=2,
                       chart="bars")


def _exits(followed: list[Followed], period: ReportPeriod) -> ReportTable:
    counts = Counter(EXIT_REASON_LABELS.get(r.exit_reason_code or "", MISSING) for r in followed
                     if r.status == "closed" and r.end is not None and r.end <= period.end)
    return count_table("exits_by_reason", "Sorties du programme par motif (parcours clos sur la période)",
                       ("Motif de sortie", "Parcours"), (*EXIT_REASON_LABELS.values(), MISSING), counts)


def _eps(session, period: ReportPeriod) -> ReportTable:
    m, s, o = EpsMeeting, EpsSituation, Orientation
    meetings = session.scalar(select(func.count()).select_from(m).where(m.date.between(period.start, period.end)))
    situations, families = session.execute(
        select(func.count(), func.count(func.distinct(s.family_id))).select_from(s)
        .join(m, m.id == s.eps_meeting_id).where(m.date.between(period.start, period.end))).one()
    # Referral: the earliest start of a parcours of the family (the import's « date de saisine »); the EPS: the
    # family's first examination on or after it, when it falls in the period.
    referral = dict(session.execute(
        select(Child.family_id, func.min(Parcours.start_date)).join(Child, Child.id == Parcours.child_id)
        .where(Parcours.start_date.is_not(None)).group_by(Child.family_id)).all())
    first_eps: dict[str, date] = {}
    for family_id, day in session.execute(select(s.family_id, m.date).join(m, m.id == s.eps_meeting_id)
                                          .order_by(m.date)):
        start = referral.get(family_id)
        if start is not None and day >= start and family_id not in first_eps:
            first_eps[family_id] = day
    delays = [(day - referral[f]).days for f, day in first_eps.items() if period.start <= day <= period.end]
    decisions = [(decided - eps).days for eps, decided in session.execute(
        select(o.eps_date, o.decided_on).where(o.decided_on.between(period.start, period.end)))]
    rows = (("Séances d'EPS tenues", meetings or 0),
            ("Situations examinées", situations or 0),
            ("Familles distinctes examinées", families or 0),
            ("Délai moyen de la saisine (début du premier parcours) à l'EPS (jours)", _mean_text(delays)),
            ("Délai moyen de l'EPS à la décision sur l'orientation (jours)", _mean_text(decisions)))
    return ReportTable("eps", "Équipe pluridisciplinaire de soutien (EPS) : séances tenues sur la période",
                       ("Indicateur", "Valeur"), rows, counts_children=False)


def _mean_text(days: list[int]) -> Decimal | str:
    return mean_or_none(days) if days else "—"


def _referents(session, children: list[Followed]) -> ReportTable:
    names = dict(session.execute(select(User.id, User.name)).all())
    counts = Counter(names.get(c.referent_id, MISSING) if c.referent_id else MISSING for c in children)
    order = (*sorted(k for k in counts if k != MISSING), MISSING)
    return count_table("children_by_referent", "Enfants suivis par référent·e de parcours",
                       ("Référent·e", "Enfants"), order, counts)
