"""Crash safety: a writer that gets killed with SIGKILL, and the harness that kills it and inspects the file.

Starting Python and importing SQLAlchemy takes ~0.4 s, far too slow for hundreds of kills, so the script runs as
a *zygote*: it imports everything once, then for each `go` line read on stdin forks a writer child (a fresh
process: its own SQLite connection, nothing shared but the file) and prints `pid N`. The child writes
transactions through the unit of work — BATCH home sessions sharing a batch id in `notes`, each with its audit
entry — and prints `ack <batch>` (unbuffered, one write) only after `commit()` has returned. The harness kills
the child at a random moment; the zygote reaps it and prints `dead N <signal>`, after every `ack` the child
wrote, so the harness knows exactly what had been acknowledged.

SIGKILL stops the process, not the machine: this proves atomicity and that an acknowledged commit is in the
file (the OS keeps what was written), not durability across a power cut, which rests on `synchronous=FULL`.

Usage as a script: `python tests/crash_worker.py zygote DB BATCH`.
"""
from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY_PREFIX = "crash-"


# -- the child side ---------------------------------------------------------------------------------------

def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one unbuffered write: nothing left in a buffer at fork or kill


class Writer:
    """Everything a writer needs, prepared in the zygote (imports, mapper configuration, compiled statements) so
    that a forked child starts writing within milliseconds. The zygote's connections are closed before each
    fork: every child opens its own."""

    def __init__(self, db: str, batch_size: int):
        from sqlalchemy import select

        from models import Family, Intervenant
        from models.db import make_engine
        from services.uow import unit_of_work_factory

        self.batch_size = batch_size
        self.engine = make_engine(db)
        self.uow = unit_of_work_factory(self.engine)
        with self.uow() as u:
            self.family_id = u.session.scalars(select(Family.id).order_by(Family.key)).first()
            self.intervenant_id = u.session.scalars(select(Intervenant.id).order_by(Intervenant.key)).first()
        self.write_batch("warm-up", commit=False)
        self.engine.dispose()

    def write_batch(self, batch: str, commit: bool = True) -> None:
        from datetime import date

        from models import HomeSession
        from services import audit

        with self.uow() as u:
            for i in range(self.batch_size):
                key = f"{KEY_PREFIX}{batch}-{i}"
                u.session.add(HomeSession(key=key, family_id=self.family_id, intervenant_id=self.intervenant_id,
                                          date=date(2025, 3, 4), duration_minutes=60, status="held", notes=batch))
                audit.record(u.session, None, "create", "home_session", key, ("date", "duration_minutes", "status"))
                u.session.flush()  # rows reach SQLite one by one, so a kill can fall between two of them
            if commit:
                u.commit()

    def write_forever(self) -> None:
        import uuid

        while True:
            batch = uuid.uuid4().hex
            self.write_batch(batch)
            _say(f"ack {batch}")


def zygote(db: str, batch_size: int) -> None:
    writer = Writer(db, batch_size)
    _say("ready")
    for line in sys.stdin:
        if line.strip() != "go":
            break
        pid = os.fork()
        if pid == 0:
            try:
                writer.write_forever()
            except BaseException as exc:  # a bug in the writer must fail the test, not look like a kill
                _say(f"error {type(exc).__name__}: {exc}".replace("\n", " "))
            finally:
                os._exit(1)
        _say(f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        _say(f"dead {pid} {os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0}")


# -- the harness side -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Round:
    acknowledged: tuple[str, ...]
    killed: bool  # died of our SIGKILL, not on its own


@dataclass(frozen=True)
class FileState:
    integrity: str
    batches: dict[str, int]  # batch id -> number of its sessions in the file
    audited: dict[str, int]  # batch id -> number of its audit entries


def prepare_database(db: str) -> None:
    """A migrated database holding the example dataset (families and intervenants to write sessions for)."""
    import json

    from models.db import make_engine, migrate
    from services.dataset import import_dataset
    from services.uow import unit_of_work_factory

    engine = make_engine(db)
    migrate(engine)
    dataset = json.loads((ROOT / "tests" / "data" / "example_dataset.json").read_text(encoding="utf-8"))
    import_dataset(unit_of_work_factory(engine)(), dataset)
    engine.dispose()


def inspect_file(db: str) -> FileState:
    with sqlite3.connect(db) as conn:
        integrity = "\n".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        batches = dict(conn.execute("SELECT notes, COUNT(*) FROM home_session WHERE key LIKE ? GROUP BY notes",
                                    (KEY_PREFIX + "%",)))
        audited = dict(conn.execute(
            "SELECT substr(record_key, ?, 32), COUNT(*) FROM audit_log WHERE record_key LIKE ? GROUP BY 1",
            (len(KEY_PREFIX) + 1, KEY_PREFIX + "%")))
    conn.close()
    return FileState(integrity, batches, audited)


class CrashHarness:
    """Drives the zygote: `kill_after(delay)` starts a writer, SIGKILLs it after `delay` seconds, and returns
    what it had acknowledged. Use as a context manager."""

    TIMEOUT = 20.0

    def __init__(self, db: str, batch_size: int):
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen([sys.executable, __file__, "zygote", db, str(batch_size)], cwd=ROOT, env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self._expect("ready")

    def _pump(self) -> None:
        for line in self._proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put("eof")

    def _next(self) -> str:
        try:
            line = self._lines.get(timeout=self.TIMEOUT)
        except queue.Empty:
            raise RuntimeError("the crash worker stopped answering") from None
        if line.startswith("error") or line == "eof":
            raise RuntimeError(f"the crash worker failed: {line}")
        return line

    def _expect(self, word: str) -> str:
        line = self._next()
        if not line.startswith(word):
            raise RuntimeError(f"expected {word!r} from the crash worker, got {line!r}")
        return line

    def kill_after(self, delay: float) -> Round:
        self._proc.stdin.write("go\n")
        self._proc.stdin.flush()
        acknowledged = []
        while (line := self._next()).startswith("ack "):  # an ack may come before the pid line
            acknowledged.append(line[4:])
        pid = int(line.split()[1])
        time.sleep(delay)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while (line := self._next()).startswith("ack "):
            acknowledged.append(line[4:])
        _, dead_pid, sig = line.split()
        assert int(dead_pid) == pid, line
        return Round(tuple(acknowledged), int(sig) == signal.SIGKILL)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> "CrashHarness":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "zygote":
        sys.exit("usage: crash_worker.py zygote DB BATCH")
    sys.path.insert(0, str(ROOT))
    zygote(sys.argv[2], int(sys.argv[3]))
