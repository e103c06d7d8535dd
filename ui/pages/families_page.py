"""« Mes familles » (référent) / « Familles » (coordination): a searchable, sortable list, then the family file."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout,
                               QWidget)

from services.directory import CurrentUser
from services.families import FamilyRow, list_families
from services.permissions import allowed, notes_visible
from ui.background import run_in_background
from ui.family_forms import ask_new_family, referent_choices
from ui.form_dialog import FormDialog
from ui.pages.family_file import FamilyFileView
from ui.pages.page import Page
from ui.table_model import ListModel, count_column, date_column, row_of, search_proxy, text_column
from ui.widgets import fit_columns, heading_row, note_label, search_field, steady_width, table_view

# The status filter: label -> which rows it keeps (FamilyRow.parcours_status)
STATUS_FILTERS = (
    ("Toutes", None),
    ("Parcours en cours", lambda r: r.parcours_status == "open"),
    ("Parcours proposé", lambda r: r.parcours_status == "proposed"),
    ("Parcours suspendu", lambda r: r.parcours_status == "suspended"),
    ("Parcours clos", lambda r: r.parcours_status == "closed"),
    ("Sans parcours", lambda r: r.parcours_status is None),
)


def count_text(shown: int, total: int) -> str:
    """« 32 familles », or « 3 familles sur 32 » while a search or a filter hides some."""
    if shown == total:
        return f"{total} famille{'s' if total > 1 else ''}"
    return f"{shown} famille{'s' if shown > 1 else ''} sur {total}"


class FamiliesModel(ListModel):
    NAME, COMMUNE, REFERENT, CHILDREN, ORIENTATIONS, LAST_SESSION, THIS_MONTH, PARCOURS = range(8)
    COLUMNS = (
        text_column("Famille", lambda r: r.name),
        text_column("Commune", lambda r: r.commune),
        text_column("Référent·e", lambda r: r.referent_name),
        count_column("Enfants", lambda r: r.children),
        count_column("Orientations\nactives", lambda r: r.active_orientations),  # two lines: room for the names
        date_column("Dernière\nséance", lambda r: r.last_session),
        count_column("Séances\nce mois", lambda r: r.sessions_this_month),
        text_column("Parcours", lambda r: r.parcours_label),
    )
    SEARCH = lambda r: r.notes  # noqa: E731 - the notes are searched, not shown (None for who may not read them)


class _ToList(QObject):
    """Down or Entrée in the search field moves to the list (its first row if none is chosen)."""

    def __init__(self, page: "FamiliesPage"):
        super().__init__(page)
        self._page = page

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Return,
                                                                     Qt.Key.Key_Enter):
            return self._page.focus_list()
        return False


class FamiliesPage(Page):
    families_loaded = Signal()
    family_opened = Signal(str)  # family id, once its file is shown
    family_created = Signal(object)  # services.family_records.FamilyRecord
    panel_switched = Signal()  # the list or a family file came on screen (the window's « Retour » follows)

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(uow_factory, current_user, parent, today=today)
        self._generation = 0  # only the latest load is shown
        self.stack = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        self.list_panel = QWidget(self)
        layout = QVBoxLayout(self.list_panel)
        self.count_label = QLabel(self)
        heading = heading_row(layout, "Mes familles" if current_user.is_referent else "Familles", self)
        heading.addWidget(self.count_label)
        self.show_closed = QCheckBox("Afficher les dossiers clos", self)  # the coordination sees them anyway
        self.show_closed.setVisible(current_user.is_referent)
        self.show_closed.toggled.connect(lambda _shown: self._reload_list())
        heading.addWidget(self.show_closed)
        self.new_family_button = QPushButton("Nouvelle famille… (Ctrl+Maj+N)", self)
        self.new_family_button.clicked.connect(self.ask_new_family)
        self.new_family_button.setVisible(allowed(current_user, "family.create"))
        heading.addWidget(self.new_family_button)
        self.new_family_shortcut = QShortcut(QKeySequence("Ctrl+Shift+N"), self)
        self.new_family_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.new_family_shortcut.activated.connect(self.ask_new_family)
        if allowed(current_user, "family.create"):  # what Aide › Raccourcis clavier says of it
            self.new_family_shortcut.setWhatsThis("Nouvelle famille (page Familles)")
        self.family_dialog: FormDialog | None = None
        self._referents: tuple = ()
        self.model = FamiliesModel(self)
        self.proxy = search_proxy(self.model, self)
        self.search = search_field(self.proxy, "Rechercher une famille, une commune, un statut de parcours"
                                   + (", les notes…" if notes_visible(current_user) else "…"), self)
        self.search.installEventFilter(_ToList(self))
        self.status_filter = QComboBox(self)
        self.status_filter.setAccessibleName("Filtrer par parcours")
        for label, _keep in STATUS_FILTERS:
            self.status_filter.addItem(label)
        steady_width(self.status_filter, [label for label, _keep in STATUS_FILTERS])
        self.status_filter.currentIndexChanged.connect(lambda i: self.proxy.set_condition(STATUS_FILTERS[i][1]))
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.status_filter)
        layout.addLayout(search_row)
        for signal in (self.proxy.modelReset, self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.layoutChanged):
            signal.connect(self._count)
        self.view = table_view(self.proxy, self, stretch=FamiliesModel.NAME)
        if current_user.is_referent:
            self.view.hideColumn(FamiliesModel.REFERENT)
        self.view.sortByColumn(FamiliesModel.NAME, Qt.SortOrder.AscendingOrder)
        self.view.activated.connect(self._open_index)
        layout.addWidget(self.view)
        layout.addWidget(note_label("Entrée ou double-clic : ouvrir le dossier de la famille. "
                                    "Ctrl+N : nouvelle séance. Ctrl+Maj+N : nouvelle famille.", self))
        self.stack.addWidget(self.list_panel)

        self.file_view = FamilyFileView(uow_factory, current_user, self, today=today)
        self.file_view.back_requested.connect(self.show_list)
        self.file_view.file_loaded.connect(self.family_opened)
        self.file_view.family_saved.connect(lambda _record: self._reload_list())
        self.file_view.family_deleted.connect(self._family_deleted)
        self.stack.addWidget(self.file_view)
        self.stack.currentChanged.connect(lambda _i: self.panel_switched.emit())
        self.setFocusProxy(self.search)

    # -- public -----------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._reload_list()
        if self.stack.currentWidget() is self.file_view:
            self.file_view.reload()

    def _reload_list(self) -> None:
        user, today, uow = self._user, self._today(), self._uow
        self._generation += 1
        generation = self._generation
        include_closed = True if self.show_closed.isChecked() else None
        run_in_background(self, lambda: list_families(uow(), user, today, include_closed),
                          lambda rows: generation == self._generation and self._loaded(rows))
        if user.is_coordinator:
            run_in_background(self, lambda: referent_choices(uow), self._referents_loaded)

    def open_family(self, family_id: str) -> None:
        self.stack.setCurrentWidget(self.file_view)
        self.file_view.show_family(family_id)

    def show_list(self) -> None:
        self.stack.setCurrentWidget(self.list_panel)
        self.view.setFocus()

    def showing_file(self) -> bool:
        return self.stack.currentWidget() is self.file_view

    def can_go_back(self) -> bool:
        return self.showing_file()

    def go_back(self) -> None:
        if self.showing_file():
            self.show_list()

    def focus_search(self) -> None:
        """Ctrl+F: the list's search field, selected so typing replaces it (from a family file, back to the list)."""
        if self.showing_file():
            self.show_list()
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def focus_main_field(self) -> None:
        """Where the keyboard starts on this page: the search field, or the file on screen."""
        if self.showing_file():
            self.file_view.tabs.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.search.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_list(self) -> bool:
        if not self.proxy.rowCount():
            return False
        if not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def current_family_id(self) -> str | None:
        """The family on screen (its file open, or selected in the list): the session form preselects it."""
        if self.stack.currentWidget() is self.file_view:
            return self.file_view.family_id
        row = row_of(self.view.currentIndex())
        return row.id if row else None

    def ask_new_family(self) -> FormDialog | None:
        """« Nouvelle famille… »: once created, the list reloads and the new family's file opens."""
        if not allowed(self._user, "family.create"):
            return None
        if self.family_dialog is not None and self.family_dialog.isVisible():
            self.family_dialog.raise_()
            self.family_dialog.activateWindow()
            return self.family_dialog
        self.family_dialog = ask_new_family(self, self._uow, self._user, self._referents, self._family_created)
        return self.family_dialog

    # -- internals ----------------------------------------------------------------------------------------------
    def _referents_loaded(self, choices: tuple) -> None:
        self._referents = self.file_view.referents = choices

    def _family_deleted(self, _key: str) -> None:
        self.file_view.family_id = None
        self.show_list()
        self._reload_list()

    def _family_created(self, record) -> None:
        self.family_created.emit(record)
        self._reload_list()
        self.open_family(record.id)

    def _loaded(self, rows: tuple[FamilyRow, ...]) -> None:
        self.model.set_rows(rows)
        fit_columns(self.view)
        self._count()
        if not self.view.currentIndex().isValid() and self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self.families_loaded.emit()

    def _count(self, *_args) -> None:
        self.count_label.setText(count_text(self.proxy.rowCount(), self.model.rowCount()))

    def _open_index(self, index: QModelIndex) -> None:
        row = row_of(index)
        if row is not None:
            self.open_family(row.id)
