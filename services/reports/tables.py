"""Builders of the usual report tables: a distribution with its total row, a cross-tabulation with totals."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from models import Programme
from services.reports.model import ReportTable

MISSING = "Non renseigné"
TOTAL = "Total"  # the label of a total row and the header of a total column (see suppression)
ALL = "Ensemble"  # the first word of a summary row that is not a sum (distinct families over several actions)
TENTH = Decimal("0.1")


def count_table(key: str, title: str, headers: tuple[str, str], order: Iterable[str], counts: Counter,
                chart: str | None = "bars") -> ReportTable:
    """One count per label, every label of `order` shown (zeros included), then the total row."""
    rows = [(label, counts.get(label, 0)) for label in order]
    rows.append((TOTAL, sum(counts.values())))
    return ReportTable(key, title, headers, tuple(rows), chart=chart)


def cross_table(key: str, title: str, headers: Sequence[str], row_labels: Iterable[str],
                column_labels: Sequence[str], pairs: Counter, chart: str | None = "bars") -> ReportTable:
    """Counts of (row label, column label), with a total column and a total row."""
    rows = []
    for label in row_labels:
        values = [pairs.get((label, column), 0) for column in column_labels]
        rows.append((label, *values, sum(values)))
    totals = [sum(row[i] for row in rows) for i in range(1, len(column_labels) + 2)]
    rows.append((TOTAL, *totals))
    return ReportTable(key, title, (*headers, TOTAL), tuple(rows), chart=chart)


def mean_or_none(values: Sequence[int]) -> Decimal:
    return (Decimal(sum(values)) / len(values)).quantize(TENTH, ROUND_HALF_UP)


def programme_name(session) -> str:
    return session.scalar(select(Programme.name)) or ""
