"""Getting in: the first administrator of an empty store, the login with its French refusals (the same for an
unknown identifier and a wrong password), no account listed before the login, the last identifier remembered,
and the accounts dialog that gives the demo's accounts a password."""
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialogButtonBox, QLabel, QLineEdit, QMessageBox,
                               QWidget)

from services.permissions import SYSTEM
from services.directory import list_users
from services.users import change_password, disable_user
from ui.app import STYLE, AppController
from ui.login import FirstAdministratorDialog, LoginDialog
from ui.main_window import MainWindow
from ui.welcome import WelcomeWindow

PASSWORD = "cheval-agrafe-pile"


@pytest.fixture
def controller(qtbot, tmp_path):
    made = []

    def make(uow):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        c = AppController(uow, "", settings=settings, lock_delay_ms=3_600_000)
        made.append(c)
        return c

    yield make
    for c in made:  # close whatever window is left
        if c.window is not None:
            c.window.close()


def _shown(qtbot, controller, kind):
    window = controller.window
    assert isinstance(window, kind), type(window).__name__
    qtbot.addWidget(window)
    return window


def _fill(dialog: FirstAdministratorDialog, **values):
    for name, text in values.items():
        dialog.inputs[name].setText(text)
        dialog.inputs[name].textEdited.emit(text)  # as if typed: the inline check runs


def _log_in(qtbot, dialog: LoginDialog, key: str, password: str):
    dialog.key.setText(key)
    dialog.password.setText(password)
    with qtbot.waitSignal(dialog.logged_in, timeout=10_000) as signal:
        dialog.login_button.click()
    return signal.args[0]


def _refused(qtbot, dialog: LoginDialog, key: str, password: str) -> str:
    dialog.key.setText(key)
    dialog.password.setText(password)
    dialog.message.setVisible(False)
    dialog.login_button.click()
    qtbot.waitUntil(lambda: not dialog.message.isHidden() and dialog.buttons.isEnabled(), timeout=10_000)
    return dialog.message.text()


def _demo_entered(qtbot, uow, controller):
    """The demo loaded from the welcome window, then its first administrator (a.fabre) created: in its window."""
    app = controller(uow)
    app.start()
    welcome = _shown(qtbot, app, WelcomeWindow)
    with qtbot.waitSignal(welcome.demo_loaded, timeout=20_000):
        welcome.demo_button.click()
    first = _shown(qtbot, app, FirstAdministratorDialog)
    _fill(first, name="Agnès Fabre", key="a.fabre", password=PASSWORD, confirm=PASSWORD)
    with qtbot.waitSignal(first.logged_in, timeout=10_000):
        first.create_button.click()
    window = _shown(qtbot, app, MainWindow)
    return app, window


def test_first_start_creates_the_administrator_then_logs_in(qtbot, uow, controller):
    app = controller(uow)
    app.start()
    welcome = _shown(qtbot, app, WelcomeWindow)
    welcome.start_button.click()
    first = _shown(qtbot, app, FirstAdministratorDialog)

    _fill(first, name="Agnès Fabre", key="a.fabre", password="court")
    assert "au moins 12 caractères" in first.messages["password"].text() and first.messages["password"].isVisibleTo(first)
    _fill(first, password=PASSWORD, confirm=PASSWORD + "x")
    assert first.messages["password"].isHidden()
    assert first.messages["confirm"].text() == "Les deux mots de passe diffèrent."
    first.create_button.click()  # refused on the spot: nothing is created
    assert app.window is first and app.user is None

    _fill(first, confirm=PASSWORD)
    with qtbot.waitSignal(first.logged_in, timeout=10_000):
        first.create_button.click()
    window = _shown(qtbot, app, MainWindow)
    assert app.user.key == "a.fabre" and app.user.role == "administrator" and window.user == app.user
    assert "Agnès Fabre" in window.windowTitle()


def test_a_login_taken_by_the_service_rules_is_shown_next_to_the_field(qtbot, uow, controller):
    app = controller(uow)
    first = app.ask_first_administrator()
    qtbot.addWidget(first)
    _fill(first, name="Agnès", key="é-admin", password=PASSWORD, confirm=PASSWORD)
    first.create_button.click()
    qtbot.waitUntil(lambda: not first.messages["key"].isHidden(), timeout=10_000)
    assert first.messages["key"].text().startswith("L'identifiant doit faire de 1 à 64 caractères")
    assert app.window is first


