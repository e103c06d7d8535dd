"""DateField: the one field where a date is typed, everywhere in the window.

A line edit: the date is typed freely (« 7/11/25 », « 07112025 », « 7 novembre 2025 »…) and read by
services.dates.parse_french_date; leaving the field writes it back as jj/mm/aaaa. Its text is selected when the
field takes the focus, so that typing replaces it. The small calendar button at its right, or Alt+Bas (F4),
opens a calendar in French to pick the day with the mouse or the arrows and Entrée.

`date()` is the date typed (None while it cannot be read), `error()` the French reason it cannot ('' when it
can), `parse(text)` raises that reason as a ValidationError; `date_changed(date)` is emitted when the field
holds a new readable date (a day picked, `setDate`, or typing finished), `last_date()` is that date. The field writes no message: the form
around it puts `error()` under it.
"""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QLocale, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFocusEvent, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QCalendarWidget, QLineEdit, QWidget

from services.dates import parse_french_date
from services.errors import ValidationError
from services.formatting import format_date
from ui.widgets import to_qdate

FRENCH = QLocale(QLocale.Language.French, QLocale.Country.France)


def _calendar_icon() -> QIcon:
    """A small drawn calendar (no image file to ship, the same on every platform)."""
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor("#475467"))
    painter.drawRect(QRect(1, 3, 13, 11))
    painter.fillRect(QRect(2, 4, 12, 3), QColor("#475467"))
    for x in (4, 7, 10):
        for y in (9, 12):
            painter.fillRect(QRect(x, y, 2, 1), QColor("#475467"))
    painter.drawLine(4, 1, 4, 3)
    painter.drawLine(11, 1, 11, 3)
    painter.end()
    return QIcon(pixmap)


class CalendarPopup(QCalendarWidget):
    """The month grid under a DateField, in French, weeks starting on Monday; Échap closes it."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setWindowFlags(Qt.WindowType.Popup)
        self.setLocale(FRENCH)
        self.setFirstDayOfWeek(Qt.DayOfWeek.Monday)
        self.setGridVisible(True)
        self.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)


class DateField(QLineEdit):
    date_changed = Signal(object)  # datetime.date

    def __init__(self, value: date | None = None, parent: QWidget | None = None, *,
                 minimum: date | None = None, maximum: date | None = None):
        super().__init__(parent)
        self.minimum, self.maximum = minimum, maximum
        self.setPlaceholderText("jj/mm/aaaa")
        self.setToolTip("Par exemple 07/11/2025, 071125 ou 7 novembre 2025 ; Alt+Bas ouvre le calendrier.")
        self.calendar_action = QAction(_calendar_icon(), "Calendrier", self)
        self.calendar_action.setToolTip("Choisir dans le calendrier (Alt+Bas)")
        self.calendar_action.triggered.connect(self.open_calendar)
        self.addAction(self.calendar_action, QLineEdit.ActionPosition.TrailingPosition)
        self.popup: CalendarPopup | None = None
        self._committed: date | None = None
        self.editingFinished.connect(self._commit)
        self.setDate(value)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("00/00/00000") + 40)

    # -- reading --------------------------------------------------------------------------------------------
    def parse(self, text: str) -> date:
        """The date in `text`, within the field's bounds; raises ValidationError with the French reason."""
        day = parse_french_date(text)
        if self.minimum is not None and day < self.minimum:
            raise ValidationError(f"La date ne peut pas précéder le {format_date(self.minimum)}.")
        if self.maximum is not None and day > self.maximum:
            raise ValidationError(f"La date ne peut pas dépasser le {format_date(self.maximum)}.")
        return day

    def date(self) -> date | None:
        try:
            return self.parse(self.text())
        except ValidationError:
            return None

    def last_date(self) -> date | None:
        """The last readable date the field held (the one `date_changed` last gave)."""
        return self._committed

    def error(self) -> str:
        try:
            self.parse(self.text())
        except ValidationError as exc:
            return exc.message
        return ""

    # -- writing --------------------------------------------------------------------------------------------
    def setDate(self, value: date | QDate | None) -> None:  # noqa: N802 (Qt's spelling)
        if isinstance(value, QDate):
            value = value.toPython() if value.isValid() else None
        self.setText(format_date(value))
        self._commit()

    def _commit(self) -> None:
        """Typing finished: write a readable date back as jj/mm/aaaa, and tell if it is a new one."""
        day = self.date()
        if day is None:
            return
        if self.text() != format_date(day):
            self.setText(format_date(day))
        if day != self._committed:
            self._committed = day
            self.date_changed.emit(day)

    # -- the calendar ---------------------------------------------------------------------------------------
    def open_calendar(self) -> CalendarPopup:
        if self.popup is None:
            self.popup = CalendarPopup(self)
            self.popup.clicked.connect(self._picked)
            self.popup.activated.connect(self._picked)
        self.popup.setMinimumDate(to_qdate(self.minimum) if self.minimum else QDate(1900, 1, 1))
        self.popup.setMaximumDate(to_qdate(self.maximum) if self.maximum else QDate(2199, 12, 31))
        self.popup.setSelectedDate(to_qdate(self.date() or self._committed or date.today()))
        self.popup.adjustSize()
        self.popup.move(self._popup_position())
        self.popup.show()
        self.popup.setFocus()
        return self.popup

    def _popup_position(self) -> QPoint:
        below = self.mapToGlobal(QPoint(0, self.height()))
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is not None:
            size = self.popup.sizeHint()
            if below.y() + size.height() > screen.bottom():
                below.setY(self.mapToGlobal(QPoint(0, 0)).y() - size.height())
            below.setX(max(screen.left(), min(below.x(), screen.right() - size.width())))
        return below

    def _picked(self, day: QDate) -> None:
        if self.popup is not None:
            self.popup.close()
        self.setDate(day)
        self.setFocus()

    # -- keyboard and focus ---------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        alt_down = event.key() == Qt.Key.Key_Down and event.modifiers() & Qt.KeyboardModifier.AltModifier
        if alt_down or (event.key() == Qt.Key.Key_F4 and not event.modifiers()):
            self.open_calendar()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if event.reason() != Qt.FocusReason.PopupFocusReason:
            QTimer.singleShot(0, self, self.selectAll)  # after the click that gave the focus, or it unselects
