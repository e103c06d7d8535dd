"""« Importer un tableur » : the wizard that brings a team's spreadsheet (XLSX, ODS, CSV) into Parcours.

    SheetWizard(uow_factory, user, today=date.today, parent=None)

Four steps, in French: the file (and a mapping file kept from last year, if any), its sheet and header row with a
preview of the first rows; the columns, each with the Parcours field it feeds (pre-filled from the headers' usual
words, the user corrects) and the layout (one row per child, one row per action); the value dictionaries (one table
per coded column: each distinct value with its choice in the closed list, recognised spellings already chosen);
then the report, built by a dry run before anything is written: children to create, merged with a child already in
Parcours, values left unchanged, refusals with their row, column and French reason. « Importer » is only offered
when nothing blocks; it writes all or nothing off the GUI thread (ui.background), then offers to save the mapping
file (columns, values, layout) for next year. Everything is checked by services.sheet_import; nothing here decides.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget, QWizard, QWizardPage)

from services.errors import DomainError
from services.file_faults import READ, WRITE, describe_os_error, write_atomically
from services.sheet_import import ColumnMapping, SheetOptions, find_header_row, import_sheet, map_columns, read_sheet
from services.sheet_import.columns import FIELDS, LAYOUTS, label
from services.sheet_import.values import choices_for
from ui.background import run_in_background
from ui.sheet_models import GridPreviewModel, ReportModel, cell_text
from ui.widgets import message_label, note_label, table_view

NOT_KEPT = "— ne pas reprendre —"
TO_CHOOSE = "— à choisir —"
SHEET_FILES = "Tableurs (*.xlsx *.xlsm *.ods *.csv *.txt)"
MAPPING_FILES = "Correspondance (*.json)"


def _fit(table: QTableWidget) -> None:
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)


def _buddy(text: str, widget: QWidget) -> QLabel:
    """A form's label whose « & » letter goes to `widget` (a row that is a layout gets no buddy by itself)."""
    label_ = QLabel(text, widget.parentWidget())
    label_.setBuddy(widget)
    return label_


