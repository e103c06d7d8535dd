"""The API end to end over TLS: enrolment (the login service's throttling and lock-out included), device tokens,
the schema check, the refusals of malformed requests (French, nothing written), an unexpected error (calm answer,
traceback in the server's log only) and the services' results and audit rows as in-process."""
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3

import pytest

import main
from api.app import TOO_LARGE, UNEXPECTED, schema_refusal
from api.json_io import NOT_JSON, NOT_OBJECT
from services import users
from services.billing import issue_statement
from services.devices import REVOKED, UNKNOWN_TOKEN
from services.permissions import SYSTEM
from tests.service_cases import PASSWORD, open_env


def rows(api, table: str) -> int:
    with sqlite3.connect(api.env.path) as conn:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def audit_rows(env, since: set | None = None) -> list[tuple]:
    """(actor, action, record type, record key, changed fields) of the entries not in `since` (ids), in order."""
    with sqlite3.connect(env.path) as conn:
        found = conn.execute("SELECT id, actor_key, action, record_type, record_key, changed_fields FROM audit_log "
                             "ORDER BY seq").fetchall()
    return [tuple(r[1:]) for r in found if since is None or r[0] not in since]


def audit_ids(env) -> set:
    with sqlite3.connect(env.path) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM audit_log")}


def enrol(api, user="coord-durand", password=PASSWORD, label="Portable de Sophie"):
    return api.client.post("/api/enrol", json={"user": user, "password": password, "device_label": label})


# -- health and enrolment -----------------------------------------------------------------------------------------

def test_health_needs_no_device_and_tells_the_servers_schema(api):
    response = api.client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "application": "Parcours", "schema": api.schema}
    assert response.headers["Cache-Control"] == "no-store"


def test_enrolment_gives_a_token_once_that_the_server_stores_only_as_its_hash_and_that_opens_the_api(api):
    before = audit_ids(api.env)
    response = enrol(api)
    assert response.status_code == 201, response.text
    body = response.json()
    token, device = body["token"], body["device"]
    assert len(token) >= 43 and device["user_key"] == "coord-durand" and device["label"] == "Portable de Sophie"
    assert device["revoked_at"] is None
    with sqlite3.connect(api.env.path) as conn:
        stored = conn.execute("SELECT token_hash FROM device WHERE key = ?", (device["key"],)).fetchone()[0]
        assert conn.execute("SELECT count(*) FROM device WHERE token_hash = ? OR label = ?",
                            (token, token)).fetchone()[0] == 0
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert audit_rows(api.env, before) == [
        ("coord-durand", "login", "user", "coord-durand", "[]"),
        ("coord-durand", "create", "device", device["key"], '["label", "token_hash", "user_id"]')]
    families = api.client.get("/api/families", headers={"Authorization": f"Bearer {token}",
                                                        "X-Parcours-Schema": api.schema})
    assert families.status_code == 200 and {f["key"] for f in families.json()} >= {"F1", "F2", "F3"}


def test_enrolment_with_a_wrong_password_is_refused_in_french_and_enrols_nothing(api):
    devices = rows(api, "device")
    response = enrol(api, password="pas-le-bon-mot-de-passe")
    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "message": users.WRONG_CREDENTIALS,
                               "field": None}
    assert rows(api, "device") == devices
    assert audit_rows(api.env)[-1][:4] == (None, "login_failed", "user", "coord-durand")


def test_enrolment_locks_the_account_out_after_the_login_services_threshold(api):
    for attempt in range(1, users.FREE_ATTEMPTS):
        assert enrol(api, password=f"mauvais-{attempt}").json()["message"] == users.WRONG_CREDENTIALS
    last = enrol(api, password="mauvais-encore")
    assert last.status_code == 429
    assert last.json()["code"] == "too_many_attempts"
    assert last.json()["message"] == f"{users.WRONG_CREDENTIALS} Trop d'essais : réessayez dans 30 secondes."
    assert last.headers["Retry-After"] == "30"
    locked = enrol(api)  # the right password, during the delay: not even checked
    assert locked.status_code == 429 and locked.json()["message"].startswith("Trop d'essais : réessayez dans ")
    assert rows(api, "device") == 5  # the template's, no more


