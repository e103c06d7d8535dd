"""Issue 8, the proof: each role's day from an EMPTY store, in the window (offscreen), keyboard first.

The whole team goes through the application controller (ui.app.AppController) as on a real computer: the welcome
window, the first administrator, then « Changer d'utilisateur » and the login dialog for each role.

1. The administrator creates the first account, names the programme (zone A), enters the partner, an AES and a
   TISF intervenant, the convention with its tariffs (from 1 April 2025: April is the first month to issue), and
   the accounts of a coordinator and a référent.
2. The coordinator creates two families (the référent follows them), two children and a parcours, records the
   consent, holds an EPS meeting, proposes the first family's orientation and validates it in « À valider ».
3. The référent logs April's sessions with the keyboard: one in the Easter holidays of zone A (19/04-04/05/2025),
   two in one ISO week (the second entered is the first of the week: the warning names the other one), one for the
   family without orientation (warned, saved); then sees which wait for a decision.
4. The coordinator approves one dérogation and refuses the other; the référent sees the decisions.
5. The administrator issues April (warned of undecided dérogations when some remain); a later correction in April
   is then marked on the issued month.

Each test starts from an empty store and builds the earlier steps through the window (the helpers assert as they
go, so a failing step names itself).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from services.formatting import format_money
from ui.app import AppController
from ui.login import FirstAdministratorDialog, LoginDialog
from ui.main_window import MainWindow
from ui.welcome import WelcomeWindow

TODAY = date(2025, 5, 6)  # the day after the Easter holidays of zone A: April 2025 is over, to be issued
PASSWORD = "cheval-agrafe-pile"
WAIT = 15_000
TAB, RETURN, SPACE = Qt.Key.Key_Tab, Qt.Key.Key_Return, Qt.Key.Key_Space

ADMIN, COORD, REF = "a.fabre", "s.rousseau", "c.bernard"
TARIFFS = {("AES", "home_intervention"): "30,00", ("AES", "weekly_preparation"): "15,00",
           ("AES", "launch_meeting"): "30,00", ("AES", "period_end_meeting"): "30,00",
           ("TISF", "home_intervention"): "56,13", ("TISF", "weekly_preparation"): "28,07",
           ("TISF", "launch_meeting"): "56,13", ("TISF", "period_end_meeting"): "56,13"}


@dataclass
class Team:
    """The application on this computer, and what the day has produced so far."""
    app: AppController
    sessions: dict[str, object] = field(default_factory=dict)  # "10/04" -> the SessionRow saved

    @property
    def window(self) -> MainWindow:
        assert isinstance(self.app.window, MainWindow), type(self.app.window).__name__
        return self.app.window


@pytest.fixture
def team(qtbot, uow, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    app = AppController(uow, "", settings=settings, lock_delay_ms=3_600_000, today=lambda: TODAY)
    yield Team(app)
    if app.window is not None:
        app.window.close()


# -- small keyboard helpers -------------------------------------------------------------------------------------
def _keys(qtbot, widget, text: str) -> None:
    """Type `text` key by key; QTest types ASCII only, so an accented letter is sent as the key event a French
    keyboard produces (its text, no key code)."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def _type(qtbot, widget, text: str) -> None:
    """Replace what the field holds by `text`, as a user does: focus, select it all, type."""
    widget.setFocus()
    if hasattr(widget, "selectAll"):
        widget.selectAll()
    _keys(qtbot, widget, text)


def _tab(qtbot, dialog, expected=None):
    qtbot.keyClick(dialog.focusWidget(), TAB)
    if expected is not None:
        assert dialog.focusWidget() is expected, dialog.focusWidget().objectName()
    return dialog.focusWidget()


def _row(view, column: int, text: str) -> int:
    model = view.model()
    return next(r for r in range(model.rowCount()) if model.index(r, column).data() == text)


def _cell(view, row: int, column: int, role=Qt.ItemDataRole.DisplayRole):
    return view.model().index(row, column).data(role)


def _shown(qtbot, app, kind):
    widget = app.window
    assert isinstance(widget, kind), type(widget).__name__
    # Not qtbot.addWidget: the controller deletes each window it replaces (deleteLater), and qtbot would close a
    # deleted one at teardown; the `team` fixture closes the window still up.
    if isinstance(widget, MainWindow):
        qtbot.waitExposed(widget)
        widget.activateWindow()
    return widget


def _log_in(qtbot, team: Team, key: str) -> MainWindow:
    """« Changer d'utilisateur » in the window on screen, then the login dialog, keyboard only."""
    switch = next(a for a in team.window.menuBar().actions()[0].menu().actions()
                  if a.text() == "&Changer d'utilisateur…")  # Fichier › Changer d'utilisateur…
    switch.trigger()
    login = _shown(qtbot, team.app, LoginDialog)
    assert login.windowTitle() == "Parcours — connexion"
    _type(qtbot, login.key, key)
    qtbot.keyClick(login.key, TAB)
    assert login.focusWidget() is login.password
    _keys(qtbot, login.password, PASSWORD)
    with qtbot.waitSignal(login.logged_in, timeout=WAIT):
        qtbot.keyClick(login.password, RETURN)
    window = _shown(qtbot, team.app, MainWindow)
    assert window.user.key == key
    return window


