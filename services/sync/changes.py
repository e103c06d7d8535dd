"""The team server's change log: which tables travel, how a row is written as JSON, and the change numbers.

Every committed write of a synced record gets a change number strictly in commit order: just before the commit,
the transaction takes `UPDATE sync_clock SET last = last + n RETURNING last`. The row lock serialises committing
writers (PostgreSQL holds it to the commit; SQLite has one writer anyway), so a transaction that took a lower number
has committed before one with a higher number can take its own: a reader that saw number N has seen every change
numbered below N. The numbers land in `sync_change`, one row per record (its latest change), with its family for
the scope. The hook is installed on the server's engine only (install_change_log): the desktop never pays for it.

Writes made with ORM statements (`session.execute(insert(HomeSession), rows)`: the dataset import's bulk path;
`update(User)…`, `delete(…)`) skip the flush: the hook sees them when they run (do_orm_execute) — an insert's rows by
their ids, an UPDATE or DELETE by the ids its WHERE clause selects, read just before it runs. An UPDATE that only
sets columns never sent (a failed login's count) numbers nothing. Text SQL (`text("UPDATE …")`) is not seen: no
service writes a synced table that way.

A child table without records of its own travels inside its parent's row (services.sync.operations.CHILD_FIELDS:
the parcours' « referral_reasons »): a change of the collection marks the parent changed, so the parent is numbered
again and sent whole; `child_fields_json` reads those fields for the rows of a pull.
"""
from __future__ import annotations

import base64
import binascii
import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import Boolean, Date, DateTime, Engine, Integer, LargeBinary, Time, event, select, update
from sqlalchemy.orm import Session

from models.base import Cents

REFERENT, COORDINATOR, ADMINISTRATOR = "referent", "coordinator", "administrator"
EVERYONE = frozenset({REFERENT, COORDINATOR, ADMINISTRATOR})


@dataclass(frozen=True)
class TableRule:
    """Who receives a table's rows; `scoped`: a référent only those of the families they follow."""

    readers: frozenset[str]
    scoped: bool = False
    hidden: frozenset[str] = frozenset()  # columns never sent (password hashes…)


RULES: dict[str, TableRule] = {
    # reference data, read by everyone (convention.read, programme.read, the identity picker)
    **{name: TableRule(EVERYONE) for name in ("programme", "partner", "action", "convention", "tariff",
                                              "tariff_amendment", "intervenant", "intervenant_history")},
    "app_user": TableRule(EVERYONE, hidden=frozenset({"password_hash", "failed_logins", "locked_until"})),
    # issued statements (read-only on a laptop: issuing is the server's) and meetings, for billing
    "statement": TableRule(frozenset({COORDINATOR, ADMINISTRATOR})),
    "statement_line": TableRule(frozenset({COORDINATOR, ADMINISTRATOR})),
    "meeting": TableRule(frozenset({COORDINATOR, ADMINISTRATOR})),
    "eps_meeting": TableRule(frozenset({COORDINATOR})),
    "eps_situation": TableRule(frozenset({COORDINATOR})),
    # the families' files: the administration sees families as codes and names, sessions without notes
    "family": TableRule(EVERYONE, scoped=True),
    "guardian": TableRule(frozenset({REFERENT, COORDINATOR}), scoped=True),
    "child": TableRule(frozenset({REFERENT, COORDINATOR}), scoped=True),
    "parcours": TableRule(frozenset({REFERENT, COORDINATOR}), scoped=True),
    "orientation": TableRule(frozenset({REFERENT, COORDINATOR}), scoped=True),
    "home_session": TableRule(EVERYONE, scoped=True),
}
# What the administration reads of a family (services.permissions: codes and names only).
ADMINISTRATION_FAMILY = frozenset({"id", "key", "name", "version", "created_at", "updated_at"})
# The tables whose rows name their family in a `family_id` column (family: its own id; parcours: its child's).
FAMILY_COLUMN = {"guardian", "child", "home_session", "orientation", "eps_situation"}


@functools.cache
def models_by_table() -> dict:
    """The synced tables' classes, parents before the tables that refer to them (metadata.sorted_tables)."""
    from models import Base, load_all

    load_all()
    classes = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers}
    return {t.name: classes[t.name] for t in Base.metadata.sorted_tables if t.name in RULES}


