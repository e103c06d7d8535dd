"""ui.errors: French messages, no traceback on screen, everything unexpected in the log."""
import logging
import sys

from PySide6.QtWidgets import QMessageBox, QWidget

from services.errors import PermissionDenied
from ui.errors import install_excepthook, show_domain_error, show_unexpected_error


def test_domain_error_shows_its_french_message(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    box = show_domain_error(parent, PermissionDenied("Seul un coordinateur peut valider une orientation."))
    assert box.text() == "Seul un coordinateur peut valider une orientation."
    box.close()


def test_unexpected_error_is_logged_with_traceback_but_not_shown(qtbot, caplog):
    parent = QWidget()
    qtbot.addWidget(parent)
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as exc:
        with caplog.at_level(logging.ERROR):
            box = show_unexpected_error(parent, exc)
    assert "ZeroDivisionError" not in box.text() + box.informativeText()
    assert caplog.records[-1].exc_info[0] is ZeroDivisionError
    box.close()


def test_excepthook_logs_and_opens_a_dialog_instead_of_crashing(qtbot, caplog):
    restore = install_excepthook()
    try:
        with caplog.at_level(logging.ERROR):
            try:
                raise RuntimeError("oops")
            except RuntimeError:
                sys.excepthook(*sys.exc_info())
    finally:
        restore()
    boxes = [w for w in __import__("PySide6.QtWidgets").QtWidgets.QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)
    for box in boxes:
        box.close()
