"""Start of the window: empty store -> welcome (demo in one click) -> who are you -> main window."""
from __future__ import annotations

import sys

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from services.directory import CurrentUser, store_is_empty
from ui.errors import install_excepthook
from ui.identity import IdentityDialog
from ui.main_window import MainWindow
from ui.welcome import WelcomeWindow

STYLE = """
QWidget { font-size: 13px; }
QTableView { gridline-color: #e4e7ec; selection-background-color: #d1e0ff; selection-color: #101828; }
QHeaderView::section { background: #f9fafb; padding: 4px 6px; border: none; border-bottom: 1px solid #d0d5dd;
                       font-weight: 600; }
QPushButton { padding: 5px 12px; }
QTabBar::tab { padding: 6px 14px; }
"""


class AppController(QObject):
    """Holds the top-level window of the moment; the one place where the current user is set."""

    def __init__(self, uow_factory, db_label: str = ""):
        super().__init__()
        self._uow = uow_factory
        self._db_label = db_label
        self.window = None
        self.identity: IdentityDialog | None = None
        self.user: CurrentUser | None = None

    def start(self) -> None:
        if store_is_empty(self._uow()):
            welcome = WelcomeWindow(self._uow, self._db_label)
            welcome.demo_loaded.connect(self._demo_loaded)
            self._replace(welcome)
        else:
            self.ask_identity()

    def _demo_loaded(self, summary: str) -> None:
        self.ask_identity(summary)

    def ask_identity(self, message: str = "") -> None:
        self.identity = IdentityDialog(self._uow, None, self._db_label)
        if message:
            self.identity.setToolTip(message)
        self.identity.identity_chosen.connect(self.set_user)
        self._replace(self.identity)

    def set_user(self, user: CurrentUser) -> None:
        self.user = user
        window = MainWindow(self._uow, user, db_label=self._db_label)
        window.switch_user_requested.connect(self.ask_identity)
        self._replace(window)

    def _replace(self, widget) -> None:
        previous, self.window = self.window, widget
        widget.show()
        if previous is not None and previous is not widget:
            previous.close()
            previous.deleteLater()


def run_app(uow_factory, db_label: str = "") -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setOrganizationName("Parcours")
    app.setApplicationName("Parcours")
    app.setApplicationDisplayName("Parcours")
    app.setStyleSheet(STYLE)
    restore = install_excepthook()
    controller = AppController(uow_factory, db_label)
    controller.start()
    try:
        return app.exec()
    finally:
        restore()
