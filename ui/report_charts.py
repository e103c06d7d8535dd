"""The chart of a report's table in the window, from the same data the PDF draws (services.reports.chart_data):
horizontal bars for a distribution (one bar per series under each label), lines for the months of the period.

A "line" table's series are split by unit, one chart per unit (the amounts apart from the hours and counts: one
axis never mixes euros and hours); a series headed « Plafond » is drawn dashed.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from services.reports import ReportTable
from services.reports.chart_data import chart_data
from services.reports.values import CAP, MONEY_HEADERS
from ui.charts import BarChart, LineChart, Series, french_money, french_number
from ui.report_months import long_month, short_month


@dataclass(frozen=True)
class ChartPart:
    caption: str  # what the chart shows, in French ('' when the table's title says it)
    widget: QWidget


def chart_parts(table: ReportTable, parent: QWidget | None = None) -> list[ChartPart]:
    data = chart_data(table)
    if data is None:
        return []
    if data.kind == "bars":
        money = all(name in MONEY_HEADERS for name, _values in data.series)
        # in the window, a column of zeros (« Non renseigné » when everything is) would be a legend without bars
        series = [s for s in data.series if any(s[1])] or list(data.series[:1])
        chart = BarChart(parent)
        chart.set_groups(data.categories, series if len(series) > 1 else [("", series[0][1])],
                         value_text=french_money if money else french_number)
        caption = series[0][0] if len(series) == 1 and len(table.headers) - table.label_columns > 1 else ""
        return [ChartPart(caption, chart)]
    parts = []
    for money in (False, True):
        group = [(name, values) for name, values in data.series if (name in MONEY_HEADERS) == money]
        if not group:
            continue
        chart = LineChart(parent)
        chart.set_data([short_month(c) for c in data.categories],
                       [Series(name, values, dashed=name == CAP) for name, values in group],
                       value_text=french_money if money else french_number,
                       full_categories=[long_month(c) for c in data.categories], unit="€" if money else "")
        parts.append(ChartPart(", ".join(name for name, _values in group), chart))
    return parts if len(parts) > 1 else [ChartPart("", p.widget) for p in parts]  # one chart: its legend says it
