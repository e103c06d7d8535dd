"""Home sessions: check and record one, list them (by page for the big list, by week for the planning).

The form's rules, in the words the référent reads next to the field:
  * errors (the session cannot be saved): no family or intervenant, a date after today, a duration of 0 or
    more than 8 h, an intervenant of another partner than the one the family's orientation names;
  * warnings (saved as the référent says it happened): no validated orientation covering the day (the session is
    not paid, billing flags it `no_orientation` for the coordination); school holidays or a second held session
    in the family's ISO week (a coordinator must approve it before it is paid — the message names the session that
    will need it); a first session without the référent; a month already on an issued statement (the difference
    comes as a régularisation on the next statement).
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, and_, bindparam, false, func, or_, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Join

from models import Convention, Family, HomeSession, Intervenant, Orientation, Programme, Statement
from services import audit
from services.billing.rules import is_school_holiday
from services.date_bounds import EVENT
from services.errors import NotFound, StatementError, ValidationError
from services.exception_rules import (DECISION_LABELS, DEFAULT_RULES, HeldFact, SessionRules, decision_state,
                                      exception_reasons, week_order)
from services.formatting import format_date, month_in_words
from services.month import Month
from services.permissions import CurrentUser, followed_family_ids, notes_visible, require, scope_families
from services.rules import orientation_in_force
from services.versions import ensure_current
from services.uow import UnitOfWork

STATUS_LABELS = {"held": "Réalisée", "cancelled": "Annulée", "family_absent": "Absence de la famille"}
MAX_MINUTES = 480


@dataclass(frozen=True)
class SessionDraft:
    """What the form holds; `duration_minutes` is None when the text could not be read."""

    family_id: str | None
    intervenant_id: str | None
    date: date | None
    duration_minutes: int | None
    status: str = "held"
    start_time: time | None = None
    referent_present: bool = False
    children_present: int | None = None
    notes: str | None = None


@dataclass(frozen=True)
class Issue:
    field: str  # family | intervenant | date | duration | status | children_present
    message: str


@dataclass(frozen=True)
class SessionCheck:
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    def for_field(self, field: str) -> tuple[list[str], list[str]]:
        return ([i.message for i in self.errors if i.field == field],
                [i.message for i in self.warnings if i.field == field])


@dataclass(frozen=True)
class SessionRow:
    id: str
    key: str
    family_id: str
    family_name: str
    intervenant_id: str
    intervenant_name: str
    qualification: str
    date: date
    start_time: time | None
    duration_minutes: int
    status: str
    referent_present: bool
    children_present: int | None
    approved_exception: bool
    notes: str | None  # None unless the reader may see notes (services.permissions.notes_visible)
    exception_refused: bool = False
    exception_reason: str | None = None
    updated_at: datetime | None = None  # the version a form read: a save based on an older one is refused
    decision: str | None = None  # awaiting | approved | refused (services.exception_rules), None: none needed

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def decision_label(self) -> str:
        """« À décider », « Approuvée », « Refusée : motif », or "" for a session that needs no decision."""
        if self.decision == "refused" and self.exception_reason:
            return f"Refusée : {self.exception_reason}"
        return DECISION_LABELS.get(self.decision, "")


@dataclass(frozen=True)
class SessionQuery:
    """The big list's filter and order, applied in the database."""

    text: str = ""
    family_id: str | None = None
    month: str | None = None  # "YYYY-MM"
    status: str | None = None  # a key of STATUS_LABELS
    decision: str | None = None  # awaiting | approved | refused
    sort: str = "date"  # one of SORTABLE
    descending: bool = True


@dataclass(frozen=True)
class WeekDay:
    date: date
    school_holiday: bool


@dataclass(frozen=True)
class Week:
    monday: date
    days: tuple[WeekDay, ...]
    sessions: tuple[SessionRow, ...]


def parse_duration(text: str) -> int:
    """'90', '90 min', '1h30', '1 h 30', '1:30', '1,5 h', '2h' -> minutes. Raises ValidationError(field='duration')."""
    raw = (text or "").strip().lower().replace(" ", "")
    if not raw:
        raise ValidationError("Indiquez la durée (par exemple 1h30 ou 90).", field="duration")
    if m := re.fullmatch(r"(\d{1,4})(?:mn|min|minutes?)?", raw):
        return int(m[1])
    if m := re.fullmatch(r"(\d{1,2})(?:h|:)(\d{1,2})?(?:min|mn)?", raw):
        minutes = int(m[2] or 0)
        if minutes >= 60:
            raise ValidationError("Les minutes doivent être inférieures à 60 (par exemple 1h45).", field="duration")
        return int(m[1]) * 60 + minutes
    if m := re.fullmatch(r"(\d{1,2})[,.](\d{1,2})h?", raw):
        return round(float(f"{m[1]}.{m[2]}") * 60)
    raise ValidationError("Durée illisible : écrivez par exemple 1h30, 1:30 ou 90 (minutes).", field="duration")


def new_session_key() -> str:
    return "S-" + uuid.uuid4().hex[:10]


