"""The base of the main window's pages: what every page needs to ask the services for its rows."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtWidgets import QWidget

from services.directory import CurrentUser


class Page(QWidget):
    """Holds the unit-of-work factory (a fresh unit per service call), the signed-in user the services check, and
    `today` as a callable so tests can fix the date."""

    def __init__(self, uow_factory, current_user: CurrentUser, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today):
        super().__init__(parent)
        self._uow = uow_factory
        self._user = current_user
        self._today = today
