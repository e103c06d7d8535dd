"""A parcours's referral, support profile and exit reason over the server (given in the same body as its other
fields, kept as they are when a body gives none of them), the programme's QPV list, the dashboard and the bilans:
each answer the same call's in-process (on an untouched copy of the programme), each audit row the same."""
from __future__ import annotations

from datetime import date

from services import dashboard, parcours, programme_settings, reports
from services.family_records import ParcoursDetails, correct_closed_parcours, family_record, update_parcours_plan
from tests.api_server.test_api import audit_ids, audit_rows
from tests.api_server.test_api_admin import dump_after_stamp, in_process, twin_of
from tests.service_cases import TODAY, _p1_closed

DETAILS = {"referral_source": "en_enseignant", "referral_reasons": ["scolarite", "sante"],
           "support_profile": None}


def _details() -> ParcoursDetails:
    return ParcoursDetails("en_enseignant", referral_reasons=("scolarite", "sante"))


def test_a_parcours_opened_over_the_api_keeps_its_referral_as_in_process(api, tmp_path):
    child = api.env.id("child", "C2")
    before = audit_ids(api.env)
    response = api.post(f"/api/children/{child}/parcours", "coordinator",
                        json={"start": "2025-02-01", "objectives": "Lecture", **DETAILS})
    assert response.status_code == 201, response.text
    with twin_of(api, tmp_path / "twin") as twin:
        expected, rows = in_process(twin, lambda t: parcours.open_parcours(
            t.uow(), t.users["coord-durand"], child, date(2025, 2, 1), "Lecture", details=_details()))
        plan = in_process(twin, lambda t: family_record(t.uow(), t.users["coord-durand"],
                                                        api.env.id("family", "F1")))[0]
    assert {k: v for k, v in response.json().items() if k not in ("id", "key")} == {
        k: v for k, v in expected.items() if k not in ("id", "key")}
    assert [r[:3] for r in audit_rows(api.env, before)] == [r[:3] for r in rows]
    record = api.get(f"/api/families/{api.env.id('family', 'F1')}/record", "coordinator").json()
    assert _referrals(record) == _referrals(plan) and ("en_enseignant", ["scolarite", "sante"]) in _referrals(record)


def _referrals(record: dict) -> list[tuple]:
    """(referral source, reasons) of the family's parcours that have one (FamilyRecord.parcours[].details)."""
    return sorted((p["details"]["referral_source"], p["details"]["referral_reasons"]) for p in record["parcours"]
                  if p["details"]["referral_source"])


def test_a_plan_saved_without_the_details_keeps_them_and_one_with_them_changes_them(api, tmp_path):
    p1 = api.env.id("parcours", "P1")
    with_details = api.client.put(f"/api/parcours/{p1}/plan", headers=api.headers("coordinator"),
                                  json={"objectives": "Confiance en soi", "actions": "Aide aux devoirs", **DETAILS})
    assert with_details.status_code == 200, with_details.text
    without = api.client.put(f"/api/parcours/{p1}/plan", headers=api.headers("coordinator"),
                             json={"objectives": "Confiance", "actions": "Aide aux devoirs"})
    assert without.status_code == 200, without.text
    with twin_of(api, tmp_path / "twin") as twin:
        coordinator = twin.users["coord-durand"]
        first, _ = in_process(twin, lambda t: update_parcours_plan(t.uow(), coordinator, p1, "Confiance en soi",
                                                                   "Aide aux devoirs", None, details=_details()))
        second, rows = in_process(twin, lambda t: update_parcours_plan(t.uow(), coordinator, p1, "Confiance",
                                                                       "Aide aux devoirs", None))
    volatile = ("updated_at",)
    assert {k: v for k, v in without.json().items() if k not in volatile} == {
        k: v for k, v in second.items() if k not in volatile}
    assert without.json()["details"]["referral_reasons"] == ["scolarite", "sante"]  # kept: the body gave none
    assert [r[:4] for r in audit_rows(api.env)][-len(rows):] == [r[:4] for r in rows]


