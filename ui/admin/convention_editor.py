"""The convention form: key, partner and action, period, follow-up figures, billing rules (sessions per week,
school holidays, référent at the first session, per session or per hour), period-end months, tariff table.

Each field has its French message next to it (the service's `InvalidFields.problems`); amounts are checked as
they are typed, with the service's own rule. When a month of the convention is issued, its billing terms are
read-only and the banner gives the service's explanation (`lock_message`).
"""
from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QScrollArea, QToolButton,
                               QVBoxLayout, QWidget)

from services.conventions_admin import (FLAT, QUALIFICATIONS, TARIFF_KINDS, ConventionInput, ConventionSummary,
                                        PartnerSummary, lock_message, parse_amount, qualification_problem,
                                        tariff_field)
from services.errors import InvalidFields
from services.formatting import MONTHS, NBSP, format_date, format_money
from ui.admin.table_models import kind_label
from ui.admin.widgets import FieldError
from ui.date_field import DateField

BANNER_STYLE = ("QLabel#lockBanner { background:#fffaeb; color:#7a2e0e; border:1px solid #fec84b; "
                "border-radius:6px; padding:8px; }")


def amount_text(value) -> str:
    """30.00 -> '30,00', 45000 -> '45 000,00' (the service reads it back as typed)."""
    return "" if value is None else format_money(value).removesuffix(f"{NBSP}€")


def _set_read_only(edit: QLineEdit | QPlainTextEdit, read_only: bool) -> None:
    """setReadOnly, then restyle: the style sheet greys read-only fields by their `readOnly` property."""
    edit.setReadOnly(read_only)
    edit.style().unpolish(edit)
    edit.style().polish(edit)


