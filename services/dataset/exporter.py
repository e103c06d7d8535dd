"""Export of the whole store in the `parcours-dataset/1` interchange format."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (Convention, EpsMeeting, Family, HomeSession, Intervenant, Meeting, Orientation, Parcours,
                    Partner, Programme, User)
from services import audit
from services.dataset import canonical
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork

SESSION_BATCH = 2000  # session rows fetched at a time while the export streams


def export_dataset(uow: UnitOfWork, user: CurrentUser, deliver: Callable[[dict], None] | None = None) -> dict:
    """Every record, notes included: for the coordination and the command line; the export is audited.
    `deliver(data)` (writing the file) runs before the audit entry is committed: an export that could not be
    written leaves no « exported » entry behind."""
    with uow:
        require(user, "dataset.export", session=uow.session)
        data = {name: value if isinstance(value, (dict, str)) else list(value) for name, value in _sections(uow.session)}
        audit.record(uow.session, user.key, "export", "dataset", None)
        if deliver is not None:
            deliver(data)
        uow.commit()
        return data


def stream_dataset(uow: UnitOfWork, user: CurrentUser, deliver: Callable[[Iterator[str]], None]) -> None:
    """The export as a file's text, read from the store while `deliver(chunks)` writes it: the very text of
    `json.dumps(export_dataset(…), ensure_ascii=False, indent=2)`, without the whole store in memory (300,000
    sessions took 1.1 GB as one dictionary). Audited as export_dataset, the entry committed once `deliver` is done."""
    with uow:
        require(user, "dataset.export", session=uow.session)
        audit.record(uow.session, user.key, "export", "dataset", None)
        deliver(_json_text(_sections(uow.session)))
        uow.commit()


def _sections(s: Session) -> Iterator[tuple[str, Any]]:
    """(name, value) in the file's order; a section's records come as they are read."""
    programme = s.scalars(select(Programme)).first()
    # Load the records referred to first, and hold them: later sections then resolve their references from the
    # identity map.
    users = s.scalars(select(User).order_by(User.key)).all()
    partners = s.scalars(select(Partner).order_by(Partner.key)).all()
    conventions = s.scalars(select(Convention).options(selectinload(Convention.tariffs), selectinload(Convention.action),
                                                       selectinload(Convention.amendments))
                            .order_by(Convention.key)).all()
    intervenants = s.scalars(select(Intervenant).options(selectinload(Intervenant.history))
                             .order_by(Intervenant.key)).all()
    families = s.scalars(select(Family).options(selectinload(Family.children), selectinload(Family.guardians))
                         .order_by(Family.key)).all()
    yield "format", canonical.FORMAT
    if programme is not None:
        yield "programme", canonical.programme(programme)
    yield "users", map(canonical.user, users)
    yield "partners", map(canonical.partner, partners)
    yield "conventions", map(canonical.convention, conventions)
    yield "intervenants", map(canonical.intervenant, intervenants)
    yield "families", map(canonical.family, families)
    yield "parcours", map(canonical.parcours, s.scalars(select(Parcours).options(selectinload(Parcours.reasons))
                                                        .order_by(Parcours.key)))
    yield "eps_meetings", map(canonical.eps_meeting, s.scalars(
        select(EpsMeeting).options(selectinload(EpsMeeting.situations)).order_by(EpsMeeting.date, EpsMeeting.key)))
    yield "orientations", map(canonical.orientation, s.scalars(select(Orientation).order_by(Orientation.key)))
    yield "sessions", _sessions(s, [*users, *intervenants, *families])
    yield "meetings", map(canonical.meeting, s.scalars(
        select(Meeting).options(selectinload(Meeting.intervenants)).order_by(Meeting.date, Meeting.key)))


def _sessions(s: Session, referred: list) -> Iterator[dict]:
    """Sessions as rows, SESSION_BATCH at a time: an ORM object each was most of the export's time and memory."""
    key_of = {record.id: record.key for record in referred}  # UUIDs: one map for the three tables
    key_of[None] = None
    columns = [getattr(HomeSession, name) for name in canonical.SESSION_COLUMNS]
    # NULLS FIRST: PostgreSQL puts a missing start time last by default, SQLite first; the same file from both.
    rows = s.execute(select(*columns).order_by(HomeSession.date, HomeSession.start_time.asc().nullsfirst(),
                                               HomeSession.key)
                     .execution_options(yield_per=SESSION_BATCH))
    for (key, family_id, intervenant_id, day, start, duration, status, referent_present, children_present,
         approved_exception, approved_by_id, notes, refused, decided_by_id, reason) in rows:
        yield canonical.session_form(key, key_of[family_id], key_of[intervenant_id], day, start, duration, status,
                                     referent_present, children_present, approved_exception, key_of[approved_by_id],
                                     notes, refused, key_of[decided_by_id], reason)


def _json_text(sections: Iterable[tuple[str, Any]]) -> Iterator[str]:
    """`json.dumps({name: value, …}, ensure_ascii=False, indent=2)`, a record at a time. A JSON string never holds a
    raw newline, so indenting a value's text by its depth is replacing each newline of it."""
    yield "{"
    for position, (name, value) in enumerate(sections):
        yield f'{"," if position else ""}\n  {json.dumps(name)}: '
        if isinstance(value, (dict, str)):
            yield json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            continue
        empty = True
        for record in value:
            yield f'{"[" if empty else ","}\n    {_record_text(record)}'
            empty = False
        yield "[]" if empty else "\n  ]"
    yield "\n}"


_FLAT_RECORD = json.JSONEncoder(ensure_ascii=False, separators=(",\n      ", ": "))


def _record_text(record: dict) -> str:
    """A record as indent=2 writes it two levels down. A flat one (a session) goes through json's C encoder, with
    the line breaks as separators: the Python encoder that indent=2 takes was the export's slowest part."""
    if not record or any(isinstance(value, (dict, list)) for value in record.values()):
        return json.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n    ")
    return "{\n      " + _FLAT_RECORD.encode(record)[1:-1] + "\n    }"
