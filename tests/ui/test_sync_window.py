"""The window of a connected copy against a real team server (uvicorn over TLS on 127.0.0.1, the fixtures of
tests/test_sync_client.py): the conflicts page resolves a real conflict, a refusal is withdrawn, the status bar and
F9 sync, and the first start connects from « Se connecter au serveur du programme » with its errors in French."""
import pytest
import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel

from services import home_sessions
from services.sync import client
from tests.service_cases import PASSWORD, TODAY
from tests.test_sync_client import (duration_changed_on_both_sides, free_port, laptop, new_laptop,  # noqa: F401
                                    server, sync_served, synced_session)
from ui.connect_dialog import ConnectDialog
from ui.pages.conflicts_page import ConflictsModel, ConflictsPage, RefusalsModel
from ui.sync_runner import attach_sync
from ui.sync_status import pending_text

NO_LOCK = 3_600_000  # an hour: these windows never lock during a test (a zero delay would lock them at once)


def loaded_page(qtbot, laptop, user) -> ConflictsPage:
    page = ConflictsPage(laptop.uow, user, today=lambda: TODAY)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.refresh()
    return page


def grid_texts(page: ConflictsPage, row: int) -> list[str]:
    grid = page.choices.grid
    return [grid.itemAtPosition(row, column).widget().text() for column in range(4)]


def test_a_real_conflict_is_shown_side_by_side_and_resolved_keeping_this_computers_value(qtbot, server, laptop):
    row, user, report = duration_changed_on_both_sides(server, laptop)  # 60 at first, 90 here, 75 on the server
    assert report.conflicts == 1
    page = loaded_page(qtbot, laptop, user)
    assert page.model.rowCount() == 1 and page.count_label.text() == "1 conflit(s), 0 refus"
    assert page.proxy.index(0, ConflictsModel.OPERATION).data() == "Séance modifiée"
    assert page.proxy.index(0, ConflictsModel.RECORD).data().startswith("Séance du 18/03/2025 — famille ")
    assert page.proxy.index(0, ConflictsModel.FIELDS).data() == "Durée (minutes)"
    assert grid_texts(page, 1) == ["Durée (minutes)", "60", "90", "75"]
    assert not page.resolve_button.isEnabled()  # nothing chosen yet
    page.choices.choose("duration_minutes", "local")
    assert page.resolve_button.isEnabled()
    with qtbot.waitSignal(page.resolved, timeout=10_000) as resolved:
        qtbot.mouseClick(page.resolve_button, Qt.MouseButton.LeftButton)
    assert resolved.args[0].resolved_at is not None
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=10_000)
    assert "Aucun conflit" in page.empty_label.text()
    assert client.sync_once(laptop.uow).conflicts == 0
    kept = home_sessions.get_session(server.uow(), server.users["coord-durand"], row.id)
    assert kept.duration_minutes == 90


def test_taking_the_servers_value_from_the_page_puts_it_on_this_computer(qtbot, server, laptop):
    row, user, _ = duration_changed_on_both_sides(server, laptop)
    page = loaded_page(qtbot, laptop, user)
    page.choices.choose("duration_minutes", "server")
    with qtbot.waitSignal(page.resolved, timeout=10_000):
        page.resolve()
    assert home_sessions.get_session(laptop.uow(), user, row.id).duration_minutes == 75


def test_a_refused_change_shows_its_reason_and_is_withdrawn_from_the_page(qtbot, server, laptop):
    row = synced_session(server, laptop)
    user = laptop.user("ref-martin")
    home_sessions.delete_session(server.uow(), server.users["coord-durand"], row.id)
    home_sessions.update_session(laptop.uow(), user, row.id, draft_of(server, duration_minutes=90), TODAY)
    assert client.sync_once(laptop.uow).refused == 1
    page = loaded_page(qtbot, laptop, user)
    assert page.refusals.rowCount() == 1
    reason = page.refusals_proxy.index(0, RefusalsModel.REASON).data()
    assert page.refusals_proxy.index(0, RefusalsModel.RECORD).data().startswith("Séance du 18/03/2025 — famille ")
    assert reason and reason[0].isupper()
    assert not page.withdraw_button.isEnabled()
    page.refusals_view.setCurrentIndex(page.refusals_proxy.index(0, 0))
    assert page.withdraw_button.isEnabled()
    with qtbot.waitSignal(page.withdrawn, timeout=10_000):
        page.withdraw(ask=False)
    qtbot.waitUntil(lambda: page.refusals.rowCount() == 0, timeout=10_000)
    assert client.list_refused(laptop.uow(), user) == ()