# -- 1. the administrator ---------------------------------------------------------------------------------------
def _first_administrator(qtbot, team: Team) -> MainWindow:
    team.app.start()
    welcome = _shown(qtbot, team.app, WelcomeWindow)
    welcome.start_button.click()
    first = _shown(qtbot, team.app, FirstAdministratorDialog)
    assert first.windowTitle() == "Parcours — premier compte"
    _type(qtbot, first.inputs["name"], "Agnès Fabre")
    for name, text in (("key", ADMIN), ("password", PASSWORD), ("confirm", PASSWORD)):
        _keys(qtbot, _tab(qtbot, first, first.inputs[name]), text)
    assert all(m.isHidden() for m in first.messages.values())
    with qtbot.waitSignal(first.logged_in, timeout=WAIT):
        qtbot.keyClick(first.inputs["confirm"], RETURN)
    window = _shown(qtbot, team.app, MainWindow)
    assert window.windowTitle() == "Parcours — Agnès Fabre (Administration)"
    return window


def _programme(qtbot, page) -> None:
    assert "pas encore renseigné" in page.programme_label.text()
    dialog = page.open_programme_dialog()
    assert dialog.windowTitle() == "Programme"
    _type(qtbot, dialog.inputs["name"], "PRE de Bourg-en-Bresse")
    _tab(qtbot, dialog, dialog.inputs["city"])
    _keys(qtbot, dialog.inputs["city"], "Bourg-en-Bresse")
    assert dialog.inputs["holiday_zone"].currentData() == "A"  # zone A, offered first
    with qtbot.waitSignal(dialog.submitted, timeout=WAIT):
        qtbot.keyClick(dialog.inputs["city"], RETURN)
    assert page.programme_label.text() == ("Programme : <b>PRE de Bourg-en-Bresse</b>, Bourg-en-Bresse — "
                                           "vacances scolaires de la zone A")


def _partner(qtbot, page) -> None:
    dialog = page.open_partner_dialog()
    assert dialog.windowTitle() == "Nouveau partenaire"
    _type(qtbot, dialog.key_edit, "adom")
    _tab(qtbot, dialog, dialog.name_edit)
    _keys(qtbot, dialog.name_edit, "Adom 01")
    with qtbot.waitSignal(page.partner_saved, timeout=WAIT):
        qtbot.keyClick(dialog.name_edit, RETURN)
    assert page.tabs.tabText(1) == "Partenaires (1)"


def _intervenant(qtbot, page, key: str, name: str, qualification: str, count: int) -> None:
    dialog = page.open_intervenant_dialog()
    assert dialog.windowTitle() == "Nouvel intervenant"
    _type(qtbot, dialog.key_edit, key)
    _tab(qtbot, dialog, dialog.name_edit)
    _keys(qtbot, dialog.name_edit, name)
    combo = _tab(qtbot, dialog, dialog.qualification_combo)
    _keys(qtbot, combo, qualification[0])  # the combo's own keyboard search: « A… » or « T… »
    assert combo.currentData() == qualification
    _tab(qtbot, dialog, dialog.partner_combo)
    assert dialog.partner_combo.currentText() == "Adom 01"
    with qtbot.waitSignal(page.intervenant_saved, timeout=WAIT) as saved:
        qtbot.keyClick(dialog.partner_combo, RETURN)
    assert (saved.args[0].name, saved.args[0].qualification) == (name, qualification)
    assert page.tabs.tabText(2) == f"Intervenants ({count})"


def _convention(qtbot, page) -> None:
    page.new_convention_button.click()
    editor = page.editor
    assert editor.title.text() == "Nouvelle convention" and editor.focusWidget() is editor.key_edit
    _keys(qtbot, editor.key_edit, "AP-2025")
    _tab(qtbot, editor, editor.partner_combo)
    _keys(qtbot, editor.partner_combo, "A")
    assert editor.partner_combo.currentText() == "Adom 01 (adom)"
    _tab(qtbot, editor, editor.action_combo)
    _keys(qtbot, editor.action_combo, "Atout Plus")
    _type(qtbot, editor.start_edit, "01/04/2025")
    _type(qtbot, editor.end_edit, "31/12/2025")
    _type(qtbot, editor.max_families_edit, "18")
    _type(qtbot, editor.budget_cap_edit, "25000,00")
    editor.imputation_edit.setFocus()
    _keys(qtbot, editor.imputation_edit, "Chapitre 65, article 65748")
    for month in (2, 4, 7, 10, 12):  # the period-end months of Atout Plus 2025
        check = editor.month_checks[month - 1]
        check.setFocus()
        qtbot.keyClick(check, SPACE)
    for pair, amount in TARIFFS.items():
        _type(qtbot, editor.tariff_edits[pair], amount)
    assert editor.problems() == {}
    with qtbot.waitSignal(page.convention_saved, timeout=WAIT) as saved:
        editor.save_button.click()
    convention = saved.args[0]
    assert (convention.key, convention.start, convention.end) == ("AP-2025", date(2025, 4, 1), date(2025, 12, 31))
    assert convention.period_end_months == (2, 4, 7, 10, 12)
    assert editor.title.text() == "Convention AP-2025" and page.tabs.tabText(0) == "Conventions (1)"
    assert editor.tariff_edits[("TISF", "home_intervention")].text() == "56,13"
    assert editor.budget_cap_edit.text() == "25\u00a0000,00"


