"""The session form: built for speed, keyboard only (Tab to move, Enter to save), French reasons next to fields.

Reachable from anywhere with Ctrl+N. Defaults: today, the family being looked at, the family's usual
intervenant. Errors block the save; warnings (school holidays, second session in the week, first session without
the référent) only say that a coordinator will have to approve. A failed save keeps everything typed.

Given a `session` (a SessionRow: Entrée or double-clic on a session in the family file or the sessions list), the same
form is « Modifier la séance »: pre-filled, checked without counting the session itself, saved through
update_session; the coordination also gets « Supprimer », after a confirmation.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QIntValidator, QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QMessageBox, QPlainTextEdit, QVBoxLayout, QWidget)

from services.directory import CurrentUser, list_intervenants
from services.errors import DomainError, ValidationError
from services.families import family_choices
from services.formatting import format_date
from services.home_sessions import (STATUS_LABELS, SessionCheck, SessionDraft, SessionRow, check_session,
                                    delete_session, parse_duration, record_session, update_session, usual_intervenant)
from services.permissions import allowed
from ui.background import run_in_background
from ui.date_field import DateField
from ui.errors import show_error, show_unexpected_error
from ui.table_model import collate
from ui.widgets import message_label, note_label, show_messages, title_label

FIELDS = ("family", "date", "intervenant", "duration", "status", "start_time", "referent_present",
          "children_present", "notes")


def parse_time(text: str) -> time | None:
    raw = text.strip().lower().replace(" ", "")
    if not raw:
        return None
    m = re.fullmatch(r"(\d{1,2})(?:[:h](\d{2})?)?", raw)
    if m and int(m[1]) < 24 and int(m[2] or 0) < 60:
        return time(int(m[1]), int(m[2] or 0))
    raise ValidationError("Heure illisible : écrivez par exemple 14:30 ou 14h30.", field="start_time")


def duration_text(minutes: int) -> str:
    """90 -> '1h30', as parse_duration reads it back."""
    return f"{minutes // 60}h{minutes % 60:02d}"


def open_session_editor(parent: QWidget, uow_factory, user: CurrentUser, session: SessionRow | None,
                        today: Callable[[], date], then: Callable[[], None],
                        already_open: SessionForm | None = None) -> SessionForm | None:
    """« Modifier la séance » on `session` for whoever may correct it (None otherwise); `then()` after a save or a
    deletion. Opened with open(), never exec(). While `already_open` is still on screen it is brought forward
    instead: a second dialog on the same list would hold an older read of the session."""
    if already_open is not None and already_open.isVisible():
        already_open.raise_()
        already_open.activateWindow()
        return already_open
    if session is None or not allowed(user, "session.update"):
        return None
    form = SessionForm(uow_factory, user, parent, session=session, today=today)
    form.session_saved.connect(lambda _row: then())
    form.session_deleted.connect(lambda _row: then())
    form.open()
    return form


class SessionForm(QDialog):
    session_saved = Signal(object)  # SessionRow
    session_deleted = Signal(object)  # the SessionRow that was deleted
    checked = Signal(object)  # SessionCheck, after each live check

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 family_id: str | None = None, today: Callable[[], date] = date.today,
                 session: SessionRow | None = None):
        super().__init__(parent)
        self._uow = uow_factory
        self._user = current_user
        self._today = today
        self._generation = 0
        self._saving = False
        self.session = session  # the session being corrected, None for a new one
        title = "Modifier la séance" if session else "Nouvelle séance à domicile"
        self.setWindowTitle(title)
        self.setObjectName("sessionForm")
        self.setMinimumWidth(520)
        if session is not None:
            family_id = session.family_id

        layout = QVBoxLayout(self)
        layout.addWidget(title_label(title, self))
        layout.addWidget(note_label("Tab pour passer d'un champ à l'autre, Entrée pour enregistrer.", self))
        self.general_message = message_label(self)
        layout.addWidget(self.general_message)

        self.family = QComboBox(self)
        self.family.setEditable(True)
        self.family.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.family.lineEdit().setPlaceholderText("Tapez une partie du nom…")
        self.date = DateField(today(), self)
        self.intervenant = QComboBox(self)
        self.duration = QLineEdit(self)
        self.duration.setPlaceholderText("ex. 1h30 ou 90")
        self.status = QComboBox(self)
        for key, label in STATUS_LABELS.items():
            self.status.addItem(label, key)
        self.start_time = QLineEdit(self)
        self.start_time.setPlaceholderText("facultatif, ex. 14:00")
        self.referent_present = QCheckBox("Le ou la référent·e était présent·e", self)
        self.children_present = QLineEdit(self)
        self.children_present.setPlaceholderText("facultatif")
        self.children_present.setValidator(QIntValidator(0, 20, self))
        self.notes = QPlainTextEdit(self)
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(70)

        self.messages: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        labels = {"family": "Famille", "date": "Date", "intervenant": "Intervenant·e", "duration": "Durée",
                  "status": "Statut", "start_time": "Heure de début", "referent_present": "Référent·e",
                  "children_present": "Enfants présents", "notes": "Notes"}
        for name in FIELDS:
            widget = getattr(self, name)
            widget.setObjectName(name)
            self.messages[name] = message_label(self)
            self.messages[name].setObjectName(f"{name}_message")
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(self.messages[name])
            form.addRow(labels[name], column)
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Enregistrer")
        self.save_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.delete_button = None
        if session is not None and allowed(current_user, "session.delete"):
            self.delete_button = self.buttons.addButton("Supprimer…", QDialogButtonBox.ButtonRole.DestructiveRole)
            self.delete_button.setAutoDefault(False)
            self.delete_button.clicked.connect(self.delete)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.save)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(200)
        self._check_timer.timeout.connect(self._run_check)

        self._fill_choices(family_id)
        if session is not None:
            self._fill_from(session)
        for signal in (self.date.textChanged, self.duration.textChanged, self.start_time.textChanged,
                       self.children_present.textChanged, self.intervenant.currentIndexChanged,
                       self.status.currentIndexChanged, self.referent_present.toggled):
            signal.connect(self._schedule_check)
        self.family.currentIndexChanged.connect(self._family_changed)
        self.family.lineEdit().editingFinished.connect(self._resolve_typed_family)
        (self.date if family_id else self.family).setFocus()
        self._schedule_check()

    # -- choices and defaults ---------------------------------------------------------------------------------
    def _fill_choices(self, family_id: str | None) -> None:
        families = family_choices(self._uow(), self._user, keep=family_id)
        self.family.addItem("", None)
        for f in families:
            self.family.addItem(f"{f.name} — {f.commune} ({f.key})", f.id)
        completer = QCompleter([self.family.itemText(i) for i in range(1, self.family.count())], self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.family.setCompleter(completer)
        self.intervenant.addItem("", None)
        for i in list_intervenants(self._uow(), self._user):
            self.intervenant.addItem(f"{i.name} ({i.qualification}, {i.partner_name})", i.id)
        if family_id:
            self.family.setCurrentIndex(max(0, self.family.findData(family_id)))
            self._family_changed()

    def _fill_from(self, s: SessionRow) -> None:
        """The session's values, as typed when it was recorded (the family is already chosen)."""
        self.intervenant.setCurrentIndex(max(0, self.intervenant.findData(s.intervenant_id)))
        self.date.setText(format_date(s.date))
        self.duration.setText(duration_text(s.duration_minutes))
        self.status.setCurrentIndex(max(0, self.status.findData(s.status)))
        self.start_time.setText(s.start_time.strftime("%H:%M") if s.start_time else "")
        self.referent_present.setChecked(s.referent_present)
        self.children_present.setText("" if s.children_present is None else str(s.children_present))
        self.notes.setPlainText(s.notes or "")

    def _resolve_typed_family(self) -> None:
        """Typed text -> the one family whose label contains it (accents and case ignored)."""
        text = collate(self.family.currentText().strip())
        if not text or collate(self.family.itemText(self.family.currentIndex())) == text:
            return
        matches = [i for i in range(1, self.family.count()) if text in collate(self.family.itemText(i))]
        if len(matches) == 1:
            self.family.setCurrentIndex(matches[0])
        self._schedule_check()

    def _family_changed(self) -> None:
        family_id = self.family.currentData()
        if family_id:
            usual = usual_intervenant(self._uow(), self._user, family_id)
            if usual:
                self.intervenant.setCurrentIndex(max(0, self.intervenant.findData(usual)))
        self._schedule_check()

    # -- reading the form ---------------------------------------------------------------------------------------
    def _draft(self) -> tuple[SessionDraft, dict[str, str]]:
        local: dict[str, str] = {}

        def read(parse, widget_text, field):
            try:
                return parse(widget_text)
            except ValidationError as exc:
                local[field] = exc.message
                return None

        day = read(self.date.parse, self.date.text(), "date")
        minutes = read(parse_duration, self.duration.text(), "duration") if self.duration.text().strip() else None
        start = read(parse_time, self.start_time.text(), "start_time")
        children = int(self.children_present.text()) if self.children_present.text().strip() else None
        family_id = self.family.currentData() if self.family.currentText().strip() else None
        if self.family.currentText().strip() and family_id is None:
            local["family"] = "Famille inconnue : choisissez-la dans la liste."
        draft = SessionDraft(family_id=family_id, intervenant_id=self.intervenant.currentData(), date=day,
                             duration_minutes=minutes, status=self.status.currentData(), start_time=start,
                             referent_present=self.referent_present.isChecked(), children_present=children,
                             notes=self.notes.toPlainText())
        return draft, local

    # -- live check -----------------------------------------------------------------------------------------------
    def _schedule_check(self, *_args) -> None:
        self._check_timer.start()

    def _run_check(self) -> None:
        draft, local = self._draft()
        self._generation += 1
        generation, today, uow, user = self._generation, self._today(), self._uow, self._user
        exclude = self.session.id if self.session else None
        run_in_background(self, lambda: check_session(uow(), user, draft, today, exclude),
                          lambda check: self._show_check(generation, check, local),
                          lambda exc: self._check_failed(generation, exc))

    def _show_check(self, generation: int, check: SessionCheck, local: dict[str, str]) -> None:
        if generation != self._generation:
            return  # the user typed since: a newer check is on its way
        untouched = {"duration": not self.duration.text().strip(), "family": not self.family.currentText().strip(),
                     "intervenant": self.intervenant.currentData() is None}
        for name in FIELDS:
            errors, warnings = check.for_field(name)
            if name in local:
                errors = [local[name]]
            elif untouched.get(name):
                errors = []  # no reproach for a field not filled in yet
            show_messages(self.messages[name], errors, warnings)
        self.checked.emit(check)

    def _check_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation and not isinstance(exc, DomainError):
            show_unexpected_error(self, exc, logged=True)

    # -- saving ---------------------------------------------------------------------------------------------------
    def save(self) -> None:
        if self._saving:
            return
        self._resolve_typed_family()
        draft, local = self._draft()
        self.general_message.setVisible(False)
        if local:
            for name, message in local.items():
                show_messages(self.messages[name], [message], [])
            getattr(self, next(iter(local))).setFocus()
            return
        self._saving = True
        self.save_button.setEnabled(False)
        user, today, uow = self._user, self._today(), self._uow
        if self.session is None:
            work = lambda: record_session(uow(), user, draft, today)  # noqa: E731
        else:
            session_id, based_on = self.session.id, self.session.updated_at
            work = lambda: update_session(uow(), user, session_id, draft, today, based_on=based_on)  # noqa: E731
        run_in_background(self, work, self._saved, self._save_failed, progress_label="Enregistrement de la séance…")

    def _saved(self, row) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self.session_saved.emit(row)
        self.accept()

    def _save_failed(self, exc: BaseException) -> None:
        """Nothing typed is lost: the form stays open, the reason next to its field."""
        self._saving = False
        self.save_button.setEnabled(True)
        if not isinstance(exc, DomainError):
            show_error(self, exc)
            return
        label = self.messages.get(exc.field or "")
        if label is None:
            show_messages(self.general_message, [exc.message], [])
            return
        show_messages(label, [exc.message], [])
        getattr(self, exc.field).setFocus()

    # -- deleting (coordination) ----------------------------------------------------------------------------------
    def confirm_delete(self) -> bool:
        """Ask before deleting (tests replace this method)."""
        s = self.session
        box = QMessageBox(QMessageBox.Icon.Warning, "Supprimer la séance",
                          f"Supprimer la séance du {format_date(s.date)} de {s.family_name} "
                          f"({s.intervenant_name}) ?", QMessageBox.StandardButton.NoButton, self)
        box.setInformativeText("La suppression est définitive. Pour une séance qui n'a pas eu lieu, choisissez "
                               "plutôt le statut « Annulée ».")
        confirm = box.addButton("Supprimer définitivement", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is confirm

    def delete(self) -> None:
        if self._saving or self.session is None or not self.confirm_delete():
            return
        self._saving = True
        self.save_button.setEnabled(False)
        row, user, uow = self.session, self._user, self._uow
        run_in_background(self, lambda: delete_session(uow(), user, row.id, based_on=row.updated_at),
                          lambda _: self._deleted(row),
                          self._save_failed, progress_label="Suppression de la séance…")

    def _deleted(self, row: SessionRow) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self.session_deleted.emit(row)
        self.accept()
