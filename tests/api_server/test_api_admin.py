"""The administration over the server: conventions written (terms, avenants), accounts, the programme's settings
and the RGPD routines — each answer the service's own (compared with the same call in-process on an untouched
copy of the programme), each audit row the one that call leaves, each refusal French JSON with a code, and a
malformed body naming every wrong field with nothing written."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest

from api.json_io import to_json
from services import conventions_admin, programme_settings, retention, users
from services.errors import DomainError
from tests.api_server.test_api import audit_ids, audit_rows, enrol
from tests.api_server.test_matrix import NEW_CONVENTION, _convention_as_read
from tests.service_cases import PASSWORD, TODAY, _avenant_on_1_september, open_env


@contextmanager
def twin_of(api, folder):
    """The same programme as the server's at the start of the test, served by nobody: the in-process reference."""
    folder.mkdir()
    twin = open_env(api.template, folder)
    try:
        yield twin
    finally:
        twin.engine.dispose()


def dump_after_stamp(api, who: str) -> dict:
    """Every row, once `who`'s device is stamped as seen (its first request writes that): to compare with later."""
    assert api.get("/api/me", who).status_code == 200
    return api.env.dump()


def in_process(twin, call) -> tuple[object, list[tuple]]:
    """(the JSON of the call's result, or of its refusal as the API writes it; the audit rows it left)."""
    before = audit_ids(twin)
    try:
        result = to_json(call(twin))
    except DomainError as exc:
        result = {"message": exc.message, "field": exc.field}
    return result, audit_rows(twin, before)


def test_a_convention_created_over_the_api_is_the_services_and_leaves_the_same_audit_row(api, tmp_path):
    before = audit_ids(api.env)
    response = api.post("/api/conventions", "administrator", json=NEW_CONVENTION)
    assert response.status_code == 201, response.text
    with twin_of(api, tmp_path / "twin") as twin:
        expected, rows = in_process(twin, lambda t: conventions_admin.create_convention(
            t.uow(), t.users["admin-petit"], conventions_admin.ConventionInput(
                key="AS-2026", partner="adom", action="Accompagnement scolaire", start=date(2026, 1, 1),
                end=date(2026, 12, 31), tariffs={("AES", "home_intervention"): "31.50"})))
    assert response.json() == expected
    assert response.json()["tariffs"] == [{"qualification": "AES", "kind": "home_intervention",
                                           "unit_price": "31.50"}]
    assert audit_rows(api.env, before) == rows and rows[0][:4] == ("admin-petit", "create", "convention", "AS-2026")


def test_a_convention_read_then_sent_back_changed_is_updated_and_what_changed_is_audited(api):
    """null is a value where the service takes one (no weekly limit); a field left out takes its default."""
    before = audit_ids(api.env)
    response = api.client.put("/api/conventions/ap-2025", headers=api.headers("administrator"),
                              json=_convention_as_read(api, max_families=20, budget_cap="50000,00"))
    assert response.status_code == 200, response.text
    assert (response.json()["max_families"], response.json()["budget_cap"]) == (20, "50000.00")
    unlimited = api.client.put("/api/conventions/ap-2025", headers=api.headers("administrator"),
                               json=_convention_as_read(api, sessions_per_week=None))
    assert unlimited.status_code == 200 and unlimited.json()["sessions_per_week"] is None, unlimited.text
    left_out = {k: v for k, v in _convention_as_read(api).items() if k != "sessions_per_week"}
    default = api.client.put("/api/conventions/ap-2025", headers=api.headers("administrator"), json=left_out)
    assert default.status_code == 200 and default.json()["sessions_per_week"] == 1, default.text
    entry = audit_rows(api.env, before)[0]
    assert entry[:4] == ("admin-petit", "update", "convention", "ap-2025")
    assert "max_families" in entry[4] and "budget_cap" in entry[4]


def test_an_amount_the_service_refuses_comes_back_on_its_field_as_in_process(api, tmp_path):
    body = {**NEW_CONVENTION, "tariffs": [{"qualification": "AES", "kind": "home_intervention",
                                           "unit_price": "31,505"}]}
    before = dump_after_stamp(api, "administrator")
    response = api.post("/api/conventions", "administrator", json=body)
    assert response.status_code == 422, response.text
    with twin_of(api, tmp_path / "twin") as twin:
        expected, rows = in_process(twin, lambda t: conventions_admin.create_convention(
            t.uow(), t.users["admin-petit"], conventions_admin.ConventionInput(
                key="AS-2026", partner="adom", action="Accompagnement scolaire", start=date(2026, 1, 1),
                end=date(2026, 12, 31), tariffs={("AES", "home_intervention"): "31,505"})))
    assert rows == [] and {k: response.json()[k] for k in ("message", "field")} == expected
    assert response.json()["code"] == "invalid_fields"
    assert api.env.dump() == before


