"""The inactivity lock: after a while without keyboard or mouse input, the window hides everything personal
behind a lock screen and asks for the current user's password again.

Nothing is closed or reset while locked: the pages are taken out of the window whole (MainWindow.cover), the open
dialogs (a half-filled session form…) are hidden, and unlocking puts everything back as it was. A window that
wants to appear while locked (a background task reporting, an error) is kept off the screen until the unlock.

On a connected copy (`enrolled`: the window of a copy of the team server), the password is checked against the
copy's key file (services.sync.client.unlock_screen: the accounts pulled from the server carry no password hash),
and changing user is refused: the copy belongs to its enrolled user, whose password alone opens it.

The delay is LOCK_MINUTES, or the QSettings value `security/lock_minutes`; ScreenLock takes it in milliseconds so
that tests can inject a short one. Activity is seen by one event filter on the QApplication.
"""
from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QDialog, QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget)

from services.directory import CurrentUser
from services.errors import DomainError
from services.users import WRONG_CREDENTIALS, authenticate
from ui.background import run_in_background
from ui.login import password_field
from ui.widgets import ERROR_STYLE, message_label, note_label, title_label

log = logging.getLogger("parcours.ui.lock")

LOCK_MINUTES = 15
SETTINGS_KEY = "security/lock_minutes"

ACTIVITY = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
                      QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
                      QEvent.Type.TabletPress})


def switch_refused_text(user: CurrentUser) -> str:
    """Why another account cannot take over a connected copy."""
    return (f"Cet ordinateur travaille sur la copie des dossiers de {user.name} ({user.key}) : elle ne s'ouvre "
            "qu'avec son mot de passe. Pour travailler sous un autre compte, utilisez le poste de ce compte, connecté "
            "au serveur du programme.")


def lock_delay_ms(settings: QSettings) -> int:
    """LOCK_MINUTES unless the settings say otherwise (a whole number of minutes, at least 1)."""
    try:
        minutes = int(settings.value(SETTINGS_KEY, LOCK_MINUTES))
    except (TypeError, ValueError):
        minutes = LOCK_MINUTES
    return max(1, minutes) * 60_000


