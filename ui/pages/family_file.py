"""A family's file: household and guardians, children and their parcours, orientations, sessions, hours, history.

Séances: Entrée or double-clic opens the session in the session form (« Modifier la séance »). Orientations: the
coordination ends a validated orientation (« Terminer… »: date and reason).

Foyer and Enfants: the family's référent and the coordination edit the household, add guardians and children, edit
a child and a parcours (objectives, actions, who referred the child and why, the support profile; a closed one's exit
reason completed for the reports), record the consent and close the file (ui.family_forms); the
coordination alone deletes a file without sessions. Each dialog is based on the record read with the file: a save
after a newer edit is refused (services.versions)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QGridLayout, QHBoxLayout, QLabel, QPushButton, QTabWidget,
                               QVBoxLayout, QWidget)

from services.directory import CurrentUser
from services.families import FamilyFile, family_file
from services.family_records import FamilyRecord, GuardianRecord, delete_family, family_record, remove_guardian
from services.formatting import format_date, format_hours, month_in_words
from services.orientations import end_orientation
from services.parcours import close_parcours, open_parcours, resume_parcours, suspend_parcours
from services.permissions import allowed
from ui.background import run_in_background
from services.record_fields import PRIORITY, SCHOOL_LEVEL, ParcoursDetails
from ui.coded_form import open_coded_form
from ui.family_forms import (DETAILS_OTHERS, EXIT_INTRO, ask_add_child, ask_add_guardian, ask_close_family,
                             ask_consent, ask_edit_child, ask_edit_guardian, ask_edit_household, ask_edit_parcours,
                             closed_banner, details_fields, details_of, exit_fields)
from ui.errors import show_error
from ui.form_dialog import Field, FormDialog, open_form
from ui.pages.page import Page
from ui.session_form import SessionForm, open_session_editor
from ui.table_model import (CENTER, Column, ListModel, RowsModel, collate, count_column, date_column, hours_column,
                            row_of, sorting_proxy, text_column)
from ui.widgets import WARNING_STYLE, confirmed, fit_columns, note_label, table_view, title_label


def _exception_label(s) -> str:
    return s.decision_label  # « À décider », « Approuvée », « Refusée : motif »


def sessions_columns(with_family: bool) -> list[Column]:
    columns = [
        date_column("Date", lambda s: s.date),
        Column("Heure", lambda s: s.start_time.strftime("%H:%M") if s.start_time else "",
               lambda s: s.start_time.strftime("%H:%M") if s.start_time else "", CENTER),
    ]
    if with_family:
        columns.append(text_column("Famille", lambda s: s.family_name))
    columns += [
        text_column("Intervenant·e", lambda s: f"{s.intervenant_name} ({s.qualification})"),
        hours_column("Durée", lambda s: s.duration_minutes),
        text_column("Statut", lambda s: s.status_label),
        Column("Référent·e", lambda s: "présent·e" if s.referent_present else "", lambda s: int(s.referent_present),
               CENTER),
        # the state in the column, its reason (« Refusée : motif ») in the tooltip: the column stays narrow
        Column("Dérogation", lambda s: _exception_label(s).partition(" : ")[0], lambda s: collate(_exception_label(s)),
               tooltip=lambda s: _exception_label(s) or None),
        text_column("Notes", lambda s: (s.notes or "").replace("\n", " · "), tooltip=True),
    ]
    return columns


class ChildrenModel(ListModel):
    NAME, AGE, BIRTH, SCHOOL, CLASS, LEVEL, PARCOURS, START, OBJECTIVES = range(9)
    COLUMNS = (
        text_column("Enfant", lambda c: c.name),
        count_column("Âge", lambda c: c.age),
        date_column("Naissance", lambda c: c.birth_date),
        text_column("École", lambda c: c.school),
        text_column("Classe", lambda c: c.school_class),
        text_column("Niveau", lambda c: _level(c)),
        text_column("Parcours", lambda c: c.current_parcours.status_label if c.current_parcours else "Aucun"),
        date_column("Début", lambda c: c.current_parcours.start_date if c.current_parcours else None),
        text_column("Objectifs / sortie", lambda c: _objectives(c.current_parcours), tooltip=True),
    )


def _objectives(p) -> str:
    if p is None:
        return ""
    if p.status == "closed":
        return f"Clos le {format_date(p.end_date)} : {p.exit_label or ''}"
    return p.objectives or ""


def _level(c) -> str:
    """« Collège · REP+ »: the school level and the school's priority education, as far as known."""
    parts = [SCHOOL_LEVEL.label_of(c.school_level) if c.school_level else "",
             PRIORITY.label_of(c.priority_education) if c.priority_education not in (None, "hors_rep") else ""]
    return " · ".join(part for part in parts if part)


