"""The first start, on an empty store: load the demonstration programme in one click, or start with the
administrator account (either way, the first administrator is created next)."""
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
    start_requested = Signal()  # no demo: go on to the first administrator account
    connect_requested = Signal()  # « Se connecter au serveur du programme » (ui.connect_dialog)

    def __init__(self, uow_factory, db_label: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._uow = uow_factory
        self.setWindowTitle("Parcours")
        self.setObjectName("welcomeWindow")
        self.setMinimumHeight(320)  # the width follows the buttons, never cut
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.addWidget(title_label("Bienvenue dans Parcours", self, size=22))
        layout.addWidget(note_label(
            "Cette base de données est vide. Pour découvrir l'application, chargez le programme de démonstration : "
            "une trentaine de familles fictives, leurs parcours, les séances d'EPS, les orientations et une année "
            "de séances à domicile. Vous créerez ensuite votre compte d'administration, protégé par un mot de passe.",
            self))
        layout.addWidget(note_label(
            "Pour travailler sur vos vraies données, commencez sans la démonstration. Avec le compte "
            "d'administration, créez les comptes de la coordination et des référent·es. Connecté·e avec l'un "
            "d'eux, ouvrez la page «\u00a0Familles\u00a0» et cliquez sur «\u00a0Nouvelle famille…\u00a0» "
            "(Ctrl+Maj+N) pour saisir votre première famille ; dans son dossier, ajoutez ses responsables légaux "
            "et ses enfants, enregistrez le consentement des parents, puis ouvrez le parcours de chaque enfant. "
            "Des données déjà au format Parcours se chargent d'un coup avec la commande "
            "«\u00a0parcours import\u00a0».", self))
        layout.addWidget(note_label(
            "Votre équipe a un serveur du programme ? Cliquez sur «\u00a0Se connecter au serveur du "
            "programme\u00a0» : cet ordinateur recevra les dossiers de votre compte et se synchronisera avec le "
            "serveur, même après avoir travaillé sans réseau.", self))
        if db_label:
            layout.addWidget(note_label(f"Base de données : {db_label}", self))
        layout.addStretch()
        row = QHBoxLayout()
        row.addStretch()
        self.quit_button = QPushButton("Quitter", self)
        self.quit_button.clicked.connect(self.close)
        self.start_button = QPushButton("Commencer sans la démonstration", self)
        self.start_button.clicked.connect(self.start_requested)
        self.demo_button = QPushButton("Charger le programme de démonstration", self)
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(self.load_demo)
        row.addWidget(self.quit_button)
        self.connect_button = QPushButton("Se connecter au serveur du programme", self)
        self.connect_button.setToolTip("Travailler sur une copie des dossiers du serveur de l'équipe, avec ou sans "
                                       "réseau (adresse et empreinte données par le service informatique)")
        self.connect_button.clicked.connect(self.connect_requested)
        row.addWidget(self.connect_button)
        row.addWidget(self.start_button)
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