class LockScreen(QWidget):
    """What the window shows while locked: who it waits for, and the password field."""

    unlocked = Signal(object)  # CurrentUser
    switch_user_requested = Signal()

    def __init__(self, uow_factory, user: CurrentUser, parent: QWidget | None = None, minutes: int = 0, *,
                 enrolled: bool = False):
        super().__init__(parent)
        self._uow = uow_factory
        self._user = user
        self._enrolled = enrolled
        self.setObjectName("lockScreen")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        row = QHBoxLayout()
        row.addStretch()
        box = QFrame(self)
        box.setObjectName("lockBox")
        box.setFixedWidth(460)
        box.setStyleSheet("QFrame#lockBox { background: #f9fafb; border: 1px solid #d0d5dd; border-radius: 8px; }")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(title_label("Parcours est verrouillé", box, size=18))
        after = f"après {minutes} minute{'s' if minutes > 1 else ''} sans activité" if minutes else "à votre demande"
        layout.addWidget(note_label(f"Les données sont masquées ({after}). Saisissez le mot de passe de "
                                    f"{user.name} ({user.key}) pour reprendre là où vous en étiez.", box))
        self.password = password_field(box, "mot de passe")
        self.password.setObjectName("lockPassword")
        self.password.returnPressed.connect(self.submit)
        layout.addWidget(self.password)
        self.message = message_label(box)
        self.message.setObjectName("lockMessage")
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.switch_button = QPushButton("Changer d'utilisateur…", box)
        self.switch_button.setToolTip("Les saisies non enregistrées seront perdues.")
        self.switch_button.clicked.connect(self._switch)
        self.unlock_button = QPushButton("Déverrouiller", box)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.submit)
        buttons.addWidget(self.switch_button)
        buttons.addStretch()
        buttons.addWidget(self.unlock_button)
        layout.addLayout(buttons)
        row.addWidget(box)
        row.addStretch()
        outer.addLayout(row)
        outer.addStretch(3)
        self.setFocusProxy(self.password)

    def _switch(self) -> None:
        if self._enrolled:  # said here: a message box would be kept off the screen while locked
            self._refused(switch_refused_text(self._user))
        else:
            self.switch_user_requested.emit()

    def submit(self) -> None:
        password, key, uow, enrolled = self.password.text(), self._user.key, self._uow, self._enrolled
        if not password:
            self._refused("Saisissez votre mot de passe.")
            return
        self.unlock_button.setEnabled(False)
        self.message.setVisible(False)

        def check() -> CurrentUser:
            if not enrolled:
                return authenticate(uow(), key, password)
            from services.sync.client import unlock_screen  # not imported for a standalone window's start

            return unlock_screen(uow, key, password)

        run_in_background(self, check, self._accepted, self._failed)

    def _accepted(self, user: CurrentUser) -> None:
        self.unlock_button.setEnabled(True)
        self.password.clear()
        self.unlocked.emit(user)

    def _failed(self, exc: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        if isinstance(exc, DomainError):
            # only the password is typed here: the login's « identifiant ou mot de passe » would mislead
            self._refused("Mot de passe incorrect." if exc.message == WRONG_CREDENTIALS else exc.message)
        else:
            self._refused("Le mot de passe n'a pas pu être vérifié (le détail est dans le journal). Réessayez.")

    def _refused(self, text: str) -> None:
        self.password.clear()
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(text)
        self.message.setVisible(True)
        self.password.setFocus()


class ScreenLock(QObject):
    """Watches the whole application for input and locks `window` (a MainWindow) after `delay_ms` without any.

    Lives as a child of the window: the event filter goes with it."""

    locked = Signal()
    unlocked = Signal()
    switch_user_requested = Signal()
    role_changed = Signal(object)  # CurrentUser: on a connected copy, the enrolled user's window is built again

    def __init__(self, window, uow_factory, user: CurrentUser, delay_ms: int, app: QApplication | None = None, *,
                 enrolled: bool = False):
        super().__init__(window)
        self._window = window
        self._uow = uow_factory
        self._user = user
        self._enrolled = enrolled
        self.screen: LockScreen | None = None
        self._hidden: list[QWidget] = []
        self._finished: list[QWidget] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(lambda: self.lock(idle=True))
        self._app = app or QApplication.instance()
        self._app.installEventFilter(self)
        self._timer.start()
        # A closed window's lock watches nothing more: left filtering, a lock left locked would keep every window
        # shown afterwards in the process (the next window, a dialog) off the screen.
        closed = getattr(window, "closed", None)
        if closed is not None:
            closed.connect(self.stop)

    @property
    def is_locked(self) -> bool:
        return self.screen is not None

    @property
    def delay_ms(self) -> int:
        return self._timer.interval()

    @delay_ms.setter
    def delay_ms(self, value: int) -> None:
        """A new delay counts from now (unless locked: it then applies after the unlock)."""
        self._timer.setInterval(value)
        if self.screen is None:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._app.removeEventFilter(self)

    # -- watching -----------------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if self.screen is None:
            if kind in ACTIVITY:
                self._timer.start()  # restarts the countdown
        elif kind == QEvent.Type.Show and isinstance(watched, QWidget) and watched.isWindow():
            self._keep_off_screen(watched)
        return False

    def _keep_off_screen(self, widget: QWidget) -> None:
        if (widget is self._window or widget.windowType() == Qt.WindowType.ToolTip
                or (self.screen is not None and self.screen.isAncestorOf(widget))):
            return
        # The show event comes before the window reaches the screen: this attribute keeps it off, then the
        # widget is hidden properly once its show() has returned, and shown again at the unlock.
        widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self._remember(widget)
        QTimer.singleShot(0, self, lambda: self._hide_later(widget))

    def _hide_later(self, widget: QWidget) -> None:
        if shiboken6.isValid(widget):
            widget.hide()
            widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, False)

    def _remember(self, widget: QWidget) -> None:
        if widget in self._hidden:
            return
        self._hidden.append(widget)
        if isinstance(widget, QDialog):  # accepted or rejected while hidden: not to be shown again
            widget.finished.connect(lambda _result, w=widget: self._finished.append(w))

    # -- locking ------------------------------------------------------------------------------------------------
    def lock(self, idle: bool = False) -> None:
        """Hide everything behind the lock screen; `idle`: because of the delay (else asked, Ctrl+L)."""
        if self.screen is not None or not self._window.isVisible():
            return
        self._timer.stop()
        self._hidden, self._finished = [], []
        for widget in QApplication.topLevelWidgets():
            if (widget is not self._window and widget.isVisible()
                    and widget.windowType() != Qt.WindowType.ToolTip):
                self._remember(widget)
                widget.hide()
        self.screen = LockScreen(self._uow, self._user, None, minutes=max(1, self.delay_ms // 60_000) if idle else 0,
                                 enrolled=self._enrolled)
        self.screen.unlocked.connect(self._unlock)
        self.screen.switch_user_requested.connect(self.switch_user_requested)
        self._window.cover(self.screen)
        self.screen.setFocus()
        log.info("window locked")
        self.locked.emit()

    def _unlock(self, user: CurrentUser) -> None:
        if user.key != self._user.key:  # cannot happen: the screen asks for this user's password only
            return
        if user.role != self._user.role:  # changed by an administrator meanwhile: the pages no longer fit
            if self._enrolled:  # no login on a connected copy: the same person, the pages of their new role
                log.info("role changed while locked: the window is built again for the new role")
                self.role_changed.emit(user)
            else:
                log.info("role changed while locked: back to the login")
                self.switch_user_requested.emit()
            return
        self.screen = None
        self._window.uncover()
        for widget in self._hidden:
            if shiboken6.isValid(widget) and widget not in self._finished:
                widget.show()
        self._hidden, self._finished = [], []
        self._timer.start()
        log.info("window unlocked")
        self.unlocked.emit()
