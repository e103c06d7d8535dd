"""États mensuels: the administrator previews a convention's month, issues it, saves or prints its PDF.

The statement is shown as tables (the summary lines, the totals against the cap and the maximum of families,
the flags, the details per family and per intervenant) and, in the "Aperçu PDF" tab, as the PDF itself
(QtPdf, `ui.admin.pdf_preview`): the stored PDF of an issued statement, else the PDF rendered now; with the
names checkbox, the partner's copy. "Imprimer…" prints that same PDF through the print dialog; without QtPdf
(PySide6-Essentials only) the tab shows a note and printing goes through the system's PDF viewer.
Computing a statement, rendering a PDF and issuing run on the thread pool (`ui.background`).

After the convention's last month, once every month is issued, the month list offers « État de clôture »: the
closing statement (« état complémentaire de clôture ») that carries the corrections of the period's months, with the
same preview, issue, save and print; each one issued is listed after it (« État de clôture — émis »).
"""
from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFrame, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QMessageBox, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from services.billing import (get_closing_statement, get_statement, issue_closing_statement, issue_statement,
                              issued_pdf, list_issued_summaries)
from services.billing.rules import month_bounds
from services.billing.statements import (IssuedMonthChanges, IssuedSummary, issued_month_changes,
                                         undecided_exceptions)
from services.billing.statement import Statement
from services.statement_names import record_names_printed
from services.conventions_admin import ConventionSummary, list_conventions, month_of
from services.errors import DomainError
from services.file_faults import write_atomically
from services.formatting import format_date, format_hours, format_money, month_in_words, of_month
from ui.admin.pdf_preview import LoadedPdf, PdfNotReadable, PdfPreview, pdf_support, print_pdf
from ui.admin.table_models import (FamilyDetailsModel, FlagsModel, IntervenantDetailsModel, IssuedStatementsModel,
                                   StatementLinesModel, issued_on)
from ui.admin.widgets import WARNING_STYLE, StatusBadge, table_view
from ui.background import run_in_background
from ui.errors import show_error
from ui.widgets import steady_width

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

ADMINISTRATOR = "administrator"
CLOSING_DRAFT = "closing"  # the month list's item of the next closing statement (issued ones: their stored month)
CLOSING_TITLE = "État complémentaire de clôture"


class PdfNotWritten(DomainError):
    """The PDF could not be written where the user asked (disk full, no permission…)."""


class NotPrinted(DomainError):
    """The printer refused the job or the PDF could not be read for printing."""


def render_pdf(statement: Statement, with_names: bool = False) -> bytes:
    from services.billing.pdf import render_statement_pdf  # reportlab is heavy: only when a PDF is made

    return render_statement_pdf(statement, with_names=with_names)


def pdf_file_name(statement: Statement, with_names: bool) -> str:
    suffix = "_exemplaire-partenaire" if with_names else ""
    status = statement.number if statement.number else "projet"
    if statement.closing:
        return f"Etat-cloture_{statement.convention}_{status}.pdf"
    return f"Etat-mensuel_{statement.convention}_{statement.month}_{status}{suffix}.pdf"


def issued_badge_text(statement: Statement) -> str:
    return f"Émis n° {statement.number} le {issued_on(statement)}"


@dataclass(frozen=True)
class _Loaded:
    statement: Statement
    issued: tuple[IssuedSummary, ...]  # the list of issued statements, read without decoding them
    changes: IssuedMonthChanges | None = None  # issued month: how its data differs today from the statement
    undecided: tuple[str, ...] = ()  # draft: keys of the month's sessions still waiting for a dérogation decision


