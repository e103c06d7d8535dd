"""Which months of a convention may bill differently since its last statement was issued (migration 0010).

A draft re-bills only the issued months marked here, instead of the whole history: every flush that adds, changes
or deletes something the billing rules read (services.billing.rules) marks, in the same transaction, the months it can
change. Issuing a statement settles every mark of its convention (it carries the régularisation of each issued month).

Written by an ORM listener rather than SQL triggers: a change of qualification or of orientation reaches every later
month, which a trigger could only mark by enumerating months. So a write that bypasses the ORM session (a Core
`connection.execute`) must call `mark_onward` itself; ORM statements run through a session (`session.execute(insert(
HomeSession), rows)`, `update(...)`, `delete(...)`) are marked here too.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Boolean, ForeignKey, Integer, String, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.conventions import Convention, Intervenant, IntervenantHistory, Tariff, TariffAmendment
from models.eps import Orientation
from models.programme import Programme
from models.sessions import HomeSession, Meeting

BEGINNING = "0000-01"  # an onward mark from here: every month


class BillingChangeMark(Base):
    """(convention, month) may bill differently from what its statements carry; `onward`: that month and every
    later one. `changes` counts the writes: a writer bumps it, so it waits on an issue that has locked the row."""

    __tablename__ = "billing_change_mark"

    convention_id: Mapped[str] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    onward: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def week_months(day: date) -> set[str]:
    """The months whose bill can read a session of `day`: those of its ISO week (the week rule and the weekly
    preparation judge a week straddling two months as one)."""
    monday = day - timedelta(days=day.weekday())
    return {_month(monday), _month(monday + timedelta(days=6))}


# Columns no rule of services.billing.rules reads (names, notes, who decided, the référent's presence — a flag only,
# never an amount): a change to only these marks nothing. Any other change marks, so a new column errs on the safe side.
_IGNORED = {
    HomeSession: {"notes", "children_present", "referent_present", "exception_refused", "exception_decided_by_id",
                  "exception_decided_by", "exception_reason", "approved_by_id", "approved_by", "updated_at"},
    Meeting: {"notes", "updated_at"},
    Orientation: {"eps_date", "decided_by_id", "decided_by", "reason", "updated_at", "key"},
    IntervenantHistory: {"updated_at"},
    Intervenant: {"key", "name", "updated_at", "history"},
    Tariff: {"updated_at"},
    TariffAmendment: {"updated_at"},
    Convention: {"key", "max_families", "budget_cap", "budget_imputation", "qualifications", "updated_at", "partner",
                 "action", "action_id", "tariffs", "amendments"},
    Programme: {"name", "eligible_communes", "city", "updated_at"},
}


def _values(record, attribute: str, deleted: bool) -> list:
    """The attribute's value now and, when changed in this flush, before."""
    if deleted:
        return [getattr(record, attribute)]
    history = inspect(record).attrs[attribute].load_history()  # loads an expired value rather than miss it
    return [*history.added, *history.unchanged, *history.deleted]


def _changed(record) -> bool:
    state = inspect(record)
    ignored = _IGNORED[type(record)]
    return any(state.attrs[a.key].history.has_changes() for a in state.mapper.attrs if a.key not in ignored)


class _Marks:
    def __init__(self):
        self.months: set[str] = set()  # every convention, one month
        self.onward: set[str] = set()  # every convention, from that month on
        self.convention_onward: set[tuple[str, str]] = set()  # one convention, from that month on

    def from_day(self, days) -> None:
        known = [d for d in days if d is not None]
        self.onward.add(_month(min(known)) if known else BEGINNING)

    def __bool__(self) -> bool:
        return bool(self.months or self.onward or self.convention_onward)


# Rows taken out of these collections are deleted by the flush itself (delete-orphan), after before_flush: their
# back-reference makes them dirty meanwhile, but a collection without one would not, so they are marked from the
# parent's collection history as well.
_OWNED = {Intervenant: ("history",), Convention: ("tariffs", "amendments")}


