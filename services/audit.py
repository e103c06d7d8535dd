"""The audit log: append an entry in the caller's transaction, list entries, purge those past retention.

An entry says who (`actor_key`: the user's key, "system" for the command line, None for what happens before
anyone is logged in: failed logins, the first start) did what (`action`) to which record
(`record_type`, `record_key`) and which fields changed — their names only, never their values, so that the log
never becomes a second copy of the families' data. The database refuses any UPDATE or DELETE of an entry
(triggers of migration 0002); only `purge_older_than` can delete, through a permit valid inside its own
transaction.

Entries form a chain (migration 0005, models.chain): each has its place `seq` and a hash over its content and the
previous entry's hash, so that an entry changed, removed or slipped in by someone who dropped the triggers shows
in `check` (services.integrity). Appends are serialised: on SQLite every unit of work begins IMMEDIATE (models.db),
on PostgreSQL the first append of a transaction takes a transaction-level advisory lock before reading the head.
The purge removes the oldest entries only (a prefix of the chain) and writes, in its own entry, the hash of the
last one removed: the anchor the first remaining entry follows.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from models import AuditEntry, AuditPurgePermit
from models.base import new_id, utcnow
from models.chain import GENESIS, audit_hash
from services.errors import ValidationError
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork

# The database refuses a purge permit younger than this (trigger audit_purge_permit_floor): CNIL recommends
# keeping traceability logs between 6 months and 1 year.
MIN_RETENTION_DAYS = 180
DEFAULT_RETENTION_DAYS = 365
# A hundred years: more is a typo (and `now - timedelta(days=99999999)` falls before year 1).
MAX_RETENTION_DAYS = 36_500

# Any constant: the key of PostgreSQL's transaction-level advisory lock that serialises appends to the chain.
CHAIN_LOCK_KEY = 0x70617263  # "parc"

# Actions, record types and field names are identifiers chosen by the code, never text typed by a user: the
# pattern keeps any value (a name, a note, an address) from slipping into the log by mistake.
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class AuditRecord:
    id: str
    at: datetime  # UTC, timezone-aware
    actor_key: str | None
    action: str
    record_type: str
    record_key: str | None
    changed_fields: tuple[str, ...]


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; everything we store is UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _identifier(value: str, what: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"audit {what} must be an identifier such as 'password_hash', got {value!r}")
    return value


def record(session: Session, actor_key: str | None, action: str, record_type: str, record_key: str | None,
           changed_fields: Iterable[str] = (), *, at: datetime | None = None) -> None:
    """Append one entry in the caller's transaction: it is committed, or rolled back, with the change it
    describes. `changed_fields` holds field NAMES; anything that does not look like an identifier is refused."""
    names = sorted({_identifier(name, "field name") for name in changed_fields})
    entry = AuditEntry(at=as_utc(at) if at else utcnow(), actor_key=actor_key,
                       action=_identifier(action, "action"), record_type=_identifier(record_type, "record type"),
                       record_key=record_key, changed_fields=json.dumps(names))
    _append(session, entry)


def _append(session: Session, entry: AuditEntry, anchor: str | None = None,
            head: tuple[int, str] | None = None) -> None:
    seq, previous = head or _chain_head(session)
    entry.id = entry.id or new_id()
    entry.seq, entry.anchor = seq + 1, anchor
    entry.entry_hash = audit_hash(previous, seq=entry.seq, id=entry.id, at=entry.at, actor_key=entry.actor_key,
                                  action=entry.action, record_type=entry.record_type, record_key=entry.record_key,
                                  changed_fields=entry.changed_fields, anchor=anchor)
    session.add(entry)


def _chain_head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the last entry, counting those of this session not yet flushed (units of work do not
    autoflush, and a service may record several entries before its commit)."""
    pending = [e for e in session.new if isinstance(e, AuditEntry) and e.seq is not None]
    if pending:
        last = max(pending, key=lambda e: e.seq)
        return last.seq, last.entry_hash
    if session.get_bind().dialect.name == "postgresql":
        # Held until the commit: two transactions never read the same head and append the same seq.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    head = session.execute(select(AuditEntry.seq, AuditEntry.entry_hash)
                           .where(AuditEntry.seq == select(func.max(AuditEntry.seq)).scalar_subquery())).first()
    if head is None:
        return 0, GENESIS  # an empty log (the purge always leaves its own entry)
    return head.seq, head.entry_hash or GENESIS