def test_enrolment_with_an_empty_device_label_is_refused_before_the_login(api):
    before = audit_ids(api.env)
    response = enrol(api, label="  ")
    assert response.status_code == 422 and response.json()["field"] == "device_label"
    assert response.json()["message"].startswith("Donnez un nom à ce poste")
    assert audit_rows(api.env, before) == []  # no login attempt counted


# -- device tokens --------------------------------------------------------------------------------------------------

def test_a_revoked_token_is_refused_with_401(api):
    response = api.get("/api/families", "revoked")
    assert response.status_code == 401
    assert response.json() == {"code": "device_refused", "message": REVOKED, "field": None}


def test_a_device_revoked_over_the_api_is_refused_from_then_on_and_the_revocation_is_audited(api):
    assert api.get("/api/families", "referent").status_code == 200
    before = audit_ids(api.env)
    revoked = api.post(f"/api/devices/{api.devices['referent']}/revoke", "administrator")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert audit_rows(api.env, before) == [("admin-petit", "revoke", "device", api.devices["referent"],
                                            '["revoked_at"]')]
    assert api.get("/api/families", "referent").json()["message"] == REVOKED
    listed = {d["key"]: d for d in api.get("/api/devices", "administrator").json()}
    assert listed[api.devices["referent"]]["revoked_at"] is not None
    assert listed[api.devices["administrator"]]["last_seen_at"] is not None


def test_an_unknown_token_and_a_disabled_account_are_refused_with_401(api):
    unknown = api.client.get("/api/families", headers={**api.headers(), "Authorization": "Bearer pas-un-jeton"})
    assert unknown.status_code == 401 and unknown.json()["message"] == UNKNOWN_TOKEN
    users.disable_user(api.env.uow(), SYSTEM, "ref-martin")
    disabled = api.get("/api/families", "referent")
    assert disabled.status_code == 401 and "désactivé" in disabled.json()["message"]


def test_a_role_changed_on_the_server_applies_to_the_devices_next_request(api):
    assert api.get("/api/statements/ap-2025/2025-03", "referent").status_code == 403
    api.env.set_account("ref-martin", role="coordinator")
    assert api.get("/api/statements/ap-2025/2025-03", "referent").status_code == 200


# -- the schema version ---------------------------------------------------------------------------------------------

def test_a_desk_on_an_older_schema_is_told_to_update_the_desk(api):
    response = api.client.get("/api/families", headers=api.headers("referent", schema="0010"))
    assert response.status_code == 409
    assert response.json()["code"] == "schema_mismatch"
    assert response.json()["message"] == (f"Le serveur est en version de schéma {api.schema}, ce poste en 0010 : "
                                          "mettez Parcours à jour sur ce poste.")


def test_a_desk_on_a_newer_schema_is_told_to_update_the_server(api):
    response = api.client.get("/api/families", headers=api.headers("referent", schema="9999"))
    assert response.status_code == 409
    assert response.json()["message"] == (f"Le serveur est en version de schéma {api.schema}, ce poste en 9999 : "
                                          "mettez Parcours à jour sur le serveur.")


def test_a_request_without_its_schema_is_refused_and_an_enrolment_with_another_schema_too(api):
    missing = api.client.get("/api/families", headers={"Authorization": f"Bearer {api.tokens['referent']}"})
    assert missing.status_code == 400 and missing.json()["code"] == "schema_missing"
    devices = rows(api, "device")
    older = api.client.post("/api/enrol", headers={"X-Parcours-Schema": "0010"},
                            json={"user": "coord-durand", "password": PASSWORD, "device_label": "Poste"})
    assert older.status_code == 409 and rows(api, "device") == devices


def test_schema_refusal_tells_an_older_revision_from_a_newer_one():
    known = {"0009", "0010", "0011"}
    assert schema_refusal("0011", "0011", known) is None
    assert schema_refusal("0011", "0009", known).message.endswith("sur ce poste.")
    assert schema_refusal("0011", "0012", known).message.endswith("sur le serveur.")


# -- malformed requests: refused in French, nothing written --------------------------------------------------------

@pytest.mark.parametrize("content, message", [(b'{"family_id": ', NOT_JSON), (b"\xff\xfe", NOT_JSON),
                                              (b'{"notes": NaN}', NOT_JSON), (b"[1, 2]", NOT_OBJECT)])
