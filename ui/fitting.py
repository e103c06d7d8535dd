"""Windows that grow with their wrapped text.

Qt sizes a window from its layout's minimum size, which ignores the height a word-wrapped label needs at the
window's actual width: when a message appears under a field (or a note wraps onto more lines than the size hint
guessed), the layout squashes the fields and cuts the labels instead of growing the window. `keep_text_whole`
watches a window and keeps its minimum height at what its layout needs for its current width.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

WATCHED = frozenset({QEvent.Type.LayoutRequest, QEvent.Type.Resize, QEvent.Type.Show})


class TextFitter(QObject):
    """Lives as a child of the window it watches; `fit()` runs once the window's layout has settled."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        self._pending = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's spelling)
        # while Qt tears the window down, events can reach a filter whose Python side is already gone
        window = getattr(self, "_window", None)
        if window is not None and watched is window and event.type() in WATCHED and not self._pending:
            self._pending = True
            QTimer.singleShot(0, self, self.fit)
        return False

    def needed_height(self) -> int:
        layout = self._window.layout()
        if layout is None:
            return 0
        layout.activate()
        if layout.hasHeightForWidth():
            return layout.totalHeightForWidth(self._window.width())
        return layout.totalSizeHint().height()

    def fit(self) -> None:
        self._pending = False
        need = self.needed_height()
        if need and need != self._window.minimumHeight():
            self._window.setMinimumHeight(need)  # a shown window shorter than that grows to it


def keep_text_whole(window: QWidget) -> TextFitter:
    return TextFitter(window)
