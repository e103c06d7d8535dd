"""The automatic sync: off the GUI thread, never two at once, entry never blocked, and what stops it."""
import threading

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QLineEdit

from services.sync import client
from services.sync.client import SyncReport, SyncStatus
from ui.sync_runner import SyncRunner, attach_sync

STATUS = SyncStatus(True, "https://serveur.pre:8443", 0, 0, 0, None, None)
REPORT = SyncReport(1, 1, 0, 0, 4)


class BlockingSync:
    """A sync that waits for the test to let it finish, and counts how many ran at the same time."""

    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.lock = threading.Lock()
        self.running = self.most = self.calls = 0

    def __call__(self):
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        self.started.release()
        try:
            assert self.release.wait(10), "the test never let the sync finish"
            return REPORT
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def blocking():
    sync = BlockingSync()
    yield sync
    sync.release.set()
    QThreadPool.globalInstance().waitForDone(5000)


def make_runner(qtbot, sync, status=lambda: STATUS):
    line = QLineEdit()
    qtbot.addWidget(line)
    runner = SyncRunner(None, None, line, interval_ms=60_000, after_save_ms=10, sync=sync, status=status)
    return line, runner


def test_syncs_asked_while_one_runs_never_overlap_and_one_more_follows(qtbot, blocking):
    line, runner = make_runner(qtbot, blocking)
    assert runner.sync_now() is True
    assert blocking.started.acquire(timeout=5)
    for _ in range(5):  # F9 pressed again, saves, the timer: while the first one runs
        assert runner.sync_now() is False
        runner.sync_soon()
    qtbot.wait(50)  # the after-save timer fires too, during the sync
    assert blocking.calls == 1 and runner.running
    with qtbot.waitSignals([runner.synced, runner.synced], timeout=10_000):
        blocking.release.set()
    qtbot.waitUntil(lambda: not runner.running, timeout=5000)
    assert blocking.calls == 2 and blocking.most == 1  # one follow-up for everything asked meanwhile


def test_typing_goes_on_while_a_sync_runs(qtbot, blocking):
    line, runner = make_runner(qtbot, blocking)
    line.show()
    qtbot.waitExposed(line)
    syncing = []
    runner.syncing_changed.connect(syncing.append)
    runner.sync_now()
    assert blocking.started.acquire(timeout=5)
    qtbot.keyClicks(line, "Seance chez la famille Diallo")
    assert line.text() == "Seance chez la famille Diallo" and runner.running  # typed while the sync waits
    with qtbot.waitSignal(runner.status_changed, timeout=10_000) as shown:
        blocking.release.set()
    assert shown.args == [STATUS] and syncing[0] is True
    qtbot.waitUntil(lambda: syncing[-1] is False, timeout=5000)


def unreachable():
    raise client.ServerUnreachable("Serveur injoignable : pas de réponse dans le délai ; votre modification reste "
                                   "en attente sur ce poste. La synchronisation reprendra quand le serveur répondra.")


def test_an_unreachable_server_is_a_status_not_an_error(qtbot):
    offline = SyncStatus(True, "https://serveur.pre:8443", 1, 0, 0, None, "Serveur injoignable : …")
    line, runner = make_runner(qtbot, unreachable, status=lambda: offline)
    synced = []
    runner.synced.connect(synced.append)
    with qtbot.waitSignal(runner.status_changed, timeout=5000) as shown:
        runner.sync_now()
    assert shown.args == [offline] and synced == [] and not runner.halted
    qtbot.waitUntil(lambda: not runner.running, timeout=5000)
    assert runner.sync_now() is True  # it tries again


def test_a_certificate_mismatch_stops_the_sync_with_its_message(qtbot):
    def mismatch():
        raise client.FingerprintMismatch("Le serveur présente un autre certificat que celui enregistré.")

    line, runner = make_runner(qtbot, mismatch)
    runner.timer.start()
    with qtbot.waitSignal(runner.stopped, timeout=5000) as stopped:
        runner.sync_now()
    assert "autre certificat" in stopped.args[0]
    assert runner.halted and not runner.timer.isActive() and runner.sync_now() is False


def test_a_revoked_device_stops_everything_and_says_the_copy_is_erased(qtbot):
    def revoked():
        raise client.DeviceRevoked("Ce poste a été retiré par l'administration : sa copie locale des dossiers a été "
                                   "effacée (3 fichier(s)).")

    line, runner = make_runner(qtbot, revoked)
    with qtbot.waitSignal(runner.revoked, timeout=5000) as said:
        runner.sync_now()
    assert "effacée" in said.args[0] and runner.halted and not runner.running


def test_a_standalone_copy_gets_no_sync_at_all(qtbot, open_window, programme):
    window = open_window(programme.referent)
    labels = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert attach_sync(window, programme.uow, programme.referent) is None
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == labels
    assert window.findChild(QLineEdit, "syncStatus") is None
    assert not [a for a in window.actions() if a.objectName() == "syncNow"]
    assert not hasattr(window, "sync_bar")
