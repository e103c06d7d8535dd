"""Benchmark: import and export of a `parcours-dataset/1` file of 300,000 home sessions, next to their floors.

Writes a dataset of N sessions (default 300,000: 3,000 families followed for 5 years, 60 intervenants), then runs
each measure in a fresh process (its own peak memory, `ru_maxrss`):

- import: `main.py --db … import FILE` into an empty migrated store (the real path: read, check, store, warn,
  audit, commit);
- floor of the import: the same file read with `json.loads`, then the same rows of users, partners, intervenants,
  families and sessions inserted by a raw `executemany` (tuples, keys mapped to ids, no check) into the same schema
  through the same engine and pragmas, in one transaction;
- export: `main.py --db … export OUT` of the store the import made;
- floor of the export: the session rows read by a raw cursor and written as JSON, one `json.dumps` per row.

Prints each figure beside its floor and the ratio.

    .venv/bin/python benchmarks/import_export.py [--sessions 300000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IMPORT_RATIO_TARGET, IMPORT_MB_TARGET, EXPORT_MB_TARGET = 3.0, 800, 600


def build_dataset(sessions: int, seed: int = 12) -> dict:
    """A programme of `sessions` home sessions, 100 per family, weekly over about two years, 5 years of families."""
    rng = random.Random(seed)
    families = max(1, sessions // 100)
    start = date(2021, 1, 4)
    users = ([{"key": f"ref-{n}", "name": f"Référente {n}", "role": "referent"} for n in range(8)]
             + [{"key": "coord", "name": "Coordinatrice", "role": "coordinator"},
                {"key": "admin", "name": "Administrateur", "role": "administrator"}])
    tariffs = {q: {"home_intervention": p, "weekly_preparation": "15.00", "launch_meeting": p,
                   "period_end_meeting": p} for q, p in (("AES", "30.00"), ("TISF", "56.13"))}
    data = {
        "format": "parcours-dataset/1",
        "programme": {"name": "DRE de mesure", "holiday_zone": "A", "eligible_communes": ["Bourg-en-Bresse"],
                      "city": "Bourg-en-Bresse"},
        "users": users,
        "partners": [{"key": "adom", "name": "Adom 01"}],
        "conventions": [{"key": "AP", "partner": "adom", "action": "Atout Plus", "start": "2021-01-01",
                         "end": "2025-12-31", "max_families": 5000, "budget_cap": None,
                         "period_end_months": [2, 4, 7, 10, 12], "budget_imputation": None, "tariffs": tariffs}],
        "intervenants": [{"key": f"I{n:02d}", "partner": "adom", "name": f"Intervenant·e {n}",
                          "qualification": "AES" if n % 2 else "TISF"} for n in range(60)],
        "families": [], "parcours": [], "orientations": [], "sessions": [], "meetings": [],
    }
    for f in range(families):
        first = start + timedelta(days=7 * (f % 150))
        data["families"].append({
            "key": f"F{f:05d}", "name": f"Famille {f}", "address": f"{f} rue des Lilas", "commune": "Bourg-en-Bresse",
            "priority_neighbourhood": f % 3 == 0, "referent": f"ref-{f % 8}", "consent_date": first.isoformat(),
            "consent_scope": "Atout Plus", "notes": None,
            "guardians": [{"name": f"Parent {f}", "relationship": "mère", "phone": "06 00 00 00 00"}],
            "children": [{"key": f"C{f:05d}-{c}", "first_name": f"Enfant {c}", "last_name": f"Famille {f}",
                          "birth_date": f"{2012 + c}-0{1 + f % 9}-1{c}", "sex": "F" if c else "M", "school": None,
                          "class": None} for c in range(2)]})
        data["parcours"].append({"key": f"P{f:05d}", "child": f"C{f:05d}-0", "referent": f"ref-{f % 8}",
                                 "status": "open", "start": first.isoformat(), "end": None,
                                 "objectives": "Confiance en soi", "exit_reason": None})
        data["orientations"].append({"key": f"O{f:05d}", "family": f"F{f:05d}", "convention": "AP",
                                     "eps_date": first.isoformat(), "status": "validated",
                                     "decided_on": first.isoformat(), "decided_by": "coord", "end": None,
                                     "reason": None})
    for n in range(sessions):
        f = n % families
        day = start + timedelta(days=7 * (f % 150) + 7 * (n // families) + f % 5)
        data["sessions"].append({
            "key": f"S{n:07d}", "family": f"F{f:05d}", "intervenant": f"I{f % 60:02d}", "date": day.isoformat(),
            "start_time": f"{9 + f % 8:02d}:00", "duration_minutes": 60, "status": "held" if n % 10 else "cancelled",
            "referent_present": n < families, "children_present": 1 + n % 2, "approved_exception": False,
            "approved_by": None, "notes": f"Séance {n} : lecture, devoirs" if rng.random() < 0.1 else None})
    for m in range(200):
        data["meetings"].append({"key": f"M{m:03d}", "convention": "AP", "kind": "launch" if m % 2 else "period_end",
                                 "date": (start + timedelta(days=9 * m)).isoformat(),
                                 "intervenants": [f"I{(m + k) % 60:02d}" for k in range(3)], "notes": None})
    return data


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries the parent's peak over a fork and
    exec into ru_maxrss, and the parent held the dataset it wrote."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, the best elsewhere


def cpu_seconds() -> float:
    """User and system time of this process: on a machine others share, the figure their load does not inflate."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def start() -> tuple[float, float]:
    return time.perf_counter(), cpu_seconds()


