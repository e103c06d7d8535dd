"""Every session the user may see, newest first: fetched a page at a time, sorted and searched by the database,
so the list opens at once even with 100 000 sessions. Entrée or double-clic opens a session in the session form
(« Modifier la séance ») for the référent of its family and the coordination."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from PySide6.QtCore import QModelIndex, QObject, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from services.directory import CurrentUser
from services.formatting import month_in_words
from services.home_sessions import STATUS_LABELS, SessionQuery, count_sessions, list_sessions
from services.month import Month
from services.permissions import allowed
from ui.background import run_in_background
from ui.pages.family_file import sessions_columns
from ui.session_form import SessionForm, open_session_editor
from ui.table_model import INDEX, ColumnsModel, row_of
from ui.widgets import column_width, heading_row, note_label, search_field, table_view

PAGE_SIZE = 500


def _recent_months(current: Month, count: int) -> list[Month]:
    months = [current]
    while len(months) < count:
        months.append(months[-1].previous())
    return months


class LazySessionsModel(ColumnsModel):
    """Rows arrive by pages through canFetchMore/fetchMore; sort() and set_text() re-query the database."""

    DATE, TIME, FAMILY, INTERVENANT, DURATION, STATUS, REFERENT, EXCEPTION, NOTES = range(9)
    SORT_KEYS = {DATE: "date", FAMILY: "family", INTERVENANT: "intervenant", DURATION: "duration", STATUS: "status"}

    reset_done = Signal()

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QObject | None = None):
        super().__init__(sessions_columns(with_family=True), parent)
        self._uow = uow_factory
        self._user = current_user
        self.query = SessionQuery()
        self.total = 0
        self._rows: list = []
        self._loaded = False  # sort() before the first reload() only records the order
        self._resetting = False
        self.background = False

    # -- querying ---------------------------------------------------------------------------------------------
    def _first_page(self, query: SessionQuery):
        uow, user = self._uow, self._user
        return lambda: (query, count_sessions(uow(), user, query), list(list_sessions(uow(), user, query, 0, PAGE_SIZE)))

    def reload(self) -> None:
        """Count and first page; off the GUI thread when `background` is set (the page sets it)."""
        self._loaded = True
        if self.background:
            run_in_background(self, self._first_page(self.query), self._apply)
        else:
            self._apply(self._first_page(self.query)())

    def _apply(self, result: tuple[SessionQuery, int, list]) -> None:
        query, total, rows = result
        if query != self.query:
            return  # the user typed or sorted again meanwhile: a newer page is on its way
        self._resetting = True
        self.beginResetModel()
        self.total, self._rows = total, rows
        self.endResetModel()
        self._resetting = False
        self.reset_done.emit()

    def set_text(self, text: str) -> None:
        self.set_filter(text=text)

    def set_filter(self, **changes) -> None:
        """Search text, month ("YYYY-MM"), status or decision (None: all); the database filters, then reloads."""
        self.query = replace(self.query, **changes)
        if self._loaded:
            self.reload()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.SORT_KEYS.get(column)
        if key is None:
            return
        self.query = replace(self.query, sort=key, descending=order == Qt.SortOrder.DescendingOrder)
        if self._loaded:
            self.reload()

    def canFetchMore(self, parent: INDEX = QModelIndex()) -> bool:
        return not parent.isValid() and not self._resetting and len(self._rows) < self.total

    def fetchMore(self, parent: INDEX = QModelIndex()) -> None:
        if parent.isValid() or self._resetting:
            return
        more = list_sessions(self._uow(), self._user, self.query, len(self._rows), PAGE_SIZE)
        if not more:
            self.total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()


class DatabaseSortProxy(QSortFilterProxyModel):
    """Hands sorting to the source model (the database orders all rows, not just the loaded ones)."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)


class SessionsPage(QWidget):
    sessions_loaded = Signal()

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(parent)
        self._uow, self._user, self._today = uow_factory, current_user, today
        self.session_form: SessionForm | None = None
        self.model = LazySessionsModel(uow_factory, current_user, self)
        self.model.background = True  # counting and sorting 100 000 rows must not freeze the window
        self.proxy = DatabaseSortProxy(self)
        self.proxy.setSourceModel(self.model)
        layout = QVBoxLayout(self)
        self.count_label = QLabel(self)
        heading_row(layout, "Séances à domicile", self).addWidget(self.count_label)
        self.search = search_field(None, "Rechercher une famille, un·e intervenant·e, une clé de séance…", self)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(lambda: self.model.set_text(self.search.text()))
        self.search.textChanged.connect(self._search_timer.start)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        self.month_filter = self._filter_combo("month_filter", "Tous les mois", [
            (month_in_words(str(m)).capitalize(), str(m)) for m in _recent_months(Month.of(today()), 24)])
        self.status_filter = self._filter_combo("status_filter", "Tous les statuts", [
            (label, key) for key, label in STATUS_LABELS.items()])
        self.decision_filter = self._filter_combo("decision_filter", "Toutes les séances", [
            ("Dérogation à décider", "awaiting"), ("Dérogation approuvée", "approved"),
            ("Dérogation refusée", "refused")])
        for combo in (self.month_filter, self.status_filter, self.decision_filter):
            filters.addWidget(combo)
        layout.addLayout(filters)
        self.view = table_view(self.proxy, self, stretch=LazySessionsModel.NOTES)
        self.view.horizontalHeader().setSortIndicator(LazySessionsModel.DATE, Qt.SortOrder.DescendingOrder)
        fitted = {LazySessionsModel.STATUS: STATUS_LABELS.values(), LazySessionsModel.REFERENT: ["présent·e"],
                  LazySessionsModel.EXCEPTION: ["À décider", "Approuvée", "Refusée"]}  # never « Absence de la fami… »
        # at 1280×800 the notes keep some room (no horizontal scroll bar): long names are elided, whole in the tooltip
        for column, width in ((0, 95), (1, 60), (2, 140), (3, 170), (4, 65), (5, 145), (6, 85), (7, 95)):
            self.view.setColumnWidth(column, max(width, column_width(self.view, fitted.get(column, ()), column)))
        layout.addWidget(self.view)
        self.view.activated.connect(self.open_session)
        if allowed(current_user, "session.update"):
            layout.addWidget(note_label("Entrée ou double-clic : modifier la séance.", self))
        self.model.reset_done.connect(self._counted)
        self.setFocusProxy(self.search)

    def _filter_combo(self, name: str, everything: str, choices: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.addItem(everything, None)
        for label, value in choices:
            combo.addItem(label, value)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # sized once, on its longest item
        field = {"month_filter": "month", "status_filter": "status", "decision_filter": "decision"}[name]
        combo.currentIndexChanged.connect(lambda _i: self.model.set_filter(**{field: combo.currentData()}))
        return combo

    def show_awaiting(self) -> None:
        """The sessions that wait for a coordinator's decision (the référent follows them from here)."""
        self.decision_filter.setCurrentIndex(self.decision_filter.findData("awaiting"))

    def refresh(self) -> None:
        self.model.reload()

    def open_session(self, index) -> SessionForm | None:
        form = open_session_editor(self, self._uow, self._user, row_of(index), self._today, self.refresh,
                                   already_open=self.session_form)
        self.session_form = form or self.session_form
        return form

    def _counted(self) -> None:
        n = self.model.total
        self.count_label.setText(f"{n:,} séance{'s' if n > 1 else ''}".replace(",", "\u202f"))
        self.sessions_loaded.emit()
