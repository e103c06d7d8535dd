"""Hours delivered per family, intervenant and month, and their CSV/XLSX exports."""
from datetime import date

import openpyxl

from services.activity import default_month, export_csv, export_xlsx, months_with_activity, monthly_activity
from tests.programme_fixture import programme  # noqa: F401 - fixture


def test_monthly_hours_count_only_held_sessions(programme):
    report = monthly_activity(programme.uow(), programme.coordinator, "2025-03")
    assert [(line.family_name, line.intervenant_name, line.sessions, line.minutes) for line in report.lines] == [
        ("Famille Diallo", "Julien Morel", 1, 60), ("Famille Lefèvre", "Nadia Benali", 2, 120)]
    assert (report.total_sessions, report.total_minutes) == (3, 180)
    assert [(t.name, t.minutes) for t in report.by_intervenant] == [("Julien Morel", 60), ("Nadia Benali", 120)]
    assert monthly_activity(programme.uow(), programme.coordinator, "2025-04").lines == ()


def test_default_month_is_the_latest_with_activity_not_in_the_future(programme):
    months = months_with_activity(programme.uow(), programme.referent)
    assert months == ("2025-03",)
    assert default_month(months, date(2026, 1, 5)) == "2025-03"
    assert default_month(months, date(2025, 2, 5)) == "2025-02"


def test_csv_export_opens_in_a_french_spreadsheet(programme, tmp_path):
    path = tmp_path / "heures.csv"
    export_csv(monthly_activity(programme.uow(), programme.coordinator, "2025-03"), path)
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mois;Code famille;Famille")
    assert lines[2] == "mars 2025;F1;Famille Lefèvre;Nadia Benali;AES;2;120;2,00"
    assert lines[-1] == "Total;;;;;3;180;3,00"


def test_xlsx_export_has_numbers_and_totals(programme, tmp_path):
    path = tmp_path / "heures.xlsx"
    export_xlsx(monthly_activity(programme.uow(), programme.coordinator, "2025-03"), path)
    book = openpyxl.load_workbook(path)
    sheet = book["Heures"]
    assert sheet["A1"].value == "Heures réalisées — mars 2025"
    assert [c.value for c in sheet[3]] == ["mars 2025", "F2", "Famille Diallo", "Julien Morel", "TISF", 1, 60, 1.0]
    assert [c.value for c in sheet[sheet.max_row]][-3:] == [3, 180, 3.0]
    assert book.sheetnames == ["Heures", "Par famille", "Par intervenant"]
