"""Issue 10: eight client PROCESSES against one real server (uvicorn over TLS on 127.0.0.1, self-signed by api.tls) at
once, bounded loops: three administrators issue the next month of the example convention (they race for the same
number; « déjà émis » and « encore un projet » are the expected refusals), four référents/coordinators record sessions
in the very months being issued (each session marks its months for the statements' régularisations: the rows the issue
locks), and a coordinator imports small datasets (a new family, its orientation and a session: marks from its month
onward, for every convention). Each process enrols its own device first (the login, argon2id, audited).

Then: no 5xx at all; every acknowledged session, family and statement is in the database; the statement numbers are
exactly 1..N for the convention, in month order, without a gap or a duplicate, N being the acknowledged issues; every
month the loops got to is issued once; the server's log holds no traceback; and, on PostgreSQL, no connection is left
idle in a transaction or waiting on a lock (pg_stat_activity, pg_locks). On PostgreSQL (tests/postgres.py) and on a
SQLite file (one writer at a time: the others wait on its lock, and must never be answered 503 within the bound)."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from api.app import build_app
from models.db import head_revision, make_engine, migrate
from services import users
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory
from tests.api_server.conftest import start_server, stop_server
from tests.programme_fixture import load_example
from tests.service_cases import PASSWORD, TODAY

ROUNDS = 10  # iterations of each process
ISSUE_ATTEMPTS = 40  # an issuer's bound: tries, each month until issued (by itself or another)
CONVENTION = "ap-2025"
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]  # the example convention's period
TIMEOUT_S = 120

# The client of one process: httpx only (no Parcours import), so that it is what a desk would send. Prints one JSON
# line per request: what it did, the status and the answer.
CLIENT = r'''
import json, sys, time
import httpx

url, cafile, schema, role, account, rounds, attempts, params = sys.argv[1:9]
rounds, attempts, params = int(rounds), int(attempts), json.loads(params)

def out(op, response, **extra):
    try:
        body = response.json()
    except ValueError:
        body = response.text
    print(json.dumps({"role": role, "op": op, "status": response.status_code, "body": body, **extra}), flush=True)
    return body

with httpx.Client(base_url=url, verify=cafile, timeout=60) as client:
    enrolled = client.post("/api/enrol", json={"user": account, "password": params["password"],
                                               "device_label": f"Poste {role}"})
    body = out("enrol", enrolled)
    if enrolled.status_code != 201:
        sys.exit(3)
    headers = {"Authorization": f"Bearer {body['token']}", "X-Parcours-Schema": schema}
    if role.startswith("issuer"):
        months, i, tries = params["months"], 0, 0
        while i < len(months) and tries < attempts:
            tries += 1
            r = client.post(f"/api/statements/{params['convention']}/{months[i]}/issue", headers=headers)
            answer = out("issue", r, month=months[i])
            message = answer.get("message", "") if isinstance(answer, dict) else ""
            if r.status_code == 201 or "déjà émis" in message:
                i += 1
            else:
                time.sleep(0.02)  # an earlier month is still a draft: its issuer is at work
    elif role.startswith("recorder"):
        for n, session in enumerate(params["sessions"][:rounds]):
            r = client.post("/api/sessions", headers=headers, json=session)
            out("session", r, sent=session)
            if n % 3 == 0:
                out("read", client.get(f"/api/families/{session['family_id']}", headers=headers))
    else:  # the importer
        for n, dataset in enumerate(params["datasets"][:rounds]):
            out("import", client.post("/api/dataset/import", headers=headers, json=dataset), family=dataset["families"][0]["key"])
'''


class LogRecords(logging.Handler):
    """Every record of the server's loggers (uvicorn's and parcours.api) while the processes run."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _sessions(programme, recorder: int) -> list[dict]:
    """ROUNDS sessions of one recorder: distinct days (recorder, round) from early January to TODAY, one family a
    day, in the months the issuers are issuing."""
    families = [programme.family["F1"], programme.family["F2"]]
    intervenants = [programme.intervenant["i-aes"], programme.intervenant["i-tisf"]]
    first = date(2025, 1, 6)
    span = (TODAY - first).days
    found = []
    for n in range(ROUNDS):
        slot = n * 4 + recorder
        day = first + timedelta(days=(slot * 37) % span)
        found.append({"family_id": families[slot % 2], "intervenant_id": intervenants[slot % 2],
                      "date": day.isoformat(), "start_time": f"{8 + recorder * 2 + n % 2:02d}:00",
                      "duration_minutes": 60, "referent_present": bool(n % 2),
                      "notes": f"Séance concurrente {recorder}-{n}"})
    return found


