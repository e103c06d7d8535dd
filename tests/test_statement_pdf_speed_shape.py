"""The statement PDF's tables as plain wrapped strings: the same bytes at every rendering, nothing cut off.

Cells are plain strings wrapped by `services.billing.pdf._fit` (Paragraph cells made a 1,000-family month take
seconds); these tests check what that must not change. No timing here: see benchmarks/issue_month.py.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from services.billing.pdf import CELL, CONTENT_WIDTH, HEAD, SMALL, _fit, _grid, _row, _widths, render_statement_pdf
from services.billing.statement import FamilyDetail, IntervenantDetail, StatementFlag, to_payload
from services.formatting import format_money
from tests.test_statement_pdf import flat, issued, text_of

ROOT = Path(__file__).resolve().parents[1]
LONG_NAME = "Famille Abdelkader-Rodriguez de la Fontaine Saint-Exupéry et Martin-Lefèvre"


def big_statement(families: int = 300):
    """An issued statement whose family table and annex each run over several pages."""
    base = issued()
    return replace(
        base,
        families=tuple(FamilyDetail(f"F{n:04d}", LONG_NAME if n % 25 == 0 else f"Famille {n}", n % 5, n % 4,
                                    45 * (n % 9), Decimal(n * 37) / 4) for n in range(families)),
        intervenants=tuple(IntervenantDetail(f"I{n:02d}", f"Intervenant {n} Morel-Grandjean de Saint-Maurice",
                                             "AES", n, n, 1, 60 * n, Decimal(30 * n)) for n in range(40)),
        flags=tuple(StatementFlag("school_holiday" if n % 3 else "referent_absent_first_session",
                                  f"2025-03-{n % 28 + 1:02d}", f"S{n:05d}", None, f"F{n % families:04d}", "I01",
                                  approved=n % 2 == 0, billed=n % 2 == 0) for n in range(families)))


def widths_ok(cell: str, font: tuple, width: float) -> bool:
    return all(stringWidth(line, font[0], font[1]) <= width for line in cell.split("\n"))


def test_the_same_statement_gives_the_same_bytes_twice_and_in_another_process(tmp_path):
    statement = big_statement()
    pdf = render_statement_pdf(statement)
    assert render_statement_pdf(statement) == pdf
    payload = tmp_path / "statement.json"
    payload.write_text(to_payload(statement), encoding="utf-8")
    out = tmp_path / "other.pdf"
    script = ("import sys; from pathlib import Path; from services.billing.pdf import render_statement_pdf; "
              "from services.billing.statement import from_payload; "
              "Path(sys.argv[2]).write_bytes(render_statement_pdf(from_payload(Path(sys.argv[1]).read_text('utf-8'))))")
    # another hash seed: nothing in the PDF may depend on the order of a set or of a dictionary of strings
    subprocess.run([sys.executable, "-c", script, str(payload), str(out)], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert out.read_bytes() == pdf


def test_the_pdf_dates_are_fixed_and_its_id_comes_from_the_statement():
    pdf = render_statement_pdf(issued())
    assert re.search(rb"/CreationDate \(D:20000101000000", pdf)  # reportlab's invariant mode: no clock inside
    assert re.search(rb"/ModDate \(D:20000101000000", pdf)
    ids = re.search(rb"/ID\s*\[(<[0-9a-fA-F]+>)", pdf).group(1)
    other = render_statement_pdf(replace(issued(), number="AP-2025-004"))
    assert re.search(rb"/ID\s*\[(<[0-9a-fA-F]+>)", other).group(1) != ids  # another statement, another ID


def test_every_row_of_a_table_split_over_pages_is_printed_whole():
    statement = big_statement()
    pdf = render_statement_pdf(statement, with_names=True)
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) > 10
    text = text_of(pdf)
    for family in statement.families:
        assert flat(f"{family.code} {family.name} {family.sessions_billed} {family.preparations_billed}") in text
    assert text.count(LONG_NAME) == len([f for f in statement.families if f.name == LONG_NAME])
    assert text.count("Première séance sans le référent de parcours (avertissement)") == 100
    assert text.count("Intervenant 7 Morel-Grandjean de Saint-Maurice") == 1  # its row
    assert text.count("Intervenant 1 Morel-Grandjean de Saint-Maurice") == 1 + 300  # its row and its flags
    assert text.count("Code Famille Séances facturées") >= 3  # the header repeated on each page of the table


def test_a_long_name_wraps_at_spaces_within_its_column():
    cell = _fit(LONG_NAME, CELL, 130)
    assert cell.count("\n") >= 1
    assert widths_ok(cell, CELL, 130)
    assert cell.replace("\n", " ") == LONG_NAME  # every word kept, in order


def test_a_word_wider_than_its_column_is_cut_between_letters_not_dropped():
    word = "Abdelkader-Rodriguez-de-la-Fontaine-Saint-Exupéry"
    cell = _fit(f"Famille {word}", SMALL, 60)
    assert widths_ok(cell, SMALL, 60)
    assert cell.replace("\n", "") == f"Famille{word}"  # the break at the space, then between letters only


def test_an_amount_too_wide_breaks_at_its_no_break_spaces_first():
    amount = format_money(Decimal("999999999.99"))
    cell = _fit(amount, CELL, 50)
    assert widths_ok(cell, CELL, 50)
    assert all(line and line[0].isdigit() for line in cell.split("\n"))  # groups of digits, not split digits
    assert cell.replace("\n", "\u00a0") == amount


def test_whitespace_collapses_as_in_a_paragraph_and_markup_is_literal():
    assert _fit("  Famille\n  Durand\t <b>&  Martin ", CELL, 500) == "Famille Durand <b>& Martin"
    assert _fit(None, CELL, 500) == ""
    assert _fit("Şahin", CELL, 500) == "Sahin"  # Helvetica cannot draw the Ş
    assert _fit("L’Hôpital", CELL, 500) == "L'Hôpital"  # drawable, but replaced all the same (pdf_style)


@pytest.mark.parametrize("amount", ["999999999.99", "-9999999999.99"])
def test_a_twelve_digit_amount_is_printed_whole_in_the_named_family_table(amount):
    family = FamilyDetail("F001", LONG_NAME, 3, 3, 180, Decimal(amount))
    pdf = render_statement_pdf(replace(issued(), families=(family,)), with_names=True)
    assert flat(format_money(Decimal(amount))) in text_of(pdf)


def test_the_row_heights_given_to_a_grid_are_those_reportlab_would_measure():
    widths = _widths(20, 54, 26, 28, 24, 30)
    rows = [_row(["Code", "Famille", "Séances facturées", "Préparations facturées", "Heures réalisées", "Montant"],
                 widths, HEAD)]
    rows += [_row([f"F{n}", LONG_NAME if n % 3 == 0 else f"Famille {n}", str(n), str(n), "1 h", "12,00 €"], widths, CELL)
             for n in range(12)]
    given = _grid(rows, widths, "LLRRRR")
    measured = _grid(rows, widths, "LLRRRR", extra=[("VALIGN", (0, 0), (-1, -1), "TOP")])  # extra: measured
    assert given._argH != measured._argH  # one knows its heights, the other will measure them
    for table in (given, measured):
        table.wrap(CONTENT_WIDTH, 10_000)
    assert given._rowHeights == measured._rowHeights
    assert max(given._rowHeights) > min(given._rowHeights)  # the long names' rows are taller