def draft_of(server, **changes):
    from tests.test_sync_client import draft

    return draft(server, **changes)


def test_the_conflict_and_refusal_models_pass_the_model_tester(qtbot, qtmodeltester, server, laptop):
    _, user, _ = duration_changed_on_both_sides(server, laptop)
    page = loaded_page(qtbot, laptop, user)
    qtmodeltester.check(page.model)
    qtmodeltester.check(page.proxy)
    qtmodeltester.check(page.refusals)


def connected_window(qtbot, laptop, tmp_path, user):
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(laptop.uow, user, settings=settings, today=lambda: TODAY)
    qtbot.addWidget(window)
    runner = attach_sync(window, laptop.uow, user, start=False)
    window.show()
    qtbot.waitExposed(window)
    return window, runner


def test_a_connected_window_syncs_on_f9_and_its_status_bar_says_so(qtbot, server, laptop, tmp_path):
    user = laptop.user("ref-martin")
    window, runner = connected_window(qtbot, laptop, tmp_path, user)
    label = window.findChild(QLabel, "syncStatus")
    assert runner is not None and label.plain_text() == "Pas encore synchronisé"
    assert window.nav.item(window.nav.count() - 1).text() == "Conflits à résoudre"
    home_sessions.record_session(laptop.uow(), user, draft_of(server), TODAY)
    runner.refresh_status()
    pending = client.sync_status(laptop.uow(), user).pending
    assert pending >= 1
    qtbot.waitUntil(lambda: label.plain_text() == f"Pas encore synchronisé — {pending_text(pending)}", timeout=10_000)
    [action] = [a for a in window.actions() if a.objectName() == "syncNow"]
    assert action.shortcut().toString() == "F9" and action in window.menuBar().actions()[0].menu().actions()
    with qtbot.waitSignal(runner.synced, timeout=20_000) as synced:
        action.trigger()
    assert synced.args[0].applied >= 1
    qtbot.waitUntil(lambda: label.plain_text().startswith("Synchronisé à"), timeout=10_000)
    assert "en attente" not in label.plain_text()


def test_a_conflict_in_the_status_bar_opens_its_page(qtbot, server, laptop, tmp_path):
    _, user, _ = duration_changed_on_both_sides(server, laptop)
    window, runner = connected_window(qtbot, laptop, tmp_path, user)
    label = window.findChild(QLabel, "syncStatus")
    assert label.plain_text().endswith("1 conflit à résoudre")
    label.linkActivated.emit("conflicts")
    assert window.current_key() == "conflicts"
    page = window.pages["conflicts"]
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)


def test_an_unreachable_server_leaves_the_window_quiet_and_offline(qtbot, server, laptop, tmp_path):
    from services.sync import local

    user = laptop.user("ref-martin")
    home_sessions.record_session(laptop.uow(), user, draft_of(server), TODAY)
    with laptop.engine.begin() as conn:
        local.write_state(conn, server_url=f"https://127.0.0.1:{free_port()}")
    window, runner = connected_window(qtbot, laptop, tmp_path, user)
    label = window.findChild(QLabel, "syncStatus")
    with qtbot.waitSignal(runner.status_changed, timeout=40_000):
        runner.sync_now()
    assert label.plain_text().startswith("Hors ligne — ") and "en attente" in label.plain_text()
    assert not runner.halted and window.isVisible()


# -- the first start: « Se connecter au serveur du programme » ---------------------------------------------------

def connect_dialog(qtbot, tmp_path):
    fresh = new_laptop(tmp_path, "fresh")
    dialog = ConnectDialog(fresh.uow)
    qtbot.addWidget(dialog)
    return fresh, dialog


