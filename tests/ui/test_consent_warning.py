"""The family file warns, visibly, when the family's parental consent is not recorded (services.consent)."""
from services.consent import record_consent


def _open(qtbot, window, family_id):
    page = window.show_page("families")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    with qtbot.waitSignal(page.family_opened, timeout=5000):
        page.open_family(family_id)
    return page.file_view


def test_a_family_without_consent_shows_the_warning_and_one_with_consent_does_not(qtbot, programme, open_window):
    window = open_window(programme.coordinator)
    view = _open(qtbot, window, programme.family["F2"])  # Famille Diallo: no consent in the example
    assert view.consent_warning.isVisible()
    assert view.consent_warning.text().startswith("⚠ Consentement parental non recueilli")
    with qtbot.waitSignal(view.file_loaded, timeout=5000):
        view.show_family(programme.family["F1"])  # Famille Lefèvre: consent recorded
    assert not view.consent_warning.isVisible()


def test_recording_the_consent_removes_the_warning(qtbot, programme, open_window, today):
    window = open_window(programme.coordinator)
    view = _open(qtbot, window, programme.family["F2"])
    record_consent(programme.uow(), programme.coordinator, "F2", today(), "Parcours de réussite éducative")
    with qtbot.waitSignal(view.file_loaded, timeout=5000):
        view.reload()
    assert not view.consent_warning.isVisible()
