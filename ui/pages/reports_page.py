"""« Bilans » (coordination, administration): the annual bilan of the PRE and the CAF / Département annex for a
calendar year, a school year or any dates; each table shown with its chart, exact figures (internal view), and
exported to PDF or Excel with the counts under 5 hidden (« < 5 ») unless « Chiffres exacts (usage interne) » is
ticked. Computing and exporting run off the GUI thread (services.reports opens its own unit of work)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractScrollArea, QCheckBox, QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QSizePolicy, QTableView, QVBoxLayout, QWidget)

from services.directory import CurrentUser
from services.errors import ValidationError
from services.file_faults import write_atomically
from services.reports import (Report, ReportPeriod, ReportTable, bilan_report, caf_report, report_pdf, report_xlsx,
                              suppress_small_counts)
from ui.background import run_in_background
from ui.date_field import DateField
from ui.errors import show_error
from ui.pages.page import Page
from ui.report_charts import chart_parts
from ui.report_table import ReportProxy, ReportTableModel
from ui.widgets import ERROR_STYLE, heading_row, note_label, steady_width, table_view, title_label

CALENDAR, SCHOOL, FREE = "calendar", "school", "free"
YEARS_BACK = 6
BESIDE_COLUMNS, BESIDE_LABEL_CHARS = 3, 36
COLUMN_MAXIMUM = 520
SECTION_STYLE = "QFrame#reportSection { background: #ffffff; border: 1px solid #eaecf0; border-radius: 6px; }"
INTERNAL_NOTE = ("Vue interne : chiffres exacts, à ne pas diffuser. Les fichiers exportés pour les financeurs "
                 "masquent les effectifs de 1 à 4 (« < 5 ») afin qu'aucun enfant ne puisse être reconnu, sauf si "
                 "« Chiffres exacts (usage interne) » est coché.")


@dataclass(frozen=True)
class ReportKind:
    key: str
    label: str
    compute: Callable  # (uow, user, period, today) -> Report
    file_prefix: str


KINDS = (ReportKind("bilan", "Bilan annuel du PRE", lambda uow, user, period, _today: bilan_report(uow, user, period),
                    "bilan-pre"),
         # the CAF annex counts a month not issued yet as its draft, up to today's month
         ReportKind("caf", "Annexe CAF-Département",
                    lambda uow, user, period, today: caf_report(uow, user, period, today=today), "annexe-caf"))
EXPORTS = {"pdf": ("PDF (*.pdf)", report_pdf), "xlsx": ("Classeur Excel (*.xlsx)", report_xlsx)}


def period_slug(period: ReportPeriod) -> str:
    """« 2025 », « 2024-2025 » or « 2025-03-01-au-2025-06-30 », for the file's name."""
    if period == ReportPeriod.calendar_year(period.start.year):
        return str(period.start.year)
    if period == ReportPeriod.school_year(period.start.year):
        return f"{period.start.year}-{period.end.year}"
    return f"{period.start.isoformat()}-au-{period.end.isoformat()}"


def file_name(kind: str, period: ReportPeriod, extension: str) -> str:
    prefix = next(k.file_prefix for k in KINDS if k.key == kind)
    return f"{prefix}-{period_slug(period)}.{extension}"


def beside(table: ReportTable) -> bool:
    """A narrow distribution has its bars beside it; a wide table, or long labels, have the chart under it, so that
    neither the table's columns nor the bars' labels are cut."""
    labels = max((len(" — ".join(str(c) for c in row[:table.label_columns])) for row in table.rows), default=0)
    return table.chart == "bars" and len(table.headers) - table.label_columns <= BESIDE_COLUMNS \
        and labels <= BESIDE_LABEL_CHARS