class ConventionEditor(QWidget):
    """Shows one convention (or a new one) and gathers what the administrator typed as a ConventionInput."""

    save_requested = Signal()
    revert_requested = Signal()
    amendment_requested = Signal()  # « Nouvel avenant… »
    amendment_edit_requested = Signal(object)  # the start (date) of the avenant to change
    amendment_remove_requested = Signal(object)  # the start (date) of the avenant to withdraw

    def __init__(self, parent: QWidget | None = None, *, today: Callable[[], date] = date.today):
        super().__init__(parent)
        self._today = today
        self.setObjectName("conventionEditor")
        # What cannot be typed in must not look as if it could.
        self.setStyleSheet('QLineEdit[readOnly="true"], QPlainTextEdit[readOnly="true"] '
                           "{ background: #f2f4f7; color: #344054; }")
        self._summary: ConventionSummary | None = None
        self._read_only = False
        self._problems: dict[str, str] = {}
        self.errors: dict[str, FieldError] = {}
        self._build()

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.title = QLabel()
        self.title.setObjectName("editorTitle")
        self.title.setStyleSheet("font-size:13pt; font-weight:700;")
        self.banner = QLabel()
        self.banner.setObjectName("lockBanner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("par exemple AP-2026")
        self.partner_combo = QComboBox()
        self.action_combo = QComboBox()
        self.action_combo.setEditable(True)
        self.action_combo.lineEdit().setPlaceholderText("par exemple Atout Plus")
        self.start_edit = DateField()
        self.end_edit = DateField()
        for name, edit in (("start", self.start_edit), ("end", self.end_edit)):
            edit.editingFinished.connect(lambda name=name: self._check_date(name))
        self.open_ended = QCheckBox("Sans date de fin")
        self.open_ended.toggled.connect(lambda on: self.end_edit.setEnabled(not on and not self._locked_terms()))
        start_row = QHBoxLayout()
        start_row.setContentsMargins(0, 0, 0, 0)
        start_row.addWidget(self.start_edit)
        start_row.addStretch(1)
        start_widget = QWidget()
        start_widget.setLayout(start_row)
        end_row = QHBoxLayout()
        end_row.setContentsMargins(0, 0, 0, 0)
        end_row.addWidget(self.end_edit)
        end_row.addWidget(self.open_ended)
        end_row.addStretch(1)
        end_widget = QWidget()
        end_widget.setLayout(end_row)
        self.max_families_edit = QLineEdit()
        self.max_families_edit.setPlaceholderText("sans maximum")
        self.budget_cap_edit = QLineEdit()
        self.budget_cap_edit.setPlaceholderText("sans plafond, sinon par exemple 25 000,00")
        self.imputation_edit = QPlainTextEdit()
        self.imputation_edit.setPlaceholderText("par exemple Chapitre 65, article 65748")
        self.imputation_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)

        general = QGroupBox("Convention")
        grid = QGridLayout(general)
        grid.setColumnStretch(1, 1)
        for row, (name, label, widget) in enumerate((
                ("key", "Clé", self.key_edit), ("partner", "Partenaire", self.partner_combo),
                ("action", "Action", self.action_combo), ("start", "Début", start_widget),
                ("end", "Fin", end_widget), ("max_families", "Familles (maximum indicatif)", self.max_families_edit),
                ("budget_cap", "Plafond budgétaire TTC", self.budget_cap_edit),
                ("budget_imputation", "Imputation budgétaire", self.imputation_edit))):
            self._add_row(grid, 2 * row, name, label, widget)

        # The billing model of the convention (Atout Plus's by default): billing terms, locked like the tariffs.
        self.per_week_combo = QComboBox()
        self.per_week_combo.setObjectName("sessionsPerWeek")
        for number in range(1, 8):
            self.per_week_combo.addItem(str(number), number)
        self.per_week_combo.addItem("sans limite", None)
        self.holidays_check = QCheckBox("Vacances scolaires : dérogation requise")
        self.holidays_check.setObjectName("holidaysNeedException")
        self.referent_check = QCheckBox("Référent·e attendu·e à la première séance")
        self.referent_check.setObjectName("referentAtFirstSession")
        self.unit_combo = QComboBox()
        self.unit_combo.setObjectName("homeUnit")
        self.unit_combo.addItem("à la séance", "session")
        self.unit_combo.addItem("à l'heure", "hour")
        self.rounding_combo = QComboBox()
        self.rounding_combo.setObjectName("hourRounding")
        self._fill_roundings(15)
        self.unit_combo.currentIndexChanged.connect(self._show_rounding)
        unit_row = QHBoxLayout()
        unit_row.setContentsMargins(0, 0, 0, 0)
        unit_row.addWidget(self.unit_combo)
        self.rounding_caption = QLabel("durée arrondie")
        unit_row.addWidget(self.rounding_caption)
        unit_row.addWidget(self.rounding_combo)
        unit_row.addStretch(1)
        unit_widget = QWidget()
        unit_widget.setLayout(unit_row)
        rules = QGroupBox("Règles de facturation")
        rules_grid = QGridLayout(rules)
        rules_grid.setColumnStretch(1, 1)
        self._add_row(rules_grid, 0, "sessions_per_week", "Séances facturées par semaine", self.per_week_combo)
        self._add_row(rules_grid, 2, "home_unit", "Facturation", unit_widget)
        rules_grid.addWidget(self.holidays_check, 4, 1)
        rules_grid.addWidget(self.referent_check, 5, 1)
        self.errors["hour_rounding_minutes"] = FieldError()
        rules_grid.addWidget(self.errors["hour_rounding_minutes"], 6, 1)
        self.rules_box = rules

        self.month_checks: list[QCheckBox] = []
        months_box = QGroupBox("Mois de fin de période (réunion de fin de période facturable)")
        months_layout = QVBoxLayout(months_box)
        months_grid = QGridLayout()
        for number, name in enumerate(MONTHS, start=1):
            check = QCheckBox(name.capitalize())
            check.setProperty("month", number)
            self.month_checks.append(check)
            months_grid.addWidget(check, (number - 1) // 4, (number - 1) % 4)
        months_layout.addLayout(months_grid)
        self.errors["period_end_months"] = FieldError()
        months_layout.addWidget(self.errors["period_end_months"])

        # The tariff table: one column per qualification of the convention (AES and TISF for a new one), one row per
        # billable kind; columns are added and removed here, the grid is rebuilt with what was typed kept.
        tariffs_box = QGroupBox("Tarifs TTC de la convention (laisser vide : pas de tarif)")
        tariffs_layout = QVBoxLayout(tariffs_box)
        self.tariffs_grid = QGridLayout()
        self.tariffs_grid.setColumnStretch(0, 1)
        tariffs_layout.addLayout(self.tariffs_grid)
        self._qualifications: list[str] = list(QUALIFICATIONS)
        self.tariff_edits: dict[tuple[str, str], QLineEdit] = {}
        self.remove_buttons: dict[str, QToolButton] = {}
        self._grid_widgets: list[QWidget] = []
        for kind in TARIFF_KINDS:  # one label per row of the table, naming the qualification at fault
            self.errors[f"tariff_row.{kind}"] = FieldError()
        add_row = QHBoxLayout()
        self.new_qualification_edit = QLineEdit()
        self.new_qualification_edit.setObjectName("newQualification")
        self.new_qualification_edit.setPlaceholderText("ex. Éducateur")
        self.new_qualification_edit.setMaximumWidth(220)
        self.new_qualification_edit.returnPressed.connect(self.add_qualification)
        self.add_qualification_button = QPushButton("Ajouter la qualification")
        self.add_qualification_button.setObjectName("addQualification")
        self.add_qualification_button.clicked.connect(self.add_qualification)
        self.new_qualification_caption = QLabel("Nouvelle qualification :")
        add_row.addWidget(self.new_qualification_caption)
        add_row.addWidget(self.new_qualification_edit)
        add_row.addWidget(self.add_qualification_button)
        add_row.addStretch(1)
        tariffs_layout.addLayout(add_row)
        self.errors["qualifications"] = FieldError()
        tariffs_layout.addWidget(self.errors["qualifications"])
        flat_row = QHBoxLayout()
        self.flat_edit = QLineEdit()
        self.flat_edit.setObjectName("tariff_flat")
        self.flat_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.flat_edit.setPlaceholderText("—")
        self.flat_edit.setMaximumWidth(110)
        self.flat_edit.setAccessibleName(kind_label(FLAT[1]))
        self.flat_edit.textEdited.connect(lambda text: self._recheck({tariff_field(*FLAT): text}))
        flat_row.addWidget(QLabel(f"{kind_label(FLAT[1])} :"))
        flat_row.addWidget(self.flat_edit)
        flat_row.addStretch(1)
        tariffs_layout.addLayout(flat_row)
        self.errors[tariff_field(*FLAT)] = FieldError()
        tariffs_layout.addWidget(self.errors[tariff_field(*FLAT)])
        self.errors["tariffs"] = FieldError()
        tariffs_layout.addWidget(self.errors["tariffs"])
        self._build_tariff_grid({})

        # The tariff tables in force over the convention: its own (the table above), then each avenant's. A table
        # whose start falls in an issued month is locked: those months were paid with it.
        versions_box = QGroupBox("Avenants : tarifs en vigueur par date")
        versions_layout = QVBoxLayout(versions_box)
        self.versions_list = QListWidget()
        self.versions_list.setObjectName("tariffVersions")
        self.versions_list.setMaximumHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        self.amendment_button = QPushButton("Nouvel avenant…")
        self.amendment_button.setObjectName("newAmendment")
        self.amendment_button.clicked.connect(self.amendment_requested)
        self.edit_amendment_button = QPushButton("Modifier l'avenant…")
        self.edit_amendment_button.setObjectName("editAmendment")
        self.edit_amendment_button.clicked.connect(
            lambda: self.amendment_edit_requested.emit(self.selected_amendment()))
        self.remove_amendment_button = QPushButton("Retirer l'avenant")
        self.remove_amendment_button.setObjectName("removeAmendment")
        self.remove_amendment_button.clicked.connect(
            lambda: self.amendment_remove_requested.emit(self.selected_amendment()))
        self.versions_list.currentRowChanged.connect(self._amendment_selected)
        self.versions_list.itemDoubleClicked.connect(lambda _item: self.edit_amendment_button.click())
        versions_layout.addWidget(self.versions_list)
        versions_row = QHBoxLayout()
        versions_row.addWidget(self.amendment_button)
        versions_row.addWidget(self.edit_amendment_button)
        versions_row.addWidget(self.remove_amendment_button)
        versions_row.addStretch(1)
        versions_layout.addLayout(versions_row)
        self.versions_box = versions_box

        self.general_error = FieldError()
        self.save_button = QPushButton("Enregistrer")
        self.save_button.setObjectName("saveConvention")
        self.save_button.setDefault(True)
        self.revert_button = QPushButton("Annuler les modifications")
        self.save_button.clicked.connect(self.save_requested)
        self.revert_button.clicked.connect(self.revert_requested)
        header = QHBoxLayout()  # title and buttons stay in view while the form scrolls
        header.addWidget(self.title, 1)
        header.addWidget(self.revert_button)
        header.addWidget(self.save_button)

        body = QWidget()
        body.setObjectName("conventionForm")
        form = QVBoxLayout(body)
        form.setContentsMargins(0, 0, 6, 0)
        form.addWidget(self.banner)
        form.addWidget(general)
        form.addWidget(rules)
        form.addWidget(months_box)
        form.addWidget(tariffs_box)
        form.addWidget(versions_box)
        form.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.general_error)
        layout.addWidget(scroll, 1)
        for widget in (self.key_edit, self.partner_combo, self.action_combo, self.max_families_edit,
                       self.budget_cap_edit, self.imputation_edit):
            widget.setMaximumWidth(420)
        self.budget_cap_edit.textEdited.connect(lambda text: self._recheck({"budget_cap": text}))

    def _fill_roundings(self, current: int) -> None:
        """The roundings conventions state (each session's duration rounded up), and the convention's own."""
        self.rounding_combo.clear()
        for minutes in sorted({1, 5, 10, 15, 30, 60, current}):
            words = {1: "à la minute", 15: "au quart d'heure", 30: "à la demi-heure", 60: "à l'heure"}
            self.rounding_combo.addItem(words.get(minutes, f"à {minutes} minutes"), minutes)
        self.rounding_combo.setCurrentIndex(self.rounding_combo.findData(current))

    def _show_rounding(self, *_args) -> None:
        hourly = self.unit_combo.currentData() == "hour"
        self.rounding_caption.setVisible(hourly)
        self.rounding_combo.setVisible(hourly)
        caption = getattr(self, "kind_captions", {}).get("home_intervention")
        if caption is not None:  # an hourly convention's rate is per hour delivered, not per intervention
            caption.setText(kind_label("home_intervention") + (" (tarif horaire)" if hourly else ""))

    def _add_row(self, grid: QGridLayout, row: int, name: str, label: str, widget: QWidget) -> None:
        caption = QLabel(label)
        caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        caption.setContentsMargins(0, 4, 0, 0)
        grid.addWidget(caption, row, 0)
        grid.addWidget(widget, row, 1)  # the message goes right under its field
        self.errors[name] = FieldError()
        grid.addWidget(self.errors[name], row + 1, 1)

    def _build_tariff_grid(self, texts: dict[tuple[str, str], str]) -> None:
        """(Re)build the table for `self._qualifications`, each cell showing `texts` (what was typed)."""
        grid = self.tariffs_grid
        for widget in self._grid_widgets:
            grid.removeWidget(widget)
            widget.setParent(None)
            widget.deleteLater()
        self._grid_widgets, self.tariff_edits, self.remove_buttons = [], {}, {}

        def put(widget: QWidget, row: int, column: int, span: int = 1) -> None:
            grid.addWidget(widget, row, column, 1, span)
            if not isinstance(widget, FieldError):
                self._grid_widgets.append(widget)

        put(QLabel("<b>Prestation</b>"), 0, 0)
        columns = len(self._qualifications)
        for column, qualification in enumerate(self._qualifications, start=1):
            header = QWidget()
            header_row = QHBoxLayout(header)
            header_row.setContentsMargins(0, 0, 0, 0)
            header_row.setSpacing(2)
            caption = QLabel(f"<b>{html.escape(qualification)}</b>")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            remove = QToolButton()
            remove.setText("×")
            remove.setObjectName(f"removeQualification_{qualification}")
            remove.setToolTip(f"Retirer la colonne {qualification} (ses tarifs doivent être vides)")
            remove.setAccessibleName(f"Retirer la colonne {qualification}")
            remove.setAutoRaise(True)
            remove.clicked.connect(lambda _c=False, q=qualification: self.remove_qualification(q))
            self.remove_buttons[qualification] = remove
            header_row.addStretch(1)
            header_row.addWidget(caption)
            header_row.addWidget(remove)
            header_row.addStretch(1)
            put(header, 0, column)
        self.kind_captions: dict[str, QLabel] = {}
        for row, kind in enumerate(TARIFF_KINDS, start=1):
            self.kind_captions[kind] = QLabel(kind_label(kind))
            put(self.kind_captions[kind], 2 * row - 1, 0)
            for column, qualification in enumerate(self._qualifications, start=1):
                edit = QLineEdit(texts.get((qualification, kind), ""))
                edit.setObjectName(f"tariff_{qualification}_{kind}")
                edit.setAlignment(Qt.AlignmentFlag.AlignRight)
                edit.setPlaceholderText("—")
                edit.setMaximumWidth(110)
                edit.setAccessibleName(f"Tarif {qualification}, {kind_label(kind)}")
                edit.textEdited.connect(lambda _t, q=qualification, k=kind: self._check_tariff(q, k))
                self.tariff_edits[(qualification, kind)] = edit
                put(edit, 2 * row - 1, column)
            put(self.errors[f"tariff_row.{kind}"], 2 * row, 0, columns + 1)
        self._apply_read_only_tariffs()
        self._show_tariff_problems()
        self._show_rounding()

    def qualifications(self) -> tuple[str, ...]:
        """The columns of the tariff table, in order."""
        return tuple(self._qualifications)

    def _typed_tariffs(self) -> dict[tuple[str, str], str]:
        return {pair: edit.text() for pair, edit in self.tariff_edits.items()}

    def add_qualification(self) -> bool:
        """« Ajouter la qualification »: a new column of empty tariffs; the label is checked as the service does."""
        label = self.new_qualification_edit.text().strip()
        problem = qualification_problem(label)
        if problem is None and label.casefold() in {q.casefold() for q in self._qualifications}:
            problem = f"La colonne {label} existe déjà."
        self.errors["qualifications"].show_message(problem)
        if problem:
            return False
        self._qualifications.append(label)
        self._build_tariff_grid(self._typed_tariffs())
        self.new_qualification_edit.clear()
        return True

    def remove_qualification(self, qualification: str) -> bool:
        """Remove a column whose cells are empty (a column with tariffs is emptied first, on purpose)."""
        filled = [kind_label(k) for k in TARIFF_KINDS if self.tariff_edits[(qualification, k)].text().strip()]
        if filled:
            self.errors["qualifications"].show_message(
                f"Videz d'abord les tarifs de la colonne {qualification} ({', '.join(filled)}) avant de la retirer.")
            return False
        if len(self._qualifications) == 1:
            self.errors["qualifications"].show_message("Le tableau des tarifs garde au moins une colonne.")
            return False
        self.errors["qualifications"].show_message(None)
        self._qualifications.remove(qualification)
        self._build_tariff_grid(self._typed_tariffs())
        return True

    # ------------------------------------------------------------------------------------------ data

    def load(self, convention: ConventionSummary | None, partners: tuple[PartnerSummary, ...],
             actions: tuple[str, ...], read_only: bool = False) -> None:
        """Show `convention`, or an empty form for a new one."""
        self._summary, self._read_only = convention, read_only
        self.set_choices(partners, actions)
        c = convention
        self.title.setText(f"Convention {c.key}" if c else "Nouvelle convention")
        self.key_edit.setText(c.key if c else "")
        _set_read_only(self.key_edit, c is not None)
        self.partner_combo.setCurrentIndex(self.partner_combo.findData(c.partner) if c else -1)
        self.action_combo.setCurrentText(c.action if c else "")
        year = self._today().year  # a new convention: the running civil year, the commonest case
        self.start_edit.setDate(c.start if c else date(year, 1, 1))
        self.open_ended.setChecked(c is not None and c.end is None)
        self.end_edit.setDate(c.end if c and c.end else date(year, 12, 31))
        self.max_families_edit.setText("" if not c or c.max_families is None else str(c.max_families))
        self.budget_cap_edit.setText(amount_text(c.budget_cap) if c else "")
        self.imputation_edit.setPlainText((c.budget_imputation or "") if c else "")
        for check in self.month_checks:
            check.setChecked(c is not None and check.property("month") in c.period_end_months)
        self._qualifications = list(c.qualifications if c else QUALIFICATIONS)
        self._build_tariff_grid({(t.qualification, t.kind): amount_text(t.unit_price) for t in (c.tariffs if c else ())})
        self.flat_edit.setText(amount_text(c.monthly_family_flat) if c else "")
        self.new_qualification_edit.clear()
        defaults = ConventionInput("", "", "", None, None)  # a new convention: Atout Plus's rules
        per_week = c.sessions_per_week if c else defaults.sessions_per_week
        self.per_week_combo.setCurrentIndex(self.per_week_combo.findData(per_week))
        self.holidays_check.setChecked(c.holidays_need_exception if c else defaults.holidays_need_exception)
        self.referent_check.setChecked(c.referent_at_first_session if c else defaults.referent_at_first_session)
        self._fill_roundings(c.hour_rounding_minutes if c else defaults.hour_rounding_minutes)
        self.unit_combo.setCurrentIndex(self.unit_combo.findData(c.home_unit if c else defaults.home_unit))
        self._show_rounding()
        self._show_versions(c)
        self.show_problems({})
        self.set_lock_message(lock_message(c) if c else None)
        self._apply_read_only()
        self._loaded = self.values()

    def _show_versions(self, c: ConventionSummary | None) -> None:
        self.versions_list.clear()
        for version in (c.tariff_versions if c else ()):
            words = [f"Tarifs en vigueur à partir du {format_date(version.start)}",
                     "avenant" if version.amendment else "convention"]
            if version.locked:
                words.append("figés : mois émis")
            item = QListWidgetItem(" — ".join(words))
            item.setToolTip("\n".join(f"{kind_label(t.kind)} {t.qualification} : {amount_text(t.unit_price)} €"
                                       for t in version.tariffs) or "Aucun tarif")
            item.setData(Qt.ItemDataRole.UserRole, version)
            self.versions_list.addItem(item)
        self.versions_box.setVisible(c is not None)
        self._amendment_selected()

    def select_version(self, start: date) -> None:
        """Select the line of the tariff table starting on `start`."""
        for row in range(self.versions_list.count()):
            if self.versions_list.item(row).data(Qt.ItemDataRole.UserRole).start == start:
                self.versions_list.setCurrentRow(row)

    def selected_amendment(self) -> date | None:
        """The start of the selected avenant that can still change (not the convention's own table, not frozen)."""
        item = self.versions_list.currentItem()
        version = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return version.start if version is not None and version.amendment and not version.locked else None

    def _amendment_selected(self, *_args) -> None:
        editable = not self._read_only and self.selected_amendment() is not None
        for button in (self.edit_amendment_button, self.remove_amendment_button):
            button.setEnabled(editable)

    def version_texts(self) -> list[str]:
        """The lines of the list of tariff tables, as the administrator reads them."""
        return [self.versions_list.item(i).text() for i in range(self.versions_list.count())]

    def set_choices(self, partners: tuple[PartnerSummary, ...], actions: tuple[str, ...]) -> None:
        """Refresh the partners and actions offered, keeping what is chosen or typed."""
        partner, action = self.partner_combo.currentData(), self.action_combo.currentText()
        self.partner_combo.clear()
        for p in partners:
            self.partner_combo.addItem(f"{p.name} ({p.key})", p.key)
        self.partner_combo.setCurrentIndex(self.partner_combo.findData(partner) if partner else -1)
        self.action_combo.clear()
        self.action_combo.addItems(list(actions))
        self.action_combo.setCurrentText(action)

    def summary(self) -> ConventionSummary | None:
        return self._summary

    def is_new(self) -> bool:
        return self._summary is None

    def is_modified(self) -> bool:
        if self._read_only:
            return False
        try:
            return self.values() != getattr(self, "_loaded", None)
        except InvalidFields:  # a date typed over and unreadable: changed all the same
            return True

    def _dates(self) -> dict[str, str]:
        """The French reason of each date field that cannot be read (the end only when there is one)."""
        edits = {"start": self.start_edit} | ({} if self.open_ended.isChecked() else {"end": self.end_edit})
        return {name: edit.error() for name, edit in edits.items() if edit.error()}

    def _check_date(self, name: str) -> None:
        """Typing finished in a date field: its message appears or goes, the others stay."""
        found = {f: m for f, m in self._dates().items() if f == name}
        self.show_problems({**{f: m for f, m in self._problems.items() if f != name}, **found})

    def values(self) -> ConventionInput:
        """What is typed; raises InvalidFields when a date cannot be read."""
        unreadable = self._dates()
        if unreadable:
            raise InvalidFields(unreadable)
        return ConventionInput(
            key=self.key_edit.text().strip(), partner=self.partner_combo.currentData() or "",
            action=self.action_combo.currentText().strip(), start=self.start_edit.date(),
            end=None if self.open_ended.isChecked() else self.end_edit.date(),
            max_families=self.max_families_edit.text(), budget_cap=self.budget_cap_edit.text(),
            budget_imputation=self.imputation_edit.toPlainText(),
            period_end_months=tuple(c.property("month") for c in self.month_checks if c.isChecked()),
            qualifications=tuple(self._qualifications),
            tariffs={**self._typed_tariffs(), FLAT: self.flat_edit.text()},
            sessions_per_week=self.per_week_combo.currentData(),
            holidays_need_exception=self.holidays_check.isChecked(),
            referent_at_first_session=self.referent_check.isChecked(), home_unit=self.unit_combo.currentData(),
            hour_rounding_minutes=self.rounding_combo.currentData())

    # ------------------------------------------------------------------------------------------ messages

    def show_problems(self, problems: dict[str, str]) -> None:
        """Put each message next to its field; what has no field goes under the form."""
        self._problems = dict(problems)
        for name, label in self.errors.items():
            if not name.startswith("tariff_row."):
                label.show_message(problems.get(name))
        self._show_tariff_problems()
        cells = {tariff_field(*pair) for pair in self.tariff_edits}
        leftover = [m for f, m in problems.items() if f not in self.errors and f not in cells]
        self.general_error.show_message(" ".join(leftover) or None)

    def _show_tariff_problems(self) -> None:
        """One message per row of the table, naming the qualification at fault; the cells at fault outlined."""
        problems = self._problems
        for kind in TARIFF_KINDS:
            self.errors[f"tariff_row.{kind}"].show_message(" ".join(
                f"{q} : {problems[tariff_field(q, kind)]}" for q in self._qualifications
                if tariff_field(q, kind) in problems) or None)
        for (qualification, kind), edit in self.tariff_edits.items():
            bad = tariff_field(qualification, kind) in problems
            edit.setStyleSheet("border:1px solid #b42318;" if bad else "")

    def problems(self) -> dict[str, str]:
        """The messages on screen, by field."""
        return dict(self._problems)

    def message_for(self, name: str) -> str:
        """The text next to a field ('' when it is fine): what the administrator reads there."""
        if name.startswith("tariffs.") and name != tariff_field(*FLAT):
            name = f"tariff_row.{name.rsplit('.', 1)[1]}"
        label = self.errors[name]
        return "" if label.isHidden() else label.text()

    def set_lock_message(self, message: str | None) -> None:
        self.banner.setText(f"<b>Convention figée.</b> {html.escape(message, quote=False)}" if message else "")
        self.banner.setVisible(bool(message))

    def _recheck(self, fields: dict[str, str]) -> None:
        """Check amounts as they are typed (field name -> text), keeping the other messages."""
        found: dict[str, str] = {}
        for name, text in fields.items():
            parse_amount(text, name, found)
        self.show_problems({**{f: m for f, m in self._problems.items() if f not in fields}, **found})

    def _check_tariff(self, qualification: str, kind: str) -> None:
        self._recheck({tariff_field(qualification, kind): self.tariff_edits[(qualification, kind)].text()})

    # ------------------------------------------------------------------------------------------ locking

    def _locked_terms(self) -> bool:
        return self._read_only or (self._summary is not None and self._summary.locked)

    def _apply_read_only(self) -> None:
        locked = self._locked_terms()
        for widget in (self.partner_combo, self.action_combo, self.start_edit, self.open_ended, *self.month_checks,
                       self.per_week_combo, self.holidays_check, self.referent_check, self.unit_combo,
                       self.rounding_combo):
            widget.setEnabled(not locked)
        self.end_edit.setEnabled(not locked and not self.open_ended.isChecked())
        self._apply_read_only_tariffs()
        for edit in (self.max_families_edit, self.budget_cap_edit):
            _set_read_only(edit, self._read_only)
        _set_read_only(self.imputation_edit, self._read_only)
        self.save_button.setVisible(not self._read_only)
        self.revert_button.setVisible(not self._read_only)
        self.amendment_button.setEnabled(not self._read_only and self._summary is not None)
        for button in (self.amendment_button, self.edit_amendment_button, self.remove_amendment_button):
            button.setVisible(not self._read_only)
        self._amendment_selected()

    def _apply_read_only_tariffs(self) -> None:
        locked = self._locked_terms()
        for edit in (*self.tariff_edits.values(), self.flat_edit, self.new_qualification_edit):
            _set_read_only(edit, locked)
        for button in (self.add_qualification_button, *self.remove_buttons.values()):
            button.setVisible(not locked)
        self.new_qualification_edit.setVisible(not locked)
        self.new_qualification_caption.setVisible(not locked)
