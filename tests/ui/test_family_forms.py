"""A team that does not load the demo enters its first family in the window, keyboard first (ui.family_forms):
household, a guardian, two children, a parcours, the consent; a wrong birth date is said under its field; a dialog
opened on an older read is refused instead of undoing a newer edit."""
from datetime import date

import pytest
from PySide6.QtCore import QSettings, Qt

from models import User
from services.directory import list_users
from services.families import list_families

TODAY = date(2025, 3, 20)


@pytest.fixture
def coordinator(uow):
    """An EMPTY store with one coordinator account."""
    with uow() as w:
        w.session.add(User(key="coord", name="Sophie Rousseau", role="coordinator"))
        w.commit()
    return list_users(uow())[0]


@pytest.fixture
def window(qtbot, uow, coordinator, tmp_path):
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(uow, coordinator, settings=settings, today=lambda: TODAY)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _type(qtbot, widget, text: str) -> None:
    """Replace what the field holds by `text`, as a user does: select it all, type."""
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def _save_with_enter(qtbot, view, dialog, widget) -> None:
    with qtbot.waitSignal(view.file_loaded, timeout=5000):
        qtbot.keyClick(widget, Qt.Key.Key_Return)
    assert not dialog.isVisible()


def _new_family(qtbot, window):
    page = window.show_page("families")
    qtbot.waitUntil(lambda: page.count_label.text() != "", timeout=5000)
    assert page.model.rowCount() == 0
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = page.family_dialog
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "Nouvelle famille"
    name = dialog.inputs["name"]
    name.setFocus()
    qtbot.keyClicks(name, "Martin")  # after the « Famille » already written
    qtbot.keyClick(name, Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.inputs["address"]
    qtbot.keyClicks(dialog.focusWidget(), "4 rue du Stade")
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.inputs["commune"]
    qtbot.keyClicks(dialog.focusWidget(), "Bourg-en-Bresse")
    with qtbot.waitSignal(page.family_opened, timeout=5000):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    return page, page.file_view


def _add_child(qtbot, view, first_name: str, birth: str):
    view.child_buttons["add"].click()
    dialog = view.dialog
    assert dialog.windowTitle() == "Ajouter un enfant — Famille Martin"
    assert dialog.inputs["last_name"].text() == "Martin"  # the family's name, ready
    _type(qtbot, dialog.inputs["first_name"], first_name)
    qtbot.keyClick(dialog.inputs["first_name"], Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.inputs["last_name"]
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.inputs["birth_date"]
    _type(qtbot, dialog.inputs["birth_date"], birth)
    return dialog


def test_first_family_from_an_empty_store_with_the_keyboard(qtbot, window, uow, coordinator):
    page, view = _new_family(qtbot, window)
    qtbot.waitUntil(lambda: view.title.text() == "Famille Martin", timeout=5000)
    assert view.household["address"].text() == "4 rue du Stade"
    assert [f.name for f in list_families(uow(), coordinator, TODAY)] == ["Famille Martin"]
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)

    view.household_buttons["guardian"].click()
    dialog = view.dialog
    dialog.inputs["name"].setFocus()
    qtbot.keyClicks(dialog.inputs["name"], "Nadia Martin")
    qtbot.keyClick(dialog.inputs["name"], Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.inputs["relationship"]
    qtbot.keyClicks(dialog.focusWidget(), "tante")
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.inputs["phone"]
    qtbot.keyClicks(dialog.focusWidget(), "06 11 22 33 44")
    _save_with_enter(qtbot, view, dialog, dialog.inputs["phone"])
    assert [(g.name, g.relationship, g.phone) for g in view.guardians.rows()] == [
        ("Nadia Martin", "tante", "06 11 22 33 44")]

    view.tabs.setCurrentIndex(1)
    for first_name, birth in (("Lina", "04/05/2016"), ("Adam", "09/01/2019")):
        dialog = _add_child(qtbot, view, first_name, birth)
        _save_with_enter(qtbot, view, dialog, dialog.inputs["birth_date"])
    assert sorted((c.name, c.birth_date) for c in view.children.rows()) == [
        ("Adam Martin", date(2019, 1, 9)), ("Lina Martin", date(2016, 5, 4))]

    row = next(r for r in range(view.children_view.model().rowCount())
               if view.children_view.model().index(r, 0).data() == "Lina Martin")
    view.children_view.setCurrentIndex(view.children_view.model().index(row, 0))
    dialog = view.ask_open_parcours()
    _save_with_enter(qtbot, view, dialog, dialog.inputs["start"])
    ines = next(c for c in view.children.rows() if c.first_name == "Lina")
    assert (ines.current_parcours.status, ines.current_parcours.start_date) == ("open", TODAY)

    view.children_view.setCurrentIndex(view.children_view.model().index(row, 0))
    assert view.child_buttons["plan"].isEnabled()
    dialog = view.ask_edit_parcours()
    dialog.inputs["objectives"].setFocus()
    qtbot.keyClicks(dialog.inputs["objectives"], "Lecture")
    qtbot.keyClick(dialog.inputs["objectives"], Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.inputs["actions"]
    qtbot.keyClicks(dialog.inputs["actions"], "Atout Plus")
    with qtbot.waitSignal(view.file_loaded, timeout=5000):
        dialog.save()
    assert next(c for c in view.children.rows() if c.first_name == "Lina").current_parcours.objectives == "Lecture"
    assert view.record.current_parcours(ines.id).actions == "Atout Plus"

    assert view.consent_warning.isVisible()
    view.household_buttons["consent"].click()
    dialog = view.dialog
    _save_with_enter(qtbot, view, dialog, dialog.inputs["consent_scope"])
    assert not view.consent_warning.isVisible()
    assert view.household["consent"].text().startswith("Donné le 20/03/2025")


def test_a_birth_date_outside_2_to_16_years_is_said_under_its_field(qtbot, window):
    _page, view = _new_family(qtbot, window)
    qtbot.waitUntil(lambda: view.record is not None, timeout=5000)
    view.tabs.setCurrentIndex(1)
    dialog = _add_child(qtbot, view, "Jade", "01/01/2024")
    qtbot.keyClick(dialog.inputs["birth_date"], Qt.Key.Key_Return)
    message = dialog.messages["birth_date"]
    qtbot.waitUntil(message.isVisible, timeout=5000)
    assert "1 an au 20/03/2025, hors de la tranche 2 à 16 ans" in message.text()
    assert dialog.isVisible() and dialog.inputs["first_name"].text() == "Jade"  # nothing typed is lost
    qtbot.keyClick(dialog.inputs["birth_date"], Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert view.children.rowCount() == 0


def test_a_second_dialog_on_an_older_read_is_refused(qtbot, window):
    _page, view = _new_family(qtbot, window)
    qtbot.waitUntil(lambda: view.record is not None, timeout=5000)
    first = view.ask_edit_household()
    second = view.ask_edit_household()
    assert first is not second
    _type(qtbot, second.inputs["address"], "6 rue du Stade")
    _save_with_enter(qtbot, view, second, second.inputs["address"])
    assert view.household["address"].text() == "6 rue du Stade"

    _type(qtbot, first.inputs["address"], "8 rue du Stade")
    qtbot.keyClick(first.inputs["address"], Qt.Key.Key_Return)
    qtbot.waitUntil(first.general_message.isVisible, timeout=5000)
    assert "Quelqu'un a modifié ce foyer entre-temps" in first.general_message.text()
    assert first.isVisible() and first.inputs["address"].text() == "8 rue du Stade"
    assert view.record.address == "6 rue du Stade"


def test_closing_the_file_shows_it_closed(qtbot, window):
    _page, view = _new_family(qtbot, window)
    qtbot.waitUntil(lambda: view.record is not None, timeout=5000)
    view.household_buttons["close"].click()
    dialog = view.dialog
    dialog.inputs["closed_reason"].setFocus()
    qtbot.keyClicks(dialog.inputs["closed_reason"], "Fin du suivi")
    with qtbot.waitSignal(view.file_loaded, timeout=5000):
        dialog.save()
    assert view.closed_label.isVisible()
    assert view.closed_label.text() == "Dossier clos le 20/03/2025 : Fin du suivi"
    assert not view.household_buttons["close"].isEnabled()


def test_a_guardian_is_corrected_with_enter_then_removed_after_confirmation(qtbot, window, monkeypatch):
    _page, view = _new_family(qtbot, window)
    qtbot.waitUntil(lambda: view.record is not None, timeout=5000)
    view.household_buttons["guardian"].click()
    dialog = view.dialog
    _type(qtbot, dialog.inputs["name"], "Nadia Martin")
    _save_with_enter(qtbot, view, dialog, dialog.inputs["name"])
    view.guardians_view.setCurrentIndex(view.guardians_view.model().index(0, 0))
    view.guardians_view.setFocus()
    qtbot.keyClick(view.guardians_view, Qt.Key.Key_Return)  # Entrée on the row opens it
    dialog = view.dialog
    assert dialog.windowTitle() == "Modifier le responsable légal — Famille Martin"
    assert dialog.inputs["name"].text() == "Nadia Martin"
    _type(qtbot, dialog.inputs["phone"], "06 11 22 33 44")
    _save_with_enter(qtbot, view, dialog, dialog.inputs["phone"])
    assert [(g.name, g.phone) for g in view.guardians.rows()] == [("Nadia Martin", "06 11 22 33 44")]
    view.guardians_view.setCurrentIndex(view.guardians_view.model().index(0, 0))
    monkeypatch.setattr(view, "confirm_remove_guardian", lambda guardian: guardian.name == "Nadia Martin")
    with qtbot.waitSignal(view.file_loaded, timeout=5000):
        view.household_buttons["remove_guardian"].click()
    assert view.guardians.rows() == ()
