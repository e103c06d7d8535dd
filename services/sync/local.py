"""The laptop's side of the sync tables (models.sync: sync_state, sync_outbox, sync_conflict).

Rows are read and written through SQLAlchemy Core on the models' tables: the outbox hook adds its rows inside the
commit of a unit of work, where mapped objects would need one more flush, and a pull writes rows of any table.
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from models.sync import SyncConflict, SyncOutbox, SyncState

STATE = SyncState.__table__
OUTBOX = SyncOutbox.__table__
CONFLICT = SyncConflict.__table__
# Never written by a pull: this copy's own bookkeeping, its audit chain (the server's entries stay on the server),
# and what only the server holds.
NOT_PULLED = frozenset({"sync_state", "sync_outbox", "sync_conflict", "sync_clock", "sync_change", "sync_scope",
                        "sync_applied", "sync_audit", "device", "audit_log", "audit_purge_permit", "alembic_version"})
# Operations the server has not settled for good: a pull must not overwrite the records they touch.
UNSETTLED = ("pending", "refused", "conflict")


def read_state(connection: Connection):
    """The row of sync_state (a RowMapping), or None for a copy that is not connected."""
    return connection.execute(select(STATE).where(STATE.c.id == 1)).mappings().first()


def write_state(connection: Connection, **values) -> None:
    if read_state(connection) is None:
        connection.execute(insert(STATE).values(id=1, **values))
    else:
        connection.execute(update(STATE).where(STATE.c.id == 1).values(**values))


def take_sequences(connection: Connection, count: int) -> int:
    """The first of `count` sequence numbers for new operations, taken in the caller's transaction (on SQLite each
    unit of work holds the write lock from its start, so two writers never take the same numbers)."""
    first = connection.execute(select(STATE.c.next_sequence).where(STATE.c.id == 1)).scalar_one()
    connection.execute(update(STATE).where(STATE.c.id == 1).values(next_sequence=first + count))
    return first


def unsettled_records(connection: Connection) -> set[tuple[str, str]]:
    """(table, record id) of every operation still pending, refused or in conflict."""
    rows = connection.execute(select(OUTBOX.c.record_table, OUTBOX.c.record_key)
                              .where(OUTBOX.c.status.in_(UNSETTLED)))
    return {(table, key) for table, key in rows}


def write_child_fields(connection: Connection, table: str, key: str, values: Mapping) -> None:
    """The child tables a pulled row (or a person's choice in a conflict) carries as fields of its parent
    (services.sync.operations.CHILD_FIELDS: a parcours' « referral_reasons »): their rows replaced by the list given.
    A field absent from `values` (a server that does not send it yet) leaves the rows as they are."""
    from services.sync.changes import models_by_table
    from services.sync.operations import CHILD_FIELDS

    for name, child in CHILD_FIELDS.get(table, {}).items():
        if not isinstance(values.get(name), list):
            continue
        child_table, parent_column, value_column = child.link(models_by_table()[table])
        connection.execute(delete(child_table).where(parent_column == key))
        if values[name]:
            connection.execute(insert(child_table), [{parent_column.name: key, value_column.name: value}
                                                     for value in sorted(set(values[name]))])
