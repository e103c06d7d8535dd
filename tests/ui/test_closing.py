"""Closing the main window never hides work still running (ui.closing): the window stays on screen behind a
« Sauvegarde en cours… » (or « Opération en cours… ») dialog until the copy of the real database is written and the
window's background work is done; a failed copy is said calmly and the user closes anyway or stays."""
import sqlite3
import threading
from contextlib import closing
from datetime import date

import pytest
import shiboken6
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

import ui.closing
from services.backup import inspect_database
from services.consent import record_consent
from services.permissions import SYSTEM
from services.users import change_password
from ui.app import AppController
from ui.background import run_in_background

HOUR = 3_600_000
PASSWORD = "cheval-agrafe-pile"


@pytest.fixture(autouse=True)
def _progress_at_once(monkeypatch):
    monkeypatch.setattr(ui.closing, "SHOW_AFTER_MS", 0)  # the dialog of a short wait shows too, to be read


@pytest.fixture
def open_app(qtbot, programme, db_path, tmp_path):
    """open_app(backups) -> an AppController whose main window (the coordinator's) is shown on the real file."""
    made = []

    def make(backups):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        app = AppController(programme.uow, db_path, settings=settings, lock_delay_ms=HOUR, backups_dir=backups)
        window = app.set_user(programme.coordinator)
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: not _running_work(window), timeout=10_000)  # its first page has loaded
        made.append(app)
        return app

    yield make
    for app in made:
        for window in (app.main_window, app.window):
            if shiboken6.isValid(window) and window.isVisible():
                getattr(window, "close_at_once", window.close)()
        app.shutdown(5000)


def _running_work(window):
    from ui.background import BackgroundTask

    return [task for task in window.findChildren(BackgroundTask) if not task.done]


def _change(programme):
    record_consent(programme.uow(), programme.coordinator, "F2", date(2025, 3, 1), "Accompagnement PRE")


def _copies(folder):
    return sorted(folder.glob("parcours-*.sqlite")) if folder.is_dir() else []


def _hold(db_path):
    """Another program holds the database for a moment: the copy has to wait, as a big one takes seconds."""
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def _let_go(holder):
    holder.execute("COMMIT")
    holder.close()


def _progress(window):
    return [d for d in window.findChildren(QProgressDialog, "closingProgress") if d.isVisible()]


def _question(window):
    [box] = [b for b in window.findChildren(QMessageBox, "closingBackupFailed") if b.isVisible()]
    return box


def _button(box, text):
    [button] = [b for b in box.buttons() if b.text() == text]
    return button


def test_the_window_stays_with_the_backup_progress_until_the_copy_is_written(qtbot, open_app, programme, engine,
                                                                            db_path, tmp_path):
    backups = tmp_path / "backups"
    app = open_app(backups)
    window = app.window
    _change(programme)
    engine.dispose()  # the window's idle connections would keep the holder below from taking the file
    holder = _hold(db_path)
    try:
        window.close()
        qtbot.waitUntil(lambda: bool(_progress(window)), timeout=5000)
        [progress] = _progress(window)
        assert window.isVisible() and app.autobackup.running
        assert progress.labelText().startswith("Sauvegarde en cours…")
        assert progress.isModal() and progress.parentWidget().window() is window
        assert _copies(backups) == []
    finally:
        _let_go(holder)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert not _progress(window) and not app.autobackup.running
    # The holder's checkpoint, when it let go, rewrote the file: that may be copied once more before the close.
    copy = _copies(backups)[-1]
    assert inspect_database(copy).ok
    with closing(sqlite3.connect(copy)) as db:
        assert db.execute("SELECT consent_scope FROM family WHERE key = 'F2'").fetchone() == ("Accompagnement PRE",)


def test_running_work_of_the_window_is_waited_for_before_it_closes(qtbot, open_app, programme, tmp_path):
    app = open_app(tmp_path / "backups")
    window = app.window
    release, finished = threading.Event(), []
    run_in_background(window.current_page(), lambda: release.wait(10), finished.append)
    window.close()
    qtbot.waitUntil(lambda: bool(_progress(window)), timeout=5000)
    assert window.isVisible() and _progress(window)[0].labelText().startswith("Opération en cours…")
    release.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert finished == [True]  # the work ended in the window, its result delivered


def test_without_a_change_or_work_the_window_closes_at_once(qtbot, open_app, tmp_path):
    backups = tmp_path / "backups"
    app = open_app(backups)
    app.window.close()
    assert not app.window.isVisible() and app.autobackup.task is None and _copies(backups) == []


