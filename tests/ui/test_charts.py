"""The QPainter charts: French numbers, suppressed counts, elided labels with their tooltip, and a paint that
puts something on screen at every size."""
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st
from PySide6.QtGui import QColor, QImage

from services.formatting import NBSP
from ui.charts import BAR, PALETTE, BarChart, LineChart, Series, french_number, nice_ticks

SIZES = [(260, 140), (480, 260), (900, 420), (1400, 700)]


def _painted(widget, width: int, height: int) -> QImage:
    widget.resize(width, height)
    image = widget.grab().toImage()
    assert (image.width(), image.height()) == (width * image.devicePixelRatio(), height * image.devicePixelRatio()) \
        or image.width() >= width
    return image


def _colors(image: QImage, step: int = 3) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}


def _has(image: QImage, color: QColor, step: int = 2) -> bool:
    wanted = color.rgb()
    return any(image.pixel(x, y) == wanted for x in range(0, image.width(), step) for y in range(0, image.height(), step))


def test_french_numbers_group_thousands_with_a_no_break_space_and_use_a_comma():
    assert french_number(1234) == f"1{NBSP}234"
    assert french_number(Decimal("1234567.50")) == f"1{NBSP}234{NBSP}567,5"
    assert french_number(Decimal("12.75")) == "12,75"
    assert french_number(Decimal("3.00")) == "3"
    assert french_number(0) == "0"
    assert french_number(-1500) == f"-1{NBSP}500"
    assert french_number("< 5") == "< 5"


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_a_french_integer_reads_back_as_itself(value):
    text = french_number(value)
    assert int(text.replace(NBSP, "")) == value
    assert all(len(group) == 3 for group in text.lstrip("-").split(NBSP)[1:])


@given(st.floats(min_value=0.01, max_value=1e9, allow_nan=False))
def test_ticks_start_at_zero_cover_the_top_and_are_evenly_spaced(top):
    ticks = nice_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top * (1 - 1e-9)
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1 and 2 <= len(ticks) <= 12


@pytest.mark.parametrize("width,height", SIZES)
def test_bar_chart_paints_bars_at_every_size(qtbot, width, height):
    chart = BarChart()
    qtbot.addWidget(chart)
    chart.set_items([("Filles", 12), ("Garçons", 9), ("Non renseigné", "< 5")])
    image = _painted(chart, width, height)
    assert _has(image, BAR)
    assert len(_colors(image)) > 3


def test_a_suppressed_count_shows_its_text_without_a_bar(qtbot):
    chart = BarChart()
    qtbot.addWidget(chart)
    chart.set_items([("Seul", "< 5")])
    image = _painted(chart, 500, 120)
    assert not _has(image, BAR)
    assert any("< 5" in text for _rect, text in chart._tips)


def test_a_long_label_is_elided_and_whole_in_its_tooltip(qtbot):
    long = "Éducation nationale — assistante sociale scolaire du collège Louis-Pasteur de Bourg-en-Bresse"
    chart = BarChart()
    qtbot.addWidget(chart)
    chart.set_items([(long, 7), ("PMI", 3)])
    chart.resize(400, 120)
    chart.grab()
    assert any(text == long for _rect, text in chart._tips)
    rect = next(rect for rect, text in chart._tips if text == long)
    assert chart.tooltip_at(rect.center().x(), rect.center().y()) == long


def test_an_empty_chart_says_so_rather_than_drawing_nothing(qtbot):
    for chart in (BarChart(), LineChart()):
        qtbot.addWidget(chart)
        image = _painted(chart, 400, 200)
        assert len(_colors(image, 2)) > 1  # the « Aucune donnée » text


@pytest.mark.parametrize("width,height", SIZES)
def test_line_chart_paints_series_and_a_dashed_cap_at_every_size(qtbot, width, height):
    chart = LineChart()
    qtbot.addWidget(chart)
    months = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
    spent = tuple(Decimal(1800 * (i + 1)) if i < 8 else None for i in range(12))
    chart.set_data(months, [Series("Dépensé (cumul)", spent), Series("Plafond", (Decimal(25000),) * 12, dashed=True)],
                   full_categories=[f"{m} 2025" for m in months])
    image = _painted(chart, width, height)
    line, cap = chart.series()
    assert _has(image, line.color, 1) and _has(image, cap.color, 1)


def test_line_chart_tooltip_gives_the_month_and_each_value_in_french(qtbot):
    chart = LineChart()
    qtbot.addWidget(chart)
    chart.set_data(["janv.", "févr."], [Series("Heures", (Decimal("12.5"), Decimal("1250")))],
                   full_categories=["janvier 2025", "février 2025"])
    chart.resize(600, 300)
    chart.grab()
    tips = [text for _rect, text in chart._tips]
    assert "Janvier 2025\nHeures : 12,5" in tips
    assert f"Février 2025\nHeures : 1{NBSP}250" in tips


@pytest.mark.parametrize("points", [9, 13.5])  # 100 % and 150 %
def test_a_bar_chart_asks_for_the_height_its_rows_need_at_every_font_size(qtbot, points):
    chart = BarChart()
    qtbot.addWidget(chart)
    font = chart.font()
    font.setPointSizeF(points)
    chart.setFont(font)
    chart.set_groups(["2 à 5 ans", "6 à 10 ans", "11 à 16 ans"], [("Filles", (1, 8, 3)), ("Garçons", (4, 6, 0))])
    line = chart.fontMetrics().height()
    assert chart.minimumSizeHint().height() >= 3 * 2 * line + line  # two bars a row, and the legend
    image = _painted(chart, 420, chart.minimumSizeHint().height())
    assert _has(image, QColor(PALETTE[0]), 1) and _has(image, QColor(PALETTE[1]), 1)
