"""Small widgets shared by the pages: tables, titles, inline field messages (date fields: ui.date_field)."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QEvent, QSize, QSortFilterProxyModel, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QBoxLayout, QComboBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QMessageBox, QSizePolicy, QStyle, QStyledItemDelegate, QStyleOptionComboBox,
                               QStyleOptionViewItem, QTableView, QToolTip, QWidget)

ERROR_STYLE = "color: #b42318;"
WARNING_STYLE = "color: #93370d; background: #fef0c7; border-radius: 3px; padding: 2px 4px;"


class ElidedTooltips(QStyledItemDelegate):
    """The views' delegate: a cell too narrow for its text (drawn with « … ») shows the whole text in a tooltip,
    unless the model gives one of its own."""

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem, index) -> bool:
        if event is not None and event.type() == QEvent.Type.ToolTip and index.isValid() \
                and not index.data(Qt.ItemDataRole.ToolTipRole):
            text = index.data(Qt.ItemDataRole.DisplayRole)
            if text and self.elided(option, index):
                QToolTip.showText(event.globalPos(), str(text), view, option.rect)
                return True
        return super().helpEvent(event, view, option, index)

    def elided(self, option: QStyleOptionViewItem, index) -> bool:
        """Whether the cell's text does not fit in its rectangle (one line, or each line when it holds several)."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        room = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, opt.widget).width()
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, opt.widget) + 1
        if opt.features & QStyleOptionViewItem.ViewItemFeature.WrapText:
            return False  # wrapped cells grow in height (the week's cells)
        return any(opt.fontMetrics.horizontalAdvance(line) > room - 2 * margin for line in str(opt.text).split("\n"))


def table_view(model, parent: QWidget | None = None, *, sortable: bool = True, multi: bool = False,
               stretch: int | None = None) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setItemDelegate(ElidedTooltips(view))
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
    column (the last one, or the one given to table_view) keeps filling what is left; its text is elided (the
    tooltip shows it whole). When the table is on screen, room the stretched column does not need goes first to
    the columns the maximum cut."""
    header = view.horizontalHeader()
    count = view.model().columnCount()
    shown = [c for c in range(count) if not view.isColumnHidden(c)]
    last = shown[-1] if shown else -1  # what stretchLastSection stretches: the last column on screen
    stretched_columns, cut = [], {}
    for column in shown:
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch or (
                header.stretchLastSection() and column == last):
            stretched_columns.append(column)
            continue
        view.resizeColumnToContents(column)
        width = max(view.columnWidth(column), header.sectionSizeHint(column))  # never cut the header's words
        limit = max(maximum, header.sectionSizeHint(column))
        view.setColumnWidth(column, min(width, limit))
        if width > limit:
            cut[column] = width
    if not cut or not view.isVisible():
        return
    fixed = sum(view.columnWidth(c) for c in shown if c not in stretched_columns)
    needed = sum(max(view.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in stretched_columns)
    spare = view.viewport().width() - fixed - needed
    for column, width in sorted(cut.items(), key=lambda item: item[1] - view.columnWidth(item[0])):
        if spare <= 0:
            break
        grow = min(spare, width - view.columnWidth(column))
        view.setColumnWidth(column, view.columnWidth(column) + grow)
        spare -= grow


def column_width(view: QTableView, texts, column: int | None = None) -> int:
    """The width a column needs to show the longest of `texts` (all the values it may hold) and its header."""
    view.ensurePolished()  # the application's style sheet sets the font
    metrics = view.fontMetrics()
    margin = 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1) + 8
    header = view.horizontalHeader().sectionSizeHint(column) if column is not None else 0
    return max([header] + [metrics.horizontalAdvance(t) + margin for t in texts])


def steady_width(combo: QComboBox, texts) -> None:
    """A combo box as wide as the longest of `texts` (every item it may ever hold), whatever it holds now: it
    never jumps when its items change, and never cuts one."""
    combo.ensurePolished()  # the application's style sheet sets the font
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(1)
    text = max(texts, key=combo.fontMetrics().horizontalAdvance, default="")
    opt = QStyleOptionComboBox()
    opt.initFrom(combo)
    contents = QSize(combo.fontMetrics().horizontalAdvance(text) + 8, combo.fontMetrics().height())
    combo.setMinimumWidth(combo.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, opt, contents, combo).width())


def search_field(proxy: QSortFilterProxyModel | None, placeholder: str, parent: QWidget | None = None) -> QLineEdit:
    """A search box filtering `proxy` as one types (a SearchProxy: every word, accents ignored)."""
    field = QLineEdit(parent)
    field.setPlaceholderText(placeholder)
    field.setClearButtonEnabled(True)
    if proxy is not None:
        field.textChanged.connect(getattr(proxy, "set_search", proxy.setFilterFixedString))
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


def confirmed(parent: QWidget, title: str, text: str, accept=QMessageBox.StandardButton.Yes,
              cancel=QMessageBox.StandardButton.No) -> bool:
    """Ask `text` with the buttons `accept` and `cancel` (the default, so a stray Entrée does nothing); True when the
    user chose `accept`. Qt's standard buttons are French once ui.translations is installed."""
    return QMessageBox.question(parent, title, text, accept | cancel, cancel) == accept
