"""Table models of the référent's and coordinator's lists.

`RowsModel` is a read-only `QAbstractTableModel` over a tuple of frozen service rows, described by `Column`s
(French header, display text, native sort value, alignment). Put it behind `sorting_proxy()`: the proxy sorts on
`SORT_ROLE` (dates as dates, durations as minutes, names without accents) and filters on every column.
`ROW_ROLE` hands the page the row's dataclass. A model given `search=` (a row -> extra text) lets `SearchProxy`
also find rows by what no column shows (a family's notes); `SearchProxy.set_condition` adds a filter of the page's
own (a status chosen in a combo box).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

from services.formatting import format_date, format_hours

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3  # column 0 only: text the search matches besides the columns' own
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter
HOLIDAY = QColor("#fdf1d6")
WARNING = QColor("#b42318")
MUTED = QColor("#667085")
INDEX = QModelIndex | QPersistentModelIndex
ANSWERED_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, SORT_ROLE, ROW_ROLE, SEARCH_ROLE, Qt.ItemDataRole.ToolTipRole,
                            Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.BackgroundRole,
                            Qt.ItemDataRole.ForegroundRole})


def collate(text: str | None) -> str:
    """Sort key for French names: 'Élodie' between 'Denis' and 'Fatou', case and accents ignored."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    sort: Callable[[Any], Any]
    align: Qt.AlignmentFlag = LEFT
    tooltip: Callable[[Any], str | None] | None = None


def text_column(title: str, get: Callable[[Any], str | None], tooltip: bool = False) -> Column:
    return Column(title, lambda r: get(r) or "", lambda r: collate(get(r)), LEFT,
                  (lambda r: get(r) or None) if tooltip else None)


def date_column(title: str, get: Callable[[Any], date | None]) -> Column:
    # ISO text: a Python date would reach the proxy as an opaque object and sort as its display text
    return Column(title, lambda r: format_date(get(r)), lambda r: get(r).isoformat() if get(r) else "", LEFT)


def count_column(title: str, get: Callable[[Any], int | None]) -> Column:
    return Column(title, lambda r: "" if get(r) is None else str(get(r)), lambda r: get(r) or 0, RIGHT)


def hours_column(title: str, get: Callable[[Any], int]) -> Column:
    return Column(title, lambda r: format_hours(get(r)), get, RIGHT)


class ColumnsModel(QAbstractTableModel):
    """The Qt side shared by every list of frozen rows described by `Column`s: subclasses own how the rows fill
    (all at once in `RowsModel`; by pages in the sessions list, through `_count`, `_row` and `_missing`), the
    display, sort and tooltip roles stay one."""

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None,
                 background: Callable[[Any, int], QColor | None] | None = None,
                 foreground: Callable[[Any, int], QColor | None] | None = None,
                 search: Callable[[Any], str | None] | None = None):
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: Sequence = ()
        self._background = background
        self._foreground = foreground
        self._search = search

    def rowCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count()

    def columnCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def _count(self) -> int:
        return len(self._rows)

    def _row(self, row: int):
        """The row's dataclass; None while a lazily read list has not fetched it yet (see `_missing`)."""
        return self._rows[row]

    def _missing(self, index: INDEX, role: int) -> Any:
        return None

    def data(self, index: INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in ANSWERED_ROLES:  # the delegate asks for seven roles per cell at each paint: answer fast
            return None
        if not index.isValid() or not (0 <= index.row() < self._count() and 0 <= index.column() < len(self.columns)):
            return None
        row, column = self._row(index.row()), self.columns[index.column()]
        if row is None:
            return self._missing(index, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == SORT_ROLE:
            return column.sort(row)
        if role == ROW_ROLE:
            return row
        if role == SEARCH_ROLE:
            return (self._search(row) or "") if self._search and index.column() == 0 else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.align.value)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.BackgroundRole and self._background:
            color = self._background(row, index.column())
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.ForegroundRole and self._foreground:
            color = self._foreground(row, index.column())
            return QBrush(color) if color is not None else None
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(self.columns[section].align.value)
        return None

    def flags(self, index: INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class RowsModel(ColumnsModel):
    """A read-only table over frozen rows; `columns` in the order of the page's column constants."""

    def set_rows(self, rows: Sequence) -> None:
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def rows(self) -> tuple:
        return self._rows

    def row_at(self, row: int):
        return self._rows[row]


class ListModel(RowsModel):
    """A model whose columns are declared on the class (`COLUMNS`, in the order of its constants)."""

    COLUMNS: tuple[Column, ...] = ()
    SEARCH: Callable[[Any], str | None] | None = None  # extra searched text of a row (see SEARCH_ROLE)

    def __init__(self, parent: QObject | None = None):
        super().__init__(self.COLUMNS, parent, search=type(self).SEARCH)


def sorting_proxy(model: QAbstractTableModel, parent: QObject | None = None) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


class SearchProxy(QSortFilterProxyModel):
    """Sorting as `sorting_proxy`; the search keeps the rows where the text typed is found, case and accents
    ignored, in a column's text or in the row's SEARCH_ROLE text; `set_condition` keeps only the rows it accepts."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._text = ""
        self._condition: Callable[[Any], bool] | None = None

    def set_search(self, text: str) -> None:
        wanted = " ".join(collate(text).split())
        if wanted != self._text:
            self._change(lambda: setattr(self, "_text", wanted))

    def set_condition(self, condition: Callable[[Any], bool] | None) -> None:
        self._change(lambda: setattr(self, "_condition", condition))

    def _change(self, apply: Callable[[], None]) -> None:
        self.beginFilterChange()
        apply()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: INDEX) -> bool:
        model = self.sourceModel()
        if model is None:
            return True
        first = model.index(source_row, 0, source_parent)
        if self._condition is not None:
            row = first.data(ROW_ROLE)
            if row is not None and not self._condition(row):
                return False
        if not self._text:
            return True
        texts = [model.index(source_row, c, source_parent).data() for c in range(model.columnCount(source_parent))]
        texts.append(first.data(SEARCH_ROLE))
        return any(self._text in " ".join(collate(str(t)).split()) for t in texts if t)


def search_proxy(model: QAbstractTableModel, parent: QObject | None = None) -> SearchProxy:
    proxy = SearchProxy(parent)
    proxy.setSourceModel(model)
    return proxy


def row_of(index: QModelIndex):
    """The dataclass behind a view index (through any proxy)."""
    return index.data(ROW_ROLE) if index.isValid() else None
