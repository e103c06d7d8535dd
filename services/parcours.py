"""A child's parcours: open, suspend, resume and close it; and the children about to leave the age range.

proposed/suspended --open--> open --suspend--> suspended;  any but closed --close (exit reason)--> closed.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from models import Child, Family, Parcours
from services import audit
from services.date_bounds import require_plausible
from services.errors import NotFound, ValidationError
from services.family_records import apply_parcours_details, exit_reason as read_exit_reason, parcours_details
from services.formatting import format_date
from services.permissions import CurrentUser, require
from services.record_fields import EXIT_REASON, ParcoursDetails
from services.rules import MAX_AGE, age_on
from services.uow import UnitOfWork

PARCOURS_LABELS = {"proposed": "Proposé", "open": "En cours", "suspended": "Suspendu", "closed": "Clos"}
EXIT_AGE = MAX_AGE + 1


@dataclass(frozen=True)
class ParcoursRow:
    id: str
    key: str
    child_id: str
    status: str
    start_date: date | None
    end_date: date | None
    objectives: str | None
    exit_reason: str | None
    referent_name: str | None
    exit_reason_code: str | None = None

    @property
    def status_label(self) -> str:
        return PARCOURS_LABELS.get(self.status, self.status)

    @property
    def exit_label(self) -> str | None:
        """The exit reason as the file shows it: the list's label, then the precision or comment."""
        parts = [EXIT_REASON.label_of(self.exit_reason_code) if self.exit_reason_code else None, self.exit_reason]
        return " — ".join(part for part in parts if part) or None


@dataclass(frozen=True)
class ChildLeaving:
    child_id: str
    child_name: str
    family_id: str
    family_name: str
    birth_date: date
    leaves_on: date  # the 17th birthday
    parcours_status: str | None


def parcours_row(p: Parcours) -> ParcoursRow:
    return ParcoursRow(p.id, p.key, p.child_id, p.status, p.start_date, p.end_date, p.objectives, p.exit_reason,
                       p.referent.name if p.referent else None, p.exit_reason_code)


def _parcours(uow: UnitOfWork, parcours_id: str) -> Parcours:
    p = uow.session.get(Parcours, parcours_id) if parcours_id else None
    if p is None:
        raise NotFound("Ce parcours n'existe plus : actualisez la fiche.")
    return p


def _save(uow: UnitOfWork, p: Parcours, user: CurrentUser, action: str, changed: list[str]) -> ParcoursRow:
    uow.session.flush()
    audit.record(uow.session, user.key, action, "parcours", p.key, changed)
    row = parcours_row(p)
    uow.commit()
    return row


def open_parcours(uow: UnitOfWork, user: CurrentUser, child_id: str, start: date | None,
                  objectives: str | None = None, *, details: ParcoursDetails | None = None) -> ParcoursRow:
    """A new parcours for the child, followed by the family's référent; refused if one is already running.
    `details`: who referred the child and why, and the support profile (services.record_fields)."""
    with uow:
        require(user, "parcours.change", session=uow.session)
        read = parcours_details(details or ParcoursDetails())
        if start is None:
            raise ValidationError("Indiquez la date de début du parcours.", field="start")
        require_plausible(start, "start", "La date de début du parcours")
        child = uow.session.get(Child, child_id) if child_id else None
        if child is None:
            raise NotFound("Cet enfant n'existe plus : actualisez la fiche.")
        running = uow.session.scalar(select(Parcours).where(Parcours.child_id == child.id,
                                                            Parcours.status != "closed"))
        if running is not None:
            raise ValidationError(f"{child.first_name} a déjà un parcours {PARCOURS_LABELS[running.status].lower()} : "
                                  "reprenez-le plutôt que d'en ouvrir un autre.")
        if age_on(child.birth_date, start) > MAX_AGE:
            raise ValidationError(f"{child.first_name} aura {age_on(child.birth_date, start)} ans le "
                                  f"{format_date(start)} : le programme suit les enfants jusqu'à {MAX_AGE} ans.",
                                  field="start")
        family = uow.session.get(Family, child.family_id)
        p = Parcours(key="P-" + uuid.uuid4().hex[:10], child=child, referent_id=family.referent_id, status="open",
                     start_date=start, objectives=(objectives or "").strip() or None)
        uow.session.add(p)
        detailed = apply_parcours_details(p, read)
        return _save(uow, p, user, "open", ["child_id", "referent_id", "status", "start_date"]
                     + (["objectives"] if p.objectives else []) + detailed)