def test_a_body_that_is_not_a_json_object_is_refused_with_400_and_nothing_is_written(api, content, message):
    api.get("/api/devices", "coordinator")  # stamps the device as seen
    before = api.env.dump()
    response = api.post("/api/sessions", "coordinator", content=content,
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"code": "bad_json", "message": message, "field": None}
    assert api.env.dump() == before


def test_a_key_given_twice_is_refused(api):
    response = api.post("/api/sessions", "coordinator", content=b'{"notes": "a", "notes": "b"}')
    assert response.status_code == 400 and "deux fois le champ « notes »" in response.json()["message"]


def _big_session(api, size: int) -> bytes:
    body = {"family_id": api.env.id("family", "F1"), "intervenant_id": api.env.id("intervenant", "i-aes"),
            "date": "2025-03-18", "duration_minutes": 60, "notes": "x" * size}
    return json.dumps(body).encode()


def test_a_body_over_one_mebibyte_is_refused_with_413_from_its_length_and_nothing_is_written(api):
    api.get("/api/devices", "coordinator")
    before = api.env.dump()
    response = api.post("/api/sessions", "coordinator", content=_big_session(api, 1 << 20))
    assert response.status_code == 413
    assert response.json() == {"code": "too_large", "message": TOO_LARGE, "field": None}
    assert TOO_LARGE.startswith("La requête dépasse")
    assert api.env.dump() == before


def test_a_chunked_body_over_one_mebibyte_is_refused_while_it_is_read(api):
    api.get("/api/devices", "coordinator")
    before = api.env.dump()
    content = _big_session(api, 1 << 20)
    chunks = (content[i:i + 65536] for i in range(0, len(content), 65536))  # no Content-Length: chunked
    response = api.post("/api/sessions", "coordinator", content=chunks)
    assert response.status_code == 413 and response.json()["message"] == TOO_LARGE
    assert api.env.dump() == before


def test_a_body_just_under_the_limit_is_read(api):
    content = _big_session(api, (1 << 20) - 400)
    assert len(content) <= 1 << 20
    response = api.post("/api/sessions", "coordinator", content=content)
    assert response.status_code == 201, response.json().get("message")
    assert len(response.json()["notes"]) == (1 << 20) - 400


