"""The window's real start, `python main.py --db FILE` in its own process (benchmarks/gui_startup.py times it): the
login dialog is painted before the start's audit purge, which still runs, off the GUI thread, once it is."""
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

import main
from services.users import create_first_administrator

ROOT = Path(__file__).resolve().parents[1]


def _purges(db: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT count(*) FROM audit_log WHERE action = 'purge'").fetchone()[0]


@pytest.mark.sqlite_only("the window opens the desktop's store, a SQLite file")
def test_the_login_is_painted_then_the_start_purges_the_audit_log(db_path, tmp_path):
    engine, uow = main.open_store(db_path)
    create_first_administrator(uow(), "admin", "Essai-de-demarrage-2026")
    engine.dispose()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", db_path, "--quit-after-first-paint"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "painted\n"
    assert _purges(db_path) == 1  # after the paint, and waited for before the process ended


def test_a_plain_window_start_reads_its_arguments_as_the_full_parser_does():
    for argv in ([], ["--db", "base.sqlite"], ["--db=base.sqlite"], ["--quit-after-first-paint", "--db", "b.sqlite"],
                 ["--db", "b.sqlite", "--quit-after-first-paint"]):
        assert vars(main.window_arguments(argv)) == vars(main.build_parser().parse_args(argv)), argv
    for argv in (["demo"], ["--db", "b.sqlite", "check"], ["--db"], ["--db", "-x"], ["--db="], ["-h"], ["--bd", "x"]):
        assert main.window_arguments(argv) is None, argv  # commands, help and mistakes: the full parser's
