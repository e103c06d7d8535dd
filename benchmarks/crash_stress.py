"""Crash stress: many more SIGKILLs than the test suite, with figures.

    .venv/bin/python benchmarks/crash_stress.py [--kills 1000] [--batch 5] [--max-delay 0.05] [--db PATH]

A writer (tests/crash_worker.py) commits transactions of BATCH home sessions plus their audit entries through
the unit of work; it is killed with SIGKILL after a random delay, then the file is checked: PRAGMA
integrity_check, every acknowledged batch present, no batch partly there, as many audit entries as sessions.
Prints the figures and exits 1 at the first violation (with the kill number), 0 otherwise.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crash_worker import CrashHarness, inspect_file, prepare_database  # noqa: E402


def violations(state, acknowledged: set[str], batch: int) -> list[str]:
    found = []
    if state.integrity != "ok":
        found.append(f"integrity_check: {state.integrity}")
    if missing := acknowledged - state.batches.keys():
        found.append(f"{len(missing)} acknowledged batch(es) missing")
    if partial := {b: n for b, n in state.batches.items() if n != batch}:
        found.append(f"{len(partial)} half-written batch(es)")
    if state.audited != state.batches:
        found.append("sessions and audit entries disagree")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--max-delay", type=float, default=0.05, help="seconds, upper bound of the random delay")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--db", help="reuse this database file (default: a new temporary one)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    folder = tempfile.TemporaryDirectory(prefix="parcours-crash-")
    db = args.db or str(Path(folder.name) / "crash.sqlite")
    if not Path(db).exists():
        prepare_database(db)

    acknowledged: set[str] = set()
    landed_after_a_commit = 0
    check_times = []
    started = time.perf_counter()
    with CrashHarness(db, args.batch) as harness:
        for n in range(1, args.kills + 1):
            result = harness.kill_after(rng.uniform(0.0, args.max_delay))
            acknowledged.update(result.acknowledged)
            landed_after_a_commit += bool(result.acknowledged)
            t = time.perf_counter()
            state = inspect_file(db)
            check_times.append(time.perf_counter() - t)
            if problems := violations(state, acknowledged, args.batch):
                print(f"FAILED after kill {n} (seed {seed}): {'; '.join(problems)}")
                return 1
            if n % 500 == 0:
                print(f"  {n} kills survived…", flush=True)
    elapsed = time.perf_counter() - started
    unacknowledged = len(state.batches) - len(acknowledged)
    print(f"kills survived                  {args.kills} (seed {seed}, delay 0–{args.max_delay * 1000:.0f} ms)")
    print(f"kills after ≥ 1 commit          {landed_after_a_commit}")
    print(f"acknowledged transactions       {len(acknowledged)} × {args.batch} sessions + audit entries")
    print(f"committed, killed before ack    {unacknowledged} (present and whole: at-least-once, never half)")
    print("half-written transactions       0")
    print(f"database size                   {Path(db).stat().st_size / 1e6:.1f} MB")
    print(f"elapsed                         {elapsed:.1f} s ({args.kills / elapsed:.0f} kills/s), "
          f"check median {statistics.median(check_times) * 1000:.1f} ms")
    folder.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
