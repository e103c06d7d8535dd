"""Every (actor × endpoint) pair over the real server, like tests/test_permissions.py for the services: an allowed
pair answers its success status, a refused one 403 with the service's own French sentence for the endpoint's
operation (api.routes.ENDPOINTS), a revoked device or a request without a token 401; a refused request writes
nothing at all (every row of every table compared)."""
from __future__ import annotations

import base64

import pytest

from api.json_io import to_json
from api.routes import ENDPOINTS
from services import conventions_admin
from services.billing import issue_statement
from services.permissions import PERMISSIONS, ROLE_LABELS, SYSTEM, allowed
from services.devices import NO_TOKEN, REVOKED
from tests.service_cases import (PASSWORD, CurrentUser, _avenant_on_1_september, _guardian, _p1_closed,
                                 _year_issued_then_corrected)

ACTORS = ("referent", "coordinator", "administrator", "revoked", "nobody")


def _session(api) -> dict:
    return {"family_id": api.env.id("family", "F1"), "intervenant_id": api.env.id("intervenant", "i-aes"),
            "date": "2025-03-18", "duration_minutes": 60, "notes": "Séance calme"}


# One sample request per endpoint that succeeds for an allowed role: (path, JSON body or None).
SAMPLES = {
    ("GET", "/api/devices"): lambda api: ("/api/devices", None),
    ("POST", "/api/devices/{key}/revoke"): lambda api: (f"/api/devices/{api.devices['spare']}/revoke", None),
    ("GET", "/api/families"): lambda api: ("/api/families", None),
    ("GET", "/api/families/{family_id}"): lambda api: (f"/api/families/{api.env.id('family', 'F1')}", None),
    ("POST", "/api/sessions"): lambda api: ("/api/sessions", _session(api)),
    ("GET", "/api/statements/{convention}/{month}"): lambda api: ("/api/statements/ap-2025/2025-03", None),
    ("POST", "/api/statements/{convention}/{month}/issue"): lambda api: ("/api/statements/ap-2025/2025-01/issue",
                                                                          None),
    ("GET", "/api/sessions"): lambda api: ("/api/sessions?month=2025-03&descending=false", None),
    ("POST", "/api/sessions/page"): lambda api: ("/api/sessions/page", {"count": True, "limit": 10}),
    ("GET", "/api/sessions/week/{day}"): lambda api: ("/api/sessions/week/2025-03-04", None),
    ("GET", "/api/sessions/{session_id}"): lambda api: (f"/api/sessions/{api.env.id('session', 'S1')}", None),
    ("PUT", "/api/sessions/{session_id}"): lambda api: (f"/api/sessions/{api.env.id('session', 'S1')}",
                                                        _session(api)),
    ("DELETE", "/api/sessions/{session_id}"): lambda api: (f"/api/sessions/{api.env.id('session', 'S1')}", None),
    ("GET", "/api/exceptions"): lambda api: ("/api/exceptions", None),
    ("POST", "/api/exceptions/approve"): lambda api: ("/api/exceptions/approve",
                                                      {"session_ids": [api.env.id("session", "S1")]}),
    ("POST", "/api/exceptions/refuse"): lambda api: ("/api/exceptions/refuse", {
        "session_ids": [api.env.id("session", "S1")], "reason": "Pas de motif"}),
    ("GET", "/api/eps"): lambda api: ("/api/eps", None),
    ("POST", "/api/eps"): lambda api: ("/api/eps", {"date": "2025-03-11", "notes": "Ordre du jour"}),
    ("GET", "/api/eps/{meeting_id}"): lambda api: (f"/api/eps/{api.env.id('eps', 'EPS-2025-01')}", None),
    ("POST", "/api/eps/{meeting_id}/situations"): lambda api: (
        f"/api/eps/{api.env.id('eps', 'EPS-2025-02')}/situations",
        {"family_id": api.env.id("family", "F3"), "recommendation": "Soutien scolaire"}),
    ("PUT", "/api/situations/{situation_id}/recommendation"): lambda api: (
        f"/api/situations/{api.env.id('situation', 'EPS-2025-01/F1')}/recommendation",
        {"recommendation": "Atout Plus renforcé"}),
    ("POST", "/api/situations/{situation_id}/orientations"): lambda api: (
        f"/api/situations/{api.env.id('situation', 'EPS-2025-01/F1')}/orientations",
        {"convention_id": api.env.id("convention", "as-2025")}),
    ("GET", "/api/orientations"): lambda api: ("/api/orientations?status=proposed", None),
    ("POST", "/api/orientations/{orientation_id}/validate"): lambda api: (
        f"/api/orientations/{api.env.id('orientation', 'O-prop')}/validate", {"decided_on": "2025-02-20"}),
    ("POST", "/api/orientations/{orientation_id}/reject"): lambda api: (
        f"/api/orientations/{api.env.id('orientation', 'O-prop')}/reject",
        {"reason": "Hors critères", "decided_on": "2025-02-20"}),
    ("POST", "/api/orientations/{orientation_id}/end"): lambda api: (
        f"/api/orientations/{api.env.id('orientation', 'O3')}/end",
        {"end": "2025-03-01", "reason": "Fin de prise en charge"}),
    ("GET", "/api/capacity"): lambda api: ("/api/capacity", None),
    ("GET", "/api/families/{family_id}/record"): lambda api: (f"/api/families/{api.env.id('family', 'F1')}/record",
                                                             None),
    ("POST", "/api/families"): lambda api: ("/api/families", {"name": "Famille Nouvelle", "commune": "Bourg-en-Bresse",
                                                              "address": "3 rue Neuve"}),
    ("PUT", "/api/families/{family_id}"): lambda api: (f"/api/families/{api.env.id('family', 'F1')}", {
        "name": "Famille Lefèvre-Roux", "commune": "Bourg-en-Bresse", "address": "12 rue des Lilas",
        "priority_neighbourhood": True, "referent_id": api.env.users["ref-martin"].id}),
    ("POST", "/api/families/{family_id}/close"): lambda api: (f"/api/families/{api.env.id('family', 'F1')}/close",
                                                              {"closed_on": "2025-03-20", "reason": "Déménagement"}),
    ("DELETE", "/api/families/{family_id}"): lambda api: (f"/api/families/{api.env.id('family', 'F5')}", None),
    ("POST", "/api/families/{family_id}/guardians"): lambda api: (
        f"/api/families/{api.env.id('family', 'F1')}/guardians", {"name": "Karim Lefèvre", "relationship": "père"}),
    ("PUT", "/api/guardians/{guardian_id}"): lambda api: (f"/api/guardians/{_guardian(api.env)}", {
        "name": "Aurélie Lefèvre", "relationship": "mère", "phone": "06 00 00 00 02"}),
    ("DELETE", "/api/guardians/{guardian_id}"): lambda api: (f"/api/guardians/{_guardian(api.env)}", None),
    ("POST", "/api/families/{family_id}/children"): lambda api: (
        f"/api/families/{api.env.id('family', 'F1')}/children",
        {"first_name": "Léo", "last_name": "Lefèvre", "birth_date": "2021-05-01"}),
    ("PUT", "/api/children/{child_id}"): lambda api: (f"/api/children/{api.env.id('child', 'C1')}", {
        "first_name": "Lucas", "last_name": "Lefèvre", "birth_date": "2016-04-02", "sex": "M",
        "school": "École Charles Robin", "school_class": "CM2"}),
    ("PUT", "/api/parcours/{parcours_id}/plan"): lambda api: (f"/api/parcours/{api.env.id('parcours', 'P1')}/plan", {
        "objectives": "Confiance en soi", "actions": "Aide aux devoirs le mardi"}),
    ("GET", "/api/consent/missing"): lambda api: ("/api/consent/missing", None),
    ("PUT", "/api/consent/{family_key}"): lambda api: ("/api/consent/F2", {"consent_date": "2025-03-01",
                                                                          "scope": "Accompagnement PRE"}),
    ("POST", "/api/children/{child_id}/parcours"): lambda api: (f"/api/children/{api.env.id('child', 'C2')}/parcours",
                                                                {"start": "2025-02-01", "objectives": "Lecture"}),
    ("POST", "/api/parcours/{parcours_id}/resume"): lambda api: (
        f"/api/parcours/{api.env.id('parcours', 'P2')}/resume", {}),
    ("POST", "/api/parcours/{parcours_id}/suspend"): lambda api: (
        f"/api/parcours/{api.env.id('parcours', 'P1')}/suspend", None),
    ("POST", "/api/parcours/{parcours_id}/close"): lambda api: (
        f"/api/parcours/{api.env.id('parcours', 'P1')}/close",
        {"end": "2025-03-01", "exit_reason": "Objectifs atteints"}),
    ("GET", "/api/parcours/turning-17"): lambda api: ("/api/parcours/turning-17?within_months=120", None),
    ("GET", "/api/statements/{convention}/{month}/pdf"): lambda api: ("/api/statements/ap-2025/2025-01/pdf", None),
    ("GET", "/api/activity/months"): lambda api: ("/api/activity/months", None),
    ("GET", "/api/activity/{month}"): lambda api: ("/api/activity/2025-03", None),
    ("GET", "/api/families/{family_id}/hours"): lambda api: (f"/api/families/{api.env.id('family', 'F1')}/hours",
                                                             None),
    ("GET", "/api/partners"): lambda api: ("/api/partners", None),
    ("POST", "/api/partners/{key}"): lambda api: ("/api/partners/pep", {"name": "PEP 01"}),
    ("PUT", "/api/partners/{key}"): lambda api: ("/api/partners/adom", {"name": "Adom de l'Ain"}),
    ("GET", "/api/intervenants"): lambda api: ("/api/intervenants?partner=adom", None),
    ("POST", "/api/intervenants"): lambda api: ("/api/intervenants", {
        "key": "i-new", "name": "Inès Roux", "qualification": "TISF", "partner": "adom"}),
    ("PUT", "/api/intervenants/{key}"): lambda api: ("/api/intervenants/i-aes", {
        "key": "i-aes", "name": "Nadia Benali-Roux", "qualification": "AES", "partner": "adom"}),
    ("GET", "/api/conventions"): lambda api: ("/api/conventions", None),
    ("GET", "/api/conventions/{key}"): lambda api: ("/api/conventions/ap-2025", None),
    ("GET", "/api/actions"): lambda api: ("/api/actions", None),
    ("GET", "/api/qualifications"): lambda api: ("/api/qualifications", None),
    ("GET", "/api/accounts"): lambda api: ("/api/accounts", None),
    ("POST", "/api/accounts/{key}/disable"): lambda api: ("/api/accounts/ref-other/disable", None),
    ("GET", "/api/audit"): lambda api: ("/api/audit?limit=10", None),
    ("GET", "/api/dataset/export"): lambda api: ("/api/dataset/export", None),
    ("POST", "/api/dataset/import"): lambda api: ("/api/dataset/import", {
        "format": "parcours-dataset/1",
        "families": [{"key": "F-API", "name": "Famille Importée", "commune": "Bourg-en-Bresse"}]}),
}
TEAM_SHEET = "Nom;Prénom;DDN;Commune\nRoux;Jade;01/01/2015;Bourg-en-Bresse\n".encode("utf-8")
NEW_CONVENTION = {"key": "AS-2026", "partner": "adom", "action": "Accompagnement scolaire", "start": "2026-01-01",
                  "end": "2026-12-31",
                  "tariffs": [{"qualification": "AES", "kind": "home_intervention", "unit_price": "31.50"}]}


