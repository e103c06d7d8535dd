"""The inactivity lock: it comes after the injected delay, hides every family's data (pages, dialogs, title,
status bar), and the current user's password puts everything back as it was, a half-filled session form included."""
import json

import pytest
from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QApplication, QComboBox, QLabel, QLineEdit,
                               QPlainTextEdit, QTabBar, QWidget)

from services.errors import ValidationError
from services.permissions import SYSTEM
from services.users import change_password
from tests.programme_fixture import EXAMPLE
from ui.app import AppController
from ui.errors import show_domain_error
from ui.lock import LOCK_MINUTES, SETTINGS_KEY, lock_delay_ms
from ui.login import LoginDialog

PASSWORD = "cheval-agrafe-pile"
HOUR = 3_600_000


def personal_texts() -> set[str]:
    """Every family, guardian and child name of the example programme."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    names = set()
    for family in data["families"]:
        names.add(family["name"])
        names.update(g["name"] for g in family.get("guardians", ()))
        names.update(f"{c['first_name']} {c['last_name']}" for c in family.get("children", ()))
    return names


def _model_texts(model) -> list[str]:
    texts = []
    root = QModelIndex()
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(root)  # private in list models
    for row in range(model.rowCount(root)):
        for column in range(columns):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                value = model.index(row, column).data(role)
                if isinstance(value, str):
                    texts.append(value)
    return texts


def _widget_texts(widget: QWidget) -> list[str]:
    if isinstance(widget, QLabel):
        return [widget.text(), widget.toolTip()]
    if isinstance(widget, QLineEdit):
        return [widget.text(), widget.placeholderText()]
    if isinstance(widget, QPlainTextEdit):
        return [widget.toPlainText()]
    if isinstance(widget, QComboBox):
        return [widget.itemText(i) for i in range(widget.count())]
    if isinstance(widget, QAbstractButton):
        return [widget.text(), widget.toolTip()]
    if isinstance(widget, QTabBar):
        return [widget.tabText(i) for i in range(widget.count())]
    if isinstance(widget, QAbstractItemView) and widget.model() is not None:
        return _model_texts(widget.model())
    return [widget.toolTip()]


def visible_texts() -> str:
    """Everything the screen shows: window titles and the texts of every visible widget of every visible window."""
    texts = []
    for window in QApplication.topLevelWidgets():
        if not window.isVisible():
            continue
        texts.append(window.windowTitle())
        for widget in [window, *window.findChildren(QWidget)]:
            if widget.isVisible():
                texts += _widget_texts(widget)
    return "\n".join(t for t in texts if t)


def leaked(names: set[str]) -> set[str]:
    shown = visible_texts()
    return {name for name in names if name in shown}


@pytest.fixture
def referent_app(qtbot, programme, tmp_path, today):
    change_password(programme.uow(), SYSTEM, "ref-martin", PASSWORD)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    app = AppController(programme.uow, "", settings=settings, lock_delay_ms=HOUR, today=today)
    window = app.set_user(programme.referent)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    yield app
    if app.window is not None:
        app.window.close()


def _open_lefevre(qtbot, window, programme):
    page = window.show_page("families")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    with qtbot.waitSignal(page.family_opened, timeout=5000):
        page.open_family(programme.family["F1"])
    return page


def _unlock(qtbot, lock, password):
    screen = lock.screen
    screen.password.setText(password)
    screen.message.setVisible(False)
    screen.unlock_button.click()
    qtbot.waitUntil(lambda: not lock.is_locked or not screen.message.isHidden(), timeout=10_000)


def test_lock_comes_after_the_delay_hides_family_data_and_the_password_restores_everything(qtbot, referent_app,
                                                                                          programme):
    window, lock = referent_app.window, referent_app.screen_lock
    page = _open_lefevre(qtbot, window, programme)
    form = window.open_session_form(programme.family["F1"])
    qtbot.waitExposed(form)
    qtbot.keyClicks(form.duration, "1h30")
    form.notes.setPlainText("Devoirs avec Léa, à reprendre jeudi")
    assert "Famille Lefèvre" in leaked(personal_texts())  # the walk sees what the screen shows

    with qtbot.waitSignal(lock.locked, timeout=5000):
        lock.delay_ms = 50  # the injected delay; no input comes in the meantime
    lock.delay_ms = HOUR  # from the unlock on: 50 ms would lock again while a loaded machine checks the window
    assert leaked(personal_texts()) == set()
    assert "Devoirs avec Léa" not in visible_texts()
    assert window.isVisible() and window.windowTitle() == "Parcours — verrouillé"
    assert not window.isAncestorOf(page) and not form.isVisible()  # the pages are out of the window's tree
    assert not window.new_session_action.isEnabled() and window.open_session_form() is None  # no Ctrl+N either

    _unlock(qtbot, lock, "pas le bon mot de passe")
    assert lock.is_locked and lock.screen.message.text() == "Mot de passe incorrect."
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):
        _unlock(qtbot, lock, PASSWORD)
    assert window.isAncestorOf(page) and window.stack.currentWidget() is page
    assert page.file_view.title.text() == "Famille Lefèvre"
    assert form.isVisible() and form.duration.text() == "1h30"
    assert form.notes.toPlainText() == "Devoirs avec Léa, à reprendre jeudi"
    assert window.new_session_action.isEnabled() and "Claire Martin" in window.windowTitle()


def test_input_restarts_the_countdown(qtbot, referent_app):
    lock = referent_app.screen_lock
    qtbot.wait(20)
    before = lock._timer.remainingTime()
    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(5, 5), QPointF(5, 5), Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(referent_app.window, move)
    assert lock._timer.remainingTime() > before and not lock.is_locked


def test_a_window_that_opens_while_locked_waits_for_the_unlock(qtbot, referent_app, programme):
    window, lock = referent_app.window, referent_app.screen_lock
    page = _open_lefevre(qtbot, window, programme)
    lock.lock()
    box = show_domain_error(page.file_view, ValidationError("La famille Lefèvre n'a pas de séance ce jour-là."))
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=2000)
    assert leaked({"Lefèvre"}) == set()
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):
        _unlock(qtbot, lock, PASSWORD)
    assert box.isVisible()


def test_the_lock_screen_offers_to_change_user(qtbot, referent_app):
    referent_app.screen_lock.lock()
    referent_app.screen_lock.screen.switch_button.click()
    assert isinstance(referent_app.window, LoginDialog) and referent_app.user is None
    qtbot.addWidget(referent_app.window)


def test_the_delay_is_fifteen_minutes_unless_the_settings_say_otherwise(tmp_path):
    settings = QSettings(str(tmp_path / "lock.ini"), QSettings.Format.IniFormat)
    assert lock_delay_ms(settings) == LOCK_MINUTES * 60_000 == 900_000
    settings.setValue(SETTINGS_KEY, 5)
    assert lock_delay_ms(settings) == 300_000
    settings.setValue(SETTINGS_KEY, "n'importe quoi")
    assert lock_delay_ms(settings) == 900_000


def _lock_note(lock) -> str:
    return next(label.text() for label in lock.screen.findChildren(QLabel) if "données sont masquées" in label.text())


def test_the_lock_screen_says_whether_it_was_asked_for_or_came_after_the_delay(qtbot, referent_app):
    window, lock = referent_app.window, referent_app.screen_lock
    with qtbot.waitSignal(lock.locked, timeout=5000):
        window.lock_requested.emit()  # Ctrl+L
    assert "(à votre demande)" in _lock_note(lock) and "sans activité" not in _lock_note(lock)
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):
        _unlock(qtbot, lock, PASSWORD)
    with qtbot.waitSignal(lock.locked, timeout=5000):
        lock._timer.timeout.emit()  # the delay ran out
    assert "(après 60 minutes sans activité)" in _lock_note(lock)
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):
        _unlock(qtbot, lock, PASSWORD)