def holiday_zone(uow: UnitOfWork) -> str | None:
    return uow.session.scalar(select(Programme.holiday_zone).limit(1))


def school_holiday(day: date, zone: str | None) -> bool:
    if zone is None:
        return False
    try:
        return is_school_holiday(day, zone)
    except StatementError:  # calendar of a year this version does not know: no shading, no warning
        return False


def session_rules(uow: UnitOfWork, family_ids=None) -> Callable[[str, date], SessionRules]:
    """`rules_of(family_id, day)`: the rules of the convention of the family's orientation in force on `day` (the
    latest decided when two are), Atout Plus's defaults without one. `family_ids` None: every family."""
    o, c = Orientation, Convention
    query = (select(o.family_id, o.status, o.decided_on, o.end_date, c.sessions_per_week, c.holidays_need_exception,
                    c.referent_at_first_session).join(c, c.id == o.convention_id)
             .where(o.status.in_(("validated", "ended"))))
    rows = []
    if family_ids is None:
        rows = uow.session.execute(query).all()
    else:
        ids = sorted(set(family_ids))
        for chunk in range(0, len(ids), 500):
            rows += uow.session.execute(query.where(o.family_id.in_(ids[chunk:chunk + 500]))).all()
    by_family: dict[str, list] = {}
    for row in sorted(rows, key=lambda r: r.decided_on or date.min, reverse=True):
        by_family.setdefault(row.family_id, []).append(row)

    def rules_of(family_id: str, day: date) -> SessionRules:
        for row in by_family.get(family_id, ()):
            if orientation_in_force(row.status, row.decided_on, row.end_date, day):
                return SessionRules(row.sessions_per_week, bool(row.holidays_need_exception),
                                    bool(row.referent_at_first_session))
        return DEFAULT_RULES

    return rules_of


def check_session(uow: UnitOfWork, user: CurrentUser, draft: SessionDraft, today: date,
                  exclude_id: str | None = None) -> SessionCheck:
    """The form's errors and warnings; they speak of the family's other sessions, so only for whoever may record."""
    with uow:
        require(user, "session.record", session=uow.session)
        if draft.family_id:
            require(user, "session.record", family_id=draft.family_id, session=uow.session)
        return _check(uow, draft, today, exclude_id)


def _check(uow: UnitOfWork, draft: SessionDraft, today: date, exclude_id: str | None) -> SessionCheck:
    errors: list[Issue] = []
    warnings: list[Issue] = []
    s = uow.session
    family = s.get(Family, draft.family_id) if draft.family_id else None
    intervenant = s.get(Intervenant, draft.intervenant_id) if draft.intervenant_id else None
    if family is None:
        errors.append(Issue("family", "Choisissez la famille."))
    if intervenant is None:
        errors.append(Issue("intervenant", "Choisissez l'intervenant·e."))
    if draft.date is None:
        errors.append(Issue("date", "Indiquez la date (jj/mm/aaaa)."))
    elif not EVENT[0] <= draft.date:
        errors.append(Issue("date", f"La date {format_date(draft.date)} est hors de la période admise : une séance "
                                    f"se saisit à partir du {EVENT[0]:%d/%m/%Y}."))
    elif draft.date > today:
        errors.append(Issue("date", f"La date est dans le futur : une séance se saisit une fois passée "
                                    f"(au plus tard aujourd'hui, {format_date(today)})."))
    if draft.duration_minutes is None:
        errors.append(Issue("duration", "Indiquez la durée (par exemple 1h30 ou 90)."))
    elif draft.duration_minutes <= 0:
        errors.append(Issue("duration", "La durée doit être supérieure à zéro."))
    elif draft.duration_minutes > MAX_MINUTES:
        errors.append(Issue("duration", "Une séance dure au plus 8 h."))
    if draft.status not in STATUS_LABELS:
        errors.append(Issue("status", "Choisissez le statut de la séance."))
    if draft.children_present is not None and draft.children_present < 0:
        errors.append(Issue("children_present", "Le nombre d'enfants présents ne peut pas être négatif."))
    if family is None or draft.date is None:
        return SessionCheck(tuple(errors), tuple(warnings))

    orientations = s.scalars(select(Orientation).where(Orientation.family_id == family.id)).all()
    in_force = [o for o in orientations if orientation_in_force(o.status, o.decided_on, o.end_date, draft.date)]
    if not in_force:
        if draft.status == "held":
            warnings.append(Issue("family", f"Aucune orientation validée ne couvre le {format_date(draft.date)} "
                                            "pour cette famille : la séance sera enregistrée mais pas payée, et "
                                            "la coordination la verra signalée sur l'état du mois."))
    elif intervenant is not None and not any(o.convention.partner_id == intervenant.partner_id for o in in_force):
        partners = ", ".join(sorted({o.convention.partner.name for o in in_force}))
        errors.append(Issue("intervenant", f"L'orientation de cette famille est confiée à {partners}, "
                                           f"pas à {intervenant.partner.name}."))
    if draft.status == "held":
        warnings.extend(_exception_warnings(uow, family, draft, exclude_id))
    warnings.extend(_issued_month_warnings(uow, draft, exclude_id))
    return SessionCheck(tuple(errors), tuple(warnings))


