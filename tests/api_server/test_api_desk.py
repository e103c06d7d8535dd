"""What a desk does through the server besides recording a session: correcting one (and billing sees the
difference), listing them, deciding dérogations and orientations — each answer the service's, each audit row the
one the same call leaves in-process, each malformed field named in French (422), never a 500."""
from __future__ import annotations

from datetime import date

from api.routes import NOT_ISSUED
from services import orientations
from tests.api_server.test_api import audit_ids, audit_rows
from tests.service_cases import open_env


def _s6(api) -> dict:
    response = api.get(f"/api/sessions/{api.env.id('session', 'S6')}", "coordinator")
    assert response.status_code == 200, response.text
    return response.json()


def _corrected(row: dict, **changes) -> dict:
    fields = ("family_id", "intervenant_id", "date", "duration_minutes", "status", "start_time", "referent_present",
              "children_present", "notes")
    return {**{name: row[name] for name in fields}, "based_on": row["updated_at"], **changes}


def test_a_session_corrected_over_the_api_after_its_month_was_issued_is_regularised_on_the_next_draft(api):
    # S6 falls in the February school holidays: billed once the coordination approves its dérogation
    approved = api.post("/api/exceptions/approve", "coordinator", json={"session_ids": [api.env.id("session", "S6")]})
    assert approved.status_code == 200 and approved.json() == {"approved": 1}, approved.text
    for month in ("2025-01", "2025-02"):
        issued = api.post(f"/api/statements/ap-2025/{month}/issue", "administrator")
        assert issued.status_code == 201, issued.text
    assert [line["quantity"] for line in issued.json()["lines"] if line["kind"] == "home_intervention"] == [1]
    assert not [line for line in api.get("/api/statements/ap-2025/2025-03", "administrator").json()["lines"]
                if line["month"] == "2025-02"]
    before = audit_ids(api.env)
    row = _s6(api)
    response = api.client.put(f"/api/sessions/{row['id']}", headers=api.headers("coordinator"),
                              json=_corrected(row, status="cancelled"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled" and response.json()["key"] == "S6"
    assert audit_rows(api.env, before) == [
        ("coord-durand", "update", "home_session", "S6", '["approved_by_id", "approved_exception", "status"]')]
    draft = api.get("/api/statements/ap-2025/2025-03", "administrator").json()
    regularised = [line for line in draft["lines"] if line["month"] == "2025-02"]
    assert regularised and all(line["amount"].startswith("-") for line in regularised), draft["lines"]


def test_a_correction_based_on_an_older_version_is_refused_with_409_and_nothing_is_written(api):
    row = _s6(api)
    first = api.client.put(f"/api/sessions/{row['id']}", headers=api.headers("coordinator"),
                           json=_corrected(row, duration_minutes=90))
    assert first.status_code == 200, first.text
    before = api.env.dump()
    stale = api.client.put(f"/api/sessions/{row['id']}", headers=api.headers("coordinator"),
                           json=_corrected(row, duration_minutes=120))
    assert stale.status_code == 409 and stale.json()["code"] == "stale_edit", stale.text
    assert api.env.dump() == before


def test_ill_typed_fields_of_the_new_endpoints_are_named_in_french_with_422_and_nothing_is_written(api):
    row = _s6(api)
    before = api.env.dump()
    cases = [
        ("PUT", f"/api/sessions/{row['id']}", _corrected(row, based_on="hier", duration_minutes="1h"),
         {"based_on", "duration_minutes"}),
        ("POST", "/api/exceptions/approve", {"session_ids": "S1"}, {"session_ids"}),
        ("POST", "/api/exceptions/refuse", {"reason": "Pas de motif"}, {"session_ids"}),
        ("POST", f"/api/orientations/{api.env.id('orientation', 'O-prop')}/validate", {"decided_on": "20/02/2025"},
         {"decided_on"}),
        ("POST", f"/api/situations/{api.env.id('situation', 'EPS-2025-01/F1')}/orientations", {}, {"convention_id"}),
        ("GET", "/api/sessions?limit=beaucoup&descending=oui", None, {"limit", "descending"}),
        ("GET", "/api/sessions/week/2025-02-30", None, {"day"}),
        ("POST", "/api/families", {"commune": 3, "priority_neighbourhood": "oui"},
         {"name", "commune", "priority_neighbourhood"}),
        ("PUT", f"/api/children/{api.env.id('child', 'C1')}", {"first_name": "Lucas", "last_name": "Lefèvre",
                                                               "birth_date": "02/04/2016"}, {"birth_date"}),
        ("PUT", "/api/consent/F2", {"scope": "Accompagnement PRE"}, {"consent_date"}),
        ("GET", "/api/parcours/turning-17?within_months=trois", None, {"within_months"}),
    ]
    for method, path, body, named in cases:
        response = api.client.request(method, path, headers=api.headers("coordinator"), json=body)
        assert response.status_code == 422, (path, response.text)
        answer = response.json()
        assert set(answer["problems"]) == named, (path, answer)
        assert all(f"« {name} »" in answer["problems"][name] for name in named)
    assert api.env.dump() == before


def test_the_sessions_list_pages_by_keyset_from_the_row_the_client_was_given(api):
    first = api.post("/api/sessions/page", "coordinator", json={"count": True, "limit": 2,
                                                                "query": {"sort": "date", "descending": False}})
    assert first.status_code == 200, first.text
    page = first.json()
    listed = api.get("/api/sessions?descending=false", "coordinator").json()
    assert page["total"] == len(listed) and [r["key"] for r in page["rows"]] == [r["key"] for r in listed[:2]]
    after = api.post("/api/sessions/page", "coordinator", json={"limit": 2, "after": page["rows"][-1],
                                                                "query": {"sort": "date", "descending": False}})
    assert after.status_code == 200, after.text
    assert [r["key"] for r in after.json()["rows"]] == [r["key"] for r in listed[2:4]]
    week = api.get("/api/sessions/week/2025-03-05", "coordinator").json()
    assert week["monday"] == "2025-03-03" and {r["key"] for r in week["sessions"]} >= {"S1", "S3"}


def test_validating_an_orientation_over_the_api_writes_the_same_audit_row_as_in_process(api, tmp_path):
    before = audit_ids(api.env)
    orientation = api.env.id("orientation", "O-prop")
    response = api.post(f"/api/orientations/{orientation}/validate", "coordinator", json={"decided_on": "2025-02-20"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "validated" and response.json()["decided_on"] == "2025-02-20"
    over_api = audit_rows(api.env, before)
    twin_folder = tmp_path / "twin"
    twin_folder.mkdir()
    twin = open_env(api.template, twin_folder)
    try:
        twin_before = audit_ids(twin)
        orientations.validate_orientation(twin.uow(), twin.users["coord-durand"], twin.id("orientation", "O-prop"),
                                          date(2025, 2, 20))
        in_process = audit_rows(twin, twin_before)
    finally:
        twin.engine.dispose()
    assert over_api == in_process == [("coord-durand", "validate", "orientation", "O-prop",
                                       '["decided_by_id", "decided_on", "status"]')]
    again = api.post(f"/api/orientations/{orientation}/validate", "coordinator", json={"decided_on": "2025-02-20"})
    assert again.status_code == 422 and "déjà validée" in again.json()["message"]


def test_a_family_entered_over_the_api_is_the_services_record_and_its_child_follows(api):
    created = api.post("/api/families", "coordinator", json={"name": "Famille Nouvelle", "commune": "Bourg-en-Bresse"})
    assert created.status_code == 201, created.text
    family = created.json()
    assert family["name"] == "Famille Nouvelle" and family["priority_neighbourhood"] is False
    child = api.post(f"/api/families/{family['id']}/children", "coordinator",
                     json={"first_name": "Léo", "last_name": "Nouvelle", "birth_date": "2016-05-01"})
    assert child.status_code == 201, child.text
    assert [c["first_name"] for c in child.json()["children"]] == ["Léo"]
    record = api.get(f"/api/families/{family['id']}/record", "coordinator").json()
    assert record["children"] == child.json()["children"]


def test_an_issued_statements_pdf_comes_as_application_pdf_and_an_unissued_one_is_404_in_french(api):
    assert api.post("/api/statements/ap-2025/2025-01/issue", "administrator").status_code == 201
    response = api.get("/api/statements/ap-2025/2025-01/pdf", "administrator")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and response.headers["Cache-Control"] == "no-store"
    missing = api.get("/api/statements/ap-2025/2025-02/pdf", "administrator")
    assert missing.status_code == 404 and missing.json()["message"] == NOT_ISSUED


def test_accounts_over_the_api_never_carry_a_password_hash(api):
    response = api.get("/api/accounts", "administrator")
    assert response.status_code == 200, response.text
    assert response.json() and all(set(a) == {"key", "name", "role", "active", "has_password"}
                                   for a in response.json())
    assert "argon2" not in response.text


def test_the_export_streamed_over_the_api_is_the_services_text_and_is_audited(api):
    from services.dataset.exporter import stream_dataset
    before = audit_ids(api.env)
    response = api.get("/api/dataset/export", "coordinator")
    assert response.status_code == 200, response.text
    assert audit_rows(api.env, before) == [("coord-durand", "export", "dataset", None, "[]")]
    parts: list[str] = []
    stream_dataset(api.env.uow(), api.env.users["coord-durand"], lambda chunks: parts.extend(chunks))
    assert response.text == "".join(parts)
