"""Monthly activity: hours delivered per family and intervenant, exported to CSV or XLSX."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from services.activity import (ActivityReport, default_month, export_csv, export_xlsx, monthly_activity,
                               months_with_activity)
from services.directory import CurrentUser
from services.formatting import format_hours, month_in_words
from ui.background import run_in_background
from ui.pages.family_file import TotalsModel
from ui.pages.page import Page
from ui.table_model import ListModel, count_column, hours_column, sorting_proxy, text_column
from ui.widgets import fit_columns, heading_row, note_label, steady_width, table_view


class ActivityModel(ListModel):
    FAMILY, INTERVENANT, QUALIFICATION, SESSIONS, HOURS = range(5)
    COLUMNS = (
        text_column("Famille", lambda l: l.family_name),
        text_column("Intervenant·e", lambda l: l.intervenant_name),
        text_column("Qualification", lambda l: l.qualification),
        count_column("Séances réalisées", lambda l: l.sessions),
        hours_column("Heures", lambda l: l.minutes),
    )


class ActivityPage(Page):
    activity_loaded = Signal()
    exported = Signal(str)  # path

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self.report: ActivityReport | None = None
        layout = QVBoxLayout(self)
        heading = heading_row(layout, "Activité du mois", self)
        heading.addWidget(QLabel("Mois :", self))
        self.month = QComboBox(self)
        steady_width(self.month, [month_in_words(f"2000-{m:02d}").capitalize() for m in range(1, 13)])
        self.month.currentIndexChanged.connect(self._month_chosen)
        heading.addWidget(self.month)
        self.csv_button = QPushButton("Exporter en CSV…", self)
        self.csv_button.clicked.connect(lambda: self.ask_export("csv"))
        self.xlsx_button = QPushButton("Exporter en Excel…", self)
        self.xlsx_button.clicked.connect(lambda: self.ask_export("xlsx"))
        heading.addWidget(self.csv_button)
        heading.addWidget(self.xlsx_button)
        layout.addWidget(note_label("Heures réalisées = durée des séances à domicile réalisées (les séances annulées "
                                    "et les absences de la famille ne comptent pas).", self))
        self.total = QLabel(self)
        self.total.setStyleSheet("background: #eef4ff; border-radius: 4px; padding: 6px 10px; font-weight: 600;")
        layout.addWidget(self.total)
        # one above the other: side by side, at 1280 pixels, the families' names were cut (« Famille Di… »)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.model = ActivityModel(self)
        self.view = table_view(sorting_proxy(self.model, self), splitter, stretch=ActivityModel.FAMILY)
        self.view.sortByColumn(ActivityModel.FAMILY, Qt.SortOrder.AscendingOrder)
        self.by_intervenant = TotalsModel(text_column("Intervenant·e", lambda t: t.name), self)
        self.intervenant_view = table_view(sorting_proxy(self.by_intervenant, self), splitter, stretch=0)
        splitter.addWidget(self.view)
        splitter.addWidget(self.intervenant_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)
        self._months_loaded = False

    def refresh(self) -> None:
        uow, user = self._uow, self._user
        run_in_background(self, lambda: months_with_activity(uow(), user), self._fill_months)

    def _fill_months(self, months: tuple[str, ...]) -> None:
        wanted = self.month.currentData() or default_month(months, self._today())
        current = self._today().strftime("%Y-%m")
        choices = sorted(set(months) | {current, wanted}, reverse=True)
        self.month.blockSignals(True)
        self.month.clear()
        for m in choices:
            self.month.addItem(month_in_words(m).capitalize(), m)
        self.month.setCurrentIndex(self.month.findData(wanted))
        self.month.blockSignals(False)
        self.show_month(wanted)

    def _month_chosen(self) -> None:
        if self.month.currentData():
            self.show_month(self.month.currentData())

    def show_month(self, month: str) -> None:
        uow, user = self._uow, self._user
        run_in_background(self, lambda: monthly_activity(uow(), user, month), self._loaded)

    def _loaded(self, report: ActivityReport) -> None:
        if report.month != self.month.currentData():
            return
        self.report = report
        self.model.set_rows(report.lines)
        self.by_intervenant.set_rows(report.by_intervenant)
        fit_columns(self.view)
        fit_columns(self.intervenant_view)
        families = len(report.by_family)
        self.total.setText(
            f"{month_in_words(report.month).capitalize()} : {format_hours(report.total_minutes) if report.lines else '0 h'}"
            f" réalisées en {report.total_sessions} séance(s), {families} famille{'s' if families > 1 else ''}")
        for button in (self.csv_button, self.xlsx_button):
            button.setEnabled(bool(report.lines))
        self.activity_loaded.emit()

    def ask_export(self, kind: str) -> None:
        if self.report is None:
            return
        suggested = str(Path.home() / f"heures-{self.report.month}.{kind}")
        filters = "Fichier CSV (*.csv)" if kind == "csv" else "Classeur Excel (*.xlsx)"
        path, _ = QFileDialog.getSaveFileName(self, "Exporter l'activité du mois", suggested, filters)
        if path:
            self.export_to(path, kind)

    def export_to(self, path: str, kind: str) -> None:
        report = self.report
        writer = export_csv if kind == "csv" else export_xlsx
        run_in_background(self, lambda: writer(report, path), lambda _r: self.exported.emit(path),
                          progress_label="Export en cours…")
