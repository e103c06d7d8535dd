"""The audit log: who did what to which record, and which fields changed (names only, never values).

The table is append-only: SQLite triggers created by migration 0002 refuse any UPDATE and any DELETE, except
the DELETE of entries older than the cutoff held in `audit_purge_permit`, a one-row table that the retention
purge fills and empties inside its own transaction (see the migration for the reasons of this design). Migration
0005 chains the entries (seq, entry_hash, anchor) so that tampering shows even once the triggers are dropped.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, new_id, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_seq", "seq", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_key: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str | None] = mapped_column(String(64))
    changed_fields: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of field names
    # The entry's place in the chain (1, 2, 3… in the order appended) and models.chain.audit_hash of its content
    # and the previous entry's hash: an entry changed, removed or slipped in breaks the chain (migration 0005).
    seq: Mapped[int | None] = mapped_column(Integer)
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    # Set on a purge's own entry: the hash of the last entry it removed, which the first remaining entry follows.
    anchor: Mapped[str | None] = mapped_column(String(64))


class AuditPurgePermit(Base):
    """At most one row, present only inside the purge transaction: entries older than `cutoff` may be deleted."""

    __tablename__ = "audit_purge_permit"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cutoff: Mapped[datetime] = mapped_column(DateTime(timezone=True))