def fill(dialog, url, user="ref-martin", password=PASSWORD, fingerprint=""):
    for name, value in (("url", url), ("user", user), ("password", password), ("fingerprint", fingerprint)):
        dialog.inputs[name].setText(value)


def submitted(qtbot, dialog):
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=40_000)


def shown_messages(dialog) -> dict[str, str]:
    messages = {name: label.text() for name, label in dialog.messages.items() if not label.isHidden()}
    if not dialog.general_message.isHidden():
        messages["general"] = dialog.general_message.text()
    return messages


def test_the_connect_dialog_says_each_missing_or_malformed_field_under_it(qtbot, tmp_path):
    _, dialog = connect_dialog(qtbot, tmp_path)
    fill(dialog, "http://serveur.pre", user="", password="", fingerprint="AB:CD")
    dialog.submit()
    messages = shown_messages(dialog)
    assert set(messages) == {"url", "user", "password", "fingerprint"} and dialog.task is None
    assert "https://" in messages["url"] and "64 chiffres" in messages["fingerprint"]


def test_a_wrong_password_is_said_under_the_password(qtbot, server, tmp_path):
    fresh, dialog = connect_dialog(qtbot, tmp_path)
    fill(dialog, server.url, password="pas le bon", fingerprint=server.fingerprint)
    submitted(qtbot, dialog)
    messages = shown_messages(dialog)
    assert list(messages) == ["password"] and dialog.inputs["password"].text() == ""
    assert dialog.result() == 0 and dialog.result_connection is None


def test_a_server_out_of_reach_is_said_under_the_address(qtbot, tmp_path):
    _, dialog = connect_dialog(qtbot, tmp_path)
    fill(dialog, f"https://127.0.0.1:{free_port()}", fingerprint="AB" * 32)
    submitted(qtbot, dialog)
    messages = shown_messages(dialog)
    assert list(messages) == ["url"] and messages["url"].startswith("Serveur injoignable")


def test_another_certificate_than_the_one_given_is_said_under_the_fingerprint(qtbot, server, tmp_path):
    fresh, dialog = connect_dialog(qtbot, tmp_path)
    fill(dialog, server.url, fingerprint="AB:" * 31 + "AB")
    submitted(qtbot, dialog)
    messages = shown_messages(dialog)
    assert list(messages) == ["fingerprint"] and "autre certificat" in messages["fingerprint"]
    with fresh.engine.connect() as conn:
        from services.sync import local

        assert local.read_state(conn) is None


def test_without_a_fingerprint_the_servers_is_shown_and_pinned_once_compared(qtbot, server, tmp_path):
    fresh, dialog = connect_dialog(qtbot, tmp_path)
    fill(dialog, server.url)
    submitted(qtbot, dialog)
    assert dialog.shown_fingerprint == server.fingerprint
    pairs = server.fingerprint.split(":")
    assert f"{':'.join(pairs[:16])}\n{':'.join(pairs[16:])}" in dialog.presented.text()
    assert not dialog.connect_button.isEnabled()
    dialog.same.setChecked(True)
    with qtbot.waitSignal(dialog.connected, timeout=40_000) as connected:
        dialog.submit()
    assert connected.args[0].fingerprint == server.fingerprint and connected.args[0].user_key == "ref-martin"
    assert "F1" in fresh.families()


def connected_from_the_welcome(qtbot, controller, server):
    """« Se connecter au serveur du programme », filled and sent: the enrolled user's window, its first sync done."""
    dialog = controller.ask_connection()
    fill(dialog, server.url, fingerprint=server.fingerprint)
    with qtbot.waitSignal(dialog.connected, timeout=40_000):
        dialog.submit()
    window = controller.main_window
    qtbot.addWidget(window)
    assert window.user.key == "ref-martin" and controller.sync_runner is not None
    qtbot.waitUntil(lambda: not controller.sync_runner.running, timeout=20_000)
    controller.sync_runner.stop()
    assert window.findChild(QLabel, "syncStatus").plain_text().startswith("Synchronisé à")
    return window


