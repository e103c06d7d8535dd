"""The pages on their own: week navigation, activity export, EPS meeting with a situation and a proposal."""
from datetime import date

import openpyxl
import pytest
from PySide6.QtWidgets import QDialogButtonBox

from services.orientations import list_orientations
from ui.pages.activity_page import ActivityPage
from ui.pages.eps_page import EpsPage
from ui.pages.sessions_page import SessionsPage
from ui.pages.week_page import WeekPage


def _page(qtbot, cls, programme, user, today, signal):
    page = cls(programme.uow, user, today=today)
    qtbot.addWidget(page)
    with qtbot.waitSignal(getattr(page, signal), timeout=5000):
        page.refresh()
    return page


def test_week_page_moves_between_weeks_and_offers_the_last_week_with_sessions(qtbot, programme):
    page = _page(qtbot, WeekPage, programme, programme.referent, lambda: date(2025, 4, 2), "week_loaded")
    assert page.model.rowCount() == 0 and not page.empty.isHidden()
    assert "12/03/2025" in page.jump_button.text()
    with qtbot.waitSignal(page.week_loaded, timeout=5000):
        page.jump_button.click()
    assert page.title.text() == "Semaine du 10/03/2025 au 16/03/2025"
    assert page.model.rowCount() == 2
    with qtbot.waitSignal(page.week_loaded, timeout=5000):
        page.go(-7)
    assert page.title.text().endswith("— vacances scolaires")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_activity_page_shows_the_latest_month_and_exports(qtbot, programme, tmp_path, kind):
    page = ActivityPage(programme.uow, programme.coordinator, today=lambda: date(2025, 4, 15))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.activity_loaded, timeout=5000):
        page.refresh()
    assert page.month.currentData() == "2025-03"
    assert page.model.rowCount() == 2 and "3\u00a0h réalisées en 3 séance(s)" in page.total.text()
    path = tmp_path / f"heures.{kind}"
    with qtbot.waitSignal(page.exported, timeout=5000):
        page.export_to(str(path), kind)
    if kind == "csv":
        assert "Famille Lefèvre" in path.read_text(encoding="utf-8-sig")
    else:
        assert openpyxl.load_workbook(path)["Heures"]["C4"].value == "Famille Lefèvre"


def test_eps_page_creates_a_meeting_adds_a_situation_and_proposes(qtbot, programme, today):
    page = _page(qtbot, EpsPage, programme, programme.coordinator, today, "meetings_loaded")
    dialog = page.ask_new_meeting()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: page.title.text() == "Séance d'EPS du 20/03/2025", timeout=5000)
    qtbot.waitUntil(lambda: page.add_button.isEnabled())
    dialog = page.ask_add_situation()
    dialog.inputs["family"].setCurrentIndex(dialog.inputs["family"].findText("Famille Diallo (F2)"))
    dialog.inputs["recommendation"].setPlainText("Soutien à la parentalité")
    with qtbot.waitSignal(page.meeting_loaded, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert page.situations.row_at(0).recommendation == "Soutien à la parentalité"
    page.situations_view.setCurrentIndex(page.situations_view.model().index(0, 0))
    dialog = page.ask_propose()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # F2 already has Atout Plus: refused
    qtbot.waitUntil(lambda: dialog.messages["convention"].isVisible(), timeout=5000)
    assert "déjà une orientation validée" in dialog.messages["convention"].text()
    assert list_orientations(programme.uow(), programme.coordinator, status="proposed") == ()


def test_sessions_page_searches_and_sorts_in_the_database(qtbot, programme, today):
    page = _page(qtbot, SessionsPage, programme, programme.coordinator, today, "sessions_loaded")
    assert page.count_label.text() == "4 séances"
    with qtbot.waitSignal(page.sessions_loaded, timeout=5000):
        page.search.setText("morel")
    assert page.model.rowCount() == 2
    page.view.sortByColumn(2, page.view.horizontalHeader().sortIndicatorOrder())
    assert page.model.query.sort == "family"
