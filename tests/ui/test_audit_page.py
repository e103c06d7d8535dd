"""The audit log page of the coordination: filtered by period, user, action and kind of record, searched, sorted
newest first; its model passes the model tester; it never shows a family's name."""
from datetime import date, datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QModelIndex

from services.audit import list_entries
from services.consent import record_consent
from services.errors import DomainError
from services.permissions import SYSTEM
from services.users import authenticate, change_password
from ui.pages.audit_page import AuditModel, AuditPage
from ui.table_model import ROW_ROLE
from ui.widgets import to_qdate

PASSWORD = "cheval-agrafe-pile"
BEFORE: set[str] = set()  # the entries written by loading the example programme


@pytest.fixture
def logged(programme):
    """Five entries after those of loading the example: a password set (now), a login 40 days ago, a failed login
    2 days ago, a login and a consent recorded by the coordinator (now)."""
    uow, now = programme.uow, datetime.now(timezone.utc)
    BEFORE.clear()
    BEFORE.update(e.id for e in list_entries(uow(), SYSTEM))
    change_password(uow(), SYSTEM, "coord-durand", PASSWORD)
    authenticate(uow(), "coord-durand", PASSWORD, clock=lambda: now - timedelta(days=40))
    with pytest.raises(DomainError):
        authenticate(uow(), "coord-durand", "pas le bon mot de passe", clock=lambda: now - timedelta(days=2))
    authenticate(uow(), "coord-durand", PASSWORD)
    record_consent(uow(), programme.coordinator, "F2", date.today(), "Accompagnement PRE")
    return programme


@pytest.fixture
def page(qtbot, logged):
    page = AuditPage(logged.uow, logged.coordinator)  # today: the real one, as the entries' times
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.entries_loaded, timeout=5000):
        page.refresh()
    return page


def _actions(page) -> list[str]:
    """The actions listed, in the list's order, leaving out those of loading the example."""
    return [page.proxy.index(r, AuditModel.ACTION).data() for r in range(page.proxy.rowCount())
            if page.proxy.index(r, 0).data(ROW_ROLE).id not in BEFORE]


def _filter(qtbot, page, change) -> None:
    with qtbot.waitSignal(page.entries_loaded, timeout=5000):
        change()


def test_the_last_thirty_days_newest_first(page):
    assert _actions(page) == ["Consentement enregistré", "Connexion", "Mot de passe changé",
                              "Connexion refusée (mot de passe)"]  # not the login of 40 days ago
    assert page.count_label.text() == f"{page.proxy.rowCount()} entrées"
    moments = [page.proxy.index(r, 0).data(ROW_ROLE).at for r in range(page.proxy.rowCount())]
    assert moments == sorted(moments, reverse=True)


def test_period_user_action_and_record_type_filter_the_list(qtbot, page):
    _filter(qtbot, page, lambda: page.since.setDate(to_qdate(date.today() - timedelta(days=60))))
    assert len(_actions(page)) == 5

    index = page.user_filter.findData("coord-durand")
    assert page.user_filter.itemText(index) == "Sophie Durand (coord-durand)"
    _filter(qtbot, page, lambda: page.user_filter.setCurrentIndex(index))
    assert sorted(_actions(page)) == ["Connexion", "Connexion", "Consentement enregistré"]
    assert {page.proxy.index(r, AuditModel.USER).data() for r in range(page.proxy.rowCount())} == {
        "Sophie Durand (coord-durand)"}

    _filter(qtbot, page, lambda: page.action_filter.setCurrentIndex(page.action_filter.findData("login")))
    assert _actions(page) == ["Connexion", "Connexion"]

    _filter(qtbot, page, lambda: page.user_filter.setCurrentIndex(0))
    _filter(qtbot, page, lambda: page.action_filter.setCurrentIndex(page.action_filter.findData("login_failed")))
    assert _actions(page) == ["Connexion refusée (mot de passe)"]
    assert page.proxy.index(0, AuditModel.USER).data() == "Avant connexion"
    assert page.proxy.index(0, AuditModel.FIELDS).data() == "failed_logins"

    _filter(qtbot, page, lambda: page.action_filter.setCurrentIndex(0))
    _filter(qtbot, page, lambda: page.type_filter.setCurrentIndex(page.type_filter.findData("family")))
    assert _actions(page) == ["Consentement enregistré"]
    assert page.proxy.index(0, AuditModel.RECORD_TYPE).data() == "Famille"
    assert page.proxy.index(0, AuditModel.RECORD_KEY).data() == "F2"  # a code, never the family's name

    _filter(qtbot, page, lambda: page.until.setDate(to_qdate(date.today() - timedelta(days=1))))
    assert page.proxy.rowCount() == 0 and page.count_label.text() == "0 entrée"


def test_search_narrows_the_loaded_list(page):
    page.search.setText("F2")
    assert _actions(page) == ["Consentement enregistré"]
    page.search.setText("")
    assert len(_actions(page)) == 4


def test_the_page_shows_no_family_name(page, logged):
    texts = [page.proxy.index(r, c).data() for r in range(page.proxy.rowCount())
             for c in range(page.proxy.columnCount())]
    assert texts and not any(name in t for t in texts if t for name in ("Diallo", "Lefèvre"))


def test_audit_model_and_proxy_pass_the_model_tester(qtmodeltester, page):
    assert page.model.rowCount(QModelIndex()) >= 4
    qtmodeltester.check(page.model)
    qtmodeltester.check(page.proxy)
    page.model.set_rows(())
    qtmodeltester.check(page.model)


def test_the_main_window_offers_the_audit_page_to_the_coordination_only(qtbot, logged, open_window):
    coordinator = open_window(logged.coordinator, date.today)  # the entries are dated today
    assert "Journal d'audit" in [coordinator.nav.item(i).text() for i in range(coordinator.nav.count())]
    page = coordinator.show_page("audit")
    assert isinstance(page, AuditPage)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    for user in (logged.referent, logged.administrator):
        window = open_window(user)
        assert "audit" not in [spec.key for spec in window.specs]
