"""A report as an XLSX workbook: one sheet per table, under the report's title, programme, period and mention.

Counts are written as numbers, hours and means as numbers with their decimals, money with a euro format (Decimal
as it is: openpyxl writes it as a number, no float on the way); texts go through spreadsheet_cells.text_cell, so
that a label starting with « = » stays text. Sheet names: the table's title cut to Excel's 31 characters, without
the characters Excel refuses, made unique.
"""
from __future__ import annotations

import io
import re
from decimal import Decimal

from services.reports.model import Report, ReportTable
from services.reports.pdf import mention
from services.reports.tables import TOTAL
from services.reports.values import is_money
from services.spreadsheet_cells import text_cell

MAX_SHEET_NAME = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
COUNT_FORMAT, MONEY_FORMAT = "#,##0", '#,##0.00\\ "€"'
HEADER_ROW = 5
# Short sheet names for the tables of the two reports; another table gets its title cut at a word.
SHEET_NAMES = {
    "overview": "Suivis, entrées, sorties", "not_taken_on": "Non prises en charge", "sex_by_age": "Sexe et âge",
    "school_level": "Niveau scolaire et REP", "qpv": "QPV", "referral_source_by_reason": "Origine et motifs",
    "support_profile": "Profil d'accompagnement", "duration_summary": "Durée des parcours",
    "duration_bands": "Parcours par durée", "actions_by_partner": "Actions et partenaires",
    "exits_by_reason": "Motifs de sortie", "eps": "EPS", "children_by_referent": "Enfants par référent",
    "caf_supported": "Familles et enfants", "caf_by_qualification": "Par qualification",
    "caf_hours_by_month": "Heures par mois", "caf_billing": "Montants et plafonds",
    "caf_spending_by_month": "Dépense par mois",
}


def sheet_names(report: Report) -> list[str]:
    names: list[str] = []
    for table in report.tables:
        base = _FORBIDDEN.sub(" ", SHEET_NAMES.get(table.key) or _cut(table.title)).strip().strip("'") or "Tableau"
        name, n = base[:MAX_SHEET_NAME].rstrip(), 1
        while name.lower() in (x.lower() for x in names):
            n += 1
            suffix = f" ({n})"
            name = base[:MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
        names.append(name)
    return names


def _cut(title: str) -> str:
    words, out = title.split(), ""
    for word in words:
        if len(out) + len(word) + 1 > MAX_SHEET_NAME:
            break
        out = f"{out} {word}".strip()
    return out or title[:MAX_SHEET_NAME]


def report_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for table, name in zip(report.tables, sheet_names(report)):
        sheet = book.create_sheet(name)
        sheet.append([text_cell(table.title)])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append([text_cell(f"{report.title} — {report.programme_name}")])
        sheet.append([text_cell(f"{report.period.label()} — {mention(report)}")])
        sheet.append([])
        sheet.append([text_cell(h) for h in table.headers])
        for cell in sheet[HEADER_ROW]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
            written = sheet[sheet.max_row]
            for index, cell in enumerate(written):
                if index >= table.label_columns:
                    cell.number_format = _format(table, index, row[index])
                    cell.alignment = Alignment(horizontal="right")
                if row[0] == TOTAL:
                    cell.font = Font(bold=True)
        for index in range(len(table.headers)):
            width = 42 if index < table.label_columns else 15
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=table.label_columns + 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value):
    return text_cell(value) if isinstance(value, str) else value


def _format(table: ReportTable, index: int, value) -> str:
    if isinstance(value, Decimal):
        if is_money(table, index):
            return MONEY_FORMAT
        places = max(0, -value.as_tuple().exponent)
        return "#,##0" + ("." + "0" * places if places else "")
    return COUNT_FORMAT if isinstance(value, int) else "@"