def _convention_as_read(api, **changes) -> dict:
    """ap-2025 as GET /api/conventions/{key} writes it, with `changes`: what an editor sends back."""
    current = conventions_admin.get_convention(api.env.uow(), api.env.users["admin-petit"], "ap-2025")
    return {**to_json(current), **changes}


def _month(path: str):
    return lambda api: (f"/api/statements/ap-2025/2025-03/{path}", None)


SAMPLES.update({
    ("GET", "/api/sessions/count"): lambda api: ("/api/sessions/count?month=2025-03", None),
    ("GET", "/api/sessions/latest"): lambda api: ("/api/sessions/latest?not_after=2025-03-20", None),
    ("POST", "/api/sessions/check"): lambda api: ("/api/sessions/check", _session(api)),
    ("GET", "/api/families/{family_id}/usual-intervenant"): lambda api: (
        f"/api/families/{api.env.id('family', 'F1')}/usual-intervenant", None),
    ("GET", "/api/choices/families"): lambda api: ("/api/choices/families", None),
    ("GET", "/api/choices/intervenants"): lambda api: ("/api/choices/intervenants", None),
    ("GET", "/api/choices/conventions"): lambda api: ("/api/choices/conventions", None),
    ("GET", "/api/conventions/{key}/statements"): lambda api: ("/api/conventions/ap-2025/statements", None),
    ("GET", "/api/conventions/{key}/statements/full"): lambda api: ("/api/conventions/ap-2025/statements/full",
                                                                    None),
    ("GET", "/api/conventions/{key}/closing-statement"): lambda api: ("/api/conventions/ap-2025/closing-statement",
                                                                      None),
    ("POST", "/api/conventions/{key}/closing-statement/issue"): lambda api: (
        "/api/conventions/ap-2025/closing-statement/issue", None),
    ("GET", "/api/statements/{convention}/{month}/recomputed"): _month("recomputed"),
    ("GET", "/api/statements/{convention}/{month}/changes"): _month("changes"),
    ("GET", "/api/statements/{convention}/{month}/undecided"): _month("undecided"),
    ("POST", "/api/statements/{convention}/{month}/names-printed"): _month("names-printed"),
    ("POST", "/api/conventions"): lambda api: ("/api/conventions", NEW_CONVENTION),
    ("PUT", "/api/conventions/{key}"): lambda api: ("/api/conventions/ap-2025",
                                                    _convention_as_read(api, max_families=20)),
    ("POST", "/api/conventions/{key}/amendments"): lambda api: ("/api/conventions/ap-2025/amendments", {
        "start": "2025-09-01",
        "tariffs": [{"qualification": "AES", "kind": "home_intervention", "unit_price": "31,00"}]}),
    ("DELETE", "/api/conventions/{key}/amendments/{start}"): lambda api: (
        "/api/conventions/ap-2025/amendments/2025-09-01", None),
    ("POST", "/api/intervenants/{key}/regularisation-warning"): lambda api: (
        "/api/intervenants/i-aes/regularisation-warning",
        {"key": "i-aes", "name": "Nadia Benali", "qualification": "TISF", "partner": "adom",
         "from_date": "2025-09-01"}),
    ("GET", "/api/me"): lambda api: ("/api/me", None),
    ("PUT", "/api/me/password"): lambda api: ("/api/me/password", {"current_password": PASSWORD,
                                                                   "password": PASSWORD + "!"}),
    ("POST", "/api/me/password-check"): lambda api: ("/api/me/password-check", {"password": PASSWORD}),
    ("POST", "/api/accounts"): lambda api: ("/api/accounts", {"key": "nouvelle", "role": "referent",
                                                              "password": PASSWORD, "name": "Nouvelle Référente"}),
    ("PUT", "/api/accounts/{key}/password"): lambda api: ("/api/accounts/ref-other/password",
                                                          {"password": PASSWORD}),
    ("GET", "/api/programme"): lambda api: ("/api/programme", None),
    ("PUT", "/api/programme"): lambda api: ("/api/programme", {"name": "PRE de Bourg-en-Bresse",
                                                               "city": "Bourg-en-Bresse", "holiday_zone": "A"}),
    ("POST", "/api/audit/purge"): lambda api: ("/api/audit/purge", {"days": 365}),
    ("POST", "/api/retention/run"): lambda api: ("/api/retention/run", {"years": 1}),
    ("GET", "/api/access-export/{family_key}"): lambda api: ("/api/access-export/F1", None),
    ("POST", "/api/sheets/import"): lambda api: ("/api/sheets/import", {
        "file_name": "equipe.csv", "content": base64.b64encode(TEAM_SHEET).decode("ascii")}),
    ("PUT", "/api/parcours/{parcours_id}/closed-details"): lambda api: (
        f"/api/parcours/{api.env.id('parcours', 'P1')}/closed-details",
        {"referral_source": "en_enseignant", "referral_reasons": ["scolarite"],
         "exit_reason_code": "objectifs_atteints"}),
    ("GET", "/api/programme/qpv"): lambda api: ("/api/programme/qpv", None),
    ("PUT", "/api/programme/qpv"): lambda api: ("/api/programme/qpv", {"names": ["Croix-Blanche",
                                                                                "Pont-des-Chèvres"]}),
    ("GET", "/api/dashboard"): lambda api: ("/api/dashboard", None),
    ("GET", "/api/reports/bilan"): lambda api: ("/api/reports/bilan?start=2025-01-01&end=2025-12-31", None),
    ("GET", "/api/reports/caf"): lambda api: ("/api/reports/caf?start=2025-01-01&end=2025-12-31", None),
    ("POST", "/api/sync/push"): lambda api: ("/api/sync/push", {"operations": []}),
    ("GET", "/api/sync/pull"): lambda api: ("/api/sync/pull?after=0&limit=10", None),
})
# What a sample needs done first, before the store is measured (as the system, not over the API)
SETUPS = {("GET", "/api/statements/{convention}/{month}/pdf"): lambda api: issue_statement(
    api.env.uow(), SYSTEM, "ap-2025", "2025-01"),
    ("GET", "/api/conventions/{key}/closing-statement"): lambda api: _year_issued_then_corrected(api.env),
    ("POST", "/api/conventions/{key}/closing-statement/issue"): lambda api: _year_issued_then_corrected(api.env),
    ("DELETE", "/api/conventions/{key}/amendments/{start}"): lambda api: _avenant_on_1_september(api.env),
    ("PUT", "/api/parcours/{parcours_id}/closed-details"): lambda api: _p1_closed(api.env)}
