"""The one dialog shown when the window cannot even open (the database is locked, damaged, read-only, on a full disk,
from a newer Parcours…): someone who started Parcours from its icon has no terminal to read the message in."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox

from ui.translations import install_french


def show_startup_error(message: str) -> None:
    app = QApplication.instance() or QApplication([])
    install_french(app)
    box = QMessageBox(QMessageBox.Icon.Warning, "Parcours ne peut pas s'ouvrir", message)
    box.setObjectName("startupError")
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.button(QMessageBox.StandardButton.Close).setText("Fermer")
    run_dialog(box)


def run_dialog(box: QMessageBox) -> None:
    """Modal until closed (tests replace it to read the dialog without blocking)."""
    box.exec()
