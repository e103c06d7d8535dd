"""What a table's chart draws, the same in the PDF and the window.

Categories: the body rows (the « Total » row and an « Ensemble … » summary row are left out: they would dwarf
the others), labelled by their label cells. Series: the value columns but « Total »; for a "bars" table with more than four, only the first (a
distribution, not a forest of bars). A suppressed cell (« < 5 », « masqué ») is drawn as nothing (0): the chart
must not give back what the table hides.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.reports.model import ReportTable
from services.reports.tables import ALL, TOTAL

MAX_BAR_SERIES = 4


@dataclass(frozen=True)
class ChartData:
    kind: str  # "bars" | "line"
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[Decimal, ...]], ...]  # (name, one number per category)
    hidden: bool  # some drawn value is a suppressed cell


def chart_data(table: ReportTable) -> ChartData | None:
    if table.chart is None:
        return None
    first = table.label_columns
    rows = [row for row in table.rows if row[0] != TOTAL and not str(row[0]).startswith(ALL)]
    columns = [c for c in range(first, len(table.headers)) if table.headers[c] != TOTAL]
    if table.chart == "bars" and len(columns) > MAX_BAR_SERIES:
        columns = columns[:1]
    if not rows or not columns:
        return None
    hidden = False
    series = []
    for c in columns:
        numbers = []
        for row in rows:
            value = row[c] if c < len(row) else 0
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                numbers.append(Decimal(value))
            else:
                hidden = hidden or value not in ("—", "")
                numbers.append(Decimal(0))
        series.append((table.headers[c], tuple(numbers)))
    categories = tuple(" — ".join(str(v) for v in row[:first] if v) for row in rows)
    return ChartData(table.chart, categories, tuple(series), hidden)
