"""Billing and the session form over the server besides a month's draft and issue (test_api): the closing
statement drafted and issued (its number next in the series, its PDF, its audit row as in-process), the issued
statements listed, a month recomputed and compared with its issued statement, the dérogations still undecided,
the audited print of the names; the session form's check, count, latest day and usual intervenant."""
from __future__ import annotations

from api.json_io import to_json
from services import home_sessions
from services.billing import statements
from services.statement_names import record_names_printed
from tests.api_server.test_api import audit_ids, audit_rows
from tests.api_server.test_api_admin import in_process, twin_of
from tests.api_server.test_matrix import _session
from tests.service_cases import TODAY, _year_issued_then_corrected


def test_the_closing_statement_is_drafted_and_issued_as_in_process_and_its_pdf_follows(api, tmp_path):
    _year_issued_then_corrected(api.env)
    draft = api.get("/api/conventions/ap-2025/closing-statement", "administrator")
    assert draft.status_code == 200, draft.text
    before = audit_ids(api.env)
    issued = api.post("/api/conventions/ap-2025/closing-statement/issue", "administrator")
    assert issued.status_code == 201, issued.text
    with twin_of(api, tmp_path / "twin") as twin:
        _year_issued_then_corrected(twin)
        expected_draft, _ = in_process(twin, lambda t: statements.get_closing_statement(
            t.uow(), t.users["admin-petit"], "ap-2025"))
        expected, rows = in_process(twin, lambda t: statements.issue_closing_statement(
            t.uow(), t.users["admin-petit"], "ap-2025"))
    assert draft.json() == expected_draft and draft.json()["kind"] == "closing"
    answer = issued.json()
    assert answer["number"] == "ap-2025-013" and answer["status"] == "issued"
    same = ("lines", "total", "month", "kind", "number", "period_to_date")
    assert {k: answer[k] for k in same} == {k: expected[k] for k in same}
    assert [r[:4] for r in audit_rows(api.env, before)] == [r[:4] for r in rows] == [
        ("admin-petit", "issue", "statement", "ap-2025-013")]
    pdf = api.get(f"/api/statements/ap-2025/{answer['month']}/pdf", "coordinator")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    summaries = api.get("/api/conventions/ap-2025/statements", "coordinator").json()
    assert [s["number"] for s in summaries] == [f"ap-2025-{n:03d}" for n in range(1, 14)]
    full = api.get("/api/conventions/ap-2025/statements/full", "coordinator").json()
    assert [s["number"] for s in full] == [s["number"] for s in summaries] and full[-1]["kind"] == "closing"
    again = api.post("/api/conventions/ap-2025/closing-statement/issue", "administrator")
    assert again.status_code == 409 and again.json()["code"] == "statement_error", again.text
    assert again.json()["message"].startswith("Aucune régularisation à reporter")


def test_an_issued_month_is_recomputed_and_its_changes_and_undecided_derogations_are_the_services(api, tmp_path):
    for month in ("2025-01", "2025-02", "2025-03"):
        assert api.post(f"/api/statements/ap-2025/{month}/issue", "administrator").status_code == 201
    answers = {name: api.get(f"/api/statements/ap-2025/2025-02/{name}", "coordinator")
               for name in ("recomputed", "changes", "undecided")}
    assert all(r.status_code == 200 for r in answers.values()), {k: r.text for k, r in answers.items()}
    with twin_of(api, tmp_path / "twin") as twin:
        coordinator = twin.users["coord-durand"]
        for month in ("2025-01", "2025-02", "2025-03"):
            statements.issue_statement(twin.uow(), twin.users["admin-petit"], "ap-2025", month)
        expected = {name: in_process(twin, lambda t: call(t.uow(), coordinator, "ap-2025", "2025-02"))[0]
                    for name, call in (("recomputed", statements.recomputed_lines),
                                       ("changes", statements.issued_month_changes),
                                       ("undecided", statements.undecided_exceptions))}
    assert {name: r.json() for name, r in answers.items()} == expected
    assert api.get("/api/statements/ap-2025/2025-04/changes", "coordinator").json() is None  # not issued
    bad = api.get("/api/statements/ap-2025/fevrier/recomputed", "coordinator")
    assert bad.status_code == 422 and bad.json()["message"]


def test_printing_the_names_of_a_statement_is_audited_as_in_process(api, tmp_path):
    before = audit_ids(api.env)
    response = api.post("/api/statements/ap-2025/2025-03/names-printed", "coordinator")
    assert response.status_code == 200 and response.json() == {"recorded": True}, response.text
    with twin_of(api, tmp_path / "twin") as twin:
        _, rows = in_process(twin, lambda t: record_names_printed(t.uow(), t.users["coord-durand"], "ap-2025",
                                                                  "2025-03"))
    assert audit_rows(api.env, before) == rows == [("coord-durand", "read", "statement_names", "ap-2025/2025-03",
                                                    "[]")]


def test_the_session_forms_check_count_latest_day_and_usual_intervenant_are_the_services(api, tmp_path):
    draft = {**_session(api), "date": "2025-03-04"}  # in the holidays, and F1 has a session that week: two warnings
    check = api.post("/api/sessions/check", "referent", json=draft)
    count = api.get("/api/sessions/count?month=2025-03", "referent")
    latest = api.get("/api/sessions/latest?not_after=2025-03-20", "referent")
    usual = api.get(f"/api/families/{api.env.id('family', 'F1')}/usual-intervenant", "referent")
    assert all(r.status_code == 200 for r in (check, count, latest, usual)), [r.text for r in (check, count, latest,
                                                                                                usual)]
    with twin_of(api, tmp_path / "twin") as twin:
        me = twin.users["ref-martin"]
        same_draft = home_sessions.SessionDraft(draft["family_id"], draft["intervenant_id"], TODAY.replace(day=4),
                                                60, notes="Séance calme")
        expected_check, _ = in_process(twin, lambda t: home_sessions.check_session(t.uow(), me, same_draft, TODAY))
        expected_count = home_sessions.count_sessions(twin.uow(), me, home_sessions.SessionQuery(month="2025-03"))
        expected_latest = home_sessions.latest_session_date(twin.uow(), me, TODAY)
        expected_usual = home_sessions.usual_intervenant(twin.uow(), me, draft["family_id"])
    assert check.json() == expected_check and len(check.json()["warnings"]) == 2
    assert count.json() == {"count": expected_count} and expected_count > 0
    assert latest.json() == {"date": to_json(expected_latest)} and expected_latest is not None
    assert usual.json() == {"intervenant_id": expected_usual} and expected_usual is not None
    wrong = api.post("/api/sessions/check", "referent", json={**draft, "duration_minutes": "une heure"})
    assert wrong.status_code == 422 and set(wrong.json()["problems"]) == {"duration_minutes"}


def test_the_form_choices_are_the_directorys_and_a_closed_family_stays_only_when_kept(api):
    f1 = api.env.id("family", "F1")
    closed = api.post(f"/api/families/{f1}/close", "coordinator", json={"closed_on": "2025-03-20",
                                                                         "reason": "Déménagement"})
    assert closed.status_code == 200, closed.text
    offered = {c["id"] for c in api.get("/api/choices/families", "coordinator").json()}
    kept = {c["id"] for c in api.get(f"/api/choices/families?keep={f1}", "coordinator").json()}
    assert f1 not in offered and kept == offered | {f1}
    assert {i["key"] for i in api.get("/api/choices/intervenants", "referent").json()} >= {"i-aes"}
    assert {c["key"] for c in api.get("/api/choices/conventions", "referent").json()} >= {"ap-2025", "as-2025"}
