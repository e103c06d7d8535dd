"""Administration › Utilisateurs: the accounts, a new account with its role and password, a password set again
(the demo's accounts have none), an account disabled. Everything goes through services.users, which checks the
password policy, keeps the last administrator and writes the audit log."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLineEdit, QMessageBox, QPushButton,
                               QVBoxLayout, QWidget)

from services.directory import ROLE_LABELS, CurrentUser
from services.errors import ValidationError
from services.users import UserInfo, add_user, change_password, disable_user, list_accounts
from ui.background import run_in_background
from ui.form_dialog import Field, FormDialog, open_form
from ui.table_model import MUTED, Column, RowsModel, row_of, sorting_proxy, text_column
from ui.widgets import fit_columns, note_label, table_view, title_label

PASSWORD_RULE = "12 caractères au moins, différent de l'identifiant"


class AccountsModel(RowsModel):
    NAME, KEY, ROLE, PASSWORD, STATE = range(5)

    def __init__(self, parent=None):
        super().__init__((
            text_column("Nom", lambda a: a.name),
            text_column("Identifiant", lambda a: a.key),
            text_column("Rôle", lambda a: ROLE_LABELS.get(a.role, a.role)),
            Column("Mot de passe", lambda a: "défini" if a.has_password else "à définir",
                   lambda a: int(a.has_password)),
            Column("État", lambda a: "actif" if a.active else "désactivé", lambda a: int(a.active)),
        ), parent, foreground=lambda a, _column: None if a.active else MUTED)


def _confirmed(values: dict) -> str:
    if values["password"] != values["confirm"]:
        raise ValidationError("Les deux mots de passe diffèrent.", field="confirm")
    return values["password"]


def _hide_passwords(dialog: FormDialog) -> FormDialog:
    for name in ("password", "confirm"):
        dialog.inputs[name].setEchoMode(QLineEdit.EchoMode.Password)
    return dialog


class UsersDialog(QDialog):
    accounts_loaded = Signal()
    account_changed = Signal(object)  # UserInfo

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None):
        super().__init__(parent)
        self._uow = uow_factory
        self._user = current_user
        self.setWindowTitle("Utilisateurs")
        self.setObjectName("usersDialog")
        self.resize(760, 440)
        layout = QVBoxLayout(self)
        layout.addWidget(title_label("Comptes des utilisateurs", self))
        layout.addWidget(note_label(
            "Chaque personne a son propre compte. Un compte « à définir » ne peut pas se connecter tant qu'un "
            "administrateur ne lui a pas donné de mot de passe ; transmettez-le de vive voix, jamais par courriel.",
            self))
        self.model = AccountsModel(self)
        self.proxy = sorting_proxy(self.model, self)
        self.view = table_view(self.proxy, self, stretch=AccountsModel.NAME)
        self.view.selectionModel().currentRowChanged.connect(self._update_buttons)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton("Nouveau compte…", self)
        self.add_button.clicked.connect(self.ask_add)
        self.password_button = QPushButton("Définir le mot de passe…", self)
        self.password_button.clicked.connect(self.ask_password)
        self.disable_button = QPushButton("Désactiver", self)
        self.disable_button.clicked.connect(self.ask_disable)
        for button in (self.add_button, self.password_button, self.disable_button):
            row.addWidget(button)
        row.addStretch()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.button(QDialogButtonBox.StandardButton.Close).setText("Fermer")
        close.rejected.connect(self.reject)
        row.addWidget(close)
        layout.addLayout(row)
        self._update_buttons()
        self.refresh()

    def refresh(self) -> None:
        uow, user = self._uow, self._user
        run_in_background(self, lambda: list_accounts(uow(), user), self._loaded)

    def _loaded(self, accounts: tuple[UserInfo, ...]) -> None:
        selected = self.selected()
        self.model.set_rows(accounts)
        fit_columns(self.view)
        if selected is not None:
            self.select(selected.key)
        self._update_buttons()
        self.accounts_loaded.emit()

    def selected(self) -> UserInfo | None:
        return row_of(self.view.currentIndex())

    def select(self, key: str) -> None:
        for row in range(self.proxy.rowCount()):
            if row_of(self.proxy.index(row, 0)).key == key:
                self.view.setCurrentIndex(self.proxy.index(row, 0))
                return

    def _update_buttons(self, *_args) -> None:
        account = self.selected()
        self.password_button.setEnabled(account is not None and account.active)
        self.disable_button.setEnabled(account is not None and account.active)

    def _changed(self, info: UserInfo) -> None:
        self.account_changed.emit(info)
        self.refresh()

    # -- actions ------------------------------------------------------------------------------------------------
    def ask_add(self) -> FormDialog:
        uow, actor = self._uow, self._user
        return _hide_passwords(open_form(self, "Nouveau compte", [
            Field("name", "Nom affiché"),
            Field("key", "Identifiant"),
            Field("role", "Rôle", "choice", "referent", tuple((label, role) for role, label in ROLE_LABELS.items())),
            Field("password", "Mot de passe"),
            Field("confirm", "Confirmation"),
        ], lambda v: add_user(uow(), actor, v["key"].strip(), v["role"], _confirmed(v), name=v["name"]),
            self._changed, intro=f"Mot de passe : {PASSWORD_RULE}.", ok_label="Créer le compte"))

    def ask_password(self) -> FormDialog | None:
        account = self.selected()
        if account is None:
            return None
        uow, actor, key = self._uow, self._user, account.key
        return _hide_passwords(open_form(self, f"Mot de passe — {account.name}", [
            Field("password", "Nouveau mot de passe"),
            Field("confirm", "Confirmation"),
        ], lambda v: change_password(uow(), actor, key, _confirmed(v)), self._changed,
            intro=f"Compte « {key} ». Mot de passe : {PASSWORD_RULE}. Le délai imposé après des essais manqués "
                  "est levé.", ok_label="Définir"))

    def ask_disable(self) -> QMessageBox | None:
        account = self.selected()
        if account is None:
            return None
        box = QMessageBox(QMessageBox.Icon.Question, "Désactiver un compte",
                          f"Désactiver le compte de {account.name} ({account.key}) ? Cette personne ne pourra plus "
                          "se connecter ; ce qu'elle a saisi reste dans Parcours.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText("Désactiver")
        box.button(QMessageBox.StandardButton.Cancel).setText("Annuler")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: button is yes and self.disable(account.key))
        box.open()
        return box

    def disable(self, key: str) -> None:
        uow, actor = self._uow, self._user
        run_in_background(self, lambda: disable_user(uow(), actor, key), self._changed)
