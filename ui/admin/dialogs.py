"""Small forms of the conventions page: a partner, an intervenant. Errors appear next to the field at fault."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from services.conventions_admin import IntervenantInput, IntervenantSummary, PartnerSummary, tariff_field
from services.formatting import format_date
from ui.date_field import DateField
from ui.form_dialog import FieldsDialog

OTHER_QUALIFICATION = object()  # the combo's « Nouvelle qualification… » line: the label is typed in
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
    """An intervenant's name, qualification and partner. A change of qualification or partner holds from a date
    (« À partir de quelle date ? », today by default): the months before keep what they were billed at. A date in an
    issued month is allowed; `warn(key, values)` says what it brings (régularisations), shown under the date."""

    def __init__(self, create: Callable[[IntervenantInput], IntervenantSummary],
                 update: Callable[[str, IntervenantInput], IntervenantSummary],
                 partners: tuple[PartnerSummary, ...], intervenant: IntervenantSummary | None = None,
                 parent: QWidget | None = None, *,
                 warn: Callable[[str, IntervenantInput], str | None] = lambda _key, _values: None,
                 today: Callable[[], date] = date.today, qualifications: tuple[str, ...] = ()):
        super().__init__("Modifier l'intervenant" if intervenant else "Nouvel intervenant",
                         lambda: update(intervenant.key, self.values()) if intervenant else create(self.values()),
                         parent)
        self.key_edit = QLineEdit(intervenant.key if intervenant else "")
        self.key_edit.setPlaceholderText("par exemple i-benali")
        self.key_edit.setReadOnly(intervenant is not None)
        self.name_edit = QLineEdit(intervenant.name if intervenant else "")
        # The qualifications the conventions pay are offered (the combo keeps its keyboard search: « A » is AES);
        # « Nouvelle qualification… » opens a field to type another one (« Éducateur »).
        self.qualification_combo = QComboBox()
        for code in dict.fromkeys((*QUALIFICATION_LABELS, *qualifications)):
            self.qualification_combo.addItem(QUALIFICATION_LABELS.get(code, code), code)
        self.qualification_combo.addItem("Nouvelle qualification…", OTHER_QUALIFICATION)
        self.other_qualification_edit = QLineEdit()
        self.other_qualification_edit.setObjectName("otherQualification")
        self.other_qualification_edit.setPlaceholderText("par exemple Éducateur")
        self.other_qualification_edit.setAccessibleName("Nouvelle qualification")
        self.partner_combo = QComboBox()
        for p in partners:
            self.partner_combo.addItem(p.name, p.key)
        if intervenant:
            if self.qualification_combo.findData(intervenant.qualification) < 0:  # a label of another convention
                self.qualification_combo.addItem(intervenant.qualification, intervenant.qualification)
            self.qualification_combo.setCurrentIndex(self.qualification_combo.findData(intervenant.qualification))
            self.partner_combo.setCurrentIndex(self.partner_combo.findData(intervenant.partner))
        self.add_field("key", "Clé", self.key_edit)
        self.add_field("name", "Nom", self.name_edit)
        self.add_field("qualification", "Qualification", self.qualification_combo)
        self._grid.addWidget(self.other_qualification_edit, self._grid.rowCount(), 1)
        self.qualification_combo.currentIndexChanged.connect(self._show_other_qualification)
        self._show_other_qualification()
        self.add_field("partner", "Partenaire", self.partner_combo)
        self._intervenant, self._warn = intervenant, warn
        self.from_edit = DateField(today())
        self.from_edit.setObjectName("intervenantFromDate")
        self.from_caption = QLabel("À partir de quelle date ?")
        self.from_caption.setBuddy(self.from_edit)
        self.history_label = QLabel(self._history_text())
        self.history_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setObjectName("regularisationWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color:#7a2e0e;")
        row = self._grid.rowCount()
        self._grid.addWidget(self.from_caption, row, 0)
        self._grid.addWidget(self.from_edit, row, 1)
        self._grid.addWidget(self.add_message("from_date"), row + 1, 1)
        self._grid.addWidget(self.warning_label, row + 2, 1)
        self._grid.addWidget(self.history_label, row + 3, 1)
        for signal in (self.qualification_combo.currentIndexChanged, self.other_qualification_edit.textChanged,
                       self.partner_combo.currentIndexChanged, self.from_edit.date_changed):
            signal.connect(self._refresh_date)
        self._refresh_date()

    def changes_terms(self) -> bool:
        """The qualification or the partner differs from the intervenant's: the date is asked."""
        i = self._intervenant
        return i is not None and (self.qualification(), self.partner_combo.currentData()) != (
            i.qualification, i.partner)

    def qualification(self) -> str:
        """The code of the line chosen (« AES — accompagnant… » is AES), or the label typed under « Nouvelle qualification… »."""
        code = self.qualification_combo.currentData()
        return self.other_qualification_edit.text().strip() if code == OTHER_QUALIFICATION else (code or "")

    def _show_other_qualification(self, *_args) -> None:
        other = self.qualification_combo.currentData() == OTHER_QUALIFICATION
        self.other_qualification_edit.setVisible(other)
        if other:
            self.other_qualification_edit.setFocus()

    def _history_text(self) -> str:
        i = self._intervenant
        if i is None or len(i.history) < 2:
            return ""
        return "Historique : " + " ; ".join(
            f"{'depuis le début' if p.start is None else 'à partir du ' + format_date(p.start)} : "
            f"{p.qualification}, {p.partner_name}" for p in i.history)

    def _refresh_date(self, *_args) -> None:
        asked = self.changes_terms()
        for widget in (self.from_caption, self.from_edit):
            widget.setVisible(asked)
        self.history_label.setVisible(bool(self.history_label.text()))
        message = self._warn(self._intervenant.key, self.values()) if asked and self.from_edit.date() else None
        self.warning_label.setText(message or "")
        self.warning_label.setVisible(bool(message))

    def values(self) -> IntervenantInput:
        return IntervenantInput(self.key_edit.text(), self.name_edit.text(),
                                self.qualification(), self.partner_combo.currentData() or "",
                                from_date=self.from_edit.date() if self.changes_terms() else None)

    def accept(self) -> None:
        if self.changes_terms() and self.from_edit.date() is None:
            self.show_problems({"from_date": self.from_edit.error() or "Indiquez la date à partir de laquelle le "
                                                                       "changement vaut."})
            return
        super().accept()


