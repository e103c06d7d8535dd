"""A pytest plugin that photographs, under a real X server, every window the UI tests show — to look at what a
person would see of a dialog that the tests drive offscreen (clipped text, English buttons, a stray widget).

    DISPLAY=:99 QT_QPA_PLATFORM=xcb PARCOURS_SHOTS=/tmp/shots \
        .venv/bin/python -m pytest -n 0 -p tools.shots_plugin tests/ui/test_sync_window.py -k lock

Every 250 ms of a test (PARCOURS_SHOTS_MS), each visible top-level window is grabbed; a picture identical to the previous one of the
same window is not kept. Files: <test>-<n>-<window title>.png.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

FOLDER = os.environ.get("PARCOURS_SHOTS")


@pytest.fixture(autouse=True)
def _photograph_windows(request):
    if not FOLDER:
        yield
        return
    from PySide6.QtCore import QBuffer, QIODevice, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    out = Path(FOLDER)
    out.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w-]+", "_", request.node.name)[:80]
    seen: dict[str, str] = {}
    count = [0]

    def grab():
        for widget in app.topLevelWidgets():
            if not widget.isVisible() or widget.width() < 50:
                continue
            pixmap = widget.grab()
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            pixmap.save(buffer, "PNG")
            digest = hashlib.sha1(bytes(buffer.data())).hexdigest()
            key = f"{type(widget).__name__}-{id(widget)}"
            if seen.get(key) == digest:
                continue
            seen[key] = digest
            count[0] += 1
            title = re.sub(r"[^\w-]+", "_", widget.windowTitle() or type(widget).__name__)[:40]
            pixmap.save(str(out / f"{test}-{count[0]:02d}-{title}.png"))

    timer = QTimer()
    timer.timeout.connect(grab)
    timer.start(int(os.environ.get("PARCOURS_SHOTS_MS", "250")))
    yield
    grab()
    timer.stop()