def test_the_first_start_connects_and_opens_the_window_of_the_enrolled_user(qtbot, server, tmp_path):
    from ui.app import AppController
    from ui.welcome import WelcomeWindow

    fresh = new_laptop(tmp_path, "first-start")
    settings = QSettings(str(tmp_path / "start.ini"), QSettings.Format.IniFormat)
    controller = AppController(fresh.uow, settings=settings, lock_delay_ms=NO_LOCK, today=lambda: TODAY)
    controller.start()
    assert isinstance(controller.window, WelcomeWindow)  # not qtbot's: the controller deletes it (tests/ui/conftest.py)
    assert controller.window.connect_button.text() == "Se connecter au serveur du programme"
    window = connected_from_the_welcome(qtbot, controller, server)
    window.close_at_once()


# -- what stops the sync ------------------------------------------------------------------------------------------

def test_a_certificate_other_than_the_pinned_one_stops_the_sync_with_a_warning(qtbot, server, laptop, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from services.sync import local

    with laptop.engine.begin() as conn:
        local.write_state(conn, fingerprint="AB:" * 31 + "AB")
    window, runner = connected_window(qtbot, laptop, tmp_path, laptop.user("ref-martin"))
    with qtbot.waitSignal(runner.stopped, timeout=20_000):
        runner.sync_now()
    box = window.findChild(QMessageBox, "fingerprintMismatch")
    qtbot.waitUntil(lambda: box.isVisible(), timeout=5000)
    assert "intercepter" in box.informativeText() and runner.halted
    assert runner.sync_now() is False  # F9 says it is stopped, no new attempt
    box.close()


def test_a_revoked_device_is_said_calmly_then_the_start_screen_comes_back(qtbot, server, laptop, tmp_path):
    from services import devices
    from services.sync import local
    from ui.app import AppController
    from ui.welcome import WelcomeWindow

    with laptop.engine.connect() as conn:
        device = local.read_state(conn)["device_key"]
    devices.revoke_device(server.uow(), server.users["admin-petit"], device)
    settings = QSettings(str(tmp_path / "start.ini"), QSettings.Format.IniFormat)
    controller = AppController(laptop.uow, settings=settings, lock_delay_ms=NO_LOCK, today=lambda: TODAY,
                               reopen_store=lambda: new_laptop(tmp_path, "after").uow)
    window = controller.set_user(laptop.user("ref-martin"))  # the runner syncs at once: the server says revoked
    families = window.show_page("families")
    qtbot.waitUntil(lambda: families.model.rowCount() > 0, timeout=10_000)
    qtbot.waitUntil(lambda: getattr(controller, "revoked_box", None) is not None, timeout=30_000)
    box = controller.revoked_box
    assert box.text() == ("Ce poste a été retiré du programme par l'administrateur ; sa copie locale a été "
                          "effacée.")
    assert "premier écran" in box.informativeText() and "effacée" in box.detailedText()
    assert not laptop.path.exists()
    assert isinstance(controller.window, type(window))  # the window stays until the message is read…
    assert window.covered and not window.isAncestorOf(families)  # …showing no family
    assert window.windowTitle() == "Parcours — poste retiré" and controller.screen_lock is None
    families.refresh()  # a page still holding the old factory: refused in French, the erased file not reopened
    qtbot.wait(500)
    with pytest.raises(client.DeviceRevoked):
        window._uow()
    assert not laptop.path.exists()
    box.accept()
    qtbot.waitUntil(lambda: isinstance(controller.window, WelcomeWindow), timeout=10_000)
    qtbot.addWidget(controller.window)
    assert not shiboken6.isValid(window) or not window.isVisible()



def test_f9_is_listed_with_the_windows_shortcuts_and_says_what_a_manual_sync_did(qtbot, server, laptop, tmp_path):
    from ui.help_dialogs import window_shortcuts

    user = laptop.user("ref-martin")
    window, runner = connected_window(qtbot, laptop, tmp_path, user)
    assert ("F9", "Synchroniser maintenant") in window_shortcuts(window)
    home_sessions.record_session(laptop.uow(), user, draft_of(server), TODAY)
    window.sync_bar.sync_now()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Synchronisé : "), timeout=20_000)
    assert "envoyée(s)" in window.statusBar().currentMessage()


def test_a_manual_sync_without_the_server_says_so_in_the_status_bar_only(qtbot, server, laptop, tmp_path):
    from services.sync import local

    with laptop.engine.begin() as conn:
        local.write_state(conn, server_url=f"https://127.0.0.1:{free_port()}")
    window, runner = connected_window(qtbot, laptop, tmp_path, laptop.user("ref-martin"))
    window.sync_bar.sync_now()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Serveur injoignable"), timeout=40_000)
    assert not runner.halted


def test_an_encrypted_copy_opens_with_its_users_password_and_refuses_another_in_french(qtbot, server, tmp_path):
    from models.db import make_engine, migrate
    from services import local_crypto
    from services.uow import unit_of_work_factory
    from ui.app import AppController
    from ui.connect_dialog import UnlockDialog

    path = tmp_path / "chiffree.sqlite"
    engine = make_engine(str(path), key=local_crypto.create_encrypted_copy(path, PASSWORD))
    migrate(engine)
    client.connect(unit_of_work_factory(engine), server.url, "ref-martin", PASSWORD, server.fingerprint)
    engine.dispose()
    opened = []

    def unlock_copy(password):
        opened.append(make_engine(str(path), key=local_crypto.unlock(path, password)))
        return unit_of_work_factory(opened[-1])

    settings = QSettings(str(tmp_path / "start.ini"), QSettings.Format.IniFormat)
    controller = AppController(None, settings=settings, lock_delay_ms=NO_LOCK, today=lambda: TODAY,
                               unlock_copy=unlock_copy)
    controller.start()
    dialog = controller.window
    assert isinstance(dialog, UnlockDialog)
    qtbot.addWidget(dialog)
    dialog.password.setText("pas le bon")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=20_000)
    assert dialog.message.isVisible() and dialog.message.text().startswith("Mot de passe incorrect")
    dialog.password.setText(PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=20_000)
    window = controller.main_window
    qtbot.addWidget(window)
    assert window.user.key == "ref-martin" and controller.sync_runner is not None
    qtbot.waitUntil(lambda: not controller.sync_runner.running, timeout=20_000)
    controller.sync_runner.stop()
    window.close_at_once()
    for made in opened:
        made.dispose()