def fit_height(view: QTableView) -> None:
    """The table as tall as its rows: the page scrolls, not each table."""
    rows = view.model().rowCount()
    header = view.horizontalHeader().sizeHint().height()  # its height once its texts changed, before a layout
    height = header + 2 * view.frameWidth() + sum(view.rowHeight(r) for r in range(rows))
    if view.horizontalScrollBar().isVisible() or view.horizontalHeader().length() > view.viewport().width() > 0:
        height += view.horizontalScrollBar().sizeHint().height()
    view.setFixedHeight(max(height, header + 30))


class ReportSection(QFrame):
    """One table of the report: its title, the table, its chart beside it (bars) or under it (months)."""

    def __init__(self, table: ReportTable, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("reportSection")
        self.setStyleSheet(SECTION_STYLE)
        self.table = table
        layout = QVBoxLayout(self)
        title = title_label(table.title, self, size=14)
        title.setWordWrap(True)
        layout.addWidget(title)
        self.model = ReportTableModel(self)
        self.model.set_table(table)
        self.proxy = ReportProxy(self.model, self)
        self.view = table_view(self.proxy, self)
        self.view.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the report's own order until the user sorts
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.charts = chart_parts(table, self)
        self.beside = beside(table)
        body = QHBoxLayout() if self.beside else QVBoxLayout()
        body.addWidget(self.view, 0, Qt.AlignmentFlag.AlignTop)
        for part in self.charts:
            box = QVBoxLayout()
            if part.caption:
                box.addWidget(note_label(part.caption, self))
            part.widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            box.addWidget(part.widget, 1)
            body.addLayout(box, 1)
        layout.addLayout(body)
        self._fit()

    def _fit(self) -> None:
        """Every column as wide as its content (a label beyond COLUMN_MAXIMUM elided, whole in its tooltip), the
        table as wide as its columns: beside it the chart takes the rest of the row; under it, a table wider than
        the page scrolls sideways rather than cutting its columns."""
        self.model.wrap_headers(False)
        natural = self._size_columns()
        margins = self.layout().contentsMargins()
        room = self.width() - margins.left() - margins.right()
        if self.isVisible() and natural > room > 0:  # long headers on two lines before scrolling sideways
            self.model.wrap_headers(True)
            natural = self._size_columns()
        if self.beside:
            self.view.setFixedWidth(natural)
        else:
            self.view.setMaximumWidth(natural)
        fit_height(self.view)

    def _size_columns(self) -> int:
        header = self.view.horizontalHeader()
        header.setStretchLastSection(False)
        for column in range(self.model.columnCount()):
            self.view.resizeColumnToContents(column)
            width = max(self.view.columnWidth(column), header.sectionSizeHint(column))
            self.view.setColumnWidth(column, min(width, COLUMN_MAXIMUM))
        return header.length() + 2 * self.view.frameWidth()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._fit()


class ReportsPage(Page):
    report_shown = Signal()
    exported = Signal(str)  # path

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self.report: Report | None = None
        self.sections: list[ReportSection] = []
        self._generation = 0
        layout = QVBoxLayout(self)
        heading_row(layout, "Bilans", self)

        choose = QHBoxLayout()
        choose.addWidget(QLabel("Bilan :", self))
        self.kind = QComboBox(self)
        for k in KINDS:
            self.kind.addItem(k.label, k.key)
        steady_width(self.kind, [k.label for k in KINDS])
        choose.addWidget(self.kind)
        choose.addSpacing(12)
        choose.addWidget(QLabel("Période :", self))
        self.period_kind = QComboBox(self)
        for label, key in (("Année civile", CALENDAR), ("Année scolaire", SCHOOL), ("Dates libres", FREE)):
            self.period_kind.addItem(label, key)
        steady_width(self.period_kind, ["Année civile", "Année scolaire", "Dates libres"])
        self.period_kind.currentIndexChanged.connect(self._period_kind_changed)
        choose.addWidget(self.period_kind)
        self.year = QComboBox(self)
        steady_width(self.year, ["2099-2100"])
        choose.addWidget(self.year)
        self.from_label = QLabel("du", self)
        self.start = DateField(parent=self)
        self.to_label = QLabel("au", self)
        self.end = DateField(parent=self)
        for widget in (self.from_label, self.start, self.to_label, self.end):
            choose.addWidget(widget)
        for field in (self.start, self.end):
            field.returnPressed.connect(self.compute)  # Entrée in a date shows the report, as « Afficher »
        self.show_button = QPushButton("Afficher", self)
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.compute)
        choose.addWidget(self.show_button)
        choose.addStretch()
        layout.addLayout(choose)

        exports = QHBoxLayout()
        self.exact_check = QCheckBox("Chiffres exacts (usage interne)", self)
        self.exact_check.setToolTip("Coché, les fichiers exportés gardent les effectifs de 1 à 4 : réservés à "
                                    "l'équipe, ils ne se transmettent pas aux financeurs.")
        self.pdf_button = QPushButton("Exporter en PDF…", self)
        self.pdf_button.clicked.connect(lambda: self.ask_export("pdf"))
        self.xlsx_button = QPushButton("Exporter en Excel…", self)
        self.xlsx_button.clicked.connect(lambda: self.ask_export("xlsx"))
        exports.addWidget(self.pdf_button)
        exports.addWidget(self.xlsx_button)
        exports.addWidget(self.exact_check)
        exports.addStretch()
        layout.addLayout(exports)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        layout.addWidget(self.message)

        self.title = title_label("", self, size=15)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.note = note_label(INTERNAL_NOTE, self)
        layout.addWidget(self.note)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget(scroll)
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.body_layout.setSpacing(12)
        self.body_layout.addStretch()
        scroll.setWidget(self.body)
        layout.addWidget(scroll, 1)
        self.scroll = scroll

        self._fill_years()
        self._period_kind_changed()
        self._show_report(None)

    # -- the period -------------------------------------------------------------------------------------------
    def _fill_years(self) -> None:
        today = self._today()
        school = self.period_kind.currentData() == SCHOOL
        current = today.year if not school else (today.year if today.month >= 9 else today.year - 1)
        self.year.clear()
        for year in range(current, current - YEARS_BACK, -1):
            self.year.addItem(f"{year}-{year + 1}" if school else str(year), year)

    def _period_kind_changed(self, *_args) -> None:
        free = self.period_kind.currentData() == FREE
        if not free:
            self._fill_years()
        elif self.start.date() is None and self.end.date() is None:
            today = self._today()
            self.start.setDate(date(today.year, 1, 1))
            self.end.setDate(today)
        self.year.setVisible(not free)
        for widget in (self.from_label, self.start, self.to_label, self.end):
            widget.setVisible(free)

    def choose_period(self, kind: str, year: int | None = None, start: date | None = None,
                      end: date | None = None) -> None:
        """Set the period's controls (tests, and the page's own defaults)."""
        self.period_kind.setCurrentIndex(self.period_kind.findData(kind))
        if year is not None:
            self.year.setCurrentIndex(self.year.findData(year))
        if start is not None:
            self.start.setDate(start)
        if end is not None:
            self.end.setDate(end)

    def choose_kind(self, key: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(key))

    def period(self) -> ReportPeriod:
        """The period chosen; raises ValidationError (French) for unreadable or reversed dates."""
        kind = self.period_kind.currentData()
        if kind == CALENDAR:
            return ReportPeriod.calendar_year(self.year.currentData())
        if kind == SCHOOL:
            return ReportPeriod.school_year(self.year.currentData())
        for field, what in ((self.start, "de début"), (self.end, "de fin")):
            if field.date() is None:
                reason = field.error() or "elle est vide"
                raise ValidationError(f"La date {what} ne se lit pas : {reason.rstrip('.')}.")
        if self.start.date() > self.end.date():
            raise ValidationError("La date de début doit précéder la date de fin.")
        return ReportPeriod(self.start.date(), self.end.date())

    # -- computing --------------------------------------------------------------------------------------------
    def focus_main_field(self) -> None:
        self.kind.setFocus(Qt.FocusReason.OtherFocusReason)

    def refresh(self) -> None:
        """Nothing to reload on its own: a report is computed when asked for (« Afficher »)."""

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "color: #067647;")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def compute(self) -> None:
        try:
            period = self.period()
        except ValidationError as error:
            self._say(error.message, error=True)
            return
        self._say("")
        kind = next(k for k in KINDS if k.key == self.kind.currentData())
        uow, user, today = self._uow, self._user, self._today()
        self._generation += 1
        generation = self._generation
        self.show_button.setEnabled(False)

        def done(report: Report) -> None:
            self.show_button.setEnabled(True)
            if generation == self._generation:
                self._show_report(report)

        def failed(exc: BaseException) -> None:
            self.show_button.setEnabled(True)
            show_error(self, exc)

        run_in_background(self, lambda: kind.compute(uow(), user, period, today), done, failed,
                          progress_label="Calcul du bilan en cours…")

    def _show_report(self, report: Report | None) -> None:
        self.report = report
        for section in self.sections:
            self.body_layout.removeWidget(section)
            section.deleteLater()
        self.sections = []
        for button in (self.pdf_button, self.xlsx_button):
            button.setEnabled(report is not None)
        if report is None:
            self.title.setText("Choisissez un bilan et une période, puis « Afficher ».")
            self.note.setVisible(False)
            return
        self.title.setText(f"{report.title} — {report.programme_name} — {report.period.label()}")
        self.note.setVisible(True)
        if not report.tables:
            empty = note_label("Ce bilan ne contient aucun tableau pour cette période.", self.body)
            self.sections.append(empty)
            self.body_layout.insertWidget(0, empty)
        for i, table in enumerate(report.tables):
            section = ReportSection(table, self.body)
            self.sections.append(section)
            self.body_layout.insertWidget(i, section)
        self.report_shown.emit()

    # -- exporting --------------------------------------------------------------------------------------------
    def choose_path(self, kind: str, suggested: str) -> str | None:
        """Ask where to save the file (tests replace this method)."""
        folder = Path.home() / "Documents"
        start = str((folder if folder.is_dir() else Path.home()) / suggested)
        title = "Exporter le bilan en PDF" if kind == "pdf" else "Exporter le bilan en Excel"
        path, _filter = QFileDialog.getSaveFileName(self, title, start, EXPORTS[kind][0])
        return path or None

    def ask_export(self, kind: str) -> None:
        if self.report is None:
            return
        chosen = self.choose_path(kind, file_name(self.report.kind, self.report.period, kind))
        if chosen:
            self.export_to(chosen, kind)

    def export_to(self, path: str, kind: str) -> None:
        report = self.report
        if report is None:
            return
        target = Path(path)
        if target.suffix.lower() != f".{kind}":
            target = target.with_name(target.name + f".{kind}")
        exact = self.exact_check.isChecked()
        render = EXPORTS[kind][1]

        def work() -> str:
            # the funders' version unless the team keeps it for itself: counts of 1 to 4 become « < 5 »
            write_atomically(target, render(report if exact else suppress_small_counts(report)))
            return str(target)

        def done(written: str) -> None:
            self._set_exporting(False)
            hidden = "chiffres exacts, usage interne" if exact else "effectifs de 1 à 4 masqués (« < 5 »)"
            self._say(f"Bilan enregistré ({hidden}) : {written}")
            self.exported.emit(written)

        def failed(exc: BaseException) -> None:
            self._set_exporting(False)
            show_error(self, exc)

        self._set_exporting(True)
        run_in_background(self, work, done, failed,
                          progress_label="Création du PDF…" if kind == "pdf" else "Création du classeur Excel…")

    def _set_exporting(self, busy: bool) -> None:
        for button in (self.pdf_button, self.xlsx_button):
            button.setEnabled(not busy and self.report is not None)