def _to_record(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(id=entry.id, at=as_utc(entry.at), actor_key=entry.actor_key, action=entry.action,
                       record_type=entry.record_type, record_key=entry.record_key,
                       changed_fields=tuple(json.loads(entry.changed_fields)))


def list_entries(uow: UnitOfWork, user: CurrentUser, *, actor_key: str | None = None, action: str | None = None,
                 record_type: str | None = None, record_key: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 1000) -> list[AuditRecord]:
    """Entries matching every filter given, newest first; `since` included, `until` excluded."""
    with uow:
        require(user, "audit.read", session=uow.session)
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id).limit(limit)
        for column, value in ((AuditEntry.actor_key, actor_key), (AuditEntry.action, action),
                              (AuditEntry.record_type, record_type), (AuditEntry.record_key, record_key)):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(AuditEntry.at >= as_utc(since))
        if until is not None:
            query = query.where(AuditEntry.at < as_utc(until))
        return [_to_record(entry) for entry in uow.session.scalars(query)]


def purge_older_than(uow: UnitOfWork, user: CurrentUser, days: int = DEFAULT_RETENTION_DAYS, *,
                     clock: Callable[[], datetime] = utcnow) -> int:
    """Delete the entries older than `days` days and record the purge itself; returns how many were deleted.

    The permit row exists only inside this transaction (inserted, used, deleted before the commit), so no
    other connection ever sees it and a failure anywhere rolls back the purge and the permit together."""
    with uow:
        require(user, "audit.purge", session=uow.session)
        if days < MIN_RETENTION_DAYS:
            raise ValidationError(f"Le journal d'audit doit être conservé au moins {MIN_RETENTION_DAYS} jours.",
                                  field="days")
        if days > MAX_RETENTION_DAYS:
            raise ValidationError(f"Durée de conservation trop longue ({days} jours) : indiquez au plus "
                                  f"{MAX_RETENTION_DAYS} jours (cent ans).", field="days")
        now = as_utc(clock())
        cutoff = now - timedelta(days=days)
        s = uow.session
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
        # Only a prefix of the chain goes: the entries before the first one that is still kept. An entry dated
        # before the cutoff that comes after a kept one (a clock set back) stays, so the chain is never holed.
        first_kept = s.scalar(select(func.min(AuditEntry.seq)).where(AuditEntry.at >= cutoff))
        removed = select(AuditEntry.seq, AuditEntry.entry_hash).where(AuditEntry.at < cutoff)
        if first_kept is not None:
            removed = removed.where(AuditEntry.seq < first_kept)
        last_removed = s.execute(removed.order_by(AuditEntry.seq.desc()).limit(1)).first()
        head = _chain_head(s)  # read before deleting: the purge's entry follows the last entry, even one it removes
        deleted = 0
        if last_removed is not None:
            s.add(AuditPurgePermit(id=1, cutoff=cutoff))
            s.flush()
            deleted = s.execute(delete(AuditEntry).where(AuditEntry.seq <= last_removed.seq)).rowcount
            s.execute(delete(AuditPurgePermit))
            anchor = last_removed.entry_hash
        else:
            anchor = current_anchor(s)
        # The cutoff, not a person, is what this entry is about: "entries before this moment were removed".
        entry = AuditEntry(at=now, actor_key=user.key, action="purge", record_type="audit_log",
                           record_key=cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"), changed_fields="[]")
        _append(s, entry, anchor=anchor, head=head)
        uow.commit()
    return deleted


def current_anchor(session: Session) -> str:
    """The hash the first entry of the log follows: the anchor left by the latest purge, or the chain's start."""
    return session.scalar(select(AuditEntry.anchor).where(AuditEntry.anchor.is_not(None))
                          .order_by(AuditEntry.seq.desc()).limit(1)) or GENESIS
