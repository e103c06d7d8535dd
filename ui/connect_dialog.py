"""« Se connecter au serveur du programme »: the first start of a laptop or office computer that works on a copy of
the team server (services.sync.client.connect).

The person types the server's address, their identifier and password, and either the certificate's SHA-256
fingerprint the IT gave them, or nothing: then the certificate the server presents is read and its fingerprint
shown, to be compared with the IT's before « Se connecter » goes on (what is pinned is the one shown). Reading the
certificate and connecting run off the GUI thread; each refusal is written in French under its field (the address
for a server out of reach, the fingerprint for another certificate, the password for a refused login).
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from services.errors import DomainError, ValidationError
from services.sync import client
from ui.background import run_in_background
from ui.fitting import keep_text_whole
from ui.login import _footer, _framed, field_column, password_field
from ui.widgets import ERROR_STYLE, message_label, note_label

FIELDS = ("url", "user", "password", "fingerprint")
LOGIN_WORDS = ("mot de passe", "identifiant")  # the server's refusal of a login names one of them


def read_fingerprint(url: str) -> str:
    """The SHA-256 fingerprint of the certificate the server at `url` presents now (not trusted: to be compared)."""
    host, port, _ = client.server_address(url)
    try:
        return client.fingerprint_of(client.presented_certificate(host, port))
    except OSError:
        raise client.ServerUnreachable("Serveur injoignable : connexion impossible (serveur arrêté, adresse erronée "
                                       "ou réseau absent). Vérifiez l'adresse donnée par le service "
                                       "informatique.") from None


def field_of(exc: BaseException) -> str | None:
    """Under which field a refusal of the connection is written (None: under the form)."""
    if isinstance(exc, ValidationError) and exc.field in ("url", "fingerprint", "password", "user"):
        return exc.field
    if isinstance(exc, client.FingerprintMismatch):
        return "fingerprint"
    if isinstance(exc, client.ServerUnreachable):
        return "url"
    if isinstance(exc, client.SyncError) and any(word in exc.message.lower() for word in LOGIN_WORDS):
        return "password"
    return None


class ConnectDialog(QDialog):
    """`connect_copy(url, user, password, fingerprint)`: how the copy is connected; by default client.connect on
    `uow_factory`'s store (a Connection). One that makes the copy anew (encrypted with the password) returns the new
    copy's unit-of-work factory instead: `connected` carries whichever it returned."""

    connected = Signal(object)  # services.sync.client.Connection, or the new copy's unit-of-work factory

    def __init__(self, uow_factory, parent: QWidget | None = None, db_label: str = "", *,
                 connect_copy: Callable[[str, str, str, str | None], client.Connection] | None = None):
        super().__init__(parent)
        self._connect = connect_copy or (
            lambda url, user, password, fingerprint: client.connect(uow_factory, url, user, password, fingerprint))
        layout = _framed(self, "Parcours — serveur du programme", "connectDialog", 620,
                         "Se connecter au serveur du programme", "")
        layout.addWidget(note_label(
            "Cet ordinateur travaillera sur une copie des dossiers du serveur de l'équipe, avec ou sans réseau, et "
            "se synchronisera avec lui dès qu'il le pourra. Le service informatique vous a donné l'adresse du "
            "serveur et l'empreinte de son certificat ; votre identifiant et votre mot de passe sont ceux de votre "
            "compte sur le serveur.", self))
        self.inputs: dict[str, QLineEdit] = {}
        self.messages: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, label, placeholder in (
                ("url", "Adresse du serveur", "https://serveur.exemple.fr:8443"),
                ("user", "Identifiant", "votre identifiant sur le serveur"),
                ("password", "Mot de passe", ""),
                ("fingerprint", "Empreinte du certificat", "SHA-256 donnée par le service informatique (facultatif)")):
            edit = password_field(self, placeholder) if name == "password" else QLineEdit(self)
            edit.setPlaceholderText(placeholder)
            edit.setObjectName(name)
            edit.textEdited.connect(self._edited)
            self.inputs[name] = edit
            self.messages[name] = message_label(self)
            self.messages[name].setObjectName(f"{name}_message")
            form.addRow(label, field_column(edit, self.messages[name]))
        layout.addLayout(form)
        self.presented = note_label("", self)
        self.presented.setObjectName("presentedFingerprint")
        self.presented.setVisible(False)
        layout.addWidget(self.presented)
        self.same = QCheckBox("J'ai comparé : c'est bien l'empreinte donnée par le service informatique", self)
        self.same.setVisible(False)
        self.same.toggled.connect(self._update_button)
        layout.addWidget(self.same)
        self.general_message = message_label(self)
        self.general_message.setObjectName("general_message")
        layout.addWidget(self.general_message)
        self.buttons, self.connect_button = _footer(self, layout, db_label, "Se connecter")
        self.buttons.button(self.buttons.StandardButton.Cancel).setText("Annuler")
        self.shown_fingerprint: str | None = None  # read from the server, to be pinned once compared
        self.result_connection: client.Connection | None = None
        self.task = None
        self.inputs["url"].setFocus()
        keep_text_whole(self)

    # -- what is typed -----------------------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        return {name: (edit.text() if name == "password" else edit.text().strip())
                for name, edit in self.inputs.items()}

    def problems(self) -> dict[str, str]:
        v = self.values()
        found = {}
        try:
            client.server_address(v["url"])
        except ValidationError as exc:
            found["url"] = exc.message
        if not v["user"]:
            found["user"] = "Indiquez votre identifiant sur le serveur."
        if not v["password"]:
            found["password"] = "Indiquez votre mot de passe."
        if v["fingerprint"]:
            try:
                client.normalised_fingerprint(v["fingerprint"])
            except ValidationError as exc:
                found["fingerprint"] = exc.message
        return found

    def _edited(self) -> None:
        edit = self.sender()
        name = next((n for n, e in self.inputs.items() if e is edit), None)
        if name is not None:
            self._say(name, "")
        if name in ("url", "fingerprint"):  # another server or a typed fingerprint: what was shown no longer holds
            self.shown_fingerprint = None
            self.presented.setVisible(False)
            self.same.setChecked(False)
            self.same.setVisible(False)
        self._update_button()

    def _update_button(self) -> None:
        waiting = self.shown_fingerprint is not None and not self.same.isChecked()
        self.connect_button.setEnabled(self.task is None and not waiting)

    def _say(self, name: str | None, text: str) -> None:
        label = self.messages.get(name, self.general_message) if name else self.general_message
        label.setStyleSheet(ERROR_STYLE)
        label.setText(text)
        label.setVisible(bool(text))

    def _clear_messages(self) -> None:
        for name in FIELDS:
            self._say(name, "")
        self._say(None, "")

    # -- connecting --------------------------------------------------------------------------------------------
    def submit(self) -> None:
        self._clear_messages()
        found = self.problems()
        if found:
            for name, text in found.items():
                self._say(name, text)
            self.inputs[next(n for n in FIELDS if n in found)].setFocus()
            return
        v = self.values()
        if v["fingerprint"]:
            self._start(lambda: self._connect(v["url"], v["user"], v["password"], v["fingerprint"]), self._connected)
        elif self.shown_fingerprint is None:
            url = v["url"]
            self._start(lambda: read_fingerprint(url), self._show_fingerprint, connecting=False)
        elif self.same.isChecked():
            pinned = self.shown_fingerprint
            self._start(lambda: self._connect(v["url"], v["user"], v["password"], pinned), self._connected)

    def _start(self, work, then, *, connecting: bool = True) -> None:
        self.buttons.setEnabled(False)
        for edit in self.inputs.values():
            edit.setEnabled(False)
        self.task = run_in_background(self, work, lambda result: self._finished(then, result),
                                      lambda exc: self._finished(lambda e: self._failed(e, connecting), exc),
                                      progress_label="Connexion au serveur du programme…")

    def _finished(self, then, value) -> None:
        self.task = None
        self.buttons.setEnabled(True)
        for edit in self.inputs.values():
            edit.setEnabled(True)
        self._update_button()
        then(value)

    def _show_fingerprint(self, fingerprint: str) -> None:
        self.shown_fingerprint = fingerprint
        pairs = fingerprint.split(":")  # two lines of 16 pairs: easier to compare with a printed one
        self.presented.setText(f"Empreinte du certificat présenté par le serveur :\n{':'.join(pairs[:16])}\n"
                               f"{':'.join(pairs[16:])}\n\nComparez-la, "
                               "caractère par caractère, avec celle que le service informatique vous a donnée. Si "
                               "elles diffèrent, ne vous connectez pas et prévenez-le.")
        self.presented.setVisible(True)
        self.same.setChecked(False)
        self.same.setVisible(True)
        self.same.setFocus()
        self._update_button()

    def _connected(self, connection) -> None:
        self.inputs["password"].clear()
        self.result_connection = connection
        self.connected.emit(connection)
        self.accept()

    def _failed(self, exc: BaseException, connecting: bool = True) -> None:
        if connecting:  # the password went to the server: typed again for the next try
            self.inputs["password"].clear()
        if not isinstance(exc, DomainError):
            self._say(None, "La connexion n'a pas abouti (le détail est dans le journal). Réessayez ou prévenez le "
                            "service informatique.")
            return
        name = field_of(exc)
        self._say(name, exc.message)
        if name in self.inputs:
            self.inputs[name].setFocus()


