"""Every page of every role fits the 1280×800 screen of a city laptop: no page may force the window wider or taller
(a hidden page of a QStackedWidget counts too — a long row of buttons in the family file once pushed the
coordinator's window to 1433 px, its right side off the screen)."""
import pytest
from PySide6.QtCore import QThreadPool

from ui.main_window import pages_for

SCREEN = (1280, 800)


@pytest.mark.parametrize("role", ["referent", "coordinator", "administrator"])
def test_every_page_of_the_role_fits_a_1280_by_800_screen(qtbot, qapp, open_window, programme, role):
    from ui.app import STYLE

    before = qapp.styleSheet()
    qapp.setStyleSheet(STYLE)  # the application's paddings, as run_app sets them
    try:
        _check_pages(qtbot, open_window, programme, role)
    finally:
        qapp.setStyleSheet(before)


def _check_pages(qtbot, open_window, programme, role):
    window = open_window(getattr(programme, role))
    for spec in pages_for(getattr(programme, role)):
        window.show_page(spec.key)
        QThreadPool.globalInstance().waitForDone(5000)
        qtbot.wait(20)
        if spec.key == "families":
            page = window.page("families")
            qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
            with qtbot.waitSignal(page.family_opened, timeout=5000):
                page.open_family(page.model.rows()[0].id)
        needed = window.minimumSizeHint()
        assert needed.width() <= SCREEN[0] and needed.height() <= SCREEN[1], (spec.key, needed)