def test_a_first_start_that_makes_an_encrypted_copy_works_on_that_copy(qtbot, server, tmp_path):
    from models.db import make_engine, migrate
    from services import local_crypto
    from services.uow import unit_of_work_factory
    from ui.app import AppController

    path = tmp_path / "chiffree.sqlite"
    made = []

    def connect_copy(url, user, password, fingerprint):
        made.append(make_engine(str(path), key=local_crypto.prepare_connected_copy(path, password)))
        migrate(made[-1])
        uow = unit_of_work_factory(made[-1])
        client.connect(uow, url, user, password, fingerprint)
        return uow

    fresh = new_laptop(tmp_path, "vide")
    settings = QSettings(str(tmp_path / "start.ini"), QSettings.Format.IniFormat)
    controller = AppController(fresh.uow, settings=settings, lock_delay_ms=NO_LOCK, today=lambda: TODAY,
                               connect_copy=connect_copy)
    controller.start()  # the welcome, replaced (and deleted) once connected
    window = connected_from_the_welcome(qtbot, controller, server)
    assert local_crypto.is_encrypted(path)
    with fresh.engine.connect() as conn:  # the empty store of the welcome stays as it was
        from services.sync import local

        assert local.read_state(conn) is None
    window.close_at_once()
    for engine in made:
        engine.dispose()


# -- the lock screen of an encrypted connected copy ----------------------------------------------------------------

