"""The API on PostgreSQL, the team server's store of record: enrolment, a session recorded, a statement issued, a
convention, an avenant, an account and a spreadsheet written over TLS, each with its audit row, on a database
migrated by models.db.migrate (tests/postgres.py gives each test a fresh one; without PostgreSQL they are skipped
with « PostgreSQL absent : … »)."""
from __future__ import annotations

import base64
import json

import httpx
import pytest
from sqlalchemy import text

from api.app import SCHEMA_HEADER, build_app
from models.db import head_revision, make_engine, migrate
from services import users
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory
from tests.api_server.conftest import start_server, stop_server, trusting
from tests.programme_fixture import load_example
from tests.service_cases import PASSWORD, TODAY


class TestApiOnPostgreSQL:
    @pytest.fixture
    def pg(self, postgres_url, tls_pair):
        engine = make_engine(postgres_url)
        assert engine.dialect.name == "postgresql"
        migrate(engine)
        uow = unit_of_work_factory(engine)
        programme = load_example(uow)
        for account in ("ref-martin", "coord-durand", "admin-petit"):
            users.change_password(uow(), SYSTEM, account, PASSWORD)
        server, thread, url = start_server(build_app(uow, schema_version=head_revision(), today=lambda: TODAY),
                                           tls_pair)
        try:
            with httpx.Client(base_url=url, verify=trusting(tls_pair.certfile), timeout=30) as client:
                yield engine, programme, client
        finally:
            stop_server(server, thread)
            engine.dispose()

    @staticmethod
    def enrolled(client, user: str) -> dict:
        response = client.post("/api/enrol", json={"user": user, "password": PASSWORD, "device_label": f"Poste {user}"})
        assert response.status_code == 201, response.json()
        return {"Authorization": f"Bearer {response.json()['token']}", SCHEMA_HEADER: head_revision()}

    @staticmethod
    def audit(engine, action: str) -> list[tuple]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT actor_key, record_type, record_key, changed_fields FROM audit_log WHERE action = :a "
                "ORDER BY seq"), {"a": action})]

    def test_enrolment_gives_a_working_token_and_a_revoked_one_is_refused(self, pg):
        engine, _programme, client = pg
        referent, administrator = self.enrolled(client, "ref-martin"), self.enrolled(client, "admin-petit")
        assert client.post("/api/enrol", json={"user": "ref-martin", "password": "faux", "device_label": "X"}
                           ).status_code == 401
        assert client.get("/api/families", headers=referent).status_code == 200
        [device] = [d for d in client.get("/api/devices", headers=administrator).json()
                    if d["user_key"] == "ref-martin"]
        assert client.post(f"/api/devices/{device['key']}/revoke", headers=administrator).status_code == 200
        assert client.get("/api/families", headers=referent).status_code == 401
        assert [r[:3] for r in self.audit(engine, "revoke")] == [("admin-petit", "device", device["key"])]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM device")).scalar() == 2

    def test_a_session_is_recorded_over_the_api(self, pg):
        engine, programme, client = pg
        referent = self.enrolled(client, "ref-martin")
        response = client.post("/api/sessions", headers=referent, json={
            "family_id": programme.family["F1"], "intervenant_id": programme.intervenant["i-aes"],
            "date": "2025-03-18", "duration_minutes": 60, "referent_present": True, "notes": "Séance calme"})
        assert response.status_code == 201, response.json()
        key = response.json()["key"]
        assert [r[:3] for r in self.audit(engine, "create") if r[1] == "home_session"] == [
            ("ref-martin", "home_session", key)]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT notes FROM home_session WHERE key = :k"), {"k": key}).scalar() == \
                "Séance calme"

    def test_statements_are_issued_in_order_over_the_api(self, pg):
        engine, _programme, client = pg
        administrator = self.enrolled(client, "admin-petit")
        issued = client.post("/api/statements/ap-2025/2025-01/issue", headers=administrator)
        assert issued.status_code == 201, issued.json()
        assert issued.json()["number"] == "ap-2025-001"
        assert client.post("/api/statements/ap-2025/2025-03/issue", headers=administrator).status_code == 409
        assert client.post("/api/statements/ap-2025/2025-02/issue", headers=administrator).json()["number"] == \
            "ap-2025-002"
        read = client.get("/api/statements/ap-2025/2025-01", headers=administrator).json()
        assert read["status"] == "issued" and read["total"] == issued.json()["total"]
        fields = json.dumps(["convention_id", "month", "number", "payload", "pdf", "sequence", "total"])
        assert self.audit(engine, "issue") == [("admin-petit", "statement", "ap-2025-001", fields),
                                               ("admin-petit", "statement", "ap-2025-002", fields)]

    def test_a_convention_an_avenant_an_account_and_a_sheet_are_written_over_the_api(self, pg):
        engine, _programme, client = pg
        administrator, coordinator = self.enrolled(client, "admin-petit"), self.enrolled(client, "coord-durand")
        created = client.post("/api/conventions", headers=administrator, json={
            "key": "AS-2026", "partner": "adom", "action": "Accompagnement scolaire", "start": "2026-01-01",
            "end": "2026-12-31", "tariffs": [{"qualification": "AES", "kind": "home_intervention",
                                              "unit_price": "31.50"}]})
        assert created.status_code == 201, created.json()
        avenant = client.post("/api/conventions/AS-2026/amendments", headers=administrator, json={
            "start": "2026-07-01", "tariffs": [{"qualification": "AES", "kind": "home_intervention",
                                                "unit_price": "32.00"}]})
        assert avenant.status_code == 201, avenant.json()
        account = client.post("/api/accounts", headers=administrator, json={
            "key": "nouvelle", "role": "referent", "password": PASSWORD, "name": "Nouvelle Référente"})
        assert account.status_code == 201, account.json()
        sheet = "Nom;Prénom;DDN;Commune\nRoux;Jade;01/01/2015;Bourg-en-Bresse\n".encode("utf-8")
        imported = client.post("/api/sheets/import", headers=coordinator, json={
            "file_name": "equipe.csv", "content": base64.b64encode(sheet).decode("ascii")})
        assert imported.status_code == 201 and imported.json()["written"] is True, imported.json()
        assert [r[:3] for r in self.audit(engine, "create") if r[1] in ("convention", "user")] == [
            ("admin-petit", "convention", "AS-2026"), ("admin-petit", "user", "nouvelle")]
        assert [r[:2] for r in self.audit(engine, "import") if r[1] == "sheet"] == [("coord-durand", "sheet")]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tariff_amendment")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM child WHERE first_name = 'Jade'")).scalar() == 1