def test_a_malformed_convention_names_every_wrong_field_in_french_and_writes_nothing(api):
    before = dump_after_stamp(api, "administrator")
    response = api.post("/api/conventions", "administrator", json={
        **NEW_CONVENTION, "start": "01/01/2026", "max_families": "vingt", "period_end_months": ["juin"],
        "tariffs": {"AES": "31.50"}})
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert set(problems) == {"start", "max_families", "period_end_months", "tariffs"}
    assert problems["tariffs"].startswith("Le champ « tariffs » doit être une liste d'objets")
    assert problems["period_end_months"] == "Le champ « period_end_months » doit être une liste de nombres entiers."
    duplicated = api.post("/api/conventions", "administrator", json={
        **NEW_CONVENTION, "tariffs": NEW_CONVENTION["tariffs"] * 2})
    assert duplicated.status_code == 422 and "deux fois le tarif" in duplicated.json()["problems"]["tariffs"]
    assert api.env.dump() == before


def test_an_avenant_added_then_withdrawn_over_the_api_leaves_the_tariffs_as_before(api):
    original = api.get("/api/conventions/ap-2025", "administrator").json()
    added = api.post("/api/conventions/ap-2025/amendments", "administrator", json={
        "start": "2025-09-01", "tariffs": [{"qualification": "AES", "kind": "home_intervention",
                                            "unit_price": "31,00"}]})
    assert added.status_code == 201, added.text
    [avenant] = [v for v in added.json()["tariff_versions"] if v["amendment"]]
    assert avenant["start"] == "2025-09-01" and avenant["tariffs"][0]["unit_price"] == "31.00"
    withdrawn = api.client.delete("/api/conventions/ap-2025/amendments/2025-09-01",
                                  headers=api.headers("administrator"))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json() == original
    again = api.client.delete("/api/conventions/ap-2025/amendments/2025-09-01", headers=api.headers("administrator"))
    assert again.status_code == 404 and again.json()["code"] == "not_found" and "Aucun avenant" in again.json()[
        "message"]
    bad_day = api.client.delete("/api/conventions/ap-2025/amendments/2025-13-01",
                                headers=api.headers("administrator"))
    assert bad_day.status_code == 422 and set(bad_day.json()["problems"]) == {"start"}


def test_an_avenant_used_by_an_issued_statement_cannot_be_withdrawn_409(api):
    _avenant_on_1_september(api.env)
    for month in range(1, 10):
        assert api.post(f"/api/statements/ap-2025/2025-{month:02d}/issue", "administrator").status_code == 201
    before = dump_after_stamp(api, "administrator")
    response = api.client.delete("/api/conventions/ap-2025/amendments/2025-09-01",
                                 headers=api.headers("administrator"))
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "convention_locked" and "déjà émis" in response.json()["message"]
    assert api.env.dump() == before


def test_an_account_added_over_the_api_can_enrol_a_device_with_its_password(api):
    before = audit_ids(api.env)
    response = api.post("/api/accounts", "administrator", json={
        "key": "nouvelle", "role": "referent", "password": PASSWORD, "name": "Nouvelle Référente"})
    assert response.status_code == 201, response.text
    assert response.json()["key"] == "nouvelle" and "password_hash" not in response.json()
    assert [r[:4] for r in audit_rows(api.env, before)] == [("admin-petit", "create", "user", "nouvelle")]
    assert enrol(api, "nouvelle").status_code == 201


def test_a_weak_password_is_refused_with_the_services_sentence_and_nothing_is_written(api, tmp_path):
    before = dump_after_stamp(api, "administrator")
    response = api.post("/api/accounts", "administrator", json={"key": "nouvelle", "role": "referent",
                                                                "password": "court"})
    assert response.status_code == 422, response.text
    with twin_of(api, tmp_path / "twin") as twin:
        expected, _ = in_process(twin, lambda t: users.add_user(t.uow(), t.users["admin-petit"], "nouvelle",
                                                                "referent", "court"))
    assert {k: response.json()[k] for k in ("message", "field")} == expected
    missing = api.post("/api/accounts", "administrator", json={"key": "nouvelle"})
    assert missing.status_code == 422 and set(missing.json()["problems"]) == {"role", "password"}
    assert api.env.dump() == before