def _issued_month_warnings(uow: UnitOfWork, draft: SessionDraft, exclude_id: str | None) -> list[Issue]:
    """A session entered or corrected in a month already issued: the statement stays as issued and the difference
    comes as a régularisation on the next one. Both months of a moved session count."""
    months = {draft.date.strftime("%Y-%m")}
    if exclude_id:
        before = uow.session.get(HomeSession, exclude_id)
        if before is not None:
            months.add(before.date.strftime("%Y-%m"))
    issued = uow.session.execute(select(Statement.month, Statement.number).where(Statement.month.in_(months))
                                 .order_by(Statement.month, Statement.number)).all()
    return [Issue("date", f"{month_in_words(month).capitalize()} est déjà sur un état émis ({number}), qui ne "
                          "changera pas : une différence de montant viendra en régularisation sur le prochain état, "
                          "et l'administration verra le mois marqué comme modifié.")
            for month, number in issued]


def _exception_warnings(uow: UnitOfWork, family: Family, draft: SessionDraft, exclude_id: str | None) -> list[Issue]:
    warnings = []
    rules = session_rules(uow, [family.id])(family.id, draft.date)
    if rules.holidays_need_exception and school_holiday(draft.date, holiday_zone(uow)):
        warnings.append(Issue("date", "Vacances scolaires : la séance devra être approuvée par la coordination "
                                      "pour être payée."))
    monday = draft.date - timedelta(days=draft.date.weekday())
    held = select(HomeSession).where(HomeSession.family_id == family.id, HomeSession.status == "held")
    if exclude_id:
        held = held.where(HomeSession.id != exclude_id)
    same_week = uow.session.scalars(held.where(HomeSession.date.between(monday, monday + timedelta(days=6)))).all()
    limit = rules.sessions_per_week
    if limit == 1 and same_week:
        warnings.append(Issue("date", _extra_in_week_message(draft, exclude_id, same_week)))
    elif limit is not None and len(same_week) >= limit:
        warnings.append(Issue("date", f"Séance n° {len(same_week) + 1} de la semaine pour cette famille : la "
                                      f"convention en paie {limit} ; au-delà, une séance devra être approuvée par "
                                      "la coordination."))
    earlier = uow.session.scalar(held.where(HomeSession.date <= draft.date).limit(1))
    if earlier is None and not draft.referent_present and rules.referent_at_first_session:
        warnings.append(Issue("referent_present", "Première séance de la famille : la présence du ou de la "
                                                  "référent·e est attendue."))
    return warnings


def _extra_in_week_message(draft: SessionDraft, exclude_id: str | None, same_week) -> str:
    """Name the session that billing will treat as the extra one: every held session of the week but the first
    (date, start time, key) needs approval, so a session entered before the others moves the need onto them."""
    first = min(same_week, key=week_order)
    own_key = None
    if exclude_id:
        own_key = next((s.key for s in same_week if s.id == exclude_id), None)
    this = (draft.date, draft.start_time or time(0, 0), own_key or "\uffff")  # a new session's key sorts last
    if this < week_order(first):
        later = sorted(same_week, key=week_order)
        named = ", ".join(_when(s, draft.date) for s in later)
        return (f"Deuxième séance de la semaine pour cette famille : celle-ci devient la première, c'est donc "
                f"{'la séance' if len(later) == 1 else 'les séances'} du {named} qui "
                f"{'devra' if len(later) == 1 else 'devront'} être approuvée{'s' if len(later) > 1 else ''} par "
                "la coordination.")
    return (f"Deuxième séance de la semaine pour cette famille (déjà une le {_when(first, draft.date)}) : celle-ci "
            "devra être approuvée par la coordination.")


def _when(session, day: date) -> str:
    """« 12/12/2025 », with the time when it shares the day being typed (the order within a day is the time's)."""
    if session.date == day and session.start_time:
        return f"{format_date(session.date)} à {session.start_time.strftime('%H:%M')}"
    return format_date(session.date)


def record_session(uow: UnitOfWork, user: CurrentUser, draft: SessionDraft, today: date) -> SessionRow:
    with uow:
        require(user, "session.record", session=uow.session)
        if draft.family_id:
            require(user, "session.record", family_id=draft.family_id, session=uow.session)
        check = _check(uow, draft, today, None)
        if check.errors:
            first = check.errors[0]
            raise ValidationError(first.message, field=first.field)
        session = HomeSession(
            key=new_session_key(), family_id=draft.family_id, intervenant_id=draft.intervenant_id, date=draft.date,
            start_time=draft.start_time, duration_minutes=draft.duration_minutes, status=draft.status,
            referent_present=draft.referent_present, children_present=draft.children_present,
            notes=(draft.notes or "").strip() or None, approved_exception=False)
        uow.session.add(session)
        uow.session.flush()
        audit.record(uow.session, user.key, "create", "home_session", session.key,
                     [name for name in RECORDED_FIELDS if getattr(session, name) is not None])
        row = fetch_rows(uow, select_rows().where(HomeSession.id == session.id), user)[0]
        uow.commit()
        return row