def since(started: tuple[float, float], **result) -> dict:
    """Wall and CPU seconds since `start()`, with `result`."""
    return {"seconds": time.perf_counter() - started[0], "cpu": cpu_seconds() - started[1], **result}


# -- what each child process measures ------------------------------------------------------------------------------

def child_import(db: str, file: str) -> dict:
    import main

    started = start()
    return since(started, status=main.main(["--db", db, "import", file]))


def child_export(db: str, file: str) -> dict:
    import main

    started = start()
    return since(started, status=main.main(["--db", db, "export", file]))


def child_import_floor(db: str, file: str) -> dict:
    import uuid
    from datetime import datetime, timezone

    from models.db import make_engine
    from services.dataset.importer import IMPORT_CACHE_KIB

    engine = make_engine(db)
    started = start()
    data = json.loads(Path(file).read_bytes())
    now = datetime.now(timezone.utc).isoformat(sep=" ")
    ids: dict[str, dict[str, str]] = {}

    def rows(section, make):
        mapping = ids.setdefault(section, {})
        out = []
        for r in data.get(section) or []:
            mapping[r["key"]] = new = str(uuid.uuid4())
            out.append((new, r["key"], now, now, *make(r)))
        return out

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")  # the import's own page cache: the same floor
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany("INSERT INTO app_user (id, key, created_at, updated_at, name, role, active, password_hash)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                           rows("users", lambda r: (r["name"], r["role"], r.get("active", True))))
        cursor.executemany("INSERT INTO partner (id, key, created_at, updated_at, name) VALUES (?, ?, ?, ?, ?)",
                           rows("partners", lambda r: (r["name"],)))
        cursor.executemany("INSERT INTO intervenant (id, key, created_at, updated_at, partner_id, name, qualification)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                           rows("intervenants", lambda r: (ids["partners"][r["partner"]], r["name"],
                                                           r["qualification"])))
        users = ids["users"]
        cursor.executemany(
            "INSERT INTO family (id, key, created_at, updated_at, name, address, commune, priority_neighbourhood,"
            " referent_id, consent_date, consent_scope, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows("families", lambda r: (r["name"], r["address"], r["commune"], r["priority_neighbourhood"],
                                        users.get(r["referent"]), r["consent_date"], r["consent_scope"], r["notes"])))
        families, intervenants = ids["families"], ids["intervenants"]
        cursor.executemany(
            "INSERT INTO home_session (id, key, created_at, updated_at, family_id, intervenant_id, date, start_time,"
            " duration_minutes, status, referent_present, children_present, approved_exception, approved_by_id,"
            " notes, exception_refused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            rows("sessions", lambda r: (families[r["family"]], intervenants[r["intervenant"]], r["date"],
                                        r["start_time"] and f"{r['start_time']}:00.000000", r["duration_minutes"],
                                        r["status"], r["referent_present"], r["children_present"],
                                        r["approved_exception"], users.get(r["approved_by"]), r["notes"])))
        cursor.execute("COMMIT")
    finally:
        raw.close()
    return since(started, status=0, rows=len(data["sessions"]))


