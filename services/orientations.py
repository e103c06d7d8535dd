"""EPS meetings, the situations they study, and the orientations they propose, validate or reject.

Only the coordination runs the EPS and decides (services.permissions); every writing verb leaves an audit entry.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from models import Convention, EpsMeeting, EpsSituation, Family, Orientation, User
from services import audit
from services.date_bounds import EVENT, require_plausible
from services.errors import InvalidFields, NotFound, ValidationError
from services.formatting import format_date
from services.permissions import CurrentUser, require
from services.rules import orientation_in_force
from services.uow import UnitOfWork

ORIENTATION_LABELS = {"proposed": "Proposée", "validated": "Validée", "rejected": "Refusée", "ended": "Terminée"}
NEAR_FULL_RATIO = 0.9


@dataclass(frozen=True)
class OrientationRow:
    id: str
    key: str
    family_id: str
    family_name: str
    convention_id: str
    convention_label: str
    eps_date: date
    status: str
    decided_on: date | None
    decided_by_name: str | None
    end_date: date | None
    reason: str | None

    @property
    def status_label(self) -> str:
        return ORIENTATION_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class EpsMeetingRow:
    id: str
    key: str
    date: date
    notes: str | None
    situation_count: int


@dataclass(frozen=True)
class SituationRow:
    id: str
    family_id: str
    family_name: str
    recommendation: str | None
    orientations: tuple[OrientationRow, ...]


@dataclass(frozen=True)
class EpsMeetingDetail:
    meeting: EpsMeetingRow
    situations: tuple[SituationRow, ...]


@dataclass(frozen=True)
class ConventionLoad:
    convention_id: str
    label: str
    max_families: int
    families: int

    @property
    def level(self) -> str:
        """'over' beyond the maximum, 'near' from 90 % of it, else 'ok'."""
        if self.families > self.max_families:
            return "over"
        return "near" if self.families >= self.max_families * NEAR_FULL_RATIO else "ok"


def _convention_label(c: Convention) -> str:
    return f"{c.action.name} — {c.partner.name}"


def _orientation_row(o: Orientation) -> OrientationRow:
    return OrientationRow(o.id, o.key, o.family_id, o.family.name, o.convention_id, _convention_label(o.convention),
                          o.eps_date, o.status, o.decided_on, o.decided_by.name if o.decided_by else None,
                          o.end_date, o.reason)


def _get(uow: UnitOfWork, model, record_id: str, what: str):
    record = uow.session.get(model, record_id) if record_id else None
    if record is None:
        raise NotFound(f"{what} n'existe plus : actualisez la liste.")
    return record


# -- EPS meetings ------------------------------------------------------------------------------------------

def list_eps_meetings(uow: UnitOfWork, user: CurrentUser) -> tuple[EpsMeetingRow, ...]:
    with uow:
        require(user, "eps.read", session=uow.session)
        counts = (select(EpsSituation.eps_meeting_id, func.count(EpsSituation.id).label("n"))
                  .group_by(EpsSituation.eps_meeting_id).subquery())
        rows = uow.session.execute(
            select(EpsMeeting, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.eps_meeting_id == EpsMeeting.id)
            .order_by(EpsMeeting.date.desc(), EpsMeeting.key))
        return tuple(EpsMeetingRow(m.id, m.key, m.date, m.notes, n) for m, n in rows)


def create_eps_meeting(uow: UnitOfWork, user: CurrentUser, day: date | None, notes: str | None = None) -> EpsMeetingRow:
    with uow:
        require(user, "eps.manage", session=uow.session)
        if day is None:
            raise ValidationError("Indiquez la date de la séance d'EPS.", field="date")
        require_plausible(day, "date", "La date de la séance d'EPS")
        key, n = f"EPS-{day.isoformat()}", 1
        while uow.session.scalar(select(EpsMeeting.id).where(EpsMeeting.key == key)):
            n += 1
            key = f"EPS-{day.isoformat()}-{n}"
        meeting = EpsMeeting(key=key, date=day, notes=(notes or "").strip() or None)
        uow.session.add(meeting)
        audit.record(uow.session, user.key, "create", "eps_meeting", key,
                     ["date"] + (["notes"] if meeting.notes else []))
        uow.commit()
        return EpsMeetingRow(meeting.id, meeting.key, meeting.date, meeting.notes, 0)


def eps_meeting_detail(uow: UnitOfWork, user: CurrentUser, meeting_id: str) -> EpsMeetingDetail:
    with uow:
        require(user, "eps.read", session=uow.session)
        m = _get(uow, EpsMeeting, meeting_id, "Cette séance d'EPS")
        orientations = uow.session.scalars(select(Orientation).where(
            Orientation.eps_date == m.date,
            Orientation.family_id.in_([s.family_id for s in m.situations]))).all()
        situations = tuple(sorted(
            (SituationRow(s.id, s.family_id, s.family.name, s.recommendation,
                          tuple(_orientation_row(o) for o in orientations if o.family_id == s.family_id))
             for s in m.situations), key=lambda s: s.family_name))
        detail = EpsMeetingDetail(EpsMeetingRow(m.id, m.key, m.date, m.notes, len(situations)), situations)
        audit.record(uow.session, user.key, "read", "eps_meeting", m.key)  # the families studied: each opening
        uow.commit()
        return detail


def add_situation(uow: UnitOfWork, user: CurrentUser, meeting_id: str, family_id: str,
                  recommendation: str | None = None) -> SituationRow:
    with uow:
        require(user, "eps.manage", session=uow.session)
        meeting = _get(uow, EpsMeeting, meeting_id, "Cette séance d'EPS")
        family = _get(uow, Family, family_id, "Cette famille")
        if any(s.family_id == family.id for s in meeting.situations):
            raise ValidationError(f"La situation de la famille {family.name} est déjà inscrite à cette séance.",
                                  field="family")
        situation = EpsSituation(meeting=meeting, family=family, recommendation=(recommendation or "").strip() or None)
        uow.session.add(situation)
        uow.session.flush()
        audit.record(uow.session, user.key, "create", "eps_situation", situation.id,
                     ["eps_meeting_id", "family_id"] + (["recommendation"] if situation.recommendation else []))
        uow.commit()
        return SituationRow(situation.id, family.id, family.name, situation.recommendation, ())


def record_recommendation(uow: UnitOfWork, user: CurrentUser, situation_id: str, recommendation: str) -> None:
    with uow:
        require(user, "eps.manage", session=uow.session)
        situation = _get(uow, EpsSituation, situation_id, "Cette situation")
        new = (recommendation or "").strip() or None
        changed = ["recommendation"] if new != situation.recommendation else []
        situation.recommendation = new
        audit.record(uow.session, user.key, "update", "eps_situation", situation.id, changed)
        uow.commit()


# -- orientations --------------------------------------------------------------------------------------------

def propose_orientation(uow: UnitOfWork, user: CurrentUser, situation_id: str, convention_id: str) -> OrientationRow:
    """The EPS proposes that the family enter the convention's action; a coordinator decides later."""
    with uow:
        require(user, "eps.manage", session=uow.session)
        situation = _get(uow, EpsSituation, situation_id, "Cette situation")
        convention = _get(uow, Convention, convention_id, "Cette convention")
        open_ones = uow.session.scalars(select(Orientation).where(
            Orientation.family_id == situation.family_id, Orientation.convention_id == convention.id,
            Orientation.status.in_(("proposed", "validated")))).all()
        if open_ones:
            o = open_ones[0]
            raise ValidationError(f"La famille {situation.family.name} a déjà une orientation "
                                  f"{ORIENTATION_LABELS[o.status].lower()} vers {_convention_label(convention)} "
                                  f"(EPS du {format_date(o.eps_date)}).", field="convention")
        orientation = Orientation(key="O-" + uuid.uuid4().hex[:10], family_id=situation.family_id,
                                  convention=convention, eps_date=situation.meeting.date, status="proposed")
        uow.session.add(orientation)
        uow.session.flush()
        audit.record(uow.session, user.key, "propose", "orientation", orientation.key,
                     ["family_id", "convention_id", "eps_date", "status"])
        row = _orientation_row(orientation)
        uow.commit()
        return row


