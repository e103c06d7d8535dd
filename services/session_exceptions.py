"""Sessions that need a coordinator's decision (dérogations), and the decision itself.

A held session is flagged when it falls in the school holidays of the programme's zone, or when it is not
the first held session of its family in its ISO week (order: date, start time, key — as billing reads it), as far as
the convention of the family's orientation asks it (services.exception_rules.SessionRules).
It waits in the queue until a coordinator approves it (approved_exception = True, approved_by = them: the
statement will pay it) or refuses it (exception_refused = True, with who decided and why: it stays unpaid).
Either decision takes the session out of the queue; a later approval replaces a refusal. Each decision writes
one audit entry per session.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import select

from models import Family, HomeSession, User
from services import audit
from services.errors import NotFound, ValidationError
from services.formatting import format_date
from services.home_sessions import (SessionRow, fetch_rows, holiday_zone, school_holiday, scope_to_user, select_rows,
                                   session_rules)
from services.permissions import CurrentUser, require
from services.exception_rules import REASON_LABELS, HeldFact, exception_reasons
from services.uow import UnitOfWork

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class FlaggedSession:
    session: SessionRow
    reasons: tuple[str, ...]  # keys of REASON_LABELS

    @property
    def reasons_label(self) -> str:
        return ", ".join(REASON_LABELS[r] for r in self.reasons)


def flagged_sessions(uow: UnitOfWork, user: CurrentUser) -> tuple[FlaggedSession, ...]:
    """Held sessions outside the rules, not yet approved nor refused, oldest first."""
    with uow:
        require(user, "exception.read", session=uow.session)
        # the list names families and shows notes: one « read » entry per call, committed whatever it holds
        audit.record(uow.session, user.key, "read", "exception", "liste")
        uow.commit()
        zone = holiday_zone(uow)
        query = scope_to_user(
            select(HomeSession.id, HomeSession.family_id, HomeSession.date, HomeSession.start_time, HomeSession.key,
                   HomeSession.approved_exception, HomeSession.exception_refused)
            .join(Family, Family.id == HomeSession.family_id).where(HomeSession.status == "held"), user)
        facts = uow.session.execute(query).all()
        decided = {f.id for f in facts if f.approved_exception or f.exception_refused}
        reasons = exception_reasons((HeldFact(f.id, f.family_id, f.date, f.start_time, f.key) for f in facts),
                                    lambda day: school_holiday(day, zone), session_rules(uow))
        pending = {sid: r for sid, r in reasons.items() if sid not in decided}
        if not pending:
            return ()
        rows = []
        ids = list(pending)
        for chunk in range(0, len(ids), 500):
            rows += fetch_rows(uow, select_rows().where(HomeSession.id.in_(ids[chunk:chunk + 500])), user)
    rows.sort(key=lambda r: (r.date, r.start_time or time(0, 0), r.key))
    return tuple(FlaggedSession(r, pending[r.id]) for r in rows)


def _sessions(uow: UnitOfWork, session_ids: list[str]) -> list[HomeSession]:
    if not session_ids:
        raise ValidationError("Sélectionnez au moins une séance.")
    sessions = uow.session.scalars(select(HomeSession).where(HomeSession.id.in_(session_ids))).all()
    if len(sessions) != len(set(session_ids)):
        raise NotFound("Une des séances sélectionnées n'existe plus : actualisez la liste.")
    return list(sessions)


def approve_exceptions(uow: UnitOfWork, user: CurrentUser, session_ids: list[str]) -> int:
    """The coordinator makes these sessions billable (replacing any refusal); returns how many were approved."""
    with uow:
        require(user, "exception.approve", session=uow.session)
        coordinator = uow.session.get(User, user.id)
        for s in _sessions(uow, session_ids):
            if s.status != "held":
                raise ValidationError(f"La séance du {format_date(s.date)} n'a pas été réalisée : "
                                      "il n'y a rien à approuver.")
            changed = _decide(s, approved_exception=True, approved_by_id=coordinator.id, exception_refused=False,
                              exception_decided_by_id=None, exception_reason=None)
            audit.record(uow.session, user.key, "approve_exception", "home_session", s.key, changed)
        uow.commit()
        return len(session_ids)


def refuse_exceptions(uow: UnitOfWork, user: CurrentUser, session_ids: list[str], reason: str, today: date) -> int:
    """The sessions stay unpaid and leave the queue; the refusal records who decided and why (the date is the
    audit entry's; `today` is kept for the window's call)."""
    with uow:
        require(user, "exception.approve", session=uow.session)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("Indiquez le motif du refus.", field="reason")
        if len(reason) > MAX_REASON_LENGTH:
            raise ValidationError(f"Le motif ne peut pas dépasser {MAX_REASON_LENGTH} caractères.", field="reason")
        for s in _sessions(uow, session_ids):
            changed = _decide(s, approved_exception=False, approved_by_id=None, exception_refused=True,
                              exception_decided_by_id=user.id, exception_reason=reason)
            audit.record(uow.session, user.key, "refuse_exception", "home_session", s.key, changed)
        uow.commit()
        return len(session_ids)


def _decide(s: HomeSession, **values) -> list[str]:
    """Set the decision's columns; returns the names of those that changed."""
    changed = [name for name, value in values.items() if getattr(s, name) != value]
    for name, value in values.items():
        setattr(s, name, value)
    return changed

