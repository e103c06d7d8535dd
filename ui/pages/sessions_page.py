"""Every session the user may see, newest first: read a page at a time in the background, sorted and searched
by the database, so the list opens, sorts, searches and scrolls anywhere at once even with 300 000 sessions. Entrée or double-clic opens a session in the session form
(« Modifier la séance ») for the référent of its family and the coordination."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from PySide6.QtCore import QModelIndex, QObject, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from services.directory import CurrentUser
from services.formatting import month_in_words
from services.home_sessions import STATUS_LABELS, SessionCursor, SessionPage, SessionQuery, SessionRow, sessions_page
from services.month import Month
from services.permissions import allowed
from ui.background import run_in_background
from ui.errors import show_error
from ui.pages.family_file import sessions_columns
from ui.session_form import SessionForm, open_session_editor
from ui.table_model import INDEX, ColumnsModel, row_of
from ui.widgets import column_width, heading_row, note_label, search_field, table_view

PAGE_SIZE = 200
KEPT_PAGES = 60  # pages held in memory (12,000 rows); the ones furthest from the last page read go first
WANTED_PAGES = 4  # pages waiting to be read: the most recently shown; older ones were scrolled past


def _recent_months(current: Month, count: int) -> list[Month]:
    months = [current]
    while len(months) < count:
        months.append(months[-1].previous())
    return months


class LazySessionsModel(ColumnsModel):
    """Every row of the query as far as the view knows (rowCount is the count), their contents read by pages in
    the background for the rows the view shows, by keyset from the nearest page already here or from an end of
    the list — never an OFFSET on the GUI thread, wherever the scroll bar is dragged. A query (sort, search,
    filter) is one request for its count and first page; every response carries the generation of the query it
    answers, and a page of an earlier generation is dropped when it arrives."""

    DATE, TIME, FAMILY, INTERVENANT, DURATION, STATUS, REFERENT, EXCEPTION, NOTES = range(9)
    SORT_KEYS = {DATE: "date", FAMILY: "family", INTERVENANT: "intervenant", DURATION: "duration", STATUS: "status"}

    reset_done = Signal()
    page_loaded = Signal(int)  # the first page of the rows just read (rows PAGE_SIZE × n onwards)

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QObject | None = None):
        super().__init__(sessions_columns(with_family=True), parent)
        self._uow = uow_factory
        self._user = current_user
        self.query = SessionQuery()
        self.total = 0
        self.generation = 0  # of the query whose rows are shown (or on their way)
        self.dropped = 0  # responses of an earlier generation, thrown away
        self._pages: dict[int, tuple[SessionRow, ...]] = {}
        self._wanted: dict[int, None] = {}  # page numbers, in the order the view last asked for them
        self._reading: tuple[int, int] | None = None  # the pages being read (first, last) for this generation
        self._loaded = False  # sort() before the first reload() only records the order
        self._resetting = False  # a query's first page is on its way: no page of the old one is read meanwhile
        self.background = False
        self._dispatch = QTimer(self)
        self._dispatch.setSingleShot(True)
        self._dispatch.setInterval(0)  # after the paint that asked for the rows: never from inside data()
        self._dispatch.timeout.connect(self._read_wanted)

    # -- rows -------------------------------------------------------------------------------------------------
    def _count(self) -> int:
        return self.total

    def _row(self, row: int) -> SessionRow | None:
        page = self._pages.get(row // PAGE_SIZE)
        return page[row % PAGE_SIZE] if page is not None and row % PAGE_SIZE < len(page) else None

    def _missing(self, index: INDEX, role: int):
        number = index.row() // PAGE_SIZE
        if number not in self._pages and not (self._reading and self._reading[0] <= number <= self._reading[1]):
            self._wanted.pop(number, None)
            self._wanted[number] = None
            while len(self._wanted) > WANTED_PAGES:
                del self._wanted[next(iter(self._wanted))]
            self._dispatch.start()
        if role == Qt.ItemDataRole.DisplayRole:
            return "…" if index.column() == 0 else ""
        return None

    @property
    def idle(self) -> bool:
        """No read on its way nor waiting (the benchmark waits for it between two actions)."""
        return not self._resetting and self._reading is None and not self._wanted and not self._dispatch.isActive()

    def loaded_rows(self) -> list[SessionRow]:
        """The rows read so far, in the list's order (tests and the benchmark check them)."""
        return [row for number in sorted(self._pages) for row in self._pages[number]]

    # -- querying ---------------------------------------------------------------------------------------------
    def _run(self, fn, on_success, generation: int) -> None:
        if self.background:
            run_in_background(self, fn, on_success, lambda exc: self._failed(generation, exc))
        else:
            on_success(fn())

    def reload(self) -> None:
        """The count and first page of the current query: one request, a new generation."""
        self._loaded = self._resetting = True
        self.generation += 1
        uow, user, query, generation = self._uow, self._user, self.query, self.generation
        self._run(lambda: (generation, sessions_page(uow(), user, query, limit=PAGE_SIZE, count=True)), self._apply,
                  generation)

    def _apply(self, result: tuple[int, SessionPage]) -> None:
        generation, page = result
        if generation != self.generation:
            self.dropped += 1  # the user typed or sorted again meanwhile: a newer first page is on its way
            return
        self.beginResetModel()
        self.total, self._pages, self._wanted, self._reading = page.total, {0: page.rows}, {}, None
        self._resetting = False
        self.endResetModel()
        self.reset_done.emit()

    def _read_wanted(self) -> None:
        if self._resetting or self._reading is not None:
            return  # called again when that answer arrives
        while self._wanted:
            number = self._wanted.popitem()[0]  # the last asked: the rows on screen now
            if self._readable(number):
                break
        else:
            return
        first = last = number
        for neighbour in (number - 1, number + 1):  # the rows on screen often straddle two pages: one read
            if neighbour in self._wanted and self._readable(neighbour):
                del self._wanted[neighbour]
                first, last = min(first, neighbour), max(last, neighbour)
        cursor, limit = self._cursor(first, last)
        self._reading = (first, last)
        uow, user, query, generation = self._uow, self._user, self.query, self.generation
        self._run(lambda: (generation, first, sessions_page(uow(), user, query, cursor, limit)), self._arrived,
                  generation)

    def _readable(self, number: int) -> bool:
        return number not in self._pages and 0 <= number * PAGE_SIZE < self.total

    def _cursor(self, first_page: int, last_page: int) -> tuple[SessionCursor, int]:
        """From the nearest page already read, or from the start or the end of the list: as few rows to skip as
        possible (a page next to one on screen skips none)."""
        first, end = first_page * PAGE_SIZE, min((last_page + 1) * PAGE_SIZE, self.total)
        skip, cursor = first, SessionCursor(None, False, first)
        if self.total - end < skip:
            skip, cursor = self.total - end, SessionCursor(None, True, self.total - end)
        for other, rows in self._pages.items():
            if rows and other < first_page and first - (other * PAGE_SIZE + len(rows)) < skip:
                skip = first - (other * PAGE_SIZE + len(rows))
                cursor = SessionCursor(rows[-1], False, skip)
            elif rows and other > last_page and other * PAGE_SIZE - end < skip:
                skip = other * PAGE_SIZE - end
                cursor = SessionCursor(rows[0], True, skip)
        return cursor, end - first

    def _arrived(self, result: tuple[int, int, SessionPage]) -> None:
        generation, first, page = result
        if generation != self.generation:
            self.dropped += 1  # a page of an earlier query: its rows would mix with the new ones
            return
        _first, last = self._reading
        self._reading = None
        for number in range(first, last + 1):
            self._pages[number] = page.rows[(number - first) * PAGE_SIZE:(number - first + 1) * PAGE_SIZE]
        for far in sorted(self._pages, key=lambda n: abs(n - first))[KEPT_PAGES:]:
            del self._pages[far]  # far from the view: read again if it comes back
        if page.rows:
            self.dataChanged.emit(self.index(first * PAGE_SIZE, 0),
                                  self.index(first * PAGE_SIZE + len(page.rows) - 1, len(self.columns) - 1))
        self.page_loaded.emit(first)
        self._read_wanted()

    def _failed(self, generation: int, exc: BaseException) -> None:
        # A failed first page leaves `_resetting` set: the rows shown stay the old query's, no page of the new one
        # is read into them; the next reload starts afresh. A failed page may be asked again by the view.
        if generation == self.generation and not self._resetting:
            self._reading = None
        show_error(None, exc)

    def set_text(self, text: str) -> None:
        self.set_filter(text=text)

    def set_filter(self, **changes) -> None:
        """Search text, month ("YYYY-MM"), status or decision (None: all); the database filters, then reloads."""
        self._change(replace(self.query, **changes))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.SORT_KEYS.get(column)
        if key is not None:
            self._change(replace(self.query, sort=key, descending=order == Qt.SortOrder.DescendingOrder))

    def _change(self, query: SessionQuery) -> None:
        # QTableView.sortByColumn sorts twice (once through the header's signal): the same query is not run again
        if query != self.query:
            self.query = query
            if self._loaded:
                self.reload()


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
        self.model.background = True  # no query on the GUI thread: the window never waits for the database
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
        row = row_of(index)
        if row is None:
            return None  # a row still being read (« … »)
        form = open_session_editor(self, self._uow, self._user, row, self._today, self.refresh,
                                   already_open=self.session_form)
        self.session_form = form or self.session_form
        return form

    def _counted(self) -> None:
        n = self.model.total
        self.count_label.setText(f"{n:,} séance{'s' if n > 1 else ''}".replace(",", "\u202f"))
        self.sessions_loaded.emit()
