"""Render each main screen on the demo programme to PNG under docs/screenshots/.

    bash tools/screenshots-xvfb.sh [--out docs/screenshots] [--day 2025-12-17]   # a real X window, 1280×800
    .venv/bin/python tools/screenshots.py [--out …] [--day …]                     # offscreen, widget.grab()

The demo tells the twelve months up to `--day` (today by default), which is also the application's « today ».
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, QThreadPool  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

SIZE = (1280, 800)


def settle(app: QApplication, rounds: int = 3) -> None:
    for _ in range(rounds):
        QThreadPool.globalInstance().waitForDone(10_000)
        deadline = time.monotonic() + 0.15
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)


def save(app: QApplication, widget: QWidget, out: Path, name: str) -> None:
    """Offscreen, the widget renders itself; on a real display (tools/screenshots-xvfb.sh) the picture is what the X
    server shows: a dialog over its window, the real fonts, the real clipping."""
    settle(app)
    path = out / f"{name}.png"
    if app.platformName() == "offscreen":
        picture = widget.grab()
    else:
        widget.raise_()
        widget.activateWindow()
        settle(app)
        shown = widget.window()
        parent = shown.parentWidget()
        if parent is not None and parent.window().isVisible():
            shown = parent.window()  # a dialog is pictured over the window it belongs to
        frame = shown.frameGeometry()
        picture = app.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    picture.save(str(path))
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


PASSWORD = "cheval-agrafe-pile"


def _last_holiday(day: date, has_sessions) -> date:
    """A day of the latest week before `day` that has school-holiday days (zone A, the demo's) and sessions."""
    from services.billing.rules import is_school_holiday

    start = day - timedelta(days=day.weekday())
    for monday in (start - timedelta(weeks=n) for n in range(1, 60)):
        if any(is_school_holiday(monday + timedelta(days=d), "A") for d in range(7)) and has_sessions(monday):
            return monday
    return day


def _audit_trail(uow, day: date, authenticate, refused) -> None:
    """Logins of the demo's people during the days before `day`, at office hours, one of them mistyped."""
    for back, hour, minute, key, password in (
            (9, 8, 2, "coord-rousseau", PASSWORD), (6, 9, 0, "ref-benhamou", "erreur"),
            (6, 9, 1, "ref-benhamou", PASSWORD), (3, 14, 30, "admin-fabre", PASSWORD),
            (1, 10, 5, "coord-rousseau", PASSWORD), (0, 8, 45, "ref-benhamou", PASSWORD)):
        moment = datetime.combine(day - timedelta(days=back), datetime.min.time()).replace(
            hour=hour, minute=minute).astimezone()
        try:
            authenticate(uow(), key, password, clock=lambda m=moment: m)
        except refused:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--day", default=date.today().isoformat())
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    day = date.fromisoformat(args.day)
    today = lambda: day  # noqa: E731

    from main import open_store
    from services.demo import NO_CONSENT, load_demo
    from services.directory import list_users
    from services.errors import DomainError
    from services.users import authenticate, change_password, create_first_administrator
    from ui.app import STYLE
    from ui.lock import ScreenLock
    from ui.login import FirstAdministratorDialog, LoginDialog
    from ui.main_window import MainWindow
    from ui.welcome import WelcomeWindow

    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(STYLE)
    with tempfile.TemporaryDirectory() as tmp:
        _engine, uow = open_store(str(Path(tmp) / "demo.sqlite"))
        welcome = WelcomeWindow(uow, "~/.local/share/Parcours/parcours.sqlite")
        welcome.resize(740, 360)
        welcome.show()
        save(app, welcome, out, "00-bienvenue")
        summary = load_demo(uow(), today=day)  # the demo of the twelve months up to `--day`
        first = FirstAdministratorDialog(uow, None, "~/.local/share/Parcours/parcours.sqlite",
                                         f"{summary}\n\nLes comptes fictifs du programme n'ont pas de mot de passe : "
                                         "créez d'abord votre compte d'administration.")
        for name, text in (("name", "Agnès Fabre"), ("key", "a.fabre"), ("password", "cheval-agrafe"),
                           ("confirm", "cheval")):
            first.inputs[name].setText(text)
            first.inputs[name].textEdited.emit(text)
        first.show()
        save(app, first, out, "01-premier-administrateur")
        first.close()
        create_first_administrator(uow(), "a.fabre", PASSWORD, name="Agnès Fabre")
        administrator = authenticate(uow(), "a.fabre", PASSWORD)
        for key in ("ref-benhamou", "coord-rousseau", "admin-fabre"):  # the accounts shown below get a password
            change_password(uow(), administrator, key, PASSWORD)
        _audit_trail(uow, day, authenticate, DomainError)
        login = LoginDialog(uow, None, "~/.local/share/Parcours/parcours.sqlite")
        login.key.setText("ref-benhamou")
        login.password.setText("secret")
        login.message.setText("Identifiant ou mot de passe incorrect.")
        login.message.setStyleSheet("color: #b42318;")
        login.message.setVisible(True)
        login.show()
        save(app, login, out, "02-connexion")
        login.close()
        users = {u.key: u for u in list_users(uow())}
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)

        def window(key: str) -> MainWindow:
            w = MainWindow(uow, users[key], settings=settings, today=today, db_label="parcours.sqlite")
            w.resize(*SIZE)
            w.move(0, 0)
            w.show()
            return w

        referent = window("ref-benhamou")
        families = referent.show_page("families")
        save(app, referent, out, "10-referent-mes-familles")
        first = max(families.model.rows(), key=lambda f: (f.sessions_this_month, f.last_session or date.min))
        families.open_family(first.id)
        save(app, referent, out, "11-referent-dossier-famille")
        for index, name in ((1, "12-referent-dossier-enfants"), (3, "13-referent-dossier-seances"),
                            (4, "14-referent-dossier-heures")):
            families.file_view.tabs.setCurrentIndex(index)
            save(app, referent, out, name)
        form = referent.open_session_form(first.id)
        form.duration.setText("0")
        settle(app)
        save(app, form, out, "15-referent-nouvelle-seance")
        form.close()
        referent.show_page("week")
        save(app, referent, out, "16-referent-semaine")
        week = referent.pages["week"]
        from services.home_sessions import week_sessions
        week.show_day(_last_holiday(day, lambda d: bool(week_sessions(uow(), users["ref-benhamou"], d).sessions)))
        save(app, referent, out, "17-referent-semaine-vacances")
        referent.show_page("activity")
        save(app, referent, out, "18-referent-activite")
        referent.show_page("sessions")
        save(app, referent, out, "19-referent-seances")
        lock = ScreenLock(referent, uow, users["ref-benhamou"], 15 * 60_000)
        lock.lock()
        save(app, referent, out, "03-verrouillage")
        lock.stop()
        referent.close()

        coordinator = window("coord-rousseau")
        queue = coordinator.show_page("queue")
        save(app, coordinator, out, "20-coordination-a-valider")
        for index in (1, 2, 3):
            queue.tabs.setCurrentIndex(index)
            save(app, coordinator, out, f"2{index}-coordination-a-valider-{index}")
        families = coordinator.show_page("families")
        settle(app)
        without_consent = next(f for f in families.model.rows() if f.key in NO_CONSENT)
        families.open_family(without_consent.id)
        save(app, coordinator, out, "24-coordination-famille-sans-consentement")
        coordinator.show_page("eps")
        save(app, coordinator, out, "25-coordination-eps")
        coordinator.show_page("audit")
        save(app, coordinator, out, "26-coordination-journal-audit")
        coordinator.close()

        administrator = window("admin-fabre")
        for key in ("statements", "conventions"):
            administrator.show_page(key)
            save(app, administrator, out, f"30-administration-{key}")
        users_dialog = administrator.open_users_dialog()
        save(app, users_dialog, out, "31-administration-utilisateurs")
        users_dialog.close()
        administrator.close()
        settle(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
