"""The administrator's conventions page, offscreen, on the example dataset (convention ap-2025)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from services.billing import issue_statement
from services.conventions_admin import get_convention, list_partners, lock_message
from tests.programme_fixture import programme  # noqa: F401  (fixture)
from ui.admin.conventions_page import ConventionsPage
from ui.admin.table_models import ConventionsModel

HOME_AES = "tariffs.AES.home_intervention"


def open_page(qtbot, programme, user=None) -> ConventionsPage:  # noqa: F811
    page = ConventionsPage(programme.uow, user or programme.administrator)
    qtbot.addWidget(page)
    return page


def error_dialogs():
    return [w for w in QApplication.topLevelWidgets() if w.objectName() == "errorDialog" and w.isVisible()]


def type_into(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def test_page_lists_the_convention_and_shows_its_tariff_table(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    assert page.conventions_model.index(0, ConventionsModel.KEY).data() == "ap-2025"
    editor = page.editor
    assert editor.title.text() == "Convention ap-2025"
    assert editor.tariff_edits[("TISF", "home_intervention")].text() == "56,13"
    assert editor.budget_cap_edit.text() == "25\u00a0000,00"
    assert [c.isChecked() for c in editor.month_checks] == [m in (2, 4, 7, 10, 12) for m in range(1, 13)]
    assert editor.banner.isHidden() and not editor.is_modified()
    assert page.tabs.tabText(2) == "Intervenants (2)"


def test_negative_tariff_is_rejected_with_a_message_next_to_the_field(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    editor = page.editor
    type_into(qtbot, editor.tariff_edits[("AES", "home_intervention")], "-5")
    assert editor.message_for(HOME_AES) == "AES : Le montant ne peut pas être négatif."  # as it is typed
    saved = []
    page.convention_saved.connect(saved.append)
    editor.save_button.click()
    assert editor.message_for(HOME_AES) == "AES : Le montant ne peut pas être négatif."
    assert editor.problems() == {HOME_AES: "Le montant ne peut pas être négatif."}
    assert saved == [] and not error_dialogs()
    assert get_convention(programme.uow(), programme.administrator, "ap-2025").tariff("AES", "home_intervention") == Decimal("30.00")
    type_into(qtbot, editor.tariff_edits[("AES", "home_intervention")], "31,5")
    assert editor.message_for(HOME_AES) == ""
    editor.save_button.click()
    assert get_convention(programme.uow(), programme.administrator, "ap-2025").tariff("AES", "home_intervention") == Decimal("31.50")
    assert [s.key for s in saved] == ["ap-2025"]


def test_end_before_start_is_shown_next_to_the_end_date(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    editor = page.editor
    editor.end_edit.setDate(editor.start_edit.date() - timedelta(days=1))
    editor.save_button.click()
    assert "précède le début" in editor.message_for("end")


def test_issued_convention_shows_the_service_message_and_freezes_its_tariffs(qtbot, programme):  # noqa: F811
    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01")
    page = open_page(qtbot, programme)
    editor = page.editor
    expected = lock_message(get_convention(programme.uow(), programme.administrator, "ap-2025"))
    assert not editor.banner.isHidden() and expected in editor.banner.text()
    assert all(edit.isReadOnly() for edit in editor.tariff_edits.values())
    assert not editor.start_edit.isEnabled() and not any(c.isEnabled() for c in editor.month_checks)
    type_into(qtbot, editor.max_families_edit, "20")  # still editable
    editor.save_button.click()
    assert get_convention(programme.uow(), programme.administrator, "ap-2025").max_families == 20


def test_editing_tariffs_is_refused_once_a_month_was_issued_meanwhile(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)  # opened before the month is issued: the tariffs look editable
    editor = page.editor
    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01")
    type_into(qtbot, editor.tariff_edits[("TISF", "weekly_preparation")], "22,00")
    editor.save_button.click()
    message = lock_message(get_convention(programme.uow(), programme.administrator, "ap-2025"))
    assert "nouvelle convention ou un avenant avec sa date de début" in message
    assert not editor.banner.isHidden()
    qtbot.waitUntil(lambda: bool(error_dialogs()))
    assert error_dialogs()[0].text() == message
    error_dialogs()[0].done(0)
    assert get_convention(programme.uow(), programme.administrator, "ap-2025").tariff("TISF", "weekly_preparation") == Decimal("20.07")


def test_administrator_creates_a_convention_from_the_editor(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    page.new_convention_button.click()
    editor = page.editor
    assert editor.is_new() and editor.key_edit.text() == ""
    editor.save_button.click()
    assert set(editor.problems()) >= {"key", "partner", "action"}
    assert editor.message_for("key").startswith("La clé est obligatoire")
    qtbot.keyClicks(editor.key_edit, "AS-2026")
    editor.partner_combo.setCurrentIndex(editor.partner_combo.findData("adom"))
    editor.action_combo.setCurrentText("Accompagnement scolaire")
    qtbot.keyClicks(editor.tariff_edits[("AES", "home_intervention")], "28,00")
    editor.month_checks[5].setChecked(True)
    with qtbot.waitSignal(page.convention_saved) as saved:
        editor.save_button.click()
    assert saved.args[0].key == "AS-2026" and saved.args[0].period_end_months == (6,)
    assert {page.conventions_model.row_at(r).key for r in range(page.conventions_model.rowCount())} == {
        "ap-2025", "AS-2026"}
    assert editor.title.text() == "Convention AS-2026"


def test_partner_dialog_shows_errors_in_place_then_saves(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    dialog = page.open_partner_dialog()
    qtbot.keyClicks(dialog.key_edit, "pep")
    dialog.accept()
    assert dialog.isVisible() and dialog.errors["name"].text() == "Ce champ est obligatoire."
    qtbot.keyClicks(dialog.name_edit, "Les PEP de l'Ain")
    with qtbot.waitSignal(page.partner_saved):
        dialog.accept()
    assert [p.key for p in list_partners(programme.uow(), programme.administrator)] == ["adom", "pep"]
    assert page.tabs.tabText(1) == "Partenaires (2)"
    assert page.editor.partner_combo.findData("pep") >= 0


def test_intervenant_dialog_creates_an_intervenant(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    dialog = page.open_intervenant_dialog()
    qtbot.keyClicks(dialog.key_edit, "i-roux")
    dialog.name_edit.setText("Inès Roux")  # QTest types ASCII only
    dialog.qualification_combo.setCurrentIndex(dialog.qualification_combo.findData("TISF"))
    with qtbot.waitSignal(page.intervenant_saved) as saved:
        dialog.accept()
    assert (saved.args[0].qualification, saved.args[0].partner) == ("TISF", "adom")
    assert page.tabs.tabText(2) == "Intervenants (3)"


def test_other_roles_read_but_cannot_change_anything(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme, user=programme.coordinator)
    assert not page.new_convention_button.isEnabled() and not page.new_partner_button.isEnabled()
    assert not page.editor.save_button.isVisibleTo(page)
    assert all(edit.isReadOnly() for edit in page.editor.tariff_edits.values())


def test_a_new_programme_is_named_and_zoned_from_the_conventions_page(qtbot, tmp_path):
    from main import open_store
    from services.programme_settings import get_programme
    from services.users import authenticate, create_first_administrator

    _engine, uow = open_store(str(tmp_path / "empty.sqlite"))
    create_first_administrator(uow(), "a.fabre", "cheval-agrafe-pile", name="Agnès Fabre")
    administrator = authenticate(uow(), "a.fabre", "cheval-agrafe-pile")
    page = ConventionsPage(uow, administrator)
    qtbot.addWidget(page)
    assert "pas encore renseigné" in page.programme_label.text()
    dialog = page.open_programme_dialog()
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.messages["name"].isVisible(), timeout=5000)
    assert "nom du programme" in dialog.messages["name"].text()
    qtbot.keyClicks(dialog.inputs["name"], "PRE de Bourg-en-Bresse")
    qtbot.keyClicks(dialog.inputs["city"], "Bourg-en-Bresse")
    with qtbot.waitSignal(dialog.submitted, timeout=5000):
        qtbot.keyClick(dialog.inputs["city"], Qt.Key.Key_Return)
    assert get_programme(uow(), administrator).holiday_zone == "A"
    assert "PRE de Bourg-en-Bresse" in page.programme_label.text()


def test_a_tariff_of_zero_is_saved_only_after_confirmation(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    editor = page.editor
    type_into(qtbot, editor.tariff_edits[("AES", "home_intervention")], "0,00")
    asked = []
    page.confirm_zero_amounts = lambda names: asked.append(names) or False
    assert page.save_convention() is None
    assert asked == [("le tarif « Intervention à domicile » AES",)]
    assert get_convention(programme.uow(), programme.administrator, "ap-2025").tariff("AES", "home_intervention") == Decimal("30.00")
    page.confirm_zero_amounts = lambda names: True
    assert page.save_convention() is not None
    assert get_convention(programme.uow(), programme.administrator, "ap-2025").tariff("AES", "home_intervention") == Decimal("0.00")


# -- issue 9, defects B and D: avenants and an intervenant's dated changes -----------------------------------------

def test_new_amendment_asks_its_start_and_tariffs_and_the_list_shows_each_table_from_its_date(qtbot, programme):  # noqa: F811
    from datetime import date

    from ui.admin.dialogs import AmendmentDialog

    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01")
    page = ConventionsPage(programme.uow, programme.administrator, today=lambda: date(2025, 6, 20))
    qtbot.addWidget(page)
    assert page.editor.version_texts() == ["Tarifs en vigueur à partir du 01/01/2025 — convention — figés : mois émis"]
    page.editor.amendment_button.click()
    dialog = next(d for d in page.findChildren(AmendmentDialog) if d.isVisible())
    assert dialog.start_edit.date() == date(2025, 6, 20)  # today by default
    assert dialog.tariff_edits[("AES", "home_intervention")].text() == "30,00"  # the tariffs in force before
    type_into(qtbot, dialog.start_edit, "15/01/2025")
    dialog.accept()  # January is issued: refused in place, the dialog stays
    assert dialog.isVisible() and "janvier 2025 est émis" in dialog.errors["start"].text()
    type_into(qtbot, dialog.start_edit, "01/07/2025")
    type_into(qtbot, dialog.tariff_edits[("AES", "home_intervention")], "32,00")
    with qtbot.waitSignal(page.convention_saved):
        dialog.accept()
    assert page.editor.version_texts() == ["Tarifs en vigueur à partir du 01/01/2025 — convention — figés : mois émis",
                                           "Tarifs en vigueur à partir du 01/07/2025 — avenant"]
    versions = get_convention(programme.uow(), programme.administrator, "ap-2025").tariff_versions
    assert versions[1].tariff("AES", "home_intervention") == Decimal("32.00")
    assert versions[1].tariff("TISF", "home_intervention") == Decimal("56.13")


def test_intervenant_dialog_asks_from_which_date_a_new_qualification_holds(qtbot, programme):  # noqa: F811
    from datetime import date

    from services.conventions_admin import list_intervenants

    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01")
    page = ConventionsPage(programme.uow, programme.administrator, today=lambda: date(2025, 6, 1))
    qtbot.addWidget(page)
    aes = next(i for i in list_intervenants(programme.uow(), programme.administrator) if i.key == "i-aes")
    dialog = page.open_intervenant_dialog(aes)
    assert dialog.from_edit.isHidden()  # the name alone changes nothing billed
    dialog.qualification_combo.setCurrentIndex(dialog.qualification_combo.findData("TISF"))
    assert dialog.from_caption.text() == "À partir de quelle date ?" and not dialog.from_edit.isHidden()
    assert dialog.from_edit.date() == date(2025, 6, 1) and dialog.warning_label.isHidden()
    type_into(qtbot, dialog.from_edit, "20/01/2025")
    dialog.from_edit.editingFinished.emit()
    assert not dialog.warning_label.isHidden() and "régularisation" in dialog.warning_label.text()
    with qtbot.waitSignal(page.intervenant_saved) as saved:
        dialog.accept()
    assert [(p.start, p.qualification) for p in saved.args[0].history] == [(None, "AES"), (date(2025, 1, 20), "TISF")]


def test_the_editor_shows_atout_plus_rules_and_saves_an_hourly_convention_without_weekly_limit(qtbot, programme):  # noqa: F811
    """Issue 9: the billing model is data; the window shows and edits it."""
    page = open_page(qtbot, programme)
    editor = page.editor
    assert editor.per_week_combo.currentText() == "1"
    assert editor.holidays_check.isChecked() and editor.referent_check.isChecked()
    assert editor.unit_combo.currentText() == "à la séance"
    assert [editor.unit_combo.itemText(i) for i in range(editor.unit_combo.count())] == ["à la séance", "à l'heure"]
    assert editor.rounding_combo.isHidden()  # a rounding of durations means nothing per session
    editor.per_week_combo.setCurrentIndex(editor.per_week_combo.findText("sans limite"))
    editor.holidays_check.setChecked(False)
    editor.referent_check.setChecked(False)
    editor.unit_combo.setCurrentIndex(editor.unit_combo.findData("hour"))
    assert not editor.rounding_combo.isHidden() and editor.rounding_combo.currentText() == "au quart d'heure"
    assert editor.kind_captions["home_intervention"].text() == "Intervention à domicile (tarif horaire)"
    editor.rounding_combo.setCurrentIndex(editor.rounding_combo.findData(30))
    assert editor.is_modified()
    with qtbot.waitSignal(page.convention_saved):
        editor.save_button.click()
    stored = get_convention(programme.uow(), programme.administrator, "ap-2025")
    assert (stored.sessions_per_week, stored.holidays_need_exception, stored.referent_at_first_session,
            stored.home_unit, stored.hour_rounding_minutes) == (None, False, False, "hour", 30)
    editor.load(stored, list_partners(programme.uow(), programme.administrator), ())
    assert editor.per_week_combo.currentText() == "sans limite" and not editor.holidays_check.isChecked()
    assert editor.unit_combo.currentData() == "hour" and editor.rounding_combo.currentText() == "à la demi-heure"
    assert not editor.is_modified()


def test_the_rules_are_locked_once_a_month_is_issued(qtbot, programme):  # noqa: F811
    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01",
                    render_pdf=lambda s: b"%PDF-1.4")
    page = open_page(qtbot, programme)
    editor = page.editor
    assert not any(w.isEnabled() for w in (editor.per_week_combo, editor.holidays_check, editor.referent_check,
                                             editor.unit_combo))


# -- issue 9, conventions other than Atout Plus: qualifications, monthly flat, rounding, avenants edited in the window

def test_a_qualification_column_is_added_filled_and_saved_with_a_monthly_flat(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    editor = page.editor
    assert editor.qualifications() == ("AES", "TISF")
    editor.new_qualification_edit.setText("Éducateur")
    editor.add_qualification_button.click()
    assert editor.qualifications() == ("AES", "TISF", "Éducateur")
    assert editor.tariff_edits[("TISF", "home_intervention")].text() == "56,13"  # what was shown is kept
    type_into(qtbot, editor.tariff_edits[("Éducateur", "home_intervention")], "41,50")
    type_into(qtbot, editor.flat_edit, "12,00")
    assert editor.is_modified()
    with qtbot.waitSignal(page.convention_saved):
        editor.save_button.click()
    stored = get_convention(programme.uow(), programme.administrator, "ap-2025")
    assert stored.qualifications == ("AES", "TISF", "Éducateur")
    assert stored.tariff("Éducateur", "home_intervention") == Decimal("41.50")
    assert stored.monthly_family_flat == Decimal("12.00")
    assert editor.flat_edit.text() == "12,00" and editor.tariff_edits[("Éducateur", "home_intervention")].text() == "41,50"
    assert not editor.is_modified()


def test_a_duplicate_or_reserved_qualification_is_refused_next_to_the_field(qtbot, programme):  # noqa: F811
    editor = open_page(qtbot, programme).editor
    for typed, message in (("aes", "La colonne aes existe déjà."),
                           ("forfait", "« forfait » est réservé au forfait mensuel par famille suivie."),
                           ("", "La qualification est obligatoire (par exemple AES, TISF, Éducateur).")):
        editor.new_qualification_edit.setText(typed)
        editor.add_qualification_button.click()
        assert editor.message_for("qualifications") == message
        assert editor.qualifications() == ("AES", "TISF")


def test_a_column_goes_only_once_its_tariffs_are_emptied(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    editor = page.editor
    editor.remove_buttons["TISF"].click()
    assert editor.qualifications() == ("AES", "TISF")
    assert editor.message_for("qualifications").startswith("Videz d'abord les tarifs de la colonne TISF")
    for kind in ("home_intervention", "weekly_preparation", "launch_meeting", "period_end_meeting"):
        type_into(qtbot, editor.tariff_edits[("TISF", kind)], "")
    editor.remove_buttons["TISF"].click()
    assert editor.qualifications() == ("AES",) and ("TISF", "home_intervention") not in editor.tariff_edits
    assert editor.message_for("qualifications") == ""
    with qtbot.waitSignal(page.convention_saved):
        editor.save_button.click()
    stored = get_convention(programme.uow(), programme.administrator, "ap-2025")
    assert stored.qualifications == ("AES",) and stored.tariff("TISF", "home_intervention") is None


def test_a_column_cannot_be_added_or_removed_once_a_month_is_issued(qtbot, programme):  # noqa: F811
    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01", render_pdf=lambda s: b"%PDF-1.4")
    editor = open_page(qtbot, programme).editor
    assert editor.add_qualification_button.isHidden() and editor.remove_buttons["AES"].isHidden()
    assert editor.flat_edit.isReadOnly() and not editor.rounding_combo.isEnabled()


def test_an_hourly_convention_with_an_educateur_entered_in_the_window_is_billed_per_hour(qtbot, programme):  # noqa: F811
    from datetime import date

    from services.billing import get_statement
    from services.home_sessions import SessionDraft, record_session

    page = open_page(qtbot, programme)
    editor = page.editor
    editor.unit_combo.setCurrentIndex(editor.unit_combo.findData("hour"))
    editor.per_week_combo.setCurrentIndex(editor.per_week_combo.findText("sans limite"))
    editor.new_qualification_edit.setText("Éducateur")
    editor.add_qualification_button.click()
    type_into(qtbot, editor.tariff_edits[("Éducateur", "home_intervention")], "40,00")
    with qtbot.waitSignal(page.convention_saved):
        editor.save_button.click()
    dialog = page.open_intervenant_dialog()
    assert dialog.qualification_combo.findData("Éducateur") >= 0  # offered: the convention pays it
    qtbot.keyClicks(dialog.key_edit, "i-edu")
    dialog.name_edit.setText("Paul Morel")
    dialog.qualification_combo.setCurrentIndex(dialog.qualification_combo.count() - 1)
    assert dialog.qualification_combo.currentText() == "Nouvelle qualification…"
    assert not dialog.other_qualification_edit.isHidden()
    dialog.other_qualification_edit.setText("Educ")  # a label no convention pays yet: typed in
    assert dialog.qualification() == "Educ"
    dialog.qualification_combo.setCurrentIndex(dialog.qualification_combo.findData("Éducateur"))
    with qtbot.waitSignal(page.intervenant_saved) as saved:
        dialog.accept()
    assert saved.args[0].qualification == "Éducateur"
    for day, minutes in ((date(2025, 5, 6), 50), (date(2025, 5, 7), 90)):  # two in one week: no weekly limit
        record_session(programme.uow(), programme.referent, SessionDraft(
            family_id=programme.family["F1"], intervenant_id=_intervenant_id(programme, "i-edu"), date=day, duration_minutes=minutes, referent_present=True), date(2025, 5, 20))
    statement = get_statement(programme.uow(), programme.administrator, "ap-2025", "2025-05")
    hours = [line for line in statement.lines if line.qualification == "Éducateur"]
    # 50 min rounded up to 60, 90 min stays 90: 150 minutes at 40,00 € an hour = 100,00 €
    assert [(line.kind, line.quantity, line.amount) for line in hours] == [("home_hours", 150, Decimal("100.00"))]


def _intervenant_id(programme, key: str) -> str:  # noqa: F811 - `programme` is the fixture's value here
    from sqlalchemy import select

    from models import Intervenant

    with programme.uow() as w:
        return w.session.scalar(select(Intervenant.id).where(Intervenant.key == key))


def test_an_avenant_is_changed_then_withdrawn_from_the_list_of_tariff_tables(qtbot, programme):  # noqa: F811
    from datetime import date

    from services.conventions_admin import add_amendment

    add_amendment(programme.uow(), programme.administrator, "ap-2025", date(2025, 7, 1),
                  {("AES", "home_intervention"): "32,00", ("TISF", "home_intervention"): "58,00"})
    page = open_page(qtbot, programme)
    editor = page.editor
    editor.versions_list.setCurrentRow(0)  # the convention's own table: changed in the form, not here
    assert not editor.edit_amendment_button.isEnabled() and not editor.remove_amendment_button.isEnabled()
    editor.select_version(date(2025, 7, 1))
    assert editor.edit_amendment_button.isEnabled()
    editor.edit_amendment_button.click()
    from ui.admin.dialogs import AmendmentDialog
    dialog = next(d for d in page.findChildren(AmendmentDialog) if d.isVisible())
    assert dialog.windowTitle() == "Modifier l'avenant" and dialog.start_edit.date() == date(2025, 7, 1)
    assert dialog.tariff_edits[("AES", "home_intervention")].text() == "32,00"  # its own tariffs, not the first table's
    type_into(qtbot, dialog.start_edit, "01/08/2025")
    type_into(qtbot, dialog.tariff_edits[("AES", "home_intervention")], "33,00")
    with qtbot.waitSignal(page.convention_saved):
        dialog.accept()
    versions = get_convention(programme.uow(), programme.administrator, "ap-2025").tariff_versions
    assert [(v.start, v.tariff("AES", "home_intervention")) for v in versions] == [
        (date(2025, 1, 1), Decimal("30.00")), (date(2025, 8, 1), Decimal("33.00"))]

    asked = []
    page.confirm_remove_amendment = lambda start: asked.append(start) or True
    page.editor.select_version(date(2025, 8, 1))
    with qtbot.waitSignal(page.convention_saved):
        page.editor.remove_amendment_button.click()
    assert asked == [date(2025, 8, 1)]
    assert [v.start for v in get_convention(programme.uow(), programme.administrator, "ap-2025").tariff_versions] == [
        date(2025, 1, 1)]


def test_an_avenant_used_by_an_issued_month_cannot_be_changed_or_withdrawn(qtbot, programme):  # noqa: F811
    from datetime import date

    import pytest

    from services.conventions_admin import ConventionLocked, add_amendment, remove_amendment

    add_amendment(programme.uow(), programme.administrator, "ap-2025", date(2025, 2, 1),
                  {("AES", "home_intervention"): "32,00"})
    for month in ("2025-01", "2025-02"):
        issue_statement(programme.uow(), programme.administrator, "ap-2025", month, render_pdf=lambda s: b"%PDF-1.4")
    editor = open_page(qtbot, programme).editor
    editor.select_version(date(2025, 2, 1))
    assert not editor.edit_amendment_button.isEnabled() and not editor.remove_amendment_button.isEnabled()
    with pytest.raises(ConventionLocked, match="déjà émis"):
        remove_amendment(programme.uow(), programme.administrator, "ap-2025", date(2025, 2, 1))


def test_an_intervenant_of_a_new_qualification_is_typed_in_and_an_empty_one_refused(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    dialog = page.open_intervenant_dialog()
    qtbot.keyClicks(dialog.key_edit, "i-medi")
    dialog.name_edit.setText("Lina Haddad")
    assert dialog.other_qualification_edit.isHidden()
    dialog.qualification_combo.setCurrentIndex(dialog.qualification_combo.count() - 1)
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.errors["qualification"].text() == "La qualification est obligatoire (par exemple AES, TISF, Éducateur)."
    dialog.other_qualification_edit.setText("  Médiatrice ")
    with qtbot.waitSignal(page.intervenant_saved) as saved:
        dialog.accept()
    assert saved.args[0].qualification == "Médiatrice"


def test_the_qpv_button_opens_the_programme_s_list_for_the_administration_only(qtbot, programme):  # noqa: F811
    from PySide6.QtWidgets import QDialogButtonBox

    from services.programme_settings import qpv_names
    from ui.form_dialog import FormDialog

    coordinator_page = open_page(qtbot, programme, programme.coordinator)
    assert not coordinator_page.qpv_button.isEnabled()
    page = open_page(qtbot, programme)
    assert page.qpv_button.isEnabled()
    page.qpv_button.click()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in page.findChildren(FormDialog)), timeout=5000)
    dialog = next(d for d in page.findChildren(FormDialog) if d.isVisible())
    dialog.inputs["qpv_names"].setPlainText("Croix-Blanche\nGrande Reyssouze")
    with qtbot.waitSignal(dialog.submitted, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert qpv_names(programme.uow(), programme.administrator) == ("Croix-Blanche", "Grande Reyssouze")
