"""« Tableau de bord » on the example programme at 20/03/2025: F1 and F2 under Atout Plus (maximum 18); March's
draft 207,33 € of a 25 000 € cap; S1 (04/03, winter holidays) waits for a dérogation, no orientation proposed;
held sessions: S1 in the week of 03/03, S2 and S4 in the week of 10/03."""
from decimal import Decimal

from services.formatting import NBSP
from ui.pages.dashboard_page import DashboardPage


def _page(qtbot, programme, today, user=None, clock=None):
    page = DashboardPage(programme.uow, user or programme.coordinator, today=today)
    page.clock = clock or page.clock
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    return page


def test_the_dashboard_shows_the_programmes_figures(qtbot, programme, today):
    page = _page(qtbot, programme, today)
    texts = [w.text() for w in page.findChildren(type(page.as_of))]
    assert "Atout Plus — Adom 01 : 2 familles sur 18 au maximum" in texts
    assert page.decisions.text() == ("0 orientation proposée par l'EPS à valider\n"
                                     "1 séance attend une dérogation")
    assert page.budget_labels[0].text() == (
        f"Budget Atout Plus — Adom 01 (ap-2025) : 207,33{NBSP}€ engagés sur 25{NBSP}000,00{NBSP}€ (0,8 %) — "
        f"reste 24{NBSP}792,67{NBSP}€")
    cumulative, monthly, cap = page.budget_charts[0].series()
    assert cumulative.values[:3] == (Decimal("0.00"), Decimal("0.00"), Decimal("207.33"))
    assert cumulative.values[3:] == (None,) * 9 and cap.dashed and set(cap.values) == {Decimal("25000.00")}
    weeks = page.weeks_chart.series()[0].values
    assert len(weeks) == 13 and weeks[-3:] == (1, 2, 0)
    assert page.as_of.text() == "au 20/03/2025"


def test_the_charts_paint_something(qtbot, programme, today):
    page = _page(qtbot, programme, today)
    for chart in (page.weeks_chart, page.budget_charts[0]):
        image = chart.grab().toImage()
        colors = {image.pixel(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)}
        assert len(colors) > 4


def test_the_decisions_button_opens_the_queue_in_the_window(qtbot, open_window, programme):
    window = open_window(programme.coordinator)
    assert window.current_key() == "dashboard"  # the coordinator's first page
    page = window.page("dashboard")
    if page.dashboard is None:
        qtbot.waitSignal(page.loaded, timeout=10000).wait()
    assert page.queue_button.isEnabled()
    page.queue_button.click()
    assert window.current_key() == "queue"


def test_the_administration_sees_no_dashboard_page(open_window, programme):
    window = open_window(programme.administrator)
    assert "dashboard" not in [s.key for s in window.specs]
    assert "reports" in [s.key for s in window.specs]


def test_shown_again_the_board_is_kept_until_something_is_written_or_a_minute_has_passed(qtbot, programme, today):
    from services.session_exceptions import approve_exceptions, flagged_sessions
    from ui.pages.dashboard_page import REUSE_SECONDS

    now = [1000.0]
    page = _page(qtbot, programme, today, clock=lambda: now[0])
    first = page.dashboard
    now[0] += REUSE_SECONDS - 1
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    assert page.dashboard is first  # nothing written: kept
    waiting = [f.session.id for f in flagged_sessions(programme.uow(), programme.coordinator)]
    approve_exceptions(programme.uow(), programme.coordinator, waiting[:1])
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    assert page.dashboard is not first and page.decisions.text().endswith("0 séance attend une dérogation")
    second = page.dashboard
    now[0] += REUSE_SECONDS
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    assert page.dashboard is not second and page.dashboard == second  # a minute on: made afresh, same figures
