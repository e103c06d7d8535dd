"""Hours delivered: the durations of held sessions, per family, per intervenant and per month; CSV/XLSX export.

CSV follows what French spreadsheets open without a wizard: UTF-8 with BOM, ';' separator, decimal comma.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import func, select

from models import Family, HomeSession, Intervenant
from services.billing.rules import month_bounds
from services.errors import ValidationError
from services.file_faults import write_atomically  # FileFault (field "path") naming the file, in French
from services.formatting import month_in_words
from services.home_sessions import scope_to_user
from services import audit
from services.permissions import CurrentUser, require
from services.spreadsheet_cells import csv_row, sheet_row
from services.uow import UnitOfWork


@dataclass(frozen=True)
class HoursLine:
    month: str  # YYYY-MM
    family_id: str
    family_key: str
    family_name: str
    intervenant_id: str
    intervenant_name: str
    qualification: str
    sessions: int
    minutes: int


@dataclass(frozen=True)
class Total:
    id: str
    name: str
    sessions: int
    minutes: int


@dataclass(frozen=True)
class ActivityReport:
    month: str
    lines: tuple[HoursLine, ...]
    by_family: tuple[Total, ...]
    by_intervenant: tuple[Total, ...]

    @property
    def total_minutes(self) -> int:
        return sum(line.minutes for line in self.lines)

    @property
    def total_sessions(self) -> int:
        return sum(line.sessions for line in self.lines)


@dataclass(frozen=True)
class FamilyHours:
    by_month: tuple[Total, ...]  # id = name = 'YYYY-MM' (newest first)
    by_intervenant: tuple[Total, ...]
    lines: tuple[HoursLine, ...]

    @property
    def total_minutes(self) -> int:
        return sum(line.minutes for line in self.lines)


def _check_month(month: str) -> str:
    try:
        month_bounds(month)
    except (ValueError, IndexError):
        raise ValidationError(f"Mois invalide : « {month} » (attendu AAAA-MM).", field="month") from None
    return month


def _totals(lines, key, name) -> tuple[Total, ...]:
    acc: dict[str, list] = {}
    for line in lines:
        entry = acc.setdefault(key(line), [name(line), 0, 0])
        entry[1] += line.sessions
        entry[2] += line.minutes
    return tuple(Total(k, n, s, m) for k, (n, s, m) in acc.items())


def monthly_activity(uow: UnitOfWork, user: CurrentUser, month: str) -> ActivityReport:
    with uow:
        require(user, "activity.read", session=uow.session)
        first, last = month_bounds(_check_month(month))
        query = scope_to_user(
            select(Family.id, Family.key, Family.name, Intervenant.id, Intervenant.name,
                   Intervenant.qualification, func.count(HomeSession.id), func.sum(HomeSession.duration_minutes))
            .select_from(HomeSession).join(Family, Family.id == HomeSession.family_id)
            .join(Intervenant, Intervenant.id == HomeSession.intervenant_id)
            .where(HomeSession.status == "held", HomeSession.date.between(first, last))
            .group_by(Family.id, Family.key, Family.name, Intervenant.id, Intervenant.name, Intervenant.qualification)
            .order_by(Family.name, Intervenant.name), user)
        lines = [HoursLine(month, *row) for row in uow.session.execute(query)]
        # the families' names and hours of the month: one « read » entry per call (record type activity, the month)
        audit.record(uow.session, user.key, "read", "activity", month)
        uow.commit()
    by_family = sorted(_totals(lines, lambda l: l.family_id, lambda l: l.family_name), key=lambda t: t.name)
    by_intervenant = sorted(_totals(lines, lambda l: l.intervenant_id, lambda l: l.intervenant_name),
                            key=lambda t: t.name)
    return ActivityReport(month, tuple(lines), tuple(by_family), tuple(by_intervenant))


def months_with_activity(uow: UnitOfWork, user: CurrentUser) -> tuple[str, ...]:
    """Every month that has a held session, newest first."""
    with uow:
        require(user, "activity.read", session=uow.session)
        query = scope_to_user(select(HomeSession.date).distinct().join(Family, Family.id == HomeSession.family_id)
                              .where(HomeSession.status == "held"), user)
        days = uow.session.scalars(query).all()
    return tuple(sorted({d.strftime("%Y-%m") for d in days}, reverse=True))


def default_month(months: tuple[str, ...], today: date) -> str:
    """The latest month with activity that is not in the future, else the current month."""
    current = today.strftime("%Y-%m")
    return next((m for m in months if m <= current), current)


def family_hours(uow: UnitOfWork, user: CurrentUser, family_id: str) -> FamilyHours:
    """A family's hours; each call leaves a « read » entry (record type family_hours, the family's key)."""
    with uow:
        require(user, "family.read", session=uow.session)
        require(user, "family.read", family_id=family_id, session=uow.session)
        hours = family_hours_in(uow, family_id)
        family_key = uow.session.scalar(select(Family.key).where(Family.id == family_id))
        if family_key is not None:
            audit.record(uow.session, user.key, "read", "family_hours", family_key)
            uow.commit()
        return hours


def family_hours_in(uow: UnitOfWork, family_id: str) -> FamilyHours:
    """The same, inside a unit of work the caller already opened."""
    rows = uow.session.execute(
        select(HomeSession.date, HomeSession.duration_minutes, Family.key, Family.name, Intervenant.id,
               Intervenant.name, Intervenant.qualification)
        .join(Family, Family.id == HomeSession.family_id)
        .join(Intervenant, Intervenant.id == HomeSession.intervenant_id)
        .where(HomeSession.family_id == family_id, HomeSession.status == "held")).all()
    acc: dict[tuple, list] = defaultdict(lambda: [0, 0])
    for day, minutes, fkey, fname, iid, iname, q in rows:
        entry = acc[(day.strftime("%Y-%m"), fkey, fname, iid, iname, q)]
        entry[0] += 1
        entry[1] += minutes
    lines = tuple(HoursLine(month, family_id, fkey, fname, iid, iname, q, n, m)
                  for (month, fkey, fname, iid, iname, q), (n, m) in sorted(acc.items(), reverse=True))
    by_month = _totals(lines, lambda l: l.month, lambda l: l.month)
    by_intervenant = sorted(_totals(lines, lambda l: l.intervenant_id, lambda l: l.intervenant_name),
                            key=lambda t: -t.minutes)
    return FamilyHours(by_month, tuple(by_intervenant), lines)


# -- export -------------------------------------------------------------------------------------------------

HEADERS = ("Mois", "Code famille", "Famille", "Intervenant·e", "Qualification", "Séances réalisées",
           "Durée (minutes)", "Heures")


def decimal_hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def activity_csv(report: ActivityReport) -> str:
    """Texts are neutralised (services.spreadsheet_cells: no formula, no illegal character), numbers stay numbers."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(csv_row(HEADERS))
    for line in report.lines:
        writer.writerow(csv_row((month_in_words(line.month), line.family_key, line.family_name, line.intervenant_name,
                                 line.qualification, line.sessions, line.minutes, decimal_hours(line.minutes))))
    writer.writerow(csv_row(("Total", "", "", "", "", report.total_sessions, report.total_minutes,
                             decimal_hours(report.total_minutes))))
    return out.getvalue()


