"""Small-count suppression of one table (see model.suppress_small_counts).

Primary: every integer count from 1 to threshold-1 becomes « < 5 ». Secondary, for the tables whose totals are
sums (a last column headed « Total », a last row labelled « Total »): a line (a row up to its total column, or a
column down to its total row) left with exactly one hidden cell beside a visible total would give that cell back by
subtraction, so the smallest other visible non-zero count of the line is hidden too, shown « masqué » (it is at
least 5: writing « < 5 » there would be false); repeated until no line has a lone hidden cell. The total itself
stays visible. Other tables (an overview, reasons that are not exclusive) have no sum to subtract from.
"""
from __future__ import annotations

from dataclasses import replace

from services.reports.model import SUPPRESSED, ReportTable
from services.reports.tables import TOTAL

SECONDARY = "masqué"


def suppress_table(table: ReportTable, threshold: int = 5) -> ReportTable:
    rows = [list(row) for row in table.rows]
    first = table.label_columns
    for row in rows:
        for i in range(first, len(row)):
            if is_count(row[i]) and 0 < row[i] < threshold:
                row[i] = SUPPRESSED
    total_column = len(table.headers) - 1 if table.headers and table.headers[-1] == TOTAL else None
    total_row = len(rows) - 1 if rows and rows[-1][0] == TOTAL else None
    lines = []
    if total_column is not None:  # each body row, its cells before the total column
        lines += [[(r, c) for c in range(first, total_column)] for r in range(len(rows)) if r != total_row]
    if total_row is not None:  # each value column (but the total column's), its cells above the total row
        lines += [[(r, c) for r in range(total_row)] for c in range(first, len(table.headers))
                  if c != total_column]
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if _hidden(rows[cell[0]][cell[1]])]
            visible = [cell for cell in line if is_count(rows[cell[0]][cell[1]]) and rows[cell[0]][cell[1]] > 0]
            if len(hidden) == 1 and visible:
                r, c = min(visible, key=lambda cell: rows[cell[0]][cell[1]])
                rows[r][c] = SECONDARY
                changed = True
    return replace(table, rows=tuple(tuple(row) for row in rows))


def _hidden(value) -> bool:
    return value in (SUPPRESSED, SECONDARY)


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