def child_export_floor(db: str, file: str) -> dict:
    import sqlite3

    started = start()
    with sqlite3.connect(db) as conn, open(file, "w", encoding="utf-8") as out:
        cursor = conn.execute("SELECT s.key, f.key, i.key, s.date, s.start_time, s.duration_minutes, s.status,"
                              " s.referent_present, s.children_present, s.approved_exception, s.notes"
                              " FROM home_session s JOIN family f ON f.id = s.family_id"
                              " JOIN intervenant i ON i.id = s.intervenant_id ORDER BY s.date, s.start_time, s.key")
        names = ("key", "family", "intervenant", "date", "start_time", "duration_minutes", "status",
                 "referent_present", "children_present", "approved_exception", "notes")
        for row in cursor:
            out.write(json.dumps(dict(zip(names, row)), ensure_ascii=False, indent=2))
            out.write(",\n")
    conn.close()
    return since(started, status=0)


CHILDREN = {"import": child_import, "export": child_export, "import-floor": child_import_floor,
            "export-floor": child_export_floor}


def run_child(kind: str, db: str, file: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, db, file], capture_output=True, text=True,
                          env={**os.environ, "XDG_STATE_HOME": str(Path(db).parent / "state")})
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] != 0:
        raise SystemExit(f"{kind} refused:\n{done.stderr[-4000:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300_000)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "DB", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, db, file = args.child
        import io
        import contextlib

        with contextlib.redirect_stdout(io.StringIO()):  # the command's own summary is not the measure
            result = CHILDREN[kind](db, file)
        print(json.dumps({**result, "peak_mb": peak_mb()}))
        return

    from models.db import make_engine, migrate

    with tempfile.TemporaryDirectory(prefix="parcours-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        dataset = folder / "dataset.json"
        dataset.write_text(json.dumps(build_dataset(args.sessions), ensure_ascii=False), encoding="utf-8")
        template = folder / "empty.sqlite"
        engine = make_engine(str(template))
        migrate(engine)
        engine.dispose()
        print(f"dataset: {args.sessions:,} sessions, {dataset.stat().st_size / 1e6:.0f} MB of JSON "
              f"(written in {time.perf_counter() - started:.1f} s)")
        for name in ("import", "floor"):
            shutil.copy(template, folder / f"{name}.sqlite")
        floor = run_child("import-floor", str(folder / "floor.sqlite"), str(dataset))
        imported = run_child("import", str(folder / "import.sqlite"), str(dataset))
        exported = run_child("export", str(folder / "import.sqlite"), str(folder / "export.json"))
        export_floor = run_child("export-floor", str(folder / "import.sqlite"), str(folder / "floor.json"))

    ratio = imported["seconds"] / floor["seconds"]
    print(f"import : {imported['seconds']:.2f} s (cpu {imported['cpu']:.2f} s), peak {imported['peak_mb']:.0f} MB | "
          f"floor (json.loads + raw executemany of the same rows): {floor['seconds']:.2f} s (cpu {floor['cpu']:.2f} s), "
          f"peak {floor['peak_mb']:.0f} MB | ratio {ratio:.2f}× (cpu {imported['cpu'] / floor['cpu']:.2f}×; target "
          f"≤ {IMPORT_RATIO_TARGET:g}×), memory {imported['peak_mb'] / floor['peak_mb']:.2f}× the floor (target < "
          f"{IMPORT_MB_TARGET} MB)")
    print(f"export : {exported['seconds']:.2f} s (cpu {exported['cpu']:.2f} s), peak {exported['peak_mb']:.0f} MB | "
          f"floor (raw cursor + one json.dumps per session): {export_floor['seconds']:.2f} s (cpu "
          f"{export_floor['cpu']:.2f} s), peak {export_floor['peak_mb']:.0f} MB | ratio "
          f"{exported['seconds'] / export_floor['seconds']:.2f}× (target < {EXPORT_MB_TARGET} MB)")
    verdict = [ratio <= IMPORT_RATIO_TARGET, imported["peak_mb"] < IMPORT_MB_TARGET,
               exported["peak_mb"] < EXPORT_MB_TARGET]
    print("targets met" if all(verdict) else "targets NOT met: " + ", ".join(
        name for name, ok in zip(("import time", "import memory", "export memory"), verdict) if not ok))


if __name__ == "__main__":
    main()
