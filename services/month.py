"""A month of the programme, as "YYYY-MM" everywhere it is typed, stored or passed between layers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from services.errors import ValidationError

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# The months a programme can plausibly concern: a typo such as 9999-12 or 0000-01 is refused in French instead of
# overflowing the calendar (date(10000, 1, 1) does not exist) somewhere inside a computation.
FIRST_YEAR, LAST_YEAR = 2000, 2199


def refuse_implausible(text: str) -> None:
    """A well-formed month outside FIRST_YEAR..LAST_YEAR is refused in French (the form is checked elsewhere)."""
    match = _MONTH.match(text) if isinstance(text, str) else None
    if match is not None and not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise ValidationError(f"Mois hors limites « {text} » : Parcours accepte les mois de {FIRST_YEAR}-01 à "
                              f"{LAST_YEAR}-12.", field="month")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        match = _MONTH.match(text or "") if isinstance(text, str) else None
        if match is None:
            raise ValidationError(f"Mois illisible « {text} » : écrivez-le AAAA-MM (par exemple 2025-03).",
                                  field="month")
        refuse_implausible(text)
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> "Month":
        return cls(day.year, day.month)

    @property
    def bounds(self) -> tuple[date, date]:
        """The first and the last day of the month."""
        return self.first_day, self.next().first_day - timedelta(days=1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.number, 1)

    def next(self) -> "Month":
        return Month(self.year + self.number // 12, self.number % 12 + 1)

    def previous(self) -> "Month":
        return Month(self.year - (self.number == 1), 12 if self.number == 1 else self.number - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"