RECORDED_FIELDS = ("family_id", "intervenant_id", "date", "start_time", "duration_minutes", "status",
                   "referent_present", "children_present", "notes")


def _editable(uow: UnitOfWork, session_id: str) -> HomeSession:
    session = uow.session.get(HomeSession, session_id) if session_id else None
    if session is None:
        raise NotFound("Cette séance n'existe plus : actualisez la liste.")
    return session


def update_session(uow: UnitOfWork, user: CurrentUser, session_id: str, draft: SessionDraft,
                   today: date, *, based_on: datetime | None = None) -> SessionRow:
    """Correct a session (the family's référent or the coordination), with the form's rules; the session keeps its
    key. A month already on an issued statement may be corrected: billing shows the difference as a
    regularisation. A coordinator's approval of the dérogation is withdrawn unless only the notes changed."""
    with uow:
        require(user, "session.update", session=uow.session)
        session = _editable(uow, session_id)
        require(user, "session.update", family_id=session.family_id, session=uow.session)
        ensure_current(session, based_on, "cette séance")
        if draft.family_id and draft.family_id != session.family_id:
            require(user, "session.update", family_id=draft.family_id, session=uow.session)
        check = _check(uow, draft, today, session.id)
        if check.errors:
            first = check.errors[0]
            raise ValidationError(first.message, field=first.field)
        values = {"family_id": draft.family_id, "intervenant_id": draft.intervenant_id, "date": draft.date,
                  "start_time": draft.start_time, "duration_minutes": draft.duration_minutes,
                  "status": draft.status, "referent_present": draft.referent_present,
                  "children_present": draft.children_present, "notes": (draft.notes or "").strip() or None}
        changed = [name for name in RECORDED_FIELDS if getattr(session, name) != values[name]]
        for name in changed:
            setattr(session, name, values[name])
        if session.approved_exception and set(changed) - {"notes"}:
            session.approved_exception = False  # approved on other facts: the coordination decides again
            session.approved_by_id = None
            changed += ["approved_exception", "approved_by_id"]
        uow.session.flush()
        audit.record(uow.session, user.key, "update", "home_session", session.key, changed)
        row = fetch_rows(uow, select_rows().where(HomeSession.id == session.id), user)[0]
        uow.commit()
        return row


def delete_session(uow: UnitOfWork, user: CurrentUser, session_id: str, *,
                   based_on: datetime | None = None) -> None:
    """Remove a session entered by mistake (the coordination only: a référent marks it cancelled instead)."""
    with uow:
        require(user, "session.delete", session=uow.session)
        session = _editable(uow, session_id)
        ensure_current(session, based_on, "cette séance")
        audit.record(uow.session, user.key, "delete", "home_session", session.key,
                     [name for name in RECORDED_FIELDS if getattr(session, name) is not None])
        uow.session.delete(session)
        uow.commit()


def usual_intervenant(uow: UnitOfWork, user: CurrentUser, family_id: str) -> str | None:
    """The intervenant of the family's latest held session: the one the form proposes."""
    with uow:
        require(user, "session.record", session=uow.session)
        require(user, "session.record", family_id=family_id, session=uow.session)
        return usual_intervenant_in(uow, family_id)


def usual_intervenant_in(uow: UnitOfWork, family_id: str) -> str | None:
    return uow.session.scalar(
        select(HomeSession.intervenant_id).where(HomeSession.family_id == family_id, HomeSession.status == "held")
        .order_by(HomeSession.date.desc(), HomeSession.start_time.desc()).limit(1))


# -- reading -----------------------------------------------------------------------------------------------

_I = aliased(Intervenant)


@dataclass(frozen=True)
class _Order:
    """One order of the big list: its SQL columns (the last one unique, so the order is total and a keyset page
    is exact), the SessionRow fields holding the same values, and the table SQLite must scan first."""

    columns: tuple
    fields: tuple[str, ...]
    lead: str  # home_session | family | intervenant

    def values(self, row: SessionRow) -> tuple:
        return tuple(getattr(row, f) for f in self.fields)


SORTABLE = {
    "date": _Order((HomeSession.date, HomeSession.start_time, HomeSession.key), ("date", "start_time", "key"),
                   "home_session"),
    "family": _Order((Family.name, Family.id, HomeSession.date, HomeSession.key),
                     ("family_name", "family_id", "date", "key"), "family"),
    "intervenant": _Order((_I.name, _I.id, HomeSession.date, HomeSession.key),
                          ("intervenant_name", "intervenant_id", "date", "key"), "intervenant"),
    "duration": _Order((HomeSession.duration_minutes, HomeSession.date, HomeSession.key),
                       ("duration_minutes", "date", "key"), "home_session"),
    "status": _Order((HomeSession.status, HomeSession.date, HomeSession.key), ("status", "date", "key"),
                     "home_session"),
}
NULLABLE_FIELDS = {"start_time"}  # the only order column that may be NULL