def _datasets() -> list[dict]:
    """ROUNDS small files, each a new family with its orientation in the convention and a held session."""
    found = []
    for n in range(ROUNDS):
        key = f"IMP{n}"
        found.append({
            "format": "parcours-dataset/1",
            "families": [{"key": key, "name": f"Famille Importée {n}", "commune": "Bourg-en-Bresse",
                          "referent": "ref-martin"}],
            "orientations": [{"key": f"O-{key}", "family": key, "convention": CONVENTION, "eps_date": "2025-01-14",
                              "status": "validated", "decided_on": "2025-01-20", "decided_by": "coord-durand"}],
            "sessions": [{"key": f"S-{key}", "family": key, "intervenant": "i-aes",
                          "date": f"2025-0{1 + n % 3}-{10 + n:02d}", "start_time": "16:00", "duration_minutes": 60,
                          "status": "held", "referent_present": True, "approved_exception": False}]})
    return found


PROCESSES = (  # (role, account): eight processes
    ("issuer-1", "admin-petit"), ("issuer-2", "admin-second"), ("issuer-3", "admin-troisieme"),
    ("recorder-0", "ref-martin"), ("recorder-1", "ref-martin"), ("recorder-2", "coord-durand"),
    ("recorder-3", "coord-durand"), ("importer", "coord-durand"),
)


def _run_processes(url: str, certfile, programme, tmp_path: Path) -> list[dict]:
    client = tmp_path / "client.py"
    client.write_text(CLIENT, encoding="utf-8")
    datasets = _datasets()
    jobs = []
    for role, account in PROCESSES:
        params = {"password": PASSWORD, "convention": CONVENTION, "months": MONTHS}
        if role.startswith("recorder"):
            params["sessions"] = _sessions(programme, int(role.rsplit("-", 1)[1]))
        elif role == "importer":
            params["datasets"] = datasets
        jobs.append(subprocess.Popen(
            [sys.executable, str(client), url, str(certfile), head_revision(), role, account, str(ROUNDS),
             str(ISSUE_ATTEMPTS), json.dumps(params)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}))
    calls = []
    deadline = time.monotonic() + TIMEOUT_S
    for job, (role, _account) in zip(jobs, PROCESSES):
        out, err = job.communicate(timeout=max(1, deadline - time.monotonic()))
        assert job.returncode == 0, (role, err[-3000:])
        calls += [json.loads(line) for line in out.splitlines()]
    return calls


# Found by this test (issue 10): on PostgreSQL an issue and a session (or an import) deadlocked, one of them answered
# 503 — the issue's FOR UPDATE on the convention against the KEY SHARE a new billing_change_mark row's foreign key
# takes, while each held mark rows the other wanted. Now: FOR NO KEY UPDATE in _lock_series, the marks locked in the
# order mark() upserts them, and the API runs a deadlock's victim again (api.app._retrying); this test holds it.


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = str(tmp_path / "commune.sqlite")
    engine = make_engine(url)
    migrate(engine)
    uow = unit_of_work_factory(engine)
    programme = load_example(uow)
    for account in ("ref-martin", "coord-durand", "admin-petit"):
        users.change_password(uow(), SYSTEM, account, PASSWORD)
    for account in ("admin-second", "admin-troisieme"):
        users.add_user(uow(), SYSTEM, account, "administrator", PASSWORD)
    yield request.param, engine, uow, programme
    engine.dispose()


