"""`python main.py report bilan|caf …` end to end, through main.main on the small programme's store."""
from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

import main
from models.db import make_engine
from services.uow import unit_of_work_factory
from tests.test_reports_programme import load_reports_programme


@pytest.fixture
def db(engine, db_path):
    load_reports_programme(unit_of_work_factory(engine))
    return db_path


def run(db, capsys, *args):
    try:
        code = main.main(["--db", db, "report", *args])
    except SystemExit as exit:  # argparse refuses a bad date itself, exit 2
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


YEAR = ("--from", "2025-01-01", "--to", "2025-12-31")


def test_json_exact_prints_every_table_with_counts_and_amounts_as_strings(db, capsys):
    code, out, _ = run(db, capsys, "bilan", *YEAR, "--json", "--exact")
    data = json.loads(out)
    assert code == 0 and data["exact"] is True and data["kind"] == "bilan"
    assert data["period"] == {"start": "2025-01-01", "end": "2025-12-31", "label": "Année 2025"}
    tables = {t["key"]: t for t in data["tables"]}
    assert tables["overview"]["rows"][0] == ["Enfants suivis sur la période", 5]
    assert tables["duration_summary"]["rows"][0][2] == "512.0"
    assert {"title", "headers", "rows"} <= set(tables["qpv"])
    code, out, _ = run(db, capsys, "caf", *YEAR, "--json", "--exact")
    caf = {t["key"]: t for t in json.loads(out)["tables"]}
    assert code == 0 and caf["caf_by_qualification"]["rows"][-1] == ["Total", 6, "7.25"]


def test_json_gives_exact_integer_counts_even_without_exact_while_files_and_text_hide_small_ones(db, capsys,
                                                                                                  tmp_path):
    xlsx = tmp_path / "bilan.xlsx"
    code, out, _ = run(db, capsys, "bilan", *YEAR, "--json", "--xlsx", str(xlsx))
    data = json.loads(out)
    code_exact, out_exact, _ = run(db, capsys, "bilan", *YEAR, "--json", "--exact")
    assert code == code_exact == 0 and data["exact"] is True and out == out_exact
    counts = [v for t in data["tables"] for row in t["rows"] for v in row[t["label_columns"]:] if isinstance(v, int)]
    assert [v for v in counts if 1 <= v <= 4] and "< 5" not in out and "masqué" not in out
    cells = [c for sheet in load_workbook(xlsx).worksheets for row in sheet.iter_rows(values_only=True) for c in row]
    assert "< 5" in cells  # the file written alongside is still the funders' one
    code, out, _ = run(db, capsys, "bilan", *YEAR)
    assert code == 0 and "< 5" in out


def test_files_are_written_suppressed_unless_exact(db, capsys, tmp_path):
    pdf, xlsx = tmp_path / "bilan.pdf", tmp_path / "bilan.xlsx"
    code, out, err = run(db, capsys, "bilan", *YEAR, "--pdf", str(pdf), "--xlsx", str(xlsx))
    assert code == 0 and "Bilan annuel du Programme de Réussite Éducative" in out and str(pdf) in err
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Effectifs inférieurs à 5 masqués" in text
    assert "Effectifs inférieurs à 5 masqués" in load_workbook(xlsx).worksheets[0]["A3"].value
    code, _, _ = run(db, capsys, "caf", *YEAR, "--xlsx", str(xlsx), "--exact")
    assert code == 0 and load_workbook(io.BytesIO(xlsx.read_bytes())).sheetnames[0] == "Familles et enfants"


@pytest.mark.parametrize("args, message", [
    (("--from", "2025-02-30", "--to", "2025-12-31"), "« 2025-02-30 » n'est pas une date AAAA-MM-JJ"),
    (("--from", "2025-12-31", "--to", "2025-01-01"), "La période est à l'envers"),
    ((*YEAR, "--pdf", "/nonexistent-folder/b.pdf"), "introuvable"),
])
def test_bad_input_is_refused_in_french_with_status_2_and_no_file(db, capsys, tmp_path, args, message):
    code, _, err = run(db, capsys, "bilan", *args, "--xlsx", str(tmp_path / "b.xlsx"))
    assert code == 2 and message in err
    assert not (tmp_path / "b.xlsx").exists()  # all or none: the XLSX is not left without its PDF


def test_the_store_is_left_unchanged(db, capsys):
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            before = connection.exec_driver_sql("SELECT count(*) FROM audit_log").scalar()
        run(db, capsys, "caf", *YEAR, "--json")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() == before
    finally:
        engine.dispose()
