"""The sync's word in the main window's status bar, on a connected copy only (a standalone copy shows nothing).

`status_parts(status, syncing, now)` says it in French — « Synchronisation… », « Hors ligne — 3 modifications en
attente », « Synchronisé à 14:02 » — with, when there are some, « 2 conflits à résoudre » and « 1 modification
refusée à corriger » as links: `SyncStatusLabel` shows them and emits `conflicts_requested` when one is clicked (the
page « Conflits à résoudre » lists both).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from services.sync.client import SyncStatus

CONFLICTS_LINK = "conflicts"
UNREACHABLE = "Serveur injoignable"  # how services.sync.client's ServerUnreachable messages begin


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def pending_text(pending: int) -> str:
    return _plural(pending, "modification en attente", "modifications en attente")


def when_text(moment: datetime, now: datetime) -> str:
    """« à 14:02 » today, « le 01/12 à 14:02 » another day (local time: the one on the user's clock)."""
    local, today = moment.astimezone(), now.astimezone()
    hour = local.strftime("%H:%M")
    return f"à {hour}" if local.date() == today.date() else f"le {local.strftime('%d/%m')} à {hour}"


def status_parts(status: SyncStatus, syncing: bool, now: datetime) -> tuple[str, list[str]]:
    """(the state, the links to the conflicts page) — plain French text; empty on a standalone copy."""
    if not status.connected:
        return "", []
    if syncing:
        state = "Synchronisation…"
    elif status.last_error and status.last_error.startswith(UNREACHABLE):
        state = f"Hors ligne — {pending_text(status.pending)}"
    elif status.last_error:
        state = "Synchronisation impossible"  # the reason is in the tooltip
    elif status.last_sync is None:
        state = "Pas encore synchronisé" + (f" — {pending_text(status.pending)}" if status.pending else "")
    else:
        state = f"Synchronisé {when_text(status.last_sync, now)}"
        if status.pending:
            state += f" — {pending_text(status.pending)}"
    links = []
    if status.open_conflicts:
        links.append(_plural(status.open_conflicts, "conflit à résoudre", "conflits à résoudre"))
    if status.refused:
        links.append(_plural(status.refused, "modification refusée à corriger", "modifications refusées à corriger"))
    return state, links


def tooltip_text(status: SyncStatus) -> str:
    if not status.connected:
        return ""
    lines = [f"Serveur du programme : {status.server}"]
    if status.last_error:
        lines.append(status.last_error)
    lines.append("Synchroniser maintenant : F9 (menu Fichier).")
    return "\n".join(lines)


class SyncStatusLabel(QLabel):
    """The permanent widget of the status bar; hidden while nothing is to be said (a standalone copy)."""

    conflicts_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, now: Callable[[], datetime] = datetime.now):
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self._now = now
        self._status: SyncStatus | None = None
        self._syncing = False
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.linkActivated.connect(self._link)
        self.hide()

    def plain_text(self) -> str:
        """What the label says, without its markup (tests, accessibility)."""
        if self._status is None:
            return ""
        state, links = status_parts(self._status, self._syncing, self._now())
        return " · ".join([state, *links]) if state else ""

    def set_status(self, status: SyncStatus) -> None:
        self._status = status
        self._show()

    def set_syncing(self, syncing: bool) -> None:
        self._syncing = syncing
        self._show()

    def _show(self) -> None:
        if self._status is None or not self._status.connected:
            self.clear()
            self.hide()
            return
        state, links = status_parts(self._status, self._syncing, self._now())
        shown = [escape(state)] + [f'<a href="{CONFLICTS_LINK}">{escape(link)}</a>' for link in links]
        self.setText(" · ".join(shown))
        self.setToolTip(tooltip_text(self._status))
        self.setAccessibleName(self.plain_text())
        self.show()

    def _link(self, href: str) -> None:
        if href == CONFLICTS_LINK:
            self.conflicts_requested.emit()
