"""Optimistic concurrency: a form remembers the `updated_at` of what it read and the service refuses a save based on
an older read, instead of silently undoing a newer edit (a second dialog, another computer)."""
from __future__ import annotations

from datetime import datetime, timezone

from services.errors import StaleEdit


def _instant(value: datetime) -> datetime:
    # SQLite hands back naive UTC, PostgreSQL aware datetimes: compare them as naive UTC.
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def same_version(current: datetime | None, based_on: datetime | None) -> bool:
    if current is None or based_on is None:
        return current is None and based_on is None
    return _instant(current) == _instant(based_on)


def ensure_current(record, based_on: datetime | None, what: str) -> None:
    """Refuse, with a French message naming `what` (« cette séance »), a save based on an older read of `record`.
    `based_on` is the `updated_at` the form read; None means the caller read nothing (command line, import)."""
    if based_on is None:
        return
    if not same_version(record.updated_at, based_on):
        raise StaleEdit(f"Quelqu'un a modifié {what} entre-temps (sur cet ordinateur ou un autre) : "
                        "votre saisie n'a pas été enregistrée pour ne pas effacer la version plus récente. "
                        "Fermez ce formulaire, rouvrez la fiche et refaites la correction.")
