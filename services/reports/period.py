"""The period a report covers: a calendar year, a school year or any span of days (both ends included)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.errors import ValidationError
from services.formatting import format_date


@dataclass(frozen=True)
class ReportPeriod:
    start: date
    end: date  # inclusive

    @classmethod
    def calendar_year(cls, year: int) -> "ReportPeriod":
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def school_year(cls, first_year: int) -> "ReportPeriod":
        return cls(date(first_year, 9, 1), date(first_year + 1, 8, 31))

    def label(self) -> str:
        if (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) \
                and self.start.year == self.end.year:
            return f"Année {self.start.year}"
        if (self.start.month, self.start.day, self.end.month, self.end.day) == (9, 1, 8, 31) \
                and self.end.year == self.start.year + 1:
            return f"Année scolaire {self.start.year}-{self.end.year}"
        return f"du {format_date(self.start)} au {format_date(self.end)}"

    def months(self) -> tuple[str, ...]:
        """The months the period touches, as 'YYYY-MM', in order."""
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(out)


def checked(period: ReportPeriod) -> ReportPeriod:
    """The period of a report, refused in French when it is not one (not dates, or its end before its start)."""
    if not isinstance(period, ReportPeriod) or not isinstance(period.start, date) or not isinstance(period.end, date):
        raise ValidationError("Choisissez la période du bilan : une date de début et une date de fin.",
                              field="period")
    if period.start > period.end:
        raise ValidationError(f"La période est à l'envers : elle commence le {format_date(period.start)} et finit "
                              f"le {format_date(period.end)}. La date de début doit précéder la date de fin.",
                              field="period")
    return period
