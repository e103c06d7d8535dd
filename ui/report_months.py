"""Months as a chart's x axis shows them: « janv. 25 » for 2025-01 or « janvier 2025 », any other label as is."""
from __future__ import annotations

import re

from services.formatting import MONTHS

SHORT = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
_ISO = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WORDS = re.compile(r"^(" + "|".join(MONTHS) + r")\s+(\d{4})$", re.IGNORECASE)


def month_parts(label: str) -> tuple[int, int] | None:
    """(year, month) of « 2025-03 » or « mars 2025 », else None."""
    text = str(label).strip()
    if match := _ISO.match(text):
        return int(match[1]), int(match[2])
    if match := _WORDS.match(text):
        return int(match[2]), MONTHS.index(match[1].lower()) + 1
    return None


def short_month(label: str) -> str:
    parts = month_parts(label)
    if parts is None:
        return str(label)
    year, month = parts
    return f"{SHORT[month - 1]} {year % 100:02d}"


def long_month(label: str) -> str:
    parts = month_parts(label)
    return f"{MONTHS[parts[1] - 1]} {parts[0]}" if parts else str(label)