def _account(qtbot, users, name: str, key: str, role_letter: str, role: str) -> None:
    dialog = users.ask_add()
    assert dialog.windowTitle() == "Nouveau compte"
    _type(qtbot, dialog.inputs["name"], name)
    _tab(qtbot, dialog, dialog.inputs["key"])
    _keys(qtbot, dialog.inputs["key"], key)
    combo = _tab(qtbot, dialog, dialog.inputs["role"])
    _keys(qtbot, combo, role_letter)
    assert combo.currentData() == role
    _tab(qtbot, dialog, dialog.inputs["password"])
    _keys(qtbot, dialog.inputs["password"], PASSWORD)
    _tab(qtbot, dialog, dialog.inputs["confirm"])
    _keys(qtbot, dialog.inputs["confirm"], PASSWORD)
    with qtbot.waitSignal(users.accounts_loaded, timeout=WAIT):
        qtbot.keyClick(dialog.inputs["confirm"], RETURN)
    assert not dialog.isVisible()


def administrator_sets_up(qtbot, team: Team) -> None:
    window = _first_administrator(qtbot, team)
    page = window.show_page("conventions")
    assert page.tabs.tabText(0) == "Conventions (0)"
    _programme(qtbot, page)
    _partner(qtbot, page)
    _intervenant(qtbot, page, "i-benali", "Nadia Benali", "AES", 1)
    _intervenant(qtbot, page, "i-morel", "Julien Morel", "TISF", 2)
    _convention(qtbot, page)

    users = window.open_users_dialog()
    qtbot.waitUntil(lambda: users.model.rowCount() == 1, timeout=WAIT)
    assert users.windowTitle() == "Utilisateurs"
    _account(qtbot, users, "Sophie Rousseau", COORD, "C", "coordinator")
    _account(qtbot, users, "Claire Bernard", REF, "R", "referent")
    rows = {a.key: (a.name, a.role, a.has_password, a.active) for a in users.model.rows()}
    assert rows == {ADMIN: ("Agnès Fabre", "administrator", True, True),
                    COORD: ("Sophie Rousseau", "coordinator", True, True),
                    REF: ("Claire Bernard", "referent", True, True)}
    assert {users.proxy.index(r, users.model.PASSWORD).data() for r in range(3)} == {"défini"}
    users.reject()


# -- 2. the coordinator -----------------------------------------------------------------------------------------
def _active(qtbot, widget) -> None:
    """The window back in front after a dialog (offscreen, Qt leaves no window active when a dialog closes)."""
    widget.window().activateWindow()
    qtbot.waitUntil(widget.window().isActiveWindow, timeout=WAIT)


