"""The closed lists in the family file's dialogs (ui.coded_form, ui.family_forms): French labels in the combo boxes,
the precision enabled only on « Autre (préciser) », the reasons ticked in a list, the programme's QPV offered, and
what is saved is what the services store."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialogButtonBox, QWidget

from models import Child, Family, Parcours
from services.programme_settings import save_programme, save_qpv_names


@pytest.fixture
def coordinator_window(open_window, programme):
    save_programme(programme.uow(), programme.administrator, "PRE de Bourg", "Bourg-en-Bresse", "A")
    save_qpv_names(programme.uow(), programme.administrator, ["Croix-Blanche", "Pont-des-Chèvres"])
    return open_window(programme.coordinator)


def _file_of_f1(qtbot, window):
    page = window.show_page("families")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "Famille Lefèvre")
    with qtbot.waitSignal(page.family_opened, timeout=5000):
        page.view.setCurrentIndex(page.proxy.index(row, 0))
        qtbot.keyClick(page.view, Qt.Key.Key_Return)
    view = page.file_view
    qtbot.waitUntil(lambda: view.record is not None, timeout=5000)
    return view


def _select_child(view, first_name):
    view.tabs.setCurrentIndex(1)
    model = view.children_view.model()
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data().startswith(first_name))
    view.children_view.setCurrentIndex(model.index(row, 0))


def _choose(combo: QComboBox, label: str) -> None:
    index = combo.findText(label)
    assert index >= 0, f"{label!r} not in {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(index)


def _save(qtbot, view, dialog):
    with qtbot.waitSignal(view.file_loaded, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible()


def test_the_parcours_dialog_offers_french_labels_and_opens_the_precision_on_autre(qtbot, coordinator_window,
                                                                                     programme):
    view = _file_of_f1(qtbot, coordinator_window)
    _select_child(view, "Lucas")
    dialog = view.ask_edit_parcours()
    source, precision = dialog.inputs["referral_source"], dialog.inputs["referral_source_other"]
    labels = [source.itemText(i) for i in range(source.count())]
    assert labels[0] == "—" and "Éducation nationale — CPE" in labels and labels[-1] == "Autre (préciser)"
    assert not precision.isEnabled()
    _choose(source, "Autre (préciser)")
    assert precision.isEnabled()
    _choose(source, "PMI")
    assert not precision.isEnabled()
    _choose(source, "Autre (préciser)")
    precision.setText("Club de football")

    reasons = dialog.inputs["referral_reasons"]
    reason_other = dialog.inputs["referral_reason_other"]
    assert {box.text() for box in reasons.findChildren(QCheckBox)} >= {"Santé", "Langage", "Autre (préciser)"}
    assert not reason_other.isEnabled()
    reasons.boxes["langage"].setChecked(True)
    reasons.boxes["absenteisme"].setChecked(True)
    reasons.boxes["autre"].setChecked(True)
    assert reason_other.isEnabled()
    reason_other.setText("Deuil récent")
    _choose(dialog.inputs["support_profile"], "Parcours renforcé")
    _save(qtbot, view, dialog)
    with programme.uow() as w:
        p = w.session.query(Parcours).filter_by(key="P1").one()
        assert (p.referral_source, p.referral_source_other, p.support_profile, p.referral_reason_other) == (
            "autre", "Club de football", "renforce", "Deuil récent")
        assert sorted(r.reason for r in p.reasons) == ["absenteisme", "autre", "langage"]
    _select_child(view, "Lucas")
    again = view.ask_edit_parcours()  # reopened on what was saved
    assert again.inputs["referral_source"].currentText() == "Autre (préciser)"
    assert again.inputs["referral_reasons"].checked() == ("langage", "absenteisme", "autre")
    again.reject()


def test_autre_without_its_precision_is_said_under_the_precision(qtbot, coordinator_window):
    view = _file_of_f1(qtbot, coordinator_window)
    _select_child(view, "Lucas")
    dialog = view.ask_edit_parcours()
    _choose(dialog.inputs["support_profile"], "Autre (préciser)")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    message = dialog.messages["support_profile_other"]
    qtbot.waitUntil(message.isVisible, timeout=5000)
    assert message.text() == "« Autre » est choisi pour « Profil d'accompagnement » : précisez-le."
    assert dialog.isVisible()
    dialog.reject()


def test_closing_a_parcours_records_its_exit_reason_from_the_list(qtbot, coordinator_window, programme):
    view = _file_of_f1(qtbot, coordinator_window)
    _select_child(view, "Lucas")
    dialog = view.ask_close_parcours()
    code = dialog.inputs["exit_reason_code"]
    assert code.itemText(0) == "— choisir —" and code.findText("Relais vers le droit commun") > 0
    _choose(code, "Autre (préciser)")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(dialog.messages["exit_reason"].isVisible, timeout=5000)
    _choose(code, "Relais vers le droit commun")
    dialog.inputs["exit_reason"].setPlainText("Suivi par le CMP")
    with qtbot.waitSignal(view.file_loaded, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    with programme.uow() as w:
        p = w.session.query(Parcours).filter_by(key="P1").one()
        assert (p.status, p.exit_reason_code, p.exit_reason) == ("closed", "relais_droit_commun", "Suivi par le CMP")
    lucas = next(c for c in view.children.rows() if c.first_name == "Lucas")
    assert "Relais vers le droit commun — Suivi par le CMP" in view.children.data(
        view.children.index(view.children.rows().index(lucas), view.children.OBJECTIVES))
    # the closed parcours can still be completed for the reports
    _select_child(view, "Lucas")
    assert view.child_buttons["plan"].isEnabled()
    completing = view.ask_edit_parcours()
    assert completing.windowTitle().startswith("Compléter le parcours clos")
    assert completing.inputs["exit_reason_code"].currentData() == "relais_droit_commun"
    completing.reject()


def test_a_child_gets_its_school_level_and_rep_from_combo_boxes(qtbot, coordinator_window, programme):
    view = _file_of_f1(qtbot, coordinator_window)
    _select_child(view, "Emma")
    dialog = view.ask_edit_child()
    level, rep = dialog.inputs["school_level"], dialog.inputs["priority_education"]
    assert [level.itemText(i) for i in range(level.count())] == [
        "—", "Maternelle", "Élémentaire", "Collège", "Lycée", "Non scolarisé"]
    _choose(level, "Élémentaire")
    _choose(rep, "REP+")
    _save(qtbot, view, dialog)
    with programme.uow() as w:
        emma = w.session.query(Child).filter_by(first_name="Emma").one()
        assert (emma.school_level, emma.priority_education) == ("elementaire", "rep_plus")
    emma_row = next(c for c in view.children.rows() if c.first_name == "Emma")
    assert view.children.data(view.children.index(view.children.rows().index(emma_row), view.children.LEVEL)) == (
        "Élémentaire · REP+")


def test_the_household_offers_the_programmes_qpv_and_takes_another_name(qtbot, coordinator_window, programme):
    view = _file_of_f1(qtbot, coordinator_window)
    dialog = view.ask_edit_household()
    qpv = dialog.inputs["qpv_name"]
    qtbot.waitUntil(lambda: qpv.count() == 2, timeout=5000)
    assert [qpv.itemText(i) for i in range(qpv.count())] == ["Croix-Blanche", "Pont-des-Chèvres"]
    qpv.setEditText("Les Vennes")  # not in the programme's list: accepted
    _save(qtbot, view, dialog)
    with programme.uow() as w:
        family = w.session.query(Family).filter_by(key="F1").one()
        assert (family.qpv_name, family.priority_neighbourhood) == ("Les Vennes", True)
    assert view.household["qpv"].text() == "Oui — Les Vennes"


def test_reasons_are_ticked_with_the_keyboard(qtbot, coordinator_window):
    view = _file_of_f1(qtbot, coordinator_window)
    _select_child(view, "Lucas")
    dialog = view.ask_edit_parcours()
    box = dialog.inputs["referral_reasons"].boxes["sante"]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert dialog.inputs["referral_reasons"].checked() == ("sante",)
    dialog.reject()


def test_the_administration_keeps_the_qpv_list_one_name_a_line(qtbot, programme):
    from ui.qpv_dialog import qpv_form

    parent = QWidget()
    qtbot.addWidget(parent)
    saved = []
    dialog = qpv_form(parent, programme.uow, programme.administrator, (), saved.append)
    dialog.inputs["qpv_names"].setPlainText("Croix-Blanche\n\n Les Vennes \ncroix-blanche")
    with qtbot.waitSignal(dialog.submitted, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert saved == [("Croix-Blanche", "Les Vennes")]


def test_the_qpv_list_needs_the_programme_first(qtbot, uow):
    from models import User
    from services.directory import list_users
    from ui.qpv_dialog import qpv_form

    with uow() as w:
        w.session.add(User(key="admin", name="Marc Petit", role="administrator"))
        w.commit()
    admin = list_users(uow())[0]
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = qpv_form(parent, uow, admin, (), lambda _r: None)
    dialog.inputs["qpv_names"].setPlainText("Croix-Blanche")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(dialog.messages["qpv_names"].isVisible, timeout=5000)
    assert "Le programme n'est pas encore renseigné" in dialog.messages["qpv_names"].text()


def test_closing_the_file_asks_the_exit_reason_of_its_running_parcours(qtbot, coordinator_window, programme):
    view = _file_of_f1(qtbot, coordinator_window)
    dialog = view.ask_close_family()
    _choose(dialog.inputs["exit_reason_code"], "Limite d'âge atteinte")
    dialog.inputs["closed_reason"].setPlainText("Lucas a 17 ans")
    _save(qtbot, view, dialog)
    with programme.uow() as w:
        p = w.session.query(Parcours).filter_by(key="P1").one()
        assert (p.status, p.exit_reason_code) == ("closed", "limite_age")
