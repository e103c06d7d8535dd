"""The coordinator's main path: validate an orientation proposed by the EPS, approve a flagged session."""
from datetime import date

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialogButtonBox

from models import HomeSession, Orientation
from services.orientations import add_situation, create_eps_meeting, propose_orientation
from tests.programme_fixture import add_family


@pytest.fixture
def proposed(programme):
    family = add_family(programme, "F9", "Famille Nouvelle", programme.referent.id)
    meeting = create_eps_meeting(programme.uow(), programme.coordinator, date(2025, 3, 18))
    situation = add_situation(programme.uow(), programme.coordinator, meeting.id, family, "Atout Plus")
    return propose_orientation(programme.uow(), programme.coordinator, situation.id, programme.convention["ap-2025"])


@pytest.fixture
def window(open_window, programme):
    return open_window(programme.coordinator)


def _queue(qtbot, window):
    page = window.page("queue")
    with qtbot.waitSignal(page.queue_loaded, timeout=5000):
        window.show_page("queue")
    return page


def test_coordinator_validates_an_orientation(qtbot, window, programme, proposed):
    page = _queue(qtbot, window)
    assert page.tabs.tabText(0) == "Orientations à décider (1)"
    page.orientations_view.setCurrentIndex(page.orientations_view.model().index(0, 0))
    dialog = page.ask_validate()
    assert dialog.inputs["decided_on"].text() == "20/03/2025"
    with qtbot.waitSignal(page.queue_loaded, timeout=5000):
        qtbot.keyClick(dialog.inputs["decided_on"], Qt.Key.Key_Return)
    assert page.tabs.tabText(0) == "Orientations à décider (0)"
    with programme.uow() as w:
        o = w.session.get(Orientation, proposed.id)
        assert (o.status, o.decided_on, o.decided_by_id) == ("validated", date(2025, 3, 20), programme.coordinator.id)


def test_rejecting_without_a_reason_keeps_the_dialog_open_with_the_message(qtbot, window, programme, proposed):
    page = _queue(qtbot, window)
    page.orientations_view.setCurrentIndex(page.orientations_view.model().index(0, 0))
    dialog = page.ask_reject()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.messages["reason"].isVisible(), timeout=5000)
    assert "motif" in dialog.messages["reason"].text()
    assert dialog.isVisible()
    dialog.inputs["reason"].setPlainText("La famille a déménagé")
    with qtbot.waitSignal(page.queue_loaded, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    with programme.uow() as w:
        assert w.session.get(Orientation, proposed.id).reason == "La famille a déménagé"


def test_coordinator_approves_a_flagged_session(qtbot, window, programme):
    page = _queue(qtbot, window)
    assert page.tabs.tabText(1) == "Séances à approuver (1)"  # S1, during the winter holidays
    flagged = page.flagged.row_at(0)
    assert flagged.session.key == "S1" and flagged.reasons_label == "Vacances scolaires"
    page.tabs.setCurrentIndex(1)
    page.flagged_view.selectAll()
    with qtbot.waitSignal(page.queue_loaded, timeout=5000):
        page.approve_selected()
    assert page.tabs.tabText(1) == "Séances à approuver (0)"
    with programme.uow() as w:
        s = w.session.get(HomeSession, flagged.session.id)
        assert s.approved_exception is True and s.approved_by_id == programme.coordinator.id


def test_coordinator_refuses_a_batch_with_a_reason(qtbot, window, programme):
    from services.home_sessions import SessionDraft, record_session

    record_session(programme.uow(), programme.coordinator,
                   SessionDraft(programme.family["F1"], programme.intervenant["i-aes"], date(2025, 3, 13), 60),
                   date(2025, 3, 20))
    page = _queue(qtbot, window)
    assert page.flagged.rowCount() == 2
    selection = page.flagged_view.selectionModel()
    for row in range(2):
        selection.select(page.flagged_view.model().index(row, 0),
                         QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    dialog = page.ask_refuse()
    assert dialog.windowTitle() == "Refuser 2 dérogations"
    dialog.inputs["reason"].setPlainText("Hors convention")
    with qtbot.waitSignal(page.queue_loaded, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert page.flagged.rowCount() == 0


def test_queue_lists_capacity_and_children_turning_17(qtbot, programme, open_window):
    window = open_window(programme.coordinator, lambda: date(2033, 1, 10))  # kept: qtbot holds it weakly
    page = _queue(qtbot, window)
    assert page.tabs.tabText(3) == "Enfants atteignant 17 ans (1)"
    assert page.leaving.row_at(0).child_name == "Lucas Lefèvre"
    assert [c.max_families for c in page.capacity.rows()] == [18]