def resume_parcours(uow: UnitOfWork, user: CurrentUser, parcours_id: str, start: date | None = None) -> ParcoursRow:
    """A proposed parcours starts, or a suspended one resumes."""
    with uow:
        require(user, "parcours.change", session=uow.session)
        p = _parcours(uow, parcours_id)
        if p.status not in ("proposed", "suspended"):
            raise ValidationError(f"Ce parcours est {PARCOURS_LABELS[p.status].lower()} : il ne peut pas être rouvert.")
        changed = ["status"]
        if p.start_date is None:
            if start is None:
                raise ValidationError("Indiquez la date de début du parcours.", field="start")
            require_plausible(start, "start", "La date de début du parcours")
            p.start_date = start
            changed.append("start_date")
        p.status = "open"
        return _save(uow, p, user, "resume", changed)


def suspend_parcours(uow: UnitOfWork, user: CurrentUser, parcours_id: str) -> ParcoursRow:
    with uow:
        require(user, "parcours.change", session=uow.session)
        p = _parcours(uow, parcours_id)
        if p.status != "open":
            raise ValidationError("Seul un parcours en cours peut être suspendu.")
        p.status = "suspended"
        return _save(uow, p, user, "suspend", ["status"])


def close_parcours(uow: UnitOfWork, user: CurrentUser, parcours_id: str, end: date | None,
                   exit_reason: str | None, exit_reason_code: str | None = None) -> ParcoursRow:
    """Close on `end` for the exit reason: a code of models.enums.EXIT_REASONS (« autre » with its text in
    `exit_reason`), or at least the text alone, as before the list existed."""
    with uow:
        require(user, "parcours.change", session=uow.session)
        exit_reason_code, exit_reason = read_exit_reason(exit_reason_code, exit_reason)
        if end is None:
            raise ValidationError("Indiquez la date de fin du parcours.", field="end")
        require_plausible(end, "end", "La date de fin du parcours")
        p = _parcours(uow, parcours_id)
        if p.status == "closed":
            raise ValidationError("Ce parcours est déjà clos.")
        if p.start_date is not None and end < p.start_date:
            raise ValidationError(f"La fin ne peut pas précéder le début du parcours ({format_date(p.start_date)}).",
                                  field="end")
        p.status, p.end_date, p.exit_reason, p.exit_reason_code = "closed", end, exit_reason, exit_reason_code
        return _save(uow, p, user, "close", ["status", "end_date"] + (["exit_reason"] if exit_reason else [])
                     + (["exit_reason_code"] if exit_reason_code else []))


def seventeenth_birthday(birth_date: date) -> date:
    try:
        return birth_date.replace(year=birth_date.year + EXIT_AGE)
    except ValueError:  # born on 29 February
        return date(birth_date.year + EXIT_AGE, 3, 1)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError(day)


def children_turning_17(uow: UnitOfWork, user: CurrentUser, today: date,
                        within_months: int = 3) -> tuple[ChildLeaving, ...]:
    """Children whose 17th birthday falls between today and `within_months` from now: their parcours ends."""
    with uow:
        require(user, "parcours.read", session=uow.session)
        horizon = add_months(today, within_months)
        oldest = date(today.year - EXIT_AGE - 1, 1, 1)
        children = uow.session.scalars(select(Child).where(Child.birth_date >= oldest)).all()
        statuses: dict[str, str] = {}
        for p in uow.session.scalars(select(Parcours).order_by(Parcours.start_date)):
            if statuses.get(p.child_id) in (None, "closed"):
                statuses[p.child_id] = p.status
        leaving = [ChildLeaving(c.id, f"{c.first_name} {c.last_name}", c.family_id, c.family.name, c.birth_date,
                                seventeenth_birthday(c.birth_date), statuses.get(c.id))
                   for c in children if today <= seventeenth_birthday(c.birth_date) <= horizon]
    return tuple(sorted(leaving, key=lambda c: c.leaves_on))

