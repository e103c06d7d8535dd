"""EPS meetings (coordination): create a meeting, add the situations studied, note the recommendation and propose
orientations (validated or rejected later in « À valider »)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from services.directory import CurrentUser, list_conventions
from services.families import family_choices
from services.formatting import format_date
from services.orientations import (EpsMeetingDetail, EpsMeetingRow, add_situation, create_eps_meeting,
                                   eps_meeting_detail, list_eps_meetings, propose_orientation, record_recommendation)
from ui.background import run_in_background
from ui.form_dialog import Field, FormDialog, open_form
from ui.pages.page import Page
from ui.table_model import RowsModel, count_column, date_column, row_of, sorting_proxy, text_column
from ui.widgets import fit_columns, note_label, table_view, title_label


def _orientations_text(situation) -> str:
    return ", ".join(f"{o.convention_label} ({o.status_label.lower()})" for o in situation.orientations)


class EpsPage(Page):
    meetings_loaded = Signal()
    meeting_loaded = Signal(str)

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self.detail: EpsMeetingDetail | None = None
        self._select_after_load: str | None = None
        self._wanted_meeting: str | None = None
        self.dialog: FormDialog | None = None

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(splitter)
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(title_label("Séances d'EPS", left))
        self.new_button = QPushButton("Nouvelle séance d'EPS…", left)
        self.new_button.clicked.connect(self.ask_new_meeting)
        left_layout.addWidget(self.new_button)
        self.meetings = RowsModel((date_column("Date", lambda m: m.date),
                                   count_column("Situations", lambda m: m.situation_count)), self)
        self.meetings_view = table_view(sorting_proxy(self.meetings, self), left, stretch=0)
        self.meetings_view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.meetings_view.selectionModel().currentRowChanged.connect(self._meeting_chosen)
        left_layout.addWidget(self.meetings_view)

        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        self.title = title_label("Choisissez une séance d'EPS", right)
        right_layout.addWidget(self.title)
        self.notes = note_label("", right)
        right_layout.addWidget(self.notes)
        self.situations = RowsModel((text_column("Famille", lambda s: s.family_name),
                                     text_column("Préconisation", lambda s: s.recommendation, tooltip=True),
                                     text_column("Orientations proposées", _orientations_text, tooltip=True)), self)
        self.situations_view = table_view(sorting_proxy(self.situations, self), right, stretch=1)
        self.situations_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        right_layout.addWidget(self.situations_view)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Ajouter une situation…", right)
        self.add_button.clicked.connect(self.ask_add_situation)
        self.recommend_button = QPushButton("Noter la préconisation…", right)
        self.recommend_button.clicked.connect(self.ask_recommendation)
        self.propose_button = QPushButton("Proposer une orientation…", right)
        self.propose_button.clicked.connect(self.ask_propose)
        for b in (self.add_button, self.recommend_button, self.propose_button):
            buttons.addWidget(b)
        buttons.addStretch()
        right_layout.addLayout(buttons)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([260, 740])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._update_buttons()

    # -- loading --------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        uow, user = self._uow, self._user
        run_in_background(self, lambda: list_eps_meetings(uow(), user), self._meetings_loaded)

    def _meetings_loaded(self, rows: tuple[EpsMeetingRow, ...]) -> None:
        wanted = self._select_after_load or (self.detail.meeting.id if self.detail else None)
        self._select_after_load = None
        self.meetings.set_rows(rows)
        proxy = self.meetings_view.model()
        target = next((proxy.index(r, 0) for r in range(proxy.rowCount())
                       if row_of(proxy.index(r, 0)).id == wanted), proxy.index(0, 0))
        if target.isValid():
            self.meetings_view.setCurrentIndex(target)
        self.meetings_loaded.emit()

    def _meeting_chosen(self, current, _previous=None) -> None:
        meeting = row_of(current)
        if meeting:
            self.load_meeting(meeting.id)

    def load_meeting(self, meeting_id: str) -> None:
        uow, user = self._uow, self._user
        self._wanted_meeting = meeting_id
        run_in_background(self, lambda: eps_meeting_detail(uow(), user, meeting_id), self._detail_loaded)

    def _detail_loaded(self, detail: EpsMeetingDetail) -> None:
        if detail.meeting.id != self._wanted_meeting:
            return  # another meeting was chosen meanwhile
        self.detail = detail
        self.title.setText(f"Séance d'EPS du {format_date(detail.meeting.date)}")
        self.notes.setText(detail.meeting.notes or "")
        self.situations.set_rows(detail.situations)
        fit_columns(self.situations_view, maximum=360)
        self._update_buttons()
        self.meeting_loaded.emit(detail.meeting.id)

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(self.detail is not None)
        for b in (self.recommend_button, self.propose_button):
            b.setEnabled(self.detail is not None and bool(self.detail.situations))

    def selected_situation(self):
        return row_of(self.situations_view.currentIndex())

    # -- dialogs --------------------------------------------------------------------------------------------------
    def _open(self, title: str, fields: list[Field], submit, after) -> FormDialog:
        self.dialog = open_form(self, title, fields, submit, after)
        return self.dialog

    def _reload_meeting(self, _result=None) -> None:
        self.refresh()

    def ask_new_meeting(self) -> FormDialog:
        uow, user = self._uow, self._user

        def created(row):
            self._select_after_load = row.id
            self.refresh()

        return self._open("Nouvelle séance d'EPS", [Field("date", "Date", "date", self._today()),
                                                   Field("notes", "Notes", "multiline")],
                          lambda v: create_eps_meeting(uow(), user, v["date"], v["notes"]), created)

    def ask_add_situation(self) -> FormDialog | None:
        if self.detail is None:
            return None
        uow, user, meeting_id = self._uow, self._user, self.detail.meeting.id
        families = tuple((f"{f.name} ({f.key})", f.id) for f in family_choices(uow(), user))
        return self._open("Ajouter une situation", [Field("family", "Famille", "choice", choices=families),
                                                    Field("recommendation", "Préconisation", "multiline")],
                          lambda v: add_situation(uow(), user, meeting_id, v["family"], v["recommendation"]),
                          self._reload_meeting)

    def ask_recommendation(self) -> FormDialog | None:
        situation = self.selected_situation()
        if situation is None:
            return None
        uow, user = self._uow, self._user
        return self._open(f"Préconisation — {situation.family_name}",
                          [Field("recommendation", "Préconisation", "multiline", situation.recommendation)],
                          lambda v: record_recommendation(uow(), user, situation.id, v["recommendation"]),
                          self._reload_meeting)

    def ask_propose(self) -> FormDialog | None:
        situation = self.selected_situation()
        if situation is None:
            return None
        uow, user = self._uow, self._user
        conventions = tuple((c.label, c.id) for c in list_conventions(uow(), user))
        return self._open(f"Proposer une orientation — {situation.family_name}",
                          [Field("convention", "Action / convention", "choice", choices=conventions)],
                          lambda v: propose_orientation(uow(), user, situation.id, v["convention"]),
                          self._reload_meeting,)