DEVICE_ENDPOINTS = [row for row in ENDPOINTS if row.device]


def test_every_endpoint_behind_a_device_has_a_sample_request_and_names_a_real_operation():
    assert {(row.method, row.path) for row in DEVICE_ENDPOINTS} == set(SAMPLES)
    assert all(row.operation in PERMISSIONS for row in ENDPOINTS if row.operation is not None)
    assert all(row.service is not None for row in ENDPOINTS if row.operation is not None)


def test_each_sample_reaches_its_own_endpoint_no_earlier_route_shadowing_it(api):
    """Starlette answers with the first route whose path and method match: « /api/sessions/count » placed after
    « /api/sessions/{session_id} » would be read as the session « count »."""
    from starlette.routing import Match

    from api.app import build_app

    routes = build_app(lambda: None, schema_version="-", known_schemas=()).app.routes
    for row in DEVICE_ENDPOINTS:
        path = SAMPLES[(row.method, row.path)](api)[0].partition("?")[0]
        scope = {"type": "http", "path": path, "method": row.method}
        first = next(route for route in routes if route.matches(scope)[0] == Match.FULL)
        assert first.path == row.path, f"{row.method} {path} reaches {first.path}"


def _request(api, row, who):
    path, body = SAMPLES[(row.method, row.path)](api)
    headers = api.headers(None if who == "nobody" else who)
    return api.client.request(row.method, path, headers=headers, json=body)


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("row", DEVICE_ENDPOINTS, ids=lambda r: f"{r.method} {r.path}")
def test_actor_on_endpoint(api, row, who):
    if who in ("referent", "coordinator", "administrator"):
        # a first request stamps the device as seen: done before the measure, so that a refusal writes nothing
        api.get("/api/devices", who)
    if (setup := SETUPS.get((row.method, row.path))) is not None:
        setup(api)
    before = api.env.dump()
    response = _request(api, row, who)
    if response.headers["content-type"] == "application/pdf":
        assert who in ("referent", "coordinator", "administrator")
        assert allowed(CurrentUser("-", "-", "-", who), row.operation)
        assert response.status_code == row.status and response.content.startswith(b"%PDF")
        return
    body = response.json()
    if who in ("revoked", "nobody"):
        assert response.status_code == 401, body
        assert body["code"] == "device_refused"
        assert body["message"] == (REVOKED if who == "revoked" else NO_TOKEN)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif allowed(CurrentUser("-", "-", "-", who), row.operation):
        assert response.status_code == row.status, body
        return
    else:
        assert response.status_code == 403, body
        assert body == {"code": "permission_denied", "field": None,
                        "message": f"Votre rôle ({ROLE_LABELS[who]}) ne permet pas de "
                                   f"{PERMISSIONS[row.operation].doing}."}
    assert api.env.dump() == before, "a refused request wrote something"


