"""Automatic sync of a connected copy, off the GUI thread: every two minutes, a moment after each local save, and on
demand (« Synchroniser maintenant », F9, menu Fichier).

* One sync at a time: asked while one runs, another follows it once (a save made during a sync is pushed too).
* The work runs on the thread pool (ui.background) and opens its own units of work; entry is never blocked.
* An unreachable server is a quiet status (« Hors ligne — … »), never a dialog: the copy keeps every change.
* A fingerprint mismatch (possible interception) stops the sync with a warning; a revoked device (its copy erased
  by services.sync.client) is said calmly, then `revoked` lets the controller close the window.

`attach_sync(window, uow_factory, user)` puts the status label, the action and the runner on a main window, and
returns the runner; on a standalone copy it does nothing and returns None (today's window unchanged).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from services.errors import DomainError
from services.sync import client
from ui.background import run_in_background
from ui.sync_status import SyncStatusLabel

log = logging.getLogger("parcours.ui.sync")

SYNC_EVERY_MS = 2 * 60 * 1000
AFTER_SAVE_MS = 3000  # a burst of saves gives one sync
SHORTCUT = "F9"
CONFLICTS_PAGE = "conflicts"
# Signals of the pages that say a local write was saved (past tense): each one asks for a sync soon.
SAVED_SIGNALS = ("family_saved", "parcours_changed", "decided", "session_saved", "saved")


def _sync_and_status(sync: Callable[[], object], status: Callable[[], client.SyncStatus],
                     confirm: Callable[[], None] | None = None):
    """On the thread pool: one sync, then the status to show. A server out of reach, or one that refuses the
    exchange, is recorded by the client in the copy (last_error) and shown as a status, not raised. `confirm`: a new
    password to have the server confirm (then the copy's key is wrapped by it), tried once the sync reached the
    server; its outcome is (True, "") done, (False, the reason) refused for good, or None (to try again)."""
    try:
        report = sync()
    except (client.FingerprintMismatch, client.DeviceRevoked):
        raise
    except client.SyncError:
        report = None
    outcome = None
    if confirm is not None and report is not None:
        from services.local_crypto import WrongPassword

        try:
            confirm()
            outcome = (True, "")
        except (client.FingerprintMismatch, client.DeviceRevoked):
            raise
        except (client.PasswordNotConfirmed, WrongPassword) as exc:
            outcome = (False, exc.message)
        except client.SyncError:
            outcome = None  # out of reach again: at the next sync
    return report, status(), outcome


PASSWORD_CHANGED = ("Mot de passe changé sur le serveur du programme : la copie de ce poste s'ouvre désormais avec "
                    "le nouveau.")
PASSWORD_TAKEN = "Mot de passe mis à jour sur ce poste : la copie s'ouvre désormais avec votre nouveau mot de passe."


class SyncRunner(QObject):
    status_changed = Signal(object)  # SyncStatus
    syncing_changed = Signal(bool)
    synced = Signal(object)  # SyncReport of a sync that reached the server
    revoked = Signal(str)  # the copy was erased: the French message said to the user
    stopped = Signal(str)  # a certificate other than the pinned one: no more syncs until the next start
    password_confirmed = Signal(bool, str)  # a new password confirmed by the server (the key rewrapped), or not

    def __init__(self, uow_factory, user, parent: QObject | None = None, *, interval_ms: int = SYNC_EVERY_MS,
                 after_save_ms: int = AFTER_SAVE_MS, sync: Callable[[], object] | None = None,
                 status: Callable[[], client.SyncStatus] | None = None):
        super().__init__(parent)
        self._uow = uow_factory
        self._sync = sync or (lambda: client.sync_once(uow_factory))
        self._new_password: tuple[str, str] | None = None  # (previous, new): in memory only, until confirmed
        self._status = status or (lambda: client.sync_status(uow_factory(), user))
        self.running = False
        self.halted = False
        self._again = False
        self.task = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.sync_now)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(after_save_ms)
        self._soon.timeout.connect(self.sync_now)

    def start(self) -> None:
        """Syncs at once, then every interval."""
        if not self.halted:
            self.timer.start()
            self.sync_now()

    @property
    def pending_password(self) -> tuple[str, str] | None:
        """(previous, new) still to be confirmed by the server: a window built again for a new role takes it over."""
        return self._new_password

    def stop(self) -> None:
        self.timer.stop()
        self._soon.stop()
        self._again = False

    def sync_soon(self, *_args) -> None:
        """After a local save: a sync in a moment (several saves in a row give one)."""
        if not self.halted:
            self._soon.start()

    def sync_now(self, *_args) -> bool:
        """Starts a sync unless one runs (then one more follows it); False when none was started now."""
        if self.halted:
            return False
        if self.running:
            self._again = True
            return False
        self.running = True
        self.syncing_changed.emit(True)
        sync, status, pair, uow = self._sync, self._status, self._new_password, self._uow
        confirm = None if pair is None else (lambda: client.confirm_new_password(uow, *pair))
        self.task = run_in_background(self, lambda: _sync_and_status(sync, status, confirm),
                                      lambda result: self._done(result, pair), self._failed)
        return True

    def confirm_password(self, previous: str, new: str) -> None:
        """The copy was opened with the previous password after a change made elsewhere: the key is wrapped by the
        new one once the server confirms it, at this sync (started now) or a later one."""
        self._new_password = (previous, new)
        self.sync_now()

    def refresh_status(self) -> None:
        """The status read again (after a conflict resolved, say), off the GUI thread too."""
        status = self._status
        run_in_background(self, status, self.status_changed.emit, lambda exc: log.info("sync status unreadable"))

    def _finish(self) -> None:
        self.running = False
        self.syncing_changed.emit(False)
        if self._again and not self.halted:
            self._again = False
            self.sync_now()

    def _done(self, result, pair=None) -> None:
        report, status, outcome = result
        self.running = False  # those told below may ask for the next one
        if outcome is not None and self._new_password == pair:
            self._new_password = None
            self.password_confirmed.emit(outcome[0], PASSWORD_TAKEN if outcome[0] else outcome[1])
        if report is not None:
            self.synced.emit(report)
        self.status_changed.emit(status)
        self._finish()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, (client.DeviceRevoked, client.FingerprintMismatch)):
            self.halted = True
            self.stop()
            self.running = False
            self.syncing_changed.emit(False)
            (self.revoked if isinstance(exc, client.DeviceRevoked) else self.stopped).emit(exc.message)
            if isinstance(exc, client.FingerprintMismatch):
                self.refresh_status()
            return
        self._finish()  # unexpected: logged by ui.background; the status says the last one known
        self.refresh_status()


REVOKED_TEXT = "Ce poste a été retiré du programme par l'administrateur ; sa copie locale a été effacée."


def show_revoked(parent: QWidget | None, message: str, then: Callable[[], None], *,
                 reopens: bool = False) -> QMessageBox:
    """The calm word on a revoked device; `then()` once it is read (`reopens`: the start screen comes back, else the
    window closes). `message`, the client's sentence, is kept as the details."""
    box = QMessageBox(QMessageBox.Icon.Information, "Poste retiré", REVOKED_TEXT, parent=parent)
    box.setObjectName("deviceRevoked")
    after = ("Parcours revient à son premier écran : ce poste pourra être connecté à nouveau si l'administrateur "
             "l'y autorise." if reopens else "La fenêtre va se fermer.")
    box.setInformativeText("Rien n'est perdu pour le programme : ce qui avait été synchronisé est sur le serveur. "
                           f"{after}")
    box.setDetailedText(message)
    box.setWindowModality(Qt.WindowModality.WindowModal if parent is not None else
                          Qt.WindowModality.ApplicationModal)
    box.finished.connect(lambda _code: then())
    box.open()
    return box


def show_mismatch(parent: QWidget | None, message: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, "Certificat du serveur inattendu",
                      "La synchronisation est arrêtée : le serveur ne présente pas le certificat enregistré.",
                      parent=parent)
    box.setObjectName("fingerprintMismatch")
    box.setInformativeText(f"{message}\n\nQuelqu'un pourrait intercepter la connexion. Vos modifications restent "
                           "sur ce poste ; vous pouvez continuer à travailler hors ligne.")
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box


class _WindowSync(QObject):
    """What attach_sync adds to one main window: the label, the action, the saved signals listened to."""

    def __init__(self, window, runner: SyncRunner, label: SyncStatusLabel, uow_factory=None):
        super().__init__(window)
        self.window, self.runner, self.label = window, runner, label
        self._watched: set[int] = set()
        self._asked = False  # a sync asked for by the person (F9): its outcome is said
        self._report = None
        runner.status_changed.connect(label.set_status)
        runner.syncing_changed.connect(label.set_syncing)
        runner.synced.connect(self._synced)
        runner.status_changed.connect(self._said)
        runner.stopped.connect(lambda message: show_mismatch(self.window, message))
        runner.password_confirmed.connect(self._password_said)
        label.conflicts_requested.connect(self.show_conflicts)
        self.action = QAction("Synchroniser &maintenant", window)
        self.action.setObjectName("syncNow")
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setToolTip("Envoyer au serveur les modifications de ce poste et recevoir celles du programme")
        self.action.triggered.connect(self.sync_now)
        file_menu = window.menuBar().actions()[0].menu()
        before = next((a for a in file_menu.actions() if a.shortcut() == QKeySequence("Ctrl+L")), None)
        file_menu.insertAction(before, self.action)
        window.addAction(self.action)
        self._uow = uow_factory
        self.password_action = None
        if uow_factory is not None and client.copy_file(uow_factory) is not None:  # encrypted here: its key follows
            self.password_action = QAction("Changer mon &mot de passe…", window)
            self.password_action.setObjectName("changeOwnPassword")
            self.password_action.triggered.connect(self.ask_password)
            file_menu.insertAction(before, self.password_action)
        window.session_saved.connect(runner.sync_soon)
        window.page_shown.connect(self._watch_pages)
        self._watch_pages()

    def sync_now(self) -> None:
        """« Synchroniser maintenant »: its outcome is said in the status bar (the automatic ones only change the
        label)."""
        if self.runner.halted:
            self.window.statusBar().showMessage("La synchronisation est arrêtée (certificat du serveur inattendu) : "
                                                "prévenez le service informatique.", 10_000)
            return
        self._asked = True
        self.runner.sync_now()

    def _said(self, status) -> None:
        """After a sync asked for: what became of it, in the status bar."""
        if not self._asked or self.runner.running or not shiboken6.isValid(self.window):
            return
        self._asked = False
        report = self._report
        self._report = None
        if status.last_error:
            self.window.statusBar().showMessage(status.last_error, 15_000)
        elif report is not None:
            self.window.statusBar().showMessage(
                f"Synchronisé : {report.pushed} modification(s) envoyée(s), {report.pulled} reçue(s)"
                + (f", {report.conflicts} en conflit" if report.conflicts else "")
                + (f", {report.refused} refusée(s)" if report.refused else "") + ".", 10_000)

    def ask_password(self):
        """« Changer mon mot de passe… »: changed on the server (the current one asked again), then the copy's key
        is wrapped by the new one at once (client.change_own_password); returns the form (tests)."""
        from PySide6.QtWidgets import QLineEdit

        from services.errors import ValidationError
        from services.local_crypto import WrongPassword
        from ui.form_dialog import Field, open_form

        uow = self._uow

        def change(values: dict) -> None:
            if values["password"] != values["confirm"]:
                raise ValidationError("Les deux mots de passe diffèrent.", field="confirm")
            if not values["password"]:
                raise ValidationError("Saisissez le nouveau mot de passe.", field="password")
            try:
                client.change_own_password(uow, values["current"], values["password"])
            except WrongPassword:
                raise ValidationError("Mot de passe actuel incorrect : c'est celui qui ouvre la copie de ce poste.",
                                      field="current") from None

        dialog = open_form(self.window, "Changer mon mot de passe", [
            Field("current", "Mot de passe actuel"), Field("password", "Nouveau mot de passe"),
            Field("confirm", "Confirmation")], change,
            lambda _result: self._password_said(True, PASSWORD_CHANGED),
            intro="Votre mot de passe est celui de votre compte sur le serveur du programme : il y est changé (le "
                  "réseau est nécessaire), puis la copie de ce poste s'ouvre avec le nouveau. Au moins 12 "
                  "caractères, par exemple quatre mots sans rapport entre eux.", ok_label="Changer")
        for name in ("current", "password", "confirm"):
            dialog.inputs[name].setEchoMode(QLineEdit.EchoMode.Password)

        def forget(_result) -> None:  # the window's child otherwise, its fields holding three passwords meanwhile
            for name in ("current", "password", "confirm"):
                dialog.inputs[name].clear()
            dialog.deleteLater()

        dialog.finished.connect(forget)
        return dialog

    def _password_said(self, _taken: bool, message: str) -> None:
        if shiboken6.isValid(self.window):
            self.window.statusBar().showMessage(message, 30_000)

    def show_conflicts(self) -> None:
        if any(spec.key == CONFLICTS_PAGE for spec in self.window.specs):
            self.window.show_page(CONFLICTS_PAGE)

    def _watch_pages(self, *_args) -> None:
        for page in list(self.window.pages.values()):
            for source in (page, getattr(page, "file_view", None)):
                if source is None or id(source) in self._watched:
                    continue
                self._watched.add(id(source))
                for name in SAVED_SIGNALS:
                    signal = getattr(source, name, None)
                    if hasattr(signal, "connect"):
                        signal.connect(self.runner.sync_soon)
                if hasattr(source, "set_sync_runner"):  # the conflicts page: refreshed after each sync
                    source.set_sync_runner(self.runner)

    def _synced(self, report) -> None:
        if not shiboken6.isValid(self.window):
            return
        self._report = report
        page = self.window.pages.get(CONFLICTS_PAGE)
        if page is not None and self.window.current_page() is page and (report.conflicts or report.refused):
            page.refresh()


def add_conflicts_page(window) -> None:
    """« Conflits à résoudre » at the end of the navigation, for every role: a connected copy's page only (it is
    not in ui.main_window.PAGES, so a standalone copy's window stays exactly as it was)."""
    from PySide6.QtWidgets import QListWidgetItem

    from ui.main_window import PageSpec

    if any(spec.key == CONFLICTS_PAGE for spec in window.specs):
        return
    window.specs = (*window.specs, PageSpec(CONFLICTS_PAGE, "Conflits à résoudre",
                                            "ui.pages.conflicts_page:ConflictsPage", (window.user.role,)))
    item = QListWidgetItem("Conflits à résoudre")
    item.setData(Qt.ItemDataRole.UserRole, CONFLICTS_PAGE)
    window.nav.addItem(item)  # rows and specs stay aligned: both end with it


def attach_sync(window, uow_factory, user, *, start: bool = True, **runner_options) -> SyncRunner | None:
    """On a connected copy: the status label in the window's status bar, « Synchroniser maintenant » (F9) in its
    Fichier menu, syncs after saves and every two minutes; None (and nothing changed) on a standalone copy."""
    try:
        status = client.sync_status(uow_factory(), user)
    except DomainError:
        return None
    if not status.connected:
        return None
    add_conflicts_page(window)
    label = SyncStatusLabel(window)
    window.statusBar().insertPermanentWidget(0, label)
    label.set_status(status)
    runner = SyncRunner(uow_factory, user, window, **runner_options)
    window.sync_bar = _WindowSync(window, runner, label, uow_factory)
    window.closed.connect(runner.stop)
    if start:
        runner.start()
    return runner
