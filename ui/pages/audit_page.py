"""Coordination › Journal d'audit: who did what to which record, when — filtered by period, user, action and kind
of record (services.audit.list_entries does the filtering), then sorted and searched in the list.

The log holds record keys (a family's code, a login) and the NAMES of the fields that changed, never their values:
nothing here shows a family's data.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from services.audit import AuditRecord, list_entries
from services.directory import CurrentUser, list_users
from services.formatting import format_date
from services.permissions import SYSTEM
from ui.background import run_in_background
from ui.pages.page import Page
from ui.table_model import Column, RowsModel, sorting_proxy, text_column
from ui.date_field import DateField
from ui.widgets import (fit_columns, heading_row, message_label, note_label, search_field, show_messages,
                        table_view)

LIMIT = 1000
DEFAULT_DAYS = 30
BEFORE_LOGIN = "Avant connexion"  # actor None: a failed login, the first start
COMMAND_LINE = "Ligne de commande"

ACTION_LABELS = {
    "login": "Connexion",
    "login_failed": "Connexion refusée (mot de passe)",
    "login_refused": "Connexion refusée (compte désactivé)",
    "change_password": "Mot de passe changé",
    "disable": "Désactivation",
    "create": "Création",
    "update": "Modification",
    "record_consent": "Consentement enregistré",
    "open": "Ouverture",
    "read": "Consultation",
    "suspend": "Suspension",
    "resume": "Reprise",
    "close": "Clôture",
    "propose": "Proposition",
    "validate": "Validation",
    "reject": "Refus",
    "approve_exception": "Dérogation approuvée",
    "refuse_exception": "Dérogation refusée",
    "issue": "Émission",
    "import": "Import de données",
    "export": "Export de données",
    "access_export": "Export du droit d'accès",
    "anonymise": "Anonymisation",
    "purge": "Purge du journal",
    "revoke": "Révocation d'un poste",
}
RECORD_TYPE_LABELS = {
    "user": "Compte utilisateur",
    "login_name": "Identifiant inconnu",  # its key is a hash of what was typed, never the text
    "family": "Famille",
    "parcours": "Parcours",
    "home_session": "Séance à domicile",
    "family_hours": "Heures d'une famille",
    "activity": "Heures du mois",
    "exception": "Séances à valider (dérogations)",
    "eps_meeting": "Séance d'EPS",
    "eps_situation": "Situation en EPS",
    "orientation": "Orientation",
    "convention": "Convention",
    "partner": "Partenaire",
    "intervenant": "Intervenant·e",
    "statement": "État mensuel",
    "statement_names": "État mensuel avec les noms des familles",
    "dataset": "Données du programme",
    "audit_log": "Journal d'audit",
    "device": "Poste (serveur d'équipe)",
}


def local_time(moment: datetime) -> datetime:
    return moment.astimezone()  # stored in UTC, read in the computer's time zone


def day_start(day: date) -> datetime:
    """Local midnight of `day`, as an aware datetime (list_entries compares in UTC)."""
    return datetime.combine(day, time.min).astimezone()


class AuditModel(RowsModel):
    AT, USER, ACTION, RECORD_TYPE, RECORD_KEY, FIELDS = range(6)

    def __init__(self, parent=None):
        self.user_names: dict[str, str] = {}
        super().__init__((
            Column("Date et heure",
                   lambda e: f"{format_date(local_time(e.at).date())} {local_time(e.at):%H:%M:%S}",
                   lambda e: e.at.isoformat()),
            text_column("Utilisateur", self.user_label),
            text_column("Action", lambda e: ACTION_LABELS.get(e.action, e.action)),
            text_column("Objet", lambda e: RECORD_TYPE_LABELS.get(e.record_type, e.record_type)),
            text_column("Référence", lambda e: e.record_key),
            text_column("Champs modifiés", lambda e: ", ".join(e.changed_fields), tooltip=True),
        ), parent)

    def user_label(self, entry: AuditRecord) -> str:
        if entry.actor_key is None:
            return BEFORE_LOGIN
        if entry.actor_key == SYSTEM.key:
            return COMMAND_LINE
        name = self.user_names.get(entry.actor_key)
        return f"{name} ({entry.actor_key})" if name else entry.actor_key


class AuditPage(Page):
    entries_loaded = Signal()

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self._generation = 0
        self._users_loaded = False
        layout = QVBoxLayout(self)
        self.count_label = QLabel(self)
        heading_row(layout, "Journal d'audit", self).addWidget(self.count_label)
        layout.addWidget(note_label(
            "Qui a fait quoi, et quand : connexions, comptes, saisies et décisions, consentements, exports, "
            "anonymisations. Le journal garde le nom des champs modifiés, jamais leur contenu.", self))

        filters = QGridLayout()
        first = today()
        self.since = DateField(first - timedelta(days=DEFAULT_DAYS), self)
        self.until = DateField(first, self)
        self.period_message = message_label(self)
        self.user_filter = self._combo("Tous les utilisateurs")
        self.action_filter = self._combo("Toutes les actions", ACTION_LABELS)
        self.type_filter = self._combo("Tous les objets", RECORD_TYPE_LABELS)
        period = QHBoxLayout()
        period.addWidget(self.since)
        period.addWidget(QLabel("au", self))
        period.addWidget(self.until)
        period.addStretch()
        filters.addWidget(QLabel("Du", self), 0, 0)
        filters.addLayout(period, 0, 1)
        filters.addWidget(self.period_message, 2, 1, 1, 3)
        filters.addWidget(QLabel("Utilisateur", self), 0, 2)
        filters.addWidget(self.user_filter, 0, 3)
        filters.addWidget(QLabel("Action", self), 1, 0)
        filters.addWidget(self.action_filter, 1, 1)
        filters.addWidget(QLabel("Objet", self), 1, 2)
        filters.addWidget(self.type_filter, 1, 3)
        filters.setColumnStretch(1, 1)
        filters.setColumnStretch(3, 1)
        layout.addLayout(filters)

        self.model = AuditModel(self)
        self.proxy = sorting_proxy(self.model, self)
        self.search = search_field(self.proxy, "Rechercher dans la liste (identifiant, code de famille, champ…)",
                                   self)
        layout.addWidget(self.search)
        self.view = table_view(self.proxy, self, stretch=AuditModel.FIELDS)
        self.view.sortByColumn(AuditModel.AT, Qt.SortOrder.DescendingOrder)  # newest first
        layout.addWidget(self.view, 1)
        for edit in (self.since, self.until):
            edit.date_changed.connect(self.refresh)
            edit.editingFinished.connect(self._check_period)
        for combo in (self.user_filter, self.action_filter, self.type_filter):
            combo.currentIndexChanged.connect(self.refresh)

    def _combo(self, everything: str, labels: dict[str, str] | None = None) -> QComboBox:
        combo = QComboBox(self)
        combo.addItem(everything, None)
        for value, label in (labels or {}).items():
            combo.addItem(label, value)
        combo.setMinimumWidth(220)
        return combo

    # -- loading ------------------------------------------------------------------------------------------------
    def _check_period(self) -> None:
        """An unreadable date of the period is said under it (the list keeps the last period it could read)."""
        problems = [f"{label} : {edit.error()}" for label, edit in (("Du", self.since), ("Au", self.until))
                    if edit.error()]
        show_messages(self.period_message, problems, [])

    def filters(self) -> dict:
        self._check_period()
        since, until = self.since.last_date(), self.until.last_date()
        return {"actor_key": self.user_filter.currentData(), "action": self.action_filter.currentData(),
                "record_type": self.type_filter.currentData(),
                "since": day_start(since) if since else None,
                "until": day_start(until + timedelta(days=1)) if until else None}

    def refresh(self) -> None:
        self._generation += 1
        generation, uow, user, filters = self._generation, self._uow, self._user, self.filters()
        with_users = not self._users_loaded

        def load():
            users = list_users(uow(), active_only=False) if with_users else None
            return generation, users, list_entries(uow(), user, limit=LIMIT, **filters)

        run_in_background(self, load, self._loaded)

    def _loaded(self, result) -> None:
        generation, users, entries = result
        if users is not None and not self._users_loaded:
            self._users_loaded = True
            self.model.user_names = {u.key: u.name for u in users}
            self.user_filter.blockSignals(True)
            for u in users:
                self.user_filter.addItem(f"{u.name} ({u.key})", u.key)
            self.user_filter.blockSignals(False)
        if generation != self._generation:
            return  # the filters changed meanwhile: a newer list is on its way
        self.model.set_rows(entries)
        fit_columns(self.view)
        n = len(entries)
        text = f"{n} entrée{'s' if n > 1 else ''}"
        self.count_label.setText(f"les {LIMIT} plus récentes — affinez les filtres" if n >= LIMIT else text)
        self.entries_loaded.emit()
