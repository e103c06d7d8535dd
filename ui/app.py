"""Start of the window: empty store -> welcome (demo in one click) -> first administrator -> main window;
otherwise the login dialog. The AppController is the one place where the current user is set (`set_user`).

While a main window is open, the controller also keeps its inactivity lock (ui.lock) and the automatic backups
(ui.autobackup: every 30 minutes when the data changed; when the user closes the main window, it stays on screen
until its copy is written, ui.closing; a switch of user copies in the background while the login shows).

A connected copy (a copy of the team server) is its enrolled user's: no login (an encrypted copy opens with their
password, ui.connect_dialog.UnlockDialog, which also takes a password changed elsewhere), no change of user, the lock
checks the copy's key; a revoked device's window stops using the erased copy (_WindowStore) and the first start
comes back.

The first window is up before anything it does not need: the main window and its pages are imported at the first
login, and the start's own work (`run_app(after_first_paint=…)`, the audit purge) runs once it is painted.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from services.backup import sqlite_file
from services.directory import CurrentUser, store_is_empty
from services.users import needs_first_administrator
from ui.autobackup import BACKUP_EVERY_MS, CLOSE_WAIT_MS, AutoBackup
from ui.background import run_in_background
from ui.errors import install_excepthook
from ui.lock import lock_delay_ms as delay_from_settings
from ui.login import FirstAdministratorDialog, LoginDialog
from ui.translations import install_french
from ui.welcome import WelcomeWindow

if TYPE_CHECKING:  # imported when someone logs in: the login dialog comes up without the pages and the billing
    from ui.lock import ScreenLock
    from ui.main_window import MainWindow

STYLE = """
QWidget { font-size: 13px; }
QTableView { gridline-color: #e4e7ec; selection-background-color: #d1e0ff; selection-color: #101828; }
QHeaderView::section { background: #f9fafb; padding: 4px 6px; border: none; border-bottom: 1px solid #d0d5dd;
                       font-weight: 600; }
QPushButton { padding: 5px 12px; }
QTabBar::tab { padding: 6px 14px; }
"""

DEMO_ACCOUNTS = ("Les comptes fictifs du programme (référent·es, coordination, administration) n'ont pas de mot "
                 "de passe : créez d'abord votre compte d'administration ; vous pourrez ensuite leur en donner un "
                 "depuis Administration › Utilisateurs.")


class AppController(QObject):
    """Holds the top-level window of the moment; the one place where the current user is set.

    `settings`, `lock_delay_ms`, `backup_interval_ms`, `backups_dir` and `today` are there for tests; by default
    the lock delay comes from the settings (ui.lock), backups go beside the database
    (services.backup.backups_folder)."""

    def __init__(self, uow_factory, db_label: str = "", *, settings: QSettings | None = None,
                 lock_delay_ms: int | None = None, backup_interval_ms: int = BACKUP_EVERY_MS,
                 backups_dir: Path | None = None, today: Callable[[], date] = date.today,
                 connect_copy: Callable | None = None, reopen_store: Callable[[], Callable] | None = None,
                 unlock_copy: Callable[[str], Callable] | None = None):
        super().__init__()
        self._uow = uow_factory
        self._db_label = db_label
        self._settings = settings
        self._today = today
        self.window = None
        self.main_window: MainWindow | None = None  # the last one made: the window is it while someone works
        self.user: CurrentUser | None = None
        self.screen_lock: ScreenLock | None = None
        self.lock_delay_ms = (lock_delay_ms if lock_delay_ms is not None
                              else delay_from_settings(settings if settings is not None else QSettings()))
        database = sqlite_file(db_label) if db_label else None
        self.autobackup: AutoBackup | None = None
        if database is not None and database.is_file():
            self.autobackup = AutoBackup(database, backups_dir=backups_dir, interval_ms=backup_interval_ms,
                                         parent=self)
            self.autobackup.failed.connect(self._backup_failed)
            self.autobackup.backed_up.connect(self._backup_done)
        self._backup_message = ""
        # A copy of the team server: how the first start connects it (ui.connect_dialog; default: client.connect on
        # this store), and the store opened again once a revoked device's copy is erased (None: the window quits).
        self._connect_copy = connect_copy
        self._reopen_store = reopen_store
        self.sync_runner = None  # ui.sync_runner.SyncRunner of the main window of a connected copy
        # An encrypted copy (uow_factory None until then): its password opens it (ui.connect_dialog.UnlockDialog).
        self._unlock_copy = unlock_copy
        self._new_password: tuple[str, str] | None = None  # ui.connect_dialog.UnlockDialog.rewrap_requested
        self._store: _WindowStore | None = None

    # -- getting in ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._uow is None and self._unlock_copy is not None:
            self.ask_unlock()
            return
        if store_is_empty(self._uow()):
            welcome = WelcomeWindow(self._uow, self._db_label)
            welcome.demo_loaded.connect(self._demo_loaded)
            welcome.start_requested.connect(lambda: self.ask_first_administrator())
            welcome.connect_requested.connect(lambda: self.ask_connection())
            self._replace(welcome)
        elif needs_first_administrator(self._uow()):
            self.ask_first_administrator()
        else:
            self.ask_login()

    def ask_unlock(self, message: str = ""):
        """A connected copy encrypted on this computer: its user's password opens it, then they work."""
        from ui.connect_dialog import UnlockDialog

        dialog = UnlockDialog(self._unlock_copy, None, self._db_label, message)
        dialog.rewrap_requested.connect(self._remember_new_password)
        dialog.unlocked.connect(self._copy_unlocked)
        self._replace(dialog)
        return dialog

    def _remember_new_password(self, previous: str, new: str) -> None:
        """Opened with the previous password: the new one waits (in memory only) for the server's confirmation."""
        self._new_password = (previous, new)

    def _copy_unlocked(self, uow_factory) -> None:
        from services.errors import DomainError
        from services.sync.client import acting_user

        self._uow = uow_factory
        try:
            user = acting_user(uow_factory)
        except DomainError:  # its account not received yet (a first pull cut short): the usual start goes on
            user = None
        if user is None:
            self.start()
        else:
            self.set_user(user)

    def ask_connection(self):
        """« Se connecter au serveur du programme » from the welcome: once connected, the enrolled user works."""
        from ui.connect_dialog import ConnectDialog

        dialog = ConnectDialog(self._uow, self.window, self._db_label, connect_copy=self._connect_copy)
        dialog.connected.connect(self._copy_connected)
        dialog.open()
        return dialog

    def _copy_connected(self, connected) -> None:
        from services.errors import DomainError
        from services.sync.client import acting_user

        if callable(connected):  # connect_copy made the copy anew (encrypted): its unit-of-work factory
            self._uow = connected

        try:
            user = acting_user(self._uow)  # their password was just checked by the server
        except DomainError as exc:  # their account not received (a server that sent no scope)
            from ui.errors import show_error

            show_error(self.window, exc)
            return
        self.set_user(user)

    def _device_revoked(self, message: str) -> None:
        """The copy and its backups are erased, its engine disposed: nothing may open it again (SQLite would make
        an empty file where it was). The pages still hold the factory: it now refuses; the window shows no data."""
        from ui.sync_runner import REVOKED_TEXT, show_revoked

        if self.autobackup is not None:  # nothing left to copy
            self.autobackup.stop()
            self.autobackup = None
        if self._store is not None:
            self._store.revoke(message)
        if self.screen_lock is not None:  # neither a lock to come nor a password to check against an erased key
            self.screen_lock.stop()
            self.screen_lock = None
        window = self.main_window
        if window is not None and shiboken6.isValid(window):
            window.uncover()  # a lock screen goes (not painted in between): the notice covers the pages instead
            from ui.widgets import note_label

            window.cover(note_label(REVOKED_TEXT, None))
            window.setWindowTitle("Parcours — poste retiré")
        # Not the main window's child: that window is deleted once the message is read, while the box reports it.
        self.revoked_box = show_revoked(None, message, self._after_revoked, reopens=self._reopen_store is not None)

    def _after_revoked(self) -> None:
        window = self.main_window
        if self._reopen_store is None:
            if window is not None and shiboken6.isValid(window):
                window.close_at_once()
            QApplication.quit()
            return
        self._uow = self._reopen_store()  # a new, empty copy: the start screen again
        self.start()

    def _demo_loaded(self, summary: str) -> None:
        self.ask_first_administrator(f"{summary}\n\n{DEMO_ACCOUNTS}")

    def ask_first_administrator(self, message: str = "") -> FirstAdministratorDialog:
        dialog = FirstAdministratorDialog(self._uow, None, self._db_label, message, settings=self._settings)
        dialog.logged_in.connect(self.set_user)
        self._replace(dialog)
        return dialog

    def ask_login(self, message: str = "") -> LoginDialog:
        self.user = None
        dialog = LoginDialog(self._uow, None, self._db_label, message, settings=self._settings)
        dialog.logged_in.connect(self.set_user)
        self._replace(dialog)
        return dialog

    def set_user(self, user: CurrentUser) -> MainWindow:
        """The one place where the current user (and so the role) is set: the window is built for them."""
        from ui.lock import ScreenLock
        from ui.main_window import MainWindow

        if self.screen_lock is not None:  # the previous window's (locked, on a role change): it would keep this one
            self.screen_lock.stop()      # off the screen, as it keeps every window shown while it is locked
            self.screen_lock = None
        new_password, self._new_password = self._new_password, None  # in memory no longer than needed
        if self.sync_runner is not None:  # its timers (a sync under way ends on its own); its password to confirm
            new_password = new_password or self.sync_runner.pending_password
            self.sync_runner.stop()
        self.user = user
        self._store = _WindowStore(self._uow)  # what this window's pages, lock and sync open their work with
        uow = self._store
        window = self.main_window = MainWindow(uow, user, db_label=self._db_label, settings=self._settings,
                                               today=self._today, autobackup=self.autobackup)
        window.switch_user_requested.connect(self._switch_user)
        from ui.sync_runner import attach_sync

        self.sync_runner = attach_sync(window, uow, user)  # None on a standalone copy: nothing changes
        enrolled = self.sync_runner is not None
        self.screen_lock = ScreenLock(window, uow, user, self.lock_delay_ms, enrolled=enrolled)
        self.screen_lock.switch_user_requested.connect(self.ask_login)
        self.screen_lock.role_changed.connect(self.set_user)
        window.lock_requested.connect(self.screen_lock.lock)
        if enrolled:
            self.sync_runner.revoked.connect(self._device_revoked)
            if new_password is not None:
                self.sync_runner.confirm_password(*new_password)
        self._replace(window)
        return window

    def _switch_user(self) -> None:
        """« Changer d'utilisateur » of the main window: the login, except on a connected copy, which belongs to its
        enrolled user (the accounts pulled from the server carry no password to log in with)."""
        if self.sync_runner is None or self.user is None:
            self.ask_login()
            return
        from PySide6.QtWidgets import QMessageBox

        from ui.lock import switch_refused_text

        box = QMessageBox(QMessageBox.Icon.Information, "Changer d'utilisateur", switch_refused_text(self.user),
                          parent=self.main_window)
        box.setObjectName("switchRefused")
        box.open()
        self.switch_refused_box = box

    # -- while working ------------------------------------------------------------------------------------------
    def _working_window(self) -> MainWindow | None:
        """The main window if it is open and not locked (its status bar is where backups report)."""
        window = self.window
        if (window is not None and window is self.main_window and shiboken6.isValid(window) and window.isVisible()
                and not window.covered):
            return window
        return None

    def _backup_failed(self, message: str) -> None:
        window = self._working_window()
        if window is not None:  # else it is in the log only: the window is closed or locked
            self._backup_message = message
            window.statusBar().showMessage(message, 60_000)

    def _backup_done(self, _report) -> None:
        window = self._working_window()
        if window is not None and self._backup_message and window.statusBar().currentMessage() == self._backup_message:
            window.statusBar().clearMessage()  # the failure it announced is behind us
        self._backup_message = ""

    def shutdown(self, timeout_ms: int = CLOSE_WAIT_MS) -> None:
        """After the last window closed: let the work still running finish, for a bounded time; a backup on screen
        (the main window waits for its own before closing, ui.closing: this is the copy a switch of user started)."""
        if self.autobackup is not None:
            self.autobackup.stop()
            if self.autobackup.running:
                from ui.closing import BACKUP_LABEL, busy_dialog

                progress = busy_dialog(BACKUP_LABEL, None)
                progress.show()
                self.autobackup.wait(timeout_ms)
                progress.close()
                progress.deleteLater()
        QThreadPool.globalInstance().waitForDone(timeout_ms)  # the start's own work (the audit purge)

    def _replace(self, widget) -> None:
        previous, self.window = self.window, widget
        if previous is not None and previous is self.main_window and self.screen_lock is not None:
            self.screen_lock.stop()
            self.screen_lock = None
        widget.show()
        if previous is not None and previous is not widget:
            close_at_once = getattr(previous, "close_at_once", None)  # a main window, which would wait for its work
            if close_at_once is not None:
                close_at_once()  # the next window is up and the process goes on: its work and copy go on too
                if self.autobackup is not None:
                    self.autobackup.backup_if_changed()
            else:
                previous.close()
            previous.deleteLater()


class _WindowStore:
    """The unit-of-work factory a main window works with: the store's own, until the device is revoked. Its copy is
    then erased and its engine disposed; a page, a late background task or the sync asking for a unit of work gets
    client.DeviceRevoked (said in French) instead of a new, empty file opened where the copy was."""

    def __init__(self, factory: Callable):
        self._factory = factory
        self.revoked: str | None = None

    def revoke(self, message: str) -> None:
        self.revoked = message

    def __call__(self):
        if self.revoked is not None:
            from services.sync.client import DeviceRevoked

            raise DeviceRevoked(self.revoked)
        return self._factory()


class FirstPaint(QObject):
    """Runs `then()` once `watched` has been painted for the first time: what the first window need not wait for."""

    def __init__(self, watched: QObject, then: Callable[[], None]):
        super().__init__(watched)
        self._then = then
        watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._then is not None:
            watched.removeEventFilter(self)
            then, self._then = self._then, None
            QTimer.singleShot(0, self, then)  # after this paint has reached the screen
        return False


def run_app(uow_factory, db_label: str = "", *, after_first_paint: Callable[[], None] | None = None,
            quit_after_first_paint: bool = False, reopen_store: Callable[[], Callable] | None = None,
            unlock_copy: Callable[[str], Callable] | None = None, connect_copy: Callable | None = None) -> int:
    """`after_first_paint()`: work of the start that the first window does not need (the audit purge), run on the
    thread pool once that window is on screen. `quit_after_first_paint`: for the start-up benchmark."""
    app = QApplication.instance() or QApplication(sys.argv)
    install_french(app)  # Qt's own dialogs, buttons and menus in French
    app.setOrganizationName("Parcours")
    app.setApplicationName("Parcours")
    app.setApplicationDisplayName("Parcours")
    from ui.about import application_icon

    app.setWindowIcon(application_icon())  # title bars and task bar
    app.setDesktopFileName("parcours")  # Wayland finds the icon through parcours.desktop
    app.setStyleSheet(STYLE)
    restore = install_excepthook()
    controller = AppController(uow_factory, db_label, reopen_store=reopen_store, unlock_copy=unlock_copy,
                               connect_copy=connect_copy)
    controller.start()

    def started() -> None:
        if quit_after_first_paint:
            print("painted", flush=True)  # benchmarks/gui_startup.py times the start from outside up to this line
            QTimer.singleShot(0, QApplication.quit)
        if after_first_paint is not None:
            run_in_background(controller, after_first_paint, lambda _result: None)

    FirstPaint(controller.window, started)
    try:
        return app.exec()
    finally:
        controller.shutdown()
        restore()
