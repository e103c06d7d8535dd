"""The families a user follows (the « Mes familles » list) and a family's file."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, literal, null, or_, select

from models import Child, EpsSituation, Family, HomeSession, Orientation, Parcours, User
from services import audit
from services.activity import FamilyHours, family_hours_in
from services.billing.rules import month_bounds
from services.errors import NotFound
from services.home_sessions import SessionQuery, SessionRow, list_sessions_in, usual_intervenant_in
from services.orientations import ORIENTATION_LABELS, OrientationRow, list_orientations_in
from services.parcours import PARCOURS_LABELS, ParcoursRow, parcours_row
from services.permissions import CurrentUser, notes_visible, require, scope_families
from services.rules import age_on
from services.uow import UnitOfWork


def family_by_key(session, family_key: str) -> Family:
    """The family of code `family_key`, or NotFound with a French message."""
    family = session.scalars(select(Family).where(Family.key == family_key)).first() \
        if isinstance(family_key, str) and family_key else None
    if family is None:
        raise NotFound(f"Aucune famille de code « {family_key} ».", field="family")
    return family


@dataclass(frozen=True)
class FamilyRow:
    id: str
    key: str
    name: str
    commune: str
    referent_name: str | None
    children: int
    active_orientations: int
    last_session: date | None
    sessions_this_month: int
    parcours_status: str | None = None  # the most active of its children's parcours (PARCOURS_SUMMARY), None: none
    notes: str | None = None  # None unless the reader may see notes (services.permissions.notes_visible)

    @property
    def parcours_label(self) -> str:
        """« En cours », « Suspendu », « Proposé », « Clos » or « Sans parcours »: what the list shows and searches."""
        return PARCOURS_LABELS.get(self.parcours_status, "Sans parcours")


# A family's parcours in one word: a running parcours (one child at most each) outranks a closed one.
PARCOURS_SUMMARY = ("open", "suspended", "proposed", "closed")


@dataclass(frozen=True)
class GuardianRow:
    name: str
    relationship: str | None
    phone: str | None


@dataclass(frozen=True)
class ChildRow:
    id: str
    first_name: str
    last_name: str
    birth_date: date
    age: int
    sex: str | None
    school: str | None
    school_class: str | None
    parcours: tuple[ParcoursRow, ...]  # oldest first
    school_level: str | None = None  # models.enums.SCHOOL_LEVELS
    priority_education: str | None = None  # models.enums.PRIORITY_EDUCATION

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def current_parcours(self) -> ParcoursRow | None:
        return self.parcours[-1] if self.parcours else None


@dataclass(frozen=True)
class TimelineEvent:
    date: date
    label: str


@dataclass(frozen=True)
class FamilyFile:
    id: str
    key: str
    name: str
    address: str | None
    commune: str
    priority_neighbourhood: bool
    referent_name: str | None
    consent_date: date | None
    consent_scope: str | None
    notes: str | None
    guardians: tuple[GuardianRow, ...]
    children: tuple[ChildRow, ...]
    orientations: tuple[OrientationRow, ...]
    sessions: tuple[SessionRow, ...]  # newest first
    timeline: tuple[TimelineEvent, ...]  # newest first
    hours: FamilyHours
    usual_intervenant_id: str | None
    qpv_name: str | None = None


@dataclass(frozen=True)
class FamilyChoice:
    """A family as the session form's picker offers it."""
    id: str
    key: str
    name: str
    commune: str


def list_families(uow: UnitOfWork, user: CurrentUser, today: date,
                  include_closed: bool | None = None) -> tuple[FamilyRow, ...]:
    """`include_closed`: by default a référent's list leaves out the closed files, the coordination's keeps them."""
    with uow:
        require(user, "family.list", session=uow.session)
        query = _families_query(user, today)
        if not (user.is_coordinator if include_closed is None else include_closed):
            query = query.where(Family.closed_on.is_(None))
        return tuple(FamilyRow(*row) for row in uow.session.execute(query))


def _families_query(user: CurrentUser, today: date):
    first, last = month_bounds(today.strftime("%Y-%m"))
    children = select(Child.family_id, func.count(Child.id).label("n")).group_by(Child.family_id).subquery()
    in_force = (select(Orientation.family_id, func.count(Orientation.id).label("n"))
                .where(Orientation.status.in_(("validated", "ended")), Orientation.decided_on <= today,
                       or_(Orientation.end_date.is_(None), Orientation.end_date >= today))
                .group_by(Orientation.family_id).subquery())
    held = HomeSession.status == "held"
    sessions = (select(HomeSession.family_id, func.max(HomeSession.date).label("last"),
                       func.sum(case((HomeSession.date.between(first, last), 1), else_=0)).label("month"))
                .where(held).group_by(HomeSession.family_id).subquery())
    rank = case(*((Parcours.status == status, len(PARCOURS_SUMMARY) - i) for i, status in enumerate(PARCOURS_SUMMARY)),
                else_=0)
    parcours = (select(Child.family_id, func.max(rank).label("rank")).join(Parcours, Parcours.child_id == Child.id)
                .group_by(Child.family_id).subquery())
    summary = case(*((parcours.c.rank == len(PARCOURS_SUMMARY) - i, literal(status))
                     for i, status in enumerate(PARCOURS_SUMMARY)), else_=null())
    notes = Family.notes if notes_visible(user) else null()
    query = scope_families(
        select(Family.id, Family.key, Family.name, Family.commune, User.name, func.coalesce(children.c.n, 0),
               func.coalesce(in_force.c.n, 0), sessions.c.last, func.coalesce(sessions.c.month, 0), summary, notes)
        .outerjoin(User, User.id == Family.referent_id)
        .outerjoin(children, children.c.family_id == Family.id)
        .outerjoin(in_force, in_force.c.family_id == Family.id)
        .outerjoin(sessions, sessions.c.family_id == Family.id)
        .outerjoin(parcours, parcours.c.family_id == Family.id)
        .order_by(Family.name), user)
    return query