@functools.cache
def _rank() -> dict[str, int]:
    return {name: n for n, name in enumerate(models_by_table())}


def _parents_first(key: tuple[str, str]) -> int:
    return _rank()[key[0]]


def table_rank(name: str) -> int:
    """A synced table's place, parents before the tables that refer to them (the outbox orders a commit's
    operations so: a family created before its children)."""
    return _rank().get(name, len(_rank()))


# -- rows as JSON --------------------------------------------------------------------------------------------------

def to_json(column, value):
    """A stored value as the wire carries it: dates and times ISO-8601 (moments in UTC), money in integer cents."""
    if value is None:
        return None
    if isinstance(column.type, Cents):
        return int((value * 100).to_integral_value())
    if isinstance(value, datetime):  # stored in UTC (SQLite gives it back naive)
        return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None
                else value.astimezone(timezone.utc)).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):  # an issued statement's PDF: base64 text (the laptop decodes it)
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def from_json(column, value):
    """The Python value of a JSON value for `column`; ValueError when it cannot be one. Money: integer cents or a
    text in euros (« 12.50 »)."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Cents):
        if isinstance(value, int) and not isinstance(value, bool):
            return (Decimal(value) / 100).quantize(Decimal("0.01"))
        if isinstance(value, str):
            try:
                return Decimal(value.replace(",", ".")).quantize(Decimal("0.01"))
            except InvalidOperation:
                raise ValueError(value) from None
        raise ValueError(value)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(_text(value))
    if isinstance(kind, Date):
        return date.fromisoformat(_text(value))
    if isinstance(kind, Time):
        return time.fromisoformat(_text(value))
    if isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise ValueError(value)
        return value
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
        return value
    if isinstance(kind, LargeBinary):
        try:
            return base64.b64decode(_text(value), validate=True)
        except binascii.Error:
            raise ValueError("base64") from None
    python_type = _python_type(kind)
    if python_type is str and not isinstance(value, str):
        raise ValueError(value)
    return value


def _text(value) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def _python_type(kind):
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def canonical(column, value):
    """The wire form of a JSON value as the server would write it (« 12.50 » and 1250 are the same money)."""
    return to_json(column, from_json(column, value))


def row_json(table, row, role: str) -> dict:
    """A table's row (a mapping of column → stored value) as sent to `role`."""
    return {name: value if convert is None else convert(value) for name, convert, value in
            ((name, convert, row[name]) for name, convert in row_writer(table, role))}


@functools.cache
def row_writer(table, role: str) -> tuple[tuple[str, Callable | None], ...]:
    """(column, conversion or None when the stored value is already JSON) for each column sent to `role`: worked
    out once per table and role, a pull writes tens of thousands of rows."""
    rule = RULES[table.name]
    writers = []
    for column in table.columns:
        if column.name in rule.hidden:
            continue
        if (role == ADMINISTRATOR and table.name == "family" and column.name not in ADMINISTRATION_FAMILY) or (
                role == ADMINISTRATOR and table.name == "home_session" and column.name == "notes"):
            shown = None if column.nullable else _neutral(column)
            writers.append((column.name, lambda _value, shown=shown: shown))
        elif isinstance(column.type, (Cents, Date, DateTime, Time, LargeBinary)):
            writers.append((column.name, lambda value, column=column: to_json(column, value)))
        else:
            writers.append((column.name, None))
    return tuple(writers)


def _neutral(column):
    """A value for a column that must not be empty but whose content the reader may not see."""
    return False if isinstance(column.type, Boolean) else 0 if isinstance(column.type, Integer) else ""


# -- the change numbers ----------------------------------------------------------------------------------------

_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()
PENDING = "sync_pending"  # session.info: {(table, id): (family_id, deleted)}
SCOPE = "sync_scope_touched"  # session.info: {(user_id, family_id)}


def install_change_log(engine: Engine, *, seed: bool = True) -> bool:
    """Number every committed change of the synced tables made through `engine` (the team server's), and give the
    records already there their first numbers if the log is empty (a store that became a server). `seed=False`
    (the IT's other verbs on the server's PostgreSQL): only on a store `serve` has already numbered — before its
    first serve no laptop needs the numbers, that serve numbers whatever it finds, and a verb that refuses its
    input writes nothing. Returns whether the log is kept on `engine`."""
    if not seed and not _numbered(engine):
        return False
    if not _ENGINES:
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "before_commit", _number)
        event.listen(Session, "after_soft_rollback", _forget)
        event.listen(Session, "do_orm_execute", _statement)
    _ENGINES.add(engine)
    _seed(engine)
    return True


