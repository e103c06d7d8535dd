"""« Tableau de bord » (coordination): the decisions waiting, the families under each convention against its maximum,
the held sessions of the last thirteen weeks and each convention's spending against its cap, month by month.
Read off the GUI thread (services.dashboard), drawn with ui.charts.

Shown again (each visit to the page, F5, a session saved), the board is asked for with the one on screen: the
service gives it back as it is when nothing was written since, in a millisecond instead of the seconds its drafts
take, and the page keeps it drawn. After REUSE_SECONDS the board is made afresh whatever the log says (a laptop's
pull is not in its audit log)."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from services.dashboard import ConventionBudget, ConventionFamilies, Dashboard, coordinator_dashboard
from services.directory import CurrentUser
from services.formatting import format_date, format_money, month_in_words
from ui.background import run_in_background
from ui.charts import LineChart, Series, french_money, french_number
from ui.pages.page import Page
from ui.report_months import short_month
from ui.widgets import heading_row, note_label, title_label

CARD_STYLE = "QFrame#dashboardCard { background: #ffffff; border: 1px solid #eaecf0; border-radius: 6px; }"
OVER_STYLE = "QProgressBar::chunk { background: #d92d20; }"
NEAR_STYLE = "QProgressBar::chunk { background: #f79009; }"
NEAR_FULL = 0.9
REUSE_SECONDS = 60


def card(title: str, parent: QWidget) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame(parent)
    frame.setObjectName("dashboardCard")
    frame.setStyleSheet(CARD_STYLE)
    layout = QVBoxLayout(frame)
    layout.addWidget(title_label(title, frame, size=14))
    return frame, layout


def plural(count: int, one: str, many: str) -> str:
    return f"{french_number(count)} {one if count <= 1 else many}"


def families_text(f: ConventionFamilies) -> str:
    followed = plural(f.families, "famille", "familles")
    if f.max_families is None:
        return f"{followed} (pas de maximum indicatif)"
    text = f"{followed} sur {french_number(f.max_families)} au maximum"
    return text + (" — maximum dépassé" if f.families > f.max_families else "")


def budget_text(b: ConventionBudget) -> str:
    if b.cap is None:
        return f"{format_money(b.spent)} engagés (pas de plafond)"
    share = (b.spent / b.cap * 100).quantize(Decimal("0.1")) if b.cap else Decimal(0)
    left = b.cap - b.spent
    rest = f"reste {format_money(left)}" if left >= 0 else f"plafond dépassé de {format_money(-left)}"
    return f"{format_money(b.spent)} engagés sur {format_money(b.cap)} ({french_number(share)} %) — {rest}"


def budget_series(b: ConventionBudget) -> list[Series]:
    series = [Series("Engagé depuis le début de la période", tuple(m.cumulative for m in b.months)),
              Series("Engagé dans le mois", tuple(m.spent for m in b.months))]
    if b.cap is not None:
        series.append(Series("Plafond de la convention", (b.cap,) * len(b.months), dashed=True))
    return series


class DashboardPage(Page):
    loaded = Signal()

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self.dashboard: Dashboard | None = None
        self.clock: Callable[[], float] = time.monotonic  # tests move it on
        self._made_at: float | None = None  # when the board on screen was asked for
        self._asked_last: float | None = None  # when the last refresh was asked for: only its answer is drawn
        outer = QVBoxLayout(self)
        heading = heading_row(outer, "Tableau de bord", self)
        self.as_of = note_label("", self)
        heading.addWidget(self.as_of)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(scroll)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(12)

        decisions, layout = card("Décisions en attente", body)
        self.decisions = QLabel(decisions)
        self.decisions.setWordWrap(True)
        layout.addWidget(self.decisions)
        self.queue_button = QPushButton("Ouvrir « À valider »", decisions)
        self.queue_button.clicked.connect(self.open_queue)
        row = QHBoxLayout()
        row.addWidget(self.queue_button)
        row.addStretch()
        layout.addLayout(row)
        layout.addStretch()
        grid.addWidget(decisions, 0, 0)

        families, self._families_layout = card("Familles suivies par convention", body)
        self._families_rows: list[QWidget] = []
        grid.addWidget(families, 1, 0)

        weeks, layout = card("Séances réalisées par semaine (trois derniers mois)", body)
        self.weeks_chart = LineChart(weeks)
        layout.addWidget(self.weeks_chart, 1)
        grid.addWidget(weeks, 0, 1, 2, 1)

        self._budget_box = QVBoxLayout()
        self._budget_box.setSpacing(12)
        grid.addLayout(self._budget_box, 2, 0, 1, 2)
        self.budget_charts: list[LineChart] = []
        self.budget_labels: list[QLabel] = []
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 3)
        grid.setRowStretch(3, 1)

    def refresh(self) -> None:
        uow, user, today, asked = self._uow, self._user, self._today(), self.clock()
        known = self.dashboard if self._made_at is not None and asked - self._made_at < REUSE_SECONDS else None
        self._asked_last = asked
        run_in_background(self, lambda: coordinator_dashboard(uow(), user, today, unless_unchanged=known),
                          lambda board: self._answered(board, asked))

    def _answered(self, board: Dashboard, asked: float) -> None:
        if asked != self._asked_last:  # a later refresh is under way: its board is the one to draw
            return
        if board is self.dashboard:  # nothing written since: the board on screen stays as drawn
            self.loaded.emit()
            return
        self._made_at = asked
        self.show_dashboard(board)

    def open_queue(self) -> None:
        """To « À valider », where the decisions are taken (the main window knows its pages)."""
        window = self.window()
        if hasattr(window, "show_page") and any(s.key == "queue" for s in getattr(window, "specs", ())):
            window.show_page("queue")

    def show_dashboard(self, board: Dashboard) -> None:
        self.dashboard = board
        self.as_of.setText(f"au {format_date(board.today)}")
        self.decisions.setText(
            f"{plural(board.orientations_to_validate, 'orientation proposée', 'orientations proposées')} "
            f"par l'EPS à valider\n"
            f"{plural(board.exceptions_to_decide, 'séance attend', 'séances attendent')} une dérogation")
        self.queue_button.setEnabled(board.decisions_waiting > 0)
        self._show_families(board.families)
        weeks = board.weeks
        self.weeks_chart.set_data([format_date(w.monday)[:5] for w in weeks],
                                  [Series("Séances réalisées", tuple(w.sessions for w in weeks))],
                                  full_categories=[f"semaine du {format_date(w.monday)}" for w in weeks])
        self._show_budgets(board.budgets)
        self.loaded.emit()

    def _show_families(self, families: tuple[ConventionFamilies, ...]) -> None:
        for widget in self._families_rows:
            widget.deleteLater()
        self._families_rows = []
        parent = self._families_layout.parentWidget()
        if not families:
            empty = note_label("Aucune convention en cours aujourd'hui.", parent)
            self._families_layout.addWidget(empty)
            self._families_rows.append(empty)
        for f in families:
            label = QLabel(f"{f.label} : {families_text(f)}", parent)
            label.setWordWrap(True)
            bar = QProgressBar(parent)
            bar.setTextVisible(False)
            bar.setMaximumHeight(10)
            bar.setRange(0, max(f.max_families or 0, f.families, 1))
            bar.setValue(f.families)
            if f.max_families is not None and f.families > f.max_families:
                bar.setStyleSheet(OVER_STYLE)
            elif f.max_families and f.families >= f.max_families * NEAR_FULL:
                bar.setStyleSheet(NEAR_STYLE)
            for widget in (label, bar):
                self._families_layout.addWidget(widget)
                self._families_rows.append(widget)

    def _show_budgets(self, budgets: tuple[ConventionBudget, ...]) -> None:
        while len(self.budget_charts) < len(budgets):
            frame, layout = card("", self)
            title = layout.itemAt(0).widget()
            chart = LineChart(frame)
            chart.setMinimumHeight(chart.fontMetrics().height() * 14)
            layout.addWidget(chart, 1)
            self._budget_box.addWidget(frame)
            self.budget_charts.append(chart)
            self.budget_labels.append(title)
        for i, (chart, title) in enumerate(zip(self.budget_charts, self.budget_labels)):
            frame = chart.parentWidget()
            frame.setVisible(i < len(budgets))
            if i >= len(budgets):
                continue
            b = budgets[i]
            title.setText(f"Budget {b.label} ({b.convention}) : {budget_text(b)}")
            title.setWordWrap(True)
            chart.set_data([short_month(m.month) for m in b.months], budget_series(b), value_text=french_money,
                           full_categories=[month_in_words(m.month) for m in b.months], unit="€")
