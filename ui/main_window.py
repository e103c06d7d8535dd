"""The main window: a navigation list with the pages the user's role may use, Ctrl+N for a new session from
anywhere, and the window's size and last page remembered between runs (QSettings). Ctrl+L locks it (ui.lock):
cover() puts the lock screen in place of the pages, uncover() brings them back untouched. The administration
has an Administration › Utilisateurs menu (ui.users_dialog).

Keyboard: the window opens with the focus in the page's main field (`focus_main_field()`, else the page itself);
Ctrl+F goes to the page's search field (`focus_search()`), Échap or Alt+Gauche back (`can_go_back()`/`go_back()`:
from a family file to the list), F5 refreshes the page. Aide › Raccourcis clavier lists the window's shortcuts
from its actions (ui.help_dialogs), so the list says what the keys do.

Closing it never hides work still running: the window stays, behind « Sauvegarde en cours… », until its background
work and the automatic backup due are done (ui.closing); `close_at_once()` is for a switch of user.

Page constructor convention (every page, including ui/admin): `Page(uow_factory, current_user, parent=None)`;
ours also take `today=` (a zero-argument callable) and offer `refresh()`, called each time the page is shown.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import shiboken6
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QMessageBox, QStackedWidget, QVBoxLayout, QWidget)

from services.directory import CurrentUser
from services.formatting import format_date
from services.permissions import allowed
from ui.session_form import SessionForm
from ui.widgets import note_label, title_label

log = logging.getLogger("parcours.ui")


@dataclass(frozen=True)
class PageSpec:
    key: str
    label: str
    target: str  # "module:Class"
    roles: tuple[str, ...]
    ours: bool = True  # takes today= and has refresh()


PAGES = (
    PageSpec("dashboard", "Tableau de bord", "ui.pages.dashboard_page:DashboardPage", ("coordinator",)),
    PageSpec("families", "Familles", "ui.pages.families_page:FamiliesPage", ("referent", "coordinator")),
    PageSpec("week", "Semaine", "ui.pages.week_page:WeekPage", ("referent", "coordinator")),
    PageSpec("queue", "À valider", "ui.pages.queue_page:QueuePage", ("coordinator",)),
    PageSpec("eps", "Séances d'EPS", "ui.pages.eps_page:EpsPage", ("coordinator",)),
    PageSpec("sessions", "Toutes les séances", "ui.pages.sessions_page:SessionsPage",
             ("referent", "coordinator", "administrator")),
    PageSpec("activity", "Activité du mois", "ui.pages.activity_page:ActivityPage",
             ("referent", "coordinator", "administrator")),
    PageSpec("reports", "Bilans", "ui.pages.reports_page:ReportsPage", ("coordinator", "administrator")),
    PageSpec("audit", "Journal d'audit", "ui.pages.audit_page:AuditPage", ("coordinator",)),
    PageSpec("statements", "États mensuels", "ui.admin.statements_page:StatementsPage", ("administrator",)),
    PageSpec("conventions", "Conventions", "ui.admin.conventions_page:ConventionsPage", ("administrator",)),
)


def pages_for(user: CurrentUser) -> tuple[PageSpec, ...]:
    return tuple(p for p in PAGES if user.role in p.roles)


def placeholder(text: str, parent: QWidget | None = None) -> QWidget:
    page = QWidget(parent)
    layout = QVBoxLayout(page)
    layout.addWidget(title_label(text, page))
    layout.addWidget(note_label("Cette page n'est pas encore disponible dans cette version de Parcours.", page))
    layout.addStretch()
    return page


class MainWindow(QMainWindow):
    switch_user_requested = Signal()
    lock_requested = Signal()
    closed = Signal()
    page_shown = Signal(str)  # page key
    session_saved = Signal(object)

    def __init__(self, uow_factory, current_user: CurrentUser, *, db_label: str = "",
                 settings: QSettings | None = None, today: Callable[[], date] = date.today,
                 autobackup=None, parent: QWidget | None = None):
        super().__init__(parent)
        self._uow = uow_factory
        self._db_label = db_label
        self._autobackup = autobackup  # ui.autobackup.AutoBackup: the copy a close waits for (ui.closing)
        self._closing = None  # the ui.closing.ClosingWait of a close waiting for work to finish
        self._may_close = False
        self.user = current_user
        self._today = today
        self.settings = settings if settings is not None else QSettings()
        self.specs = pages_for(current_user)
        self.pages: dict[str, QWidget] = {}
        self.session_form: SessionForm | None = None
        self.users_dialog = None
        self._covered: dict | None = None  # what cover() took out of the window, for uncover()
        self.setWindowTitle(f"Parcours — {current_user.name} ({current_user.role_label})")
        self.setObjectName("mainWindow")

        central = QWidget(self)
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.nav = QListWidget(central)
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(200)
        self.nav.setStyleSheet("QListWidget#navigation { background: #f2f4f7; border: none; padding-top: 8px; }"
                               "QListWidget#navigation::item { padding: 9px 14px; }"
                               "QListWidget#navigation::item:selected { background: #d1e0ff; color: #101828; }")
        for spec in self.specs:
            label = "Mes familles" if spec.key == "families" and current_user.is_referent else spec.label
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            self.nav.addItem(item)
        self.stack = QStackedWidget(central)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_menu()
        who = QLabel(f"{current_user.name} — {current_user.role_label}" + (f"   ·   {db_label}" if db_label else ""))
        self.statusBar().addPermanentWidget(who)

        self.nav.currentRowChanged.connect(self._nav_changed)
        self.nav.itemClicked.connect(self._nav_clicked)
        self._focused = False  # the first show puts the focus in the page, not in the navigation
        self._restore()

    # -- building ---------------------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&Fichier")
        self.new_session_action = QAction("&Nouvelle séance…", self)
        self.new_session_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_session_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.new_session_action.triggered.connect(self.open_session_form)
        self.new_session_action.setEnabled(self.user.role in ("referent", "coordinator"))
        self.new_session_action.setProperty("not_for_role", not self.new_session_action.isEnabled())
        menu.addAction(self.new_session_action)
        self.addAction(self.new_session_action)
        # Shown to the roles the sheet import's own check (sheet.import) lets in: coordination and administration
        self.import_sheet_action = QAction("&Importer un tableur…", self)
        self.import_sheet_action.triggered.connect(self.open_sheet_wizard)
        self.import_sheet_action.setEnabled(allowed(self.user, "sheet.import"))
        self.import_sheet_action.setProperty("not_for_role", not self.import_sheet_action.isEnabled())
        menu.addAction(self.import_sheet_action)
        self.sheet_wizard = None
        lock = QAction("&Verrouiller", self)
        lock.setShortcut(QKeySequence("Ctrl+L"))
        lock.triggered.connect(self.lock_requested)
        menu.addAction(lock)
        switch = QAction("&Changer d'utilisateur…", self)
        switch.triggered.connect(self.switch_user_requested)
        menu.addAction(switch)
        menu.addSeparator()
        quit_action = QAction("&Quitter", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu.addAction(quit_action)
        view_menu = self.menuBar().addMenu("Affic&hage")
        self.find_action = self._action(view_menu, "&Rechercher", self.focus_search, QKeySequence.StandardKey.Find)
        self.back_action = self._action(view_menu, "Re&tour", self.go_back, QKeySequence("Escape"),
                                        QKeySequence("Alt+Left"))
        self.back_action.setToolTip("Revenir en arrière (du dossier d'une famille à la liste)")
        self.refresh_action = self._action(view_menu, "&Actualiser", self.refresh_page, QKeySequence("F5"))
        if self.user.is_administrator:
            admin_menu = self.menuBar().addMenu("A&dministration")
            users = QAction("&Utilisateurs…", self)
            users.triggered.connect(self.open_users_dialog)
            admin_menu.addAction(users)
        help_menu = self.menuBar().addMenu("&Aide")
        self.shortcuts_action = self._action(help_menu, "&Raccourcis clavier…", self.open_shortcuts)
        self.first_steps_action = self._action(help_menu, "Premiers &pas…", self.open_first_steps)
        help_menu.addSeparator()
        self.about_action = self._action(help_menu, "À pr&opos de Parcours…", self.open_about)

    def open_sheet_wizard(self):
        from ui.sheet_wizard import SheetWizard

        self.sheet_wizard = SheetWizard(self._uow, self.user, today=self._today, parent=self)
        self.sheet_wizard.finished.connect(self._sheet_imported)
        self.sheet_wizard.open()
        return self.sheet_wizard

    def _sheet_imported(self, _code: int) -> None:
        self.refresh_page()
        report = self.sheet_wizard.result if self.sheet_wizard else None
        if report is not None:  # said after the refresh, whose own message it replaces
            self.statusBar().showMessage(f"Tableur importé : {len(report.created)} enfant(s) créé(s), "
                                         f"{len(report.merged)} fusionné(s).", 15_000)

    def open_about(self):
        from ui.about import show_about

        self.help_dialog = show_about(self, self._db_label)
        return self.help_dialog

    def _action(self, menu, text: str, slot, *keys) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcuts([QKeySequence(k) if isinstance(k, QKeySequence.StandardKey) else k for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)  # a dialog's Échap stays the dialog's
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        return action

    def open_shortcuts(self):
        from ui.help_dialogs import ShortcutsDialog

        self.help_dialog = ShortcutsDialog(self)
        self.help_dialog.open()
        return self.help_dialog

    def open_first_steps(self):
        from ui.help_dialogs import FirstStepsDialog

        self.help_dialog = FirstStepsDialog(self)
        self.help_dialog.open()
        return self.help_dialog

    def page(self, key: str) -> QWidget:
        """The page, built the first time it is asked for (startup stays fast)."""
        if key not in self.pages:
            spec = next(s for s in self.specs if s.key == key)
            self.pages[key] = self._build_page(spec)
            self.stack.addWidget(self.pages[key])
            self._connect(key, self.pages[key])
        return self.pages[key]

    def _build_page(self, spec: PageSpec) -> QWidget:
        module_name, class_name = spec.target.split(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            log.info("page %s not available yet", spec.target)
            return placeholder(spec.label, self)
        except Exception:  # a broken page must not take the window down: the others keep working
            log.exception("page %s could not be loaded", spec.target)
            return placeholder(spec.label, self)
        if spec.ours:
            return cls(self._uow, self.user, self, today=self._today)
        return cls(self._uow, self.user, self)

    def _connect(self, key: str, page: QWidget) -> None:
        if key == "families":
            page.file_view.new_session_requested.connect(self.open_session_form)
            page.panel_switched.connect(self._update_actions)
        if key == "week":
            page.family_activated.connect(self.show_family)

    # -- navigation -------------------------------------------------------------------------------------------
    def show_page(self, key: str) -> QWidget:
        row = next(i for i, s in enumerate(self.specs) if s.key == key)
        if self.nav.currentRow() != row:
            self.nav.setCurrentRow(row)  # -> _nav_changed
        return self.pages[key]

    def current_key(self) -> str | None:
        item = self.nav.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _nav_changed(self, row: int) -> None:
        if row < 0:
            return
        key = self.specs[row].key
        page = self.page(key)
        self.stack.setCurrentWidget(page)
        if hasattr(page, "refresh"):
            page.refresh()
        self.settings.setValue(f"window/last_page/{self.user.role}", key)
        self._update_actions()
        self.page_shown.emit(key)

    def _nav_clicked(self, item: QListWidgetItem) -> None:
        """« Mes familles » clicked while a family file is shown: back to the list."""
        if item.data(Qt.ItemDataRole.UserRole) == "families":
            page = self.pages.get("families")
            if page is not None and hasattr(page, "go_back") and self.stack.currentWidget() is page:
                page.go_back()

    def current_page(self) -> QWidget | None:
        return self.stack.currentWidget()

    def focus_page(self) -> None:
        """The keyboard into the page on screen: its main field (the families' search), else the page."""
        page = self.current_page()
        if page is None:
            return
        if hasattr(page, "focus_main_field"):
            page.focus_main_field()
        else:
            page.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_search(self) -> None:
        page = self.current_page()
        if hasattr(page, "focus_search"):
            page.focus_search()
        elif isinstance(getattr(page, "search", None), QWidget) and page.search.isVisibleTo(page):
            page.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
            page.search.selectAll()

    def go_back(self) -> None:
        page = self.current_page()
        if hasattr(page, "can_go_back") and page.can_go_back():
            page.go_back()

    def refresh_page(self) -> None:
        page = self.current_page()
        if hasattr(page, "refresh"):
            page.refresh()
            self.statusBar().showMessage("Page actualisée.", 3000)

    def _update_actions(self) -> None:
        """Ctrl+F, Échap and F5 are on only where they do something: elsewhere the keys stay the widgets'."""
        page = self.current_page()
        states = {
            self.find_action: hasattr(page, "focus_search") or isinstance(getattr(page, "search", None), QWidget),
            self.back_action: bool(hasattr(page, "can_go_back") and page.can_go_back()),
            self.refresh_action: hasattr(page, "refresh"),
        }
        for action, enabled in states.items():
            if self._covered is not None:  # locked: uncover() brings back these states
                self._covered["actions"][action] = enabled
            else:
                action.setEnabled(enabled)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._focused:
            self._focused = True
            QTimer.singleShot(0, self, self.focus_page)

    def show_family(self, family_id: str) -> None:
        page = self.show_page("families") if any(s.key == "families" for s in self.specs) else None
        if page is not None:
            page.open_family(family_id)

    # -- sessions ---------------------------------------------------------------------------------------------
    def open_session_form(self, family_id: str | None = None) -> SessionForm | None:
        if not self.new_session_action.isEnabled():
            return None
        if not isinstance(family_id, str):  # from the menu: QAction passes a bool
            family_id = None
        families = self.pages.get("families")
        if family_id is None and families is not None and self.stack.currentWidget() is families:
            family_id = families.current_family_id()
        self.session_form = SessionForm(self._uow, self.user, self, family_id=family_id, today=self._today)
        self.session_form.session_saved.connect(self._session_saved)
        self.session_form.open()
        return self.session_form

    def _session_saved(self, row) -> None:
        self.statusBar().showMessage(f"Séance du {format_date(row.date)} enregistrée pour {row.family_name}.", 8000)
        current = self.stack.currentWidget()
        if hasattr(current, "refresh"):
            current.refresh()
        self.session_saved.emit(row)

    def open_users_dialog(self):
        from ui.users_dialog import UsersDialog  # administrators only: loaded when asked for

        self.users_dialog = UsersDialog(self._uow, self.user, self)
        self.users_dialog.open()
        return self.users_dialog

    # -- lock -------------------------------------------------------------------------------------------------
    @property
    def covered(self) -> bool:
        return self._covered is not None

    def cover(self, screen: QWidget) -> None:
        """Show `screen` instead of the pages; hide the menus, the status bar and its messages, and every action
        (Ctrl+N…). The pages are taken out whole, not closed: uncover() brings them back as they were."""
        if self._covered is not None:
            return
        focus = QApplication.focusWidget()
        self._covered = {
            "title": self.windowTitle(),
            "focus": focus if focus is not None and self.isAncestorOf(focus) else None,
            "actions": {action: action.isEnabled() for action in self.findChildren(QAction)},
            "content": self.takeCentralWidget(),  # no parent any more: hidden, out of the window's tree
        }
        for action in self._covered["actions"]:
            action.setEnabled(False)
        self.menuBar().setVisible(False)
        self.statusBar().clearMessage()
        self.statusBar().setVisible(False)
        self.setCentralWidget(screen)
        self.setWindowTitle("Parcours — verrouillé")

    def uncover(self) -> None:
        if self._covered is None:
            return
        covered, self._covered = self._covered, None
        screen = self.takeCentralWidget()
        if screen is not None:
            screen.deleteLater()
        self.setCentralWidget(covered["content"])
        for action, enabled in covered["actions"].items():
            action.setEnabled(enabled)
        self.menuBar().setVisible(True)
        self.statusBar().setVisible(True)
        self.setWindowTitle(covered["title"])
        if covered["focus"] is not None and shiboken6.isValid(covered["focus"]):
            covered["focus"].setFocus()

    # -- settings -----------------------------------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1200, 760)
        keys = [s.key for s in self.specs]
        last = self.settings.value(f"window/last_page/{self.user.role}")
        if keys:
            self.nav.setCurrentRow(keys.index(last) if last in keys else 0)

    def closeEvent(self, event) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        if not self._may_close and self._wait_before_closing():
            event.ignore()  # closed by _close_after_wait once the work and the backup are done
            return
        super().closeEvent(event)
        self.closed.emit()

    def _wait_before_closing(self) -> bool:
        """True while background work or the backup due must end first (ui.closing shows it)."""
        if self._closing is None:
            from ui.closing import ClosingWait

            self._closing = ClosingWait(self, self._autobackup)
            self._closing.may_close.connect(self._close_after_wait)
            self._closing.stayed.connect(self._stay_open)
            if not self._closing.start():
                self._closing.deleteLater()
                self._closing = None
                return False
        return True

    def _close_after_wait(self) -> None:
        self._may_close = True
        self.close()

    def _stay_open(self) -> None:
        self._closing.deleteLater()
        self._closing = None

    def close_at_once(self) -> bool:
        """Close without waiting for the background work: another window takes over and the process goes on."""
        self._may_close = True
        return self.close()
