"""Small widgets shared by the pages: tables, titles, inline field messages (date fields: ui.date_field)."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (QAbstractItemView, QBoxLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QSizePolicy, QTableView, QWidget)

ERROR_STYLE = "color: #b42318;"
WARNING_STYLE = "color: #93370d; background: #fef0c7; border-radius: 3px; padding: 2px 4px;"


def table_view(model, parent: QWidget | None = None, *, sortable: bool = True, multi: bool = False,
               stretch: int | None = None) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setSortingEnabled(sortable)
    if sortable:  # Qt's default indicator is descending: lists read A to Z unless a page says otherwise
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                          else QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(26)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(stretch is None)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setMinimumSectionSize(60)
    return view


def fit_columns(view: QTableView, maximum: int = 320) -> None:
    """Size columns to their content once data is in, without letting one long note eat the table. A stretched
    column (the last one, or the one given to table_view) keeps filling what is left; its text is elided."""
    header = view.horizontalHeader()
    count = view.model().columnCount()
    for column in range(count):
        stretched = header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch or (
            header.stretchLastSection() and column == count - 1)
        if stretched or view.isColumnHidden(column):
            continue
        view.resizeColumnToContents(column)
        width = max(view.columnWidth(column), header.sectionSizeHint(column))  # never cut the header's words
        view.setColumnWidth(column, min(width, max(maximum, header.sectionSizeHint(column))))


def search_field(proxy: QSortFilterProxyModel | None, placeholder: str, parent: QWidget | None = None) -> QLineEdit:
    field = QLineEdit(parent)
    field.setPlaceholderText(placeholder)
    field.setClearButtonEnabled(True)
    if proxy is not None:
        field.textChanged.connect(proxy.setFilterFixedString)
    return field


def title_label(text: str, parent: QWidget | None = None, size: int = 16) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet(f"font-size: {size}px; font-weight: 600;")
    return label


def heading_row(layout: QBoxLayout, title: str, parent: QWidget | None = None) -> QHBoxLayout:
    """A page's title on the left of a row added to `layout`; the page puts its count or controls on the right."""
    row = QHBoxLayout()
    row.addWidget(title_label(title, parent))
    row.addStretch()
    layout.addLayout(row)
    return row


def note_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setStyleSheet("color: #475467;")
    return label


def message_label(parent: QWidget | None = None) -> QLabel:
    """The line under a field that says, in French, what is wrong with it (hidden while all is well)."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    label.setVisible(False)
    return label


def show_messages(label: QLabel, errors: list[str], warnings: list[str]) -> None:
    if errors:
        label.setStyleSheet(ERROR_STYLE)
        label.setText("\n".join(errors))
    elif warnings:
        label.setStyleSheet(WARNING_STYLE)
        label.setText("\n".join(f"⚠ {w}" for w in warnings))
    label.setVisible(bool(errors or warnings))


def to_qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def align_right(label: QLabel) -> QLabel:
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return label
