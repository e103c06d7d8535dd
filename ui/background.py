"""Long work off the GUI thread, with its result reported back on the GUI thread.

    task = run_in_background(parent, fn, on_success, on_failure=None, progress_label=None)

* `fn()` takes no argument and runs on a QThreadPool thread: it must not touch any widget and must open its
  own unit of work (close over the `uow_factory`: `lambda: list_families(uow_factory(), user)`).
* `on_success(result)` then runs on the GUI thread.
* `on_failure(exc)` runs on the GUI thread when `fn` raised; by default `ui.errors.show_error(parent, exc)`.
  Unexpected exceptions (not DomainError) are logged with their traceback before on_failure is called.
* `progress_label`: when given, a busy progress dialog with that French text appears if the work lasts
  more than a moment (window-modal: the user cannot start the same thing twice).
* The returned `BackgroundTask` emits `finished` after the callback ran (tests wait on it) and `done` turns
  True. If `parent` is destroyed first, the callbacks are silently dropped.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from services.errors import DomainError
from ui.errors import show_error

log = logging.getLogger("parcours.ui.background")

PROGRESS_DELAY_MS = 300


class _Signals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals):
        super().__init__()  # auto-deleted by the pool once run
        self._fn = fn
        self._signals = signals

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI thread
            if not isinstance(exc, DomainError):
                log.error("background work failed", exc_info=(type(exc), exc, exc.__traceback__))
            self._emit(self._signals.failed, exc)
        else:
            self._emit(self._signals.succeeded, result)

    @staticmethod
    def _emit(signal, value) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the receiver is gone (window closed): nothing left to report to
            pass


class BackgroundTask(QObject):
    """Lives on the GUI thread as a child of `parent`; its slots run the callbacks there."""

    finished = Signal()

    def __init__(self, parent: QObject, fn, on_success, on_failure, progress_label):
        super().__init__(parent)
        self._on_success = on_success
        self._on_failure = on_failure
        self._parent_widget = parent if isinstance(parent, QWidget) else None
        self.done = False
        self._signals = _Signals()
        self._signals.succeeded.connect(self._succeeded, Qt.ConnectionType.QueuedConnection)
        self._signals.failed.connect(self._failed, Qt.ConnectionType.QueuedConnection)
        self._fn = fn
        self._progress: QProgressDialog | None = None
        if progress_label:
            self._progress = QProgressDialog(progress_label, None, 0, 0, self._parent_widget)
            self._progress.setObjectName("backgroundProgress")
            self._progress.setWindowTitle("Parcours")
            self._progress.setCancelButton(None)
            self._progress.setWindowModality(Qt.WindowModality.WindowModal)
            self._progress.setAutoClose(False)
            self._progress.setAutoReset(False)
            self._progress.setMinimumDuration(10**9)  # shown by our own timer below, not by setValue()
            self._progress.reset()
            self._progress.hide()
            QTimer.singleShot(PROGRESS_DELAY_MS, self, self._show_progress)

    def start(self) -> "BackgroundTask":
        QThreadPool.globalInstance().start(_Job(self._fn, self._signals))
        self._fn = None
        return self

    def _show_progress(self) -> None:
        if self._progress is not None and not self.done:
            self._progress.show()

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.hide()
            self._progress.deleteLater()
            self._progress = None

    def _finish(self, callback, value) -> None:
        self._close_progress()
        try:
            callback(value)
        except Exception as exc:  # a failing callback must not take the window down
            show_error(self._parent_widget, exc)
        finally:
            # Not deleteLater(): someone may still be waiting on `finished`. The task stays a tiny child of
            # its parent; drop what it holds so nothing large lives on.
            self._on_success = self._on_failure = None
            self.done = True
            self.finished.emit()

    @Slot(object)
    def _succeeded(self, result) -> None:
        self._finish(self._on_success, result)

    @Slot(object)
    def _failed(self, exc) -> None:
        self._finish(self._on_failure or (lambda e: show_error(self._parent_widget, e)), exc)


def run_in_background(parent: QObject, fn: Callable[[], Any], on_success: Callable[[Any], None],
                      on_failure: Callable[[BaseException], None] | None = None,
                      progress_label: str | None = None) -> BackgroundTask:
    return BackgroundTask(parent, fn, on_success, on_failure, progress_label).start()
