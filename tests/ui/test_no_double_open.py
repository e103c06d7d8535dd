"""A double-click opens a record once; a dialog on an older read can never overwrite a newer edit (issue 8, item 2);
the sessions list filters what awaits a decision (item 4)."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from services.home_sessions import SessionDraft, SessionQuery, get_session, list_sessions, update_session
from ui.table_model import ROW_ROLE
from tests.ui.test_edit_session import _open_family, _row_of_date, _tab


def _double_click(qtbot, view, row: int) -> None:
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_double_click_on_a_family_opens_its_file_once(qtbot, open_window, programme):
    window = open_window(programme.referent)
    page = window.show_page("families")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    opened = []
    page.family_opened.connect(opened.append)
    _double_click(qtbot, page.view, 0)
    qtbot.waitUntil(lambda: len(opened) >= 1, timeout=5000)
    qtbot.wait(300)
    assert len(opened) == 1


def test_a_double_click_on_a_session_opens_one_form_and_a_second_gesture_brings_it_forward(qtbot, open_window,
                                                                                         programme):
    window = open_window(programme.referent)
    file_view = _open_family(qtbot, window, "Famille Lefèvre")
    _tab(file_view, "Séances")
    view = file_view.sessions_view
    _double_click(qtbot, view, _row_of_date(view, "11/03/2025"))
    forms = [w for w in window.findChildren(QDialog) if w.objectName() == "sessionForm" and w.isVisible()]
    assert len(forms) == 1
    first = file_view.session_form
    _double_click(qtbot, view, _row_of_date(view, "11/03/2025"))
    assert file_view.session_form is first
    assert len([w for w in window.findChildren(QDialog) if w.objectName() == "sessionForm" and w.isVisible()]) == 1
    first.reject()


def test_a_form_opened_before_a_newer_edit_cannot_overwrite_it(qtbot, open_window, programme, today):
    window = open_window(programme.referent)
    file_view = _open_family(qtbot, window, "Famille Lefèvre")
    _tab(file_view, "Séances")
    view = file_view.sessions_view
    view.setCurrentIndex(view.model().index(_row_of_date(view, "11/03/2025"), 0))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    form = file_view.session_form
    s2 = form.session
    # meanwhile, another computer (or another window) corrects the same session
    newer = SessionDraft(family_id=s2.family_id, intervenant_id=s2.intervenant_id, date=s2.date,
                         duration_minutes=120, start_time=s2.start_time)
    update_session(programme.uow(), programme.referent, s2.id, newer, today(), based_on=s2.updated_at)
    form.duration.selectAll()
    qtbot.keyClicks(form.duration, "45")
    form.save()
    qtbot.waitUntil(lambda: form.general_message.isVisible(), timeout=5000)
    assert "entre-temps" in form.general_message.text()
    assert form.isVisible()  # what was typed is still there to copy
    assert get_session(programme.uow(), programme.referent, s2.id).duration_minutes == 120
    form.reject()


def test_the_sessions_list_filters_the_sessions_awaiting_a_decision(qtbot, open_window, programme):
    window = open_window(programme.coordinator)
    page = window.show_page("sessions")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    everything = page.model.rowCount()
    expected = {r.id for r in list_sessions(programme.uow(), programme.coordinator, SessionQuery(decision="awaiting"))}
    assert expected and len(expected) < everything
    with qtbot.waitSignal(page.sessions_loaded, timeout=5000):
        page.show_awaiting()
    shown = {page.model.index(r, 0).data(ROW_ROLE).id for r in range(page.model.rowCount())}
    assert shown == expected
    assert page.model.rowCount() == len(expected)
    assert all(page.model.index(r, page.model.EXCEPTION).data() == "À décider" for r in range(page.model.rowCount()))
