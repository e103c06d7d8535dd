"""A small form in a dialog (EPS meeting, situation, decision, refusal, parcours…).

The dialog is window-modal and opened with `open()`, never `exec()`. On « Enregistrer » it runs `submit(values)`
off the GUI thread; a refusal (DomainError) is written next to its field — or at the top — and the dialog stays
open with everything typed; success emits `submitted(result)` and closes it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QVBoxLayout, QWidget)

from services.errors import DomainError
from ui.background import run_in_background
from ui.errors import show_unexpected_error
from ui.widgets import date_edit, from_qdate, message_label, note_label, show_messages


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | multiline | date | choice
    default: Any = None
    choices: tuple[tuple[str, Any], ...] = field(default_factory=tuple)  # (label, value)


class FormDialog(QDialog):
    submitted = Signal(object)

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict], Any], parent: QWidget | None = None,
                 intro: str | None = None, ok_label: str = "Enregistrer"):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("formDialog")
        self.setMinimumWidth(460)
        self._submit = submit
        self._fields = fields
        self.inputs: dict[str, QWidget] = {}
        self.messages: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        if intro:
            layout.addWidget(note_label(intro, self))
        self.general_message = message_label(self)
        layout.addWidget(self.general_message)
        form = QFormLayout()
        for f in fields:
            widget = self._input(f)
            widget.setObjectName(f.name)
            self.inputs[f.name] = widget
            self.messages[f.name] = message_label(self)
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(self.messages[f.name])
            form.addRow(f.label, column)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_label)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _input(self, f: Field) -> QWidget:
        if f.kind == "date":
            return date_edit(f.default or date.today(), self)
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
        out = {}
        for f in self._fields:
            w = self.inputs[f.name]
            if f.kind == "date":
                out[f.name] = from_qdate(w.date())
            elif f.kind == "choice":
                out[f.name] = w.currentData()
            elif f.kind == "multiline":
                out[f.name] = w.toPlainText()
            else:
                out[f.name] = w.text()
        return out

    def save(self) -> None:
        for label in [*self.messages.values(), self.general_message]:
            label.setVisible(False)
        self.buttons.setEnabled(False)
        values = self.values()
        run_in_background(self, lambda: self._submit(values), self._succeeded, self._failed)

    def _succeeded(self, result) -> None:
        self.buttons.setEnabled(True)
        self.submitted.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if not isinstance(exc, DomainError):
            show_unexpected_error(self)  # already logged by the background helper
            return
        label = self.messages.get(exc.field or "", self.general_message)
        show_messages(label, [exc.message], [])
        target = self.inputs.get(exc.field or "")
        if target is not None:
            target.setFocus()
