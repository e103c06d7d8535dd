"""The sync endpoints through a real uvicorn server over TLS (api.sync_routes): push and pull as a laptop sends
them, a replay, a conflict, the scope, a revoked device, bad requests refused in French with nothing written."""
from __future__ import annotations

import uuid

import httpx
import pytest

import api.app as app_module
from api.app import build_app
from api.sync_routes import SYNC_ENDPOINTS
from models.db import head_revision
from services.devices import REVOKED
from services.sync.changes import install_change_log
from tests.api_server.conftest import ServedStore, start_server, stop_server, trusting
from tests.service_cases import ACCOUNT_OF, TODAY


@pytest.fixture(scope="module")
def served(tls_pair):
    """This module's server: the API with the sync endpoints (added here until api.routes lists them)."""
    store = ServedStore()
    saved = app_module.ENDPOINTS
    if not set(SYNC_ENDPOINTS) <= set(saved):
        app_module.ENDPOINTS = (*saved, *SYNC_ENDPOINTS)
    try:
        app = build_app(store, schema_version=head_revision(), today=lambda: TODAY)
    finally:
        app_module.ENDPOINTS = saved
    server, thread, url = start_server(app, tls_pair)
    with httpx.Client(base_url=url, verify=trusting(tls_pair.certfile), timeout=60) as client:
        yield store, client
    stop_server(server, thread)


@pytest.fixture
def sync_api(api):
    install_change_log(api.env.engine)
    return api


def operation(api, who: str, name: str, record: str, fields: dict, base_version=None) -> dict:
    return {"id": str(uuid.uuid4()), "device": api.devices[who], "sequence": 1, "name": name, "record": record,
            "base_version": base_version, "fields": {k: {"base": b, "value": v} for k, (b, v) in fields.items()},
            "actor": ACCOUNT_OF.get(who, ACCOUNT_OF["referent"]),  # spare, revoked: the référent's devices
            "local_time": "2025-03-20T10:00:00+01:00"}


def written(api) -> dict:
    """Every row but the devices' (a request stamps its device as seen)."""
    return {table: rows for table, rows in api.env.dump().items() if table != "device"}


def session_fields(api, family: str = "F1") -> dict:
    env = api.env
    return {"family_id": (None, env.id("family", family)), "intervenant_id": (None, env.id("intervenant", "i-aes")),
            "date": (None, "2025-03-18"), "duration_minutes": (None, 60), "status": (None, "held"),
            "referent_present": (None, True), "notes": (None, "Séance au domicile")}


def test_a_session_pushed_is_applied_once_and_pulled_back_with_its_change_number(sync_api):
    api = sync_api
    cursor = api.get("/api/sync/pull?after=0&limit=5000", "referent").json()["next"]
    op = operation(api, "referent", "session.record", str(uuid.uuid4()), session_fields(api))
    first = api.post("/api/sync/push", "referent", json={"operations": [op]})
    assert first.status_code == 200
    [result] = first.json()["results"]
    assert (result["id"], result["outcome"], result["version"]) == (op["id"], "applied", 1)
    [again] = api.post("/api/sync/push", "referent", json={"operations": [op]}).json()["results"]
    assert (again["outcome"], again["original"]) == ("duplicate", "applied")
    pulled = api.get(f"/api/sync/pull?after={cursor}", "referent").json()
    assert [(c["table"], c["key"], c["deleted"]) for c in pulled["changes"]] == [
        ("home_session", op["record"], False)]
    assert pulled["changes"][0]["row"]["duration_minutes"] == 60 and pulled["more"] is False
    assert pulled["next"] == pulled["changes"][0]["number"] > cursor


def test_a_conflict_answers_base_local_and_server_values(sync_api):
    api = sync_api
    session_id = api.env.id("session", "S1")
    rows = api.get("/api/sync/pull?after=0&limit=5000", "coordinator").json()["changes"]
    version = next(c["row"]["version"] for c in rows if c["key"] == session_id)
    office = operation(api, "coordinator", "session.update", session_id, {"duration_minutes": (60, 120)}, version)
    assert api.post("/api/sync/push", "coordinator", json={"operations": [office]}).json()["results"][0][
        "outcome"] == "applied"
    laptop = operation(api, "referent", "session.update", session_id, {"duration_minutes": (60, 45)}, version)
    [result] = api.post("/api/sync/push", "referent", json={"operations": [laptop]}).json()["results"]
    assert result["outcome"] == "conflict"
    assert result["conflict"] == {"fields": {"duration_minutes": {"base": 60, "local": 45, "server": 120}}}


def test_a_referent_pulls_only_their_families_and_no_password_hash(sync_api):
    api = sync_api
    changes = api.get("/api/sync/pull?after=0&limit=5000", "referent").json()["changes"]
    families = {c["row"]["key"] for c in changes if c["table"] == "family"}
    assert families == {"F1", "F2", "F4"}
    assert all("password_hash" not in c["row"] for c in changes if c["table"] == "app_user")


def test_a_revoked_device_is_refused_on_push_and_pull_with_401(sync_api):
    api = sync_api
    assert api.get("/api/sync/pull?after=0", "spare").status_code == 200
    assert api.post(f"/api/devices/{api.devices['spare']}/revoke", "administrator").status_code == 200
    before = written(api)
    late = api.get("/api/sync/pull?after=0", "spare")
    assert late.status_code == 401 and late.json()["message"] == REVOKED
    pushed = api.post("/api/sync/push", "revoked", json={"operations": [
        operation(api, "revoked", "session.record", str(uuid.uuid4()), session_fields(api))]})
    pulled = api.get("/api/sync/pull?after=0", "revoked")
    for response in (pushed, pulled):
        assert response.status_code == 401 and response.json()["message"] == REVOKED
    assert written(api) == before


def test_a_push_naming_another_users_device_is_refused_and_bad_requests_are_refused_in_french(sync_api):
    api = sync_api
    before = written(api)
    stolen = operation(api, "coordinator", "session.record", str(uuid.uuid4()), session_fields(api))
    response = api.post("/api/sync/push", "referent", json={"device": api.devices["coordinator"],
                                                            "operations": [stolen]})
    assert response.status_code == 401 and "pas l'un des vôtres" in response.json()["message"]
    not_a_list = api.post("/api/sync/push", "referent", json={"device": api.devices["referent"],
                                                              "operations": "tout"})
    assert not_a_list.status_code == 422 and "liste" in not_a_list.json()["message"]
    bad_cursor = api.get("/api/sync/pull?after=hier", "referent")
    assert bad_cursor.status_code == 422 and bad_cursor.json()["problems"]
    assert written(api) == before
