"""The "Aperçu PDF" tab and printing through Qt, offscreen, on the example dataset (convention ap-2025)."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter

from services.billing import issue_statement, issued_pdf
from tests.programme_fixture import programme  # noqa: F401  (fixture)
from tests.ui.test_admin_statements import WAIT, open_page, show_month
from ui.admin import pdf_preview
from ui.admin.statements_page import StatementsPage

pytest.importorskip("PySide6.QtPdf")


def open_preview(qtbot, page: StatementsPage) -> int:
    with qtbot.waitSignal(page.preview_loaded, timeout=WAIT) as loaded:
        page.show_preview()
    return loaded.args[0]


def pdf_printer(path) -> QPrinter:
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_preview_tab_shows_the_pdf_of_the_draft(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-03")
    assert page.preview.document() is None  # rendered only once the tab is opened
    pages = open_preview(qtbot, page)
    assert pages >= 1 and page.preview.document().pageCount() == pages
    assert page.tabs.tabText(page.tabs.currentIndex()) == "Aperçu PDF"


def test_preview_of_an_issued_month_is_its_stored_pdf_and_names_give_the_partner_copy(qtbot, programme):  # noqa: F811
    for month in ("2025-01", "2025-02", "2025-03"):
        issue_statement(programme.uow(), programme.administrator, "ap-2025", month)
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-03")
    open_preview(qtbot, page)
    stored = issued_pdf(programme.uow(), programme.administrator, "ap-2025", "2025-03")
    assert page.preview.pdf_bytes() == stored
    with qtbot.waitSignal(page.preview_loaded, timeout=WAIT):
        page.names_check.setChecked(True)
    assert page.preview.pdf_bytes() != stored
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(page.preview.pdf_bytes())).pages)
    assert "Famille Lefèvre" in text and "Famille Diallo" in text


def test_print_sends_every_page_of_the_pdf_to_the_chosen_printer(qtbot, programme, monkeypatch, tmp_path):  # noqa: F811
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-03")
    pages = open_preview(qtbot, page)
    target = tmp_path / "imprime.pdf"
    asked = []
    monkeypatch.setattr(page, "choose_printer", lambda: asked.append(page._print_pages) or pdf_printer(target))
    with qtbot.waitSignal(page.statement_printed, timeout=WAIT) as printed:
        page.print_button.click()
    assert asked == [pages] and printed.args == [pages]
    assert target.stat().st_size > 0
    assert len(PdfReader(str(target)).pages) == pages


def test_print_without_the_preview_renders_then_respects_the_page_range(qtbot, programme, monkeypatch,  # noqa: F811
                                                                         tmp_path):
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-03")
    target = tmp_path / "page-1.pdf"

    def first_page_only():
        printer = pdf_printer(target)
        printer.setPrintRange(QPrinter.PrintRange.PageRange)
        printer.setFromTo(1, 1)
        return printer

    monkeypatch.setattr(page, "choose_printer", first_page_only)
    with qtbot.waitSignal(page.statement_printed, timeout=WAIT) as printed:
        page.print_button.click()
    assert printed.args == [1]
    assert len(PdfReader(str(target)).pages) == 1


def test_cancelled_print_dialog_prints_nothing(qtbot, programme, monkeypatch):  # noqa: F811
    page = open_page(qtbot, programme)
    open_preview(qtbot, page)
    monkeypatch.setattr(page, "choose_printer", lambda: None)
    printed = []
    page.statement_printed.connect(printed.append)
    page.print_button.click()
    assert printed == [] and page.print_button.isEnabled()


def test_without_qtpdf_the_tab_explains_and_print_uses_the_system_viewer(qtbot, programme, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pdf_preview, "_SUPPORT", None)
    monkeypatch.setattr(pdf_preview, "_SUPPORT_CHECKED", True)
    monkeypatch.setattr("ui.admin.statements_page.pdf_support", pdf_preview.pdf_support)
    page = open_page(qtbot, programme)
    page.show_preview()
    assert not page.preview.available and "n'est pas disponible" in page.preview.note.text()
    opened = []
    monkeypatch.setattr(page, "open_externally", lambda path: opened.append(path) or True)
    with qtbot.waitSignal(page.pdf_opened, timeout=WAIT):
        page.print_button.click()
    assert opened[0].endswith("_projet.pdf")
