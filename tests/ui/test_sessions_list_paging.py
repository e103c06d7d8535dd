"""The big session list reads its rows by keyset pages in the background: a late page of an earlier search is
dropped, one user action runs one query, and no query runs on the GUI thread, even for a jump to 80 %."""
import threading

import pytest
from PySide6.QtCore import QThreadPool, Qt
from sqlalchemy import event

import ui.pages.sessions_page as sessions_page
from services.home_sessions import SessionQuery, list_sessions
from ui.pages.sessions_page import LazySessionsModel, SessionsPage
from tests.session_rows import add_sessions
from ui.table_model import ROW_ROLE

WAIT = 10000


@pytest.fixture
def many(programme, engine):
    add_sessions(programme, engine)  # 44 sessions: 22 of the Lefèvre family and Benali, 22 of Diallo and Morel
    return programme


class Gate:
    """The page's unit-of-work factory; `hold_next()` makes the next unit of work opened wait for `release()`
    (on the pool's thread: the GUI thread goes on meanwhile). Counts the units of work: one per query."""

    def __init__(self, factory):
        self.factory, self.opened = factory, 0
        self._armed = False
        self.holding, self._open = threading.Event(), threading.Event()

    def hold_next(self) -> None:
        self._armed = True

    def release(self) -> None:
        self._open.set()

    def __call__(self):
        self.opened += 1
        if self._armed:
            self._armed = False
            self.holding.set()
            self._open.wait(WAIT / 1000)
        return self.factory()


def _page(qtbot, programme, factory, height: int = 600) -> SessionsPage:
    page = SessionsPage(factory, programme.coordinator)
    qtbot.addWidget(page)
    page.resize(1000, height)
    page.show()
    with qtbot.waitSignal(page.sessions_loaded, timeout=WAIT):
        page.refresh()
    return page


def _read_everything(qtbot, model: LazySessionsModel) -> list:
    """Asks for every row as a view would, until every one is in."""
    qtbot.waitUntil(lambda: all(model.index(r, 0).data() != "…" for r in range(model.rowCount())), timeout=WAIT)
    return [model.index(r, 0).data(ROW_ROLE) for r in range(model.rowCount())]


def _matches(row, text: str) -> bool:
    return text in f"{row.family_name} {row.intervenant_name} {row.key}".lower()


def test_the_search_never_shows_rows_of_an_earlier_query(qtbot, many, monkeypatch):
    monkeypatch.setattr(sessions_page, "PAGE_SIZE", 5)
    gate = Gate(many.uow)
    page = _page(qtbot, many, gate)
    model = page.model
    with qtbot.waitSignal(model.reset_done, timeout=WAIT):
        model.set_text("benali")
    assert model.total == 22 and all(_matches(r, "benali") for r in model.loaded_rows())
    gate.hold_next()
    assert model.index(7, 0).data() == "…"  # the view asks for page 2 of « benali »: its read waits at the gate
    qtbot.waitUntil(gate.holding.is_set, timeout=WAIT)
    with qtbot.waitSignal(model.reset_done, timeout=WAIT):
        page.search.setText("diallo")  # typed before page 2 of « benali » arrived
    gate.release()
    qtbot.waitUntil(lambda: model.dropped == 1, timeout=WAIT)  # page 2 of « benali » came, and was thrown away
    shown = _read_everything(qtbot, model)
    assert len(shown) == model.total == 22
    assert all(_matches(r, "diallo") for r in shown)
    assert all("Diallo" in page.proxy.index(r, LazySessionsModel.FAMILY).data() for r in range(page.proxy.rowCount()))


def test_one_sort_and_one_search_each_run_one_query(qtbot, many):
    gate = Gate(many.uow)
    page = _page(qtbot, many, gate)
    before = gate.opened
    with qtbot.waitSignal(page.sessions_loaded, timeout=WAIT):
        page.view.sortByColumn(LazySessionsModel.FAMILY, Qt.SortOrder.AscendingOrder)  # Qt sorts twice here
    QThreadPool.globalInstance().waitForDone()
    qtbot.wait(50)
    assert gate.opened - before == 1
    assert page.model.query.sort == "family" and not page.model.query.descending
    before = gate.opened
    with qtbot.waitSignal(page.sessions_loaded, timeout=WAIT):
        page.search.setText("morel")
    QThreadPool.globalInstance().waitForDone()
    qtbot.wait(50)
    assert gate.opened - before == 1 and page.model.total == 22


def test_jumping_to_80_percent_reads_the_rows_there_off_the_gui_thread(qtbot, qtmodeltester, many, engine,
                                                                       monkeypatch):
    monkeypatch.setattr(sessions_page, "PAGE_SIZE", 4)
    expected = list_sessions(many.uow(), many.coordinator, SessionQuery(), 0, 100)  # by OFFSET, the reference
    on_gui_thread = []

    def record(_conn, _cursor, statement, *_args):
        if threading.current_thread() is threading.main_thread():
            on_gui_thread.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        page = _page(qtbot, many, many.uow, height=330)  # about ten rows on screen
        bar = page.view.verticalScrollBar()
        qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=WAIT)  # laid out
        bar.setValue(int(bar.maximum() * 0.8))
        view, model = page.view, page.model
        first = view.rowAt(0)
        last = view.rowAt(view.viewport().height() - 1)
        last = model.rowCount() - 1 if last < 0 else last
        assert first > len(expected) // 2
        qtbot.waitUntil(lambda: all(model.index(r, 0).data() != "…" for r in range(first, last + 1)), timeout=WAIT)
        assert [model.index(r, 0).data(ROW_ROLE).id for r in range(first, last + 1)] == \
            [s.id for s in expected[first:last + 1]]
        assert len(model.loaded_rows()) < first  # the rows above were not read on the way
        qtmodeltester.check(model)  # rows not read yet included
        with qtbot.waitSignal(page.sessions_loaded, timeout=WAIT):
            page.view.sortByColumn(LazySessionsModel.FAMILY, Qt.SortOrder.DescendingOrder)
        shown = _read_everything(qtbot, model)
        QThreadPool.globalInstance().waitForDone()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    by_family = list_sessions(many.uow(), many.coordinator, SessionQuery(sort="family", descending=True), 0, 100)
    assert [r.id for r in shown] == [r.id for r in by_family]
    assert on_gui_thread == []
