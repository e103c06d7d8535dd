"""Small charts drawn with QPainter (QtCharts is not shipped): the reports' distributions and the months of a year.

    BarChart   horizontal bars, one per label: the label on the left (elided, whole in a tooltip), the value on
               the right in French (« 1 234 », « 12,5 »); a suppressed count (« < 5 ») shows its text, no bar.
               set_items([(label, value), ...], value_text=None)
    LineChart  categories (months) on x, one or more series (`Series`, a dashed one for a cap), a legend above,
               a y axis with French ticks. set_data(categories, series, value_text=None)

Both size themselves from the font (readable at 100 % and 150 %), paint an « Aucune donnée » when empty, and
never clip a label: what does not fit is elided and given whole in the tooltip.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from services.formatting import NBSP

PALETTE = (QColor("#2e5aac"), QColor("#d9822b"), QColor("#2f855a"), QColor("#9b2c9b"), QColor("#c53030"))
BAR = QColor("#5b8def")
AXIS = QColor("#98a2b3")
GRID = QColor("#eaecf0")
TEXT = QColor("#344054")
MUTED = QColor("#667085")
CAP = QColor("#b42318")
EMPTY_TEXT = "Aucune donnée pour cette période."


def french_number(value: int | float | Decimal | str | None) -> str:
    """« 1 234 », « 1 234,5 », « 12,75 »: thousands split by a no-break space, a decimal comma, no useless zero."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        digits, decimals = str(abs(value)), ""
    else:
        text = f"{abs(Decimal(str(value))):.2f}".rstrip("0").rstrip(".")
        digits, _, decimals = text.partition(".")
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    sign = "-" if (value < 0 and (groups != ["0"] or decimals)) else ""
    return sign + NBSP.join(groups or ["0"]) + ("," + decimals if decimals else "")


def french_money(value) -> str:
    return french_number(value) + f"{NBSP}€" if not isinstance(value, str) else value


def numeric(value) -> float | None:
    """The value as a number to draw, None for a suppressed or empty one."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    return float(value)


class _Chart(QWidget):
    """What both charts share: the empty text, the tooltips of elided labels."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._tips: list[tuple[QRect, str]] = []  # where the last paint elided or summarised a text
        self.setMouseTracking(True)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            point = event.pos()
            tip = next((text for rect, text in self._tips if rect.contains(point)), None)
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def tooltip_at(self, x: int, y: int) -> str | None:
        """The tooltip the chart gives at (x, y) after its last paint (for tests and keyboard users alike)."""
        return next((text for rect, text in self._tips if rect.contains(x, y)), None)

    def _legend_places(self, names: Sequence[str]) -> tuple[list[tuple[int, int]], int]:
        """Where each legend entry goes (x, y), wrapped onto as many lines as the width needs, and its height."""
        metrics = self.fontMetrics()
        pad = metrics.averageCharWidth()
        x, y, line, places = pad, 0, metrics.height() + 4, []
        for name in names:
            width = 5 * pad + metrics.horizontalAdvance(name)
            if x > pad and x + width > self.width():
                x, y = pad, y + line
            places.append((x, y))
            x += width + pad
        return places, (y + line if names else 0)

    def _legend(self, painter: QPainter, entries: Sequence[tuple[str, QColor, bool]], bars: bool = False) -> int:
        """The series' names (name, colour, dashed) above the chart, a swatch before each; returns its bottom."""
        metrics = self.fontMetrics()
        pad = metrics.averageCharWidth()
        line = metrics.height() + 4
        places, height = self._legend_places([name for name, _c, _d in entries])
        for (name, color, dashed), (x, y) in zip(entries, places):
            if bars:
                painter.fillRect(QRect(x, y + 5, int(2.5 * pad), line - 10), color)
            else:
                painter.setPen(QPen(color, 2.5, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine))
                painter.drawLine(QPointF(x, y + line / 2), QPointF(x + 2.5 * pad, y + line / 2))
            room = max(self.width() - x - 3 * pad, pad)
            shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, room)
            painter.setPen(TEXT)
            rect = QRect(int(x + 3 * pad), y, metrics.horizontalAdvance(shown) + 1, line)
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
            if shown != name:
                self._tips.append((rect, name))
        return height

    def _empty(self, painter: QPainter) -> None:
        painter.setPen(MUTED)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_TEXT)


