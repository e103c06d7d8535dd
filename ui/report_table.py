"""One table of a report (services.reports.ReportTable) as a read-only Qt model, behind a proxy that sorts on native
values and keeps the « Total » row last whichever way the user sorts.

Display: as the PDF and the XLSX write them (services.reports.values: « 1 234 », « 20,4 », « 1 234,56 € »), a
suppressed count as its text « < 5 ». SORT_ROLE: a label collated without accents, a number as a
number, a suppressed count between 0 and 5 (2.5), where it belongs.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont

from services.reports import ReportTable
from services.reports.tables import ALL, TOTAL
from services.reports.values import is_money, value_text
from ui.table_model import INDEX, LEFT, RIGHT, SORT_ROLE, collate

SUPPRESSED_SORT = 2.5  # « < 5 » stands for 1 to 4
WRAP_FROM = 12  # characters: a header longer than this may go on two lines


def is_total(label: object) -> bool:
    """The « Total » row, or an « Ensemble … » summary row (distinct families over several actions)."""
    return label == TOTAL or str(label).startswith(ALL)


def sort_value(value: object, label: bool) -> Any:
    if label or (isinstance(value, str) and value.strip() != "< 5"):
        return collate(str(value if value is not None else ""))
    if isinstance(value, str):
        return SUPPRESSED_SORT
    if value is None:
        return -1.0
    return float(value)


def two_lines(header: str) -> str:
    """A long header on two lines, cut at the space nearest its middle (a narrower column, no word cut)."""
    spaces = [i for i, c in enumerate(header) if c == " "]
    if len(header) <= WRAP_FROM or not spaces:
        return header
    cut = min(spaces, key=lambda i: abs(i - len(header) / 2))
    return header[:cut] + "\n" + header[cut + 1:]


class ReportTableModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._table: ReportTable | None = None
        self._wrapped = False

    def wrap_headers(self, wrapped: bool) -> None:
        """Long headers on two lines, for a table too wide for the page."""
        if wrapped != self._wrapped and self._table is not None:
            self._wrapped = wrapped
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self._table.headers) - 1)

    def set_table(self, table: ReportTable | None) -> None:
        self.beginResetModel()
        self._table = table
        self.endResetModel()

    def table(self) -> ReportTable | None:
        return self._table

    def rowCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() or self._table is None else len(self._table.rows)

    def columnCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() or self._table is None else len(self._table.headers)

    def _value(self, index: INDEX):
        if not index.isValid() or self._table is None:
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._table.rows) and 0 <= column < len(self._table.headers)):
            return None
        cells = self._table.rows[row]
        return cells[column] if column < len(cells) else None

    def data(self, index: INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.TextAlignmentRole,
                        Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.FontRole):
            return None
        if not index.isValid() or self._table is None or not (
                0 <= index.row() < len(self._table.rows) and 0 <= index.column() < len(self._table.headers)):
            return None
        value = self._value(index)
        label = index.column() < self._table.label_columns
        if role == Qt.ItemDataRole.DisplayRole:
            return value_text(value, is_money(self._table, index.column()))
        if role == SORT_ROLE:
            return sort_value(value, label)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int((LEFT if label else RIGHT).value)
        if role == Qt.ItemDataRole.ToolTipRole and value == "< 5":
            return "Effectif de 1 à 4, masqué : aucun enfant ne doit pouvoir être reconnu."
        if role == Qt.ItemDataRole.FontRole and is_total(self._table.rows[index.row()][0]):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or self._table is None \
                or not 0 <= section < len(self._table.headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            header = self._table.headers[section]
            return two_lines(header) if self._wrapped else header
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int((LEFT if section < self._table.label_columns else RIGHT).value)
        return None

    def flags(self, index: INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class ReportProxy(QSortFilterProxyModel):
    """Sorts on SORT_ROLE; the « Total » row stays at the bottom."""

    def __init__(self, source: ReportTableModel, parent: QObject | None = None):
        super().__init__(parent)
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        model = self.sourceModel()
        left_total = is_total(model.index(left.row(), 0).data())
        right_total = is_total(model.index(right.row(), 0).data())
        if left_total != right_total:
            # the proxy reverses the comparison when descending: answer so that the total ends last either way
            return right_total if self.sortOrder() == Qt.SortOrder.AscendingOrder else left_total
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if type(a) is not type(b):  # a label and a number in one column: numbers first
            return isinstance(a, float)
        return a < b
