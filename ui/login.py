"""Getting in: the login dialog, and the first administrator of a store where nobody can log in yet.

Both emit `logged_in(CurrentUser)` once services.users.authenticate accepted the password; the AppController,
the one place where the current user is set, takes it from there. The password is checked off the GUI thread
(argon2 takes a moment, and the growing delay after failures is the service's business); every refusal is the
service's French message, written under the form, and the dialog stays open.

Nothing about the accounts is shown before the login: the identifier is typed, never picked from a list, and an
unknown identifier gets the same answer as a wrong password. The identifier of the last person who logged in on
this computer is remembered (QSettings `login/last_key`) and filled in, the cursor then in the password field.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from services.directory import CurrentUser
from services.errors import DomainError, ValidationError
from services.users import authenticate, check_password_policy, create_first_administrator
from ui.background import run_in_background
from ui.fitting import keep_text_whole
from ui.widgets import ERROR_STYLE, message_label, note_label, show_messages, title_label

LAST_KEY = "login/last_key"


def app_settings(settings: QSettings | None) -> QSettings:
    return settings if settings is not None else QSettings("Parcours", "Parcours")


def remember_user(settings: QSettings, user: CurrentUser) -> None:
    """This computer's last login, for the next login dialog (the identifier only, never a password)."""
    settings.setValue(LAST_KEY, user.key)


def remembered_key(settings: QSettings) -> str:
    value = settings.value(LAST_KEY, "")
    return value if isinstance(value, str) else ""


def password_field(parent: QWidget, placeholder: str = "") -> QLineEdit:
    field = QLineEdit(parent)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


def field_column(widget: QWidget, message: QLabel) -> QVBoxLayout:
    column = QVBoxLayout()
    column.setSpacing(2)
    column.addWidget(widget)
    column.addWidget(message)
    return column


def _framed(dialog: QDialog, window_title: str, name: str, width: int, heading: str, message: str) -> QVBoxLayout:
    """The frame both start dialogs share: title, margins, heading and the optional message above the form."""
    dialog.setWindowTitle(window_title)
    dialog.setObjectName(name)
    dialog.setMinimumWidth(width)
    layout = QVBoxLayout(dialog)
    layout.setContentsMargins(24, 20, 24, 16)
    layout.addWidget(title_label(heading, dialog, size=18))
    if message:
        layout.addWidget(note_label(message, dialog))
    return layout


def _footer(dialog, layout: QVBoxLayout, db_label: str, ok_text: str) -> tuple[QDialogButtonBox, QPushButton]:
    """Which database, then « <ok_text> » (default, runs `dialog.submit`) and « Quitter »."""
    if db_label:
        layout.addWidget(note_label(f"Base de données : {db_label}", dialog))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    ok.setDefault(True)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Quitter")
    buttons.accepted.connect(dialog.submit)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    return buttons, ok


class LoginDialog(QDialog):
    logged_in = Signal(object)  # CurrentUser

    def __init__(self, uow_factory, parent: QWidget | None = None, db_label: str = "", message: str = "", *,
                 settings: QSettings | None = None):
        super().__init__(parent)
        self._uow = uow_factory
        self._settings = app_settings(settings)
        layout = _framed(self, "Parcours — connexion", "loginDialog", 460, "Connexion à Parcours", message)
        form = QFormLayout()
        self.key = QLineEdit(self)
        self.key.setObjectName("key")
        self.key.setPlaceholderText("votre identifiant, ex. c.martin")
        self.password = password_field(self)
        self.password.setObjectName("password")
        form.addRow("Identifiant", self.key)
        form.addRow("Mot de passe", self.password)
        layout.addLayout(form)
        self.message = message_label(self)
        self.message.setObjectName("loginMessage")
        layout.addWidget(self.message)
        self.buttons, self.login_button = _footer(self, layout, db_label, "Se connecter")
        self.key.setText(remembered_key(self._settings))
        (self.password if self.key.text() else self.key).setFocus()
        keep_text_whole(self)  # a refusal or a long note never squashes the fields

    def submit(self) -> None:
        key, password = self.key.text().strip(), self.password.text()
        if not key:
            self._refused("Indiquez votre identifiant.", self.key)
            return
        self.message.setVisible(False)
        self.buttons.setEnabled(False)
        uow = self._uow
        run_in_background(self, lambda: authenticate(uow(), key, password), self._accepted, self._failed)

    def _accepted(self, user: CurrentUser) -> None:
        self.password.clear()
        remember_user(self._settings, user)
        self.logged_in.emit(user)  # before closing: the next window is up when this one goes
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.password.clear()
        text = exc.message if isinstance(exc, DomainError) else (
            "La connexion n'a pas pu être vérifiée (le détail est dans le journal). Réessayez.")
        self._refused(text, self.password if self.key.text().strip() else self.key)

    def _refused(self, text: str, focus: QWidget) -> None:
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(text)
        self.message.setVisible(True)
        focus.setFocus()


