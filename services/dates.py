"""Dates as people type them: the one parser behind every date field of the window.

`parse_french_date` reads « 7/11/2025 », « 07/11/2025 », « 07112025 », « 071125 », « 7/11/25 », « 07-11-2025 »,
« 07.11.2025 », « 2025-11-07 » and « 7 novembre 2025 » (« 1er », accents optional); a two-digit year is 20xx.
What it cannot read is refused with a ValidationError that says precisely what is wrong, in French.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date

from services.errors import ValidationError
from services.formatting import MONTHS

EARLIEST_YEAR, LATEST_YEAR = 1900, 2199  # beyond, a year is a typo (« 0205 », « 20255 »…)
EXAMPLE = "07/11/2025"
INCOMPLETE = f"Date incomplète : écrivez-la jj/mm/aaaa (par exemple {EXAMPLE})."
UNREADABLE = f"Date illisible : écrivez-la jj/mm/aaaa (par exemple {EXAMPLE})."
EMPTY = "Indiquez la date."

_SEP = r"\s*[/.\-\s]\s*"
_NUMERIC = re.compile(rf"([0-9]{{1,2}}){_SEP}([0-9]{{1,2}}){_SEP}([0-9]+)")
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_PARTIAL = re.compile(rf"[0-9]{{1,2}}(?:{_SEP}[0-9]{{0,2}})?(?:{_SEP}[0-9]{{0,3}})?(?:{_SEP})?")
_WORDS = re.compile(r"([0-9]{1,2}|1er)\s+([a-z]+)\.?(?:\s+([0-9]+))?")


def _plain(text: str) -> str:
    """Lower case, accents dropped (« Février » -> « fevrier »)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_MONTH_NUMBERS = {_plain(name): number for number, name in enumerate(MONTHS, start=1)}


def _month_number(word: str) -> int | None:
    """« novembre », « nov », « fevr » -> the month; None for a word that is no month (or an ambiguous start)."""
    if word in _MONTH_NUMBERS:
        return _MONTH_NUMBERS[word]
    found = {n for name, n in _MONTH_NUMBERS.items() if len(word) >= 3 and name.startswith(word)}
    return found.pop() if len(found) == 1 else None


def _year(digits: str) -> int:
    if len(digits) == 2:
        return 2000 + int(digits)
    if len(digits) != 4:
        raise ValidationError(INCOMPLETE if len(digits) < 4 else UNREADABLE)
    year = int(digits)
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValidationError(f"L'année {digits} n'est pas plausible : écrivez-la sur quatre chiffres "
                              f"(par exemple 2025).")
    return year


def make_date(year: int, month: int, day: int) -> date:
    """The date, or the French reason it does not exist."""
    if not 1 <= month <= 12:
        raise ValidationError(f"Le mois {month} n'existe pas.")
    length = calendar.monthrange(year, month)[1]
    if not 1 <= day <= 31:
        raise ValidationError(f"Le jour {day} n'existe pas.")
    if day > length:
        month_name = f"{MONTHS[month - 1]} {year}"
        raise ValidationError(f"Le {day} {month_name} n'existe pas ({month_name} a {length} jours).")
    return date(year, month, day)


def parse_french_date(text: str | None) -> date:
    """The date in `text`, as typed in a French form; raises ValidationError (no field: the caller names it)."""
    raw = (text or "").strip()
    if not raw:
        raise ValidationError(EMPTY)
    if m := _ISO.fullmatch(raw):
        return make_date(_year(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.fullmatch(raw):
        return make_date(_year(m[3]), int(m[2]), int(m[1]))
    if raw.isascii() and raw.isdigit():
        if len(raw) == 8:
            return make_date(_year(raw[4:]), int(raw[2:4]), int(raw[:2]))
        if len(raw) == 6:
            return make_date(_year(raw[4:]), int(raw[2:4]), int(raw[:2]))
        raise ValidationError(INCOMPLETE if len(raw) < 8 else UNREADABLE)
    if _PARTIAL.fullmatch(raw):
        raise ValidationError(INCOMPLETE)
    if m := _WORDS.fullmatch(_plain(raw)):
        month = _month_number(m[2])
        if month is not None:
            if m[3] is None:
                raise ValidationError(INCOMPLETE)
            return make_date(_year(m[3]), month, 1 if m[1] == "1er" else int(m[1]))
    raise ValidationError(UNREADABLE)
