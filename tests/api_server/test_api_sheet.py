"""A team's spreadsheet imported over the server (POST /api/sheets/import, a real XLSX written by openpyxl, sent in
base64): the dry run writes nothing, the import writes what the same call in-process writes with the same audit
row, a refused row answers 422 with the report and writes nothing, a body or a file that cannot be read is named
in French."""
from __future__ import annotations

import base64
from datetime import date

import pytest
from openpyxl import Workbook

from api.json_io import to_json
from services.sheet_import import SheetOptions, import_sheet, read_sheet
from tests.api_server.test_api import audit_ids, audit_rows
from tests.api_server.test_api_admin import dump_after_stamp, twin_of
from tests.service_cases import TODAY


def workbook(path, *rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Suivi 2024-2025"
    ws.append(["Liste des enfants suivis"])
    ws.append(["Nom", "Prénom", "DDN", "Commune", "Observations"])
    for row in rows or (["Roux", "Jade", date(2015, 1, 1), "Bourg-en-Bresse", "timide"],
                        ["Roux", "Tom", "03/04/2017", "Bourg-en-Bresse", None]):
        ws.append(row)
    wb.save(path)
    return path.read_bytes()


def body(content: bytes, name: str = "suivi.xlsx", **options) -> dict:
    return {"file_name": name, "content": base64.b64encode(content).decode("ascii"), **options}


def test_a_dry_run_reports_without_writing_then_the_import_writes_what_it_writes_in_process(api, tmp_path):
    path = tmp_path / "suivi.xlsx"
    content = workbook(path)
    before = dump_after_stamp(api, "coordinator")
    dry = api.post("/api/sheets/import", "coordinator", json=body(content, dry_run=True))
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] is True and report["written"] is False and report["header_row"] == 2
    assert [(c["first_name"], c["family"]) for c in report["created"]] == [("Jade", "Famille Roux"),
                                                                           ("Tom", "Famille Roux")]
    assert "Simulation : rien n'a été enregistré." in report["text"]
    assert report["mapping"]["header_row"] == 2 and report["mapping"]["columns"]["DDN"] == "birth_date"
    assert api.env.dump() == before

    audit_before = audit_ids(api.env)
    done = api.post("/api/sheets/import", "coordinator", json=body(content, keep_unmapped_as_notes=True))
    assert done.status_code == 201, done.text
    with twin_of(api, tmp_path / "twin") as twin:
        twin_before = audit_ids(twin)
        expected = import_sheet(twin.uow(), twin.users["coord-durand"], read_sheet(path),
                                SheetOptions(keep_unmapped_as_notes=True), today=TODAY)
        in_process = audit_rows(twin, twin_before)
    assert {k: v for k, v in done.json().items() if k not in ("text", "mapping")} == to_json(expected)
    assert done.json()["written"] is True and done.json()["kept_as_notes"] == ["E (Observations)"]
    assert audit_rows(api.env, audit_before) == in_process
    assert [r[:3] for r in in_process] == [("coord-durand", "import", "sheet")]
    families = api.get("/api/families", "coordinator").json()
    assert "Famille Roux" in {f["name"] for f in families}


def test_a_refused_row_answers_422_with_the_report_and_nothing_is_written(api, tmp_path):
    content = workbook(tmp_path / "suivi.xlsx", ["Roux", "Jade", "31/02/2015", "Bourg-en-Bresse", None])
    before = dump_after_stamp(api, "coordinator")
    response = api.post("/api/sheets/import", "coordinator", json=body(content))
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["code"] == "sheet_refused" and answer["message"].startswith("Import refusé, rien n'a été")
    [refusal] = answer["report"]["refused"]
    assert refusal["row"] == 3 and refusal["column"].startswith("C") and refusal["reason"]
    assert answer["report"]["written"] is False
    assert api.env.dump() == before


@pytest.mark.parametrize("change, field", [
    ({"content": "pas du base64 !"}, "content"),
    ({"file_name": "../"}, "file_name"),
    ({"content": None}, "content"),
    ({"header_row": 0}, "header_row"),
    ({"mapping": ["Nom"]}, "mapping"),
    ({"dry_run": "oui"}, "dry_run"),
])
def test_a_body_that_cannot_be_read_names_its_field_in_french_and_writes_nothing(api, tmp_path, change, field):
    sent = {**body(workbook(tmp_path / "suivi.xlsx")), **change}
    before = dump_after_stamp(api, "coordinator")
    response = api.post("/api/sheets/import", "coordinator", json=sent)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_fields" and set(response.json()["problems"]) == {field}
    assert response.json()["problems"][field].startswith("Le champ « ")
    assert api.env.dump() == before


@pytest.mark.parametrize("name, content, words", [
    ("suivi.xlsx", b"ceci n'est pas un classeur", "suivi.xlsx"),
    ("suivi.xls", b"\xd0\xcf\x11\xe0 ancien format", "ni un classeur XLSX"),
])
def test_a_file_that_is_no_spreadsheet_is_refused_by_the_services_sentence(api, name, content, words):
    before = dump_after_stamp(api, "coordinator")
    response = api.post("/api/sheets/import", "coordinator", json=body(content, name))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "import_rejected" and words in response.json()["message"]
    assert api.env.dump() == before


def test_a_mapping_given_in_the_body_is_applied_and_a_wrong_one_refused(api, tmp_path):
    content = workbook(tmp_path / "suivi.xlsx")
    dry = api.post("/api/sheets/import", "coordinator", json=body(content, dry_run=True)).json()
    mapping = {**dry["mapping"], "columns": {**dry["mapping"]["columns"], "Observations": None}}
    again = api.post("/api/sheets/import", "coordinator", json=body(content, dry_run=True, mapping=mapping))
    assert again.status_code == 200, again.text
    assert again.json()["mapping"]["columns"]["Observations"] is None
    wrong = api.post("/api/sheets/import", "coordinator", json=body(content, mapping={"format": "autre"}))
    assert wrong.status_code == 422 and "correspondance" in wrong.json()["message"]


def test_a_referent_may_not_import_a_sheet(api, tmp_path):
    before = dump_after_stamp(api, "referent")
    response = api.post("/api/sheets/import", "referent", json=body(workbook(tmp_path / "suivi.xlsx")))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert api.env.dump() == before