def _choice_table(parent: QWidget, headers: tuple[str, ...], rows: int = 0) -> QTableWidget:
    """A table of read-only texts whose last column holds a combo box per row."""
    table = QTableWidget(rows, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    return table


def _choice_row(table: QTableWidget, row: int, texts, combo: QComboBox, choices, chosen, name: str) -> None:
    for index, text in enumerate(texts):
        item = QTableWidgetItem(text)
        item.setToolTip(text)
        table.setItem(row, index, item)
    for data, text in choices:
        combo.addItem(text, data)
    combo.setCurrentIndex(max(combo.findData(chosen), 0) if chosen else 0)
    combo.setAccessibleName(name)
    table.setCellWidget(row, len(texts), combo)


class SheetWizard(QWizard):
    def __init__(self, uow_factory, user, today: Callable[[], date] = date.today, parent: QWidget | None = None):
        super().__init__(parent)
        self.uow_factory, self.user, self.today = uow_factory, user, today
        self.grid = None
        self.saved: ColumnMapping | None = None  # the mapping file given on the first step
        self.result = None  # the SheetImportReport of the import, once written
        # Asked once the import is written: where to save the mapping file (None: not saved). Tests replace it.
        self.choose_mapping_path: Callable[[], str | None] = self._ask_mapping_path
        self.setWindowTitle("Importer un tableur")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        for button, text in ((QWizard.WizardButton.BackButton, "< &Précédent"),
                             (QWizard.WizardButton.NextButton, "&Suivant >"),
                             (QWizard.WizardButton.CancelButton, "Annuler"),
                             (QWizard.WizardButton.FinishButton, "&Importer")):
            self.setButtonText(button, text)
        self.file_page, self.columns_page = FilePage(self), ColumnsPage(self)
        self.values_page, self.report_page = ValuesPage(self), ReportPage(self)
        for page in (self.file_page, self.columns_page, self.values_page, self.report_page):
            self.addPage(page)
        self.resize(980, 640)

    # -- what the steps chose ---------------------------------------------------------------------------------
    def mapping(self, with_values: bool = True) -> ColumnMapping:
        values = {name: dict(d) for name, d in (self.saved.values if self.saved else {}).items()}
        if with_values:
            for name, chosen in self.values_page.choices().items():
                values.setdefault(name, {}).update(chosen)
        return ColumnMapping(self.grid.sheet or None, self.file_page.header.value(), self.columns_page.fields(),
                             values, self.columns_page.layout())

    def options(self, with_values: bool = True) -> SheetOptions:
        return SheetOptions(self.file_page.header.value(), self.mapping(with_values), self.columns_page.keep.isChecked())

    def dry_run(self, page: "QWizardPage", with_values: bool, on_report: Callable, on_refused: Callable[[str], None]):
        """The report of the import as chosen so far, nothing written, made off the GUI thread (a sheet of some
        thousand rows takes seconds); a refusal of the whole file goes to `on_refused` as its French message.
        Answers a page has stopped waiting for (the user went back) are dropped."""
        factory, user, grid, options, today = self.uow_factory, self.user, self.grid, self.options(with_values), \
            self.today()
        self._asked = getattr(self, "_asked", 0) + 1
        asked = self._asked

        def failed(exc: BaseException) -> None:
            if asked != self._asked:
                return
            if isinstance(exc, DomainError):
                on_refused(exc.message)
            else:
                from ui.errors import show_error

                on_refused("La feuille n'a pas pu être lue.")
                show_error(page, exc)

        return run_in_background(page, lambda: import_sheet(factory(), user, grid, options, today=today, dry_run=True),
                                 lambda report: on_report(report) if asked == self._asked else None, failed,
                                 progress_label="Lecture du tableur…")

    def _ask_mapping_path(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Enregistrer la correspondance pour l'an prochain",
                                              "correspondance.json", MAPPING_FILES)
        return path or None


class FilePage(QWizardPage):
    def __init__(self, wizard: SheetWizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Le fichier")
        self.setSubTitle("Choisissez le tableur de l'équipe (XLSX, ODS ou CSV), sa feuille et la ligne de ses "
                         "en-têtes. Un fichier de correspondance gardé l'an dernier reprend vos choix.")
        self.path, self.mapping_path = QLineEdit(self), QLineEdit(self)
        self.path.setPlaceholderText("Chemin du tableur")
        self.mapping_path.setPlaceholderText("Facultatif : correspondance.json de l'an dernier")
        browse, browse_mapping = QPushButton("&Parcourir…", self), QPushButton("C&hoisir…", self)
        browse.clicked.connect(self._browse)
        browse_mapping.clicked.connect(self._browse_mapping)
        self.sheet, self.header = QComboBox(self), QSpinBox(self)
        self.header.setRange(1, 1)
        self.header.setToolTip("Numéro de la ligne des en-têtes, tel que le tableur le montre")
        self.preview = GridPreviewModel(parent=self)
        view = table_view(self.preview, self, sortable=False)
        view.verticalHeader().setVisible(True)
        self.message = message_label(self)
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow(_buddy("&Tableur :", self.path), row)
        self.path.editingFinished.connect(self.load)
        row = QHBoxLayout()
        row.addWidget(self.mapping_path, 1)
        row.addWidget(browse_mapping)
        form.addRow(_buddy("&Correspondance :", self.mapping_path), row)
        self.mapping_path.editingFinished.connect(self.load)
        row = QHBoxLayout()
        row.addWidget(self.sheet, 1)
        row.addWidget(QLabel("Ligne des &en-têtes :", self))
        row.itemAt(1).widget().setBuddy(self.header)
        row.addWidget(self.header)
        form.addRow(_buddy("&Feuille :", self.sheet), row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(note_label("Aperçu des premières lignes (la ligne des en-têtes en gras) :", self))
        layout.addWidget(view, 1)
        self.sheet.currentTextChanged.connect(self._sheet_chosen)
        self.header.valueChanged.connect(self._header_chosen)
        self._loading = False
        self._loaded: tuple[str, str] | None = None

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choisir le tableur", "", SHEET_FILES)
        if path:
            self.path.setText(path)
            self.load()

    def _browse_mapping(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choisir le fichier de correspondance", "", MAPPING_FILES)
        if path:
            self.mapping_path.setText(path)
            self.load()

    def load(self, sheet: str | None = None) -> None:
        """Read the file (and the mapping file) named in the fields; a fault is said in French below them."""
        text, mapping = self.path.text().strip(), self.mapping_path.text().strip()
        if sheet is None and (text, mapping) == self._loaded:
            return  # the field lost the focus, nothing changed: keep the sheet chosen
        self._loaded = (text, mapping)
        self.w.grid, self.w.saved = None, None
        self.message.setText("")
        try:
            if mapping:
                try:
                    self.w.saved = ColumnMapping.from_json(Path(mapping).read_text(encoding="utf-8"))
                except OSError as exc:
                    raise _Fault(describe_os_error(exc, mapping, READ)) from None
                except UnicodeDecodeError:
                    raise _Fault("Le fichier de correspondance n'est pas un texte UTF-8.") from None
            if text:
                try:
                    self.w.grid = read_sheet(text, sheet or (self.w.saved.sheet if self.w.saved else None))
                except OSError as exc:
                    raise _Fault(describe_os_error(exc, text, READ)) from None
        except _Fault as fault:
            self.message.setText(str(fault))
        except DomainError as exc:
            self.message.setText(exc.message)
        self._show()

    def _show(self) -> None:
        grid = self.w.grid
        self._loading = True
        try:
            self.sheet.clear()
            self.sheet.addItems(list(grid.sheet_names) if grid else [])
            self.sheet.setEnabled(bool(grid and grid.sheet_names))
            if grid and grid.sheet:
                self.sheet.setCurrentText(grid.sheet)
            rows = len(grid.rows) if grid else 0
            self.header.setRange(1, max(rows, 1))
            found = (self.w.saved.header_row if self.w.saved and self.w.saved.header_row else None) or (
                (find_header_row(grid.rows) or 0) + 1 if grid else 1)
            self.header.setValue(min(found, max(rows, 1)))
        finally:
            self._loading = False
        if grid is not None and not grid.rows:
            self.message.setText("Cette feuille est vide.")
        self._header_chosen()

    def _sheet_chosen(self, name: str) -> None:
        if not self._loading and name and self.w.grid and name != self.w.grid.sheet:
            self.load(name)

    def _header_chosen(self) -> None:
        self.preview.set_rows(self.w.grid.rows if self.w.grid else (), self.header.value())
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.w.grid and self.w.grid.rows)


class _Fault(Exception):
    pass


class ColumnsPage(QWizardPage):
    def __init__(self, wizard: SheetWizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Les colonnes")
        self.setSubTitle("Chaque colonne de la feuille et le champ de Parcours qu'elle remplit, reconnus d'après "
                         "les en-têtes : corrigez ce qui ne va pas. « Action 1 », « Action 2 »… sont toutes "
                         "« Actions 1…n ».")
        self.layout_choice = QComboBox(self)
        for key, text in LAYOUTS.items():
            self.layout_choice.addItem(text[0].upper() + text[1:], key)
        self.table = _choice_table(self, ("Colonne", "En-tête", "Première valeur", "Champ de Parcours"))
        self.keep = QCheckBox("Garder les colonnes non reprises dans les notes du foyer (déconseillé : ne gardez que "
                              "ce qui est utile au suivi, CNIL, délibération 2022-008)", self)
        self.keep.setChecked(False)
        form = QFormLayout()
        form.addRow("&Disposition :", self.layout_choice)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.keep)
        self.combos: list[tuple[str, QComboBox]] = []

    def initializePage(self) -> None:
        grid, header = self.w.grid, self.w.file_page.header.value()
        columns = map_columns(grid.rows[header - 1], self.w.saved)
        first = next((r for r in grid.rows[header:] if any(v is not None for v in r)), ())
        self.table.setRowCount(len(columns))
        self.combos = []
        choices = ((None, NOT_KEPT), *((name, text) for name, (text, _) in FIELDS.items()))
        for row, column in enumerate(columns):
            combo = QComboBox(self.table)
            _choice_row(self.table, row, (column.letter, column.header or "(sans en-tête)",
                                          cell_text(first[column.index]) if column.index < len(first) else ""),
                        combo, choices, column.field, f"Champ de la colonne {column.name}")
            self.combos.append((column.header, combo))
        _fit(self.table)
        saved = self.w.saved.layout if self.w.saved else None
        guessed = saved or ("per_action" if any(c.field == "action" for c in columns) else "per_child")
        self.layout_choice.setCurrentIndex(self.layout_choice.findData(guessed))

    def fields(self) -> dict[str, str | None]:
        return {header: combo.currentData() for header, combo in self.combos if header}

    def layout(self) -> str:
        return self.layout_choice.currentData()


class ValuesPage(QWizardPage):
    def __init__(self, wizard: SheetWizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Les valeurs")
        self.setSubTitle("Chaque valeur des colonnes codées, dite une fois dans la liste de Parcours : les "
                         "écritures connues (« CM2 », « REP+ », « CPE »…) sont déjà choisies. Une valeur "
                         "« Autre (préciser) » garde son texte comme précision.")
        self.tabs = QTabWidget(self)
        self.message = message_label(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        self.combos: dict[str, list[tuple[str, QComboBox]]] = {}
        self.ready = False  # the dry run has answered

    def initializePage(self) -> None:
        chosen = self.choices()  # back to the columns and forth again: what was chosen stays chosen
        self.tabs.clear()
        self.combos = {}
        self.ready = False
        self.message.setText("Lecture de la feuille…")
        self.completeChanged.emit()
        self.w.dry_run(self, False, lambda report: self._show(report, chosen), self._refused)

    def _refused(self, message: str) -> None:
        self.message.setText(message)

    def isComplete(self) -> bool:
        return self.ready

    def _show(self, report, chosen: dict) -> None:
        self.ready = True
        self.completeChanged.emit()
        self.message.setText("")
        previous = self.w.mapping(with_values=False).values
        by_field: dict[str, list] = {}
        for value in report.values:
            by_field.setdefault(value.field, []).append(value)
        for name, values in by_field.items():
            table = _choice_table(self.tabs, ("Valeur dans la feuille", "Lignes", f"{label(name)} dans Parcours"),
                                  len(values))
            self.combos[name] = []
            for row, value in enumerate(values):
                rows = ", ".join(map(str, value.rows[:8])) + ("…" if len(value.rows) > 8 else "")
                combo = QComboBox(table)
                _choice_row(table, row, (value.value, rows), combo,
                            ((None, TO_CHOOSE), *choices_for(name, report.qpv_names, report.partners)),
                            chosen.get(name, {}).get(value.value) or previous.get(name, {}).get(value.value)
                            or value.code,
                            f"Correspondance de « {value.value} »")
                self.combos[name].append((value.value, combo))
            _fit(table)
            table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
            column = values[0].column
            self.tabs.addTab(table, f"{column} ({len(values)})")
        if not by_field and report.refused and not report.created and not report.merged:
            self.message.setText("La feuille ne peut pas encore être lue : " + " ; ".join(
                r.text() for r in report.refused[:4]) + ". Revenez à l'étape des colonnes.")
        elif not by_field:
            self.message.setText("Aucune colonne codée dans cette feuille : rien à choisir ici.")

    def choices(self) -> dict[str, dict[str, str]]:
        return {name: {value: combo.currentData() for value, combo in combos if combo.currentData()}
                for name, combos in self.combos.items()}

    def waiting(self) -> list[str]:
        return [value for combos in self.combos.values() for value, combo in combos if combo.currentData() is None]

    def validatePage(self) -> bool:
        waiting = self.waiting()
        self.message.setText(f"Encore {len(waiting)} valeur(s) à choisir : {', '.join(f'« {v} »' for v in waiting[:6])}"
                             f"{'…' if len(waiting) > 6 else ''}. L'import l'attend." if waiting else "")
        return True  # the report says what waits; the user may go and look


class ReportPage(QWizardPage):
    def __init__(self, wizard: SheetWizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Le rapport, avant tout enregistrement")
        self.setSubTitle("Ce que l'import fera. Rien n'est encore écrit : « Importer » enregistre tout, ou rien si "
                         "une ligne est refusée.")
        self.setFinalPage(True)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.model = ReportModel(self)
        self.view = table_view(self.model, self, sortable=False, stretch=3)
        self.view.setWordWrap(True)
        self.message = message_label(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        self.report = None
        self.task = None
        self.ready = False  # the dry run has answered

    def initializePage(self) -> None:
        self.report, self.task, self.ready = None, None, False
        self.message.setText("")
        self.summary.setText("Lecture de la feuille…")
        self._show_lines()
        self.completeChanged.emit()
        self.w.dry_run(self, True, self._show_report, self._refused)

    def _refused(self, message: str) -> None:
        self.ready = True
        self.summary.setText(message)

    def _show_report(self, report) -> None:
        self.report, self.ready = report, True
        self._show_lines()
        self.summary.setText(summary(report))
        self.completeChanged.emit()

    def _show_lines(self) -> None:
        self.model.set_report(self.report)
        self.view.resizeColumnsToContents()
        self.view.resizeRowsToContents()  # a merged child's additions wrap rather than hide

    def isComplete(self) -> bool:
        return self.report is not None and not self.report.blocked and self.task is None and (
            bool(self.report.created) or any(m.added for m in self.report.merged))

    def validatePage(self) -> bool:
        if self.w.result is not None:
            return True
        if self.task is None:
            grid, options, today = self.w.grid, self.w.options(), self.w.today()
            factory, user = self.w.uow_factory, self.w.user
            self.task = run_in_background(
                self, lambda: import_sheet(factory(), user, grid, options, today=today), self._imported,
                self._failed, progress_label="Import du tableur…")
            self.completeChanged.emit()
        return False

    def _imported(self, report) -> None:
        self.task = None
        if report.blocked:  # the base changed since the dry run: its new report, nothing written
            self.report = report
            self._show_lines()
            self.summary.setText(summary(report))
            self.completeChanged.emit()
            return
        self.w.result = report
        self.message.setText(f"Import terminé : {len(report.created)} enfant(s) créé(s), {len(report.merged)} "
                             "fusionné(s).")
        path = self.w.choose_mapping_path()
        if path:
            try:
                write_atomically(path, report.mapping.to_json().encode("utf-8"))
            except OSError as exc:
                from ui.errors import show_domain_error

                show_domain_error(self, DomainError(describe_os_error(exc, path, WRITE)), "Correspondance non "
                                                                                         "enregistrée")
        self.w.accept()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.completeChanged.emit()
        from ui.errors import show_error

        show_error(self, exc)


def summary(report) -> str:
    parts = [f"À créer : {len(report.created)} enfant(s) dans {report.families_created} foyer(s)",
             f"fusionnés avec un enfant déjà dans Parcours : {len(report.merged)}"]
    if report.differences:
        parts.append(f"valeurs différentes laissées telles quelles : {len(report.differences)}")
    text = " ; ".join(parts) + "."
    if report.unmapped:
        text += (f" {len(report.unmapped)} valeur(s) sans correspondance : revenez à l'étape précédente pour les "
                 "choisir.")
    if report.refused:
        text += f" {len(report.refused)} refus : corrigez la feuille puis recommencez ; rien ne sera enregistré."
    if not report.blocked and not report.created and not any(m.added for m in report.merged):
        text += " Rien de nouveau à enregistrer."
    if report.dropped and not report.kept_as_notes:
        text += f" Colonnes non reprises : {', '.join(report.dropped)}."
    return text