def _closed_with_a_failing_backup(qtbot, open_app, programme, backups):
    """A change, then a close whose copy fails (the backups folder is a file): returns once the question is up."""
    backups.write_text("un fichier, pas un dossier")
    app = open_app(backups)
    _change(programme)
    app.window.close()
    qtbot.waitUntil(lambda: any(b.isVisible() for b in app.window.findChildren(QMessageBox, "closingBackupFailed")),
                    timeout=10_000)
    return app


def test_a_failed_backup_is_said_and_the_user_may_close_anyway(qtbot, open_app, programme, tmp_path):
    not_a_folder = tmp_path / "backups"
    app = _closed_with_a_failing_backup(qtbot, open_app, programme, not_a_folder)
    window = app.window
    box = _question(window)
    assert window.isVisible() and not _progress(window)
    assert box.text() == "La sauvegarde de fermeture n'a pas pu être faite."
    assert f"« {not_a_folder} »" in box.informativeText()  # the folder to fix is named
    assert "Vos données sont intactes dans la base" in box.informativeText()
    _button(box, ui.closing.CLOSE_ANYWAY).click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert not app.autobackup.running


def test_staying_after_a_failed_backup_keeps_the_window_and_the_next_close_copies(qtbot, open_app, programme,
                                                                                   tmp_path):
    backups = tmp_path / "backups"
    app = _closed_with_a_failing_backup(qtbot, open_app, programme, backups)
    window = app.window
    _button(_question(window), ui.closing.STAY).click()
    qtbot.wait(50)
    assert window.isVisible()
    assert window.statusBar().currentMessage().startswith("La sauvegarde automatique n'a pas pu être faite")
    backups.unlink()  # the user fixed the folder
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    [copy] = _copies(backups)
    assert inspect_database(copy).ok


def test_switching_user_closes_the_window_at_once_and_copies_in_the_background(qtbot, open_app, programme, tmp_path):
    backups = tmp_path / "backups"
    app = open_app(backups)
    window = app.window
    _change(programme)
    login = app.ask_login()
    assert not window.isVisible() and login.isVisible()
    task = app.autobackup.task
    assert task is not None
    qtbot.waitUntil(lambda: task.done, timeout=10_000)
    [copy] = _copies(backups)
    assert inspect_database(copy).ok


def test_quitting_while_a_copy_runs_shows_it_until_it_is_written(qtbot, open_app, programme, engine, db_path,
                                                                 tmp_path):
    backups = tmp_path / "backups"
    app = open_app(backups)
    _change(programme)
    engine.dispose()
    holder = _hold(db_path)
    app.ask_login()  # the copy of the switch starts, and waits for the holder
    app.window.close()  # then the login dialog is closed: the application quits
    seen = []

    def look_then_let_go():
        seen.extend(d.labelText() for d in QApplication.topLevelWidgets()
                    if isinstance(d, QProgressDialog) and d.isVisible())
        _let_go(holder)

    QTimer.singleShot(300, look_then_let_go)
    app.shutdown(10_000)
    assert seen and seen[0].startswith("Sauvegarde en cours…")
    assert not app.autobackup.running and inspect_database(_copies(backups)[-1]).ok
    assert not [d for d in QApplication.topLevelWidgets() if isinstance(d, QProgressDialog) and d.isVisible()]


def test_a_locked_window_that_is_closed_stays_locked_and_asks_at_the_unlock(qtbot, open_app, programme, tmp_path):
    change_password(programme.uow(), SYSTEM, "coord-durand", PASSWORD)
    backups = tmp_path / "backups"
    backups.write_text("un fichier, pas un dossier")
    app = open_app(backups)
    window, lock = app.window, app.screen_lock
    _change(programme)
    lock.lock()
    window.close()  # from the window manager, on the lock screen
    qtbot.waitUntil(lambda: bool(window.findChildren(QMessageBox, "closingBackupFailed")), timeout=10_000)
    qtbot.wait(100)
    assert window.isVisible() and window.covered  # still there, still locked: nothing shown past the lock
    assert not any(b.isVisible() for b in window.findChildren(QMessageBox, "closingBackupFailed"))
    lock.screen.password.setText(PASSWORD)
    lock.screen.unlock_button.click()
    qtbot.waitUntil(lambda: any(b.isVisible() for b in window.findChildren(QMessageBox, "closingBackupFailed")),
                    timeout=10_000)
    _button(_question(window), ui.closing.CLOSE_ANYWAY).click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
