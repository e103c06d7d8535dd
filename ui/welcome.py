"""The first start, on an empty store: offer to load the demonstration programme in one click."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ui.background import run_in_background
from ui.widgets import note_label, title_label


def _load_demo(uow_factory) -> str:
    from services.demo import load_demo  # imported here: only the first start needs it

    return load_demo(uow_factory())


class WelcomeWindow(QWidget):
    demo_loaded = Signal(str)  # the summary

    def __init__(self, uow_factory, db_label: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._uow = uow_factory
        self.setWindowTitle("Parcours")
        self.setObjectName("welcomeWindow")
        self.setMinimumSize(560, 320)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.addWidget(title_label("Bienvenue dans Parcours", self, size=22))
        layout.addWidget(note_label(
            "Cette base de données est vide. Pour découvrir l'application, chargez le programme de démonstration : "
            "une trentaine de familles fictives, leurs parcours, les séances d'EPS, les orientations et une année "
            "de séances à domicile. Vous pourrez ensuite vous présenter comme référent·e, coordinatrice ou "
            "administratrice.", self))
        layout.addWidget(note_label(
            "Pour travailler sur vos vraies données, importez plutôt votre fichier avec la commande "
            "«\u00a0parcours import\u00a0» (voir le guide d'installation).", self))
        if db_label:
            layout.addWidget(note_label(f"Base de données : {db_label}", self))
        layout.addStretch()
        row = QHBoxLayout()
        row.addStretch()
        self.quit_button = QPushButton("Quitter", self)
        self.quit_button.clicked.connect(self.close)
        self.demo_button = QPushButton("Charger le programme de démonstration", self)
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(self.load_demo)
        row.addWidget(self.quit_button)
        row.addWidget(self.demo_button)
        layout.addLayout(row)
        self.demo_button.setFocus()

    def load_demo(self) -> None:
        self.demo_button.setEnabled(False)
        uow = self._uow
        run_in_background(self, lambda: _load_demo(uow), self.demo_loaded.emit, self._failed,
                          progress_label="Chargement du programme de démonstration…")

    def _failed(self, exc: BaseException) -> None:
        from ui.errors import show_error

        self.demo_button.setEnabled(True)
        show_error(self, exc)
