"""Text at the default window size: columns wide enough for what they hold, tooltips for what is still elided,
combo boxes that do not jump."""
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QComboBox, QStyleOptionViewItem, QToolTip

from services.home_sessions import STATUS_LABELS
from ui.app import STYLE
from ui.pages.family_file import sessions_columns
from ui.pages.week_page import short_name
from ui.table_model import RowsModel, sorting_proxy, text_column
from ui.widgets import fit_columns, steady_width, table_view



@pytest.fixture(autouse=True)
def _application_style(qapp):
    """The application's style sheet (13 px text), as the window has it."""
    qapp.setStyleSheet(STYLE)
    yield
    qapp.setStyleSheet("")


LONG = "Accompagnement scolaire à domicile — Les PEP de l'Ain, antenne de Bourg-en-Bresse"


def _table(qtbot, rows, columns, width=1000):
    model = RowsModel(columns)
    model.set_rows(rows)
    view = table_view(sorting_proxy(model), None)
    qtbot.addWidget(view)
    view.resize(width, 300)
    view.show()
    qtbot.waitExposed(view)
    return view


def _tooltip_of(view, row, column):
    QToolTip.hideText()
    index = view.model().index(row, column)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = view.visualRect(index)
    event = QHelpEvent(QEvent.Type.ToolTip, option.rect.center(), view.viewport().mapToGlobal(option.rect.center()))
    shown = view.itemDelegate().helpEvent(event, view, option, index)
    return QToolTip.text() if shown and QToolTip.isVisible() else None


def test_derogation_column_shows_the_state_and_the_refusal_reason_in_its_tooltip():
    column = next(c for c in sessions_columns(with_family=True) if c.title == "Dérogation")
    refused = SimpleNamespace(decision_label="Refusée : Plus de deux séances dans la semaine")
    assert column.text(refused) == "Refusée"
    assert column.tooltip(refused) == "Refusée : Plus de deux séances dans la semaine"
    assert column.tooltip(SimpleNamespace(decision_label="")) is None


def test_an_elided_cell_shows_its_whole_text_in_a_tooltip_a_short_one_none(qtbot):
    rows = [SimpleNamespace(a=LONG, b="court")]
    view = _table(qtbot, rows, [text_column("Action", lambda r: r.a), text_column("Autre", lambda r: r.b)], 500)
    view.setColumnWidth(0, 120)
    assert _tooltip_of(view, 0, 0) == LONG
    assert _tooltip_of(view, 0, 1) is None


def test_fit_columns_gives_spare_room_to_a_column_the_maximum_cut(qtbot):
    rows = [SimpleNamespace(a="Famille Rodrigues", b=LONG, c="02/12/2025", d="caché")]
    view = _table(qtbot, rows, [text_column("Famille", lambda r: r.a), text_column("Action", lambda r: r.b),
                                text_column("EPS du", lambda r: r.c), text_column("Statut", lambda r: r.d)], 1100)
    view.hideColumn(3)  # the last column hidden: « EPS du » is the one stretched
    fit_columns(view)
    assert view.columnWidth(1) >= view.sizeHintForColumn(1) > 320


def test_month_combo_keeps_its_width_whatever_it_holds(qtbot):
    combo = QComboBox()
    qtbot.addWidget(combo)
    months = ["Mai 2025", "Septembre 2025 — émis"]
    steady_width(combo, months)
    combo.addItem("Mai 2025")
    combo.show()
    before = combo.sizeHint().width()
    combo.addItem("Septembre 2025 — émis")
    combo.adjustSize()
    assert combo.sizeHint().width() == before
    assert combo.minimumSizeHint().width() <= combo.width()
    assert combo.width() >= combo.fontMetrics().horizontalAdvance("Septembre 2025 — émis")


def test_sessions_list_status_column_holds_absence_de_la_famille(qtbot, open_window, programme):
    window = open_window(programme.referent)
    page = window.show_page("sessions")
    status = page.model.STATUS
    widest = max(page.view.fontMetrics().horizontalAdvance(t) for t in STATUS_LABELS.values())
    assert page.view.columnWidth(status) > widest + 8


def test_activity_family_names_are_not_cut_at_1280(qtbot, open_window, programme):
    window = open_window(programme.coordinator)
    window.resize(1280, 800)
    page = window.show_page("activity")
    with qtbot.waitSignal(page.activity_loaded, timeout=10000):
        page.show_month("2025-03")
    qtbot.wait(50)
    family = page.model.FAMILY
    assert page.model.rowCount() > 0
    assert page.view.columnWidth(family) >= page.view.sizeHintForColumn(family)


def test_week_cells_never_break_inside_a_name():
    assert short_name("Yasmine Belkacem") == "Y.\u00a0Belkacem"
    assert " " not in short_name("Jean Marc Dupont")
