"""« Bilans »: the page computes a report off the GUI thread and shows every table with its chart; the exports are
real files (read back with pypdf and openpyxl), suppressed (« < 5 ») unless « Chiffres exacts » is ticked; a bad
period or a file that cannot be written is said in French."""
from __future__ import annotations

import io
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from models.db import make_engine, migrate
from services.demo import load_demo
from services.formatting import NBSP
from services.reports import Report, ReportPeriod, ReportTable, bilan_report, suppress_small_counts
from services.uow import unit_of_work_factory
from tests.programme_fixture import example_handles
from ui.charts import BarChart, LineChart
from ui.pages.reports_page import CALENDAR, FREE, SCHOOL, ReportsPage, file_name
from ui.report_table import ReportProxy, ReportTableModel

WAIT = 30_000
DEMO_DAY = date(2025, 12, 19)  # the demo's twelve months are the year 2025


def _page(qtbot, programme, today, user=None) -> ReportsPage:
    page = ReportsPage(programme.uow, user or programme.coordinator, today=today)
    qtbot.addWidget(page)
    page.resize(1200, 780)
    page.show()
    return page


def _show(qtbot, page: ReportsPage, kind: str = "bilan", period: str = CALENDAR, year: int = 2025, **dates) -> Report:
    page.choose_kind(kind)
    page.choose_period(period, year, **dates)
    with qtbot.waitSignal(page.report_shown, timeout=WAIT):
        page.show_button.click()
    return page.report


def _error_boxes():
    return [w for w in QApplication.topLevelWidgets() if w.objectName() == "errorDialog" and w.isVisible()]


def _export(qtbot, page: ReportsPage, path, kind: str) -> None:
    with qtbot.waitSignal(page.exported, timeout=WAIT):
        page.export_to(str(path), kind)


def _small(values) -> Counter:
    return Counter(v for v in values if isinstance(v, int) and not isinstance(v, bool) and 0 < v < 5)


def _pdf_text(path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def _xlsx_values(path) -> list:
    book = load_workbook(path)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]


def test_the_bilan_is_computed_and_every_table_shown_with_its_chart(qtbot, programme, today):
    page = _page(qtbot, programme, today)
    report = _show(qtbot, page)
    expected = bilan_report(programme.uow(), programme.coordinator, ReportPeriod.calendar_year(2025))
    assert report == expected and report.exact
    assert page.title.text() == f"{report.title} — {report.programme_name} — Année 2025"
    assert [s.table for s in page.sections] == list(report.tables)
    for section in page.sections:
        assert section.model.rowCount() == len(section.table.rows)
        assert bool(section.charts) == (section.table.chart is not None)
        shown = [section.proxy.index(r, 0).data() for r in range(section.proxy.rowCount())]
        assert shown == [row[0] for row in section.table.rows]  # the report's order until the user sorts
    assert page.note.isVisible() and "< 5" in page.note.text()


def test_the_caf_annex_shows_hours_and_spending_by_month_in_french(qtbot, programme, today):
    page = _page(qtbot, programme, today)
    report = _show(qtbot, page, "caf")
    assert report.kind == "caf"
    spending = next(s for s in page.sections if s.table.key == "caf_spending_by_month")
    march = spending.proxy.index(2, 0)
    assert march.data() == "mars 2025"
    assert spending.proxy.index(2, 1).data() == f"207,33{NBSP}€"
    charts = [part.widget for part in spending.charts]
    assert len(charts) == 1 and isinstance(charts[0], LineChart)
    names = [(s.name, s.dashed) for s in charts[0].series()]
    assert ("Plafond", True) in names and ("Cumul facturé", False) in names