def _new_family(qtbot, page, name: str, address: str):
    page.show_list()
    _active(qtbot, page)
    qtbot.keyClick(page.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = page.family_dialog
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "Nouvelle famille"
    assert dialog.inputs["name"].text() == "Famille "
    dialog.inputs["name"].setFocus()
    dialog.inputs["name"].end(False)
    _keys(qtbot, dialog.inputs["name"], name)
    _keys(qtbot, _tab(qtbot, dialog, dialog.inputs["address"]), address)
    _keys(qtbot, _tab(qtbot, dialog, dialog.inputs["commune"]), "Bourg-en-Bresse")
    _tab(qtbot, dialog, dialog.inputs["priority_neighbourhood"])
    _tab(qtbot, dialog, dialog.inputs["qpv_name"])  # left empty: not in a QPV
    referent = _tab(qtbot, dialog, dialog.inputs["referent_id"])
    _keys(qtbot, referent, "Cl")
    assert referent.currentText() == "Claire Bernard (Référent·e de parcours)"
    with qtbot.waitSignal(page.family_opened, timeout=WAIT):
        qtbot.keyClick(referent, RETURN)
    view = page.file_view
    qtbot.waitUntil(lambda: view.title.text() == f"Famille {name}", timeout=WAIT)
    assert view.household["referent"].text() == "Claire Bernard"
    return view


def _save_with_enter(qtbot, view, dialog, widget) -> None:
    with qtbot.waitSignal(view.file_loaded, timeout=WAIT):
        qtbot.keyClick(widget, RETURN)
    assert not dialog.isVisible()


def _fill_the_first_family(qtbot, view) -> None:
    view.household_buttons["guardian"].click()
    dialog = view.dialog
    assert dialog.windowTitle() == "Ajouter un responsable légal — Famille Martin"
    _type(qtbot, dialog.inputs["name"], "Nadia Martin")
    _keys(qtbot, _tab(qtbot, dialog, dialog.inputs["relationship"]), "mère")
    _keys(qtbot, _tab(qtbot, dialog, dialog.inputs["phone"]), "06 11 22 33 44")
    _save_with_enter(qtbot, view, dialog, dialog.inputs["phone"])
    assert [(g.name, g.relationship) for g in view.guardians.rows()] == [("Nadia Martin", "mère")]

    view.tabs.setCurrentIndex(1)
    for first_name, birth in (("Lina", "04/05/2016"), ("Adam", "09/01/2019")):
        view.child_buttons["add"].click()
        dialog = view.dialog
        assert dialog.windowTitle() == "Ajouter un enfant — Famille Martin"
        _type(qtbot, dialog.inputs["first_name"], first_name)
        _tab(qtbot, dialog, dialog.inputs["last_name"])
        assert dialog.inputs["last_name"].text() == "Martin"
        _tab(qtbot, dialog, dialog.inputs["birth_date"])
        _type(qtbot, dialog.inputs["birth_date"], birth)
        _save_with_enter(qtbot, view, dialog, dialog.inputs["birth_date"])
    assert sorted((c.name, c.age) for c in view.children.rows()) == [("Adam Martin", 6), ("Lina Martin", 9)]

    view.children_view.setCurrentIndex(view.children_view.model().index(_row(view.children_view, 0, "Lina Martin"), 0))
    dialog = view.ask_open_parcours()
    assert dialog.windowTitle() == "Ouvrir un parcours — Lina Martin"
    _type(qtbot, dialog.inputs["start"], "25/03/2025")
    _keys(qtbot, _tab(qtbot, dialog, dialog.inputs["objectives"]), "Lecture et confiance en soi")
    dialog.inputs["start"].setFocus()
    _save_with_enter(qtbot, view, dialog, dialog.inputs["start"])
    row = _row(view.children_view, 0, "Lina Martin")
    from ui.pages.family_file import ChildrenModel

    assert _cell(view.children_view, row, ChildrenModel.PARCOURS) == "En cours"
    assert _cell(view.children_view, row, ChildrenModel.START) == "25/03/2025"
    assert _cell(view.children_view, row, ChildrenModel.OBJECTIVES) == "Lecture et confiance en soi"

    assert view.consent_warning.isVisible()
    assert view.consent_warning.text().startswith("⚠ Consentement parental non recueilli")
    view.tabs.setCurrentIndex(0)
    view.household_buttons["consent"].click()
    dialog = view.dialog
    assert dialog.windowTitle() == "Consentement de la famille — Famille Martin"
    _type(qtbot, dialog.inputs["consent_date"], "25/03/2025")
    _tab(qtbot, dialog, dialog.inputs["consent_scope"])
    _save_with_enter(qtbot, view, dialog, dialog.inputs["consent_scope"])
    assert not view.consent_warning.isVisible()
    assert view.household["consent"].text() == "Donné le 25/03/2025 (Parcours de réussite éducative)"


def _eps_meeting(qtbot, window) -> None:
    page = window.page("eps")
    with qtbot.waitSignal(page.meetings_loaded, timeout=WAIT):
        window.show_page("eps")
    assert page.title.text() == "Choisissez une séance d'EPS" and not page.add_button.isEnabled()
    page.new_button.click()
    dialog = page.dialog
    assert dialog.windowTitle() == "Nouvelle séance d'EPS"
    _type(qtbot, dialog.inputs["date"], "25/03/2025")
    _keys(qtbot, _tab(qtbot, dialog, dialog.inputs["notes"]), "EPS de mars")
    save = _tab(qtbot, dialog)  # Tab leaves the notes for « Enregistrer »
    assert save.text() == "Enregistrer"
    with qtbot.waitSignal(page.meeting_loaded, timeout=WAIT):
        qtbot.keyClick(save, RETURN)
    assert page.title.text() == "Séance d'EPS du 25/03/2025"

    page.add_button.click()
    dialog = page.dialog
    assert dialog.windowTitle() == "Ajouter une situation"
    family = dialog.inputs["family"]
    family.setFocus()
    _keys(qtbot, family, "Famille M")
    assert family.currentText().startswith("Famille Martin (")
    _keys(qtbot, _tab(qtbot, dialog, dialog.inputs["recommendation"]), "Atout Plus : aide aux devoirs")
    with qtbot.waitSignal(page.meeting_loaded, timeout=WAIT):
        qtbot.keyClick(_tab(qtbot, dialog), RETURN)
    assert page.situations.rowCount() == 1 and page.propose_button.isEnabled()

    page.situations_view.setCurrentIndex(page.situations_view.model().index(0, 0))
    dialog = page.ask_propose()
    assert dialog.windowTitle() == "Proposer une orientation — Famille Martin"
    assert dialog.inputs["convention"].currentText() == "Atout Plus — Adom 01 (AP-2025)"
    with qtbot.waitSignal(page.meeting_loaded, timeout=WAIT):
        qtbot.keyClick(dialog.inputs["convention"], RETURN)
    assert _cell(page.situations_view, 0, 2) == "Atout Plus — Adom 01 (proposée)"


def _validate_in_the_queue(qtbot, window) -> None:
    page = window.page("queue")
    with qtbot.waitSignal(page.queue_loaded, timeout=WAIT):
        window.show_page("queue")
    assert page.tabs.tabText(0) == "Orientations à décider (1)"
    page.orientations_view.setCurrentIndex(page.orientations_view.model().index(0, 0))
    assert _cell(page.orientations_view, 0, 0) == "Famille Martin"
    dialog = page.ask_validate()
    assert dialog.windowTitle() == "Valider l'orientation — Famille Martin"
    assert dialog.inputs["decided_on"].text() == "06/05/2025"  # today, typed over: decided the week after the EPS
    _type(qtbot, dialog.inputs["decided_on"], "31/03/2025")
    with qtbot.waitSignal(page.queue_loaded, timeout=WAIT):
        qtbot.keyClick(dialog.inputs["decided_on"], RETURN)
    assert page.tabs.tabText(0) == "Orientations à décider (0)"


def coordinator_orients(qtbot, team: Team) -> None:
    window = _log_in(qtbot, team, COORD)
    assert window.windowTitle() == "Parcours — Sophie Rousseau (Coordination)"
    page = window.show_page("families")
    qtbot.waitUntil(lambda: len(page.file_view.referents) == 3, timeout=WAIT)  # who may follow a family
    assert page.model.rowCount() == 0 and page.count_label.text() == "0 famille"
    view = _new_family(qtbot, page, "Martin", "4 rue du Stade")
    _fill_the_first_family(qtbot, view)
    _new_family(qtbot, page, "Durand", "12 avenue de Lyon")
    page.show_list()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=WAIT)
    assert page.count_label.text() == "2 familles"

    _eps_meeting(qtbot, window)
    _validate_in_the_queue(qtbot, window)

    families = window.page("families")
    with qtbot.waitSignal(families.families_loaded, timeout=WAIT):  # read again when shown
        window.show_page("families")
    rows = {families.model.row_at(r).name: families.model.row_at(r) for r in range(2)}
    assert (rows["Famille Martin"].active_orientations, rows["Famille Durand"].active_orientations) == (1, 0)
    assert (rows["Famille Martin"].children, rows["Famille Martin"].parcours_label) == (2, "En cours")