class _LeadingJoin(Join):
    """An inner join whose left side SQLite must scan first (SQLite reads CROSS JOIN so): the list's order is an
    index of that side. Left to choose, the planner sorted the whole 300,000-row join for some orders (about 1 s
    a page), with ANALYZE's statistics for some and without them for others. Other databases get a plain JOIN."""

    inherit_cache = True


@compiles(_LeadingJoin, "sqlite")
def _cross_join(join, compiler, asfrom=False, from_linter=None, **kw):
    if from_linter:
        from_linter.edges.update(itertools.product(join.left._from_objects, join.right._from_objects))
    return (join.left._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw) + " CROSS JOIN "
            + join.right._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw) + " ON "
            + join.onclause._compiler_dispatch(compiler, from_linter=from_linter, **kw))


_ON_FAMILY = Family.id == HomeSession.family_id
_ON_INTERVENANT = _I.id == HomeSession.intervenant_id


def _list_from(lead: str, everything: bool = True):
    """The FROM of the list, its `lead` table first; without `everything`, only what the order needs (the filters
    never need a join: they read home_session's own columns, names through sub-selects)."""
    if lead == "family":
        joined = _LeadingJoin(Family.__table__, HomeSession.__table__, _ON_FAMILY)
        return _LeadingJoin(joined, _I, _ON_INTERVENANT) if everything else joined
    if lead == "intervenant":
        joined = _LeadingJoin(_I, HomeSession.__table__, _ON_INTERVENANT)
        return _LeadingJoin(joined, Family.__table__, _ON_FAMILY) if everything else joined
    if not everything:
        return HomeSession.__table__
    return _LeadingJoin(_LeadingJoin(HomeSession.__table__, Family.__table__, _ON_FAMILY), _I, _ON_INTERVENANT)


ROW_COLUMNS = (HomeSession.id, HomeSession.key, HomeSession.family_id, Family.name, HomeSession.intervenant_id,
               _I.name, _I.qualification, HomeSession.date, HomeSession.start_time, HomeSession.duration_minutes,
               HomeSession.status, HomeSession.referent_present, HomeSession.children_present,
               HomeSession.approved_exception, HomeSession.notes, HomeSession.exception_refused,
               HomeSession.exception_reason, HomeSession.updated_at)  # in SessionRow's order


def select_rows():
    return select(*ROW_COLUMNS).join(Family, _ON_FAMILY).join(_I, _ON_INTERVENANT)


def fetch_rows(uow: UnitOfWork, query, user: CurrentUser) -> list[SessionRow]:
    """The rows of `query` (built on select_rows()); notes blanked for a reader who may not see them."""
    rows = _with_decisions(uow, [SessionRow(*r) for r in uow.session.execute(query)])
    return rows if notes_visible(user) else [replace(r, notes=None) for r in rows]


_WEEK_FACTS = (select(HomeSession.id, HomeSession.family_id, HomeSession.date, HomeSession.start_time, HomeSession.key,
                      HomeSession.status)
               .where(HomeSession.family_id.in_(bindparam("families", expanding=True)),
                      HomeSession.date.between(bindparam("first", type_=Date), bindparam("last", type_=Date))))


def _with_decisions(uow: UnitOfWork, rows: list[SessionRow]) -> list[SessionRow]:
    """Each held row's dérogation state. Whether a session is the extra one of its week depends on its family's
    other held sessions of that week, so those are read too (whatever the query's filter)."""
    held = [r for r in rows if r.status == "held"]
    if not held:
        return rows
    weeks: dict[date, set[str]] = {}  # monday -> the families with a held row that week
    spans: dict[str, tuple[date, date]] = {}  # family -> its first and last monday
    for r in held:
        monday = r.date - timedelta(days=r.date.weekday())
        weeks.setdefault(monday, set()).add(r.family_id)
        first, last = spans.get(r.family_id, (monday, monday))
        spans[r.family_id] = (min(first, monday), max(last, monday))
    families = sorted(spans)
    # By week when the rows are few weeks (the list by date), by family when they are few families (by family):
    # each read goes through the (family_id, date) index with one cached statement
    groups = ([(sorted(f), monday, monday) for monday, f in weeks.items()] if len(weeks) <= len(spans)
              else [([family], first, last) for family, (first, last) in spans.items()])
    facts: list[HeldFact] = []
    for members, first, last in groups:
        for chunk in range(0, len(members), 500):
            facts += [HeldFact(*f[:5]) for f in uow.session.execute(_WEEK_FACTS, {
                "families": members[chunk:chunk + 500], "first": first, "last": last + timedelta(days=6)})
                if f.status == "held"]  # checked here: in SQL, SQLite walked the (status, …) index over years
    zone = holiday_zone(uow)
    reasons = exception_reasons(facts, lambda day: school_holiday(day, zone), session_rules(uow, families))
    return [replace(r, decision=decision_state(r.id in reasons, r.approved_exception, r.exception_refused))
            if r.status == "held" else r for r in rows]


def scope_to_user(query, user: CurrentUser):
    """A référent sees the sessions of the families they follow; coordination and administration see all.
    The query must join Family."""
    return scope_families(query, user)


