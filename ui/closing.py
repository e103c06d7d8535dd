"""Closing the main window without hiding work that is still running.

    wait = ClosingWait(window, autobackup)   # a child of the window
    wait.start() -> bool                     # True: the window must stay until `may_close` (or `stayed`)

When the user closes the main window, the background work of ui.background still running in it (a list loading, a
month being issued, an import) is waited for, and so is the automatic backup due (ui.autobackup: the one running,
or a new one when the data changed since the last copy), started at once; work that wrote after the copy began is
copied once more. Meanwhile the window stays on screen behind a window-modal
progress dialog, « Sauvegarde en cours… » (or « Opération en cours… »), shown once the wait lasts more than a
moment; `may_close` is emitted when everything is done. A backup that fails is said calmly and the user decides:
close anyway (the data are intact in the database, only the safety copy is missing) or stay (`stayed`) to fix the
folder, the copy being tried again at the next close. Never a window that disappears while work goes on. (A locked
window stays behind its lock screen, which keeps every other window off the screen: the question, if any, comes up
at the unlock.)
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from ui.background import PROGRESS_DELAY_MS, BackgroundTask

BACKUP_LABEL = "Sauvegarde en cours…\nParcours se fermera dès qu'elle sera terminée."
WORK_LABEL = "Opération en cours…\nParcours se fermera dès qu'elle sera terminée."
SHOW_AFTER_MS = PROGRESS_DELAY_MS  # a wait shorter than this shows nothing (tests set it to 0)
CLOSE_ANYWAY = "Fermer Parcours"
STAY = "Ne pas fermer"


def busy_dialog(label: str, parent: QWidget | None) -> QProgressDialog:
    """A busy progress dialog without a cancel button (a copy under way cannot be stopped halfway), window-modal."""
    dialog = QProgressDialog(label, None, 0, 0, parent)  # 0..0: busy, SQLite's copy gives no steps here
    dialog.setObjectName("closingProgress")
    dialog.setWindowTitle("Parcours")
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setMinimumWidth(360)
    return dialog


class ClosingWait(QObject):
    may_close = Signal()  # nothing left running: the window may close now
    stayed = Signal()  # the backup failed and the user keeps the window open

    def __init__(self, window: QWidget, autobackup=None):
        super().__init__(window)
        self._window = window
        self._autobackup = autobackup
        self.progress: QProgressDialog | None = None
        self.question: QMessageBox | None = None
        self._label = WORK_LABEL
        self._waiting = False
        self._tasks: list[BackgroundTask] = []
        self._backing_up = False

    def start(self) -> bool:
        """Wait for what runs or is due; False when there is nothing (the window closes at once)."""
        if not self._wait_for_next():
            return False
        QTimer.singleShot(SHOW_AFTER_MS, self, self._show_progress)
        return True

    def _wait_for_next(self) -> bool:
        """Wait for the window's running work and, at the same time, for the copy due; False when there is none."""
        self._tasks = [task for task in self._window.findChildren(BackgroundTask) if not task.done]
        backup = self._autobackup.backup_before_closing() if self._autobackup is not None else None
        if backup is not None:
            self._tasks.append(backup)
        if not self._tasks:
            return False
        self._backing_up = backup is not None
        self._label, self._waiting = BACKUP_LABEL if self._backing_up else WORK_LABEL, True
        if self.progress is not None:
            self.progress.setLabelText(self._label)
        for task in self._tasks:
            task.finished.connect(self._finished)
        return True

    def _finished(self) -> None:
        if not all(task.done for task in self._tasks):
            return
        if self._backing_up and self._autobackup.failure is not None:
            self._ask(self._autobackup.failure)
        elif not self._wait_for_next():  # a write that ended after the copy began is copied again
            self._end()
            self.may_close.emit()


    def _show_progress(self) -> None:
        if self.progress is not None or not self._waiting:
            return
        self.progress = busy_dialog(self._label, self._window)
        self.progress.show()

    def _ask(self, reason: str) -> None:
        self._end()
        box = QMessageBox(QMessageBox.Icon.Warning, "Parcours",
                          "La sauvegarde de fermeture n'a pas pu être faite.", parent=self._window)
        box.setObjectName("closingBackupFailed")
        box.setInformativeText(f"{reason[:1].upper()}{reason[1:].rstrip('.')}.\n\nVos données sont intactes dans la "
                               "base : seule la copie de sécurité manque. Vous pouvez fermer Parcours quand même, ou "
                               "rester pour corriger le problème : la copie sera retentée quand vous fermerez de "
                               "nouveau.")
        close = box.addButton(CLOSE_ANYWAY, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(STAY, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(close)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _result: self._answered(box.clickedButton() is close))
        self.question = box
        box.open()

    def _answered(self, close: bool) -> None:
        self.question.deleteLater()
        self.question = None
        (self.may_close if close else self.stayed).emit()

    def _end(self) -> None:
        self._waiting = False
        if self.progress is not None:
            self.progress.hide()
            self.progress.deleteLater()
            self.progress = None
