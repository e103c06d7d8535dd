"""Every custom table model passes Qt's model tester, with real rows in it."""
from datetime import date

from services.activity import family_hours, monthly_activity
from services.directory import CurrentUser
from services.families import family_file, list_families
from services.home_sessions import week_sessions
from services.orientations import list_orientations
from services.session_exceptions import flagged_sessions
from ui.pages.activity_page import ActivityModel
from ui.pages.families_page import FamiliesModel
from ui.pages.family_file import ChildrenModel, OrientationsModel, TotalsModel
from ui.pages.queue_page import FlaggedModel
from ui.pages.sessions_page import LazySessionsModel
from ui.pages.week_page import WeekModel
from ui.table_model import ROW_ROLE, SORT_ROLE, Column, text_column

TODAY = date(2025, 3, 20)


def test_families_model(qtmodeltester, programme):
    model = FamiliesModel()
    model.set_rows(list_families(programme.uow(), programme.coordinator, TODAY))
    qtmodeltester.check(model)
    assert model.index(0, FamiliesModel.LAST_SESSION).data(SORT_ROLE) == "2025-03-12"


def test_family_file_models(qtmodeltester, programme):
    file = family_file(programme.uow(), programme.referent, programme.family["F1"], TODAY)
    children = ChildrenModel()
    children.set_rows(file.children)
    qtmodeltester.check(children)
    orientations = OrientationsModel(with_family=True)
    orientations.set_rows(list_orientations(programme.uow(), programme.coordinator))
    qtmodeltester.check(orientations)
    totals = TotalsModel(text_column("Intervenant·e", lambda t: t.name))
    totals.set_rows(family_hours(programme.uow(), programme.coordinator, programme.family["F1"]).by_intervenant)
    qtmodeltester.check(totals)
    assert totals.index(0, 0).data(ROW_ROLE).minutes == 120


def test_activity_and_flagged_models(qtmodeltester, programme):
    activity = ActivityModel()
    activity.set_rows(monthly_activity(programme.uow(), programme.coordinator, "2025-03").lines)
    qtmodeltester.check(activity)
    flagged = FlaggedModel()
    flagged.set_rows(flagged_sessions(programme.uow(), programme.coordinator))
    qtmodeltester.check(flagged)


def test_week_model_shades_holidays(qtmodeltester, programme):
    model = WeekModel()
    model.set_week(week_sessions(programme.uow(), programme.referent, date(2025, 3, 5)))  # S1 on 04/03 (holidays)
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    from PySide6.QtCore import Qt
    lefevre = next(r for r in range(2) if model.index(r, 0).data() == "Famille Lefèvre")
    assert model.index(lefevre, 2).data().startswith("14:00 · N.\u00a0Benali · 1\u00a0h")  # Tuesday 04/03
    assert model.index(lefevre, 2).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "vacances" in model.headerData(2, Qt.Orientation.Horizontal)


def test_lazy_sessions_model_fetches_by_page(qtbot, qtmodeltester, programme, monkeypatch):
    import ui.pages.sessions_page as sessions_page

    monkeypatch.setattr(sessions_page, "PAGE_SIZE", 3)
    model = LazySessionsModel(programme.uow, programme.coordinator)
    model.reload()
    assert (model.rowCount(), model.total, len(model.loaded_rows())) == (4, 4, 3)
    assert model.index(3, LazySessionsModel.DATE).data() == "…"  # asked for: the second page is read next
    with qtbot.waitSignal(model.page_loaded, timeout=5000):
        pass
    assert len(model.loaded_rows()) == 4 and model.index(3, LazySessionsModel.DATE).data() != "…"
    qtmodeltester.check(model)
    from PySide6.QtCore import Qt
    model.sort(LazySessionsModel.FAMILY, Qt.SortOrder.AscendingOrder)
    assert model.index(0, LazySessionsModel.FAMILY).data() == "Famille Diallo"
    model.set_text("benali")
    assert model.total == 2


def test_generic_rows_model_with_colours(qtmodeltester):
    from PySide6.QtGui import QColor

    from ui.table_model import RowsModel

    model = RowsModel((text_column("Nom", lambda u: u.name), Column("Rôle", lambda u: u.role, lambda u: u.role)),
                      foreground=lambda u, c: QColor("red") if c == 1 else None)
    model.set_rows([CurrentUser("1", "a", "Élodie", "referent"), CurrentUser("2", "b", "Denis", "coordinator")])
    qtmodeltester.check(model)
    assert model.index(0, 0).data(SORT_ROLE) == "elodie"
