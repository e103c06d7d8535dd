"""Correcting a session in the window: the référent, keyboard only, from the family file; the coordination deletes a
session from the sessions list and ends an orientation from the family file."""
from datetime import date

from PySide6.QtCore import Qt

from services.formatting import format_hours
from services.home_sessions import SessionQuery, count_sessions, list_sessions
from services.orientations import list_orientations


def _open_family(qtbot, window, name: str):
    page = window.show_page("families")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == name)
    page.view.setCurrentIndex(page.proxy.index(row, 0))
    with qtbot.waitSignal(page.family_opened, timeout=5000):
        page.view.setFocus()
        qtbot.keyClick(page.view, Qt.Key.Key_Return)
    return page.file_view


def _tab(file_view, title: str) -> None:
    file_view.tabs.setCurrentIndex(next(i for i in range(file_view.tabs.count())
                                        if file_view.tabs.tabText(i) == title))


def _row_of_date(view, day: str) -> int:
    return next(r for r in range(view.model().rowCount()) if view.model().index(r, 0).data() == day)


def test_referent_corrects_a_sessions_duration_from_the_family_file_with_the_keyboard(qtbot, open_window, programme):
    window = open_window(programme.referent)
    file_view = _open_family(qtbot, window, "Famille Lefèvre")
    _tab(file_view, "Séances")
    view = file_view.sessions_view
    row = _row_of_date(view, "11/03/2025")  # S2, 1 h
    view.setFocus()
    view.setCurrentIndex(view.model().index(row, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    form = file_view.session_form
    assert form is not None and form.isVisible() and form.windowTitle() == "Modifier la séance"
    assert (form.date.text(), form.duration.text()) == ("11/03/2025", "1h00")
    assert form.family.currentText().startswith("Famille Lefèvre")
    assert form.intervenant.currentText().startswith("Nadia Benali")
    assert form.delete_button is None  # a référent marks a session cancelled instead
    qtbot.waitUntil(lambda: form.focusWidget() is form.date)
    qtbot.keyClick(form.date, Qt.Key.Key_Tab)  # -> intervenant
    qtbot.keyClick(form.focusWidget(), Qt.Key.Key_Tab)  # -> duration
    assert form.focusWidget() is form.duration
    form.duration.selectAll()
    qtbot.keyClicks(form.duration, "1h30")
    with qtbot.waitSignal(form.session_saved, timeout=5000) as saved:
        qtbot.keyClick(form.duration, Qt.Key.Key_Return)
    assert (saved.args[0].key, saved.args[0].duration_minutes) == ("S2", 90)
    qtbot.waitUntil(lambda: any(s.key == "S2" and s.duration_minutes == 90 for s in file_view.sessions.rows()),
                    timeout=5000)
    row = _row_of_date(view, "11/03/2025")
    assert view.model().index(row, 3).data() == format_hours(90)  # Date, Heure, Intervenant·e, Durée
    assert count_sessions(programme.uow(), programme.referent, SessionQuery()) == 4


def test_coordinator_deletes_a_session_from_the_sessions_list_after_confirming(qtbot, open_window, programme,
                                                                                 monkeypatch):
    window = open_window(programme.coordinator)
    page = window.show_page("sessions")
    qtbot.waitUntil(lambda: page.model.rowCount() == 4, timeout=5000)
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "11/03/2025")
    form = page.open_session(page.proxy.index(row, 0))
    assert form.windowTitle() == "Modifier la séance" and form.delete_button is not None
    from ui.session_form import SessionForm
    monkeypatch.setattr(SessionForm, "confirm_delete", lambda self: False)
    form.delete_button.click()
    assert form.isVisible() and count_sessions(programme.uow(), programme.coordinator) == 4
    monkeypatch.setattr(SessionForm, "confirm_delete", lambda self: True)
    with qtbot.waitSignal(form.session_deleted, timeout=5000):
        form.delete_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=5000)
    assert "S2" not in {s.key for s in list_sessions(programme.uow(), programme.coordinator)}


def test_coordinator_ends_an_orientation_with_a_date_and_a_reason(qtbot, open_window, programme):
    window = open_window(programme.coordinator)
    file_view = _open_family(qtbot, window, "Famille Lefèvre")
    _tab(file_view, "Orientations")
    view = file_view.orientations_view
    assert file_view.end_orientation_button.isVisible() and not file_view.end_orientation_button.isEnabled()
    view.setCurrentIndex(view.model().index(0, 0))
    assert file_view.end_orientation_button.isEnabled()
    dialog = file_view.ask_end_orientation()
    dialog.save()  # no reason: the French message under the field, the dialog stays open
    qtbot.waitUntil(lambda: dialog.messages["reason"].isVisible(), timeout=5000)
    assert "motif" in dialog.messages["reason"].text() and dialog.isVisible()
    dialog.inputs["reason"].setPlainText("Objectifs atteints")
    with qtbot.waitSignal(dialog.submitted, timeout=5000):
        dialog.save()
    [o] = list_orientations(programme.uow(), programme.coordinator, family_id=programme.family["F1"])
    assert (o.status, o.end_date, o.reason) == ("ended", date(2025, 3, 20), "Objectifs atteints")
    qtbot.waitUntil(lambda: file_view.orientations.rows()[0].status == "ended", timeout=5000)
    assert not file_view.end_orientation_button.isEnabled()


def test_the_referent_has_no_end_orientation_button(qtbot, open_window, programme):
    window = open_window(programme.referent)
    file_view = _open_family(qtbot, window, "Famille Lefèvre")
    assert not file_view.end_orientation_button.isVisibleTo(file_view)