def test_wrong_password_shows_the_french_message_and_stays(qtbot, programme, controller):
    change_password(programme.uow(), SYSTEM, "coord-durand", PASSWORD)
    app = controller(programme.uow)
    app.start()
    login = _shown(qtbot, app, LoginDialog)
    assert _refused(qtbot, login, "coord-durand", "pas le bon mot de passe") == "Identifiant ou mot de passe incorrect."
    assert app.window is login and app.user is None and login.password.text() == ""
    assert _refused(qtbot, login, "personne", PASSWORD) == "Identifiant ou mot de passe incorrect."
    user = _log_in(qtbot, login, "coord-durand", PASSWORD)
    window = _shown(qtbot, app, MainWindow)
    assert user.role == "coordinator" and app.user == user and window.user == user


def test_repeated_failures_impose_a_growing_delay_said_in_french(qtbot, programme, controller):
    change_password(programme.uow(), SYSTEM, "ref-martin", PASSWORD)
    app = controller(programme.uow)
    app.start()
    login = _shown(qtbot, app, LoginDialog)
    messages = [_refused(qtbot, login, "ref-martin", f"essai-numero-{n}") for n in range(5)]
    assert messages[-1] == "Identifiant ou mot de passe incorrect. Trop d'essais : réessayez dans 30 secondes."
    # During the delay even the right password is not checked.
    assert _refused(qtbot, login, "ref-martin", PASSWORD).startswith("Trop d'essais : réessayez dans")
    assert app.window is login


def test_a_disabled_account_is_refused_with_its_reason(qtbot, programme, controller):
    change_password(programme.uow(), SYSTEM, "ref-martin", PASSWORD)
    change_password(programme.uow(), SYSTEM, "coord-durand", PASSWORD)
    disable_user(programme.uow(), SYSTEM, "ref-martin")
    app = controller(programme.uow)
    app.start()
    login = _shown(qtbot, app, LoginDialog)
    assert _refused(qtbot, login, "ref-martin", PASSWORD) == ("Ce compte est désactivé. Adressez-vous à un "
                                                              "administrateur.")


