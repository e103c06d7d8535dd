"""« Aide › À propos de Parcours »: the version (services.version, the same as `--version`), where the data is, and
what Parcours runs on — what an IT department asks for first when a user calls. Also the application's icon.

    application_icon() -> QIcon      resources/icons/parcours-*.png (an empty icon if they are missing)
    AboutDialog(parent, db_label)    the dialog; `about_text()` is its text
"""
from __future__ import annotations

import platform
import sys
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from services.version import parcours_version

# resources/ sits beside ui/ in a checkout and in the frozen bundle alike (packaging/bundle.py copies it there).
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def application_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        path = ICONS / f"parcours-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon


def about_text(db_label: str = "") -> str:
    runtime = "application autonome" if getattr(sys, "frozen", False) else f"Python {platform.python_version()}"
    lines = [
        f"Version {parcours_version()}",
        "",
        "L'application des équipes de Réussite Éducative : suivi des familles, séances, EPS et états mensuels.",
        "Les données restent sur cet ordinateur.",
    ]
    if db_label:
        lines += ["", f"Base de données : {db_label}"]
    lines += ["", f"{platform.system()} {platform.release()} · {runtime} · Qt {qVersion()} · "
                  f"PySide6 {PySide6.__version__}"]
    return "\n".join(lines)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, db_label: str = ""):
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("À propos de Parcours")
        row = QHBoxLayout()
        picture = QLabel(self)
        pixmap = QPixmap(str(ICONS / "parcours-64.png"))
        if not pixmap.isNull():
            picture.setPixmap(pixmap)
        picture.setAlignment(Qt.AlignmentFlag.AlignTop)
        row.addWidget(picture)
        column = QVBoxLayout()
        title = QLabel("Parcours", self)
        title.setStyleSheet("font-size: 20px; font-weight: 600;")
        column.addWidget(title)
        self.text = QLabel(about_text(db_label), self)
        self.text.setObjectName("aboutText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # copied into a ticket
        column.addWidget(self.text)
        row.addLayout(column, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)


def show_about(parent: QWidget | None, db_label: str = "") -> AboutDialog:
    dialog = AboutDialog(parent, db_label)
    dialog.open()
    return dialog
