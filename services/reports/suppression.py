"""Small-count suppression of one table (see model.suppress_small_counts).

Primary: every integer count from 1 to threshold-1 becomes « < 5 ». Secondary, for the tables whose totals are
sums (a last column headed « Total », a last row labelled « Total »): a line (a row up to its total column, or a
column down to its total row, the total row and column included) left with exactly one hidden cell beside a
visible total would give that cell back by subtraction, so the smallest other visible non-zero count of the line is
hidden too, shown « masqué » (it is at least 5: writing « < 5 » there would be false), or, when the others are all
zeros, the line's total; repeated until no line has a lone hidden cell. Other tables (an overview, reasons that are
not exclusive) have no sum to subtract from.
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
    body_rows = [r for r in range(len(rows)) if r != total_row]
    body_columns = [c for c in range(first, len(table.headers)) if c != total_column]
    lines = []  # (cells that add up to the total, the total's cell)
    if total_column is not None:  # each row, the total row's too
        lines += [([(r, c) for c in body_columns], (r, total_column)) for r in range(len(rows))]
    if total_row is not None:  # each column, the total column's too
        lines += [([(r, c) for r in body_rows], (total_row, c)) for c in range(first, len(table.headers))]
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            hidden = [cell for cell in cells if _hidden(rows[cell[0]][cell[1]])]
            if len(hidden) != 1 or _hidden(rows[total[0]][total[1]]):
                continue
            visible = [cell for cell in cells if is_count(rows[cell[0]][cell[1]]) and rows[cell[0]][cell[1]] > 0]
            # the smallest other count of the line; none (the others are zeros): the total, which equals the cell
            r, c = min(visible, key=lambda cell: rows[cell[0]][cell[1]]) if visible else total
            rows[r][c] = SECONDARY if rows[r][c] >= threshold else SUPPRESSED
            changed = True
    return replace(table, rows=tuple(tuple(row) for row in rows))


def _hidden(value) -> bool:
    return value in (SUPPRESSED, SECONDARY)


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
