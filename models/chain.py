"""The canonical content behind the hash columns of `statement` and `audit_log` (migration 0005).

Each issued statement is chained to the previous one of its convention, each audit entry to the previous entry:
the hash covers the row's content and the previous row's hash, so a row changed, added or removed by someone who
dropped the triggers no longer matches, nor does any row after it. This lives beside the models, not in services,
because it is the meaning of stored columns: migration 0005 fills the hashes of existing rows with these very
functions, and the service that appends rows and the check that verifies them must compute them identically.

Values are passed as the database gives them (money in integer cents, moments as datetimes or SQLite's text):
nothing here depends on the ORM's types, so raw SQL in the migration and the ORM in services agree.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

GENESIS = ""  # the "previous hash" of a chain's first row


def moment_text(value: datetime | str) -> str:
    """A stored moment in one form whatever the backend: SQLite returns naive text or datetimes (UTC by our
    convention), PostgreSQL aware datetimes."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(content: dict) -> str:
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def statement_hash(previous: str, *, convention_id: str, number: str, month: str, sequence: int,
                   issued_at: datetime | str, total_cents: int, payload: str, pdf_sha256: str | None,
                   line_count: int, lines: Iterable[Sequence]) -> str:
    """`lines`: (position, kind, qualification, quantity, unit_price_cents, amount_cents, month) in position order."""
    return _digest({
        "previous": previous, "convention_id": convention_id, "number": number, "month": month,
        "sequence": int(sequence), "issued_at": moment_text(issued_at), "total": int(total_cents),
        "payload": payload, "pdf_sha256": pdf_sha256, "line_count": int(line_count),
        "lines": [[int(p), k, q, int(n), int(u), int(a), m] for p, k, q, n, u, a, m in lines],
    })


def audit_hash(previous: str, *, seq: int, id: str, at: datetime | str, actor_key: str | None, action: str,
               record_type: str, record_key: str | None, changed_fields: str, anchor: str | None) -> str:
    return _digest({
        "previous": previous, "seq": int(seq), "id": id, "at": moment_text(at), "actor_key": actor_key,
        "action": action, "record_type": record_type, "record_key": record_key, "changed_fields": changed_fields,
        "anchor": anchor,
    })
