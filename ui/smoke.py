"""Smoke run of the window, for CI on the frozen bundle (packaging/ci-linux.sh): the real start, the real login
dialog, the main window, the « États mensuels » page and its « Aperçu PDF » tab, which must show the pages of the
statement — not the « aperçu indisponible » note a bundle without QtPdf silently falls back to.

    PARCOURS_SMOKE=statements-preview             turns the smoke run on (main.py: `smoke_requested()`)
    PARCOURS_SMOKE_USER, PARCOURS_SMOKE_PASSWORD  an administrator's account: the run logs in like anyone, so it
                                                  opens nothing a person without the password could not
    PARCOURS_SMOKE_SECONDS                        how long the preview stays on screen (default 3)
    PARCOURS_SMOKE_SCREENSHOT                     where to save a picture of the window (optional)

Prints one French line per step on stdout; exit 0 once the preview shows pages, 3 otherwise (with the reason).
"""
from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

ENV = "PARCOURS_SMOKE"
MODES = ("statements-preview",)
EXIT_OK, EXIT_FAILED = 0, 3
TIMEOUT_S = 90  # a cold frozen start on a busy 2-core runner, the login's argon2 and the statement's PDF


def smoke_requested() -> bool:
    return bool(os.environ.get(ENV))


class StatementsPreviewSmoke:
    """A small state machine stepped by a timer: login -> main window -> statements page -> preview -> wait."""

    def __init__(self, controller, user: str, password: str, seconds: float, screenshot: str | None):
        self.controller = controller
        self.user, self.password = user, password
        self.seconds, self.screenshot = seconds, screenshot
        self.started = time.monotonic()
        self.step = self._log_in
        self.code: int | None = None
        self.page = None
        self.pages = 0
        self.shown_at = 0.0
        self.timer = QTimer()
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._tick)

    def say(self, text: str) -> None:
        print(f"[smoke {time.monotonic() - self.started:5.1f} s] {text}", flush=True)

    def fail(self, text: str) -> None:
        print(f"[smoke] ÉCHEC : {text}", file=sys.stderr, flush=True)
        self.code = EXIT_FAILED
        self.timer.stop()
        QApplication.quit()

    def _tick(self) -> None:
        if time.monotonic() - self.started > TIMEOUT_S:
            note = self.page.preview.note.text() if self.page is not None else ""
            self.fail(f"délai de {TIMEOUT_S} s dépassé à l'étape {self.step.__name__}" + (f" ; note : {note}"
                                                                                          if note else ""))
            return
        self.step()

    def _log_in(self) -> None:
        from ui.login import LoginDialog

        dialog = self.controller.window
        if not isinstance(dialog, LoginDialog):
            self.fail(f"la fenêtre de connexion était attendue, pas {type(dialog).__name__} (base vide ?)")
            return
        dialog.key.setText(self.user)
        dialog.password.setText(self.password)
        dialog.submit()
        self.say("connexion demandée")
        self.step = self._main_window

    def _main_window(self) -> None:
        window = self.controller.main_window
        if window is None:
            dialog = self.controller.window
            message = getattr(dialog, "message", None)
            if message is not None and message.isVisible() and message.text():
                self.fail(f"connexion refusée : {message.text()}")
            return
        self.say(f"fenêtre principale ouverte : {window.windowTitle()}")
        self.page = window.show_page("statements")
        if not hasattr(self.page, "preview"):
            self.fail("la page « États mensuels » n'a pas pu être chargée (module absent du paquet ?)")
            return
        self.step = self._statement

    def _statement(self) -> None:
        statement = self.page.statement()
        if statement is None:
            return
        self.say(f"état affiché : convention {self.page.selected_convention()}, mois {self.page.selected_month()}")
        self.page.preview_loaded.connect(self._loaded)
        self.page.show_preview()
        self.step = self._preview

    def _loaded(self, pages: int) -> None:
        self.pages = pages

    def _preview(self) -> None:
        preview = self.page.preview
        if not preview.available:
            self.fail(f"aperçu indisponible : {preview.note.text()}")
            return
        if self.pages < 1:
            return
        if preview.stack.currentIndex() != preview.VIEW or preview.page_count() != self.pages:
            self.fail(f"l'aperçu n'affiche pas le document ; note : {preview.note.text()}")
            return
        self.say(f"aperçu PDF : {self.pages} page(s) affichée(s)")
        self.shown_at = time.monotonic()
        self.step = self._stay

    def _stay(self) -> None:
        if time.monotonic() - self.shown_at < self.seconds:
            return
        if self.screenshot:
            saved = self.controller.main_window.grab().save(self.screenshot)
            self.say(f"capture {'enregistrée dans ' + self.screenshot if saved else 'non enregistrée'}")
        self.say("réussi")
        self.code = EXIT_OK
        self.timer.stop()
        self.controller.main_window.close_at_once()
        QApplication.quit()


def run_smoke(uow_factory, db_label: str) -> int:
    """The window as `ui.app.run_app` starts it, driven by StatementsPreviewSmoke; the exit code of the run."""
    from ui.app import STYLE, AppController
    from ui.translations import install_french

    mode = os.environ.get(ENV, "")
    if mode not in MODES:
        print(f"[smoke] mode inconnu : {mode!r} (modes : {', '.join(MODES)})", file=sys.stderr)
        return EXIT_FAILED
    user, password = os.environ.get("PARCOURS_SMOKE_USER", ""), os.environ.get("PARCOURS_SMOKE_PASSWORD", "")
    if not user or not password:
        print("[smoke] PARCOURS_SMOKE_USER et PARCOURS_SMOKE_PASSWORD sont nécessaires", file=sys.stderr)
        return EXIT_FAILED
    app = QApplication.instance() or QApplication(sys.argv)
    install_french(app)
    app.setOrganizationName("Parcours")
    app.setApplicationName("Parcours")
    app.setStyleSheet(STYLE)
    controller = AppController(uow_factory, db_label)
    controller.start()
    smoke = StatementsPreviewSmoke(controller, user, password, float(os.environ.get("PARCOURS_SMOKE_SECONDS", "3")),
                                   os.environ.get("PARCOURS_SMOKE_SCREENSHOT") or None)
    smoke.say(f"démarrage ({QApplication.platformName()})")
    smoke.timer.start()
    try:
        app.exec()
    finally:
        controller.shutdown()
    return smoke.code if smoke.code is not None else EXIT_FAILED
