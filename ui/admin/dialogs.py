"""Small forms of the conventions page: a partner, an intervenant. Errors appear next to the field at fault."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from services.conventions_admin import IntervenantInput, IntervenantSummary, PartnerSummary
from ui.form_dialog import FieldsDialog

QUALIFICATION_LABELS = {"AES": "AES — accompagnant éducatif et social",
                        "TISF": "TISF — technicien de l'intervention sociale et familiale"}


class RecordDialog(FieldsDialog):
    """A form whose "Enregistrer" calls `save()` at once (a few rows, no need to leave the GUI thread); a refusal
    keeps the dialog open with every field's message in place."""

    saved = Signal(object)  # what the service returned

    def __init__(self, title: str, save: Callable[[], Any], parent: QWidget | None = None):
        super().__init__(title, parent, minimum_width=560)
        self._save = save
        self.errors = self.messages  # the admin pages' name for the messages under the fields
        self._grid = QGridLayout()
        self._grid.setColumnStretch(1, 1)
        self.buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(self._grid)
        layout.addWidget(self.general_message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def add_field(self, name: str, label: str, widget: QWidget) -> None:
        row = self._grid.rowCount()
        caption = QLabel(label)
        caption.setBuddy(widget)
        self._grid.addWidget(caption, row, 0)
        self._grid.addWidget(widget, row, 1)
        self._grid.addWidget(self.add_message(name), row + 1, 1)

    def accept(self) -> None:
        try:
            result = self._save()
        except Exception as exc:  # noqa: BLE001 - a refusal is shown in place, anything else logged and calmly said
            self.show_refusal(exc, logged=False)
            return
        self.show_problems({})
        self.saved.emit(result)
        super().accept()


class PartnerDialog(RecordDialog):
    def __init__(self, create: Callable[[str, str], PartnerSummary], rename: Callable[[str, str], PartnerSummary],
                 partner: PartnerSummary | None = None, parent: QWidget | None = None):
        super().__init__("Modifier le partenaire" if partner else "Nouveau partenaire",
                         lambda: (rename if partner else create)(self.key_edit.text(), self.name_edit.text()), parent)
        self.key_edit = QLineEdit(partner.key if partner else "")
        self.key_edit.setPlaceholderText("par exemple adom")
        self.key_edit.setReadOnly(partner is not None)
        self.name_edit = QLineEdit(partner.name if partner else "")
        self.name_edit.setPlaceholderText("par exemple Adom 01")
        self.add_field("key", "Clé", self.key_edit)
        self.add_field("name", "Nom de l'association", self.name_edit)


class IntervenantDialog(RecordDialog):
    def __init__(self, create: Callable[[IntervenantInput], IntervenantSummary],
                 update: Callable[[str, IntervenantInput], IntervenantSummary],
                 partners: tuple[PartnerSummary, ...], intervenant: IntervenantSummary | None = None,
                 parent: QWidget | None = None):
        super().__init__("Modifier l'intervenant" if intervenant else "Nouvel intervenant",
                         lambda: update(intervenant.key, self.values()) if intervenant else create(self.values()),
                         parent)
        self.key_edit = QLineEdit(intervenant.key if intervenant else "")
        self.key_edit.setPlaceholderText("par exemple i-benali")
        self.key_edit.setReadOnly(intervenant is not None)
        self.name_edit = QLineEdit(intervenant.name if intervenant else "")
        self.qualification_combo = QComboBox()
        for code, label in QUALIFICATION_LABELS.items():
            self.qualification_combo.addItem(label, code)
        self.partner_combo = QComboBox()
        for p in partners:
            self.partner_combo.addItem(p.name, p.key)
        if intervenant:
            self.qualification_combo.setCurrentIndex(self.qualification_combo.findData(intervenant.qualification))
            self.partner_combo.setCurrentIndex(self.partner_combo.findData(intervenant.partner))
        self.add_field("key", "Clé", self.key_edit)
        self.add_field("name", "Nom", self.name_edit)
        self.add_field("qualification", "Qualification", self.qualification_combo)
        self.add_field("partner", "Partenaire", self.partner_combo)

    def values(self) -> IntervenantInput:
        return IntervenantInput(self.key_edit.text(), self.name_edit.text(),
                                self.qualification_combo.currentData() or "", self.partner_combo.currentData() or "")
