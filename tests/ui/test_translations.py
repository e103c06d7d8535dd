"""Qt's own words in French (ui.translations, installed for every UI test by conftest as run_app does), and the
window's calm dialog naming the faults it can name (ui.errors with services.store_faults / file_faults)."""
from __future__ import annotations

import logging
import re
import sqlite3
import sys

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import (QApplication, QDialogButtonBox, QFileDialog, QLabel, QLineEdit, QMessageBox,
                               QWidget)

from services import store_faults
from ui.errors import FAULT_TITLE, UNEXPECTED_TITLE, install_excepthook, show_error, show_unexpected_error
from ui.translations import install_french

ENGLISH = ("Look in", "Files of type", "File name", "Save", "Cancel", "Open", "Copy", "Paste", "Yes", "No",
           "Page Set", "Print")


def _english(texts: list[str]) -> list[str]:
    return [t for t in texts if re.search(rf"\b({'|'.join(ENGLISH)})\b", t.replace("&", ""))]


def _texts(widget: QWidget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel)] + [
        button.text() for box in widget.findChildren(QDialogButtonBox) for button in box.buttons()]


def test_install_is_idempotent_and_makes_french_the_default_locale(qapp):
    assert install_french(qapp) and install_french(qapp)
    assert QLocale().language() == QLocale.Language.French


def test_qt_catalogue_answers_in_french(qapp):
    assert QCoreApplication.translate("QFileDialog", "Look in:") == "Voir dans\u00a0:"
    assert QCoreApplication.translate("QFileDialog", "&Look in:") == "&Regarder dans\u00a0:"  # our supplement
    assert QCoreApplication.translate("QFileDialog", "Files of &type:") == "&Type de fichier\u00a0:"


def test_qt_own_save_dialog_is_french(qtbot):
    dialog = QFileDialog(None, "Enregistrer le PDF de l'état", "", "PDF (*.pdf)")
    qtbot.addWidget(dialog)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    texts = _texts(dialog)
    assert {"&Regarder dans\u00a0:", "&Nom de fichier\u00a0:", "&Type de fichier\u00a0:", "&Enregistrer",
            "Annuler"} <= set(texts)
    assert not _english(texts)


def test_standard_buttons_and_the_text_field_menu_are_french(qtbot):
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(buttons)
    assert sorted(b.text() for b in buttons.buttons()) == ["Annuler", "Enregistrer"]
    box = QMessageBox(QMessageBox.Icon.Question, "Parcours", "?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    qtbot.addWidget(box)
    assert sorted(b.text() for b in box.buttons()) == ["&Non", "&Oui"]
    field = QLineEdit()
    qtbot.addWidget(field)
    menu = field.createStandardContextMenu()
    actions = [a.text().split("\t")[0].replace("&", "") for a in menu.actions() if a.text()]
    assert {"Copier", "Coller", "Couper", "Tout sélectionner"} <= set(actions)
    menu.deleteLater()


def test_print_dialog_is_french(qtbot):
    print_support = pytest.importorskip("PySide6.QtPrintSupport")
    dialog = print_support.QPrintDialog(print_support.QPrinter())
    qtbot.addWidget(dialog)
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert "&Pages à imprimer\u00a0:" in texts and "Copies\u00a0:" in texts
    assert not _english(texts)


# -- faults that can be named, in the window -----------------------------------------------------------------

@pytest.fixture
def locked_fault(tmp_path):
    """The exception a write gets on a database another program holds (BEGIN EXCLUSIVE), through SQLAlchemy."""
    from sqlalchemy import create_engine, event  # the test builds the fault; ui/ never imports sqlalchemy

    path = tmp_path / "occupée.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda conn, _r: conn.execute("PRAGMA busy_timeout=50"))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    except Exception as exc:  # noqa: BLE001 - the fault under test
        return exc
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    pytest.fail("the database was not locked")


def test_a_locked_database_is_said_calmly_and_still_logged(qtbot, locked_fault, caplog):
    parent = QWidget()
    qtbot.addWidget(parent)
    with caplog.at_level(logging.ERROR):
        box = show_error(parent, locked_fault)
    assert box.windowTitle() == FAULT_TITLE != UNEXPECTED_TITLE
    assert box.text() == store_faults.BUSY
    assert "journal" in box.informativeText() and "OperationalError" not in box.informativeText()
    assert caplog.records[-1].exc_info[1] is locked_fault
    box.close()


def test_a_missing_file_is_named_in_the_window(qtbot, tmp_path):
    parent = QWidget()
    qtbot.addWidget(parent)
    try:
        (tmp_path / "absent.pdf").read_bytes()
    except OSError as exc:
        box = show_unexpected_error(parent, exc)
    assert box.text() == f"Le fichier « {tmp_path / 'absent.pdf'} » est introuvable."
    assert "No such file" not in box.text() + box.informativeText()
    box.close()


def test_an_error_already_logged_is_named_without_logging_it_twice(qtbot, locked_fault, caplog):
    parent = QWidget()
    qtbot.addWidget(parent)
    with caplog.at_level(logging.ERROR):
        box = show_unexpected_error(parent, locked_fault, logged=True)
    assert box.text() == store_faults.BUSY and not caplog.records
    box.close()


def test_the_excepthook_names_a_damaged_database(qtbot, caplog):
    restore = install_excepthook()
    try:
        with caplog.at_level(logging.ERROR):
            try:
                raise sqlite3.DatabaseError("database disk image is malformed")
            except sqlite3.DatabaseError:
                sys.excepthook(*sys.exc_info())
    finally:
        restore()
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert [b.text() for b in boxes] == [store_faults.DAMAGED]
    assert len([r for r in caplog.records if r.exc_info]) == 1
    for box in boxes:
        box.close()


def test_a_truly_unexpected_error_keeps_the_calm_generic_dialog(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    box = show_unexpected_error(parent, ZeroDivisionError("division by zero"))
    assert box.windowTitle() == UNEXPECTED_TITLE
    box.close()