class BarChart(_Chart):
    """One bar per label, or, with several series, one bar per series under each label (a legend above)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._labels: tuple[str, ...] = ()
        self._series: tuple[tuple[str, tuple], ...] = ()
        self._value_text: Callable[[object], str] = french_number

    def set_items(self, items: Sequence[tuple[str, object]], value_text: Callable[[object], str] | None = None) -> None:
        self.set_groups([label for label, _v in items], [("", tuple(v for _l, v in items))], value_text)

    def set_groups(self, labels: Sequence[str], series: Sequence[tuple[str, Sequence]],
                   value_text: Callable[[object], str] | None = None) -> None:
        self._labels = tuple(str(label) for label in labels)
        self._series = tuple((name, tuple(values)) for name, values in series)
        self._value_text = value_text or french_number
        self.updateGeometry()
        self.update()

    def items(self) -> tuple[tuple[str, object], ...]:
        """(label, value) of the first series."""
        return tuple(zip(self._labels, self._series[0][1])) if self._series else ()

    def _bar_height(self) -> int:
        return int(self.fontMetrics().height() * (1.1 if len(self._series) > 1 else 1.05))

    def _row_height(self) -> int:
        return self._bar_height() * max(len(self._series), 1) + int(self.fontMetrics().height() * 0.6)

    def _legend_height(self) -> int:
        return self._legend_places([name for name, _v in self._series])[1] if len(self._series) > 1 else 0

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.updateGeometry()  # a narrower chart may wrap its legend onto one more line

    def _wanted_height(self) -> int:
        rows = max(len(self._labels), 2)
        return rows * self._row_height() + self._legend_height() + self.fontMetrics().height() // 2

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth() * 60, self._wanted_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth() * 30, self._wanted_height())

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._tips = []
        if not self._labels or not self._series:
            self._empty(painter)
            return
        metrics = self.fontMetrics()
        pad = metrics.averageCharWidth()
        many = len(self._series) > 1
        colors = [PALETTE[i % len(PALETTE)] if many else BAR for i in range(len(self._series))]
        texts = [[self._value_text(v) for v in values] for _name, values in self._series]
        value_width = max(metrics.horizontalAdvance(t) for column in texts for t in column) + pad
        label_width = min(max(metrics.horizontalAdvance(l) for l in self._labels) + pad, int(self.width() * 0.42))
        bar_left = label_width + pad
        bar_room = max(self.width() - bar_left - value_width - 2 * pad, 1)
        numbers = [numeric(v) for _name, values in self._series for v in values]
        top_value = max([v for v in numbers if v is not None] + [0.0]) or 1.0
        top = self._legend(painter, [(name, color, False) for (name, _v), color in zip(self._series, colors)],
                           bars=True) if many else 0
        row, bar = self._row_height(), self._bar_height()
        for i, label in enumerate(self._labels):
            y = top + i * row
            label_rect = QRect(0, y, label_width, row)
            self._draw_label(painter, label_rect, label)
            lines = []
            for s, ((name, values), color) in enumerate(zip(self._series, colors)):
                value = values[i] if i < len(values) else None
                text = texts[s][i] if i < len(texts[s]) else ""
                number = numeric(value)
                bar_top = y + (row - bar * len(self._series)) // 2 + s * bar
                width = 0 if number is None or number <= 0 else max(int(bar_room * number / top_value), 2)
                if width:
                    painter.fillRect(QRect(bar_left, bar_top + 2, width, bar - 4), color)
                painter.setPen(MUTED if number is None else TEXT)
                if not (many and number == 0):  # a column of « 0 » beside empty bars says nothing
                    painter.drawText(QRect(bar_left + width + pad // 2, bar_top, value_width + pad, bar),
                                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
                lines.append(f"{name} : {text}" if name else text)
            self._tips.append((QRect(bar_left, y, bar_room + value_width, row), f"{label} : " + (
                lines[0] if not many else "\n" + "\n".join(lines))))
        painter.end()


    def _draw_label(self, painter: QPainter, rect: QRect, label: str) -> None:
        """On one line; on two when the row is tall enough for them (several series); else elided, whole in the
        tooltip."""
        metrics = self.fontMetrics()
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.setPen(TEXT)
        if metrics.horizontalAdvance(label) <= rect.width():
            painter.drawText(rect, align, label)
            return
        wrapped = metrics.boundingRect(QRect(0, 0, rect.width(), 10_000), int(Qt.TextFlag.TextWordWrap), label)
        if rect.height() >= 2 * metrics.height() and wrapped.height() <= rect.height() \
                and wrapped.width() <= rect.width():
            painter.drawText(rect, int(align) | int(Qt.TextFlag.TextWordWrap), label)
            return
        painter.drawText(rect, align, metrics.elidedText(label, Qt.TextElideMode.ElideRight, rect.width()))
        self._tips.append((rect, label))


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple  # one per category; None (not yet, or suppressed) leaves a gap
    color: QColor | None = None
    dashed: bool = False  # a cap or a target, not a measure


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round ticks from 0 to at least `top`: 0, 5 000, 10 000… (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [step * i for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


class LineChart(_Chart):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._categories: tuple[str, ...] = ()
        self._series: tuple[Series, ...] = ()
        self._value_text: Callable[[object], str] = french_number
        self._tick_text: Callable[[float], str] = lambda v: french_number(Decimal(str(round(v, 2))))
        self._unit = ""
        self._full_categories: tuple[str, ...] = ()

    def set_data(self, categories: Sequence[str], series: Sequence[Series],
                 value_text: Callable[[object], str] | None = None, full_categories: Sequence[str] | None = None,
                 unit: str = "") -> None:
        """`categories` are the x labels (« janv. »), `full_categories` their long form for the tooltips
        (« janvier 2025 »); `unit` follows each tick of the y axis (« 10 000 € »)."""
        self._unit = unit
        self._categories = tuple(categories)
        self._full_categories = tuple(full_categories or categories)
        colors = iter(PALETTE)
        self._series = tuple(s if s.color is not None else Series(s.name, tuple(s.values),
                                                                  CAP if s.dashed else next(colors, BAR), s.dashed)
                             for s in series)
        self._value_text = value_text or french_number
        self.update()

    def series(self) -> tuple[Series, ...]:
        return self._series

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.averageCharWidth() * 70, metrics.height() * 16)

    def minimumSizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.averageCharWidth() * 36, metrics.height() * 11)

    def _points(self) -> list[float]:
        return [v for s in self._series for v in map(numeric, s.values) if v is not None]

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._tips = []
        if not self._categories or not self._points():
            self._empty(painter)
            return
        metrics = self.fontMetrics()
        pad = metrics.averageCharWidth()
        legend_bottom = self._legend(painter, [(s.name, s.color, s.dashed) for s in self._series])
        ticks = nice_ticks(max(self._points()))
        tick_texts = [self._tick_text(t) + (NBSP + self._unit if self._unit else "") for t in ticks]
        axis_width = max(metrics.horizontalAdvance(t) for t in tick_texts) + pad
        plot = QRectF(axis_width + pad, legend_bottom + metrics.height() // 2, 0, 0)
        plot.setRight(self.width() - 2 * pad)
        plot.setBottom(self.height() - metrics.height() * 1.8)
        if plot.width() < 10 or plot.height() < 10:
            painter.end()
            return
        top_value = ticks[-1] or 1.0

        def y_of(value: float) -> float:
            return plot.bottom() - plot.height() * value / top_value

        step = plot.width() / max(len(self._categories), 1)

        def x_of(index: int) -> float:
            return plot.left() + step * (index + 0.5)

        for tick, text in zip(ticks, tick_texts):
            y = y_of(tick)
            painter.setPen(QPen(GRID, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(MUTED)
            painter.drawText(QRectF(0, y - metrics.height(), axis_width, 2 * metrics.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        painter.setPen(QPen(AXIS, 1))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))
        # every k-th category, so that no two labels overlap
        widest = max(metrics.horizontalAdvance(c) for c in self._categories) + pad
        every = max(1, math.ceil(widest / step))
        painter.setPen(TEXT)
        for i, category in enumerate(self._categories):
            if i % every == 0:
                painter.drawText(QRectF(x_of(i) - step * every / 2, plot.bottom() + 2, step * every,
                                        metrics.height() * 1.5),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, category)
        for s in self._series:
            self._draw_series(painter, s, x_of, y_of)
        for i in range(len(self._categories)):
            lines = [f"{s.name} : {self._value_text(s.values[i])}" for s in self._series
                     if i < len(s.values) and s.values[i] is not None]
            if lines:
                rect = QRectF(x_of(i) - step / 2, plot.top(), step, plot.height()).toRect()
                self._tips.append((rect, "\n".join([self._full_categories[i].capitalize(), *lines])))
        painter.end()

    @staticmethod
    def _draw_series(painter: QPainter, s: Series, x_of, y_of) -> None:
        pen = QPen(s.color, 2.5 if not s.dashed else 2, Qt.PenStyle.DashLine if s.dashed else Qt.PenStyle.SolidLine)
        painter.setPen(pen)
        path, drawing = QPainterPath(), False
        points = []
        for i, value in enumerate(s.values):
            number = numeric(value)
            if number is None:
                drawing = False
                continue
            point = QPointF(x_of(i), y_of(number))
            points.append(point)
            if drawing:
                path.lineTo(point)
            else:
                path.moveTo(point)
                drawing = True
        painter.drawPath(path)
        if not s.dashed:
            painter.setBrush(s.color)
            for point in points:
                painter.drawEllipse(point, 3, 3)
            painter.setBrush(Qt.BrushStyle.NoBrush)