def _numbered(engine: Engine) -> bool:
    """Whether the store's records already have their change numbers."""
    from models import SyncChange, SyncClock

    with Session(engine) as session:
        return bool(session.scalar(select(SyncClock.last).where(SyncClock.id == 1))) or \
            session.scalar(select(SyncChange.number).limit(1)) is not None


def _watched(session: Session) -> bool:
    return session.bind is not None and session.bind in _ENGINES


def family_of(session: Session, record) -> str | None:
    name = record.__tablename__
    if name == "family":
        return record.id
    if name in FAMILY_COLUMN:
        return record.family_id
    if name == "parcours":
        from models import Child

        child = session.get(Child, record.child_id) if record.child_id else None
        return child.family_id if child is not None else None
    return None


def _collect(session: Session, _context) -> None:
    if not _watched(session):
        return
    from sqlalchemy import inspect

    pending = session.info.setdefault(PENDING, {})
    touched = session.info.setdefault(SCOPE, set())
    for records, dirty, deleted in ((session.new, False, False), (session.dirty, True, False),
                                    (session.deleted, False, True)):
        for record in records:
            name = getattr(record, "__tablename__", None)
            if name not in RULES or (dirty and not session.is_modified(record)):
                continue
            family_id = family_of(session, record)
            pending[(name, record.id)] = (family_id, deleted)
            if name in ("family", "parcours") and family_id is not None:
                history = inspect(record).attrs.referent_id.history
                for user_id in (*history.added, *history.deleted, *history.unchanged):
                    if user_id:
                        touched.add((user_id, family_id))


def _statement(state) -> None:
    """An ORM INSERT/UPDATE/DELETE statement on a synced table: its records numbered like a flush's."""
    if not (state.is_insert or state.is_update or state.is_delete) or not _watched(state.session):
        return
    mapper = state.bind_mapper
    name = mapper.local_table.name if mapper is not None else None
    if name not in RULES:
        return
    session, table = state.session, mapper.local_table
    pending = session.info.setdefault(PENDING, {})
    if state.is_insert:
        rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
        for row in rows:
            if row.get("id"):
                family = row.get("id") if name == "family" else row.get("family_id") if name in FAMILY_COLUMN \
                    else _family_of_parcours(session, row.get("child_id")) if name == "parcours" else None
                pending[(name, str(row["id"]))] = (family, False)
        return
    if state.is_update:
        values = getattr(state.statement, "_values", None) or {}
        names = {getattr(key, "key", getattr(key, "name", key)) for key in values}
        if names and names <= RULES[name].hidden:
            return  # only what no reader receives
    family = _family_column(table)
    columns = [table.c.id] + ([family.label("family_id")] if family is not None else [])
    query = select(*columns)
    if state.statement.whereclause is not None:
        query = query.where(state.statement.whereclause)
    for row in session.connection().execute(query):
        pending[(name, row.id)] = (row.family_id if family is not None else None, state.is_delete)


def _family_of_parcours(session: Session, child_id) -> str | None:
    from models import Child

    return session.connection().execute(select(Child.family_id).where(Child.id == child_id)).scalar() \
        if child_id else None


def _family_column(table):
    """The expression of a synced table's family (None: not a family's record)."""
    if table.name == "family":
        return table.c.id
    if table.name in FAMILY_COLUMN:
        return table.c.family_id
    if table.name == "parcours":
        from models import Child

        return select(Child.family_id).where(Child.id == table.c.child_id).scalar_subquery()
    return None


def child_fields_json(session: Session, name: str, ids) -> dict[str, dict]:
    """{record id: {field: value}} of the child tables sent inside the rows of table `name` (CHILD_FIELDS), for a
    pull: merged into each row as its own columns are."""
    from services.sync.operations import CHILD_FIELDS

    fields = CHILD_FIELDS.get(name)
    if not fields:
        return {}
    model = models_by_table()[name]
    found: dict[str, dict] = {record_id: {field: [] for field in fields} for record_id in ids}
    for field, child in fields.items():
        _table, parent_column, value_column = child.link(model)
        listed = list(found)
        for start in range(0, len(listed), 500):
            for record_id, value in session.execute(
                    select(parent_column, value_column).where(parent_column.in_(listed[start:start + 500]))):
                found[record_id][field].append(value)
    for values in found.values():
        for field in values:
            values[field].sort()
    return found


