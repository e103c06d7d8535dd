"""The window's start imports only what its first window needs (benchmarks/gui_startup.py times it): up to the
painted welcome, first-administrator or login window, `python main.py --db FILE` maps no table (models is loaded on
first use), and imports neither Alembic (the schema is current), argon2, zxcvbn, the audit service nor the main
window. Each case runs the real start in its own process and lists what was imported when the first window was
painted (the moment the start's audit purge is handed to the thread pool, which then needs the models)."""
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

NOT_BEFORE_THE_FIRST_WINDOW = (
    "models.audit", "models.billing_marks", "models.conventions", "models.devices", "models.eps", "models.families",
    "models.programme", "models.sessions", "models.statements", "services.audit", "services.demo", "alembic",
    "mako", "argon2", "zxcvbn", "ui.main_window",
)

# Runs main.main() as `python main.py --db FILE --quit-after-first-paint` does; the audit purge, handed to the thread
# pool once the first window is painted, is replaced by a note of sys.modules and of the window on screen.
CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
import cli.admin_commands

seen = {}

def noted(_uow):
    from PySide6.QtWidgets import QApplication

    seen["modules"] = set(sys.modules)
    seen["windows"] = sorted(w.objectName() for w in QApplication.topLevelWidgets())  # the one painted

cli.admin_commands.purge_audit_on_start = noted
import main

code = main.main(["--db", sys.argv[2], "--quit-after-first-paint"])
heavy = sorted(name for name in seen["modules"] if name.split(".")[0] in ("alembic", "mako", "argon2", "zxcvbn")
               or name in sys.argv[3].split(","))
print("exit", code)
print("windows", ",".join(seen["windows"]))
print("imported", ",".join(heavy))
"""


def _start(db: str, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), db, ",".join(NOT_BEFORE_THE_FIRST_WINDOW)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.split(" ")[0] in ("exit", "windows", "imported")]
    return {key: value for key, _, value in (line.partition(" ") for line in lines)}


def _no_password_account(db: str) -> None:
    """An account that cannot log in (as an import or the demo leaves them): the window asks for an administrator."""
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT INTO app_user (id, key, name, role, active, failed_logins, created_at, updated_at) "
                     "VALUES ('u-1', 'c.martin', 'Claire Martin', 'coordinator', 1, 0, '2026-01-05 09:00:00', "
                     "'2026-01-05 09:00:00')")


@pytest.mark.parametrize(("store", "window"), [("empty", "welcomeWindow"),
                                               ("no password", "firstAdministratorDialog"),
                                               ("administrator", "loginDialog")])
def test_the_first_window_is_painted_without_the_models_alembic_argon2_or_the_main_window(tmp_path, store, window):
    db = str(tmp_path / "parcours.sqlite")
    engine, uow = main.open_store(db)  # migrated: the start finds its schema current
    if store == "administrator":
        create_first_administrator(uow(), "admin", "Essai-de-demarrage-2026")
    engine.dispose()
    if store == "no password":
        _no_password_account(db)
    started = _start(db, tmp_path)
    assert started == {"exit": "0", "windows": window, "imported": ""}
