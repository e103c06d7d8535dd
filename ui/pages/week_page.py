"""The week's sessions of the user's families: one row a family, one column a day, school holidays shaded."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QPushButton, QVBoxLayout, QWidget

from services.directory import CurrentUser
from services.formatting import format_date, format_hours
from services.exception_rules import DECISION_LABELS
from services.home_sessions import SessionRow, Week, latest_session_date, week_sessions
from ui.background import run_in_background
from ui.pages.page import Page
from ui.table_model import HOLIDAY, INDEX, ROW_ROLE, SORT_ROLE, collate, row_of, sorting_proxy
from ui.widgets import note_label, table_view, title_label

NBSP = "\u00a0"
DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def short_name(name: str) -> str:
    """'Karima Haddad' -> 'K. Haddad', its spaces unbreakable: a narrow cell wraps between the parts of its line
    (« 16:30 · » / « Y. Belkacem · 1 h »), never inside a name."""
    first, _, rest = name.partition(" ")
    return (f"{first[0]}. {rest}" if rest else name).replace(" ", NBSP)


def cell_line(s: SessionRow) -> str:
    parts = [s.start_time.strftime("%H:%M")] if s.start_time else []
    parts += [short_name(s.intervenant_name), format_hours(s.duration_minutes)]
    if s.status != "held":
        parts.append(f"({s.status_label.lower()})")
    if s.decision:
        parts.append(DECISION_LABELS[s.decision].lower())  # which sessions wait for the coordination
    return " · ".join(parts)


class WeekModel(QAbstractTableModel):
    """Column 0: the family; columns 1-7: Monday to Sunday. ROW_ROLE gives the family's (id, name)."""

    FAMILY = 0

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.week: Week | None = None
        self._families: list[tuple[str, str]] = []
        self._cells: dict[tuple[str, int], list[SessionRow]] = {}

    def set_week(self, week: Week) -> None:
        self.beginResetModel()
        self.week = week
        self._cells = {}
        names = {}
        for s in week.sessions:
            names[s.family_id] = s.family_name
            self._cells.setdefault((s.family_id, (s.date - week.monday).days), []).append(s)
        self._families = sorted(names.items(), key=lambda item: collate(item[1]))
        self.endResetModel()

    def sessions_at(self, row: int, column: int) -> list[SessionRow]:
        return self._cells.get((self._families[row][0], column - 1), []) if column else []

    def rowCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._families)

    def columnCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else 8

    def data(self, index: INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._families) and 0 <= index.column() < 8):
            return None
        family_id, name = self._families[index.row()]
        column = index.column()
        sessions = self.sessions_at(index.row(), column)
        if role == Qt.ItemDataRole.DisplayRole:
            return name if column == self.FAMILY else "\n".join(cell_line(s) for s in sessions)
        if role == SORT_ROLE:
            return collate(name) if column == self.FAMILY else len(sessions)
        if role == ROW_ROLE:
            return (family_id, name)
        if role == Qt.ItemDataRole.BackgroundRole and column and self.week.days[column - 1].school_holiday:
            return QBrush(HOLIDAY)
        if role == Qt.ItemDataRole.ToolTipRole and sessions:
            return "\n".join(f"{format_date(s.date)} — {cell_line(s)}" + (f"\n{s.notes}" if s.notes else "")
                             for s in sessions)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int((Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop).value)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < 8:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == self.FAMILY:
                return "Famille"
            if self.week is None:
                return DAYS[section - 1]
            day = self.week.days[section - 1]
            return f"{DAYS[section - 1]} {day.date.strftime('%d/%m')}" + ("\nvacances" if day.school_holiday else "")
        if role == Qt.ItemDataRole.BackgroundRole and section and self.week and self.week.days[section - 1].school_holiday:
            return QBrush(HOLIDAY)
        return None

    def flags(self, index: INDEX) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable if index.isValid() else Qt.ItemFlag.NoItemFlags


class WeekPage(Page):
    week_loaded = Signal()
    family_activated = Signal(str)

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self.day = today()
        self._latest: date | None = None
        layout = QVBoxLayout(self)
        heading = QHBoxLayout()
        self.title = title_label("Semaine", self)
        heading.addWidget(self.title)
        heading.addStretch()
        for text, slot, name in (("◀ Semaine précédente", lambda: self.go(-7), "previous"),
                                 ("Aujourd'hui", self.go_today, "today"),
                                 ("Semaine suivante ▶", lambda: self.go(7), "next")):
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.clicked.connect(slot)
            heading.addWidget(button)
        layout.addLayout(heading)
        legend = QLabel("Jours de vacances scolaires", self)
        legend.setStyleSheet(f"background: {HOLIDAY.name()}; padding: 2px 8px; border-radius: 3px;")
        row = QHBoxLayout()
        row.addWidget(legend)
        row.addStretch()
        layout.addLayout(row)
        self.model = WeekModel(self)
        self.proxy = sorting_proxy(self.model, self)
        self.view = table_view(self.proxy, self)
        self.view.setWordWrap(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.view.setColumnWidth(0, 170)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.activated.connect(self._activated)
        layout.addWidget(self.view, 1)
        self.empty = QWidget(self)
        empty_row = QHBoxLayout(self.empty)
        self.empty_label = note_label("", self.empty)
        self.empty_label.setWordWrap(False)
        empty_row.addWidget(self.empty_label)
        self.jump_button = QPushButton(self.empty)
        self.jump_button.clicked.connect(lambda: self._latest and self.show_day(self._latest))
        empty_row.addWidget(self.jump_button)
        empty_row.addStretch()
        layout.addWidget(self.empty)
        self.empty.setVisible(False)

    def refresh(self) -> None:
        self.show_day(self.day)

    def go(self, days: int) -> None:
        self.show_day(self.day + timedelta(days=days))

    def go_today(self) -> None:
        self.show_day(self._today())

    def show_day(self, day: date) -> None:
        self.day = day
        uow, user, today = self._uow, self._user, self._today()
        run_in_background(self, lambda: (week_sessions(uow(), user, day), latest_session_date(uow(), user, today)),
                          self._loaded)

    def _loaded(self, result: tuple[Week, date | None]) -> None:
        week, latest = result
        if week.monday != self.day - timedelta(days=self.day.weekday()):
            return  # the user moved on to another week meanwhile
        self.model.set_week(week)
        sunday = week.monday + timedelta(days=6)
        holidays = sum(d.school_holiday for d in week.days)
        self.title.setText(f"Semaine du {format_date(week.monday)} au {format_date(sunday)}"
                           + (" — vacances scolaires" if holidays == 7 else ""))
        self._latest = latest
        nothing = not week.sessions
        self.empty.setVisible(nothing)
        if nothing:
            self.empty_label.setText("Aucune séance cette semaine pour vos familles." if self._user.is_referent
                                     else "Aucune séance cette semaine.")
            jump = latest is not None and latest < week.monday
            self.jump_button.setVisible(jump)
            if jump:
                self.jump_button.setText(f"Aller à la dernière semaine avec des séances ({format_date(latest)})")
        self.week_loaded.emit()

    def _activated(self, index) -> None:
        family = row_of(index)
        if family:
            self.family_activated.emit(family[0])