class FirstAdministratorDialog(QDialog):
    """Nobody can log in yet: create the administrator account, then enter with it."""

    logged_in = Signal(object)  # CurrentUser

    def __init__(self, uow_factory, parent: QWidget | None = None, db_label: str = "", message: str = "", *,
                 settings: QSettings | None = None):
        super().__init__(parent)
        self._uow = uow_factory
        self._settings = app_settings(settings)
        layout = _framed(self, "Parcours — premier compte", "firstAdministratorDialog", 540,
                         "Créer le compte d'administration", message)
        layout.addWidget(note_label(
            "Ce compte gère les autres comptes (référent·es, coordination) et leurs mots de passe. Choisissez un "
            "mot de passe d'au moins 12 caractères, par exemple quatre mots sans rapport entre eux.", self))
        self.inputs: dict[str, QLineEdit] = {}
        self.messages: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, label, placeholder, secret in (
                ("name", "Nom affiché", "ex. Agnès Fabre", False),
                ("key", "Identifiant", "ex. a.fabre (lettres sans accent, chiffres, . - _ @)", False),
                ("password", "Mot de passe", "12 caractères au moins", True),
                ("confirm", "Confirmation", "le même mot de passe", True)):
            edit = password_field(self, placeholder) if secret else QLineEdit(self)
            if not secret:
                edit.setPlaceholderText(placeholder)
            edit.setObjectName(name)
            self.inputs[name] = edit
            self.messages[name] = message_label(self)
            self.messages[name].setObjectName(f"{name}_message")
            form.addRow(label, field_column(edit, self.messages[name]))
            edit.textEdited.connect(self._check)
        layout.addLayout(form)
        self.general_message = message_label(self)
        layout.addWidget(self.general_message)
        self.buttons, self.create_button = _footer(self, layout, db_label, "Créer le compte et entrer")
        self._touched: set[str] = set()
        self.inputs["name"].setFocus()
        keep_text_whole(self)  # a field's message never squashes its field

    def problems(self) -> dict[str, str]:
        """What is wrong with the form as typed, by field, in French (the service checks the rest)."""
        v = {name: edit.text() for name, edit in self.inputs.items()}
        found = {}
        if not v["name"].strip():
            found["name"] = "Indiquez le nom à afficher (prénom et nom)."
        if not v["key"].strip():
            found["key"] = "Choisissez un identifiant de connexion."
        try:
            check_password_policy(v["password"], v["key"].strip() or None, v["name"].strip() or None)
        except ValidationError as exc:
            found["password"] = exc.message
        if v["confirm"] != v["password"]:
            found["confirm"] = "Les deux mots de passe diffèrent."
        return found

    def _check(self) -> None:
        """Inline: a field's message appears once it has been typed in (or on « Créer »)."""
        sender = self.sender()
        if isinstance(sender, QLineEdit):
            self._touched.add(sender.objectName())
        problems = self.problems()
        for name, label in self.messages.items():
            shown = problems.get(name) if name in self._touched else None
            show_messages(label, [shown] if shown else [], [])

    def submit(self) -> None:
        self._touched = set(self.inputs)
        self._check()
        self.general_message.setVisible(False)
        problems = self.problems()
        if problems:
            self.inputs[next(n for n in self.inputs if n in problems)].setFocus()
            return
        self.buttons.setEnabled(False)
        uow = self._uow
        key, name, password = (self.inputs["key"].text().strip(), self.inputs["name"].text().strip(),
                               self.inputs["password"].text())

        def create_and_log_in() -> CurrentUser:
            create_first_administrator(uow(), key, password, name=name)
            return authenticate(uow(), key, password)

        run_in_background(self, create_and_log_in, self._accepted, self._failed)

    def _accepted(self, user: CurrentUser) -> None:
        for name in ("password", "confirm"):
            self.inputs[name].clear()
        remember_user(self._settings, user)
        self.logged_in.emit(user)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if not isinstance(exc, DomainError):
            show_messages(self.general_message, ["Le compte n'a pas pu être créé (le détail est dans le journal). "
                                                 "Réessayez."], [])
            return
        label = self.messages.get(exc.field or "", self.general_message)
        show_messages(label, [exc.message], [])
        if exc.field in self.inputs:
            self.inputs[exc.field].setFocus()