class OrientationsModel(RowsModel):
    def __init__(self, parent=None, with_family: bool = False):
        columns = [text_column("Famille", lambda o: o.family_name)] if with_family else []
        columns += [
            text_column("Action / partenaire", lambda o: o.convention_label),
            date_column("EPS du", lambda o: o.eps_date),
            text_column("Statut", lambda o: o.status_label),
            date_column("Décision", lambda o: o.decided_on),
            text_column("Décidée par", lambda o: o.decided_by_name),
            date_column("Fin", lambda o: o.end_date),
            text_column("Motif", lambda o: o.reason, tooltip=True),
        ]
        super().__init__(columns, parent)


class TotalsModel(RowsModel):
    """Totals (services.activity.Total) under a first column that names them."""

    def __init__(self, first: Column, parent=None):
        super().__init__((first, count_column("Séances réalisées", lambda t: t.sessions),
                          hours_column("Heures", lambda t: t.minutes)), parent)


class FamilyFileView(Page):
    back_requested = Signal()
    file_loaded = Signal(str)  # family id
    new_session_requested = Signal(str)  # family id
    parcours_changed = Signal()
    family_saved = Signal(object)  # what a dialog of ui.family_forms saved
    family_deleted = Signal(str)  # family code

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self.family_id: str | None = None
        self.file: FamilyFile | None = None
        self.record: FamilyRecord | None = None  # what the edit dialogs are based on (read with the file)
        self.referents: tuple = ()  # (label, user id) for the coordination's household dialog (set by the page)
        self.dialog: FormDialog | None = None  # the last edit dialog opened
        self._views = []  # every table of the file, sized to content once loaded

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.back_button = QPushButton("← Retour à la liste", self)
        self.back_button.clicked.connect(self.back_requested)
        top.addWidget(self.back_button)
        top.addStretch()
        self.new_session_button = QPushButton("Nouvelle séance (Ctrl+N)", self)
        self.new_session_button.clicked.connect(lambda: self.family_id and self.new_session_requested.emit(self.family_id))
        self.new_session_button.setVisible(current_user.role in ("referent", "coordinator"))
        top.addWidget(self.new_session_button)
        layout.addLayout(top)
        self.title = title_label("", self, size=20)
        layout.addWidget(self.title)
        self.subtitle = note_label("", self)
        layout.addWidget(self.subtitle)
        self.summary = QLabel(self)
        self.summary.setStyleSheet("background: #eef4ff; border-radius: 4px; padding: 6px 10px;")
        layout.addWidget(self.summary)
        self.consent_warning = QLabel(self)  # services.consent: a family without recorded consent
        self.consent_warning.setObjectName("consentWarning")
        self.consent_warning.setWordWrap(True)
        self.consent_warning.setStyleSheet(WARNING_STYLE + " padding: 6px 10px;")
        self.consent_warning.setVisible(False)
        layout.addWidget(self.consent_warning)
        self.closed_label = QLabel(self)
        self.closed_label.setObjectName("closedFamily")
        self.closed_label.setWordWrap(True)
        self.closed_label.setStyleSheet(WARNING_STYLE + " padding: 6px 10px;")
        self.closed_label.setVisible(False)
        layout.addWidget(self.closed_label)

        self.tabs = QTabWidget(self)
        layout.addWidget(self.tabs, 1)
        self._build_household_tab()
        self._build_children_tab()
        self._build_orientations_tab()
        self.sessions = RowsModel(sessions_columns(with_family=False), self)
        self.sessions_view = None
        self.session_form: SessionForm | None = None
        sessions_tab = self._table_tab(self.sessions, attr="sessions_view")
        self.sessions_view.activated.connect(self.open_session)
        if allowed(current_user, "session.update"):
            sessions_tab.layout().addWidget(note_label("Entrée ou double-clic : modifier la séance.", sessions_tab))
        self.tabs.addTab(sessions_tab, "Séances")
        self._build_hours_tab()
        self.timeline = RowsModel((date_column("Date", lambda e: e.date), text_column("Événement", lambda e: e.label)),
                                  self)
        self.tabs.addTab(self._table_tab(self.timeline, attr="timeline_view"), "Historique")
        for view in (self.sessions_view, self.timeline_view):  # newest first
            view.sortByColumn(0, Qt.SortOrder.DescendingOrder)

    # -- building ---------------------------------------------------------------------------------------------
    def _table_tab(self, model: RowsModel, attr: str | None = None, above: QWidget | None = None) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        if above is not None:
            layout.addWidget(above)
        view = table_view(sorting_proxy(model, tab), tab)
        layout.addWidget(view)
        self._views.append(view)
        if attr:
            setattr(self, attr, view)
        return tab

    def _build_household_tab(self) -> None:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        form = QFormLayout()
        self.household: dict[str, QLabel] = {}
        for key, label in (("address", "Adresse"), ("commune", "Commune"), ("qpv", "Quartier prioritaire"),
                           ("referent", "Référent·e"), ("consent", "Consentement"), ("notes", "Notes")):
            value = QLabel(tab)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.household[key] = value
            form.addRow(f"{label} :", value)
        layout.addLayout(form)
        # two short rows (the household's, the guardians'): one long row would widen the whole window past 1280 px
        self.household_buttons = self._buttons(tab, layout, (
            ("edit", "Modifier le foyer…", self.ask_edit_household, "family.edit"),
            ("consent", "Consentement…", self.ask_consent, "consent.record"),
            ("close", "Clore le dossier…", self.ask_close_family, "family.close"),
            ("delete", "Supprimer le dossier…", self.delete_family, "family.remove")))
        layout.addWidget(title_label("Parents et responsables légaux", tab, size=14))
        self.guardians = RowsModel((text_column("Nom", lambda g: g.name), text_column("Lien", lambda g: g.relationship),
                                    text_column("Téléphone", lambda g: g.phone)), tab)
        guardians_view = table_view(sorting_proxy(self.guardians, tab), tab)
        self.guardians_view = guardians_view
        self._views.append(guardians_view)
        layout.addWidget(guardians_view, 1)
        if allowed(self._user, "family.edit"):
            guardians_view.activated.connect(lambda _index: self.ask_edit_guardian())
        self.household_buttons.update(self._buttons(tab, layout, (
            ("guardian", "Ajouter un responsable…", self.ask_add_guardian, "family.edit"),
            ("edit_guardian", "Modifier le responsable…", self.ask_edit_guardian, "family.edit"),
            ("remove_guardian", "Retirer le responsable…", self.ask_remove_guardian, "family.edit"))))
        self.tabs.addTab(tab, "Foyer")

    def _buttons(self, parent: QWidget, layout, specs) -> dict[str, QPushButton]:
        """A row of buttons, each shown only to the roles allowed its operation."""
        row = QHBoxLayout()
        buttons = {}
        for key, text, slot, operation in specs:
            button = QPushButton(text, parent)
            button.clicked.connect(slot)
            button.setVisible(allowed(self._user, operation))
            buttons[key] = button
            row.addWidget(button)
        row.addStretch()
        layout.addLayout(row)
        return buttons

    def _build_children_tab(self) -> None:
        self.children = ChildrenModel(self)
        actions = QWidget(self)
        row = QHBoxLayout(actions)
        row.setContentsMargins(0, 0, 0, 0)
        self.parcours_buttons = {}
        for key, text, slot in (("open", "Ouvrir un parcours…", self.ask_open_parcours),
                                ("suspend", "Suspendre", self.suspend_selected),
                                ("resume", "Reprendre", self.resume_selected),
                                ("close", "Clore le parcours…", self.ask_close_parcours)):
            button = QPushButton(text, actions)
            button.clicked.connect(slot)
            self.parcours_buttons[key] = button
            row.addWidget(button)
        row.addStretch()
        actions.setVisible(self._user.is_coordinator)
        tab = self._table_tab(self.children, attr="children_view")
        self.child_buttons = self._buttons(tab, tab.layout(), (
            ("add", "Ajouter un enfant…", self.ask_add_child, "family.edit"),
            ("edit", "Modifier l'enfant…", self.ask_edit_child, "family.edit"),
            ("plan", "Modifier le parcours…", self.ask_edit_parcours, "parcours.edit")))
        tab.layout().addWidget(actions)
        self.children_view.selectionModel().currentRowChanged.connect(self._update_parcours_buttons)
        self.tabs.addTab(tab, "Enfants et parcours")

    def _build_orientations_tab(self) -> None:
        self.orientations = OrientationsModel(self)
        tab = self._table_tab(self.orientations, attr="orientations_view")
        self.end_orientation_button = QPushButton("Terminer…", tab)
        self.end_orientation_button.setToolTip("Terminer l'orientation validée sélectionnée (date de fin et motif)")
        self.end_orientation_button.clicked.connect(self.ask_end_orientation)
        self.end_orientation_button.setVisible(self._user.is_coordinator)
        row = QHBoxLayout()
        row.addWidget(self.end_orientation_button)
        row.addStretch()
        tab.layout().addLayout(row)
        self.orientations_view.selectionModel().currentRowChanged.connect(self._update_orientation_button)
        self._update_orientation_button()
        self.tabs.addTab(tab, "Orientations")

    def _build_hours_tab(self) -> None:
        tab = QWidget(self)
        grid = QGridLayout(tab)
        self.hours_by_intervenant = TotalsModel(text_column("Intervenant·e", lambda t: t.name), tab)
        self.hours_by_month = TotalsModel(Column("Mois", lambda t: month_in_words(t.name), lambda t: t.name), tab)
        grid.addWidget(title_label("Par intervenant·e", tab, size=14), 0, 0)
        grid.addWidget(title_label("Par mois", tab, size=14), 0, 1)
        by_intervenant = table_view(sorting_proxy(self.hours_by_intervenant, tab), tab, stretch=0)
        by_month = table_view(sorting_proxy(self.hours_by_month, tab), tab, stretch=0)
        by_month.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        grid.addWidget(by_intervenant, 1, 0)
        grid.addWidget(by_month, 1, 1)
        self._views += [by_intervenant, by_month]
        self.tabs.addTab(tab, "Heures")

    # -- loading ------------------------------------------------------------------------------------------------
    def show_family(self, family_id: str) -> None:
        if family_id != self.family_id:
            self.tabs.setCurrentIndex(0)
        self.family_id = family_id
        self.reload()

    def reload(self) -> None:
        if not self.family_id:
            return
        family_id, user, today, uow = self.family_id, self._user, self._today(), self._uow
        run_in_background(self, lambda: (family_file(uow(), user, family_id, today),
                                         family_record(uow(), user, family_id)), lambda both: self._loaded(*both))

    def _loaded(self, f: FamilyFile, record: FamilyRecord | None = None) -> None:
        if f.id != self.family_id:
            return
        self.file = f
        self.record = record
        self.closed_label.setText(closed_banner(record))
        self.closed_label.setVisible(bool(closed_banner(record)))
        self.household_buttons["close"].setEnabled(record is not None and not record.closed)
        self.household_buttons["delete"].setEnabled(record is not None and not record.has_sessions)
        self.title.setText(f.name)
        self.subtitle.setText(f"{f.commune} · dossier {f.key}" + (" · quartier prioritaire" if f.priority_neighbourhood
                                                                  else ""))
        h = self.household
        h["address"].setText(f.address or "—")
        h["commune"].setText(f.commune)
        h["qpv"].setText((f"Oui — {f.qpv_name}" if f.qpv_name else "Oui") if f.priority_neighbourhood else "Non")
        h["referent"].setText(f.referent_name or "—")
        h["consent"].setText(f"Donné le {format_date(f.consent_date)}" + (f" ({f.consent_scope})" if f.consent_scope
                                                                          else "") if f.consent_date else "Non recueilli")
        h["notes"].setText(f.notes or "—")
        missing = not f.consent_date or not (f.consent_scope or "").strip()  # as consent.families_without_consent
        self.consent_warning.setText("⚠ Consentement parental non recueilli : la date de l'accord de la famille ou "
                                     "son objet n'est pas enregistré." if missing else "")
        self.consent_warning.setVisible(missing)
        # the record's guardians carry their id and version (the file's are for reading only)
        self.guardians.set_rows(record.guardians if record is not None else f.guardians)
        self.children.set_rows(f.children)
        self.orientations.set_rows(f.orientations)
        self.sessions.set_rows(f.sessions)
        self.hours_by_intervenant.set_rows(f.hours.by_intervenant)
        self.hours_by_month.set_rows(f.hours.by_month)
        self.timeline.set_rows(f.timeline)
        for view in self._views:
            fit_columns(view, maximum=420)
        this_month = self._today().strftime("%Y-%m")
        month_minutes = sum(t.minutes for t in f.hours.by_month if t.id == this_month)
        usual = next((s.intervenant_name for s in f.sessions if s.intervenant_id == f.usual_intervenant_id), "—")
        self.summary.setText(f"Heures réalisées : {format_hours(f.hours.total_minutes) if f.hours.lines else '0 h'}"
                             f"   ·   ce mois-ci : {format_hours(month_minutes) if month_minutes else '0 h'}"
                             f"   ·   {len(f.sessions)} séance(s) saisie(s)   ·   intervenant·e habituel·le : {usual}")
        self._update_parcours_buttons()
        self._update_orientation_button()
        self.file_loaded.emit(f.id)

    # -- parcours (coordination) --------------------------------------------------------------------------------
    def selected_child(self):
        return row_of(self.children_view.currentIndex())

    def _update_parcours_buttons(self, *_args) -> None:
        child = self.selected_child()
        status = child.current_parcours.status if child and child.current_parcours else None
        self.parcours_buttons["open"].setEnabled(child is not None and status in (None, "closed"))
        self.parcours_buttons["suspend"].setEnabled(status == "open")
        self.parcours_buttons["resume"].setEnabled(status in ("proposed", "suspended"))
        self.parcours_buttons["close"].setEnabled(status in ("proposed", "open", "suspended"))
        self.child_buttons["edit"].setEnabled(child is not None)
        self.child_buttons["plan"].setEnabled(status is not None)  # a closed one is completed for the reports

    def _after(self, _result=None) -> None:
        self.parcours_changed.emit()
        self.reload()

    def ask_open_parcours(self) -> FormDialog | None:
        child = self.selected_child()
        if child is None:
            return None
        uow, user = self._uow, self._user
        return open_coded_form(self, f"Ouvrir un parcours — {child.name}",
                               [Field("start", "Début", "date", self._today()),
                                Field("objectives", "Objectifs", "multiline"), *details_fields(ParcoursDetails())],
                               lambda v: open_parcours(uow(), user, child.id, v["start"], v["objectives"],
                                                       details=details_of(v)), self._after, others=DETAILS_OTHERS)

    def ask_close_parcours(self) -> FormDialog | None:
        child = self.selected_child()
        if child is None or child.current_parcours is None:
            return None
        uow, user, parcours_id = self._uow, self._user, child.current_parcours.id
        return open_coded_form(self, f"Clore le parcours — {child.name}",
                               [Field("end", "Fin", "date", self._today()), *exit_fields()],
                               lambda v: close_parcours(uow(), user, parcours_id, v["end"], v["exit_reason"],
                                                        v["exit_reason_code"]), self._after,
                               intro=EXIT_INTRO, ok_label="Clore le parcours")

    def suspend_selected(self) -> None:
        self._change(suspend_parcours)

    def resume_selected(self) -> None:
        self._change(lambda uow, user, pid: resume_parcours(uow, user, pid, self._today()))

    def _change(self, verb) -> None:
        child = self.selected_child()
        if child is None or child.current_parcours is None:
            return
        uow, user, parcours_id = self._uow, self._user, child.current_parcours.id
        run_in_background(self, lambda: verb(uow(), user, parcours_id), self._after)

    # -- the family's records (ui.family_forms) ----------------------------------------------------------------
    def _saved(self, result=None) -> None:
        self.family_saved.emit(result)
        self.reload()

    def _opened(self, dialog: FormDialog | None) -> FormDialog | None:
        self.dialog = dialog or self.dialog
        return dialog

    def ask_edit_household(self) -> FormDialog | None:
        if self.record is None:
            return None
        return self._opened(ask_edit_household(self, self._uow, self._user, self.record, self.referents, self._saved))

    def ask_add_guardian(self) -> FormDialog | None:
        if self.record is None:
            return None
        return self._opened(ask_add_guardian(self, self._uow, self._user, self.record, self._saved))

    def selected_guardian(self):
        row = row_of(self.guardians_view.currentIndex())
        return row if isinstance(row, GuardianRecord) else None

    def ask_edit_guardian(self) -> FormDialog | None:
        guardian = self.selected_guardian()
        if guardian is None or self.record is None:
            return None
        return self._opened(ask_edit_guardian(self, self._uow, self._user, self.record, guardian, self._saved))

    def confirm_remove_guardian(self, guardian) -> bool:
        """Ask before removing (tests replace this method)."""
        return confirmed(self, "Retirer le responsable légal",
                         f"Retirer {guardian.name} des responsables légaux de {self.record.name} ?")

    def ask_remove_guardian(self) -> None:
        guardian = self.selected_guardian()
        if guardian is None or self.record is None or not self.confirm_remove_guardian(guardian):
            return
        uow, user = self._uow, self._user
        run_in_background(self, lambda: remove_guardian(uow(), user, guardian.id, guardian.updated_at), self._saved,
                          lambda exc: show_error(self, exc))

    def ask_consent(self) -> FormDialog | None:
        f = self.file
        if f is None:
            return None
        return self._opened(ask_consent(self, self._uow, self._user, f.key, f.name, f.consent_date, f.consent_scope,
                                        self._today, self._saved))

    def ask_close_family(self) -> FormDialog | None:
        if self.record is None or self.record.closed:
            return None
        return self._opened(ask_close_family(self, self._uow, self._user, self.record, self._today, self._saved))

    def ask_add_child(self) -> FormDialog | None:
        if self.record is None:
            return None
        return self._opened(ask_add_child(self, self._uow, self._user, self.record, self._today, self._saved))

    def _selected_child_record(self):
        child = self.selected_child()
        if child is None or self.record is None:
            return None
        return next((c for c in self.record.children if c.id == child.id), None)

    def ask_edit_child(self) -> FormDialog | None:
        child = self._selected_child_record()
        if child is None:
            return None
        return self._opened(ask_edit_child(self, self._uow, self._user, child, self._today, self._saved))

    def ask_edit_parcours(self) -> FormDialog | None:
        child = self._selected_child_record()
        plan = self.record.current_parcours(child.id) if child is not None else None
        if plan is None:
            return None
        return self._opened(ask_edit_parcours(self, self._uow, self._user, child.name, plan, self._saved))

    def confirm_delete(self) -> bool:
        """Ask before deleting (tests replace this method)."""
        return confirmed(self, "Supprimer le dossier",
                         f"Supprimer définitivement le dossier de la {self.record.name} ({self.record.key}), ses "
                         "responsables, ses enfants et leurs parcours ? Cette suppression ne peut pas être annulée.")

    def delete_family(self) -> None:
        if self.record is None or not self.confirm_delete():
            return
        uow, user, family_id, based_on = self._uow, self._user, self.record.id, self.record.updated_at
        run_in_background(self, lambda: delete_family(uow(), user, family_id, based_on),
                          lambda deleted: self.family_deleted.emit(deleted.key))

    # -- sessions: correcting one -------------------------------------------------------------------------------
    def open_session(self, index) -> SessionForm | None:
        form = open_session_editor(self, self._uow, self._user, row_of(index), self._today, self.reload,
                                   already_open=self.session_form)
        self.session_form = form or self.session_form
        return form

    # -- orientations (coordination) ----------------------------------------------------------------------------
    def selected_orientation(self):
        return row_of(self.orientations_view.currentIndex())

    def _update_orientation_button(self, *_args) -> None:
        o = self.selected_orientation()
        self.end_orientation_button.setEnabled(o is not None and o.status == "validated")

    def ask_end_orientation(self) -> FormDialog | None:
        o = self.selected_orientation()
        if o is None or o.status != "validated":
            return None
        uow, user, orientation_id = self._uow, self._user, o.id
        return open_form(self, f"Terminer l'orientation — {o.convention_label}",
                         [Field("end", "Fin", "date", self._today()), Field("reason", "Motif", "multiline")],
                         lambda v: end_orientation(uow(), user, orientation_id, v["end"], v["reason"]),
                         lambda _row: self.reload(),
                         intro=f"Orientation validée le {format_date(o.decided_on)}. Les séances restent "
                               "couvertes jusqu'à la date de fin incluse.", ok_label="Terminer")