# The public service functions (tests/service_cases.py CASES) that the API does not expose, and why.
LEFT_OUT = {
    "services.dataset.exporter.export_dataset": "the same file as stream_dataset, which GET /api/dataset/export "
                                                "streams instead of holding it whole in memory",
    "services.devices.enrol_device": "a device is enrolled with its user's password (POST /api/enrol, "
                                     "enrol_with_password): a device's token never enrols another",
    "services.sync.client.list_conflicts": "a laptop's own outbox, read on the laptop (issue 11)",
    "services.sync.client.list_refused": "a laptop's own outbox, read on the laptop (issue 11)",
    "services.sync.client.resolve_conflict": "a laptop's own outbox, decided on the laptop (issue 11)",
    "services.sync.client.sync_status": "a laptop's own state, read on the laptop (issue 11)",
    "services.sync.client.withdraw_refused": "a laptop's own outbox, decided on the laptop (issue 11)",
    "services.sync.server.pushing_device": "called by POST /api/sync/push first (its row names apply_operations, "
                                           "which it hands the device to)",
}


def test_every_service_function_is_an_endpoint_or_left_out_on_purpose():
    from tests.service_cases import CASES

    def name(function) -> str:
        return f"{function.__module__}.{function.__name__}"

    exposed = {name(row.service) for row in ENDPOINTS if row.service is not None}
    missing = sorted({name(case.function) for case in CASES} - exposed - set(LEFT_OUT))
    assert not missing, ("services without an endpoint: add a row to api.routes.ENDPOINTS (and its sample here), or "
                         f"say in LEFT_OUT why the API leaves it out: {missing}")
