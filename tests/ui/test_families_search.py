"""The families list: the search also finds the parcours status and the notes (for who may read them), a status
filter, and a counter that says how many of the families are shown."""
from datetime import date

from models import Child, Family, Parcours
from services import families as families_service
from services.families import list_families
from tests.programme_fixture import add_family
from ui.pages.families_page import STATUS_FILTERS, FamiliesModel, FamiliesPage
from ui.table_model import search_proxy

TODAY = date(2025, 3, 20)


def _with_notes_and_a_closed_parcours(programme) -> None:
    """F1 (Lefèvre) gets notes; a third family of the référent gets a child whose parcours is closed."""
    lopez = add_family(programme, "F9", "Famille Lopez", referent_id=programme.referent.id)
    with programme.uow() as w:
        w.session.get(Family, programme.family["F1"]).notes = "Logement trop petit : demande HLM en cours"
        child = Child(key="C9", family_id=lopez, first_name="Inès", last_name="Lopez", birth_date=date(2014, 5, 2))
        w.session.add(child)
        w.session.flush()
        w.session.add(Parcours(key="P9", child_id=child.id, status="closed", start_date=date(2024, 1, 8),
                               end_date=date(2024, 12, 20), exit_reason="Objectifs atteints"))
        w.commit()


def _page(qtbot, programme, user, today):
    page = FamiliesPage(programme.uow, user, today=today)
    qtbot.addWidget(page)
    page.resize(1000, 600)
    page.show()
    with qtbot.waitSignal(page.families_loaded, timeout=10000):
        page.refresh()
    return page


def _names(page) -> list[str]:
    return sorted(page.proxy.index(r, FamiliesModel.NAME).data() for r in range(page.proxy.rowCount()))


def test_rows_carry_a_parcours_summary_and_notes_only_for_who_may_read_them(programme, monkeypatch):
    _with_notes_and_a_closed_parcours(programme)
    rows = {r.key: r for r in list_families(programme.uow(), programme.coordinator, TODAY)}
    assert (rows["F1"].parcours_status, rows["F1"].parcours_label) == ("open", "En cours")
    assert (rows["F9"].parcours_status, rows["F9"].parcours_label) == ("closed", "Clos")
    assert (rows["F2"].parcours_status, rows["F2"].parcours_label) == (None, "Sans parcours")
    assert rows["F1"].notes.startswith("Logement trop petit")
    monkeypatch.setattr(families_service, "notes_visible", lambda user: False)
    hidden = {r.key: r for r in list_families(programme.uow(), programme.coordinator, TODAY)}
    assert hidden["F1"].notes is None and hidden["F1"].parcours_status == "open"


def test_search_finds_the_parcours_status_and_the_notes_accents_ignored(qtbot, programme, today):
    _with_notes_and_a_closed_parcours(programme)
    page = _page(qtbot, programme, programme.referent, today)
    assert page.count_label.text() == "3 familles"
    page.search.setText("en cours")
    assert _names(page) == ["Famille Lefèvre"]
    page.search.setText("clos")
    assert _names(page) == ["Famille Lopez"]
    page.search.setText("hlm")  # in the notes, which no column shows
    assert _names(page) == ["Famille Lefèvre"]
    page.search.setText("lefevre")  # no accent typed
    assert _names(page) == ["Famille Lefèvre"]
    assert page.count_label.text() == "1 famille sur 3"


def test_notes_are_not_searched_for_who_may_not_read_them(qtbot, programme, today, monkeypatch):
    _with_notes_and_a_closed_parcours(programme)
    monkeypatch.setattr(families_service, "notes_visible", lambda user: False)
    page = _page(qtbot, programme, programme.referent, today)
    page.search.setText("hlm")
    assert _names(page) == [] and page.count_label.text() == "0 famille sur 3"


def test_status_filter_and_the_counter_follow_the_search(qtbot, programme, today):
    _with_notes_and_a_closed_parcours(programme)
    page = _page(qtbot, programme, programme.coordinator, today)
    total = page.model.rowCount()
    assert [page.status_filter.itemText(i) for i in range(page.status_filter.count())] == [
        label for label, _keep in STATUS_FILTERS]
    page.status_filter.setCurrentText("Parcours en cours")
    assert _names(page) == ["Famille Lefèvre"]
    assert page.count_label.text() == f"1 famille sur {total}"
    page.status_filter.setCurrentText("Sans parcours")
    assert "Famille Diallo" in _names(page) and "Famille Lefèvre" not in _names(page)
    page.search.setText("diallo")
    assert _names(page) == ["Famille Diallo"] and page.count_label.text() == f"1 famille sur {total}"
    page.status_filter.setCurrentText("Toutes")
    page.search.clear()
    assert page.count_label.text() == f"{total} familles"


def test_families_model_and_search_proxy_pass_the_model_tester(qtmodeltester, programme):
    _with_notes_and_a_closed_parcours(programme)
    model = FamiliesModel()
    model.set_rows(list_families(programme.uow(), programme.coordinator, TODAY))
    qtmodeltester.check(model)
    proxy = search_proxy(model)
    proxy.set_search("bourg")
    proxy.set_condition(lambda r: r.parcours_status is None)
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == len([r for r in model.rows() if r.parcours_status is None])