def test_on_the_demo_programme_both_reports_show_every_table(qtbot, tmp_path):
    engine = make_engine(str(tmp_path / "demo.sqlite"))
    migrate(engine)
    uow = unit_of_work_factory(engine)
    load_demo(uow(), today=DEMO_DAY)
    coordinator = next(u for u in __import__("services.directory", fromlist=["x"]).list_users(uow())
                       if u.role == "coordinator")
    page = ReportsPage(uow, coordinator, today=lambda: DEMO_DAY)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    for kind in ("bilan", "caf"):
        report = _show(qtbot, page, kind)
        assert report.tables and len(page.sections) == len(report.tables)
        for section in page.sections:
            for part in section.charts:
                image = part.widget.grab().toImage()
                colors = {image.pixel(x, y) for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)}
                assert len(colors) > 3, section.table.key
    engine.dispose()


def test_the_default_file_names(programme, today, qtbot):
    assert file_name("bilan", ReportPeriod.calendar_year(2025), "pdf") == "bilan-pre-2025.pdf"
    assert file_name("caf", ReportPeriod.school_year(2024), "xlsx") == "annexe-caf-2024-2025.xlsx"
    assert file_name("bilan", ReportPeriod(date(2025, 3, 1), date(2025, 6, 30)), "pdf") == \
        "bilan-pre-2025-03-01-au-2025-06-30.pdf"
    page = _page(qtbot, programme, today)
    _show(qtbot, page)
    asked = []
    page.choose_path = lambda kind, suggested: asked.append(suggested)  # the user cancels the dialog
    page.pdf_button.click()
    assert asked == ["bilan-pre-2025.pdf"]


def test_the_exported_pdf_hides_small_counts_unless_exact_figures_are_ticked(qtbot, programme, today, tmp_path):
    page = _page(qtbot, programme, today)
    report = _show(qtbot, page)
    assert any(isinstance(v, int) and 0 < v < 5 for t in report.tables for row in t.rows for v in row)
    _export(qtbot, page, tmp_path / "pour-financeurs", "pdf")  # the extension is added
    funders = _pdf_text(tmp_path / "pour-financeurs.pdf")
    assert "< 5" in funders and "Bilan enregistré" in page.message.text()
    page.exact_check.setChecked(True)
    _export(qtbot, page, tmp_path / "interne.pdf", "pdf")
    internal = _pdf_text(tmp_path / "interne.pdf")
    assert "< 5" not in internal and "Enfants suivis sur la période" in internal
    assert page.report.exact  # the window keeps showing the exact figures


def test_the_exported_workbook_hides_small_counts_unless_exact_figures_are_ticked(qtbot, programme, today, tmp_path):
    page = _page(qtbot, programme, today)
    _show(qtbot, page)
    _export(qtbot, page, tmp_path / "bilan.xlsx", "xlsx")
    values = _xlsx_values(tmp_path / "bilan.xlsx")
    # the small counts left are those of the tables that count no child (EPS meetings held…)
    assert "< 5" in values and _small(values) == _small(
        v for t in suppress_small_counts(page.report).tables for row in t.rows for v in row)
    page.exact_check.setChecked(True)
    _export(qtbot, page, tmp_path / "bilan-exact.xlsx", "xlsx")
    values = _xlsx_values(tmp_path / "bilan-exact.xlsx")
    assert "< 5" not in values and 1 in values


def test_a_file_that_cannot_be_written_is_said_calmly_in_french(qtbot, programme, today, tmp_path):
    page = _page(qtbot, programme, today)
    _show(qtbot, page)
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    target = blocker / "bilan.pdf"  # its folder is a file: the write fails
    page.export_to(str(target), "pdf")
    qtbot.waitUntil(lambda: bool(_error_boxes()), timeout=WAIT)
    box = _error_boxes()[0]
    assert "bilan.pdf" in box.text() and "Traceback" not in box.text() + box.informativeText()
    assert not target.exists() and page.pdf_button.isEnabled()
    box.done(0)


