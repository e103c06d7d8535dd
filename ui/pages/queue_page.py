"""« À valider » (coordination): orientations to decide, sessions awaiting a dérogation, conventions near or over
their maximum of families, children turning 17 within three months."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from services.directory import CurrentUser
from services.formatting import format_date
from services.orientations import (ConventionLoad, OrientationRow, convention_capacity, list_orientations,
                                   reject_orientation, validate_orientation)
from services.parcours import PARCOURS_LABELS, ChildLeaving, children_turning_17
from services.session_exceptions import FlaggedSession, approve_exceptions, flagged_sessions, refuse_exceptions
from ui.background import run_in_background
from ui.form_dialog import Field, FormDialog, open_form
from ui.pages.family_file import OrientationsModel
from ui.pages.page import Page
from ui.table_model import (Column, ListModel, RowsModel, count_column, date_column, hours_column, row_of,
                            sorting_proxy, text_column)
from ui.widgets import fit_columns, note_label, table_view

LEVELS = {"ok": ("Marge disponible", None), "near": ("Presque complète", QColor("#b54708")),
          "over": ("Maximum dépassé", QColor("#b42318"))}


@dataclass(frozen=True)
class QueueData:
    orientations: tuple[OrientationRow, ...]
    flagged: tuple[FlaggedSession, ...]
    capacity: tuple[ConventionLoad, ...]
    leaving: tuple[ChildLeaving, ...]


def load_queue(uow_factory, user: CurrentUser, today: date) -> QueueData:
    return QueueData(list_orientations(uow_factory(), user, status="proposed"), flagged_sessions(uow_factory(), user),
                     convention_capacity(uow_factory(), user, today), children_turning_17(uow_factory(), user, today))


class FlaggedModel(ListModel):
    DATE, FAMILY, INTERVENANT, DURATION, REASONS, NOTES = range(6)
    COLUMNS = (
        date_column("Date", lambda f: f.session.date),
        text_column("Famille", lambda f: f.session.family_name),
        text_column("Intervenant·e", lambda f: f"{f.session.intervenant_name} ({f.session.qualification})"),
        hours_column("Durée", lambda f: f.session.duration_minutes),
        text_column("Motif", lambda f: f.reasons_label),
        text_column("Notes", lambda f: f.session.notes, tooltip=True),
    )


class QueuePage(Page):
    queue_loaded = Signal()
    decided = Signal()  # after any decision was saved

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self.dialog: FormDialog | None = None
        self._generation = 0
        self.tabs = QTabWidget(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

        self.orientations = OrientationsModel(self, with_family=True)
        self.orientations_view, tab = self._tab(self.orientations, (
            ("Valider…", self.ask_validate), ("Refuser…", self.ask_reject)),
            "Orientations proposées par l'EPS : validez-les avec la date de décision, ou refusez-les avec un motif.")
        for column in range(3, self.orientations.columnCount()):  # decision columns: empty while proposed
            self.orientations_view.hideColumn(column)
        self.tabs.addTab(tab, "")

        self.flagged = FlaggedModel(self)
        self.flagged_view, tab = self._tab(self.flagged, (
            ("Approuver la sélection", self.approve_selected), ("Refuser la sélection…", self.ask_refuse),
            ("Tout sélectionner", lambda: self.flagged_view.selectAll())),
            "Séances réalisées pendant les vacances scolaires ou deuxièmes de la semaine pour la famille : elles ne "
            "sont payées qu'une fois approuvées. Sélectionnez-en une ou plusieurs (Maj/Ctrl + clic).", multi=True)
        self.tabs.addTab(tab, "")

        level = lambda load: LEVELS[load.level][0]  # noqa: E731
        self.capacity = RowsModel((
            text_column("Convention", lambda c: c.label),
            count_column("Maximum de familles", lambda c: c.max_families),
            count_column("Familles orientées", lambda c: c.families),
            Column("Situation", level, level),
        ), self, foreground=lambda c, column: LEVELS[c.level][1] if column == 3 else None)
        self.capacity_view, tab = self._tab(self.capacity, (), "Familles dont l'orientation est en vigueur "
                                            "aujourd'hui, face au maximum indicatif de chaque convention.")
        self.tabs.addTab(tab, "Capacité des conventions")

        self.leaving = RowsModel((
            text_column("Enfant", lambda c: c.child_name),
            text_column("Famille", lambda c: c.family_name),
            date_column("Naissance", lambda c: c.birth_date),
            date_column("17 ans le", lambda c: c.leaves_on),
            text_column("Parcours", lambda c: PARCOURS_LABELS.get(c.parcours_status, "Aucun")),
        ), self)
        self.leaving_view, tab = self._tab(self.leaving, (), "Le programme suit les enfants jusqu'à 16 ans : "
                                           "préparez la sortie ou le relais de ces parcours.")
        self.tabs.addTab(tab, "")
        self._titles(QueueData((), (), (), ()))

    def _tab(self, model, buttons, intro: str, multi: bool = False):
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        layout.addWidget(note_label(intro, tab))
        view = table_view(sorting_proxy(model, tab), tab, multi=multi)
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        layout.addWidget(view)
        row = QHBoxLayout()
        for text, slot in buttons:
            button = QPushButton(text, tab)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch()
        layout.addLayout(row)
        return view, tab

    def _titles(self, data: QueueData) -> None:
        self.tabs.setTabText(0, f"Orientations à décider ({len(data.orientations)})")
        self.tabs.setTabText(1, f"Séances à approuver ({len(data.flagged)})")
        alerts = sum(c.level != "ok" for c in data.capacity)
        self.tabs.setTabText(2, "Capacité des conventions" + (f" ({alerts} alerte{'s' if alerts > 1 else ''})"
                                                              if alerts else ""))
        self.tabs.setTabText(3, f"Enfants atteignant 17 ans ({len(data.leaving)})")

    # -- loading --------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        uow, user, today = self._uow, self._user, self._today()
        self._generation += 1
        generation = self._generation
        run_in_background(self, lambda: load_queue(uow, user, today), lambda data: self._loaded(generation, data))

    def _loaded(self, generation: int, data: QueueData) -> None:
        if generation != self._generation:
            return  # an older load finishing late: a newer one is on its way
        self.orientations.set_rows(data.orientations)
        self.flagged.set_rows(data.flagged)
        self.capacity.set_rows(data.capacity)
        self.leaving.set_rows(data.leaving)
        for view in (self.orientations_view, self.flagged_view, self.capacity_view, self.leaving_view):
            fit_columns(view)
        self._titles(data)
        self.queue_loaded.emit()

    def _done(self, _result=None) -> None:
        self.decided.emit()
        self.refresh()

    # -- orientations ---------------------------------------------------------------------------------------------
    def ask_validate(self) -> FormDialog | None:
        o = row_of(self.orientations_view.currentIndex())
        if o is None:
            return None
        uow, user = self._uow, self._user
        return self._open(f"Valider l'orientation — {o.family_name}",
                          [Field("decided_on", "Date de décision", "date", self._today())],
                          lambda v: validate_orientation(uow(), user, o.id, v["decided_on"]),
                          f"{o.convention_label}, proposée par l'EPS du {format_date(o.eps_date)}.", "Valider")

    def ask_reject(self) -> FormDialog | None:
        o = row_of(self.orientations_view.currentIndex())
        if o is None:
            return None
        uow, user = self._uow, self._user
        return self._open(f"Refuser l'orientation — {o.family_name}",
                          [Field("decided_on", "Date de décision", "date", self._today()),
                           Field("reason", "Motif du refus", "multiline")],
                          lambda v: reject_orientation(uow(), user, o.id, v["reason"], v["decided_on"]),
                          f"{o.convention_label}, proposée par l'EPS du {format_date(o.eps_date)}.", "Refuser")

    def _open(self, title, fields, submit, intro, ok_label) -> FormDialog:
        self.dialog = open_form(self, title, fields, submit, self._done, intro=intro, ok_label=ok_label)
        return self.dialog

    # -- sessions -------------------------------------------------------------------------------------------------
    def selected_sessions(self) -> list[str]:
        rows = self.flagged_view.selectionModel().selectedRows()
        return [row_of(index).session.id for index in rows]

    def approve_selected(self) -> None:
        ids = self.selected_sessions()
        if not ids:
            return
        uow, user = self._uow, self._user
        run_in_background(self, lambda: approve_exceptions(uow(), user, ids), self._done,
                          progress_label="Approbation en cours…")

    def ask_refuse(self) -> FormDialog | None:
        ids = self.selected_sessions()
        if not ids:
            return None
        uow, user, today = self._uow, self._user, self._today()
        n = len(ids)
        return self._open(f"Refuser {n} dérogation{'s' if n > 1 else ''}", [Field("reason", "Motif", "multiline")],
                          lambda v: refuse_exceptions(uow(), user, ids, v["reason"], today),
                          "Les séances resteront non payées ; le motif est enregistré avec la décision.", "Refuser")