def export_csv(report: ActivityReport, path: str | Path) -> None:
    write_atomically(path, ("\ufeff" + activity_csv(report)).encode("utf-8"))


def export_xlsx(report: ActivityReport, path: str | Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Heures"
    sheet.append([f"Heures réalisées — {month_in_words(report.month)}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for line in report.lines:
        # sheet_row: a name that looks like a formula stays text, a control character cannot break the export
        sheet.append(sheet_row([month_in_words(line.month), line.family_key, line.family_name, line.intervenant_name,
                                line.qualification, line.sessions, line.minutes, float(decimal_hours(line.minutes))]))
    sheet.append(["Total", None, None, None, None, report.total_sessions, report.total_minutes,
                  float(decimal_hours(report.total_minutes))])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=3, min_col=8, max_col=8):
        row[0].number_format = "0.00"
    for column, width in zip("ABCDEFGH", (16, 13, 24, 24, 13, 17, 16, 10)):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    for title, totals in (("Par famille", report.by_family), ("Par intervenant", report.by_intervenant)):
        extra = book.create_sheet(title)
        extra.append([title.replace("Par ", "").capitalize(), "Séances réalisées", "Durée (minutes)", "Heures"])
        for cell in extra[1]:
            cell.font = Font(bold=True)
        for t in totals:
            extra.append(sheet_row([t.name, t.sessions, t.minutes, float(decimal_hours(t.minutes))]))
        extra.column_dimensions["A"].width = 28
        for column in "BCD":
            extra.column_dimensions[column].width = 17
    buffer = io.BytesIO()
    book.save(buffer)
    write_atomically(path, buffer.getvalue())
