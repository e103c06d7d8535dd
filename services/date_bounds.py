"""The plausible range of every date Parcours stores, in one place (docs/dataset-format.md, « Types de valeurs »).

A date outside these bounds is a typing slip or a forged file, never history: a session dated 9999-12-31 was once
accepted, and then every statement of 9999-12 failed (no month after it). Birth dates reach back to 1900 (a
guardian's or a late record's); every event of the programme (sessions, EPS, orientations, conventions, parcours,
meetings, consents, closings) is after 2000, the PRE themselves being younger. 2199 leaves room for any real plan while
keeping "the month after" computable everywhere.
"""
from __future__ import annotations

from datetime import date

BIRTH = (date(1900, 1, 1), date(2199, 12, 31))
EVENT = (date(2000, 1, 1), date(2199, 12, 31))
BIRTH_FIELDS = frozenset({"birth_date"})


def bounds_for(field: str) -> tuple[date, date]:
    return BIRTH if field in BIRTH_FIELDS else EVENT


def out_of_bounds(day: date, bounds: tuple[date, date]) -> str | None:
    """Why `day` is refused, in French without its subject, or None."""
    first, last = bounds
    if first <= day <= last:
        return None
    return (f"date hors de la période admise « {day.isoformat()} » "
            f"(du {first:%d/%m/%Y} au {last:%d/%m/%Y})")


def require_plausible(day: date | None, field: str, what: str, bounds: tuple[date, date] = EVENT) -> None:
    """Refuse, on `field`, a date outside `bounds` (a slip of the keyboard: 2205 for 2025); `what` names it in French
    (« La date de la séance »). None passes: whether a date is required is the caller's rule."""
    if day is None:
        return
    first, last = bounds
    if not first <= day <= last:
        from services.errors import ValidationError

        raise ValidationError(f"{what} ({day:%d/%m/%Y}) est hors de la période admise : entre le "
                              f"{first:%d/%m/%Y} et le {last:%d/%m/%Y}.", field=field)
