"""« Conflits à résoudre »: the local changes the server could not apply as they were, for a person to decide.

* The open conflicts (a field changed on this computer and on the server since the last sync), sortable; for the
  one selected, each conflicting field side by side — the value it started from, « Sur cet ordinateur », « Sur le
  serveur » — with « Garder la mienne » / « Prendre celle du serveur », and « Résoudre » once every field is chosen
  (services.sync.client.resolve_conflict: audited, the values kept here are sent at the next sync).
* The changes the server refused, with its French reason, and « Retirer cette modification »
  (services.sync.client.withdraw_refused: the record goes back to the server's values).

Loading runs off the GUI thread; on a standalone copy the page only says there is nothing to synchronise.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QRadioButton,
                               QScrollArea, QSplitter, QVBoxLayout, QWidget)

from services.directory import CurrentUser
from services.formatting import format_date
from services.sync import client
from ui.background import run_in_background
from ui.errors import show_error
from ui.pages.page import Page
from ui.table_model import ROW_ROLE, Column, ListModel, sorting_proxy, text_column
from ui.widgets import confirmed, fit_columns, heading_row, note_label, table_view, title_label

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMPTY = "(vide)"
LOCAL, SERVER = "local", "server"


def operation_label(name: str) -> str:
    return client.operation_label(name)


def field_label(name: str, table: str | None = None) -> str:
    return client.field_label(name, table)


def value_text(value) -> str:
    """A value as the sync carries it (JSON), as a person reads it."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, str) and ISO_DATE.match(value):
        return format_date(date.fromisoformat(value))
    if isinstance(value, (list, dict)):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(value)


def _when(conflict: client.Conflict) -> str:
    return conflict.detected_at.astimezone().strftime("%d/%m/%Y %H:%M")


class ConflictsModel(ListModel):
    DETECTED, OPERATION, RECORD, FIELDS = range(4)
    COLUMNS = (
        Column("Détecté le", _when, lambda c: c.detected_at.isoformat()),
        text_column("Modification", lambda c: operation_label(c.operation)),
        text_column("Enregistrement", lambda c: c.label, tooltip=True),
        text_column("Champs en conflit", lambda c: ", ".join(field_label(f.name, c.record_table) for f in c.fields),
                    tooltip=True),
    )


class RefusalsModel(ListModel):
    OPERATION, RECORD, REASON = range(3)
    COLUMNS = (
        text_column("Modification", lambda r: operation_label(r.operation)),
        text_column("Enregistrement", lambda r: r.label, tooltip=True),
        text_column("Raison du refus", lambda r: r.reason, tooltip=True),
    )


