"""GUI figures: cold start to the first painted main window, and opening the session list with 100 000 sessions.

    .venv/bin/python benchmarks/gui_startup.py [--sessions 100000]

Prints the figures; asserts nothing (no timing assertions in tests).
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The child process: from interpreter start to the first paint of the main window.
CHILD = r"""
import os, sys, time
sys.path.insert(0, {root!r})
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtWidgets import QApplication
from main import open_store
from services.directory import list_users
from ui.main_window import MainWindow

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("painted", flush=True)
            os._exit(0)
        return False

app = QApplication([])
_engine, uow = open_store({db!r})
user = next(u for u in list_users(uow()) if u.role == "referent")
window = MainWindow(uow, user, settings=QSettings({ini!r}, QSettings.Format.IniFormat))
spy = FirstPaint()
window.installEventFilter(spy)
window.show()
app.exec()
"""


def fill(db: str, sessions: int) -> None:
    """The demo programme, then `sessions` extra held sessions through one Core insert."""
    from sqlalchemy import insert, select

    from main import open_store
    from models import Family, HomeSession, Intervenant
    from services.demo import load_demo

    engine, uow = open_store(db)
    load_demo(uow())
    with engine.begin() as conn:
        families = conn.execute(select(Family.id)).scalars().all()
        intervenants = conn.execute(select(Intervenant.id)).scalars().all()
        rng = random.Random(1)
        start = date(2015, 1, 1)
        rows = [{"id": str(uuid.uuid4()), "key": f"B-{n:07d}", "family_id": rng.choice(families),
                 "intervenant_id": rng.choice(intervenants), "date": start + timedelta(days=rng.randrange(3650)),
                 "duration_minutes": rng.choice((45, 60, 90)), "status": "held", "referent_present": False,
                 "approved_exception": False}
                for n in range(sessions)]
        conn.execute(insert(HomeSession.__table__), rows)
    engine.dispose()


def cold_start(db: str, ini: str, runs: int = 3) -> list[float]:
    code = CHILD.format(root=str(ROOT), db=db, ini=ini)
    figures = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        if "painted" not in out.stdout:
            raise SystemExit(f"the window did not paint:\n{out.stderr}")
        figures.append(time.perf_counter() - started)
    return figures


def session_list(db: str) -> dict[str, float]:
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    from main import open_store
    from services.directory import list_users
    from ui.pages.sessions_page import SessionsPage

    app = QApplication.instance() or QApplication([])
    _engine, uow = open_store(db)
    coordinator = next(u for u in list_users(uow()) if u.role == "coordinator")
    figures = {}

    def timed(label: str, action) -> None:
        """From the action to the rows painted; the window stays responsive meanwhile (background query)."""
        loaded = []
        page.sessions_loaded.connect(lambda: loaded.append(1))
        started = time.perf_counter()
        action()
        while not loaded:
            app.processEvents()
            time.sleep(0.001)
        page.grab()
        figures[label] = time.perf_counter() - started
        page.sessions_loaded.disconnect()

    page = SessionsPage(uow, coordinator)
    page.resize(1100, 700)
    page.show()
    timed("open (count + first page + paint)", page.refresh)
    started = time.perf_counter()
    page.view.scrollToBottom()
    app.processEvents()
    page.grab()
    figures["scroll to bottom (fetch next page)"] = time.perf_counter() - started
    timed("sort by family (database order)",
          lambda: page.view.sortByColumn(2, page.view.horizontalHeader().sortIndicatorOrder()))
    timed("search « Diallo »", lambda: page.model.set_text("Diallo"))
    figures["rows loaded / matching the search"] = f"{page.model.rowCount()} / {page.model.total}"
    QThreadPool.globalInstance().waitForDone()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db, ini = str(Path(tmp) / "bench.sqlite"), str(Path(tmp) / "settings.ini")
        started = time.perf_counter()
        fill(db, args.sessions)
        print(f"database: demo + {args.sessions:,} sessions written in {time.perf_counter() - started:.1f} s")
        starts = cold_start(db, ini)
        print("cold start to first painted main window: " + ", ".join(f"{s:.2f} s" for s in starts)
              + f" (best {min(starts):.2f} s)")
        for label, value in session_list(db).items():
            print(f"session list, {label}: " + (f"{value * 1000:.0f} ms" if isinstance(value, float) else value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
