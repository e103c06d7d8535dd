"""Who is working, and the people and conventions the window offers in its pickers.

`CurrentUser` is the one value that says who is at the keyboard; the window builds it once (today by picking a
name, later through a login) and passes it to every page and service. It lives in services.permissions, next to
the table of what each role may do, and is re-exported here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.errors import NotFound
from services.permissions import APP_USERS, ROLE_LABELS, CurrentUser, require  # noqa: F401 (re-exported)
from services.uow import UnitOfWork

if TYPE_CHECKING:  # the models are imported in the functions that use them: the login reaches its window without
    from models import User


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


def _current(u: User) -> CurrentUser:
    return CurrentUser(u.id, u.key, u.name, u.role)


def list_users(uow: UnitOfWork, active_only: bool = True) -> tuple[CurrentUser, ...]:
    from models import User

    with uow:
        query = select(User).order_by(User.role, User.name)
        if active_only:
            query = query.where(User.active.is_(True))
        return tuple(_current(u) for u in uow.session.scalars(query))


def get_user(uow: UnitOfWork, user: CurrentUser, user_id: str) -> CurrentUser:
    """One account: one's own, or any for the administration."""
    with uow:
        require(user, "user.self" if user_id == getattr(user, "id", None) else "user.manage", session=uow.session)
        from models import User

        found = uow.session.get(User, user_id)
        if found is None or not found.active:
            raise NotFound("Cette personne n'existe pas ou n'a plus accès à Parcours.")
        return _current(found)


def list_intervenants(uow: UnitOfWork, user: CurrentUser) -> tuple[IntervenantRow, ...]:
    with uow:
        require(user, "convention.read", session=uow.session)
        from models import Intervenant

        rows = uow.session.scalars(select(Intervenant).order_by(Intervenant.name))
        return tuple(IntervenantRow(i.id, i.key, i.name, i.qualification, i.partner.name) for i in rows)


def list_conventions(uow: UnitOfWork, user: CurrentUser) -> tuple[ConventionRow, ...]:
    with uow:
        require(user, "convention.read", session=uow.session)
        from models import Convention

        rows = uow.session.scalars(select(Convention).order_by(Convention.start_date.desc(), Convention.key))
        return tuple(ConventionRow(c.id, c.key, c.action.name, c.partner.name, c.start_date, c.end_date,
                                   c.max_families) for c in rows)


def store_is_empty(uow: UnitOfWork) -> bool:
    """No user yet: the window offers to load the demo programme."""
    with uow:
        # Core, like someone_can_log_in: the window's start neither imports nor configures the mapped classes.
        return uow.session.scalar(select(APP_USERS.c.id).limit(1)) is None