# -- 3. the référent --------------------------------------------------------------------------------------------
def _open_family(qtbot, window, name: str):
    page = window.show_page("families")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=WAIT)
    page.show_list()
    page.view.setCurrentIndex(page.proxy.index(_row(page.view, 0, name), 0))
    with qtbot.waitSignal(page.family_opened, timeout=WAIT):
        qtbot.keyClick(page.view, RETURN)
    view = page.file_view
    assert view.title.text() == name
    return view


def _checked(qtbot, form, field_name: str, text: str) -> None:
    qtbot.waitUntil(lambda: text in form.messages[field_name].text() and form.messages[field_name].isVisible(),
                    timeout=WAIT)


def _session_for(qtbot, team: Team, view, day: str, intervenant: str, duration: str, *,
                 referent_present: bool = False, warning: str | None = None):
    """Ctrl+N in the family file, the date, Tab, the intervenant, Tab, the duration… Entrée."""
    window = team.window
    _active(qtbot, view)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = window.session_form
    assert form is not None and form.isVisible() and form.windowTitle() == "Nouvelle séance à domicile"
    assert form.family.currentText().startswith(view.title.text())
    qtbot.waitUntil(lambda: form.focusWidget() is form.date, timeout=WAIT)
    assert form.date.text() == "06/05/2025"
    _type(qtbot, form.date, day)
    combo = _tab(qtbot, form, form.intervenant)
    _keys(qtbot, combo, intervenant)
    assert form.intervenant.currentText().startswith(intervenant)
    _keys(qtbot, _tab(qtbot, form, form.duration), duration)
    if referent_present:
        _tab(qtbot, form, form.status)
        _tab(qtbot, form, form.start_time)
        _tab(qtbot, form, form.referent_present)
        qtbot.keyClick(form.referent_present, SPACE)
        assert form.referent_present.isChecked()
    if warning:
        _checked(qtbot, form, "date", warning)
    with qtbot.waitSignal(window.session_saved, timeout=WAIT) as saved:
        qtbot.keyClick(form.focusWidget(), RETURN)
    assert not form.isVisible()
    row = saved.args[0]
    team.sessions[day[:5]] = row
    assert window.statusBar().currentMessage() == f"Séance du {day} enregistrée pour {view.title.text()}."
    return row


