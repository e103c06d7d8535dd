"""GUI figures: cold start of the real application to its painted login window, against the floor, and opening
the session list with 100 000 sessions.

    .venv/bin/python benchmarks/gui_startup.py [--sessions 100000] [--runs 21] [--startup-only]

The cold start is the user's: a new process runs `python main.py --db FILE` (argument parsing, leftover check,
schema check, the login dialog), which quits once that dialog is painted (the hidden `--quit-after-first-paint`).
The floor is a process that only imports `PySide6.QtWidgets` and `sqlalchemy.orm` and paints a bare window; both
are timed the same way from outside (start of the process to the « painted » line it prints), interleaved, in this
run. Prints the figures next to the floor and their ratio; asserts nothing (no timing assertions in tests).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
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

# The floor: what any PySide6 + SQLAlchemy window pays, to its first paint.
FLOOR = r"""
import os
import sqlalchemy.orm
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("painted", flush=True)
            os._exit(0)
        return False

app = QApplication([])
window = QWidget()
window.resize(420, 300)
spy = FirstPaint()
window.installEventFilter(spy)
window.show()
app.exec()
"""
TARGET_RATIO = 1.4


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
        if rows:
            conn.execute(insert(HomeSession.__table__), rows)
    engine.dispose()


def add_login(db: str) -> None:
    """An administrator with a password: the window then opens on the login dialog, as every day."""
    from main import open_store
    from services.users import create_first_administrator

    engine, uow = open_store(db)
    create_first_administrator(uow(), "admin", "Banc-d-essai-demarrage-2026")
    engine.dispose()


def time_to_paint(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting the process to its « painted » line."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    line = child.stdout.readline()
    elapsed = time.perf_counter() - started
    _, err = child.communicate(timeout=120)
    if line.strip() != "painted":
        raise SystemExit(f"no painted window from {command[1:]}:\n{err}")
    return elapsed


def cold_starts(db: str, home: str, runs: int) -> tuple[list[float], list[float]]:
    """(floor, application) seconds, interleaved so that both see the same machine."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(Path(home) / "config"), "XDG_STATE_HOME": str(Path(home) / "state"),
           "XDG_DATA_HOME": str(Path(home) / "data"),  # settings and log of the run, not the user's
           # As an installed Parcours starts: from bytecode its first start wrote (here in the run's own folder,
           # for the floor's modules too), not compiling every module from source again.
           "PYTHONPYCACHEPREFIX": str(Path(home) / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    floor_cmd = [sys.executable, "-c", FLOOR]
    app_cmd = [sys.executable, str(ROOT / "main.py"), "--db", db, "--quit-after-first-paint"]
    time_to_paint(floor_cmd, env), time_to_paint(app_cmd, env)  # warm the file and bytecode caches: "cold" is a new process
    floor, app = [], []
    for _ in range(runs):
        floor.append(time_to_paint(floor_cmd, env))
        app.append(time_to_paint(app_cmd, env))
    return floor, app


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
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--startup-only", action="store_true", help="the cold start only, without the session list")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.sqlite")
        started = time.perf_counter()
        fill(db, args.sessions)
        add_login(db)
        print(f"database: demo + {args.sessions:,} sessions written in {time.perf_counter() - started:.1f} s")
        floor, app = cold_starts(db, tmp, args.runs)
        # Each application run is compared with the floor run just before it (the same load on a shared machine).
        ratio = statistics.median(a / f for a, f in zip(app, floor))
        print(f"cold start, main.py to the painted login dialog: median {statistics.median(app) * 1000:.0f} ms "
              f"(best {min(app) * 1000:.0f} ms, {args.runs} runs)")
        print(f"floor, import PySide6.QtWidgets + sqlalchemy.orm and a bare painted window: median "
              f"{statistics.median(floor) * 1000:.0f} ms (best {min(floor) * 1000:.0f} ms, same runs, interleaved)")
        print(f"ratio: {ratio:.2f}x the floor, median of the paired runs (best to best: {min(app) / min(floor):.2f}x; "
              f"target: within {TARGET_RATIO}x)")
        if not args.startup_only:
            for label, value in session_list(db).items():
                print(f"session list, {label}: " + (f"{value * 1000:.0f} ms" if isinstance(value, float) else value))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # the figures are out: no interpreter finalization, where PySide6 6.12 may crash (none_dealloc)