def connected_controller(qtbot, tmp_path, laptop, **options):
    from ui.app import AppController

    settings = QSettings(str(tmp_path / "start.ini"), QSettings.Format.IniFormat)
    controller = AppController(laptop.uow, settings=settings, lock_delay_ms=NO_LOCK, today=lambda: TODAY,
                               **options)
    window = controller.set_user(laptop.user("ref-martin"))  # closed by each test (or replaced, then deleted)
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not controller.sync_runner.running, timeout=20_000)
    controller.sync_runner.stop()
    return controller, window


def unlock_with(qtbot, lock, password: str) -> None:
    screen = lock.screen
    screen.password.setText(password)
    screen.message.setVisible(False)
    screen.unlock_button.click()
    qtbot.waitUntil(lambda: not lock.is_locked or not screen.message.isHidden(), timeout=20_000)


def test_the_lock_of_an_encrypted_copy_opens_with_the_password_of_its_key_and_no_other(qtbot, server, tmp_path):
    from tests.test_sync_client import encrypted_laptop

    laptop = encrypted_laptop(server, tmp_path)
    controller, window = connected_controller(qtbot, tmp_path, laptop)
    lock = controller.screen_lock
    with qtbot.waitSignal(lock.locked, timeout=5000):
        window.lock_requested.emit()  # Ctrl+L
    unlock_with(qtbot, lock, "pas le bon")
    assert lock.is_locked and lock.screen.message.text() == "Mot de passe incorrect."
    with qtbot.waitSignal(lock.unlocked, timeout=20_000):
        unlock_with(qtbot, lock, PASSWORD)
    assert controller.window is window and window.isVisible() and not window.covered
    window.close_at_once()
    laptop.engine.dispose()


def test_changing_user_on_a_connected_copy_is_refused_in_french_and_the_window_stays(qtbot, server, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from tests.test_sync_client import encrypted_laptop

    laptop = encrypted_laptop(server, tmp_path)
    controller, window = connected_controller(qtbot, tmp_path, laptop)
    lock = controller.screen_lock
    lock.lock()
    lock.screen.switch_button.click()
    assert lock.is_locked and controller.window is window
    assert "ne s'ouvre qu'avec son mot de passe" in lock.screen.message.text()
    assert "Claire Martin (ref-martin)" in lock.screen.message.text()
    with qtbot.waitSignal(lock.unlocked, timeout=20_000):
        unlock_with(qtbot, lock, PASSWORD)
    window.switch_user_requested.emit()  # Fichier › Changer d'utilisateur…
    box = controller.switch_refused_box
    assert isinstance(box, QMessageBox) and "ne s'ouvre qu'avec son mot de passe" in box.text()
    assert controller.window is window and controller.user.key == "ref-martin"
    box.close()
    window.close_at_once()
    laptop.engine.dispose()


def test_a_password_changed_elsewhere_opens_the_copy_with_the_previous_one_then_takes_the_new(qtbot, server,
                                                                                            tmp_path):
    from models.db import make_engine
    from services import local_crypto, users
    from services.permissions import SYSTEM
    from services.uow import unit_of_work_factory
    from tests.test_sync_client import NEW_PASSWORD, encrypted_laptop
    from ui.app import AppController

    laptop = encrypted_laptop(server, tmp_path)
    laptop.engine.dispose()
    users.change_password(server.uow(), SYSTEM, "ref-martin", NEW_PASSWORD)  # on another computer
    opened = []

    def unlock_copy(password):
        opened.append(make_engine(str(laptop.path), key=local_crypto.unlock(laptop.path, password)))
        client.attach_if_connected(opened[-1])
        return unit_of_work_factory(opened[-1])

    settings = QSettings(str(tmp_path / "start.ini"), QSettings.Format.IniFormat)
    controller = AppController(None, settings=settings, lock_delay_ms=NO_LOCK, today=lambda: TODAY, unlock_copy=unlock_copy)
    controller.start()
    dialog = controller.window  # not qtbot's: the controller deletes it once the copy is open
    assert not dialog.changed_button.isVisibleTo(dialog)
    dialog.password.setText(NEW_PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=20_000)
    assert dialog.message.text().startswith("Mot de passe incorrect")
    assert dialog.changed_button.isVisibleTo(dialog)
    assert dialog.changed_button.text() == "Mot de passe modifié sur un autre poste ?"
    dialog.changed_button.click()
    assert dialog.asking_previous and dialog.password_label.text() == "Nouveau mot de passe"
    assert dialog.password.text() == NEW_PASSWORD  # as typed: not asked twice
    dialog.previous.setText("pas le bon non plus")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=20_000)
    assert dialog.previous_message.text().startswith("Mot de passe incorrect") and controller.main_window is None
    dialog.previous.setText(PASSWORD)
    with qtbot.waitSignal(dialog.rewrap_requested, timeout=20_000) as asked:
        dialog.submit()
    assert asked.args == [PASSWORD, NEW_PASSWORD]
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=20_000)
    window = controller.main_window
    qtbot.addWidget(window)
    from ui.sync_runner import PASSWORD_TAKEN

    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == PASSWORD_TAKEN, timeout=40_000)
    assert local_crypto.unlock(laptop.path, NEW_PASSWORD)
    controller.sync_runner.stop()
    qtbot.waitUntil(lambda: not controller.sync_runner.running, timeout=20_000)
    window.close_at_once()
    for made in opened:
        made.dispose()


