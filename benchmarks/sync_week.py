"""Benchmark (issue 11): syncing a laptop after a week offline — 200 sessions recorded and 20 earlier ones
corrected — next to the floor: the same bytes sent to a server over the same HTTPS and sent back, nothing else done.

The store: benchmarks/api_throughput.py's (the example programme plus 220 families followed by Claire Martin, each
oriented in the convention, so that every session is a new valid one). The server: `api.server.make_server` (uvicorn,
TLS from api.tls.generate_self_signed) in a child process, its change log installed (services.sync.changes) as
`serve` does. The laptop: a fresh SQLite copy connected with services.sync.client.connect (its first pull is not
timed); 20 sessions recorded and synced; then, offline, 200 sessions recorded and the 20 corrected through the
services (the outbox takes each write and its audit entry); then the measure: one client.sync_once — the pinned
certificate read, the push of every operation (batches of 100), the answers recorded, the pull of what changed and
its rows applied locally.

The floor: every HTTP exchange of that sync recorded (request and response bodies), then replayed against a second
child server (same uvicorn, same TLS) whose only work is to read the body and answer the recorded response: the
network, TLS, HTTP and the JSON bytes of the same sync, without the services, the database or the local copy.

    .venv/bin/python benchmarks/sync_week.py [--sessions 200] [--edits 20] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402

from api_throughput import TODAY, build_store, free_port  # noqa: E402
from api.tls import generate_self_signed  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402
from services import home_sessions, users  # noqa: E402
from services.directory import list_users  # noqa: E402
from services.permissions import SYSTEM  # noqa: E402
from services.sync import client  # noqa: E402
from services.uow import unit_of_work_factory  # noqa: E402

PASSWORD = "banc-essai-synchro"

SERVER = r'''
import sys
from datetime import date
sys.path.insert(0, sys.argv[1])
from api.app import build_app
from api.server import make_server
from models.db import head_revision, make_engine
from services.sync.changes import install_change_log
from services.uow import unit_of_work_factory

db, port, certfile, keyfile = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
engine = make_engine(db)
install_change_log(engine)
app = build_app(unit_of_work_factory(engine), schema_version=head_revision(), today=lambda: date(2025, 3, 20))
make_server(app, "127.0.0.1", port, certfile, keyfile).run()
'''

FLOOR = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from api.server import make_server

replies = [bytes.fromhex(h) for h in json.load(open(sys.argv[2]))]
port, certfile, keyfile = int(sys.argv[3]), sys.argv[4], sys.argv[5]

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:  # the body read whole, as the real server does
        message = await receive()
        more = message.get("more_body", False)
    index = int(dict(scope["headers"]).get(b"x-exchange", b"0"))
    body = replies[index] if index < len(replies) else b"{}"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

make_server(app, "127.0.0.1", port, certfile, keyfile).run()
'''


class Recording(httpx.BaseTransport):
    """Passes every request on and keeps (method, path, request body, response body)."""

    total_wait = 0.0  # seconds spent waiting for the server's answers, over the run

    def __init__(self, inner: httpx.BaseTransport, log: list):
        self.inner, self.log = inner, log

    def handle_request(self, request):
        start_at = time.perf_counter()
        response = self.inner.handle_request(request)
        body = response.read()
        Recording.total_wait += time.perf_counter() - start_at
        self.log.append((request.method, request.url.raw_path.decode(), request.read(), body))
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def close(self):
        self.inner.close()


def start(script: str, *args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", script, str(ROOT), *args[:1], str(port), *args[1:]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return process, port


def wait_for(process, url: str, verify) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/api/health", verify=verify, timeout=2)
            return
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"le serveur n'a pas démarré :\n{process.stderr.read()}")
            time.sleep(0.1)


def offline_week(laptop_uow, referent, family_ids, intervenant, sessions: int, edits: int) -> None:
    """Before the week: `edits` sessions recorded and synced; during it, `sessions` more, and those corrected."""
    day = TODAY - timedelta(days=3)
    earlier = [home_sessions.record_session(laptop_uow(), referent, home_sessions.SessionDraft(
        family_ids[n], intervenant, day - timedelta(days=7), 60, notes="Avant la semaine"), TODAY)
        for n in range(edits)]
    client.sync_once(laptop_uow)
    for n in range(sessions):
        home_sessions.record_session(laptop_uow(), referent, home_sessions.SessionDraft(
            family_ids[edits + n], intervenant, day, 60, notes="Séance de la semaine"), TODAY)
    for row in earlier:
        home_sessions.update_session(laptop_uow(), referent, row.id, home_sessions.SessionDraft(
            row.family_id, intervenant, row.date, 90, notes="Corrigée pendant la semaine"), TODAY)


def one_run(folder: Path, tls, sessions: int, edits: int) -> dict:
    db = str(folder / "server.sqlite")
    engine, uow, referent, family_ids, intervenant = build_store(db, sessions + edits)
    users.change_password(uow(), SYSTEM, "ref-martin", PASSWORD)
    engine.dispose()
    verify = ssl.create_default_context(cafile=str(tls.certfile))
    server, port = start(SERVER, db, str(tls.certfile), str(tls.keyfile))
    try:
        url = f"https://127.0.0.1:{port}"
        wait_for(server, url, verify)
        laptop_engine = make_engine(str(folder / "laptop.sqlite"))
        migrate(laptop_engine)
        laptop = unit_of_work_factory(laptop_engine)
        client.connect(laptop, url, "ref-martin", PASSWORD, tls.fingerprint)
        me = next(u for u in list_users(laptop()) if u.key == "ref-martin")
        offline_week(laptop, me, family_ids, intervenant, sessions, edits)
        exchanges: list = []
        Recording.total_wait = 0.0
        start_at = time.perf_counter()
        report = client.sync_once(laptop, wrap=lambda inner: Recording(inner, exchanges))
        synced = time.perf_counter() - start_at
        laptop_engine.dispose()
    finally:
        server.terminate()
        server.wait(timeout=30)
    replies = folder / "replies.json"
    replies.write_text(json.dumps([e[3].hex() for e in exchanges]))
    floor_server, floor_port = start(FLOOR, str(replies), str(tls.certfile), str(tls.keyfile))
    try:
        floor_url = f"https://127.0.0.1:{floor_port}"
        wait_for(floor_server, floor_url, verify)
        start_at = time.perf_counter()
        # one TLS connection, as the sync's
        with httpx.Client(base_url=floor_url, verify=verify, timeout=60) as raw:
            for index, (method, path, sent, _answer) in enumerate(exchanges):
                raw.request("POST", path.split("?")[0], content=sent,
                            headers={"x-exchange": str(index), "content-type": "application/json"}).read()
        floor = time.perf_counter() - start_at
    finally:
        floor_server.terminate()
        floor_server.wait(timeout=30)
    return {"sync": synced, "floor": floor, "waited": Recording.total_wait, "report": report, "exchanges": len(exchanges),
            "sent": sum(len(e[2]) for e in exchanges), "received": sum(len(e[3]) for e in exchanges)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs, each on a fresh server and laptop; best kept")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        tls = generate_self_signed(Path(tmp) / "tls")
        for n in range(args.repeat):
            folder = Path(tmp) / f"run-{n}"
            folder.mkdir()
            runs.append(one_run(folder, tls, args.sessions, args.edits))
    best = min(runs, key=lambda r: r["sync"])
    floor = min(r["floor"] for r in runs)
    r = best["report"]
    print(f"Synchronisation après une semaine hors ligne ({args.sessions} séances, {args.edits} corrections) :")
    print(f"  envoyées {r.pushed} opérations (appliquées {r.applied}, conflits {r.conflicts}, refus {r.refused}), "
          f"reçues {r.pulled} ; {best['exchanges']} échanges, {best['sent'] / 1024:.0f} Kio envoyés, "
          f"{best['received'] / 1024:.0f} Kio reçus")
    print(f"  sync_once            : {best['sync'] * 1000:8.0f} ms (meilleur de {len(runs)})")
    print(f"    dont attente des réponses du serveur : {best['waited'] * 1000:8.0f} ms")
    print(f"  plancher (mêmes octets, HTTPS seul) : {floor * 1000:8.0f} ms")
    print(f"  rapport              : {best['sync'] / floor:8.1f} ×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