def _typed_family_session(qtbot, team: Team) -> None:
    """The family without orientation, typed in the form opened from the sessions list: warned, saved."""
    window = team.window
    window.show_page("sessions")
    _active(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = window.session_form
    assert form is not None and form.family.currentData() is None
    assert form.focusWidget() is form.family
    _active(qtbot, form)
    _keys(qtbot, form.family.lineEdit(), "durand")
    popup = form.family.completer().popup()  # while the completer's list is shown, it has the keyboard
    qtbot.keyClick(popup if popup.isVisible() else form.family.lineEdit(), TAB)
    assert form.family.currentText().startswith("Famille Durand — Bourg-en-Bresse (")
    assert form.focusWidget() is form.date
    _type(qtbot, form.date, "15/04/2025")
    _keys(qtbot, _tab(qtbot, form, form.intervenant), "N")
    _keys(qtbot, _tab(qtbot, form, form.duration), "1h")
    _checked(qtbot, form, "family", "Aucune orientation validée ne couvre le 15/04/2025 pour cette famille : la "
                                    "séance sera enregistrée mais pas payée, et la coordination la verra signalée "
                                    "sur l'état du mois.")
    with qtbot.waitSignal(window.session_saved, timeout=WAIT) as saved:
        qtbot.keyClick(form.duration, RETURN)
    team.sessions["15/04"] = saved.args[0]
    assert saved.args[0].family_name == "Famille Durand"


def referent_logs_sessions(qtbot, team: Team) -> None:
    window = _log_in(qtbot, team, REF)
    assert window.nav.item(0).text() == "Mes familles"
    view = _open_family(qtbot, window, "Famille Martin")
    _session_for(qtbot, team, view, "10/04/2025", "Nadia", "1h30", referent_present=True)
    # entered after it, the Tuesday comes first in its week: the warning names the Thursday as the one to approve
    _session_for(qtbot, team, view, "08/04/2025", "Nadia", "1h", referent_present=True,
                 warning="Deuxième séance de la semaine pour cette famille : celle-ci devient la première, c'est donc "
                         "la séance du 10/04/2025 qui devra être approuvée par la coordination.")
    _session_for(qtbot, team, view, "22/04/2025", "Julien", "1h",
                 warning="Vacances scolaires : la séance devra être approuvée par la coordination pour être payée.")
    _typed_family_session(qtbot, team)


DEROGATION = 6  # the family file's « Séances »: Date, Heure, Intervenant·e, Durée, Statut, Référent·e, Dérogation


def _derogations(qtbot, window) -> dict[str, str]:
    """Date -> the « Dérogation » column of the family file's « Séances » tab, as the référent reads it."""
    view = _open_family(qtbot, window, "Famille Martin")
    view.tabs.setCurrentIndex(next(i for i in range(view.tabs.count()) if view.tabs.tabText(i) == "Séances"))
    table = view.sessions_view
    assert table.model().headerData(DEROGATION, Qt.Orientation.Horizontal) == "Dérogation"
    return {_cell(table, r, 0): _cell(table, r, DEROGATION) or "" for r in range(table.model().rowCount())}


def _awaiting_on_the_sessions_page(qtbot, window) -> set[str]:
    page = window.page("sessions")
    with qtbot.waitSignal(page.sessions_loaded, timeout=WAIT):
        window.show_page("sessions")
    assert page.count_label.text() == "4 séances"
    with qtbot.waitSignal(page.sessions_loaded, timeout=WAIT):
        page.show_awaiting()
    assert page.decision_filter.currentText() == "Dérogation à décider"
    model = page.model
    assert all(model.index(r, model.EXCEPTION).data() == "À décider" for r in range(model.rowCount()))
    return {model.index(r, model.DATE).data() for r in range(model.rowCount())}


# -- 4. the coordinator's decisions -----------------------------------------------------------------------------
REFUSAL = "Deux séances la même semaine"


def coordinator_decides(qtbot, team: Team) -> None:
    window = _log_in(qtbot, team, COORD)
    page = window.page("queue")
    with qtbot.waitSignal(page.queue_loaded, timeout=WAIT):
        window.show_page("queue")
    assert page.tabs.tabText(1) == "Séances à approuver (2)"
    page.tabs.setCurrentIndex(1)
    view = page.flagged_view
    assert {_cell(view, r, 0): _cell(view, r, page.flagged.REASONS) for r in range(2)} == {
        "10/04/2025": "2e séance de la semaine", "22/04/2025": "Vacances scolaires"}

    view.selectRow(_row(view, 0, "22/04/2025"))
    assert len(page.selected_sessions()) == 1
    with qtbot.waitSignal(page.queue_loaded, timeout=WAIT):
        page.approve_selected()
    assert page.tabs.tabText(1) == "Séances à approuver (1)"

    view.selectRow(_row(view, 0, "10/04/2025"))
    dialog = page.ask_refuse()
    assert dialog.windowTitle() == "Refuser 1 dérogation"
    _type(qtbot, dialog.inputs["reason"], REFUSAL)
    refuse = _tab(qtbot, dialog)
    assert refuse.text() == "Refuser"
    with qtbot.waitSignal(page.queue_loaded, timeout=WAIT):
        qtbot.keyClick(refuse, RETURN)
    assert page.tabs.tabText(1) == "Séances à approuver (0)"


# -- 5. the administrator's month -------------------------------------------------------------------------------
def _statements(qtbot, team: Team):
    window = _log_in(qtbot, team, ADMIN)
    page = window.page("statements")
    window.show_page("statements")
    qtbot.waitUntil(lambda: page.statement() is not None and page.statement().month == "2025-04", timeout=WAIT)
    assert page.selected_convention() == "AP-2025" and page.month_combo.currentText() == "Avril 2025"
    assert page.next_hint.text() == "Prochain mois à émettre : avril 2025 (les mois s'émettent dans l'ordre)."
    qtbot.waitUntil(page.issue_button.isEnabled, timeout=WAIT)
    assert page.header_label.text() == (
        "<b>État mensuel d'avril 2025</b> — Adom 01, action Atout Plus (convention AP-2025 du 01/04/2025 au "
        "31/12/2025)<br>Imputation budgétaire : Chapitre 65, article 65748")
    assert page.badge.text() == "PROJET"
    return window, page


def _confirmation_text(page) -> tuple[str, str]:
    """What the real confirmation says (its exec() answered « Annuler » at once)."""
    shown = []
    real_exec = QMessageBox.exec
    QMessageBox.exec = lambda box: shown.append((box.text(), box.informativeText())) or 0
    try:
        assert page.confirm_issue(page.statement()) is False
    finally:
        QMessageBox.exec = real_exec
    return shown[0]


def _issue(qtbot, page, monkeypatch):
    monkeypatch.setattr(page, "confirm_issue", lambda statement: True)
    with qtbot.waitSignal(page.statement_issued, timeout=WAIT) as issued:
        page.issue_button.click()
    statement = issued.args[0]
    assert statement.number == "AP-2025-001"
    assert page.done_label.text().startswith("✓ État n° AP-2025-001 émis (avril 2025")
    assert page.badge.text().startswith("Émis n° AP-2025-001 le ")
    assert page.month_combo.currentText() == "Avril 2025 — émis"
    assert not page.issue_button.isEnabled()
    return statement


# -- the tests ----------------------------------------------------------------------------------------------------
def test_administrator_day_first_account_programme_partner_intervenants_convention_and_accounts(qtbot, team):
    administrator_sets_up(qtbot, team)
    window = team.window
    page = window.show_page("conventions")
    assert page.tabs.tabText(1) == "Partenaires (1)" and page.tabs.tabText(2) == "Intervenants (2)"
    assert sorted((i.name, i.qualification, i.partner) for i in page.intervenants_model.rows()) == [
        ("Julien Morel", "TISF", "adom"), ("Nadia Benali", "AES", "adom")]
    # the convention is the one April's statement will be made of
    statements = window.page("statements")
    window.show_page("statements")
    qtbot.waitUntil(lambda: statements.statement() is not None, timeout=WAIT)
    assert statements.selected_month() == "2025-04" and statements.badge.text() == "PROJET"
    assert "Aucun signalement." == statements.flags_summary.text()
    # the new accounts can log in
    assert _log_in(qtbot, team, COORD).windowTitle() == "Parcours — Sophie Rousseau (Coordination)"
    assert _log_in(qtbot, team, REF).windowTitle() == "Parcours — Claire Bernard (Référent·e de parcours)"


def test_coordinator_day_two_families_an_eps_and_a_validated_orientation(qtbot, team):
    administrator_sets_up(qtbot, team)
    coordinator_orients(qtbot, team)
    window = team.window
    view = _open_family(qtbot, window, "Famille Martin")
    view.tabs.setCurrentIndex(next(i for i in range(view.tabs.count()) if view.tabs.tabText(i) == "Orientations"))
    [o] = view.orientations.rows()
    assert (o.convention_label, o.status_label, o.decided_on, o.decided_by_name) == (
        "Atout Plus — Adom 01", "Validée", date(2025, 3, 31), "Sophie Rousseau")
    assert _cell(view.orientations_view, 0, 1) == "25/03/2025" and _cell(view.orientations_view, 0, 3) == "31/03/2025"
    durand = _open_family(qtbot, window, "Famille Durand")
    assert durand.orientations.rowCount() == 0


def test_referent_day_logs_april_with_the_keyboard_and_sees_what_awaits_a_decision(qtbot, team):
    administrator_sets_up(qtbot, team)
    coordinator_orients(qtbot, team)
    referent_logs_sessions(qtbot, team)
    window = team.window
    assert _derogations(qtbot, window) == {"08/04/2025": "", "10/04/2025": "À décider", "22/04/2025": "À décider"}
    assert _awaiting_on_the_sessions_page(qtbot, window) == {"10/04/2025", "22/04/2025"}


def test_coordinator_approves_one_refuses_one_and_the_referent_sees_the_decisions(qtbot, team):
    administrator_sets_up(qtbot, team)
    coordinator_orients(qtbot, team)
    referent_logs_sessions(qtbot, team)
    coordinator_decides(qtbot, team)
    window = _log_in(qtbot, team, REF)
    assert _derogations(qtbot, window) == {"08/04/2025": "", "10/04/2025": "Refusée", "22/04/2025": "Approuvée"}
    table = window.page("families").file_view.sessions_view
    assert _cell(table, _row(table, 0, "10/04/2025"), DEROGATION, Qt.ItemDataRole.ToolTipRole) == f"Refusée : {REFUSAL}"
    page = window.page("sessions")
    with qtbot.waitSignal(page.sessions_loaded, timeout=WAIT):
        window.show_page("sessions")
    with qtbot.waitSignal(page.sessions_loaded, timeout=WAIT):
        page.show_awaiting()
    assert page.model.rowCount() == 0 and page.count_label.text() == "0 séance"


def test_administrator_is_warned_of_the_undecided_derogations_when_issuing_april(qtbot, team, monkeypatch):
    administrator_sets_up(qtbot, team)
    coordinator_orients(qtbot, team)
    referent_logs_sessions(qtbot, team)
    _window, page = _statements(qtbot, team)
    keys = sorted((team.sessions["10/04"].key, team.sessions["22/04"].key))
    text, informative = _confirmation_text(page)
    assert text == "Émettre l'état d'avril 2025 de la convention AP-2025 (Adom 01), pour un total de 45,00\u00a0€ TTC ?"
    assert informative.startswith(
        f"⚠ 2 séances du mois attendent encore la décision de la coordination sur une dérogation "
        f"({', '.join(keys)}) : émis maintenant, l'état ne les paie pas ; une approbation ultérieure viendra en "
        "régularisation.")
    assert "pas encore terminé" not in informative  # April is over on 6 May
    statement = _issue(qtbot, page, monkeypatch)
    # only 8/04 and its weekly preparation are paid: neither undecided session, nor the family without orientation
    assert statement.total == Decimal("45.00")
    assert "Total TTC : 45,00\u00a0€" in page.total_label.text()


def _issued_april(qtbot, team: Team, monkeypatch) -> None:
    """Steps 1 to 4, then April issued with every dérogation decided: the confirmation has nothing to warn of."""
    administrator_sets_up(qtbot, team)
    coordinator_orients(qtbot, team)
    referent_logs_sessions(qtbot, team)
    coordinator_decides(qtbot, team)
    _window, page = _statements(qtbot, team)
    _text, informative = _confirmation_text(page)
    assert "attend" not in informative and "dérogation" not in informative
    statement = _issue(qtbot, page, monkeypatch)
    # 8/04 (AES) and the approved 22/04 (TISF), each with its weekly preparation; the refused 10/04 and the family
    # without orientation are not paid
    assert statement.total == Decimal("129.20")
    assert page.total_label.text() == "<span style='font-size:14pt'><b>Total TTC : 129,20\u00a0€</b></span>"


def _correct(qtbot, team: Team, day: str, *, duration: str | None = None, status: str | None = None):
    """The référent opens the session from the family file (Entrée) and corrects it, keyboard only."""
    window = team.window if team.window.user.key == REF else _log_in(qtbot, team, REF)
    view = _open_family(qtbot, window, "Famille Martin")
    view.tabs.setCurrentIndex(next(i for i in range(view.tabs.count()) if view.tabs.tabText(i) == "Séances"))
    table = view.sessions_view
    table.setFocus()
    table.setCurrentIndex(table.model().index(_row(table, 0, day), 0))
    qtbot.keyClick(table, RETURN)
    form = view.session_form
    assert form is not None and form.isVisible() and form.windowTitle() == "Modifier la séance"
    assert form.date.text() == day
    qtbot.waitUntil(lambda: form.focusWidget() is form.date, timeout=WAIT)
    _tab(qtbot, form, form.intervenant)
    _tab(qtbot, form, form.duration)
    if duration is not None:
        _type(qtbot, form.duration, duration)
    if status is not None:
        _keys(qtbot, _tab(qtbot, form, form.status), status[:2])
        assert form.status.currentText() == status
    _checked(qtbot, form, "date", "Avril 2025 est déjà sur un état émis (AP-2025-001), qui ne changera pas : une "
                                  "différence de montant viendra en régularisation sur le prochain état, et "
                                  "l'administration verra le mois marqué comme modifié.")
    with qtbot.waitSignal(form.session_saved, timeout=WAIT) as saved:
        qtbot.keyClick(form.focusWidget(), RETURN)
    return saved.args[0]


def _april_as_the_administrator_sees_it(qtbot, team: Team):
    window = _log_in(qtbot, team, ADMIN)
    page = window.page("statements")
    window.show_page("statements")
    qtbot.waitUntil(lambda: page.statement() is not None, timeout=WAIT)
    if page.selected_month() != "2025-04":  # May comes next: the page opens on it
        with qtbot.waitSignal(page.statement_loaded, timeout=WAIT, check_params_cb=lambda s: s.month == "2025-04"):
            page.select("AP-2025", "2025-04")
    assert page.statement().status == "issued" and page.badge.text().startswith("Émis n° AP-2025-001 le ")
    return page


def test_administrator_issues_april_then_a_referent_correction_shows_on_the_issued_month(qtbot, team, monkeypatch):
    _issued_april(qtbot, team, monkeypatch)
    assert "ont changé depuis l'émission" not in team.window.page("statements").total_label.text()

    corrected = _correct(qtbot, team, "08/04/2025", duration="2h")  # the visit lasted 2 h, not 1 h
    assert corrected.duration_minutes == 120
    corrected = _correct(qtbot, team, "22/04/2025", status="Absence de la famille")  # nobody was home
    assert corrected.status == "family_absent"

    page = _april_as_the_administrator_sees_it(qtbot, team)
    # +1 h on 08/04 and the 1 h of 22/04 gone: the month's hours are the same, only the amount changed
    assert page.total_label.text().endswith(
        "<br><span style='color:#93370d'>⚠ Les séances de ce mois ont changé depuis l'émission : "
        f"{format_money(Decimal('-84.20'))} viendront en régularisation sur le prochain état.</span>")
    assert "Total TTC : 129,20\u00a0€" in page.total_label.text()  # the issued statement itself never changes


def test_a_duration_only_correction_is_announced_on_the_issued_month(qtbot, team, monkeypatch):
    _issued_april(qtbot, team, monkeypatch)
    assert _correct(qtbot, team, "08/04/2025", duration="2h").duration_minutes == 120
    page = _april_as_the_administrator_sees_it(qtbot, team)
    # a home intervention is paid per session: the hours changed, not the amount
    assert "ont changé depuis l'émission : heures réalisées : " in page.total_label.text()
    assert "sans effet sur le montant" in page.total_label.text()
