"""Small-count suppression of one table (see model.suppress_small_counts)."""
from __future__ import annotations

from dataclasses import replace

from services.reports.model import SUPPRESSED, ReportTable


def suppress_table(table: ReportTable, threshold: int = 5) -> ReportTable:
    rows = [list(row) for row in table.rows]
    for row in rows:
        for i in range(table.label_columns, len(row)):
            if _is_count(row[i]) and 0 < row[i] < threshold:
                row[i] = SUPPRESSED
    return replace(table, rows=tuple(tuple(row) for row in rows))


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
