"""The référent's main path, keyboard only: open a family, Ctrl+N, type the session, Enter, see it in the file."""
from datetime import date

import pytest
from PySide6.QtCore import Qt

from services.home_sessions import SessionQuery, count_sessions


@pytest.fixture
def window(open_window, programme):
    return open_window(programme.referent)


def _open_f1(qtbot, window):
    page = window.pages["families"]
    qtbot.waitUntil(lambda: page.model.rowCount() == 2)
    view = page.view
    view.setFocus()
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "Famille Lefèvre")
    view.setCurrentIndex(page.proxy.index(row, 0))
    with qtbot.waitSignal(page.family_opened, timeout=5000):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    return page


def test_referent_logs_a_session_with_the_keyboard_and_sees_it_in_the_family_file(qtbot, window, programme):
    page = _open_f1(qtbot, window)
    assert page.file_view.title.text() == "Famille Lefèvre"
    assert page.file_view.sessions.rowCount() == 2

    qtbot.keyClick(page.file_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = window.session_form
    assert form is not None and form.isVisible()
    assert form.family.currentText().startswith("Famille Lefèvre")
    assert form.intervenant.currentText().startswith("Nadia Benali")  # the family's usual intervenant
    assert form.date.text() == "20/03/2025"  # today
    qtbot.waitUntil(lambda: form.focusWidget() is form.date)
    form.date.selectAll()
    qtbot.keyClicks(form.date, "18/03/2025")
    qtbot.keyClick(form.date, Qt.Key.Key_Tab)  # -> intervenant, already right
    qtbot.keyClick(form.focusWidget(), Qt.Key.Key_Tab)  # -> duration
    assert form.focusWidget() is form.duration
    qtbot.keyClicks(form.duration, "1h30")
    with qtbot.waitSignal(window.session_saved, timeout=5000) as saved:
        qtbot.keyClick(form.duration, Qt.Key.Key_Return)
    row = saved.args[0]
    assert (row.date, row.duration_minutes, row.family_name) == (date(2025, 3, 18), 90, "Famille Lefèvre")
    qtbot.waitUntil(lambda: page.file_view.sessions.rowCount() == 3, timeout=5000)
    assert any(s.key == row.key for s in page.file_view.sessions.rows())
    assert "18/03/2025" in window.statusBar().currentMessage()


def test_invalid_entry_shows_the_reason_next_to_the_field_and_keeps_what_was_typed(qtbot, window, programme):
    page = _open_f1(qtbot, window)
    form = window.open_session_form(page.current_family_id())
    form.date.setText("25/03/2025")  # after today
    qtbot.keyClicks(form.duration, "9h")
    with qtbot.waitSignal(form.checked, timeout=5000):
        pass
    qtbot.waitUntil(lambda: form.messages["duration"].isVisible())
    assert "au plus 8 h" in form.messages["duration"].text()
    assert "futur" in form.messages["date"].text()
    qtbot.keyClick(form.duration, Qt.Key.Key_Return)
    qtbot.wait(300)
    assert form.isVisible() and form.duration.text() == "9h" and form.date.text() == "25/03/2025"
    assert count_sessions(programme.uow(), programme.referent, SessionQuery()) == 4


def test_holiday_session_warns_that_a_coordinator_must_approve(qtbot, window, programme):
    form = window.open_session_form(programme.family["F1"])
    form.date.setText("25/02/2025")
    form.duration.setText("60")
    qtbot.waitUntil(lambda: "Vacances scolaires" in form.messages["date"].text(), timeout=5000)
    assert "coordination" in form.messages["date"].text()
    with qtbot.waitSignal(form.session_saved, timeout=5000):  # a warning does not block
        form.save()


def test_family_can_be_typed_in_the_form(qtbot, window, programme):
    window.show_page("sessions")
    form = window.open_session_form()
    assert form.family.currentData() is None
    qtbot.keyClicks(form.family.lineEdit(), "diallo")
    form.family.lineEdit().editingFinished.emit()
    assert form.family.currentData() == programme.family["F2"]
    assert form.intervenant.currentText().startswith("Julien Morel")