def test_changing_ones_password_from_a_connected_window_changes_it_on_the_server_and_rewraps_at_once(
        qtbot, server, tmp_path):
    from services import local_crypto, users
    from tests.test_sync_client import NEW_PASSWORD, encrypted_laptop
    from ui.sync_runner import PASSWORD_CHANGED

    laptop = encrypted_laptop(server, tmp_path)
    controller, window = connected_controller(qtbot, tmp_path, laptop)
    action = window.sync_bar.password_action
    assert action is not None and action in window.menuBar().actions()[0].menu().actions()
    dialog = window.sync_bar.ask_password()
    for name, value in (("current", "pas le bon"), ("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)):
        dialog.inputs[name].setText(value)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=20_000)
    assert dialog.messages["current"].text().startswith("Mot de passe actuel incorrect")
    dialog.inputs["current"].setText(PASSWORD)
    with qtbot.waitSignal(dialog.submitted, timeout=40_000):
        dialog.save()
    assert window.statusBar().currentMessage() == PASSWORD_CHANGED
    assert users.authenticate(server.uow(), "ref-martin", NEW_PASSWORD).key == "ref-martin"
    assert local_crypto.unlock(laptop.path, NEW_PASSWORD)
    window.close_at_once()
    laptop.engine.dispose()


def test_a_plain_connected_copy_offers_no_password_change(qtbot, server, laptop, tmp_path):
    window, _runner = connected_window(qtbot, laptop, tmp_path, laptop.user("ref-martin"))
    assert window.sync_bar.password_action is None


def test_a_role_changed_while_locked_opens_the_enrolled_users_window_for_the_new_role(qtbot, server, tmp_path):
    from sqlalchemy import text

    from tests.test_sync_client import encrypted_laptop

    laptop = encrypted_laptop(server, tmp_path)
    controller, window = connected_controller(qtbot, tmp_path, laptop)
    lock = controller.screen_lock
    lock.lock()
    with laptop.engine.begin() as conn:  # as a pull would bring it: the administration made them coordinator
        conn.execute(text("UPDATE app_user SET role = 'coordinator' WHERE key = 'ref-martin'"))
    lock.screen.password.setText(PASSWORD)
    lock.screen.unlock_button.click()
    qtbot.waitUntil(lambda: controller.main_window is not window, timeout=20_000)
    qtbot.addWidget(controller.main_window)
    qtbot.wait(100)  # the old lock, had it been left watching, would have hidden the new window by now
    rebuilt = controller.main_window
    assert rebuilt.isVisible() and not rebuilt.testAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    assert controller.user.key == "ref-martin" and controller.user.role == "coordinator"
    assert controller.main_window.user.role == "coordinator" and controller.sync_runner is not None
    qtbot.waitUntil(lambda: not controller.sync_runner.running, timeout=20_000)
    controller.sync_runner.stop()
    controller.main_window.close_at_once()
    laptop.engine.dispose()
