"""Small widgets shared by the administrator's pages: sortable tables, the status badge, inline errors."""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QWidget

from ui.admin.table_models import RowsModel, sorting_proxy
from ui.widgets import table_view as shared_table_view

BADGE_STYLES = {
    "draft": "background:#fef0c7; color:#93370d; border:1px solid #f79009;",
    "issued": "background:#dcfae6; color:#085d3a; border:1px solid #17b26a;",
    "none": "background:#f2f4f7; color:#475467; border:1px solid #d0d5dd;",
}
ERROR_STYLE = "color:#b42318;"
WARNING_STYLE = "color:#b42318; font-weight:600;"


def table_view(model: RowsModel, stretch: int | None = None, parent: QWidget | None = None,
               sort_column: int = -1) -> tuple[QTableView, QSortFilterProxyModel]:
    """The shared read-only table (`ui.widgets.table_view`) over `model` through a sorting proxy, its columns
    fitted to their content. With `sort_column` -1 the rows keep the model's order (the statement's) until a
    header is clicked."""
    proxy = sorting_proxy(model, parent)
    view = shared_table_view(proxy, parent, stretch=stretch)
    view.setStyleSheet("QTableView::item { padding: 0px 6px; } QHeaderView::section { padding: 3px 6px; }")
    header = view.horizontalHeader()
    header.setStretchLastSection(False)  # figures stay next to their row, not pushed to the far right
    for column in range(model.columnCount()):
        if column != stretch:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setSortIndicator(sort_column, Qt.SortOrder.AscendingOrder)
    proxy.sort(sort_column, Qt.SortOrder.AscendingOrder)
    return view, proxy


def source_row(view: QTableView, proxy: QSortFilterProxyModel) -> int | None:
    """The model row of the view's current selection, or None."""
    indexes = view.selectionModel().selectedRows() if view.selectionModel() else []
    if not indexes:
        return None
    return proxy.mapToSource(indexes[0]).row()


class StatusBadge(QLabel):
    """"PROJET" or "Émis n° … le dd/mm/yyyy", in a coloured pill."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("statusBadge")
        self.set_state("none", "—")

    def set_state(self, state: str, text: str) -> None:
        self.state = state
        self.setText(text)
        self.setStyleSheet(f"QLabel#statusBadge {{ {BADGE_STYLES[state]} border-radius:10px; padding:3px 12px; "
                           "font-weight:700; }")


class FieldError(QLabel):
    """The French message shown next to a field; hidden while the field is fine."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.hide()

    def show_message(self, message: str | None) -> None:
        self.setText(message or "")
        self.setVisible(bool(message))