def list_orientations(uow: UnitOfWork, user: CurrentUser, status: str | None = None, family_id: str | None = None
                      ) -> tuple[OrientationRow, ...]:
    with uow:
        require(user, "orientation.read", session=uow.session)
        return list_orientations_in(uow, status, family_id)


def list_orientations_in(uow: UnitOfWork, status: str | None = None, family_id: str | None = None
                         ) -> tuple[OrientationRow, ...]:
    query = select(Orientation).order_by(Orientation.eps_date, Orientation.key)
    if status:
        query = query.where(Orientation.status == status)
    if family_id:
        query = query.where(Orientation.family_id == family_id)
    return tuple(_orientation_row(o) for o in uow.session.scalars(query))


def _pending(uow: UnitOfWork, orientation_id: str) -> Orientation:
    orientation = _get(uow, Orientation, orientation_id, "Cette orientation")
    if orientation.status != "proposed":
        raise ValidationError(f"Cette orientation est déjà {ORIENTATION_LABELS[orientation.status].lower()} : "
                              "il n'y a plus rien à décider.")
    return orientation


def _decision_day(orientation: Orientation, decided_on: date | None) -> date:
    if decided_on is None:
        raise ValidationError("Indiquez la date de la décision.", field="decided_on")
    require_plausible(decided_on, "decided_on", "La date de la décision")
    if decided_on < orientation.eps_date:
        raise ValidationError(f"La décision ne peut pas précéder la séance d'EPS du "
                              f"{format_date(orientation.eps_date)}.", field="decided_on")
    return decided_on