def _text_alternatives(uow: UnitOfWork, q: SessionQuery) -> tuple:
    """What the search text may match: a family's or an intervenant's name — the ids of those looked up in the
    small tables, so the big one is read through its (family_id, …) and (intervenant_id, …) indexes — or the
    session's key (a condition); empty without a search. _found_by turns them into conditions."""
    names = _matching_names(q)
    if not names:
        return ()
    families, intervenants = names
    like = f"%{q.text.strip()}%"
    # SQLite's LIKE ignores case already; its lower() would make the key's index useless to the count
    key = HomeSession.key.like(like) if uow.session.get_bind().dialect.name == "sqlite" else HomeSession.key.ilike(like)
    # The keys matched, when few, as a list: the LIKE scans the whole key index (30 ms at 300,000 sessions) once
    # here, not again in the count, the page and the narrowness test
    keys = uow.session.scalars(select(HomeSession.key).where(key).limit(KEY_LIST + 1)).all()
    if len(keys) <= KEY_LIST:
        key = HomeSession.key.in_(keys)
    return families, intervenants, key


def _found_by(alternatives: tuple, walk: bool = False) -> tuple:
    """The three ways a session is found, as conditions on home_session. With `walk`, the family and intervenant
    ones are kept off their indexes (`|| ''`): a search finding many sessions walks the order's index, where
    SQLite would otherwise read them all through those indexes and sort them before the first page."""
    families, intervenants, key = alternatives
    family, intervenant = (HomeSession.family_id + "", HomeSession.intervenant_id + "") if walk else \
        (HomeSession.family_id, HomeSession.intervenant_id)
    return family.in_(families), intervenant.in_(intervenants), key


KEY_LIST = 1000


def _matching_names(q: SessionQuery) -> tuple:
    """The ids of the families and of the intervenants whose name holds the search text (none without one)."""
    text = q.text.strip()
    if not text:
        return ()
    like = f"%{text}%"
    return (select(Family.id).where(Family.name.ilike(like)),
            select(Intervenant.id).where(Intervenant.name.ilike(like)))


def _conditions(uow: UnitOfWork, user: CurrentUser, q: SessionQuery, *, ordered: bool = False,
                awaiting: list[str] | None = None) -> list:
    """`q` and the user's families as conditions on home_session's own columns (no join needed), the search text
    apart (_text_alternatives); built once per call: the « à décider » ids cost a pass over the held sessions."""
    terms = []
    if user.is_referent:
        followed = followed_family_ids(user.id)
        # A page (`ordered`) of a référent who follows a good share of the families walks the order's index and
        # checks each family in the set: through the family index, SQLite sorted every session of theirs first
        # (0.4 s a page at 1,000 of 3,000 families); `|| ''` keeps SQLite off that index. A few families: the index.
        walk = ordered and uow.session.scalar(select(func.count()).select_from(followed.subquery())) * 10 > \
            uow.session.scalar(select(func.count()).select_from(Family))
        terms.append((HomeSession.family_id + "" if walk else HomeSession.family_id).in_(followed))
    if q.family_id:
        terms.append(HomeSession.family_id == q.family_id)
    if q.month:
        first, last = Month.parse(q.month).bounds
        terms.append(HomeSession.date.between(first, last))
    if q.status:
        terms.append(HomeSession.status == q.status)
    if q.decision == "approved":
        terms.append(HomeSession.approved_exception.is_(True))
    elif q.decision == "refused":
        terms += [HomeSession.exception_refused.is_(True), HomeSession.approved_exception.is_(False)]
    elif q.decision == "awaiting":
        terms.append(HomeSession.id.in_(awaiting_decision_ids(uow, user, q.month) if awaiting is None else awaiting))
    return terms


def _searched(uow: UnitOfWork, q: SessionQuery, terms: list,
              alternatives: tuple | None = None) -> tuple[list, bool]:
    """`terms` and the search text; True with them when few sessions match (see _narrow)."""
    alternatives = _text_alternatives(uow, q) if alternatives is None else alternatives
    if not alternatives:
        return terms, False
    if _narrow(uow, q, alternatives[-1]):
        found = union(*(select(HomeSession.key).where(a) for a in _found_by(alternatives)))
        return terms + [HomeSession.key.in_(found)], True
    return terms + [or_(*_found_by(alternatives, walk=True))], False


NARROW = 0.05  # a search finding less than this share of the sessions reads them through their own indexes


def _narrow(uow: UnitOfWork, q: SessionQuery, by_key) -> bool:
    """Whether the search finds few sessions, judged from the small tables (the share of the families and of
    the intervenants whose name matches) and the keys (counted up to that share). Few: the page reads the
    matching sessions through their indexes and sorts them — walking the order's index for them took seconds
    for a name found in 100 of 300,000 sessions. Many: walking the order's index finds a page at once."""
    share = 0.0
    for table, found in zip((Family, Intervenant), _matching_names(q)):
        everything = uow.session.scalar(select(func.count()).select_from(table)) or 1
        share += uow.session.scalar(select(func.count()).select_from(found.subquery())) / everything
    if share >= NARROW:
        return False
    sessions = uow.session.scalar(select(func.count()).select_from(HomeSession)) or 1
    ceiling = int(sessions * NARROW) + 1
    keys = uow.session.scalar(select(func.count()).select_from(
        select(HomeSession.key).where(by_key).limit(ceiling).subquery()))
    return share + keys / sessions < NARROW


