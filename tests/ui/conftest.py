from datetime import date

import gc

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from tests.programme_fixture import programme  # noqa: F401 - fixture shared with the window tests

TODAY = date(2025, 3, 20)


@pytest.fixture
def today():
    return lambda: TODAY


@pytest.fixture(scope="session", autouse=True)
def _french_qt(qapp):
    """Qt's own words in French, as run_app installs them: the tests see what the user sees."""
    from ui.translations import install_french

    assert install_french(qapp)


@pytest.fixture(autouse=True)
def _drain_background_work(qtbot):
    """Let no background job outlive its test (its database is about to be deleted), nor any window: one left
    open by a failed test (or a window the application replaced and deleted, so not qtbot's) would stay in front
    of the next tests' windows, a lock left locked would keep them off the screen."""
    yield
    for widget in QApplication.topLevelWidgets():
        if widget.isVisible():
            getattr(widget, "close_at_once", widget.close)()
            widget.deleteLater()
    QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(10)
    # Collect the test's Qt wrappers here, on the GUI thread: left for later, Python's collector may run them down
    # inside a background job of the next test, where PySide6 crashes (« Garbage-collecting », segfault).
    gc.collect()


@pytest.fixture
def open_window(qtbot, programme, today, tmp_path):
    """open_window(user) -> a shown MainWindow on the example programme, with its own settings file."""
    from PySide6.QtCore import QSettings

    from ui.main_window import MainWindow

    def make(user, today_=today):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(programme.uow, user, settings=settings, today=today_)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        return window

    return make
