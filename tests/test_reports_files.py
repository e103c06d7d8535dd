"""The exported bilans: the PDF's text (pypdf) and the XLSX's cells (openpyxl), on the small programme."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from services.formatting import NBSP
from services.permissions import SYSTEM
from services.reports import (Report, ReportPeriod, ReportTable, bilan_report, caf_report, report_pdf, report_xlsx,
                              suppress_small_counts)
from services.reports.xlsx import HEADER_ROW, MONEY_FORMAT, sheet_names
from tests.test_reports_programme import TODAY, load_reports_programme

YEAR = ReportPeriod.calendar_year(2025)


@pytest.fixture
def reports(uow):
    load_reports_programme(uow)
    return bilan_report(uow(), SYSTEM, YEAR), caf_report(uow(), SYSTEM, YEAR, today=TODAY)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages).replace(NBSP, " ")


def test_the_bilan_pdf_names_the_programme_the_period_and_every_table(reports):
    bilan, _ = reports
    text = pdf_text(report_pdf(bilan))
    for expected in ("Bilan annuel du Programme de Réussite Éducative", "DRE de Bourg-en-Bresse", "Année 2025",
                     "Chiffres exacts — usage interne", "Enfants suivis sur la période", "Les Vennes",
                     "Claire Martin", "Parcours en cours au 31/12/2025", "512,0", "469,3"):
        assert expected in text, expected
    for table in bilan.tables:  # each title, whatever the lines it wraps over
        assert " ".join(table.title.split()[:4]) in " ".join(text.split()), table.title


def test_the_suppressed_pdf_says_so_and_shows_no_small_count(reports):
    bilan, _ = reports
    text = pdf_text(report_pdf(suppress_small_counts(bilan)))
    assert "Effectifs inférieurs à 5 masqués" in text and "Chiffres exacts" not in text
    assert "< 5" in text


def test_the_caf_pdf_prints_money_in_french(reports):
    _, caf = reports
    text = pdf_text(report_pdf(caf))
    assert "Annexe CAF / Département" in text
    for amount in ("328,53 €", "25 000,00 €", "131,13 €", "358,53 €"):
        assert amount in text, amount
    assert "7,25" in text and "janvier 2025" in text


def test_a_long_label_is_wrapped_not_cut(reports):
    bilan, _ = reports
    label = "Éducation nationale — direction d'école ou d'établissement"
    words = " ".join(pdf_text(report_pdf(bilan)).split())
    assert label in words or label.replace(" d'établissement", "") in words
    assert "d'établissement" in words


def test_the_xlsx_has_one_sheet_per_table_with_typed_cells(reports):
    bilan, caf = reports
    for report in (bilan, caf):
        book = load_workbook(io.BytesIO(report_xlsx(report)))
        assert book.sheetnames == sheet_names(report)
        assert len(set(n.lower() for n in book.sheetnames)) == len(report.tables)
        assert all(len(n) <= 31 for n in book.sheetnames)
        for table, name in zip(report.tables, book.sheetnames):
            sheet = book[name]
            assert sheet["A1"].value == table.title
            assert [c.value for c in sheet[HEADER_ROW]] == list(table.headers)
            assert all(c.font.bold for c in sheet[HEADER_ROW])
            for offset, row in enumerate(table.rows):
                cells = [c.value for c in sheet[HEADER_ROW + 1 + offset]]
                assert cells == [float(v) if isinstance(v, Decimal) else v for v in row]


def test_money_cells_are_numbers_with_a_euro_format(reports):
    _, caf = reports
    book = load_workbook(io.BytesIO(report_xlsx(caf)))
    sheet = book["Montants et plafonds"]
    total = sheet.cell(row=HEADER_ROW + 1, column=6)
    assert total.value == 328.53 and total.number_format == MONEY_FORMAT
    assert sheet.cell(row=HEADER_ROW + 1, column=2).number_format == "#,##0"


def test_the_suppressed_xlsx_holds_no_small_count(reports):
    bilan, _ = reports
    book = load_workbook(io.BytesIO(report_xlsx(suppress_small_counts(bilan))))
    counted = [name for table, name in zip(bilan.tables, book.sheetnames) if table.counts_children]
    assert len(counted) == len(bilan.tables) - 1  # the EPS's meetings and delays are not counts of children
    numbers = [c.value for name in counted for row in book[name].iter_rows(min_row=HEADER_ROW + 1) for c in row
               if isinstance(c.value, int)]
    assert numbers and not [v for v in numbers if 1 <= v <= 4]
    assert "Effectifs inférieurs à 5 masqués" in book.worksheets[0]["A3"].value


def test_a_label_looking_like_a_formula_stays_text():
    table = ReportTable("qpv", "=HYPERLINK(\"http://x\")", ("Quartier", "Enfants"), (("=1+1", 7), ("@SUM(1)", 6)))
    book = load_workbook(io.BytesIO(report_xlsx(Report("bilan", "Bilan", YEAR, "+DRE", (table,)))))
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "'=HYPERLINK(\"http://x\")"
    assert sheet.cell(row=HEADER_ROW + 1, column=1).value == "'=1+1"
    assert sheet.cell(row=HEADER_ROW + 2, column=1).value == "'@SUM(1)"
    assert sheet["A2"].value.startswith("Bilan")


def test_sheet_names_are_unique_and_short_for_unknown_tables():
    tables = tuple(ReportTable(f"k{i}", "Un titre très long pour un tableau : [annexe] / détail", ("A", "B"), ())
                   for i in range(3))
    names = sheet_names(Report("bilan", "Bilan", YEAR, "DRE", tables))
    assert len(set(names)) == 3 and all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