def awaiting_decision_ids(uow: UnitOfWork, user: CurrentUser, month: str | None = None) -> list[str]:
    """The held sessions (of the user's families, of `month` if given) that wait for a coordinator's decision."""
    query = scope_to_user(select(HomeSession.id, HomeSession.family_id, HomeSession.date, HomeSession.start_time,
                                 HomeSession.key, HomeSession.approved_exception, HomeSession.exception_refused)
                          .join(Family, Family.id == HomeSession.family_id).where(HomeSession.status == "held"), user)
    if month:
        first, last = Month.parse(month).bounds
        # the whole ISO weeks around the month: a session's rank in its week depends on the days before it
        query = query.where(HomeSession.date.between(first - timedelta(days=first.weekday()), last))
    facts = uow.session.execute(query).all()
    zone = holiday_zone(uow)
    reasons = exception_reasons((HeldFact(*f[:5]) for f in facts), lambda day: school_holiday(day, zone),
                                session_rules(uow))
    first_day = Month.parse(month).bounds[0] if month else date.min
    return [f.id for f in facts if f.id in reasons and not f.approved_exception and not f.exception_refused
            and f.date >= first_day]


@dataclass(frozen=True)
class SessionCursor:
    """Where a page of the big list starts: just after `row` in the list's order (None: at the start), or with
    `backward`, just before it (None: at the end); `skip` rows are passed over first (a jump to a far position
    reads only index columns for them)."""

    row: SessionRow | None = None
    backward: bool = False
    skip: int = 0


@dataclass(frozen=True)
class SessionPage:
    rows: tuple[SessionRow, ...]  # in the list's order, whichever way they were read
    total: int | None = None  # how many sessions the query finds, when the page was asked to count them


def count_sessions(uow: UnitOfWork, user: CurrentUser, q: SessionQuery = SessionQuery()) -> int:
    with uow:
        require(user, "session.read", session=uow.session)
        return _count(uow, user, q)


def _count(uow: UnitOfWork, user: CurrentUser, q: SessionQuery, awaiting: list[str] | None = None,
           alternatives: tuple | None = None) -> int:
    """Without a search, home_session alone; with one, the UNION of the ids each alternative finds through its
    own index (one OR over the three would scan the whole table for every count)."""
    terms = _conditions(uow, user, q, awaiting=awaiting)
    alternatives = _text_alternatives(uow, q) if alternatives is None else alternatives
    if not alternatives:
        return uow.session.scalar(select(func.count()).select_from(HomeSession).where(*terms))
    # the key: unique, and in every index
    parts = [select(HomeSession.key).where(*terms, a) for a in _found_by(alternatives)]
    return uow.session.scalar(select(func.count()).select_from(union(*parts).subquery()))


def sessions_page(uow: UnitOfWork, user: CurrentUser, q: SessionQuery = SessionQuery(),
                  cursor: SessionCursor = SessionCursor(), limit: int = 200, count: bool = False) -> SessionPage:
    """A page of the big list by keyset: the rows after (or before) the cursor's row in the query's order, read
    from an index whatever the position — never an OFFSET over the rows before it. A query's first page is asked
    with `count`: it also counts the query's sessions and, when the notes are shown, leaves the one « read » entry
    of the query in the audit log (as list_sessions' first page); the pages fetched while scrolling leave none."""
    with uow:
        require(user, "session.read", session=uow.session)
        # the « à décider » sessions are a pass over every held one: read once for the count and the page
        awaiting = awaiting_decision_ids(uow, user, q.month) if q.decision == "awaiting" else None
        alternatives = _text_alternatives(uow, q)
        total = _count(uow, user, q, awaiting, alternatives) if count else None
        rows = _page_in(uow, user, q, cursor, limit, awaiting, alternatives)
        if count:
            _record_read(uow, user, q)
        return SessionPage(rows, total)


def _page_in(uow: UnitOfWork, user: CurrentUser, q: SessionQuery, cursor: SessionCursor, limit: int,
             awaiting: list[str] | None = None, alternatives: tuple | None = None) -> tuple[SessionRow, ...]:
    order = SORTABLE.get(q.sort, SORTABLE["date"])
    terms, narrow = _searched(uow, q, _conditions(uow, user, q, ordered=True, awaiting=awaiting), alternatives)
    lead = "home_session" if narrow else order.lead  # a narrow search starts from the sessions it found
    descending = q.descending != cursor.backward  # the way the index is read
    anchor = order.values(cursor.row) if cursor.row is not None else None
    if cursor.skip > 0:  # the last skipped row, from the index columns alone, is the anchor of the page
        keys = select(*order.columns).select_from(_list_from(lead, everything=narrow)).where(*terms)
        if anchor is not None:
            keys = keys.where(_beyond(order, anchor, descending))
        anchor = uow.session.execute(keys.order_by(*_order_by(uow, order, descending))
                                     .offset(cursor.skip - 1).limit(1)).first()
        if anchor is None:
            return ()
    query = _rows_query(lead, terms)
    if anchor is not None:
        query = query.where(_beyond(order, tuple(anchor), descending))
    rows = fetch_rows(uow, query.order_by(*_order_by(uow, order, descending)).limit(limit), user)
    return tuple(reversed(rows)) if cursor.backward else tuple(rows)


