"""The shell: pages by role, remembered size and page, the welcome that loads the demo in one click."""
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from ui.app import AppController
from ui.login import FirstAdministratorDialog
from ui.main_window import MainWindow
from ui.welcome import WelcomeWindow


def _labels(window):
    return [window.nav.item(i).text() for i in range(window.nav.count())]


def _window(qtbot, programme, user, tmp_path, today):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(programme.uow, user, settings=settings, today=today)
    qtbot.addWidget(window)
    return window


def test_each_role_sees_only_its_pages(qtbot, programme, tmp_path, today):
    referent = _window(qtbot, programme, programme.referent, tmp_path, today)
    assert _labels(referent) == ["Mes familles", "Semaine", "Toutes les séances", "Activité du mois"]
    coordinator = _window(qtbot, programme, programme.coordinator, tmp_path, today)
    assert "À valider" in _labels(coordinator) and "Séances d'EPS" in _labels(coordinator)
    administrator = _window(qtbot, programme, programme.administrator, tmp_path, today)
    assert _labels(administrator) == ["Toutes les séances", "Activité du mois", "Bilans", "États mensuels", "Conventions"]
    assert not administrator.new_session_action.isEnabled()
    assert administrator.open_session_form() is None


def test_admin_pages_load_or_fall_back_to_a_placeholder(qtbot, programme, tmp_path, today):
    administrator = _window(qtbot, programme, programme.administrator, tmp_path, today)
    for key in ("statements", "conventions"):
        assert administrator.show_page(key) is administrator.stack.currentWidget()


def test_window_remembers_size_and_last_page(qtbot, programme, tmp_path, today):
    first = _window(qtbot, programme, programme.referent, tmp_path, today)
    first.show()
    first.show_page("activity")
    first.resize(first.width(), 500)  # the offscreen screen is only 800x600: keep the width as is
    first.close()
    second = _window(qtbot, programme, programme.referent, tmp_path, today)
    assert second.current_key() == "activity"
    assert second.height() == 500  # not the default 760


def test_empty_store_offers_the_demo_then_asks_for_the_first_administrator(qtbot, uow, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    controller = AppController(uow, "test.sqlite", settings=settings)
    controller.start()
    welcome = controller.window
    assert isinstance(welcome, WelcomeWindow)
    qtbot.addWidget(welcome)
    with qtbot.waitSignal(welcome.demo_loaded, timeout=20000):
        welcome.demo_button.click()
    first = controller.window
    assert isinstance(first, FirstAdministratorDialog) and controller.user is None
    qtbot.addWidget(first)
    assert any("n'ont pas de mot de passe" in label.text() for label in first.findChildren(QLabel))