def test_a_referent_changes_their_own_password_giving_the_current_one_but_not_anothers(api):
    wrong = api.client.put("/api/me/password", headers=api.headers("referent"),
                           json={"current_password": "pas le bon", "password": PASSWORD + "!"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "authentication_failed", wrong.text
    missing = api.client.put("/api/me/password", headers=api.headers("referent"), json={"password": PASSWORD + "!"})
    assert missing.status_code == 422 and set(missing.json()["problems"]) == {"current_password"}
    assert enrol(api, "ref-martin", PASSWORD).status_code == 201  # unchanged
    before = audit_ids(api.env)
    own = api.client.put("/api/me/password", headers=api.headers("referent"),
                         json={"current_password": PASSWORD, "password": PASSWORD + "!"})
    assert own.status_code == 200, own.text
    assert ("ref-martin", "change_password", "user", "ref-martin") in [r[:4] for r in audit_rows(api.env, before)]
    assert enrol(api, "ref-martin", PASSWORD).status_code == 401
    assert enrol(api, "ref-martin", PASSWORD + "!").status_code == 201
    other = api.client.put("/api/accounts/ref-other/password", headers=api.headers("referent"),
                           json={"password": PASSWORD})
    assert other.status_code == 403 and other.json()["code"] == "permission_denied"
    me = api.get("/api/me", "referent").json()
    assert (me["key"], me["role"]) == ("ref-martin", "referent")


def test_a_password_check_confirms_the_accounts_password_and_changes_nothing(api):
    before = audit_ids(api.env)
    wrong = api.client.post("/api/me/password-check", headers=api.headers("referent"), json={"password": "pas le bon"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "authentication_failed", wrong.text
    right = api.client.post("/api/me/password-check", headers=api.headers("referent"), json={"password": PASSWORD})
    assert right.status_code == 200 and right.json()["key"] == "ref-martin", right.text
    assert "change_password" not in [r[1] for r in audit_rows(api.env, before)]
    assert enrol(api, "ref-martin", PASSWORD).status_code == 201  # the password is still the account's


def test_the_programme_saved_over_the_api_is_read_back_and_an_older_version_is_refused(api, tmp_path):
    saved = api.client.put("/api/programme", headers=api.headers("administrator"), json={
        "name": "PRE de Bourg-en-Bresse", "city": "Bourg-en-Bresse", "holiday_zone": "A"})
    assert saved.status_code == 200, saved.text
    read = api.get("/api/programme", "referent").json()
    # updated_at: the same instant, written with its offset when just set and without it when read back from SQLite
    # (the service's value either way); either is a valid `based_on`
    assert {k: v for k, v in read.items() if k != "updated_at"} == {
        k: v for k, v in saved.json().items() if k != "updated_at"}
    assert read["updated_at"][:26] == saved.json()["updated_at"][:26]
    with twin_of(api, tmp_path / "twin") as twin:
        expected, _ = in_process(twin, lambda t: programme_settings.save_programme(
            t.uow(), t.users["admin-petit"], "PRE de Bourg-en-Bresse", "Bourg-en-Bresse", "A"))
    assert {k: v for k, v in saved.json().items() if k != "updated_at"} == {
        k: v for k, v in expected.items() if k != "updated_at"}
    renamed = api.client.put("/api/programme", headers=api.headers("administrator"), json={
        "name": "PRE de Bourg", "city": "Bourg-en-Bresse", "holiday_zone": "A", "based_on": read["updated_at"]})
    assert renamed.status_code == 200, renamed.text
    before = dump_after_stamp(api, "administrator")
    stale = api.client.put("/api/programme", headers=api.headers("administrator"), json={
        "name": "PRE", "city": None, "holiday_zone": "B", "based_on": saved.json()["updated_at"]})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_edit", stale.text
    wrong_zone = api.client.put("/api/programme", headers=api.headers("administrator"), json={
        "name": "PRE", "holiday_zone": "D"})
    assert wrong_zone.status_code == 422 and "zone" in wrong_zone.json()["problems"]["holiday_zone"]
    assert api.env.dump() == before


def test_retention_in_a_dry_run_names_the_families_and_writes_nothing_then_anonymises_them(api, tmp_path):
    before = dump_after_stamp(api, "coordinator")
    dry = api.post("/api/retention/run", "coordinator", json={"years": 1, "dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["anonymised"] == ["F5"] and dry.json()["dry_run"] is True
    assert api.env.dump() == before
    done = api.post("/api/retention/run", "coordinator", json={"years": 1})
    with twin_of(api, tmp_path / "twin") as twin:
        expected, rows = in_process(twin, lambda t: retention.anonymise_expired_families(
            t.uow(), t.users["coord-durand"], years=1, today=TODAY))
    assert done.status_code == 200 and done.json() == expected
    assert ("coord-durand", "anonymise", "family", "F5") in [r[:4] for r in rows]
    assert [r[:4] for r in audit_rows(api.env)][-len(rows):] == [r[:4] for r in rows]


def test_the_right_of_access_export_is_the_services_document_and_is_audited(api, tmp_path):
    before = audit_ids(api.env)
    response = api.get("/api/access-export/F1", "coordinator")
    assert response.status_code == 200, response.text
    with twin_of(api, tmp_path / "twin") as twin:
        from services import access_export

        expected, rows = in_process(twin, lambda t: access_export.export_family(t.uow(), t.users["coord-durand"],
                                                                                "F1", today=TODAY))
    assert response.json() == expected and response.json()["family"]["code"] == "F1"
    assert audit_rows(api.env, before) == rows == [("coord-durand", "access_export", "family", "F1", "[]")]
    unknown = api.get("/api/access-export/F99", "coordinator")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


@pytest.mark.parametrize("days, message", [("un an", "nombre entier"), (None, None)])
def test_the_audit_purge_reads_its_days_and_says_how_many_entries_went(api, days, message):
    response = api.post("/api/audit/purge", "administrator", json={} if days is None else {"days": days})
    if message:
        assert response.status_code == 422 and message in response.json()["problems"]["days"]
    else:
        assert response.status_code == 200 and isinstance(response.json()["purged"], int), response.text
        assert audit_rows(api.env)[-1][:3] == ("admin-petit", "purge", "audit_log")