def _rows_query(lead: str, terms: list):
    return select(*ROW_COLUMNS).select_from(_list_from(lead)).where(*terms)


def _order_by(uow: UnitOfWork, order: _Order, descending: bool) -> list:
    terms = [c.desc() if descending else c.asc() for c in order.columns]
    if uow.session.get_bind().dialect.name != "sqlite":  # NULL first ascending everywhere, as SQLite does
        terms = [(t.nulls_last() if descending else t.nulls_first()) if f in NULLABLE_FIELDS else t
                 for t, f in zip(terms, order.fields)]
    return terms


def _beyond(order: _Order, values: tuple, descending: bool):
    """The rows strictly after `values` when the order is read ascending (or, `descending`, before them), NULL
    being the smallest value. The leading bound (the first column is never NULL) lets the index start there."""
    term = None
    for column, value, field in reversed(list(zip(order.columns, values, order.fields))):
        nullable = field in NULLABLE_FIELDS
        if descending:
            strict = false() if value is None else (or_(column < value, column.is_(None)) if nullable
                                                    else column < value)
        else:
            strict = column.is_not(None) if value is None else column > value
        term = strict if term is None else or_(strict, and_(column.is_(None) if value is None else column == value,
                                                            term))
    lead, value = order.columns[0], values[0]
    return and_(lead <= value if descending else lead >= value, term)


def _record_read(uow: UnitOfWork, user: CurrentUser, q: SessionQuery) -> None:
    """The « read » entry of a query's first page when the notes are shown: the family's key if the query names
    one, else « liste »."""
    if notes_visible(user):
        family_key = uow.session.scalar(select(Family.key).where(Family.id == q.family_id)) if q.family_id else None
        audit.record(uow.session, user.key, "read", "home_session", family_key or "liste")
        uow.commit()


def list_sessions(uow: UnitOfWork, user: CurrentUser, q: SessionQuery = SessionQuery(), offset: int = 0,
                  limit: int = 500) -> tuple[SessionRow, ...]:
    """A page of the sessions list by position (sessions_page reads the big list by keyset). When the notes are
    shown (notes_visible), the first page of a query leaves one « read » entry in the audit log — the family's key
    if the query names one, else « liste »; the later pages of the same query (offset > 0) leave none."""
    with uow:
        require(user, "session.read", session=uow.session)
        rows = list_sessions_in(uow, user, q, offset, limit)
        if offset == 0:
            _record_read(uow, user, q)
        return rows


def list_sessions_in(uow: UnitOfWork, user: CurrentUser, q: SessionQuery, offset: int = 0,
                     limit: int = 500) -> tuple[SessionRow, ...]:
    order = SORTABLE.get(q.sort, SORTABLE["date"])
    terms, narrow = _searched(uow, q, _conditions(uow, user, q, ordered=True))
    query = _rows_query("home_session" if narrow else order.lead, terms)
    return tuple(fetch_rows(uow, query.order_by(*_order_by(uow, order, q.descending)).offset(offset).limit(limit),
                            user))


def week_sessions(uow: UnitOfWork, user: CurrentUser, day: date) -> Week:
    with uow:
        require(user, "session.read", session=uow.session)
        monday = day - timedelta(days=day.weekday())
        sunday = monday + timedelta(days=6)
        zone = holiday_zone(uow)
        query = scope_to_user(select_rows(), user).where(HomeSession.date.between(monday, sunday))
        rows = fetch_rows(uow, query.order_by(HomeSession.date, HomeSession.start_time, Family.name), user)
    days = tuple(WeekDay(monday + timedelta(days=i), school_holiday(monday + timedelta(days=i), zone))
                 for i in range(7))
    return Week(monday, days, tuple(rows))


def latest_session_date(uow: UnitOfWork, user: CurrentUser, not_after: date) -> date | None:
    """The last day with a session on or before `not_after` (the week view offers to jump there)."""
    with uow:
        require(user, "session.read", session=uow.session)
        query = scope_to_user(select(func.max(HomeSession.date)).select_from(HomeSession).join(
            Family, Family.id == HomeSession.family_id), user).where(HomeSession.date <= not_after)
        return uow.session.scalar(query)


def get_session(uow: UnitOfWork, user: CurrentUser, session_id: str) -> SessionRow:
    with uow:
        require(user, "session.read", session=uow.session)
        rows = fetch_rows(uow, select_rows().where(HomeSession.id == session_id), user)
        if not rows:
            raise NotFound("Cette séance n'existe plus.")
        require(user, "session.read", family_id=rows[0].family_id, session=uow.session)
        return rows[0]

