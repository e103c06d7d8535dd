"""What a report is, for the window, the PDF, the XLSX and the command line alike: titled tables of labels and
values, plus the rule that hides small counts before a report leaves the team (no child recognisable)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from services.reports.period import ReportPeriod

Value = int | Decimal | str  # a count (int), an amount or hours (Decimal), or an already-suppressed « < 5 »
SUPPRESSED = "< 5"


@dataclass(frozen=True)
class ReportTable:
    key: str  # e.g. "sex_by_age"
    title: str  # French
    headers: tuple[str, ...]  # column headers, the first one(s) name the label columns
    rows: tuple[tuple[Value | str, ...], ...]  # label cell(s) (str) then values
    label_columns: int = 1
    chart: str | None = None  # "bars" (a distribution), "line" (by month) or None
    counts_children: bool = True  # whether the suppression rule (< 5) applies to its integer counts


@dataclass(frozen=True)
class Report:
    kind: str  # "bilan" or "caf"
    title: str
    period: ReportPeriod
    programme_name: str
    tables: tuple[ReportTable, ...]
    exact: bool = True  # False once suppressed


def suppress_small_counts(report: Report, threshold: int = 5) -> Report:
    """Every integer count from 1 to threshold-1 of a table counting children becomes « < 5 »; zeros stay 0.

    Secondary suppression, row by row: a row with exactly one suppressed cell and a visible total (its last column
    when headed « Total ») would let a reader recompute it, so the smallest other visible non-zero count of that row
    is suppressed too. Columns are not treated: tables with a « Total » row get that row's cells checked the same
    way, which covers the usual one-way and two-way tables of the bilan."""
    from services.reports.suppression import suppress_table
    return replace(report, exact=False, tables=tuple(
        suppress_table(table, threshold) if table.counts_children else table for table in report.tables))
