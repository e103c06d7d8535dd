"""`main.py statement`: the exact JSON, the PDF, issuing and its refusals."""
import hashlib
import json

import pytest

import main
from tests.billing.test_worked_example import worked  # noqa: F401  (fixture)


@pytest.fixture
def db(worked, db_path):
    return db_path


def run(db, capsys, *args):
    code = main.main(["--db", db, "statement", "--convention", "AP", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_has_the_documented_shape_and_exact_money(db, capsys):
    code, out, _ = run(db, capsys, "--month", "2025-02", "--json")
    data = json.loads(out)
    assert code == 0
    assert {"convention", "month", "status", "number", "lines", "total", "flags", "period_to_date",
            "budget_cap", "budget_left", "over_cap", "families_in_period", "max_families", "over_max_families",
            "cumulative_since"} <= set(data)
    assert (data["period_to_date"], data["budget_left"], data["over_cap"], data["over_max_families"]) == (
        "458.46", "24541.54", False, False)
    assert (data["status"], data["number"], data["total"], data["budget_cap"]) == ("draft", None, "458.46", "25000.00")
    assert data["lines"][1] == {"kind": "home_intervention", "qualification": "TISF", "quantity": 2,
                                "unit_price": "56.13", "amount": "112.26", "month": "2025-02"}
    holiday = next(f for f in data["flags"] if f["kind"] == "school_holiday")
    assert (holiday["session"], holiday["date"]) == ("F1-f", "2025-02-25")
    duplicate = next(f for f in data["flags"] if f["kind"] == "duplicate_period_end_meeting")
    assert duplicate["meeting"] == "M-end-2" and "session" not in duplicate


def test_issue_prints_the_issued_statement_and_stores_its_pdf(db, capsys, tmp_path):
    code, out, _ = run(db, capsys, "--month", "2025-01", "--issue", "--json")
    assert code == 0
    issued = json.loads(out)
    assert (issued["status"], issued["number"], issued["total"]) == ("issued", "AP-001", "76.20")
    pdf = tmp_path / "janvier.pdf"
    code, out, _ = run(db, capsys, "--month", "2025-01", "--json", "--pdf", str(pdf))
    assert json.loads(out) == issued  # the stored statement, not a recomputation
    assert pdf.read_bytes().startswith(b"%PDF")
    from models.db import make_engine
    from sqlalchemy import text
    with make_engine(db).connect() as conn:
        assert conn.execute(text("SELECT pdf_sha256 FROM statement")).scalar() == \
            hashlib.sha256(pdf.read_bytes()).hexdigest()


@pytest.mark.parametrize("month, message", [
    ("2025-02", "janvier 2025 est encore un projet"),
    ("2025-13", "Mois invalide « 2025-13 »"),
    ("2026-01", "hors de la période"),
])
def test_issue_is_refused_with_status_2_and_a_clear_message(db, capsys, month, message):
    code, _, err = run(db, capsys, "--month", month, "--issue")
    assert code == 2 and message in err


def test_issuing_an_issued_month_again_is_refused(db, capsys):
    assert run(db, capsys, "--month", "2025-01", "--issue")[0] == 0
    code, _, err = run(db, capsys, "--month", "2025-01", "--issue")
    assert code == 2 and "déjà émis" in err


def test_unknown_convention_is_refused(db, capsys):
    code = main.main(["--db", db, "statement", "--convention", "NOPE", "--month", "2025-01"])
    assert code == 2 and "NOPE" in capsys.readouterr().err


def test_with_names_prints_family_names_only_on_request(db, capsys, tmp_path):
    from pypdf import PdfReader
    plain, named = tmp_path / "codes.pdf", tmp_path / "noms.pdf"
    run(db, capsys, "--month", "2025-02", "--pdf", str(plain))
    run(db, capsys, "--month", "2025-02", "--pdf", str(named), "--with-names")
    text_of = lambda p: "".join(page.extract_text() for page in PdfReader(p).pages)  # noqa: E731
    assert "Famille F1" not in text_of(plain)
    assert "Famille F1" in text_of(named)


