"""The team server as the IT runs it (docs/serveur-equipe.md), in a process of its own: `python main.py --db STORE serve
--listen 127.0.0.1:PORT --cert … --key …` on a free port of loopback, waited for until /api/health answers.

`stop` ends it as a service manager does (SIGTERM: uvicorn finishes the requests under way); `kill` as a power cut
does (SIGKILL: the transactions under way are lost, the committed ones stay); `start` again serves the same store
on the same port, so that the laptops enrolled at that address find it again.

    with ServerProcess(db, tls_pair, tmp_path) as server:
        client.connect(laptop.uow, server.url, "ref-martin", PASSWORD, server.fingerprint)
"""
from __future__ import annotations

import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60  # a cold start on a busy 2-core machine (imports, the schema check, the change log's seed)
STOP_TIMEOUT_S = 20


def free_port() -> int:
    """A free port of 127.0.0.1 below the kernel's ephemeral range when it can: no outgoing connection of another
    process is given it by chance while the server is down, so that the server starts again on it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    # a generator of its own: Hypothesis seeds the module's, which would give each example the same ports
    candidates = random.SystemRandom().sample(range(20000, low), 50) if low > 20100 else []
    for port in [*candidates, 0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("aucun port libre sur 127.0.0.1")


class ServerStopped(RuntimeError):
    """serve ended before it answered."""


class ServerProcess:
    """`serve` on `db` (a SQLite file's path or a database URL) with the certificate of `tls_pair` (api.tls.TlsPair);
    its output and its log file go into `folder`."""

    def __init__(self, db: str, tls_pair, folder: Path, port: int | None = None):
        self.db, self.pair, self.folder = db, tls_pair, Path(folder)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def fingerprint(self) -> str:
        return self.pair.fingerprint

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> "ServerProcess":
        """Launch it and wait until it answers."""
        self.launch()
        self.wait()
        return self

    def launch(self) -> "ServerProcess":
        """Launch it without waiting: it takes a few seconds to answer (imports, the schema check)."""
        assert not self.alive, "le serveur tourne déjà"
        self.starts += 1
        # Parcours's log file (platformdirs' user_log_dir) in the test's folder, not in the account's own
        env = {**os.environ, "XDG_STATE_HOME": str(self.folder / "state"), "PYTHONUNBUFFERED": "1"}
        with open(self.output_file, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "main.py"), "--db", self.db, "serve", "--listen", f"127.0.0.1:{self.port}",
                 "--cert", str(self.pair.certfile), "--key", str(self.pair.keyfile)],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
        return self

    @property
    def output_file(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / "serve.out"

    def output(self) -> str:
        return self.output_file.read_text(encoding="utf-8", errors="replace") if self.output_file.exists() else ""

    def failures(self) -> list[str]:
        """What went wrong unexpectedly on the server: its log's lines at ERROR or above (main.py's log file, where an
        unexpected error leaves its trace) and a traceback in its output."""
        log = self.folder / "state" / "Parcours" / "log" / "parcours.log"
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
        found = [line for line in lines if any(f" {level} " in line for level in ("ERROR", "CRITICAL"))]
        return found + (["Traceback in serve's output"] if "Traceback" in self.output() else [])

    def wait(self) -> None:
        """Until /api/health answers; RuntimeError with the server's output if it stops or takes too long. At its
        first start, a server that stops at once (its port taken meanwhile by another process) is launched again on
        another port: no laptop knows its address yet."""
        for attempt in range(3):
            try:
                return self._wait()
            except ServerStopped:
                if self.starts > 1 or attempt == 2:
                    raise
                self.port = free_port()
                self.starts = 0
                self.launch()

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        context = ssl.create_default_context(cafile=str(self.pair.certfile))
        with httpx.Client(verify=context, timeout=5) as client:
            while True:
                if self.process.poll() is not None:
                    raise ServerStopped(f"serve s'est arrêté au démarrage (code {self.process.returncode}) :\n"
                                       f"{self.output()[-3000:]}")
                try:
                    if client.get(f"{self.url}/api/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"serve n'a pas répondu en {START_TIMEOUT_S} s :\n{self.output()[-3000:]}")
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a power cut: nothing of the server runs after this returns."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it has not stopped in STOP_TIMEOUT_S; its exit code."""
        if self.process is None:
            return None
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