def family_choices(uow: UnitOfWork, user: CurrentUser, keep: str | None = None) -> tuple[FamilyChoice, ...]:
    """The families a form may pick: closed files are left out, except `keep` (the family of the session being
    corrected, which must stay on screen)."""
    with uow:
        require(user, "family.list", session=uow.session)
        open_or_kept = Family.closed_on.is_(None) if keep is None else or_(Family.closed_on.is_(None),
                                                                             Family.id == keep)
        rows = uow.session.execute(scope_families(select(Family.id, Family.key, Family.name, Family.commune)
                                                  .where(open_or_kept).order_by(Family.name), user))
        return tuple(FamilyChoice(*r) for r in rows)


def family_file(uow: UnitOfWork, user: CurrentUser, family_id: str, today: date) -> FamilyFile:
    """The whole file of one family; each opening is written in the audit log."""
    with uow:
        require(user, "family.read", session=uow.session)
        family = uow.session.get(Family, family_id) if family_id else None
        if family is None:
            raise NotFound("Cette famille n'existe plus : actualisez la liste.")
        require(user, "family.read", family_id=family.id, session=uow.session)
        parcours = uow.session.scalars(select(Parcours).join(Child).where(Child.family_id == family.id)
                                       .order_by(Parcours.start_date, Parcours.key)).all()
        children = tuple(
            ChildRow(c.id, c.first_name, c.last_name, c.birth_date, age_on(c.birth_date, today), c.sex, c.school,
                     c.school_class, tuple(parcours_row(p) for p in parcours if p.child_id == c.id),
                     c.school_level, c.priority_education)
            for c in family.children)
        eps = [(s.meeting.date, s.recommendation)
               for s in uow.session.scalars(select(EpsSituation).where(EpsSituation.family_id == family.id))]
        orientations = list_orientations_in(uow, family_id=family.id)
        sessions = list_sessions_in(uow, user, SessionQuery(family_id=family.id), limit=100_000)
        audit.record(uow.session, user.key, "open", "family", family.key)
        result = FamilyFile(
            id=family.id, key=family.key, name=family.name, address=family.address, commune=family.commune,
            priority_neighbourhood=family.priority_neighbourhood,
            referent_name=family.referent.name if family.referent else None, consent_date=family.consent_date,
            consent_scope=family.consent_scope, notes=family.notes if notes_visible(user) else None,
            guardians=tuple(GuardianRow(g.name, g.relationship_to_child, g.phone) for g in family.guardians),
            children=children, orientations=orientations, sessions=sessions,
            timeline=_timeline(children, orientations, eps, sessions), hours=family_hours_in(uow, family.id),
            usual_intervenant_id=usual_intervenant_in(uow, family.id), qpv_name=family.qpv_name)
        uow.commit()
        return result


def _timeline(children, orientations, eps, sessions) -> tuple[TimelineEvent, ...]:
    events: list[TimelineEvent] = []
    for day, recommendation in eps:
        events.append(TimelineEvent(day, "Situation étudiée en EPS" + (f" : {recommendation}" if recommendation else "")))
    for o in orientations:
        events.append(TimelineEvent(o.eps_date, f"Orientation proposée vers {o.convention_label}"))
        if o.decided_on:
            text = f"Orientation {ORIENTATION_LABELS[o.status].lower()} ({o.convention_label})"
            if o.status == "ended":
                text = f"Orientation validée ({o.convention_label})"
            events.append(TimelineEvent(o.decided_on, text + (f" — {o.reason}" if o.reason else "")))
        if o.end_date:
            events.append(TimelineEvent(o.end_date, f"Fin de l'orientation ({o.convention_label})"))
    for c in children:
        for p in c.parcours:
            if p.start_date:
                events.append(TimelineEvent(p.start_date, f"Début du parcours de {c.first_name}"))
            if p.end_date:
                reason = f" : {p.exit_label}" if p.exit_label else ""
                events.append(TimelineEvent(p.end_date, f"Fin du parcours de {c.first_name}{reason}"))
    held = [s for s in sessions if s.status == "held"]
    if held:
        first = min(held, key=lambda s: s.date)
        events.append(TimelineEvent(first.date, f"Première séance à domicile ({first.intervenant_name})"))
    return tuple(sorted(events, key=lambda e: e.date, reverse=True))

