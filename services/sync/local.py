"""The laptop's side of the sync tables (models.sync: sync_state, sync_outbox, sync_conflict) and the erasure of the
whole local copy.

Rows are read and written through SQLAlchemy Core on the models' tables: the outbox hook adds its rows inside the
commit of a unit of work, where mapped objects would need one more flush, and a pull writes rows of any table.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from models.sync import SyncConflict, SyncOutbox, SyncState

STATE = SyncState.__table__
OUTBOX = SyncOutbox.__table__
CONFLICT = SyncConflict.__table__
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


# -- erasing the copy -----------------------------------------------------------------------------------------

def copy_files(db_file: str | os.PathLike) -> list[Path]:
    """The files that hold this copy's data: the database, its -wal/-shm/-journal, and its backups' folder."""
    from services.backup import backups_folder

    path = Path(db_file)
    files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    folder = backups_folder(path)
    return [f for f in files if f.exists()] + ([folder] if folder.is_dir() else [])


def erase_copy(db_file: str | os.PathLike) -> list[Path]:
    """Delete the local copy (a revoked device): each file overwritten with zeros, then removed. Returns them."""
    erased = []
    for path in copy_files(db_file):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                size = path.stat().st_size
                with open(path, "r+b") as f:  # the data gone from the disk's blocks too, not only its name
                    f.write(b"\0" * size)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError:
                pass  # an unreadable file is still removed below
            path.unlink(missing_ok=True)
        erased.append(path)
    return erased