def test_a_closed_parcours_is_completed_for_the_reports_as_in_process(api, tmp_path):
    _p1_closed(api.env)
    p1 = api.env.id("parcours", "P1")
    before = audit_ids(api.env)
    response = api.client.put(f"/api/parcours/{p1}/closed-details", headers=api.headers("coordinator"),
                              json={**DETAILS, "exit_reason_code": "objectifs_atteints"})
    assert response.status_code == 200, response.text
    with twin_of(api, tmp_path / "twin") as twin:
        _p1_closed(twin)
        expected, rows = in_process(twin, lambda t: correct_closed_parcours(
            t.uow(), t.users["coord-durand"], p1, _details(), "objectifs_atteints", None, None))
    assert {k: v for k, v in response.json().items() if k != "updated_at"} == {
        k: v for k, v in expected.items() if k != "updated_at"}
    assert audit_rows(api.env, before) == rows and rows[0][:4] == ("coord-durand", "update", "parcours", "P1")
    before = dump_after_stamp(api, "coordinator")
    wrong = api.client.put(f"/api/parcours/{p1}/closed-details", headers=api.headers("coordinator"),
                           json={"referral_reasons": "scolarite", "exit_reason_code": 3})
    assert wrong.status_code == 422 and set(wrong.json()["problems"]) == {"referral_reasons", "exit_reason_code"}
    assert api.env.dump() == before


def test_a_parcours_closed_over_the_api_keeps_its_exit_reasons_code(api):
    p1 = api.env.id("parcours", "P1")
    closed = api.post(f"/api/parcours/{p1}/close", "coordinator",
                      json={"end": "2025-03-01", "exit_reason": None, "exit_reason_code": "objectifs_atteints"})
    assert closed.status_code == 200, closed.text
    record = api.get(f"/api/families/{api.env.id('family', 'F1')}/record", "coordinator").json()
    assert [p["exit_reason_code"] for p in record["parcours"] if p["id"] == p1] == ["objectifs_atteints"]


def test_the_qpv_list_saved_over_the_api_is_the_services_and_is_read_back(api, tmp_path):
    before = audit_ids(api.env)
    saved = api.client.put("/api/programme/qpv", headers=api.headers("administrator"),
                           json={"names": [" Croix-Blanche ", "Pont-des-Chèvres", "croix-blanche", ""]})
    assert saved.status_code == 200, saved.text
    with twin_of(api, tmp_path / "twin") as twin:
        expected, rows = in_process(twin, lambda t: programme_settings.save_qpv_names(
            t.uow(), t.users["admin-petit"], [" Croix-Blanche ", "Pont-des-Chèvres", "croix-blanche", ""]))
    assert saved.json() == expected == ["Croix-Blanche", "Pont-des-Chèvres"]
    assert api.get("/api/programme/qpv", "referent").json() == expected
    assert audit_rows(api.env, before) == rows
    wrong = api.client.put("/api/programme/qpv", headers=api.headers("administrator"), json={"names": "Croix"})
    assert wrong.status_code == 422 and set(wrong.json()["problems"]) == {"names"}


def test_the_dashboard_and_the_bilans_are_the_services(api, tmp_path):
    answers = {path: api.get(path, "coordinator") for path in (
        "/api/dashboard", "/api/reports/bilan?start=2025-01-01&end=2025-12-31",
        "/api/reports/caf?start=2025-01-01&end=2025-12-31")}
    assert all(r.status_code == 200 for r in answers.values()), {p: r.text for p, r in answers.items()}
    year = reports.ReportPeriod.calendar_year(2025)
    with twin_of(api, tmp_path / "twin") as twin:
        me = twin.users["coord-durand"]
        expected = [in_process(twin, call)[0] for call in (
            lambda t: dashboard.coordinator_dashboard(t.uow(), me, TODAY),
            lambda t: reports.bilan_report(t.uow(), me, year),
            lambda t: reports.caf_report(t.uow(), me, year, today=TODAY))]
    assert [r.json() for r in answers.values()] == expected
    missing = api.get("/api/reports/bilan?start=2025-01-01", "coordinator")
    assert missing.status_code == 422 and set(missing.json()["problems"]) == {"end"}
    backwards = api.get("/api/reports/caf?start=2025-12-31&end=2025-01-01", "coordinator")
    assert backwards.status_code == 422 and backwards.json()["message"], backwards.text
