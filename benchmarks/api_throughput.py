"""Benchmark (issue 10): the team server's throughput and latency for « record a session » (POST /api/sessions) and
« read a family file » (GET /api/families/{id}) with 20 concurrent clients on this machine, next to the same service
call in-process (the floor).

The store: the example programme (tests/data/example_dataset.json) plus 3 × clients × requests families followed by
Claire Martin, each oriented in the convention, so that every session recorded is a new, valid one (a different family
each time: no rule refuses it, and the API and the two floors each get their own third of the families, so both write the
same rows to the same store).

The server: `api.server.make_server` (uvicorn, one process, TLS with a pair made by api.tls.generate_self_signed) in a
child process, so that the clients' threads do not share its interpreter; the server's clock is the programme's
(2025-03-20). Its access log is not written (the root logger has no handler here; `serve` writes one line per request
to its file). The clients: `--clients` threads, each with its own httpx.Client (one keep-alive TLS connection, the
certificate trusted as a desk pins it), `--requests` requests each, every response checked (201/200).

The floor: the same service functions (home_sessions.record_session, families.family_file) with the same arguments
and the same number of calls, in this process, on the same store, from the same number of threads (same
concurrency); and sequentially (one thread), for reference. The ratio is API ÷ floor (same concurrency): what HTTPS,
the device check (devices.device_user: the token's row read, and the device stamped as seen), JSON and uvicorn add.

SQLite (a temporary file) always; PostgreSQL as well when one can be had as the tests have it (tests/postgres.py:
`PARCOURS_TEST_POSTGRES`, else a throw-away cluster from initdb/pg_ctl), else said and skipped.

    .venv/bin/python benchmarks/api_throughput.py [--clients 20] [--requests 20] [--store sqlite|postgresql|both]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import select  # noqa: E402

from api.app import SCHEMA_HEADER  # noqa: E402
from api.tls import generate_self_signed  # noqa: E402
from models import Family, Intervenant  # noqa: E402
from models.db import head_revision, make_engine, migrate  # noqa: E402
from services import devices, families, home_sessions  # noqa: E402
from services.dataset import import_dataset, parse_json  # noqa: E402
from services.directory import list_users  # noqa: E402
from services.uow import unit_of_work_factory  # noqa: E402

TODAY = date(2025, 3, 20)
EXAMPLE = ROOT / "tests" / "data" / "example_dataset.json"

SERVER = r'''
import sys
from datetime import date
sys.path.insert(0, sys.argv[1])
from api.app import build_app
from api.server import make_server
from models.db import head_revision, make_engine
from services.uow import unit_of_work_factory

db, port, certfile, keyfile = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
engine = make_engine(db)
app = build_app(unit_of_work_factory(engine), schema_version=head_revision(), today=lambda: date(2025, 3, 20))
make_server(app, "127.0.0.1", port, certfile, keyfile).run()
'''


def build_store(db: str, count: int):
    """The example programme plus `count` families of the référent, oriented in the convention."""
    engine = make_engine(db)
    migrate(engine)
    uow = unit_of_work_factory(engine)
    data = parse_json(EXAMPLE.read_bytes())
    import_dataset(uow(), data)
    extra = {"format": "parcours-dataset/1",
             "families": [{"key": f"B{n}", "name": f"Famille Banc {n}", "commune": "Bourg-en-Bresse",
                           "referent": "ref-martin"} for n in range(count)],
             "orientations": [{"key": f"OB{n}", "family": f"B{n}", "convention": "ap-2025", "eps_date": "2025-01-14",
                               "status": "validated", "decided_on": "2025-01-20", "decided_by": "coord-durand"}
                              for n in range(count)]}
    import_dataset(uow(), extra)
    with uow() as w:
        ids = {r.key: r.id for r in w.session.scalars(select(Family)) if r.key.startswith("B")}
        intervenant = w.session.scalar(select(Intervenant.id).where(Intervenant.key == "i-aes"))
    referent = {u.key: u for u in list_users(uow())}["ref-martin"]
    return engine, uow, referent, [ids[f"B{n}"] for n in range(count)], intervenant


def sessions_for(family_ids: list[str], intervenant: str) -> list[dict]:
    day = TODAY - timedelta(days=2)
    return [{"family_id": f, "intervenant_id": intervenant, "date": day.isoformat(), "start_time": "14:00",
             "duration_minutes": 60, "referent_present": True, "notes": "Séance du banc d'essai"}
            for f in family_ids]


def draft_of(body: dict) -> home_sessions.SessionDraft:
    return home_sessions.SessionDraft(
        family_id=body["family_id"], intervenant_id=body["intervenant_id"], date=date.fromisoformat(body["date"]),
        start_time=time_of(body["start_time"]), duration_minutes=body["duration_minutes"], status="held",
        referent_present=body["referent_present"], children_present=None, notes=body["notes"])


def time_of(text: str):
    from datetime import time as clock_time
    hours, minutes = map(int, text.split(":"))
    return clock_time(hours, minutes)


def run_concurrently(work: list, clients: int, call) -> tuple[float, list[float]]:
    """`work` split into `clients` equal shares, each run by its own thread through `call(share_index, item)`;
    (elapsed seconds, each call's latency)."""
    shares = [work[i::clients] for i in range(clients)]
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def worker(index: int):
        mine = []
        barrier.wait()
        for item in shares[index]:
            start = time.perf_counter()
            call(index, item)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(worker, i) for i in range(clients)]
        barrier.wait()
        start = time.perf_counter()
        for f in futures:
            f.result()
        elapsed = time.perf_counter() - start
    return elapsed, latencies


