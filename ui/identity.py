"""Who is at the keyboard. The one place where the current user is chosen; passwords come with the security work
(a login dialog will replace this picker and emit the same `identity_chosen(CurrentUser)`)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from services.directory import CurrentUser, list_users
from ui.widgets import note_label, title_label


class IdentityDialog(QDialog):
    identity_chosen = Signal(object)  # CurrentUser

    def __init__(self, uow_factory, parent: QWidget | None = None, db_label: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Parcours — qui êtes-vous ?")
        self.setObjectName("identityDialog")
        self.setMinimumSize(420, 380)
        layout = QVBoxLayout(self)
        layout.addWidget(title_label("Bienvenue dans Parcours", self, size=18))
        layout.addWidget(note_label("Choisissez votre nom puis appuyez sur Entrée.", self))
        self.users = QListWidget(self)
        for user in list_users(uow_factory()):
            item = QListWidgetItem(f"{user.name}  —  {user.role_label}")
            item.setData(Qt.ItemDataRole.UserRole, user)
            self.users.addItem(item)
        self.users.setCurrentRow(0)
        self.users.itemActivated.connect(lambda _item: self.choose())
        layout.addWidget(self.users)
        if db_label:
            layout.addWidget(note_label(f"Base de données : {db_label}", self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Continuer")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Quitter")
        buttons.accepted.connect(self.choose)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.users.setFocus()

    def choose_key(self, key: str) -> None:
        for row in range(self.users.count()):
            if self.users.item(row).data(Qt.ItemDataRole.UserRole).key == key:
                self.users.setCurrentRow(row)
                return

    def choose(self) -> None:
        item = self.users.currentItem()
        if item is None:
            return
        user: CurrentUser = item.data(Qt.ItemDataRole.UserRole)
        self.identity_chosen.emit(user)  # before closing: the next window is up when this one goes
        self.accept()