class AmendmentDialog(RecordDialog):
    """« Nouvel avenant… »: the start date and the whole tariff table from that day, filled with the tariffs in
    force before it (the administrator changes what the avenant changes). « Modifier l'avenant… » opens the same form
    on an avenant (`replacing`, its start), filled with its own tariffs; saving replaces it."""

    def __init__(self, save: Callable[[date | None, dict], Any], current: dict[tuple[str, str], str],
                 kinds: tuple[tuple[str, str], ...], qualifications: tuple[str, ...], start: date,
                 parent: QWidget | None = None, *, flat: tuple[tuple[str, str], str] | None = None,
                 replacing: bool = False):
        super().__init__("Modifier l'avenant" if replacing else "Nouvel avenant",
                         lambda: save(self.start_edit.date(), self.tariffs()), parent)
        self.start_edit = DateField(start)
        self.start_edit.setObjectName("amendmentStart")
        self.add_field("start", "Tarifs en vigueur à partir du", self.start_edit)
        self.tariff_edits: dict[tuple[str, str], QLineEdit] = {}
        cells = [((qualification, kind), f"{label} ({qualification})") for kind, label in kinds
                 for qualification in qualifications]
        if flat is not None:  # the monthly flat per family followed: one cell, no qualification
            cells.append(flat)
        for pair, caption in cells:
            edit = QLineEdit(current.get(pair, ""))
            edit.setPlaceholderText("—")
            self.tariff_edits[pair] = edit
            self.add_field(tariff_field(*pair), caption, edit)

    def tariffs(self) -> dict[tuple[str, str], str]:
        return {pair: edit.text() for pair, edit in self.tariff_edits.items()}

    def accept(self) -> None:
        if self.start_edit.date() is None:
            self.show_problems({"start": self.start_edit.error() or "La date de début de l'avenant est obligatoire."})
            return
        super().accept()