class StatementsPage(QWidget):
    """The administrator's monthly statements: pick a convention and a month, preview, issue, save, print."""

    statement_loaded = Signal(object)  # Statement
    statement_issued = Signal(object)  # Statement
    pdf_saved = Signal(str)  # the path written
    pdf_opened = Signal(str)  # the temporary PDF handed to the system viewer for printing (no QtPdf)
    preview_loaded = Signal(int)  # the "Aperçu PDF" tab shows a document of that many pages
    statement_printed = Signal(int)  # the number of pages sent to the printer

    def __init__(self, uow_factory, current_user, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(parent)
        self._today = today
        self.setObjectName("statementsPage")
        self._uow = uow_factory
        self._user = current_user
        self._is_admin = getattr(current_user, "role", None) == ADMINISTRATOR
        self._conventions: tuple[ConventionSummary, ...] = ()
        self._statement: Statement | None = None
        self._changes: IssuedMonthChanges | None = None
        self._undecided: tuple[str, ...] = ()
        self._load_ticket = 0
        self._loading = 0  # statements being computed: the buttons wait for the one on screen
        self._working = 0  # an issue or a PDF under way: the selection stays put
        self._preview_for: tuple[Statement, bool] | None = None  # shown, or being rendered, in the preview
        self._preview_ticket = 0
        self._print_pages = 0  # pages of the PDF about to be printed (the print dialog's page range)
        self._build()
        self.reload_conventions()

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.convention_combo = QComboBox()
        self.convention_combo.setMinimumContentsLength(24)
        self.convention_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.month_combo = QComboBox()
        steady_width(self.month_combo, [f"{month_in_words(f'2000-{m:02d}').capitalize()} — émis" for m in range(1, 13)])
        self.badge = StatusBadge()
        self.names_check = QCheckBox("Noms des familles (exemplaire du partenaire)")
        self.names_check.setToolTip("Affiche les noms des familles et les imprime sur le PDF. L'exemplaire "
                                    "conservé par le programme ne porte que les codes.")
        self.issue_button = QPushButton("Émettre…")
        self.issue_button.setObjectName("issueButton")
        self.save_button = QPushButton("Enregistrer le PDF…")
        self.print_button = QPushButton("Imprimer…")
        if pdf_support() is not None:
            self.print_button.setToolTip("Choisit l'imprimante et imprime le PDF de l'état (celui de l'aperçu).")
        else:
            self.print_button.setToolTip("Ouvre le PDF dans le lecteur de PDF de l'ordinateur, pour l'imprimer.")
        self.next_hint = QLabel()
        self.next_hint.setObjectName("nextHint")
        self.loading_label = QLabel("Calcul de l'état…")
        self.loading_label.hide()

        top = QHBoxLayout()
        top.addWidget(QLabel("Convention"))
        top.addWidget(self.convention_combo, 2)
        top.addSpacing(12)
        top.addWidget(QLabel("Mois"))
        top.addWidget(self.month_combo, 1)
        top.addSpacing(12)
        top.addWidget(self.badge)
        top.addWidget(self.loading_label)
        top.addStretch(1)

        actions = QHBoxLayout()
        actions.addWidget(self.issue_button)
        actions.addWidget(self.save_button)
        actions.addWidget(self.print_button)
        actions.addSpacing(12)
        actions.addWidget(self.names_check)
        actions.addSpacing(12)
        actions.addWidget(self.next_hint, 1)
        self.next_hint.setWordWrap(True)
        # what the last gesture did: a save, a print or an issue is confirmed where the administrator looks
        self.done_label = QLabel()
        self.done_label.setObjectName("doneLabel")
        self.done_label.setWordWrap(True)
        self.done_label.setStyleSheet("color: #067647;")
        self.pdf_saved.connect(lambda path: self.done_label.setText(f"✓ PDF enregistré : {path}"))
        self.statement_printed.connect(lambda pages: self.done_label.setText(
            f"✓ {pages} page{'s' if pages > 1 else ''} envoyée{'s' if pages > 1 else ''} à l'imprimante."))
        self.statement_issued.connect(lambda s: self.done_label.setText(
            f"✓ {CLOSING_TITLE} n° {s.number} émis ({format_money(s.total)} TTC)." if s.closing else
            f"✓ État n° {s.number} émis ({month_in_words(s.month)}, {format_money(s.total)} TTC)."))
        self.pdf_opened.connect(lambda _path: self.done_label.setText(
            "✓ PDF ouvert dans le lecteur de l'ordinateur : imprimez-le depuis ce lecteur."))

        self.header_label = QLabel()
        self.header_label.setObjectName("statementHeader")
        self.header_label.setWordWrap(True)
        self.header_label.setTextFormat(Qt.TextFormat.RichText)

        # Summary: the lines, then the totals and the follow-up of the convention.
        self.lines_model = StatementLinesModel(self)
        self.lines_view, self.lines_proxy = table_view(self.lines_model, stretch=StatementLinesModel.SERVICE,
                                                       parent=self)
        self.lines_view.setObjectName("linesView")
        self.total_label = QLabel()
        self.total_label.setObjectName("totalLabel")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.budget_label = QLabel()
        self.budget_label.setObjectName("budgetLabel")
        self.families_label = QLabel()
        self.families_label.setObjectName("familiesLabel")
        self.flags_summary = QLabel()
        follow = QVBoxLayout()
        follow.setSpacing(2)
        for label in (self.budget_label, self.families_label, self.flags_summary):
            label.setWordWrap(True)
            follow.addWidget(label)
        totals = QHBoxLayout()
        totals.addLayout(follow, 1)
        totals.addWidget(self.total_label)

        upper = QGroupBox("Récapitulatif (montants TTC)")
        summary_layout = QVBoxLayout(upper)
        summary_layout.addWidget(self.lines_view, 1)
        summary_layout.addLayout(totals)

        # Details: flags, families, intervenants, and the statements already issued.
        self.flags_model = FlagsModel(self)
        self.flags_view, self.flags_proxy = table_view(self.flags_model, stretch=FlagsModel.REASON, parent=self)
        self.flags_view.setWordWrap(True)  # a reason is a sentence: wrapped, never cut
        self.flags_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.families_model = FamilyDetailsModel(self)
        self.families_view, self.families_proxy = table_view(self.families_model, parent=self)
        self.intervenants_model = IntervenantDetailsModel(self)
        self.intervenants_view, self.intervenants_proxy = table_view(self.intervenants_model, parent=self)
        self.issued_model = IssuedStatementsModel(self)
        self.issued_view, self.issued_proxy = table_view(self.issued_model, parent=self)
        self.issued_view.setToolTip("Double-cliquez sur un état pour l'afficher.")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.flags_view, "Signalements")
        self.tabs.addTab(self.families_view, "Détail par famille")
        self.tabs.addTab(self.intervenants_view, "Détail par intervenant")
        self.tabs.addTab(self.issued_view, "Historique des états émis")
        self.preview = PdfPreview(self)
        self.preview_tab = self.tabs.addTab(self.preview, "Aperçu PDF")
        self.tabs.currentChanged.connect(self._tab_changed)

        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(self.tabs)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self._upper = upper

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(actions)
        layout.addWidget(self.done_label)
        layout.addWidget(self.header_label)
        layout.addWidget(splitter, 1)

        self.convention_combo.currentIndexChanged.connect(self._convention_changed)
        self.month_combo.currentIndexChanged.connect(self._month_changed)
        self.names_check.toggled.connect(self._names_toggled)
        self.issue_button.clicked.connect(self.issue)
        self.save_button.clicked.connect(self.save_pdf)
        self.print_button.clicked.connect(self.print_statement)
        self.issued_view.doubleClicked.connect(self._issued_double_clicked)
        if not self._is_admin:
            self.issue_button.setToolTip("Seul un administrateur ou une administratrice peut émettre un état.")
        self._names_toggled(False)
        self._show(None)

    # ------------------------------------------------------------------------------------------ selection

    def refresh(self) -> None:
        """Called by the main window each time the page is shown: the data may have changed elsewhere."""
        self.reload_conventions()

    def reload_conventions(self) -> None:
        """Read the conventions again and recompute the statement shown (same convention and month if they
        still exist)."""
        try:
            conventions = list_conventions(self._uow(), self._user)
        except Exception as exc:  # noqa: BLE001 - shown calmly, the page stays usable
            show_error(self, exc)
            return
        current, month = self.selected_convention(), self.selected_month()
        self._conventions = conventions
        self.convention_combo.blockSignals(True)
        self.convention_combo.clear()
        for c in conventions:
            self.convention_combo.addItem(f"{c.key} — {c.partner_name} ({c.action})", c.key)
        index = self.convention_combo.findData(current) if current else -1
        self.convention_combo.setCurrentIndex(index if index >= 0 else (0 if conventions else -1))
        self.convention_combo.blockSignals(False)
        self._fill_months(keep=month if index >= 0 else None)
        self._month_changed()

    def selected_convention(self) -> str | None:
        return self.convention_combo.currentData()

    def selected_month(self) -> str | None:
        return self.month_combo.currentData()

    def select(self, convention: str, month: str | None = None) -> None:
        """Show a convention (and a month of it); the statement then loads in the background."""
        index = self.convention_combo.findData(convention)
        if index < 0:
            return
        if index != self.convention_combo.currentIndex():
            self.convention_combo.setCurrentIndex(index)
        if month is not None:
            month_index = self.month_combo.findData(month)
            if month_index >= 0 and month_index != self.month_combo.currentIndex():
                self.month_combo.setCurrentIndex(month_index)

    def _summary(self) -> ConventionSummary | None:
        key = self.selected_convention()
        return next((c for c in self._conventions if c.key == key), None)

    def _convention_changed(self, *_args) -> None:
        self._fill_months(keep=None)
        self._month_changed()

    def _fill_months(self, keep: str | None) -> None:
        convention = self._summary()
        self.month_combo.blockSignals(True)
        self.month_combo.clear()
        if convention is not None:
            last = month_of(convention.end) if convention.end else None
            months = [m for m in convention.months(self._today()) if last is None or m <= last]
            for month in months:
                issued = " — émis" if month in convention.issued_months else ""
                self.month_combo.addItem(f"{month_in_words(month).capitalize()}{issued}", month)
            if last is not None:  # closing statements are stored under months after the period
                closings = [m for m in convention.issued_months if m > last]
                for i, month in enumerate(closings, 1):
                    self.month_combo.addItem(f"État de clôture{f' {i}' if len(closings) > 1 else ''} — émis", month)
                if all(m in convention.issued_months for m in months):
                    self.month_combo.addItem("État de clôture", CLOSING_DRAFT)
            default = convention.next_to_issue(self._today()) or self.month_combo.itemData(self.month_combo.count() - 1)
            index = self.month_combo.findData(keep) if keep else -1
            self.month_combo.setCurrentIndex(index if index >= 0 else max(0, self.month_combo.findData(default)))
        self.month_combo.blockSignals(False)
        self._update_hint()

    def _update_hint(self) -> None:
        convention = self._summary()
        following = convention.next_to_issue(self._today()) if convention else None
        if convention is None:
            text = "Aucune convention : créez-en une dans la page Conventions."
        elif following is None:
            text = "Tous les mois de la convention sont émis." + (
                " Une correction ultérieure se reporte sur l'« État de clôture »." if convention.end else "")
        else:
            text = f"Prochain mois à émettre : {month_in_words(following)} (les mois s'émettent dans l'ordre)."
        self.next_hint.setText(text)

    def _month_changed(self, *_args) -> None:
        key, month = self.selected_convention(), self.selected_month()
        if key is None or month is None:
            self._show(None)
            return
        self._load_ticket += 1
        ticket = self._load_ticket
        self.loading_label.show()
        self._loading += 1
        self._update_buttons()

        uow, user = self._uow, self._user  # the worker thread touches no attribute of the widget

        def work() -> _Loaded:
            if month == CLOSING_DRAFT:
                return _Loaded(get_closing_statement(uow(), user, key), list_issued_summaries(uow(), user, key))
            statement = get_statement(uow(), user, key, month)
            if statement.status == "issued":
                return _Loaded(statement, list_issued_summaries(uow(), user, key),
                               changes=issued_month_changes(uow(), user, key, month))
            return _Loaded(statement, list_issued_summaries(uow(), user, key),
                           undecided=undecided_exceptions(uow(), user, key, month))

        def done(result: _Loaded) -> None:
            self._loading -= 1
            if ticket == self._load_ticket:
                self.loading_label.hide()
                self._changes, self._undecided = result.changes, result.undecided
                self._show(result.statement, result.issued)
            self._update_buttons()

        def failed(exc: BaseException) -> None:
            self._loading -= 1
            self._update_buttons()
            if ticket == self._load_ticket:
                self.loading_label.hide()
                self._show(None)
                show_error(self, exc)

        run_in_background(self, work, done, failed)

    def _issued_double_clicked(self, index) -> None:
        statement = self.issued_model.row_at(self.issued_proxy.mapToSource(index).row())
        self.select(statement.convention, statement.month)

    def _names_toggled(self, checked: bool) -> None:
        self.families_view.setColumnHidden(FamilyDetailsModel.NAME, not checked)
        self._refresh_preview()

    def _tab_changed(self, _index: int) -> None:
        self._fit_summary()
        self._refresh_preview()

    # ------------------------------------------------------------------------------------------ display

    def statement(self) -> Statement | None:
        """The statement on screen."""
        return self._statement

    def _show(self, statement: Statement | None, issued: tuple[IssuedSummary, ...] | None = None) -> None:
        self._statement = statement
        self.lines_model.set_statement(statement)
        self.flags_model.set_statement(statement)
        self.families_model.set_rows(statement.families if statement else ())
        self.intervenants_model.set_rows(statement.intervenants if statement else ())
        if issued is not None:
            self.issued_model.set_rows(issued)
        elif statement is None:
            self.issued_model.set_rows(())
        counts = (len(self.flags_model.rows()), len(self.families_model.rows()), len(self.intervenants_model.rows()),
                  len(self.issued_model.rows()))
        for tab, (title, count) in enumerate(zip(("Signalements", "Détail par famille", "Détail par intervenant",
                                                  "Historique des états émis"), counts)):
            self.tabs.setTabText(tab, f"{title} ({count})")
        if statement is None:
            self.badge.set_state("none", "—")
            self.header_label.setText("")
            self.total_label.setText("")
            self.budget_label.setText("")
            self.families_label.setText("")
            self.flags_summary.setText("")
        else:
            self._show_texts(statement)
        self._update_buttons()
        self._fit_summary()
        self._refresh_preview()
        if statement is not None:
            self.statement_loaded.emit(statement)

    def _fit_summary(self) -> None:
        """Give the summary the height of all its lines when the details keep a useful height."""
        total = sum(self.splitter.sizes())
        if not self.isVisible() or total <= 0:
            return
        view = self.lines_view
        rows = max(self.lines_model.rowCount(), 3)
        table = (view.horizontalHeader().height() + rows * view.verticalHeader().defaultSectionSize()
                 + 2 * view.frameWidth() + 4)
        wanted = self._upper.height() - view.height() + table
        if self.tabs.currentIndex() == self.preview_tab:  # a page of PDF needs height: the summary gives some
            wanted = min(wanted, max(total // 3, self._upper.minimumSizeHint().height()))
        lower = max(total - wanted, min(220, total // 2))
        self.splitter.setSizes([total - lower, lower])

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_summary()

    def _show_texts(self, s: Statement) -> None:
        if s.status == "issued":
            self.badge.set_state("issued", issued_badge_text(s))
        else:
            self.badge.set_state("draft", "PROJET")
        period = f"du {format_date(s.period_start)}" + (f" au {format_date(s.period_end)}" if s.period_end else "")
        imputation = f"<br>Imputation budgétaire : {_html(s.budget_imputation)}" if s.budget_imputation else ""
        if s.closing:
            title = f"{CLOSING_TITLE} n° {_html(s.number)}" if s.number else f"{CLOSING_TITLE} (projet)"
        else:
            title = f"État mensuel {of_month(s.month)}"
        self.header_label.setText(
            f"<b>{title}</b> — {_html(s.partner)}, action {_html(s.action)} "
            f"(convention {_html(s.convention)} {period}){imputation}")
        regularisations = len(s.regularisation_lines)
        plural = "s" if regularisations > 1 else ""
        if s.closing:
            months = ", ".join(month_in_words(m) for m in sorted({l.month for l in s.lines}))
            note = (f"<br><span style='color:#93370d'>{regularisations} ligne{plural} de régularisation : "
                    f"{months}</span>" if regularisations else
                    "<br><span style='color:#93370d'>Aucune régularisation à reporter : les états émis "
                    "correspondent aux données d'aujourd'hui.</span>")
        else:
            note = (f"  <span style='color:#93370d'>(dont {regularisations} ligne{plural} "
                    "de régularisation)</span>") if regularisations else ""
        changed = ""
        changes = self._changes
        if s.status == "issued" and changes is not None and changes.changed:
            told = []
            if changes.lines:
                difference = changes.difference
                convention = self._summary()
                closing = convention is not None and convention.end is not None \
                    and convention.next_to_issue(self._today()) is None
                told.append(f"{'+' if difference > 0 else ''}{format_money(difference)} viendront en régularisation "
                            + ("sur l'état complémentaire de clôture" if closing else "sur le prochain état"))
            if changes.minutes_now != changes.minutes_issued:
                told.append(f"heures réalisées : {format_hours(changes.minutes_now)} aujourd'hui pour "
                            f"{format_hours(changes.minutes_issued)} sur l'état émis"
                            + ("" if changes.lines else ", sans effet sur le montant"))
            changed = ("<br><span style='color:#93370d'>⚠ Les séances de ce mois ont changé depuis l'émission : "
                       f"{' ; '.join(told)}.</span>")
        self.total_label.setText(f"<span style='font-size:14pt'><b>Total TTC : {format_money(s.total)}</b></span>"
                                 f"{note}{changed}")
        budget = (f"Cumul {s.cumulative_label} (états émis et cet état) : "
                  f"<b>{format_money(s.period_to_date)}</b> ")
        if s.budget_cap is None:
            budget += "(convention sans plafond)"
        else:
            share = int(s.period_to_date * 100 / s.budget_cap) if s.budget_cap else 100
            budget += f"sur un plafond de {format_money(s.budget_cap)} ({share} %)"
            if s.over_budget:
                budget += f"<br>⚠ Plafond dépassé de {format_money(s.period_to_date - s.budget_cap)}"
            else:
                budget += f", reste {format_money(s.budget_left)}"
        self.budget_label.setText(budget)
        self.budget_label.setStyleSheet(WARNING_STYLE if s.over_budget else "")
        maximum = f" sur un maximum indicatif de {s.max_families}" if s.max_families is not None else ""
        families = f"Familles orientées {s.cumulative_label} : <b>{s.families_in_period}</b>{maximum}"
        if s.over_capacity:
            families += f"<br>⚠ Maximum dépassé de {s.families_in_period - s.max_families}"
        self.families_label.setText(families)
        self.families_label.setStyleSheet(WARNING_STYLE if s.over_capacity else "")
        left_out = sum(1 for f in s.flags if not f.billed)
        plural = "s" if len(s.flags) > 1 else ""
        if not s.flags:
            flags = "Aucun signalement."
        elif not left_out:
            flags = f"{len(s.flags)} signalement{plural}, sans effet sur le montant : voir l'onglet Signalements."
        else:
            flags = (f"{len(s.flags)} signalement{plural}, dont {left_out} non facturé{'s' if left_out > 1 else ''}"
                     " : voir l'onglet Signalements.")
        self.flags_summary.setText(flags)

    def _set_working(self, delta: int) -> None:
        self._working += delta
        self._update_buttons()

    def _update_buttons(self) -> None:
        s, idle = self._statement, self._working == 0 and self._loading == 0
        convention = self._summary()
        following = convention.next_to_issue(self._today()) if convention else None
        if s is not None and s.closing:
            in_turn = s.status == "draft" and bool(s.lines)
            refusal = "" if in_turn or s.status != "draft" else (
                "Aucune régularisation à reporter : l'état de clôture ne s'émet que s'il porte une correction.")
        else:
            in_turn = s is not None and s.status == "draft" and s.month == following
            refusal = "" if in_turn or s is None or s.status != "draft" or following is None else (
                f"Les mois s'émettent dans l'ordre : émettez d'abord {month_in_words(following)}.")
        self.issue_button.setEnabled(idle and self._is_admin and in_turn)
        if self._is_admin:
            self.issue_button.setToolTip(refusal)
        self.save_button.setEnabled(idle and s is not None)
        self.print_button.setEnabled(idle and s is not None)
        self.convention_combo.setEnabled(self._working == 0)
        self.month_combo.setEnabled(self._working == 0)

    # ------------------------------------------------------------------------------------------ issue

    def confirm_issue(self, statement: Statement) -> bool:
        """Ask before issuing (tests replace this method)."""
        if statement.closing:
            months = ", ".join(month_in_words(m) for m in sorted({l.month for l in statement.lines}))
            box = QMessageBox(QMessageBox.Icon.Warning, f"Émettre l'{CLOSING_TITLE.lower()}",
                              f"Émettre l'{CLOSING_TITLE.lower()} de la convention {statement.convention} "
                              f"({statement.partner}), pour un total de {format_money(statement.total)} TTC ? Il "
                              f"porte les régularisations de : {months}.", QMessageBox.StandardButton.NoButton, self)
        else:
            box = QMessageBox(QMessageBox.Icon.Warning, "Émettre l'état mensuel",
                              f"Émettre l'état {of_month(statement.month)} de la convention "
                              f"{statement.convention} ({statement.partner}), pour un total de "
                              f"{format_money(statement.total)} TTC ?", QMessageBox.StandardButton.NoButton, self)
        cautions = []
        if self._undecided:
            n = len(self._undecided)
            cautions.append(f"⚠ {n} séance{'s' if n > 1 else ''} du mois attend{'ent' if n > 1 else ''} encore la "
                            f"décision de la coordination sur une dérogation ({', '.join(self._undecided[:5])}"
                            f"{'…' if n > 5 else ''}) : émis maintenant, l'état ne les paie pas ; une approbation "
                            "ultérieure viendra en régularisation.")
        if not statement.closing and month_bounds(statement.month)[1] >= self._today():
            cautions.append("⚠ Le mois n'est pas encore terminé : les séances saisies après l'émission viendront en "
                            "régularisation.")
        box.setInformativeText("\n\n".join(cautions + [
            "L'émission est définitive : l'état reçoit son numéro, son PDF est conservé, et il ne pourra plus "
            "être modifié. Une correction ultérieure apparaîtra comme régularisation sur un état suivant."]))
        confirm = box.addButton("Émettre définitivement", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is confirm

    def issue(self) -> None:
        statement = self._statement
        if statement is None or statement.status != "draft" or not self._is_admin:
            return
        if not self.confirm_issue(statement):
            return
        key, month, user, uow = statement.convention, statement.month, self._user, self._uow
        closing = statement.closing

        def work() -> _Loaded:
            if closing:
                issued = issue_closing_statement(uow(), user, key, render_pdf=render_pdf)
            else:
                issued = issue_statement(uow(), user, key, month, render_pdf=render_pdf)
            return _Loaded(issued, list_issued_summaries(uow(), user, key))

        def done(result: _Loaded) -> None:
            self._set_working(-1)
            self._conventions = list_conventions(self._uow(), self._user)
            shown = result.statement.month  # a closing statement: the month it is stored under
            if self.selected_convention() == key:
                self._fill_months(keep=shown)
                if self.selected_month() == shown:
                    self._show(result.statement, result.issued)
            self.statement_issued.emit(result.statement)

        def failed(exc: BaseException) -> None:
            self._set_working(-1)
            show_error(self, exc)

        self._set_working(+1)
        run_in_background(self, work, done, failed,
                          progress_label=f"Émission de l'{CLOSING_TITLE.lower()}…" if closing else
                          f"Émission de l'état {of_month(month)}…")

    # ------------------------------------------------------------------------------------------ PDF

    def choose_pdf_path(self, suggested: str) -> str | None:
        """Ask where to save the PDF (tests replace this method)."""
        folder = Path.home() / "Documents"
        start = str((folder if folder.is_dir() else Path.home()) / suggested)
        path, _filter = QFileDialog.getSaveFileName(self, "Enregistrer le PDF de l'état", start, "PDF (*.pdf)")
        return path or None

    def open_externally(self, path: str) -> bool:
        """Hand a PDF to the system's viewer (tests replace this method)."""
        return QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _pdf_bytes_work(self, statement: Statement, with_names: bool):
        """The PDF to hand out: the stored one of an issued statement (codes only), else rendered now."""
        key, month, uow, user = statement.convention, statement.month, self._uow, self._user
        with_names = with_names and not statement.closing  # a closing statement names no family

        def pdf() -> bytes:
            stored = issued_pdf(uow(), user, key, month) if statement.status == "issued" and not with_names else None
            if with_names:  # the families' names leave the database: written down, as statement --with-names
                record_names_printed(uow(), user, key, month)
            return stored or render_pdf(statement, with_names=with_names)

        return pdf

    def save_pdf(self) -> None:
        statement = self._statement
        if statement is None:
            return
        with_names = self.names_check.isChecked()
        chosen = self.choose_pdf_path(pdf_file_name(statement, with_names))
        if not chosen:
            return
        target = Path(chosen)
        if target.suffix.lower() != ".pdf":
            target = target.with_name(target.name + ".pdf")
        pdf = self._pdf_bytes_work(statement, with_names)

        def work() -> str:
            write_atomically(target, pdf())  # a failure is a FileFault naming the file, in French
            return str(target)

        self._run_pdf(work, self.pdf_saved.emit, "Création du PDF…")

    def print_statement(self) -> None:
        """Print the PDF of the statement (the one of the preview) through the print dialog."""
        statement = self._statement
        if statement is None:
            return
        if pdf_support() is None:
            self._print_with_system_viewer()
            return
        with_names = self.names_check.isChecked()
        if self._preview_for is not None and self._preview_for[0] is statement \
                and self._preview_for[1] == with_names and self.preview.pdf_bytes() is not None:
            self._print(self.preview.pdf_bytes())
            return
        self._run_pdf(self._pdf_bytes_work(statement, with_names), self._print, "Préparation de l'impression…")

    def _print(self, data: bytes) -> None:
        try:
            loaded = LoadedPdf(data)
        except PdfNotReadable:
            show_error(self, NotPrinted("Le PDF de l'état n'a pas pu être lu pour l'impression. Enregistrez-le "
                                        "et imprimez-le depuis votre lecteur de PDF."))
            return
        self._print_pages = loaded.page_count()
        loaded.close()
        printer = self.choose_printer()
        if printer is None:
            return
        self._set_working(+1)
        try:
            pages = print_pdf(data, printer)
        except (OSError, PdfNotReadable) as exc:
            show_error(self, NotPrinted(f"L'impression n'a pas pu être lancée : {exc}. Vérifiez l'imprimante, "
                                        "ou enregistrez le PDF et imprimez-le depuis votre lecteur de PDF."))
            return
        except Exception as exc:  # noqa: BLE001 - logged, and a calm dialog; the page stays usable
            show_error(self, exc)
            return
        finally:
            self._set_working(-1)
        self.statement_printed.emit(pages)

    def _print_with_system_viewer(self) -> None:
        """Without QtPdf, printing is done from the system's PDF viewer: the printed sheet is exactly the PDF."""
        statement = self._statement
        with_names = self.names_check.isChecked()
        pdf = self._pdf_bytes_work(statement, with_names)
        folder = Path(tempfile.gettempdir()) / "parcours-impression"

        def work() -> str:
            folder.mkdir(mode=0o700, exist_ok=True)
            target = folder / pdf_file_name(statement, with_names)
            write_atomically(target, pdf())
            return str(target)

        def opened(path: str) -> None:
            if self.open_externally(path):
                self.pdf_opened.emit(path)
            else:
                show_error(self, PdfNotWritten(
                    f"Aucun lecteur de PDF n'a pu être ouvert. Le PDF est prêt ici : {path} — ouvrez-le et "
                    "imprimez-le depuis votre lecteur de PDF."))

        self._run_pdf(work, opened, "Préparation de l'impression…")

    # ------------------------------------------------------------------------------------------ preview

    def show_preview(self) -> None:
        """Select the "Aperçu PDF" tab (its document then renders in the background)."""
        self.tabs.setCurrentIndex(self.preview_tab)

    def _refresh_preview(self) -> None:
        """Render the PDF of the statement on screen, only while the preview tab is the one shown."""
        if not hasattr(self, "preview"):
            return  # still building the page
        statement, with_names = self._statement, self.names_check.isChecked()
        wanted = (statement, with_names) if statement is not None else None
        if self._preview_for is not None and wanted is not None and self._preview_for[0] is statement \
                and self._preview_for[1] == with_names:
            return  # already shown or under way
        self._preview_ticket += 1
        self._preview_for = None
        if statement is None:
            self.preview.show_note("Aucun état à afficher.")
            return
        if self.tabs.currentIndex() != self.preview_tab or not self.preview.available:
            self.preview.show_note("")  # rendered when the tab is opened
            return
        ticket = self._preview_ticket
        self._preview_for = wanted
        copy = "exemplaire du partenaire, avec les noms" if with_names else "exemplaire du programme"
        self.preview.show_note(f"Préparation de l'aperçu du PDF ({copy})…")
        pdf = self._pdf_bytes_work(statement, with_names)

        def done(data: bytes) -> None:
            if ticket != self._preview_ticket:
                return
            try:
                pages = self.preview.set_pdf(data)
            except PdfNotReadable:
                self._preview_for = None
                self.preview.show_note("L'aperçu du PDF n'a pas pu être affiché. « Enregistrer le PDF… » "
                                       "permet de l'ouvrir dans le lecteur de PDF de l'ordinateur.")
                return
            self.preview_loaded.emit(pages)

        def failed(exc: BaseException) -> None:
            if ticket != self._preview_ticket:
                return
            self._preview_for = None
            reason = exc.message if isinstance(exc, DomainError) else "erreur inattendue, notée dans le journal"
            self.preview.show_note(f"L'aperçu du PDF n'a pas pu être préparé : {reason}")

        run_in_background(self, pdf, done, failed)

    # ------------------------------------------------------------------------------------------ print

    def choose_printer(self) -> QPrinter | None:
        """Ask which printer, how many copies, which pages (tests replace this method). None: cancelled."""
        from PySide6.QtGui import QPageSize
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter  # noqa: F811 - at run time, when printing

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        if self._statement is not None:
            printer.setDocName(pdf_file_name(self._statement, self.names_check.isChecked())[:-4])
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Imprimer l'état mensuel")
        if self._print_pages > 0:
            dialog.setMinMax(1, self._print_pages)
        dialog.setOption(QPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setOption(QPrintDialog.PrintDialogOption.PrintToFile, True)
        return printer if dialog.exec() == QPrintDialog.DialogCode.Accepted else None

    def _run_pdf(self, work, on_done, label: str) -> None:
        def done(result) -> None:
            self._set_working(-1)
            on_done(result)

        def failed(exc: BaseException) -> None:
            self._set_working(-1)
            show_error(self, exc)

        self._set_working(+1)
        run_in_background(self, work, done, failed, progress_label=label)


def _html(text: str | None) -> str:
    return html.escape(text or "")
