"""Keyboard and navigation: the focus after login, Ctrl+F, Échap / Alt+Gauche back, « Mes familles » back to the
list, and the « Aide » menu's shortcuts (read from the window's actions) and first steps."""
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from ui.help_dialogs import FIRST_STEPS, key_text


def _active(qtbot, window):
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    return window


def _families_loaded(qtbot, window):
    _active(qtbot, window)
    page = window.pages["families"]
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10000)
    return page


def _open_file(qtbot, window, programme):
    page = _families_loaded(qtbot, window)
    with qtbot.waitSignal(page.family_opened, timeout=10000):
        window.show_family(programme.family["F1"])
    assert page.showing_file()
    return page


def _press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, key, modifier)


def test_after_login_the_focus_is_in_the_families_search_not_the_sidebar(qtbot, open_window, programme):
    window = open_window(programme.referent)
    page = _families_loaded(qtbot, window)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.search, timeout=5000)
    assert not window.nav.hasFocus()


def test_ctrl_f_focuses_the_search_of_the_page_on_screen(qtbot, open_window, programme):
    window = open_window(programme.referent)
    sessions = window.show_page("sessions")
    _active(qtbot, window)
    window.nav.setFocus()
    assert QApplication.focusWidget() is window.nav
    _press(qtbot, window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is sessions.search


def test_ctrl_f_from_a_family_file_goes_back_to_the_list_search(qtbot, open_window, programme):
    window = open_window(programme.referent)
    page = _open_file(qtbot, window, programme)
    page.file_view.tabs.setFocus()
    _press(qtbot, window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert not page.showing_file() and QApplication.focusWidget() is page.search


def test_escape_and_alt_left_go_back_from_a_family_file_to_the_list(qtbot, open_window, programme):
    window = open_window(programme.referent)
    page = _open_file(qtbot, window, programme)
    page.file_view.tabs.setFocus()
    _press(qtbot, window, Qt.Key.Key_Escape)
    assert not page.showing_file() and window.isVisible()
    _open_file(qtbot, window, programme)
    page.file_view.tabs.setFocus()
    _press(qtbot, window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert not page.showing_file()


def test_escape_on_the_list_leaves_the_window_open_and_in_a_dialog_closes_only_the_dialog(qtbot, open_window,
                                                                                         programme):
    window = open_window(programme.referent)
    page = _open_file(qtbot, window, programme)
    box = QMessageBox(QMessageBox.Icon.Question, "Question", "Continuer ?",
                      QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, window)
    box.open()
    qtbot.waitExposed(box)
    box.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is box, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget() or box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5000)
    assert page.showing_file(), "Échap in the dialog must not also take the window back"
    page.go_back()
    page.search.setFocus()
    _press(qtbot, window, Qt.Key.Key_Escape)
    assert window.isVisible() and not page.showing_file()
    assert not window.back_action.isEnabled()  # on the list, Échap stays the widgets'


def test_clicking_mes_familles_while_a_file_is_shown_goes_back_to_the_list(qtbot, open_window, programme):
    window = open_window(programme.referent)
    page = _open_file(qtbot, window, programme)
    item = window.nav.item(0)
    assert item.text() == "Mes familles"
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.nav.visualItemRect(item).center())
    assert not page.showing_file() and window.stack.currentWidget() is page


def test_shortcuts_dialog_lists_the_window_actions_keys(qtbot, open_window, programme):
    window = open_window(programme.referent)
    dialog = window.open_shortcuts()
    qtbot.addWidget(dialog)
    rows = dict(dialog.rows())
    assert rows["Ctrl+N"] == "Nouvelle séance"
    assert rows["Ctrl+F"] == "Rechercher"
    assert rows["Échap ou Alt+Gauche"] == "Retour"
    assert rows["F5"] == "Actualiser"
    assert rows["Ctrl+L"] == "Verrouiller"
    assert "Entrée ou double-clic" in rows
    dialog.close()
    window.refresh_action.setShortcut(QKeySequence("Ctrl+R"))  # the list follows the actions: it cannot drift
    again = dict(window.open_shortcuts().rows())
    assert again.get("Ctrl+R") == "Actualiser" and "F5" not in again


def test_shortcuts_dialog_leaves_out_what_the_role_cannot_do(qtbot, open_window, programme):
    window = open_window(programme.administrator)
    rows = dict(window.open_shortcuts().rows())
    assert "Ctrl+N" not in rows and rows["Ctrl+F"] == "Rechercher"


def test_key_names_are_french():
    assert key_text(QKeySequence("Alt+Left")) == "Alt+Gauche"
    assert key_text(QKeySequence("Escape")) == "Échap"
    assert key_text(QKeySequence("Ctrl+Shift+Return")) == "Ctrl+Maj+Entrée"


def test_first_steps_guide_covers_the_start_of_a_team(qtbot, open_window, programme):
    window = open_window(programme.coordinator)
    dialog = window.open_first_steps()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    for step in ("Administration › Utilisateurs", "Conventions", "Intervenants", "Familles", "Proposer une orientation",
                 "Ctrl+N", "États mensuels", "Émettre"):
        assert step in text, step
    assert "Premiers pas" in text and FIRST_STEPS
