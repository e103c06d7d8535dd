"""French formats for the edges (window, PDF, CSV): money, dates, months."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
NBSP = "\u00a0"  # no-break space: "1 234,56 €" never splits across lines


def format_money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    units, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return f"{sign}{NBSP.join(groups)},{cents}{NBSP}€"


def format_date(value: date | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)  # accepts a date or a full timestamp ("…T10:12:00+00:00")
    return value.strftime("%d/%m/%Y")


def month_in_words(month: str) -> str:
    """'2025-03' -> 'mars 2025'."""
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"


def of_month(month: str) -> str:
    """'2025-03' -> 'de mars 2025', '2025-04' -> "d'avril 2025": « de » is elided before avril, août, octobre."""
    words = month_in_words(month)
    return f"d'{words}" if words[0] in "aeiouéè" else f"de {words}"


def format_hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours}{NBSP}h{rest:02d}" if rest else f"{hours}{NBSP}h"
