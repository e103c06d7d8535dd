"""Automatic backups: a verified, private copy when the window closes after a change, none without a change, one
every interval while the data changes, and a failure said calmly in the status bar."""
import sqlite3
import stat
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from services.backup import inspect_database
from services.consent import record_consent
from ui.app import AppController

HOUR = 3_600_000


@pytest.fixture
def make_app(qtbot, programme, db_path, tmp_path):
    made = []

    def make(backups, interval_ms=HOUR):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        app = AppController(programme.uow, db_path, settings=settings, lock_delay_ms=HOUR,
                            backup_interval_ms=interval_ms, backups_dir=backups)
        window = app.set_user(programme.coordinator)
        qtbot.addWidget(window)
        made.append(app)
        return app

    yield make
    for app in made:
        app.shutdown(5000)


def _change(programme):
    record_consent(programme.uow(), programme.coordinator, "F2", date(2025, 3, 1), "Accompagnement PRE")


def _copies(folder):
    return sorted(folder.glob("parcours-*.sqlite")) if folder.is_dir() else []


def test_closing_after_a_change_writes_a_verified_private_copy(qtbot, make_app, programme, tmp_path):
    backups = tmp_path / "backups"
    app = make_app(backups)
    _change(programme)
    app.window.close()
    task = app.autobackup.task
    assert task is not None
    qtbot.waitUntil(lambda: task.done, timeout=10_000)
    assert app.shutdown(1000) is None and not app.autobackup.running
    [copy] = _copies(backups)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert inspect_database(copy).ok
    with closing(sqlite3.connect(copy)) as db:
        assert db.execute("SELECT consent_scope FROM family WHERE key = 'F2'").fetchone() == ("Accompagnement PRE",)
    assert not list(backups.glob(".*partial"))


def test_no_change_no_copy(qtbot, make_app, tmp_path):
    backups = tmp_path / "backups"
    app = make_app(backups)
    app.window.close()
    assert app.autobackup.task is None and _copies(backups) == []


def test_a_copy_every_interval_while_the_data_changes(qtbot, make_app, programme, tmp_path):
    backups = tmp_path / "backups"
    app = make_app(backups, interval_ms=50)
    _change(programme)
    qtbot.waitUntil(lambda: len(_copies(backups)) == 1, timeout=10_000)
    qtbot.waitUntil(lambda: not app.autobackup.running, timeout=10_000)
    assert not app.autobackup.changed()  # the copy took the current state: nothing more to do until a change
    assert app.autobackup.backup_if_changed() is None


def test_a_failed_backup_is_said_calmly_in_the_status_bar(qtbot, make_app, programme, tmp_path):
    not_a_folder = tmp_path / "backups"
    not_a_folder.write_text("un fichier, pas un dossier")
    app = make_app(not_a_folder)
    window = app.window
    window.show()
    qtbot.waitExposed(window)
    _change(programme)
    with qtbot.waitSignal(app.autobackup.failed, timeout=10_000):
        app.autobackup.backup_if_changed()
    message = window.statusBar().currentMessage()
    assert message.startswith("La sauvegarde automatique n'a pas pu être faite")
    assert f"« {not_a_folder} »" in message  # the folder to fix is named, not "see the log"
    assert not any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())
    assert app.autobackup.changed()  # still to do: the next round tries again


def test_the_window_backs_up_beside_its_own_database(qtbot, make_app, programme, db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = make_app(None)
    _change(programme)
    app.window.close()
    qtbot.waitUntil(lambda: app.autobackup.task is not None and app.autobackup.task.done, timeout=10_000)
    [copy] = _copies(Path(db_path).parent / "parcours-sauvegardes")
    assert inspect_database(copy).ok
    assert not (tmp_path / "data").exists()  # nothing in the folder every database used to share
