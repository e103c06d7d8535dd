"""Who is working, and the people and conventions the window offers in its pickers.

`CurrentUser` is the one value that says who is at the keyboard and what their role allows; the window
builds it once (today by picking a name, later through a login) and passes it to every page and service.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from models import Convention, Intervenant, User
from services.errors import NotFound, PermissionDenied
from services.uow import UnitOfWork

ROLE_LABELS = {"referent": "Référent·e de parcours", "coordinator": "Coordination",
               "administrator": "Administration"}


@dataclass(frozen=True)
class CurrentUser:
    id: str
    key: str
    name: str
    role: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_referent(self) -> bool:
        return self.role == "referent"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    @property
    def is_administrator(self) -> bool:
        return self.role == "administrator"


@dataclass(frozen=True)
class IntervenantRow:
    id: str
    key: str
    name: str
    qualification: str
    partner_name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.qualification})"


@dataclass(frozen=True)
class ConventionRow:
    id: str
    key: str
    action: str
    partner_name: str
    start: date
    end: date | None
    max_families: int | None

    @property
    def label(self) -> str:
        return f"{self.action} — {self.partner_name} ({self.key})"


def require_role(user: CurrentUser, *roles: str, doing: str) -> None:
    """Refuse unless the user holds one of `roles`; `doing` completes « Seul… peut … »."""
    if user.role not in roles:
        who = " ou ".join({"referent": "un·e référent·e", "coordinator": "la coordination",
                           "administrator": "l'administration"}[r] for r in roles)
        raise PermissionDenied(f"Seul(e) {who} peut {doing}.")


def _current(u: User) -> CurrentUser:
    return CurrentUser(u.id, u.key, u.name, u.role)


def list_users(uow: UnitOfWork, active_only: bool = True) -> tuple[CurrentUser, ...]:
    with uow:
        query = select(User).order_by(User.role, User.name)
        if active_only:
            query = query.where(User.active.is_(True))
        return tuple(_current(u) for u in uow.session.scalars(query))


def get_user(uow: UnitOfWork, user_id: str) -> CurrentUser:
    with uow:
        user = uow.session.get(User, user_id)
        if user is None or not user.active:
            raise NotFound("Cette personne n'existe pas ou n'a plus accès à Parcours.")
        return _current(user)


def list_intervenants(uow: UnitOfWork) -> tuple[IntervenantRow, ...]:
    with uow:
        rows = uow.session.scalars(select(Intervenant).order_by(Intervenant.name))
        return tuple(IntervenantRow(i.id, i.key, i.name, i.qualification, i.partner.name) for i in rows)


def list_conventions(uow: UnitOfWork) -> tuple[ConventionRow, ...]:
    with uow:
        rows = uow.session.scalars(select(Convention).order_by(Convention.start_date.desc(), Convention.key))
        return tuple(ConventionRow(c.id, c.key, c.action.name, c.partner.name, c.start_date, c.end_date,
                                   c.max_families) for c in rows)


def store_is_empty(uow: UnitOfWork) -> bool:
    """No user yet: the window offers to load the demo programme."""
    with uow:
        return uow.session.scalar(select(User.id).limit(1)) is None
