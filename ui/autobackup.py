"""Automatic backups while the window is open: at most every 30 minutes while the data changed, and when a
window closes.

"Changed" is read from the database file itself: the size and modification time of the SQLite file and of its
`-wal` journal, where every committed write lands whichever page (or command line) made it. Reading never
touches them, and neither does a backup, which only reads the file.

The copy is services.backup.backup_database (SQLite's online backup API into a 0600 file, integrity-checked
before it takes its dated name, then this database's copies thinned), run off the GUI thread. The copies go to
the window's own database's folder (services.backup.backups_folder: `NOM-sauvegardes/` beside the file), never
to a folder shared with other databases, so that thinning one never removes another's. A failure is logged and
reported through `failed(message)`, which the window shows in its status bar; nothing ever blocks while the
window is open. When it closes, ui.closing keeps it on screen with « Sauvegarde en cours… » until the copy due
(`backup_before_closing()`) is written, or says why it could not be (`failure`). On quitting, `wait()` gives a copy
still running (one started when a user switched) a bounded time to finish.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

from services.backup import BackupReport, backup_database, backups_folder
from services.local_crypto import is_encrypted
from services.errors import DomainError
from ui.background import BackgroundTask, run_in_background

log = logging.getLogger("parcours.ui.autobackup")

BACKUP_EVERY_MS = 30 * 60 * 1000
CLOSE_WAIT_MS = 15_000  # on quitting, how long a copy still running may keep the process


def fingerprint(database: Path) -> tuple:
    """What changes when anything is written to the database: size and mtime of the file and its -wal."""
    marks = []
    for path in (database, database.with_name(database.name + "-wal")):
        try:
            stat = os.stat(path)
        except OSError:
            marks.append(None)
        else:
            marks.append((stat.st_size, stat.st_mtime_ns))
    return tuple(marks)


class AutoBackup(QObject):
    backed_up = Signal(object)  # services.backup.BackupReport
    failed = Signal(str)  # French message for the status bar

    def __init__(self, database: str | os.PathLike, *, backups_dir: Path | None = None,
                 interval_ms: int = BACKUP_EVERY_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.database = Path(database)
        self.backups_dir = backups_dir or backups_folder(self.database)
        self._saved = fingerprint(self.database)  # the state of the last copy; at start, what we found
        self.task: BackgroundTask | None = None
        self.failure: str | None = None  # why the last copy failed, in French; None once one succeeded
        self._again = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.backup_if_changed)
        self._timer.start()

    def changed(self) -> bool:
        return fingerprint(self.database) != self._saved

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done

    def backup_if_changed(self) -> BackgroundTask | None:
        """Start a copy if the data changed since the last one; None when there is nothing to do. A change made
        while a copy runs is copied right after it."""
        if self.running:
            self._again = self.changed()
            return None
        if is_encrypted(self.database):  # a connected laptop's copy: the server keeps the data, the copy resyncs
            return None                  # (it is never restored from a backup: its sync would rewind)
        if not self.changed():
            return None
        state, database, folder = fingerprint(self.database), self.database, self.backups_dir
        self._again = False
        self.task = run_in_background(self, lambda: backup_database(database, backups_dir=folder),
                                      lambda report: self._done(state, report), self._failed)
        return self.task

    def backup_before_closing(self) -> BackgroundTask | None:
        """The copy to wait for before the window closes: the running one, else a new one if the data changed since
        the last; None when the copies are up to date."""
        return self.task if self.running else self.backup_if_changed()

    def _done(self, state: tuple, report: BackupReport) -> None:
        self._saved = state
        self.failure = None
        log.info("automatic backup written to %s (%d old copies removed)", report.path, len(report.removed))
        self.backed_up.emit(report)
        if self._again:
            QTimer.singleShot(0, self, self.backup_if_changed)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, DomainError):  # the helper logs only the unexpected ones
            log.warning("automatic backup failed: %s", exc.message)
            detail = exc.message
        else:
            detail = "le détail est dans le journal"
        self.failure = detail
        self.failed.emit(f"La sauvegarde automatique n'a pas pu être faite ({detail}). "
                         "Vos données ne sont pas touchées ; elle sera retentée.")

    def wait(self, timeout_ms: int = CLOSE_WAIT_MS) -> bool:
        """Let a running copy finish, for `timeout_ms` at most; True when no copy is left running."""
        if not self.running:
            return True
        loop = QEventLoop()
        self.task.finished.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        if self.running:
            loop.exec()
        if self.running:
            log.warning("automatic backup still running after %d ms at exit", timeout_ms)
        return not self.running

    def stop(self) -> None:
        self._timer.stop()