def _forget(session: Session, _transaction) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(SCOPE, None)


def _number(session: Session) -> None:
    """Just before the commit: the numbers, in the order the log will be read, and the scopes that moved."""
    if not _watched(session):
        return
    session.flush()  # the commit's own flush comes after this hook: what it would write is collected now
    pending = session.info.pop(PENDING, None)
    touched = session.info.pop(SCOPE, None)
    if not pending:
        return
    last = take_numbers(session, len(pending))
    record_changes(session, pending, last - len(pending) + 1)
    if touched:
        _move_scopes(session, touched, last)


def take_numbers(session: Session, count: int) -> int:
    """Reserve `count` numbers; the last one. Holds the clock's row to the commit."""
    return session.execute(_take_statement(), {"count": count}).scalar_one()


@functools.cache
def _take_statement():
    """Built once: each committed write takes numbers (its construction was a tenth of the change log's cost)."""
    from sqlalchemy import bindparam

    from models import SyncClock

    return update(SyncClock).where(SyncClock.id == 1).values(last=SyncClock.last + bindparam("count")) \
        .returning(SyncClock.last)


def record_changes(session: Session, pending: dict, first: int) -> None:
    """Each record's latest number, by one upsert (profiled: the look-up of the rows already there, then an insert
    and an update, were three statements per committed write)."""
    keys = sorted(pending, key=_parents_first)  # a laptop reading a transaction's changes meets parents first
    statement = _upsert_statement(session.get_bind().dialect.name)
    rows = [{"table_name": name, "record_id": record_id, "number": first + i,
             "family_id": pending[(name, record_id)][0], "deleted": pending[(name, record_id)][1]}
            for i, (name, record_id) in enumerate(keys)]
    for start in range(0, len(rows), 5000):
        session.connection().execute(statement, rows[start:start + 5000])


@functools.cache
def _upsert_statement(dialect: str):
    from models import SyncChange

    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    table = SyncChange.__table__
    statement = upsert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.table_name, table.c.record_id],
        set_={"number": statement.excluded.number, "family_id": statement.excluded.family_id,
              "deleted": statement.excluded.deleted})


def _move_scopes(session: Session, touched: set, number: int) -> None:
    """A family entering or leaving a référent's scope (family référent or parcours référent changed)."""
    from models import Family, SyncScope, User
    from services.permissions import follows

    referents = set(session.scalars(select(User.id).where(User.id.in_({u for u, _ in touched}),
                                                         User.role == REFERENT)))
    for user_id, family_id in sorted(touched):
        if user_id not in referents:
            continue
        row = session.get(SyncScope, (user_id, family_id))
        inside = follows(session, user_id, family_id)
        if inside and (row is None or row.left_at is not None):
            key = session.scalar(select(Family.key).where(Family.id == family_id))
            if row is None:
                session.add(SyncScope(user_id=user_id, family_id=family_id, family_key=key, entered_at=number))
            else:
                row.entered_at, row.left_at = number, None
        elif not inside and row is not None and row.left_at is None:
            row.left_at = number
    session.flush()


def _seed(engine: Engine) -> None:
    """First numbers for the records already stored, once (the log is empty), and the référents' scopes."""
    from models import SyncScope, User
    from services.permissions import followed_family_ids

    if _numbered(engine):
        return  # numbered already: each start of the server only looks
    with Session(engine) as session:
        pending = {}
        for name, model in models_by_table().items():
            table = model.__table__
            family = _family_column(table)
            columns = [table.c.id] + ([family.label("family_id")] if family is not None else [])
            for row in session.execute(select(*columns).order_by(table.c.id)):
                pending[(name, row.id)] = (row.family_id if family is not None else None, False)
        if pending:
            last = take_numbers(session, len(pending))
            record_changes(session, pending, last - len(pending) + 1)
        from models import Family

        for user_id in session.scalars(select(User.id).where(User.role == REFERENT)):
            for family_id, key in session.execute(select(Family.id, Family.key).where(
                    Family.id.in_(followed_family_ids(user_id)))):
                session.add(SyncScope(user_id=user_id, family_id=family_id, family_key=key, entered_at=0))
        session.commit()
