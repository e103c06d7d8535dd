"""Tables of the sync between laptops and the team server (issue 11, migration 0013).

One schema everywhere: the server fills the first group, a laptop's copy the second, and each leaves the other's
tables empty (a laptop copy is a normal Parcours store plus its outbox).

Server side:
  - `sync_clock`: one row; `last` is the last change number given. Taken with `UPDATE … SET last = last + 1` just
    before a commit, it hands out numbers in commit order (the row lock serialises committing writers).
  - `sync_change`: for each synced record, the number of its latest committed change (one row per record, moved
    forward at each change), its family (scope) and whether it was deleted. A pull reads it by number.
  - `sync_scope`: per user, the families of their scope and since which number, and when one left it (listed once
    in a pull's `removed_families`: every device of the user passes that number once).
  - `sync_applied`: every operation a device pushed, with the result given, written in the transaction that applied
    it: a replay (lost response) gets the stored answer, never a second apply.
  - `sync_audit`: the laptops' own audit entries, stored unchanged beside the server's log with their receipt time.
    Not in `audit_log`: that chain is the server's (seq, hash of the previous entry); a laptop's entries carry their
    own chain, which would have to be re-numbered and re-hashed to enter it. Append-only (triggers).
Laptop side:
  - `sync_state`: one row; the server, the device's token and key, the pull cursor, the next operation sequence.
  - `sync_outbox`: the operations not yet answered (appended in the transaction of the local write), then their
    answer.
  - `sync_conflict`: operations the server refused to apply because a field changed on both sides, shown to a person
    with base, local and server values until resolved.
JSON columns hold text (json.dumps): the same bytes on SQLite and PostgreSQL, and nothing float-ish about money.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, new_id, utcnow

# ---- server ---------------------------------------------------------------------------------------------------


class SyncClock(Base):
    __tablename__ = "sync_clock"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class SyncChange(Base):
    __tablename__ = "sync_change"
    __table_args__ = (Index("ix_sync_change_number", "number", unique=True),
                      Index("ix_sync_change_family_id", "family_id"))

    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the record's `id` (a uuid)
    number: Mapped[int] = mapped_column(Integer)
    family_id: Mapped[str | None] = mapped_column(String(36))  # None: reference data, sent to every reader
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class SyncScope(Base):
    __tablename__ = "sync_scope"

    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_key: Mapped[str] = mapped_column(String(64))  # kept: the family may be gone when its removal is sent
    entered_at: Mapped[int] = mapped_column(Integer)  # the clock when the family entered the user's scope
    left_at: Mapped[int | None] = mapped_column(Integer)  # the clock when it left; None while in scope


class SyncApplied(Base):
    __tablename__ = "sync_applied"
    __table_args__ = (Index("ix_sync_applied_device_sequence", "device_id", "sequence"),)

    operation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(12))  # applied | conflict | refused
    result: Mapped[str] = mapped_column(Text)  # the JSON answered, replayed as is
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyncAudit(Base):
    __tablename__ = "sync_audit"
    __table_args__ = (Index("ix_sync_audit_device_seq", "device_id", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the laptop entry's own id
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_key: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str | None] = mapped_column(String(64))
    changed_fields: Mapped[str] = mapped_column(Text, default="[]")
    seq: Mapped[int | None] = mapped_column(Integer)
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    anchor: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---- laptop ---------------------------------------------------------------------------------------------------


class SyncState(Base):
    __tablename__ = "sync_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    server_url: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str | None] = mapped_column(String(100))  # SHA-256 of the server's certificate, pinned
    device_key: Mapped[str] = mapped_column(String(64))
    device_token: Mapped[str] = mapped_column(Text)  # the copy is encrypted at rest (SQLCipher)
    user_key: Mapped[str] = mapped_column(String(64))  # the enrolled user: every local write acts as them
    user_id: Mapped[str] = mapped_column(String(36))
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # the last change number pulled
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)  # French, shown in the status bar


class SyncOutbox(Base):
    __tablename__ = "sync_outbox"
    __table_args__ = (Index("ix_sync_outbox_sequence", "sequence", unique=True),
                      Index("ix_sync_outbox_status", "status"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)  # the operation's uuid
    sequence: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))  # services.sync.operations
    record_table: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(64))  # the record's id (the operation's "record")
    base_version: Mapped[int | None] = mapped_column(Integer)  # None: a creation
    fields: Mapped[str] = mapped_column(Text, default="{}")  # JSON {field: {"base": …, "value": …}}
    actor_key: Mapped[str] = mapped_column(String(64))
    local_time: Mapped[str] = mapped_column(String(40))  # ISO-8601 with offset, informative only
    # pending | applied | conflict | refused | duplicate
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)  # the server's French refusal
    result: Mapped[str | None] = mapped_column(Text)  # the server's answer (JSON)
    server_version: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncConflict(Base):
    __tablename__ = "sync_conflict"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    operation_id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    record_table: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text)  # JSON {field: {"base": …, "local": …, "server": …}}
    server_version: Mapped[int | None] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(Text)  # the whole operation (JSON), to send again once resolved
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_key: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(Text)  # JSON: what the person chose, field by field
