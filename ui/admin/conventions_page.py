"""Conventions: the administrator's partners, intervenants and conventions (tariffs, period-end months, cap).

Lists on the left, the selected convention's form on the right. Saves are single short writes and run on the
GUI thread; every refusal comes back from the service in French and is shown next to its field.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMessageBox, QPushButton, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from services.conventions_admin import (FLAT, TARIFF_KINDS, ConventionLocked, ConventionSummary,
                                        InvalidFields, add_amendment, create_convention,
                                        create_intervenant, create_partner, list_actions, list_conventions,
                                        known_qualifications, list_intervenants, list_partners,
                                        regularisation_warning, remove_amendment, rename_partner,
                                        update_convention, update_intervenant, zero_amounts)
from services.errors import DomainError
from services.formatting import format_date
from services.programme_settings import MISSING as PROGRAMME_MISSING
from services.programme_settings import ZONE_LABELS, get_programme, save_programme
from ui.admin.convention_editor import ConventionEditor
from ui.admin.convention_editor import amount_text
from ui.admin.dialogs import AmendmentDialog, IntervenantDialog, PartnerDialog
from ui.admin.table_models import ConventionsModel, IntervenantsModel, PartnersModel, kind_label
from ui.admin.widgets import source_row, table_view
from ui.qpv_dialog import open_qpv_dialog
from ui.errors import show_error
from ui.form_dialog import Field, FormDialog, open_form
from ui.widgets import WARNING_STYLE, confirmed

ADMINISTRATOR = "administrator"


class ConventionsPage(QWidget):
    convention_saved = Signal(object)  # ConventionSummary
    partner_saved = Signal(object)  # PartnerSummary
    intervenant_saved = Signal(object)  # IntervenantSummary

    def __init__(self, uow_factory, current_user, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(parent)
        self._today = today
        self.setObjectName("conventionsPage")
        self._uow = uow_factory
        self._user = current_user
        self._is_admin = getattr(current_user, "role", None) == ADMINISTRATOR
        self._partners = ()
        self._programme = None
        self._actions = ()
        self._build()
        self.reload()

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.conventions_model = ConventionsModel(self)
        self.conventions_view, self.conventions_proxy = table_view(self.conventions_model,
                                                                   stretch=ConventionsModel.PARTNER, parent=self)
        self.conventions_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.new_convention_button = QPushButton("Nouvelle convention")
        self.partners_model = PartnersModel(self)
        self.partners_view, self.partners_proxy = table_view(self.partners_model, stretch=PartnersModel.NAME,
                                                             sort_column=0, parent=self)
        self.new_partner_button = QPushButton("Nouveau partenaire…")
        self.edit_partner_button = QPushButton("Renommer…")
        self.intervenants_model = IntervenantsModel(self)
        self.intervenants_view, self.intervenants_proxy = table_view(self.intervenants_model,
                                                                     stretch=IntervenantsModel.NAME, sort_column=0,
                                                                     parent=self)
        self.new_intervenant_button = QPushButton("Nouvel intervenant…")
        self.edit_intervenant_button = QPushButton("Modifier…")

        self.tabs = QTabWidget()
        self.tabs.addTab(self._list_tab(self.conventions_view, self.new_convention_button), "Conventions")
        self.tabs.addTab(self._list_tab(self.partners_view, self.new_partner_button, self.edit_partner_button),
                         "Partenaires")
        self.tabs.addTab(self._list_tab(self.intervenants_view, self.new_intervenant_button,
                                        self.edit_intervenant_button), "Intervenants")

        self.editor = ConventionEditor(today=self._today)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.editor)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([400, 600])
        layout = QVBoxLayout(self)
        programme_row = QHBoxLayout()
        self.programme_label = QLabel()
        self.programme_label.setObjectName("programmeLabel")
        self.programme_label.setWordWrap(True)
        self.programme_button = QPushButton("Programme…")
        self.programme_button.setObjectName("programmeButton")
        self.programme_button.setEnabled(self._is_admin)
        self.programme_button.clicked.connect(self.open_programme_dialog)
        # the programme's QPV names, offered by the household form and counted by the bilans
        self.qpv_button = QPushButton("Quartiers prioritaires (QPV)…")
        self.qpv_button.setObjectName("qpvButton")
        self.qpv_button.setEnabled(self._is_admin)
        self.qpv_button.clicked.connect(lambda: open_qpv_dialog(self, self._uow, self._user))
        programme_row.addWidget(self.programme_label, 1)
        programme_row.addWidget(self.programme_button)
        programme_row.addWidget(self.qpv_button)
        layout.addLayout(programme_row)
        layout.addWidget(splitter)

        self.conventions_view.selectionModel().currentRowChanged.connect(self._convention_selected)
        self.new_convention_button.clicked.connect(self.new_convention)
        self.new_partner_button.clicked.connect(lambda: self.open_partner_dialog())
        self.edit_partner_button.clicked.connect(self._edit_selected_partner)
        self.partners_view.doubleClicked.connect(lambda _i: self._edit_selected_partner())
        self.new_intervenant_button.clicked.connect(lambda: self.open_intervenant_dialog())
        self.edit_intervenant_button.clicked.connect(self._edit_selected_intervenant)
        self.intervenants_view.doubleClicked.connect(lambda _i: self._edit_selected_intervenant())
        self.editor.save_requested.connect(self.save_convention)
        self.editor.revert_requested.connect(self._revert)
        self.editor.amendment_requested.connect(self.open_amendment_dialog)
        self.editor.amendment_edit_requested.connect(self.open_amendment_dialog)
        self.editor.amendment_remove_requested.connect(self.remove_amendment)
        for button in (self.new_convention_button, self.new_partner_button, self.edit_partner_button,
                       self.new_intervenant_button, self.edit_intervenant_button):
            button.setEnabled(self._is_admin)
            if not self._is_admin:
                button.setToolTip("Réservé à l'administrateur ou l'administratrice.")

    # ------------------------------------------------------------------------------------------ programme

    def _show_programme(self) -> None:
        self._programme = get_programme(self._uow(), self._user)
        p = self._programme
        if p is None:
            self.programme_label.setText("⚠ " + PROGRAMME_MISSING)
            self.programme_label.setStyleSheet(WARNING_STYLE)
        else:
            city = f", {p.city}" if p.city else ""
            self.programme_label.setText(f"Programme : <b>{html.escape(p.name)}</b>{html.escape(city)} — "
                                         f"vacances scolaires de la zone {p.holiday_zone}")
            self.programme_label.setStyleSheet("")

    def open_programme_dialog(self) -> FormDialog:
        """Name, city and school-holiday zone of the programme (returned for tests)."""
        p = self._programme
        uow, user, based_on = self._uow, self._user, p.updated_at if p else None
        fields = [Field("name", "Nom du programme", default=p.name if p else ""),
                  Field("city", "Ville", default=(p.city or "") if p else ""),
                  Field("holiday_zone", "Vacances scolaires", "choice", default=p.holiday_zone if p else "A",
                        choices=tuple((label, zone) for zone, label in ZONE_LABELS.items()))]
        return open_form(self, "Programme", fields,
                         lambda v: save_programme(uow(), user, v["name"], v["city"], v["holiday_zone"],
                                                  based_on=based_on),
                         lambda _saved: self._show_programme(),
                         intro="Le nom et la ville figurent sur chaque état mensuel ; la zone de vacances décide "
                               "des séances qui demandent une dérogation.")

    @staticmethod
    def _list_tab(view, *buttons) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(view)
        return tab

    # ------------------------------------------------------------------------------------------ data

    def refresh(self) -> None:
        """Called by the main window each time the page is shown; what is being typed is kept."""
        self.reload(keep_form=self.editor.is_modified())

    def reload(self, select: str | None = None, keep_form: bool = False) -> None:
        """Read the lists again and show the convention `select` (by default, the one shown). With `keep_form`
        the form keeps what is being typed and only its lists of partners and actions are refreshed."""
        try:
            self._partners = list_partners(self._uow(), self._user)
            self._actions = list_actions(self._uow(), self._user)
            conventions = list_conventions(self._uow(), self._user)
            intervenants = list_intervenants(self._uow(), self._user)
        except Exception as exc:  # noqa: BLE001 - shown calmly, the page stays usable
            show_error(self, exc)
            return
        self._show_programme()
        current = select or (self.editor.summary().key if self.editor.summary() else None)
        self.partners_model.set_rows(self._partners)
        self.intervenants_model.set_rows(intervenants)
        self.conventions_model.set_rows(conventions)
        self.tabs.setTabText(0, f"Conventions ({len(conventions)})")
        self.tabs.setTabText(1, f"Partenaires ({len(self._partners)})")
        self.tabs.setTabText(2, f"Intervenants ({len(intervenants)})")
        if keep_form:
            self.editor.set_choices(self._partners, self._actions)
            self.select_convention(current, load=False)
        elif not self.select_convention(current) and conventions:
            self.select_convention(self.conventions_model.row_at(0).key)
        elif not conventions:
            self.editor.load(None, self._partners, self._actions, read_only=not self._is_admin)

    def select_convention(self, key: str | None, load: bool = True) -> bool:
        """Select the convention in the list and (unless `load` is False) show it in the form."""
        for row, c in enumerate(self.conventions_model.rows()):
            if c.key == key:
                index = self.conventions_proxy.mapFromSource(self.conventions_model.index(row, 0))
                self.conventions_view.selectionModel().blockSignals(True)
                self.conventions_view.setCurrentIndex(index)
                self.conventions_view.selectRow(index.row())
                self.conventions_view.selectionModel().blockSignals(False)
                if load:
                    self._show_convention(c)
                return True
        return False

    def _convention_selected(self, current, _previous) -> None:
        if not current.isValid():
            return
        convention = self.conventions_model.row_at(self.conventions_proxy.mapToSource(current).row())
        shown = self.editor.summary()
        if shown is not None and shown.key == convention.key:
            return
        if self.editor.is_modified() and not self.confirm_discard():
            return
        self._show_convention(convention)

    def _show_convention(self, convention: ConventionSummary | None) -> None:
        self.editor.load(convention, self._partners, self._actions, read_only=not self._is_admin)

    def confirm_zero_amounts(self, names: tuple[str, ...]) -> bool:
        """Ask before saving amounts of 0,00 (tests replace this method)."""
        return confirmed(self, "Montant à 0,00 €",
                         f"{', '.join(names).capitalize()} {'vaut' if len(names) == 1 else 'valent'} 0,00 €. "
                         "Une prestation à ce montant ne sera jamais payée. Enregistrer quand même ?",
                         QMessageBox.StandardButton.Save, QMessageBox.StandardButton.Cancel)

    def confirm_discard(self) -> bool:
        """Ask before dropping unsaved changes of the form (tests replace this method)."""
        return confirmed(self, "Modifications non enregistrées",
                         "La convention affichée a des modifications non enregistrées. Les abandonner ?",
                         QMessageBox.StandardButton.Discard, QMessageBox.StandardButton.Cancel)

    def new_convention(self) -> None:
        if self.editor.is_modified() and not self.confirm_discard():
            return
        self.conventions_view.clearSelection()
        self.editor.load(None, self._partners, self._actions)
        self.tabs.setCurrentIndex(0)
        self.editor.key_edit.setFocus()

    def _revert(self) -> None:
        self._show_convention(self.editor.summary())

    # ------------------------------------------------------------------------------------------ writes

    def save_convention(self) -> ConventionSummary | None:
        """Save the form; a refusal is shown next to its field (or in the banner when the convention is frozen)."""
        editor = self.editor
        try:
            data = editor.values()  # an unreadable date is refused here, next to its field
            zeros = zero_amounts(data)
            if zeros and not self.confirm_zero_amounts(zeros):
                return None
            if editor.is_new():
                saved = create_convention(self._uow(), self._user, data)
            else:
                saved = update_convention(self._uow(), self._user, editor.summary().key, data)
        except InvalidFields as exc:
            editor.show_problems(exc.problems)
            return None
        except ConventionLocked as exc:
            editor.show_problems({})
            editor.set_lock_message(exc.message)
            show_error(self, exc)
            return None
        except DomainError as exc:
            editor.show_problems({exc.field or "": exc.message})
            show_error(self, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - logged and shown calmly
            show_error(self, exc)
            return None
        self.reload(select=saved.key)
        self.convention_saved.emit(saved)
        return saved

    def open_amendment_dialog(self, replacing: date | None = None) -> AmendmentDialog | None:
        """« Nouvel avenant… » for the convention shown: its start and its tariffs, filled with the latest ones; with
        `replacing` (« Modifier l'avenant… »), that avenant's start and tariffs, saved in its place."""
        convention = self.editor.summary()
        if convention is None or not self._is_admin:
            return None
        versions = convention.tariff_versions
        shown = next((v for v in versions if v.start == replacing), None) if replacing else (
            versions[-1] if versions else None)
        current = {(t.qualification, t.kind): amount_text(t.unit_price) for t in (shown.tariffs if shown else ())}
        key = convention.key
        dialog = AmendmentDialog(
            lambda start, tariffs: add_amendment(self._uow(), self._user, key, start, tariffs, replacing=replacing),
            current, tuple((k, kind_label(k)) for k in TARIFF_KINDS), convention.qualifications,
            replacing or self._today(), self, flat=(FLAT, kind_label(FLAT[1])), replacing=replacing is not None)
        dialog.saved.connect(lambda saved: self.reload(select=saved.key))
        dialog.saved.connect(self.convention_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def confirm_remove_amendment(self, start: date) -> bool:
        """Ask before withdrawing an avenant (tests replace this method)."""
        return confirmed(self, "Retirer l'avenant",
                         f"Retirer l'avenant du {format_date(start)} ? Les tarifs en vigueur avant lui "
                         "continueront de s'appliquer.", QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No)

    def remove_amendment(self, start: date | None) -> ConventionSummary | None:
        convention = self.editor.summary()
        if convention is None or start is None or not self._is_admin or not self.confirm_remove_amendment(start):
            return None
        try:
            saved = remove_amendment(self._uow(), self._user, convention.key, start)
        except Exception as exc:  # noqa: BLE001 - a refusal (an issued month meanwhile) said in French, else logged
            show_error(self, exc)
            return None
        self.reload(select=saved.key)
        self.convention_saved.emit(saved)
        return saved

    def open_partner_dialog(self, partner=None) -> PartnerDialog:
        dialog = PartnerDialog(lambda key, name: create_partner(self._uow(), self._user, key, name),
                               lambda key, name: rename_partner(self._uow(), self._user, key, name),
                               partner, self)
        dialog.saved.connect(self._partner_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_intervenant_dialog(self, intervenant=None) -> IntervenantDialog:
        dialog = IntervenantDialog(lambda data: create_intervenant(self._uow(), self._user, data),
                                   lambda key, data: update_intervenant(self._uow(), self._user, key, data),
                                   self._partners, intervenant, self,
                                   warn=lambda key, data: regularisation_warning(self._uow(), self._user, key, data),
                                   today=self._today,
                                   qualifications=known_qualifications(self._uow(), self._user))
        dialog.saved.connect(self._intervenant_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _edit_selected_partner(self) -> None:
        row = source_row(self.partners_view, self.partners_proxy)
        if row is not None and self._is_admin:
            self.open_partner_dialog(self.partners_model.row_at(row))

    def _edit_selected_intervenant(self) -> None:
        row = source_row(self.intervenants_view, self.intervenants_proxy)
        if row is not None and self._is_admin:
            self.open_intervenant_dialog(self.intervenants_model.row_at(row))

    def _partner_saved(self, partner) -> None:
        self.reload(keep_form=True)
        self.partner_saved.emit(partner)

    def _intervenant_saved(self, intervenant) -> None:
        self.reload(keep_form=True)
        self.intervenant_saved.emit(intervenant)