def summary(elapsed: float, latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return {"rps": len(ordered) / elapsed, "p50": statistics.median(ordered) * 1000, "p95": p95 * 1000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_store(name: str, db: str, clients: int, requests: int, tls) -> list[tuple]:
    total = clients * requests
    engine, uow, referent, family_ids, intervenant = build_store(db, 3 * total)
    api_families, concurrent, sequential = family_ids[:total], family_ids[total:2 * total], family_ids[2 * total:]
    token = devices.enrol_device(uow(), referent, "Poste du banc d'essai").token
    engine.dispose()
    rows = []

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ROOT), db, str(port), str(tls.certfile),
                               str(tls.keyfile)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"https://127.0.0.1:{port}"
        verify = __import__("ssl").create_default_context(cafile=str(tls.certfile))
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/api/health", verify=verify, timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"le serveur n'a pas démarré :\n{server.stderr.read()}")
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}", SCHEMA_HEADER: head_revision()}
        http = [httpx.Client(base_url=url, verify=verify, headers=headers, timeout=60) for _ in range(clients)]
        for c in http:  # each client's connection opened (TLS handshake) before the clock starts, as a desk's is
            c.get("/api/health").raise_for_status()

        def post(i, body):
            r = http[i].post("/api/sessions", json=body)
            if r.status_code != 201:
                raise SystemExit(f"POST /api/sessions : {r.status_code} {r.text[:300]}")

        def read(i, family_id):
            r = http[i].get(f"/api/families/{family_id}")
            if r.status_code != 200:
                raise SystemExit(f"GET /api/families : {r.status_code} {r.text[:300]}")

        api_post = summary(*run_concurrently(sessions_for(api_families, intervenant), clients, post))
        api_read = summary(*run_concurrently(api_families, clients, read))
        for c in http:
            c.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    engine = make_engine(db)
    uow = unit_of_work_factory(engine)

    def record(_i, body):
        home_sessions.record_session(uow(), referent, draft_of(body), TODAY)

    def open_file(_i, family_id):
        families.family_file(uow(), referent, family_id, TODAY)

    floor_post = summary(*run_concurrently(sessions_for(concurrent, intervenant), clients, record))
    floor_read = summary(*run_concurrently(concurrent, clients, open_file))
    seq_post = summary(*run_concurrently(sessions_for(sequential, intervenant), 1, record))
    seq_read = summary(*run_concurrently(sequential, 1, open_file))
    engine.dispose()
    for what, api, floor, seq, n in (("record a session", api_post, floor_post, seq_post, total),
                                     ("read a family file", api_read, floor_read, seq_read, total)):
        rows.append((name, what, n, api, floor, seq))
    return rows


def postgres_url():
    """A new database on the tests' PostgreSQL (tests/postgres.py), and how to stop it; None when there is none."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    sys.path.insert(0, str(ROOT))
    from tests import postgres

    cluster = None
    if os.environ.get(postgres.ENV_URL):
        admin = make_url(os.environ[postgres.ENV_URL])
        origin = postgres.ENV_URL
    else:
        binaries = postgres.find_server_binaries()
        if binaries is None:
            return None, "initdb/pg_ctl introuvables et PARCOURS_TEST_POSTGRES non défini", None
        cluster = postgres._Cluster(binaries)
        admin = cluster.start()
        origin = f"cluster temporaire ({binaries})"
    name = f"bench_{os.getpid()}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))

    def stop():
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
        if cluster is not None:
            cluster.stop()

    return admin.set(database=name).render_as_string(hide_password=False), origin, stop


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20, help="requests per client and per endpoint")
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.requests < 1:
        parser.error("--clients et --requests : au moins 1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="parcours-bench-api-") as folder:
        tls = generate_self_signed(Path(folder) / "tls")
        if args.store in ("sqlite", "both"):
            rows += bench_store("SQLite", str(Path(folder) / "banc.sqlite"), args.clients, args.requests, tls)
        if args.store in ("postgresql", "both"):
            url, origin, stop = postgres_url()
            if url is None:
                print(f"PostgreSQL : ignoré ({origin})")
            else:
                try:
                    rows += bench_store("PostgreSQL", url, args.clients, args.requests, tls)
                finally:
                    stop()
    print(f"{args.clients} clients × {args.requests} requests per endpoint; {os.cpu_count()} CPU; "
          f"floor = the same service call in-process, same {args.clients} threads (sequential: 1 thread)")
    print(f"{'store':<11}{'endpoint':<20}{'n':>5}  {'API req/s':>9} {'p50 ms':>7} {'p95 ms':>7}  "
          f"{'floor req/s':>11} {'p50 ms':>7} {'p95 ms':>7}  {'seq req/s':>9}  {'ratio req/s':>11} {'ratio p95':>9}")
    for store, what, n, api, floor, seq in rows:
        print(f"{store:<11}{what:<20}{n:>5}  {api['rps']:>9.1f} {api['p50']:>7.1f} {api['p95']:>7.1f}  "
              f"{floor['rps']:>11.1f} {floor['p50']:>7.1f} {floor['p95']:>7.1f}  {seq['rps']:>9.1f}  "
              f"{api['rps'] / floor['rps']:>11.2f} {api['p95'] / floor['p95']:>9.2f}")


if __name__ == "__main__":
    main()