def test_fields_of_the_wrong_type_are_all_named_in_french_with_422(api):
    before = rows(api, "home_session")
    response = api.post("/api/sessions", "coordinator", json={
        "family_id": api.env.id("family", "F1"), "intervenant_id": 12, "date": "18/03/2025",
        "duration_minutes": "soixante", "referent_present": "oui"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_fields"
    assert body["problems"] == {
        "intervenant_id": "Le champ « intervenant_id » doit être un texte.",
        "date": "Le champ « date » doit être une date AAAA-MM-JJ (par exemple 2025-03-18).",
        "duration_minutes": "Le champ « duration_minutes » doit être un nombre entier.",
        "referent_present": "Le champ « referent_present » doit valoir true ou false."}
    assert rows(api, "home_session") == before


def test_the_services_own_refusal_of_a_session_comes_back_with_its_field(api):
    response = api.post("/api/sessions", "coordinator", json={
        "family_id": api.env.id("family", "F1"), "intervenant_id": api.env.id("intervenant", "i-aes"),
        "date": "2025-03-18"})
    body = response.json()
    assert response.status_code == 422 and body["code"] == "validation_error"
    assert body["field"] == "duration" and body["problems"] == {"duration": body["message"]}


def test_an_unknown_address_and_a_wrong_method_are_refused_in_french(api):
    unknown = api.get("/api/nulle-part", "coordinator")
    assert unknown.status_code == 404 and unknown.json()["code"] == "no_such_address"
    assert unknown.json()["message"].startswith("Cette adresse n'existe pas sur le serveur Parcours")
    wrong = api.client.delete("/api/families", headers=api.headers("coordinator"))
    assert wrong.status_code == 405
    assert wrong.json()["message"] == "Cette adresse n'accepte pas la méthode DELETE."


def test_a_family_that_does_not_exist_is_404_with_the_services_message(api):
    response = api.get("/api/families/pas-une-famille", "coordinator")
    assert response.status_code == 404 and response.json()["message"].startswith("Cette famille n'existe plus")


def test_an_unexpected_error_answers_500_calmly_and_logs_the_traceback_without_the_families_data(api, caplog):
    with sqlite3.connect(api.env.path) as conn:  # a store broken under the server's feet
        conn.execute("ALTER TABLE home_session RENAME TO home_session_gone")
    secret = "Note confidentielle : la famille déménage à Lyon"
    with caplog.at_level(logging.ERROR, logger="parcours.api"):
        response = api.post("/api/sessions", "coordinator", json={
            "family_id": api.env.id("family", "F1"), "intervenant_id": api.env.id("intervenant", "i-aes"),
            "date": "2025-03-18", "duration_minutes": 60, "notes": secret})
    assert response.status_code == 500
    assert response.json() == {"code": "unexpected", "message": UNEXPECTED, "field": None}
    assert "Traceback" not in response.text and "home_session" not in response.text
    [record] = [r for r in caplog.records if r.name == "parcours.api"]
    assert record.exc_info is not None
    written = main.CodeOnlyFormatter(main.LOG_FORMAT).format(record)
    assert "Traceback (most recent call last)" in written and "POST /api/sessions" in written
    assert secret not in written and "no such table" not in written


# -- the services' results and audit rows, as in-process ----------------------------------------------------------

def test_a_session_recorded_over_the_api_comes_back_as_the_services_row(api):
    before = audit_ids(api.env)
    response = api.post("/api/sessions", "referent", json={
        "family_id": api.env.id("family", "F1"), "intervenant_id": api.env.id("intervenant", "i-aes"),
        "date": "2025-03-18", "start_time": "14:30", "duration_minutes": 75, "referent_present": True,
        "notes": "Séance calme"})
    assert response.status_code == 201, response.text
    row = response.json()
    assert (row["date"], row["start_time"], row["duration_minutes"], row["status"]) == (
        "2025-03-18", "14:30:00", 75, "held")
    assert row["notes"] == "Séance calme" and row["family_id"] == api.env.id("family", "F1")
    [entry] = audit_rows(api.env, before)
    assert entry[:4] == ("ref-martin", "create", "home_session", row["key"])


def test_a_statement_is_written_with_its_amounts_as_strings_of_cents(api):
    response = api.get("/api/statements/ap-2025/2025-03", "administrator")
    assert response.status_code == 200
    statement = response.json()
    assert statement["status"] == "draft" and statement["month"] == "2025-03"
    assert all(isinstance(line["amount"], str) and line["amount"].count(".") == 1
               and len(line["amount"].split(".")[1]) == 2 for line in statement["lines"])
    assert isinstance(statement["total"], str) and statement["lines"]


def test_issuing_over_the_api_writes_the_same_audit_row_as_in_process(api, tmp_path):
    before = audit_ids(api.env)
    response = api.post("/api/statements/ap-2025/2025-01/issue", "administrator")
    assert response.status_code == 201, response.text
    assert response.json()["number"] == "ap-2025-001" and response.json()["status"] == "issued"
    over_api = audit_rows(api.env, before)
    twin_folder = tmp_path / "twin"
    twin_folder.mkdir()
    twin = open_env(api.template, twin_folder)  # the same programme, untouched by the server
    try:
        twin_before = audit_ids(twin)
        issued = issue_statement(twin.uow(), twin.users["admin-petit"], "ap-2025", "2025-01")
        in_process = audit_rows(twin, twin_before)
    finally:
        twin.engine.dispose()
    assert over_api == in_process == [("admin-petit", "issue", "statement", "ap-2025-001",
                                       json.dumps(["convention_id", "month", "number", "payload", "pdf",
                                                   "sequence", "total"]))]
    assert response.json()["total"] == str(issued.total)
    again = api.post("/api/statements/ap-2025/2025-01/issue", "administrator")
    assert again.status_code == 409 and "déjà émis" in again.json()["message"]


def test_concurrent_sessions_from_several_devices_are_all_recorded_without_an_error(api):
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date, timedelta

    before = rows(api, "home_session")
    days = [date(2025, 1, 2) + timedelta(days=n) for n in range(40)]  # all before TODAY, one session a day

    def record(day):
        who = ("referent", "coordinator")[day.toordinal() % 2]
        return api.post("/api/sessions", who, json={
            "family_id": api.env.id("family", "F2"), "intervenant_id": api.env.id("intervenant", "i-tisf"),
            "date": day.isoformat(), "duration_minutes": 45})

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [r.status_code for r in pool.map(record, days)]
    assert statuses == [201] * len(days)
    assert rows(api, "home_session") == before + len(days)