def test_free_dates_are_checked_before_anything_is_computed(qtbot, programme, today):
    page = _page(qtbot, programme, today)
    page.choose_period(FREE)
    assert page.start.isVisible() and not page.year.isVisible()
    page.start.setText("31/02/2025")
    page.show_button.click()
    assert page.message.isVisible() and page.message.text().startswith("La date de début ne se lit pas")
    assert page.report is None
    page.choose_period(FREE, start=date(2025, 6, 30), end=date(2025, 3, 1))
    page.show_button.click()
    assert page.message.text() == "La date de début doit précéder la date de fin."
    report = _show(qtbot, page, "bilan", FREE, None, start=date(2025, 3, 1), end=date(2025, 6, 30))
    assert report.period == ReportPeriod(date(2025, 3, 1), date(2025, 6, 30))
    assert not page.message.isVisible()


def test_entree_in_a_date_field_shows_the_report(qtbot, programme, today):
    page = _page(qtbot, programme, today)
    page.choose_period(FREE, start=date(2025, 1, 1), end=date(2025, 3, 20))
    page.end.setFocus()
    with qtbot.waitSignal(page.report_shown, timeout=WAIT):
        qtbot.keyClick(page.end, Qt.Key.Key_Return)
    assert page.report.period == ReportPeriod(date(2025, 1, 1), date(2025, 3, 20))


def test_the_school_year_runs_from_september_to_august(qtbot, programme, today):
    page = _page(qtbot, programme, today)
    page.choose_period(SCHOOL)
    assert page.year.currentText() == "2024-2025"  # 20/03/2025 is in the school year 2024-2025
    report = _show(qtbot, page, "bilan", SCHOOL, 2024)
    assert report.period == ReportPeriod.school_year(2024) and "Année scolaire 2024-2025" in page.title.text()


# -- the table model ------------------------------------------------------------------------------------------

SAMPLE = ReportTable("sample", "Exemple", ("Tranche", "Filles", "Heures", "Montant du mois"),
                     (("6 à 10 ans", 12, Decimal("20.5"), Decimal("1234.50")),
                      ("2 à 5 ans", "< 5", Decimal("3.0"), Decimal("30.00")),
                      ("Total", 15, Decimal("23.5"), Decimal("1264.50"))), chart="bars")


@pytest.mark.parametrize("table", [SAMPLE, ReportTable("empty", "Vide", ("Mois", "Heures"), ())])
def test_the_report_table_model_passes_the_model_tester(qtmodeltester, table):
    model = ReportTableModel()
    model.set_table(table)
    qtmodeltester.check(model)
    qtmodeltester.check(ReportProxy(model))
    model.set_table(None)
    qtmodeltester.check(model)


def test_cells_read_in_french_and_sort_on_their_values_with_the_total_last(qtbot):
    model = ReportTableModel()
    model.set_table(SAMPLE)
    proxy = ReportProxy(model)
    assert [model.index(0, c).data() for c in range(4)] == ["6 à 10 ans", "12", "20,5", f"1{NBSP}234,50{NBSP}€"]
    assert model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole).startswith("Effectif de 1 à 4")
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        proxy.sort(1, order)
        labels = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
        assert labels[-1] == "Total"
        assert labels[:2] == (["2 à 5 ans", "6 à 10 ans"] if order == Qt.SortOrder.AscendingOrder
                              else ["6 à 10 ans", "2 à 5 ans"])


def test_a_distribution_with_several_columns_draws_one_bar_per_column(qtbot):
    from ui.pages.reports_page import ReportSection

    table = ReportTable("sex_by_age", "Sexe et âge", ("Tranche d'âge", "Filles", "Garçons", "Total"),
                        (("2 à 5 ans", 3, 4, 7), ("6 à 10 ans", 8, 6, 14), ("Total", 11, 10, 21)), chart="bars")
    section = ReportSection(table)
    qtbot.addWidget(section)
    chart = section.charts[0].widget
    assert isinstance(chart, BarChart)
    assert chart.items() == (("2 à 5 ans", Decimal(3)), ("6 à 10 ans", Decimal(8)))  # the total row left out
    assert [name for name, _values in chart._series] == ["Filles", "Garçons"]
