"""ui.background: the work runs off the GUI thread and reports back on it; failures never escape."""
import logging
import threading
import time

from PySide6.QtWidgets import QMessageBox, QWidget

from services.errors import ValidationError
from ui.background import run_in_background


def _widget(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def test_work_runs_off_the_gui_thread_and_result_arrives_on_it(qtbot):
    gui_thread = threading.get_ident()
    seen = {}

    def work():
        seen["worker"] = threading.get_ident()
        return 42

    task = run_in_background(_widget(qtbot), work, lambda r: seen.update(result=r, callback=threading.get_ident()))
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert seen["worker"] != gui_thread
    assert seen["callback"] == gui_thread and seen["result"] == 42


def test_domain_error_goes_to_on_failure(qtbot):
    failures = []

    def work():
        raise ValidationError("La date est invalide.", field="date")

    task = run_in_background(_widget(qtbot), work, lambda r: None, failures.append)
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert [f.message for f in failures] == ["La date est invalide."]


def test_unexpected_error_without_handler_is_logged_and_shown_calmly(qtbot, caplog):
    parent = _widget(qtbot)
    parent.show()

    def work():
        raise KeyError("boom")

    with caplog.at_level(logging.ERROR):
        task = run_in_background(parent, work, lambda r: None)
        with qtbot.waitSignal(task.finished, timeout=5000):
            pass
    boxes = parent.findChildren(QMessageBox)
    assert boxes and "inattendue" in boxes[0].windowTitle()
    assert "Traceback" not in boxes[0].text() + boxes[0].informativeText()
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)
    boxes[0].close()


def test_progress_dialog_shows_for_long_work_then_closes(qtbot):
    from PySide6.QtWidgets import QProgressDialog

    parent = _widget(qtbot)
    parent.show()
    release = threading.Event()
    task = run_in_background(parent, lambda: release.wait(5), lambda r: None, progress_label="Chargement…")
    qtbot.waitUntil(lambda: any(d.isVisible() for d in parent.findChildren(QProgressDialog)), timeout=3000)
    release.set()
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert not any(d.isVisible() for d in parent.findChildren(QProgressDialog))


def test_callbacks_are_dropped_when_parent_is_gone(qtbot):
    parent = QWidget()
    called = []
    run_in_background(parent, lambda: time.sleep(0.2), called.append)
    parent.deleteLater()
    qtbot.wait(500)
    assert called == []
