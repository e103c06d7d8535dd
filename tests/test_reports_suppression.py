"""The small-count rule of exported reports: no count from 1 to 4 leaves the team, zeros stay, and a total cannot
give a hidden cell back (secondary suppression along rows and columns with a « Total »)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.reports import Report, ReportPeriod, ReportTable, suppress_small_counts
from services.reports.suppression import SECONDARY

PERIOD = ReportPeriod.calendar_year(2025)
counts = st.integers(min_value=0, max_value=40)


def report(*tables: ReportTable) -> Report:
    return Report("bilan", "Bilan", PERIOD, "DRE", tables)


@st.composite
def cross_tables(draw):
    """A count table with a total column and a total row, as services.reports.tables.cross_table builds."""
    rows_n, cols_n = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    body = [[draw(counts) for _ in range(cols_n)] for _ in range(rows_n)]
    rows = [(f"L{i}", *row, sum(row)) for i, row in enumerate(body)]
    rows.append(("Total", *(sum(col) for col in zip(*body)), sum(map(sum, body))))
    headers = ("Libellé", *(f"C{j}" for j in range(cols_n)), "Total")
    return ReportTable("t", "Tableau", headers, tuple(rows))


def recoverable(table: ReportTable) -> list[tuple[int, int]]:
    """Hidden cells that a reader could recompute by subtraction: the only hidden cell of a line (a row, the total
    row included, or a column, the total column included) whose total is visible."""
    rows, width = table.rows, len(table.headers)
    found = []
    for r in range(len(rows)):
        line = [c for c in range(1, width - 1) if isinstance(rows[r][c], str)]
        if len(line) == 1 and not isinstance(rows[r][-1], str):
            found.append((r, line[0]))
    for c in range(1, width):
        line = [r for r in range(len(rows) - 1) if isinstance(rows[r][c], str)]
        if len(line) == 1 and not isinstance(rows[-1][c], str):
            found.append((line[0], c))
    return found


@settings(max_examples=300, deadline=None)
@given(cross_tables())
def test_no_exported_count_is_between_1_and_4_and_no_hidden_cell_can_be_recomputed(table):
    out = suppress_small_counts(report(table)).tables[0]
    cells = [v for row in out.rows for v in row[1:]]
    assert not [v for v in cells if isinstance(v, int) and 1 <= v <= 4]
    assert recoverable(out) == []
    for before, after in zip(table.rows, out.rows):
        for b, a in zip(before[1:], after[1:]):
            assert a == b or (a == "< 5" and 1 <= b <= 4) or (a == SECONDARY and b >= 5)


@given(st.lists(counts, min_size=1, max_size=8))
def test_zeros_stay_zero_and_large_counts_stay_in_a_table_without_totals(values):
    table = ReportTable("overview", "Vue", ("Indicateur", "Enfants"), tuple((f"L{i}", v) for i, v in enumerate(values)))
    out = suppress_small_counts(report(table)).tables[0]
    assert [row[1] for row in out.rows] == ["< 5" if 1 <= v <= 4 else v for v in values]


def test_the_report_is_marked_not_exact_and_other_values_are_untouched():
    money = ReportTable("caf_billing", "Montants", ("Convention", "Mois émis", "Total facturé"),
                        (("AP", 2, Decimal("131.13")),), counts_children=False)
    counted = ReportTable("qpv", "QPV", ("Quartier", "Enfants"), (("Les Vennes", 3), ("Hors QPV", 12),
                                                                ("Total", 15)))
    out = suppress_small_counts(report(money, counted))
    assert not out.exact and report(money).exact
    assert out.tables[0] == money  # not a count of children: hours, amounts and months stay as they are
    assert out.tables[1].rows == (("Les Vennes", "< 5"), ("Hors QPV", SECONDARY), ("Total", 15))
    assert out.period == PERIOD and out.programme_name == "DRE"


def test_a_lone_small_cell_in_a_row_hides_the_smallest_other_one():
    table = ReportTable("sex_by_age", "Sexe", ("Âge", "Filles", "Garçons", "NR", "Total"),
                        (("6 à 10 ans", 3, 9, 0, 12), ("11 à 16 ans", 0, 7, 6, 13), ("Total", 3, 16, 6, 25)))
    out = suppress_small_counts(report(table)).tables[0]
    # « 3 » hidden: alone in its row → 9 masqué ; its column Filles has a total 3, itself < 5. Column Garçons: 9
    # hidden alone → 7 masqué ; row 2: 7 hidden alone → 6 masqué ; column NR: 6 hidden beside a zero → its total 6.
    # The total row then holds « < 5 » and 6 masqué: two, nothing more to hide.
    assert out.rows == (("6 à 10 ans", "< 5", SECONDARY, 0, 12), ("11 à 16 ans", 0, SECONDARY, SECONDARY, 13),
                        ("Total", "< 5", 16, SECONDARY, 25))
    assert recoverable(out) == []


def test_period_of_the_report_is_kept():
    assert suppress_small_counts(report()).period.start == date(2025, 1, 1)
