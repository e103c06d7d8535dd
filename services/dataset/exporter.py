"""Export of the whole store in the `parcours-dataset/1` interchange format."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import (Convention, EpsMeeting, Family, HomeSession, Intervenant, Meeting, Orientation, Parcours,
                    Partner, Programme, User)
from services import audit
from services.dataset import canonical
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork


def export_dataset(uow: UnitOfWork, user: CurrentUser, deliver: Callable[[dict], None] | None = None) -> dict:
    """Every record, notes included: for the coordination and the command line; the export is audited.
    `deliver(data)` (writing the file) runs before the audit entry is committed: an export that could not be
    written leaves no « exported » entry behind."""
    with uow:
        require(user, "dataset.export", session=uow.session)
        s = uow.session
        programme = s.scalars(select(Programme)).first()
        # Load the records referred to first: later sections then resolve their references from the identity map.
        users = s.scalars(select(User).order_by(User.key)).all()
        partners = s.scalars(select(Partner).order_by(Partner.key)).all()
        conventions = s.scalars(select(Convention).options(selectinload(Convention.tariffs), selectinload(Convention.action),
                                                           selectinload(Convention.amendments))
                                .order_by(Convention.key)).all()
        intervenants = s.scalars(select(Intervenant).options(selectinload(Intervenant.history))
                                 .order_by(Intervenant.key)).all()
        families = s.scalars(select(Family).options(selectinload(Family.children), selectinload(Family.guardians))
                             .order_by(Family.key)).all()
        data = {
            "format": canonical.FORMAT,
            "programme": canonical.programme(programme) if programme else None,
            "users": [canonical.user(u) for u in users],
            "partners": [canonical.partner(p) for p in partners],
            "conventions": [canonical.convention(c) for c in conventions],
            "intervenants": [canonical.intervenant(i) for i in intervenants],
            "families": [canonical.family(f) for f in families],
            "parcours": [canonical.parcours(p) for p in s.scalars(select(Parcours).order_by(Parcours.key))],
            "eps_meetings": [canonical.eps_meeting(m) for m in s.scalars(
                select(EpsMeeting).options(selectinload(EpsMeeting.situations)).order_by(EpsMeeting.date, EpsMeeting.key))],
            "orientations": [canonical.orientation(o) for o in s.scalars(select(Orientation).order_by(Orientation.key))],
            "sessions": [canonical.session(x) for x in s.scalars(
                select(HomeSession).order_by(HomeSession.date, HomeSession.start_time, HomeSession.key))],
            "meetings": [canonical.meeting(m) for m in s.scalars(
                select(Meeting).options(selectinload(Meeting.intervenants)).order_by(Meeting.date, Meeting.key))],
        }
        if data["programme"] is None:
            del data["programme"]
        audit.record(s, user.key, "export", "dataset", None)
        if deliver is not None:
            deliver(data)
        uow.commit()
        return data