def _collect(session: Session) -> _Marks:
    marks = _Marks()
    new = session.new
    for deleted, dirty, records in ((False, False, new), (False, True, session.dirty), (True, False, session.deleted)):
        for record in records:
            if type(record) not in _IGNORED:
                continue
            for attribute in _OWNED.get(type(record), ()) if dirty else ():
                for orphan in inspect(record).attrs[attribute].history.deleted:
                    _mark_record(marks, orphan, True, new, record)
            if not dirty or _changed(record):
                _mark_record(marks, record, deleted, new)
    return marks


def _mark_record(marks: _Marks, record, deleted: bool, new, parent=None) -> None:
    kind = type(record)
    if kind in (HomeSession, Meeting):
        for day in _values(record, "date", deleted):
            if day is not None:
                marks.months |= week_months(day)
    elif kind is Orientation:
        decided = _values(record, "decided_on", deleted)
        if any(d is not None for d in decided):  # never decided, before and after: in force on no day
            marks.from_day(decided + _values(record, "end_date", deleted))
    elif kind is IntervenantHistory:
        if record in new and record.intervenant in new:
            return  # a new intervenant's first terms: nothing of it was billed yet
        starts = _values(record, "starts_on", deleted)
        marks.from_day(starts if None not in starts else [])  # a first row holds from the beginning
    elif kind is Intervenant:
        # only an intervenant without history is billed at its own columns; a new one has billed nothing
        if record not in new and not record.history:
            marks.onward.add(BEGINNING)
    elif kind is Programme:
        marks.onward.add(BEGINNING)  # the holiday zone
    elif kind is Convention:
        if record.id is not None and not deleted:
            marks.convention_onward.add((record.id, BEGINNING))
    else:  # a tariff table: the first one holds from the start, an avenant's from its day
        owner = record.convention or parent
        convention_id = record.convention_id or (owner.id if owner is not None else None)
        start = _values(record, "starts_on", deleted) if kind is TariffAmendment else []
        if convention_id is not None:
            known = [d for d in start if d is not None]
            marks.convention_onward.add((convention_id, _month(min(known)) if known else BEGINNING))


def mark(session: Session, marks: _Marks) -> None:
    """Upsert the marks, for every convention already stored (one made in this flush has no statement yet)."""
    conventions = list(session.scalars(select(Convention.id)))
    rows = {(c, m, False) for c in conventions for m in marks.months}
    rows |= {(c, m, True) for c in conventions for m in marks.onward}
    rows |= {(c, m, True) for c, m in marks.convention_onward if c in conventions}
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = BillingChangeMark.__table__
    statement = insert(table).on_conflict_do_update(index_elements=["convention_id", "month", "onward"],
                                                    set_={"changes": table.c.changes + 1})
    session.execute(statement, [{"convention_id": c, "month": m, "onward": o, "changes": 1}
                                for c, m, o in sorted(rows)])


def mark_onward(session: Session, day: date | None = None) -> None:
    """For a writer outside the ORM: every convention may bill differently from `day` on (None: from the beginning)."""
    marks = _Marks()
    marks.from_day([day])
    mark(session, marks)


def _before_flush(session: Session, _context, _instances) -> None:
    marks = _collect(session)
    if marks:
        mark(session, marks)


def _orm_statement(state) -> None:
    """`session.execute(insert(HomeSession), rows)` and ORM update/delete statements skip the flush: marked here."""
    if not (state.is_insert or state.is_update or state.is_delete) or state.execution_options.get("billing_marked"):
        return
    entity = state.bind_mapper.class_ if state.bind_mapper is not None else None
    if entity not in _IGNORED or entity is BillingChangeMark:
        return
    marks = _Marks()
    rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
    days = [r.get("date") for r in rows] if state.is_insert and entity in (HomeSession, Meeting) else None
    if days and all(isinstance(d, date) for d in days):
        for day in set(days):
            marks.months |= week_months(day)
    else:  # rows chosen by a WHERE clause: which months they touch is unknown here
        marks.onward.add(BEGINNING)
    mark(state.session, marks)


event.listen(Session, "before_flush", _before_flush)
event.listen(Session, "do_orm_execute", _orm_statement)