def test_the_demo_lets_its_new_administrator_in_who_gives_a_demo_account_a_password(qtbot, uow, controller):
    app, window = _demo_entered(qtbot, uow, controller)

    users = window.open_users_dialog()
    qtbot.waitUntil(lambda: users.model.rowCount() > 1, timeout=5000)
    waiting = [a for a in users.model.rows() if not a.has_password]
    assert waiting and all(a.key != "a.fabre" for a in waiting)
    demo = next(a for a in waiting if a.role == "referent")
    users.select(demo.key)
    dialog = users.ask_password()
    dialog.inputs["password"].setText("court")
    dialog.inputs["confirm"].setText("court")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not dialog.messages["password"].isHidden(), timeout=5000)
    assert "au moins 12 caractères" in dialog.messages["password"].text()
    dialog.inputs["password"].setText(PASSWORD)
    dialog.inputs["confirm"].setText(PASSWORD)
    with qtbot.waitSignal(users.accounts_loaded, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert next(a for a in users.model.rows() if a.key == demo.key).has_password

    window.switch_user_requested.emit()
    login = _shown(qtbot, app, LoginDialog)
    assert app.user is None
    assert _log_in(qtbot, login, demo.key, PASSWORD).role == "referent"
    assert _shown(qtbot, app, MainWindow).user.key == demo.key


def test_the_accounts_dialog_adds_and_disables_an_account(qtbot, qtmodeltester, programme, open_window):
    window = open_window(programme.administrator)
    users = window.open_users_dialog()
    qtbot.waitUntil(lambda: users.model.rowCount() == 3, timeout=5000)
    qtmodeltester.check(users.model)
    qtmodeltester.check(users.proxy)
    dialog = users.ask_add()
    for name, text in (("name", "Bruno Nouveau"), ("key", "b.nouveau"), ("password", PASSWORD),
                       ("confirm", PASSWORD)):
        dialog.inputs[name].setText(text)
    dialog.inputs["role"].setCurrentIndex(dialog.inputs["role"].findData("coordinator"))
    with qtbot.waitSignal(users.accounts_loaded, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    added = next(a for a in users.model.rows() if a.key == "b.nouveau")
    assert (added.name, added.role, added.has_password, added.active) == ("Bruno Nouveau", "coordinator", True, True)

    users.select("b.nouveau")
    box = users.ask_disable()
    assert "Bruno Nouveau" in box.text()
    with qtbot.waitSignal(users.accounts_loaded, timeout=5000):
        box.button(QMessageBox.StandardButton.Yes).click()
    assert not next(a for a in users.model.rows() if a.key == "b.nouveau").active


def _texts(widget: QWidget) -> str:
    """Every text the dialog shows or holds: labels, fields (placeholders too), tooltips."""
    parts = [widget.windowTitle()]
    for child in widget.findChildren(QWidget):
        parts.append(child.toolTip())
        if isinstance(child, QLabel):
            parts.append(child.text())
        elif isinstance(child, QLineEdit):
            parts += [child.text(), child.placeholderText()]
    return "\n".join(parts)


def test_no_account_is_listed_before_the_login_not_even_those_without_a_password(qtbot, uow, controller):
    app, window = _demo_entered(qtbot, uow, controller)
    window.switch_user_requested.emit()
    login = _shown(qtbot, app, LoginDialog)

    accounts = [u for u in list_users(uow(), active_only=False) if u.key != "a.fabre"]
    assert len(accounts) > 3  # the demo's, all without a password
    shown = _texts(login)
    assert not [u.key for u in accounts if u.key in shown]
    assert not [u.name for u in accounts if u.name in shown]
    assert not login.findChildren(QComboBox) and not login.findChildren(QAbstractItemView)
    assert "Comptes sans mot de passe" not in shown


def test_the_last_identifier_is_remembered_and_the_cursor_waits_in_the_password(qtbot, programme, controller):
    change_password(programme.uow(), SYSTEM, "coord-durand", PASSWORD)
    app = controller(programme.uow)
    app.start()
    login = _shown(qtbot, app, LoginDialog)
    assert login.key.text() == "" and login.focusWidget() is login.key  # nobody logged in here yet
    _log_in(qtbot, login, "coord-durand", PASSWORD)
    _shown(qtbot, app, MainWindow).switch_user_requested.emit()

    again = _shown(qtbot, app, LoginDialog)
    assert again.key.text() == "coord-durand"
    assert again.focusWidget() is again.password


def test_a_failed_login_remembers_nothing(qtbot, programme, controller, tmp_path):
    change_password(programme.uow(), SYSTEM, "coord-durand", PASSWORD)
    app = controller(programme.uow)
    app.start()
    login = _shown(qtbot, app, LoginDialog)
    assert _refused(qtbot, login, "personne", PASSWORD) == "Identifiant ou mot de passe incorrect."
    assert QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat).value("login/last_key") is None


def _cut(dialog: QWidget) -> list[str]:
    """The wrapped labels shorter than their text needs and the fields squashed below their height."""
    found = []
    for child in dialog.findChildren(QWidget):
        if not child.isVisibleTo(dialog):
            continue
        if isinstance(child, QLabel) and child.wordWrap() and child.height() < child.heightForWidth(child.width()):
            found.append(f"label « {child.text()[:40]} »: {child.height()} < {child.heightForWidth(child.width())}")
        if isinstance(child, QLineEdit) and child.height() < child.sizeHint().height():
            found.append(f"field {child.objectName()}: {child.height()} < {child.sizeHint().height()}")
    return found


def test_the_short_password_message_squashes_no_field_of_the_first_administrator(qtbot, uow, controller,
                                                                                  app_style):
    app = controller(uow)
    first = app.ask_first_administrator("Programme de démonstration chargé : 32 familles, 41 enfants, 12 séances "
                                        "d'EPS et 640 séances à domicile.\n\nLes comptes fictifs du programme n'ont "
                                        "pas de mot de passe : créez d'abord votre compte d'administration.")
    qtbot.addWidget(first)
    qtbot.waitExposed(first)
    _fill(first, name="Agnès Fabre", key="a.fabre", password="court")
    assert first.messages["password"].isVisibleTo(first)
    qtbot.waitUntil(lambda: not _cut(first), timeout=2000)


@pytest.fixture
def app_style(qapp):
    """The window's own style sheet (its font size), as main.py sets it."""
    qapp.setStyleSheet(STYLE)
    yield
    qapp.setStyleSheet("")


def test_a_refused_login_keeps_every_line_of_its_note(qtbot, programme, tmp_path, app_style):
    change_password(programme.uow(), SYSTEM, "coord-durand", PASSWORD)
    app = AppController(programme.uow, "/home/agnes/.local/share/Parcours/parcours.sqlite", lock_delay_ms=3_600_000,
                        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    login = app.ask_login("Votre rôle a changé pendant que Parcours était verrouillé : reconnectez-vous pour "
                          "retrouver les pages qui vous reviennent.")
    qtbot.addWidget(login)
    qtbot.waitExposed(login)
    for n in range(5):  # the fifth refusal is two lines long
        message = _refused(qtbot, login, "coord-durand", f"essai-numero-{n}")
    assert "Trop d'essais" in message
    qtbot.waitUntil(lambda: not _cut(login), timeout=2000)