class FieldChoices(QGroupBox):
    """The selected conflict's fields side by side, one choice per field."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Champs en conflit", parent)
        self.grid = QGridLayout(self)
        self.groups: dict[str, QButtonGroup] = {}
        self.conflict: client.Conflict | None = None
        self.show_conflict(None)

    def _clear(self) -> None:
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.groups = {}

    def show_conflict(self, conflict: client.Conflict | None) -> None:
        self._clear()
        self.conflict = conflict
        if conflict is None:
            self.grid.addWidget(note_label("Choisissez un conflit dans la liste pour voir ses valeurs.", self), 0, 0)
            return
        for column, title in enumerate(("Champ", "Au départ", "Sur cet ordinateur", "Sur le serveur",
                                        "Valeur à garder")):
            header = QLabel(f"<b>{title}</b>", self)
            self.grid.addWidget(header, 0, column)
        for row, field in enumerate(conflict.fields, start=1):
            self.grid.addWidget(QLabel(field_label(field.name, conflict.record_table), self), row, 0)
            for column, value in enumerate((field.base, field.local, field.server), start=1):
                shown = QLabel(value_text(value), self)
                shown.setWordWrap(True)
                shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.grid.addWidget(shown, row, column)
            choice = QWidget(self)
            line = QHBoxLayout(choice)
            line.setContentsMargins(0, 0, 0, 0)
            group = QButtonGroup(choice)
            for text, key in (("Garder la mienne", LOCAL), ("Prendre celle du serveur", SERVER)):
                button = QRadioButton(text, choice)
                button.setProperty("choice", key)
                button.setAccessibleName(f"{field_label(field.name, conflict.record_table)} : {text}")
                group.addButton(button)
                line.addWidget(button)
            group.buttonToggled.connect(lambda *_: self.changed.emit())
            self.groups[field.name] = group
            self.grid.addWidget(choice, row, 4)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        self.grid.setColumnStretch(3, 1)
        self.grid.setRowStretch(len(conflict.fields) + 1, 1)  # the fields at the top, the space below them

    def choose(self, name: str, key: str) -> None:
        for button in self.groups[name].buttons():
            if button.property("choice") == key:
                button.setChecked(True)

    def choices(self) -> dict[str, str]:
        return {name: group.checkedButton().property("choice") for name, group in self.groups.items()
                if group.checkedButton() is not None}

    def complete(self) -> bool:
        return bool(self.groups) and len(self.choices()) == len(self.groups)


class ConflictsPage(Page):
    loaded = Signal()
    resolved = Signal(object)  # the Conflict, resolved
    withdrawn = Signal(object)  # the Refusal withdrawn

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self._generation = 0
        self._runner = None
        self.connected: bool | None = None
        layout = QVBoxLayout(self)
        self.count_label = QLabel(self)
        heading_row(layout, "Conflits à résoudre", self).addWidget(self.count_label)
        self.intro = note_label(
            "Une même donnée a été modifiée sur cet ordinateur et sur le serveur depuis la dernière "
            "synchronisation : choisissez, champ par champ, la valeur à garder. Rien n'est écrasé sans votre choix ; "
            "votre décision est enregistrée au journal et envoyée au serveur à la prochaine synchronisation.", self)
        layout.addWidget(self.intro)
        self.empty_label = note_label("", self)
        self.empty_label.setObjectName("conflictsEmpty")
        layout.addWidget(self.empty_label)

        self.model = ConflictsModel(self)
        self.proxy = sorting_proxy(self.model, self)
        self.view = table_view(self.proxy, self, stretch=ConflictsModel.FIELDS)
        self.view.selectionModel().currentRowChanged.connect(self._selected)
        self.choices = FieldChoices(self)
        self.choices.changed.connect(self._update_buttons)
        self.resolve_button = QPushButton("Résoudre", self)
        self.resolve_button.setToolTip("Garder les valeurs choisies ; celles de cet ordinateur partent au serveur")
        self.resolve_button.clicked.connect(lambda: self.resolve())
        conflicts = QWidget(self)
        top = QVBoxLayout(conflicts)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.view, 1)
        scroll = QScrollArea(conflicts)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.choices)
        top.addWidget(scroll, 1)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.resolve_button)
        top.addLayout(row)

        refused = QWidget(self)
        bottom = QVBoxLayout(refused)
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(title_label("Modifications refusées par le serveur", refused, size=14))
        bottom.addWidget(note_label("Le serveur n'a pas pu appliquer ces modifications ; elles restent sur cet "
                                    "ordinateur. Corrigez l'enregistrement, ou retirez la modification pour "
                                    "revenir aux valeurs du serveur.", refused))
        self.refusals = RefusalsModel(self)
        self.refusals_proxy = sorting_proxy(self.refusals, self)
        self.refusals_view = table_view(self.refusals_proxy, refused, stretch=RefusalsModel.REASON)
        self.refusals_view.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        bottom.addWidget(self.refusals_view, 1)
        self.withdraw_button = QPushButton("Retirer cette modification", refused)
        self.withdraw_button.clicked.connect(lambda: self.withdraw())
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.withdraw_button)
        bottom.addLayout(row)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(conflicts)
        self.splitter.addWidget(refused)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)
        self._update_buttons()

    def set_sync_runner(self, runner) -> None:
        """The window's ui.sync_runner.SyncRunner: its status is read again after a resolution."""
        self._runner = runner

    # -- loading ------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._generation += 1
        generation, uow, user = self._generation, self._uow, self._user

        def load():
            status = client.sync_status(uow(), user)
            if not status.connected:
                return generation, False, (), ()
            return generation, True, client.list_conflicts(uow(), user), client.list_refused(uow(), user)

        run_in_background(self, load, self._loaded)

    def _loaded(self, result) -> None:
        generation, connected, conflicts, refusals = result
        if generation != self._generation:
            return  # a later refresh is on its way
        self.connected = connected
        selected = self.current_conflict()
        self.model.set_rows(conflicts)
        self.refusals.set_rows(refusals)
        self.splitter.setVisible(connected)
        self.intro.setVisible(connected)
        if not connected:
            self.empty_label.setText("Cet ordinateur n'est pas connecté au serveur du programme : il n'y a rien à "
                                     "synchroniser, donc pas de conflit.")
        elif not conflicts and not refusals:
            self.empty_label.setText("Aucun conflit à résoudre, aucune modification refusée : tout est en ordre.")
        else:
            self.empty_label.setText("")
        self.empty_label.setVisible(bool(self.empty_label.text()))
        self.count_label.setText(f"{len(conflicts)} conflit(s), {len(refusals)} refus" if connected else "")
        fit_columns(self.view)
        fit_columns(self.refusals_view)
        self._select(selected.key if selected else None)
        self._update_buttons()
        self.loaded.emit()

    def _select(self, key: str | None) -> None:
        rows = [r for r in range(self.proxy.rowCount())
                if self.proxy.index(r, 0).data(ROW_ROLE).key == key] if key else []
        if not rows and self.proxy.rowCount():
            rows = [0]
        if rows:
            self.view.selectRow(rows[0])
            self.view.setCurrentIndex(self.proxy.index(rows[0], 0))
        self._selected()

    def current_conflict(self) -> client.Conflict | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_at(self.proxy.mapToSource(index).row())

    def current_refusal(self) -> client.Refusal | None:
        index = self.refusals_view.currentIndex()
        if not index.isValid():
            return None
        return self.refusals.row_at(self.refusals_proxy.mapToSource(index).row())

    def _selected(self, *_args) -> None:
        conflict = self.current_conflict()
        if conflict is not self.choices.conflict:
            self.choices.show_conflict(conflict)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.resolve_button.setEnabled(self.current_conflict() is not None and self.choices.complete())
        self.withdraw_button.setEnabled(self.current_refusal() is not None)

    # -- deciding -----------------------------------------------------------------------------------------------
    def resolve(self) -> None:
        conflict = self.current_conflict()
        if conflict is None or not self.choices.complete():
            return
        choices, uow, user = self.choices.choices(), self._uow, self._user
        self.resolve_button.setEnabled(False)
        run_in_background(self, lambda: client.resolve_conflict(uow(), user, conflict.key, choices),
                          self._resolved, self._failed)

    def _resolved(self, conflict) -> None:
        self.resolved.emit(conflict)
        self._after_decision("Conflit résolu : les valeurs gardées sur cet ordinateur partiront au serveur.")

    def withdraw(self, *, ask: bool = True) -> None:
        refusal = self.current_refusal()
        if refusal is None or ask and not confirmed(
                self, "Retirer la modification",
                f"Retirer « {operation_label(refusal.operation)} » ? L'enregistrement reviendra aux valeurs du "
                "serveur ; ce que vous aviez saisi pour cette modification sera abandonné."):
            return
        uow, user = self._uow, self._user
        self.withdraw_button.setEnabled(False)
        run_in_background(self, lambda: client.withdraw_refused(uow(), user, refusal.operation_id),
                          self._withdrawn, self._failed)

    def _withdrawn(self, refusal) -> None:
        self.withdrawn.emit(refusal)
        self._after_decision("Modification retirée : l'enregistrement a repris les valeurs du serveur.")

    def _after_decision(self, message: str) -> None:
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(message, 8000)
        if self._runner is not None:
            self._runner.refresh_status()
            self._runner.sync_soon()
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        show_error(self, exc)
        self.refresh()