def validate_orientation(uow: UnitOfWork, user: CurrentUser, orientation_id: str,
                         decided_on: date | None) -> OrientationRow:
    with uow:
        require(user, "orientation.validate", session=uow.session)
        orientation = _pending(uow, orientation_id)
        orientation.decided_on = _decision_day(orientation, decided_on)
        orientation.status = "validated"
        orientation.decided_by = uow.session.get(User, user.id)
        uow.session.flush()
        audit.record(uow.session, user.key, "validate", "orientation", orientation.key,
                     ["status", "decided_on", "decided_by_id"])
        row = _orientation_row(orientation)
        uow.commit()
        return row


def reject_orientation(uow: UnitOfWork, user: CurrentUser, orientation_id: str, reason: str,
                       decided_on: date | None) -> OrientationRow:
    with uow:
        require(user, "orientation.validate", session=uow.session)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("Indiquez le motif du refus.", field="reason")
        orientation = _pending(uow, orientation_id)
        orientation.decided_on = _decision_day(orientation, decided_on)
        orientation.status = "rejected"
        orientation.reason = reason
        orientation.decided_by = uow.session.get(User, user.id)
        uow.session.flush()
        audit.record(uow.session, user.key, "reject", "orientation", orientation.key,
                     ["status", "decided_on", "decided_by_id", "reason"])
        row = _orientation_row(orientation)
        uow.commit()
        return row


def end_orientation(uow: UnitOfWork, user: CurrentUser, orientation_id: str, end: date | None,
                    reason: str) -> OrientationRow:
    """End a validated orientation: it still covers the days up to `end` (services.rules.orientation_in_force)."""
    with uow:
        require(user, "orientation.end", session=uow.session)
        orientation = _get(uow, Orientation, orientation_id, "Cette orientation")
        if orientation.status != "validated":
            raise ValidationError(f"Seule une orientation validée peut être terminée : celle-ci est "
                                  f"{ORIENTATION_LABELS[orientation.status].lower()}.")
        reason = (reason or "").strip()
        problems = {}
        if end is None:
            problems["end"] = "Indiquez la date de fin."
        elif not EVENT[0] <= end <= EVENT[1]:
            problems["end"] = (f"La date de fin ({end:%d/%m/%Y}) est hors de la période admise : entre le "
                               f"{EVENT[0]:%d/%m/%Y} et le {EVENT[1]:%d/%m/%Y}.")
        elif orientation.decided_on is not None and end < orientation.decided_on:
            problems["end"] = (f"La fin ne peut pas précéder la décision du {format_date(orientation.decided_on)}.")
        if not reason:
            problems["reason"] = "Indiquez le motif de la fin de l'orientation."
        if problems:
            raise InvalidFields(problems)
        orientation.status = "ended"
        orientation.end_date = end
        orientation.reason = reason
        uow.session.flush()
        audit.record(uow.session, user.key, "end", "orientation", orientation.key, ["status", "end_date", "reason"])
        row = _orientation_row(orientation)
        uow.commit()
        return row


def convention_capacity(uow: UnitOfWork, user: CurrentUser, today: date) -> tuple[ConventionLoad, ...]:
    """Families with an orientation in force today, against each convention's indicative maximum."""
    with uow:
        require(user, "convention.read", session=uow.session)
        conventions = uow.session.scalars(select(Convention).where(Convention.max_families.is_not(None))
                                          .order_by(Convention.key)).all()
        loads = []
        for c in conventions:
            orientations = uow.session.scalars(select(Orientation).where(Orientation.convention_id == c.id)).all()
            families = {o.family_id for o in orientations
                        if orientation_in_force(o.status, o.decided_on, o.end_date, today)}
            loads.append(ConventionLoad(c.id, f"{_convention_label(c)} ({c.key})", c.max_families, len(families)))
        return tuple(loads)
