"""Benchmark (issue 11): a référent's first pull of their whole scope from a team server holding 1,000 families × 5
years, next to a raw transfer of the same rows (the floor).

The store: benchmarks/billing_statement.py's programme (1,000 families, a weekly session each for five years, an
orientation each), its families shared among `--referents` référents (so one référent follows 1,000 ÷ N families),
written through Core; then the server's change log is installed (services.sync.changes.install_change_log numbers
every record already there: timed and printed, it is paid once when a store becomes a server).

The measure: services.sync.server.changes_after from cursor 0, page after page (`--page` changes each) until `more`
is false, each page turned into the JSON the API sends (api.sync_routes.pull_body) — what GET /api/sync/pull does minus
HTTPS. The floor: the same rows (the référent's families and their sessions, orientations; the reference tables),
read with one SELECT per table and dumped as JSON, nothing else. Prints both, the rows and bytes, and the ratio.

SQLite (a temporary file) by default; `--store postgresql|both` on the tests' PostgreSQL or a throw-away cluster
(benchmarks/api_throughput.postgres_url), else said and skipped.

    .venv/bin/python benchmarks/sync_pull.py [--families 1000] [--years 5] [--referents 10] [--page 5000]
        [--store sqlite|postgresql|both]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert, select, update  # noqa: E402

from api.sync_routes import pull_body  # noqa: E402
from billing_statement import build  # noqa: E402
from models import Family, User  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402
from services.permissions import CurrentUser  # noqa: E402
from services.sync.changes import RULES, install_change_log, models_by_table  # noqa: E402
from services.sync.server import changes_after  # noqa: E402
from services.uow import unit_of_work_factory  # noqa: E402


def share_families(engine, referents: int) -> CurrentUser:
    """`referents` référent accounts, the families dealt among them in turn; the first référent."""
    now = datetime.now(timezone.utc)
    users = [{"id": str(uuid.uuid4()), "key": f"ref-{n:02d}", "name": f"Référent {n}", "role": "referent",
              "active": True, "failed_logins": 0, "created_at": now, "updated_at": now} for n in range(referents)]
    with engine.begin() as conn:
        conn.execute(insert(User), users)
        families = conn.execute(select(Family.id).order_by(Family.key)).scalars().all()
        for n, user in enumerate(users):
            conn.execute(update(Family).where(Family.id.in_(families[n::referents])).values(referent_id=user["id"]))
    first = users[0]
    return CurrentUser(first["id"], first["key"], first["name"], "referent")


def first_pull(uow, user: CurrentUser, page: int) -> tuple[int, int]:
    """(changes, bytes) of the whole first pull, page after page as the API sends them."""
    after, count, size = 0, 0, 0
    while True:
        result = changes_after(uow(), user, after, page)
        size += len(pull_body(result))
        count += len(result.changes)
        after = result.next
        if not result.more:
            return count, size


def raw_transfer(engine, user: CurrentUser) -> tuple[int, int]:
    """The floor: the same rows read by one SELECT per table and dumped as JSON."""
    from models import Child

    models = models_by_table()
    count, size = 0, 0
    with engine.connect() as conn:
        followed = select(Family.id).where(Family.referent_id == user.id)
        for name, rule in RULES.items():
            if "referent" not in rule.readers:
                continue
            table = models[name].__table__
            query = select(*[c for c in table.columns if c.name not in rule.hidden])
            if rule.scoped:
                family = table.c.id if name == "family" else (
                    select(Child.family_id).where(Child.id == table.c.child_id).scalar_subquery()
                    if name == "parcours" else table.c.family_id)
                query = query.where(family.in_(followed))
            rows = [dict(row) for row in conn.execute(query).mappings()]
            size += len(json.dumps(rows, default=str, ensure_ascii=False))
            count += len(rows)
    return count, size


def timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def run(url: str, args) -> None:
    engine = make_engine(url)
    migrate(engine)
    build(engine, args.families, args.years)
    user = share_families(engine, args.referents)
    seeded, _ = timed(lambda: install_change_log(engine))
    uow = unit_of_work_factory(engine)
    print(f"  change log installed (every record numbered once): {seeded:.2f} s")
    pulls, floors = [], []
    for _ in range(args.repeat):
        spent, (changes, size) = timed(lambda: first_pull(uow, user, args.page))
        pulls.append(spent)
        spent, (rows, raw_size) = timed(lambda: raw_transfer(engine, user))
        floors.append(spent)
    pull, floor = min(pulls), min(floors)
    print(f"  first pull of {user.key} ({args.families // args.referents} families): {changes:,} changes, "
          f"{size / 1e6:.1f} Mo of JSON in {pull:.2f} s (pages of {args.page})")
    print(f"  raw transfer of the same rows (SELECT + JSON): {rows:,} rows, {raw_size / 1e6:.1f} Mo in {floor:.2f} s")
    print(f"  ratio: {pull / floor:.1f}× the floor (best of {args.repeat})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--referents", type=int, default=10)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args()
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            print(f"SQLite, {args.families} families × {args.years} years:")
            run(str(Path(folder) / "server.sqlite"), args)
    if args.store in ("postgresql", "both"):
        from api_throughput import postgres_url  # the tests' PostgreSQL, or a throw-away cluster

        url, origin, stop = postgres_url()
        if url is None:
            print(f"PostgreSQL: skipped ({origin})")
            return
        try:
            print(f"PostgreSQL ({origin}), {args.families} families × {args.years} years:")
            run(url, args)
        finally:
            stop()


if __name__ == "__main__":
    main()