def test_eight_processes_issue_record_and_import_at_once_without_a_5xx_a_loss_a_gap_or_a_lock_left(
        store, tls_pair, tmp_path):
    backend, engine, uow, programme = store
    captured = LogRecords()
    root = logging.getLogger()
    root.addHandler(captured)
    server, thread, url = start_server(build_app(uow, schema_version=head_revision(), today=lambda: TODAY), tls_pair)
    try:
        calls = _run_processes(url, tls_pair.certfile, programme, tmp_path)
        leftover = _activity(engine) if backend == "postgresql" else ([], [])
    finally:
        stop_server(server, thread)
        root.removeHandler(captured)

    by_op = {op: [c for c in calls if c["op"] == op] for op in ("enrol", "issue", "session", "read", "import")}
    assert [c["status"] for c in by_op["enrol"]] == [201] * len(PROCESSES)
    assert not [c for c in calls if c["status"] >= 500], [c for c in calls if c["status"] >= 500][:3]
    assert {c["status"] for c in by_op["read"]} == {200}

    # statements: each acknowledged issue stored under its number, numbers 1..N in month order, no gap, no duplicate
    issued = {c["month"]: c["body"]["number"] for c in by_op["issue"] if c["status"] == 201}
    for refused in (c for c in by_op["issue"] if c["status"] != 201):
        assert refused["status"] == 409 and ("déjà émis" in refused["body"]["message"]
                                             or "encore un projet" in refused["body"]["message"]), refused
    assert len(issued) == len([c for c in by_op["issue"] if c["status"] == 201])  # no month acknowledged twice
    assert issued, "no statement was issued"
    with engine.connect() as conn:
        stored = conn.execute(text(
            "SELECT s.month, s.sequence, s.number FROM statement s JOIN convention c ON c.id = s.convention_id "
            "WHERE c.key = :k ORDER BY s.sequence"), {"k": CONVENTION}).all()
    assert [tuple(r) for r in stored] == [(m, i + 1, f"{CONVENTION}-{i + 1:03d}")
                                          for i, m in enumerate(MONTHS[:len(stored)])]
    assert issued == {m: n for m, _s, n in stored}
    assert len(stored) == len(MONTHS)  # 3 issuers × ISSUE_ATTEMPTS tries get through the convention's year

    # sessions: every acknowledged one is there, as sent; a refusal is a rule's (422), never a lost write
    recorded = [c for c in by_op["session"] if c["status"] == 201]
    for refused in (c for c in by_op["session"] if c["status"] != 201):
        assert refused["status"] == 422, refused
    assert len(recorded) >= len(by_op["session"]) // 2, [c["body"] for c in by_op["session"] if c["status"] != 201][:3]
    with engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(text("SELECT key, date, notes FROM home_session"))}
    for call in recorded:
        row = rows[call["body"]["key"]]
        assert (str(row.date), row.notes) == (call["sent"]["date"], call["sent"]["notes"])

    # imports: all acknowledged, each family and its session stored
    assert [c["status"] for c in by_op["import"]] == [201] * ROUNDS, [c["body"] for c in by_op["import"]][:3]
    with engine.connect() as conn:
        families = {r[0] for r in conn.execute(text("SELECT key FROM family"))}
    assert {c["family"] for c in by_op["import"]} <= families
    assert {f"S-{c['family']}" for c in by_op["import"]} <= set(rows)

    # the server: no traceback, no error logged; PostgreSQL: nothing left in a transaction or waiting on a lock
    assert not [r for r in captured.records if r.exc_info or r.levelno >= logging.ERROR], [
        (r.name, r.getMessage()) for r in captured.records if r.exc_info or r.levelno >= logging.ERROR][:3]
    idle_in_transaction, waiting = leftover
    assert idle_in_transaction == [] and waiting == []


def _activity(engine) -> tuple[list, list]:
    """The server's connections to this database left inside a transaction, and the locks not granted."""
    with engine.connect() as conn:
        conn.rollback()
        idle = conn.execute(text(
            "SELECT pid, state, wait_event_type, left(query, 80) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (state LIKE 'idle in transaction%' OR wait_event_type = 'Lock')")).all()
        waiting = conn.execute(text("SELECT locktype, mode, pid FROM pg_locks WHERE NOT granted")).all()
    return [tuple(r) for r in idle], [tuple(r) for r in waiting]