class UnlockDialog(QDialog):
    """The start of a connected copy, encrypted on this computer: the password of the account it belongs to opens
    it (services.local_crypto: unlocking its key IS the offline login check). `unlock_copy(password)` returns the
    copy's unit-of-work factory, or raises WrongPassword / CopyLocked in French; it runs off the GUI thread.

    A password changed on the server or another computer does not open the copy: its key is still wrapped by the
    previous one. After a refusal, « Mot de passe modifié sur un autre poste ? » asks that previous password once
    and opens the copy with it; `rewrap_requested(previous, new)` then tells the controller, which has the key wrapped
    by the new one as soon as the server confirms it (ui.sync_runner.SyncRunner.confirm_password)."""

    unlocked = Signal(object)  # the unit-of-work factory of the opened copy
    rewrap_requested = Signal(str, str)  # (previous password, new password), emitted just before `unlocked`

    def __init__(self, unlock_copy: Callable[[str], object], parent: QWidget | None = None, db_label: str = "",
                 message: str = ""):
        super().__init__(parent)
        self._unlock = unlock_copy
        layout = _framed(self, "Parcours — copie de ce poste", "unlockDialog", 460, "Ouvrir la copie de ce poste",
                         message)
        layout.addWidget(note_label(
            "Les dossiers de ce poste sont chiffrés : saisissez le mot de passe de votre compte Parcours pour les "
            "ouvrir, avec ou sans réseau.", self))
        self.form = QFormLayout()
        self.password = password_field(self)
        self.password.setObjectName("password")
        self.message = message_label(self)
        self.message.setObjectName("password_message")
        self.password_label = QLabel("Mot de passe", self)
        self.form.addRow(self.password_label, field_column(self.password, self.message))
        layout.addLayout(self.form)
        self.changed_button = QPushButton("Mot de passe modifié sur un autre poste ?", self)
        self.changed_button.setObjectName("changedElsewhere")
        self.changed_button.setFlat(True)
        self.changed_button.setToolTip("Ouvrir cette copie avec votre mot de passe précédent ; elle prendra le "
                                       "nouveau dès que le serveur l'aura confirmé.")
        self.changed_button.clicked.connect(self.ask_previous)
        self.changed_button.setVisible(False)
        layout.addWidget(self.changed_button)
        self.previous_note = note_label(
            "La copie de ce poste s'ouvre encore avec le mot de passe qu'il a connu en dernier. Saisissez ci-dessous "
            "ce mot de passe précédent : la copie s'ouvrira, puis prendra votre nouveau mot de passe dès que le "
            "serveur du programme l'aura confirmé (à la prochaine synchronisation).", self)
        self.previous_note.setVisible(False)
        layout.addWidget(self.previous_note)
        self.previous_row = QWidget(self)  # in the form once asked for: « Mot de passe précédent »
        self.previous_row.setVisible(False)
        self.previous = password_field(self.previous_row)
        self.previous.setObjectName("previous")
        self.previous_message = message_label(self.previous_row)
        self.previous_message.setObjectName("previous_message")
        column = field_column(self.previous, self.previous_message)
        column.setContentsMargins(0, 0, 0, 0)
        self.previous_row.setLayout(column)
        self.buttons, self.unlock_button = _footer(self, layout, db_label, "Ouvrir")
        self.task = None
        self._refused_password = ""  # the new password, as last typed and refused: kept in memory for the rewrap
        self.password.setFocus()
        keep_text_whole(self)

    @property
    def asking_previous(self) -> bool:
        return self.form.rowCount() > 1

    def ask_previous(self) -> None:
        """« Mot de passe modifié sur un autre poste ? »: the new password (as last typed) and the previous one."""
        if not self.asking_previous:
            self.password_label.setText("Nouveau mot de passe")
            self.form.addRow("Mot de passe précédent", self.previous_row)
            self.previous_row.setVisible(True)
        self.password.setText(self._refused_password)
        self.message.setVisible(False)
        self.changed_button.setVisible(False)
        self.previous_note.setVisible(True)
        self.previous.setFocus()

    def submit(self) -> None:
        password = self.password.text()
        if not password:
            self._refused("Saisissez le mot de passe de votre compte Parcours.")
            return
        previous = self.previous.text() if self.asking_previous else ""
        if self.asking_previous and not previous:
            self._refused("Saisissez le mot de passe que ce poste a connu avant le changement.", self.previous_message,
                          self.previous)
            return
        self.message.setVisible(False)
        self.previous_message.setVisible(False)
        self.buttons.setEnabled(False)
        self.changed_button.setEnabled(False)  # the fields stay as they are while they are being checked
        unlock = self._unlock
        opening = previous or password
        self.task = run_in_background(self, lambda: unlock(opening), lambda uow: self._opened(uow, password, previous),
                                      lambda exc: self._failed(exc, password, previous))

    def _opened(self, uow_factory, password: str = "", previous: str = "") -> None:
        self.task = None
        self.password.clear()
        self.previous.clear()
        self._refused_password = ""
        if previous and previous != password:
            self.rewrap_requested.emit(previous, password)
        self.unlocked.emit(uow_factory)
        self.accept()

    def _failed(self, exc: BaseException, password: str = "", previous: str = "") -> None:
        from services.local_crypto import WrongPassword

        self.task = None
        self.buttons.setEnabled(True)
        self.changed_button.setEnabled(True)
        text = (exc.message if isinstance(exc, DomainError) else
                "La copie n'a pas pu être ouverte (le détail est dans le journal). Réessayez.")
        if previous:
            self.previous.clear()
            self._refused(text, self.previous_message, self.previous)
            return
        self.password.clear()
        self._refused(text)
        if isinstance(exc, WrongPassword):  # perhaps changed on the server: the previous one still opens the copy
            self._refused_password = password
            self.changed_button.setVisible(True)

    def _refused(self, text: str, label: QLabel | None = None, field: QLineEdit | None = None) -> None:
        label = label or self.message
        label.setStyleSheet(ERROR_STYLE)
        label.setText(text)
        label.setVisible(True)
        (field or self.password).setFocus()
