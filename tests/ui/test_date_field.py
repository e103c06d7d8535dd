"""The one date field (ui.date_field.DateField) where it is used: typed freely, read by services.dates, its French
reason written under it, a calendar in French on Alt+Bas."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt

from services.conventions_admin import get_convention
from ui.admin.conventions_page import ConventionsPage
from ui.date_field import DateField
from ui.form_dialog import Field, FormDialog
from ui.pages.audit_page import AuditPage
from ui.session_form import SessionForm

TODAY = date(2025, 3, 20)


def _form(qtbot, submitted: list) -> FormDialog:
    dialog = FormDialog("Décision", [Field("decided_on", "Date de décision", "date", TODAY)],
                        lambda values: submitted.append(values) or values)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _type(qtbot, field: DateField, text: str) -> None:
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, text)


def test_typing_07_11_2025_in_a_form_date_gives_the_seventh_of_november(qtbot):
    submitted = []
    dialog = _form(qtbot, submitted)
    _type(qtbot, dialog.inputs["decided_on"], "07/11/2025")
    with qtbot.waitSignal(dialog.submitted, timeout=5000):
        dialog.save()
    assert submitted == [{"decided_on": date(2025, 11, 7)}]


def test_an_impossible_date_in_a_form_is_said_under_the_field_and_nothing_is_submitted(qtbot):
    submitted = []
    dialog = _form(qtbot, submitted)
    _type(qtbot, dialog.inputs["decided_on"], "31/02/2025")
    dialog.save()
    qtbot.wait(50)
    message = dialog.messages["decided_on"]
    assert message.isVisibleTo(dialog)
    assert message.text() == "Le 31 février 2025 n'existe pas (février 2025 a 28 jours)."
    assert submitted == [] and dialog.isVisible() and dialog.buttons.isEnabled()


def test_31_02_2025_in_the_session_form_shows_why_under_the_date(qtbot, programme):
    form = SessionForm(programme.uow, programme.referent, family_id=programme.family["F1"], today=lambda: TODAY)
    qtbot.addWidget(form)
    form.show()
    _type(qtbot, form.date, "31/02/2025")
    qtbot.waitUntil(lambda: not form.messages["date"].isHidden(), timeout=5000)
    assert form.messages["date"].text().startswith("Le 31 février 2025 n'existe pas")
    assert "février 2025 a 28 jours" in form.messages["date"].text()


def test_a_short_spelling_is_written_back_in_full_when_typing_ends(qtbot):
    field = DateField(TODAY)
    qtbot.addWidget(field)
    changed = []
    field.date_changed.connect(changed.append)
    field.selectAll()
    qtbot.keyClicks(field, "071125")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # typing finished
    assert field.text() == "07/11/2025" and field.date() == date(2025, 11, 7)
    assert changed == [date(2025, 11, 7)] and field.error() == ""


def test_an_unreadable_date_has_no_value_and_a_french_error(qtbot):
    field = DateField(TODAY)
    qtbot.addWidget(field)
    field.setText("07/11")
    assert field.date() is None and field.last_date() == TODAY
    assert field.error() == "Date incomplète : écrivez-la jj/mm/aaaa (par exemple 07/11/2025)."
    field.setText("")
    assert field.error() == "Indiquez la date."


def test_the_bounds_are_said_in_french(qtbot):
    field = DateField(TODAY, minimum=date(2025, 1, 1), maximum=date(2025, 12, 31))
    qtbot.addWidget(field)
    field.setText("31/12/2024")
    assert field.error() == "La date ne peut pas précéder le 01/01/2025."
    field.setText("01/01/2026")
    assert field.error() == "La date ne peut pas dépasser le 31/12/2025."


def test_alt_down_opens_a_french_calendar_and_a_picked_day_fills_the_field(qtbot):
    field = DateField(TODAY)
    qtbot.addWidget(field)
    field.show()
    qtbot.keyClick(field, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    popup = field.popup
    assert popup is not None and popup.isVisible()
    assert popup.selectedDate() == QDate(2025, 3, 20)
    assert popup.locale().language().name == "French" and popup.firstDayOfWeek() == Qt.DayOfWeek.Monday
    changed = []
    field.date_changed.connect(changed.append)
    popup.clicked.emit(QDate(2025, 3, 27))
    assert not popup.isVisible() and field.text() == "27/03/2025" and changed == [date(2025, 3, 27)]


def test_the_calendar_button_opens_the_calendar(qtbot):
    field = DateField(TODAY)
    qtbot.addWidget(field)
    field.show()
    field.calendar_action.trigger()
    assert field.popup is not None and field.popup.isVisible()
    qtbot.keyClick(field.popup, Qt.Key.Key_Escape)
    assert not field.popup.isVisible() and field.text() == "20/03/2025"


def test_taking_the_focus_selects_the_date_so_that_typing_replaces_it(qtbot):
    field = DateField(TODAY)
    qtbot.addWidget(field)
    field.show()
    qtbot.waitExposed(field)
    field.activateWindow()
    field.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: field.selectedText() == "20/03/2025", timeout=2000)


def test_an_unreadable_end_date_of_a_convention_is_refused_next_to_it_not_saved_open_ended(qtbot, programme):
    page = ConventionsPage(programme.uow, programme.administrator)
    qtbot.addWidget(page)
    editor = page.editor
    before = get_convention(programme.uow(), programme.administrator, "ap-2025")
    editor.end_edit.setText("31/06/2025")
    assert page.save_convention() is None
    assert editor.message_for("end") == "Le 31 juin 2025 n'existe pas (juin 2025 a 30 jours)."
    assert get_convention(programme.uow(), programme.administrator, "ap-2025").end == before.end is not None


def test_the_audit_period_says_an_unreadable_date_and_keeps_the_last_one_read(qtbot, programme):
    page = AuditPage(programme.uow, programme.coordinator, today=lambda: TODAY)
    qtbot.addWidget(page)
    page.since.setText("32/01/2025")
    page.since.editingFinished.emit()
    assert page.period_message.text() == "Du : Le jour 32 n'existe pas."
    assert page.filters()["since"].date() == date(2025, 2, 18)  # 30 days before TODAY, still
    with qtbot.waitSignal(page.entries_loaded, timeout=5000):  # a readable date: the list is asked again
        page.since.setText("01/01/2025")
        page.since.editingFinished.emit()
    assert page.period_message.isHidden() and page.filters()["since"].date() == date(2025, 1, 1)
