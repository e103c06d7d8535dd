"""Small forms in dialogs.

`FieldsDialog` is what every form dialog shares: « Enregistrer » / « Annuler », a message line under each field and
one for what names no field. A refusal shows every field's message at once (`InvalidFields` names several), keeps
the dialog open with everything typed, and an unexpected error goes to the calm French dialog.

`FormDialog` (EPS meeting, situation, decision, refusal, parcours…) builds its fields from `Field`s. It is
window-modal and opened with `open()`, never `exec()`. On « Enregistrer » it runs `submit(values)` off the GUI
thread; success emits `submitted(result)` and closes it. A date it cannot read (ui.date_field) is said under its
field, and `submit` is not called.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QVBoxLayout, QWidget)

from services.errors import DomainError, InvalidFields, ValidationError
from ui.background import run_in_background
from ui.errors import show_unexpected_error
from ui.date_field import DateField
from ui.widgets import message_label, note_label, show_messages


class FieldsDialog(QDialog):
    """The buttons and the messages of a form; subclasses lay out the fields (`add_message`) and the messages."""

    def __init__(self, title: str, parent: QWidget | None = None, *, minimum_width: int,
                 ok_label: str = "Enregistrer"):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(minimum_width)
        self.messages: dict[str, QLabel] = {}
        self.general_message = message_label(self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_label)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        self.buttons.rejected.connect(self.reject)

    def add_message(self, name: str) -> QLabel:
        """The (hidden) line under field `name` where its refusal is written."""
        self.messages[name] = message_label(self)
        return self.messages[name]

    def show_problems(self, problems: Mapping[str, str]) -> None:
        """Each message under its field, all at once; what names no field of the form goes to the general line."""
        for name, label in self.messages.items():
            show_messages(label, [problems[name]] if name in problems else [], [])
        leftover = [m for f, m in problems.items() if f not in self.messages]
        show_messages(self.general_message, [" ".join(leftover)] if leftover else [], [])

    def show_refusal(self, exc: BaseException, *, logged: bool) -> bool:
        """Write a service's refusal in place; False (after the calm dialog) when it was no refusal but a failure.
        `logged`: the background helper has already written the failure to the log."""
        if isinstance(exc, InvalidFields):
            self.show_problems(exc.problems)
        elif isinstance(exc, DomainError):
            self.show_problems({exc.field or "": exc.message})
        else:
            show_unexpected_error(self, exc, logged=logged)
            return False
        return True


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | multiline | date | choice
    default: Any = None
    choices: tuple[tuple[str, Any], ...] = field(default_factory=tuple)  # (label, value)


class FormDialog(FieldsDialog):
    submitted = Signal(object)

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict], Any], parent: QWidget | None = None,
                 intro: str | None = None, ok_label: str = "Enregistrer"):
        super().__init__(title, parent, minimum_width=460, ok_label=ok_label)
        self.setObjectName("formDialog")
        self._submit = submit
        self._fields = fields
        self.inputs: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        if intro:
            layout.addWidget(note_label(intro, self))
        layout.addWidget(self.general_message)
        form = QFormLayout()
        for f in fields:
            widget = self._input(f)
            widget.setObjectName(f.name)
            self.inputs[f.name] = widget
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(self.add_message(f.name))
            form.addRow(f.label, column)
        layout.addLayout(form)
        self.buttons.accepted.connect(self.save)
        layout.addWidget(self.buttons)

    def _input(self, f: Field) -> QWidget:
        if f.kind == "date":
            return DateField(f.default or date.today(), self)
        if f.kind == "choice":
            combo = QComboBox(self)
            for label, value in f.choices:
                combo.addItem(label, value)
            if f.default is not None:
                combo.setCurrentIndex(max(0, combo.findData(f.default)))
            return combo
        if f.kind == "multiline":
            edit = QPlainTextEdit(self)
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(80)
            edit.setPlainText(f.default or "")
            return edit
        edit = QLineEdit(self)
        edit.setText(f.default or "")
        return edit

    def values(self) -> dict[str, Any]:
        """What is typed, by field; raises InvalidFields for the dates that cannot be read."""
        out, unreadable = {}, {}
        for f in self._fields:
            w = self.inputs[f.name]
            if f.kind == "date":
                try:
                    out[f.name] = w.parse(w.text())
                except ValidationError as exc:
                    unreadable[f.name] = exc.message
            elif f.kind == "choice":
                out[f.name] = w.currentData()
            elif f.kind == "multiline":
                out[f.name] = w.toPlainText()
            else:
                out[f.name] = w.text()
        if unreadable:
            raise InvalidFields(unreadable)
        return out

    def save(self) -> None:
        for label in [*self.messages.values(), self.general_message]:
            label.setVisible(False)
        try:
            values = self.values()
        except InvalidFields as exc:
            self.show_problems(exc.problems)
            self.inputs[exc.field].setFocus()
            return
        self.buttons.setEnabled(False)
        run_in_background(self, lambda: self._submit(values), self._succeeded, self._failed)

    def _succeeded(self, result) -> None:
        self.buttons.setEnabled(True)
        self.submitted.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if self.show_refusal(exc, logged=True):
            target = self.inputs.get(exc.field or "")
            if target is not None:
                target.setFocus()


def open_form(parent: QWidget, title: str, fields: list[Field], submit: Callable[[dict], Any],
              then: Callable[[Any], None], *, intro: str | None = None, ok_label: str = "Enregistrer") -> FormDialog:
    """Open a FormDialog (window-modal, never `exec()`) whose success calls `then(result)`; returned for tests."""
    dialog = FormDialog(title, fields, submit, parent, intro=intro, ok_label=ok_label)
    dialog.submitted.connect(then)
    dialog.open()
    return dialog
