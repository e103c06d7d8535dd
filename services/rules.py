"""Small rules of the programme shared by import, billing and the window."""
from __future__ import annotations

from datetime import date

MIN_AGE, MAX_AGE = 2, 16


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def orientation_in_force(status: str, decided_on: date | None, end_date: date | None, day: date) -> bool:
    """A validated orientation applies from its decision day; an ended one still covers days up to its end."""
    if status not in ("validated", "ended") or decided_on is None or decided_on > day:
        return False
    return end_date is None or end_date >= day


def iso_week(day: date) -> int:
    """An identifier of the ISO week (Monday to Sunday) holding the day: 1 January of year 1 was a Monday."""
    return (day.toordinal() - 1) // 7
