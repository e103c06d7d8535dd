"""A PostgreSQL server for the tests, and a fresh database for each test that asks for one.

Where the server comes from, in this order:
1. `PARCOURS_TEST_POSTGRES`: a SQLAlchemy URL (`postgresql+psycopg://user:password@host:port/postgres`) of a server
   on which that user may create databases; it is used as it is and never stopped.
2. `initdb` and `pg_ctl` (on the PATH, or Debian's /usr/lib/postgresql/<version>/bin): a throw-away cluster in a
   temporary folder, listening on a free port of 127.0.0.1 only, with a random password, started once for the
   session and deleted at its end. PostgreSQL refuses to run as root: under root it runs as the `postgres` user
   (`runuser -u postgres --`), which then owns the folder.
3. Otherwise every PostgreSQL test is skipped with « PostgreSQL absent : … » — unless
   `PARCOURS_TEST_POSTGRES_REQUIRED=1` (set by .ci/run once it has installed PostgreSQL): then it fails, so CI
   can never pass by skipping them.

A cluster that is found but does not start is an error, not a skip: its log is shown.
"""
from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ENV_URL = "PARCOURS_TEST_POSTGRES"
ENV_REQUIRED = "PARCOURS_TEST_POSTGRES_REQUIRED"
START_TIMEOUT_S = 60
CLUSTER_PREFIX = "parcours-pg-"
OWNER_FILE = "owner.pid"  # the pytest process that started the cluster


@dataclass(frozen=True)
class PostgresServer:
    url: URL  # an administrative connection: a superuser (or a user allowed to CREATE DATABASE) on `postgres`
    origin: str  # where it comes from, for messages


def _version_key(path: str) -> tuple:
    return tuple(int(n) if n.isdigit() else 0 for n in re.split(r"[^0-9]+", path) if n)


def find_server_binaries() -> Path | None:
    """The folder holding both initdb and pg_ctl: the PATH first, then the folders the packages install to."""
    initdb = shutil.which("initdb")
    if initdb:
        folder = Path(os.path.realpath(initdb)).parent
        if (folder / "pg_ctl").exists():
            return folder
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)  # Debian, Ubuntu
    candidates += sorted(glob.glob("/usr/pgsql-*/bin"), key=_version_key, reverse=True)  # RHEL (PGDG)
    candidates += ["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin"]
    for folder in map(Path, candidates):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Cluster:
    """A private cluster in a temporary folder; `start` and `stop` wrap initdb and pg_ctl."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
        self.prefix: list[str] = []
        if self.as_root:
            runuser = shutil.which("runuser")
            try:
                import pwd
                owner = pwd.getpwnam("postgres")
            except (ImportError, KeyError):
                owner = None
            if not runuser or owner is None:
                raise _Unavailable("exécuté en root, mais sans utilisateur « postgres » ou sans runuser "
                                   "(pg_ctl refuse de tourner en root)")
            self.prefix = [runuser, "-u", "postgres", "--"]
            self.owner = owner
        self.uid = self.owner.pw_uid if self.as_root else os.getuid()
        # Under root the folder must be reachable by postgres: directly in /tmp, not in pytest's private folder.
        self.parent = "/tmp" if self.as_root else tempfile.gettempdir()
        self._reap_stale()
        self.root = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX, dir=self.parent))
        (self.root / OWNER_FILE).write_text(str(os.getpid()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.password = secrets.token_hex(16)
        self.user = "parcours_test"
        self.port = 0

    def _reap_stale(self) -> None:
        """Stop and delete the clusters of earlier sessions that were killed before their end (a `timeout`, a
        SIGKILL): their pytest is gone, but pg_ctl's server runs on, detached. Only ours: same prefix, run by the
        same user, and an owner process that no longer exists."""
        for folder in Path(self.parent).glob(f"{CLUSTER_PREFIX}*"):
            try:
                if folder.stat().st_uid != self.uid:
                    continue
                pid = int((folder / OWNER_FILE).read_text())
            except (OSError, ValueError):
                continue  # not ours, or still being created
            if _alive(pid):
                continue
            if (folder / "data" / "postmaster.pid").exists():
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "-w", "stop",
                          cwd=folder)
            shutil.rmtree(folder, ignore_errors=True)

    def _run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix, *args], cwd=cwd or self.root, capture_output=True, text=True,
                              timeout=START_TIMEOUT_S + 30)

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return "(pas de journal)"

    def start(self) -> URL:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        os.chmod(self.root, 0o700)
        os.chmod(pwfile, 0o600)
        if self.as_root:
            for path in (self.root, pwfile):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        done = self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", self.user,
                         f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb a échoué ({self.bin_dir}) :\n{done.stdout}\n{done.stderr}")
        # Throw-away data: no fsync. TCP on 127.0.0.1 only; the Unix socket stays inside the private folder.
        options = ("-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   f"-c unix_socket_directories={self.root} -c max_connections=50")
        for _attempt in range(3):  # the free port may be taken between the probe and the start
            self.port = _free_port()
            done = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                             "-t", str(START_TIMEOUT_S), "-o", f"-p {self.port} {options}", "start")
            if done.returncode == 0:
                return URL.create("postgresql+psycopg", username=self.user, password=self.password,
                                  host="127.0.0.1", port=self.port, database="postgres")
        raise RuntimeError(f"pg_ctl start a échoué :\n{done.stdout}\n{done.stderr}\n--- journal ---\n"
                           f"{self._log_tail()}")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                done = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
                if done.returncode != 0:
                    self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class _Unavailable(Exception):
    """No PostgreSQL can be had here: the tests that need one are skipped."""


def _absent(reason: str):
    message = f"PostgreSQL absent : {reason}"
    if os.environ.get(ENV_REQUIRED) == "1":
        pytest.fail(f"{message} (alors que {ENV_REQUIRED}=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server():
    """The PostgreSQL server of this test session (see the module's docstring)."""
    if os.environ.get(ENV_URL):
        url = make_url(os.environ[ENV_URL])
        if url.get_backend_name() != "postgresql":
            pytest.fail(f"{ENV_URL} doit être une URL postgresql+psycopg://…, pas « {url.get_backend_name()} »",
                        pytrace=False)
        yield PostgresServer(url, ENV_URL)
        return
    bin_dir = find_server_binaries()
    if bin_dir is None:
        _absent(f"{ENV_URL} n'est pas défini et initdb/pg_ctl sont introuvables (PATH, "
                "/usr/lib/postgresql/<version>/bin) ; installez PostgreSQL (Debian : apt-get install postgresql) "
                f"ou donnez l'URL d'un serveur dans {ENV_URL}")
    try:
        cluster = _Cluster(bin_dir)
    except _Unavailable as exc:
        _absent(str(exc))
    try:
        url = cluster.start()
    except BaseException:
        cluster.stop()
        raise
    try:
        yield PostgresServer(url, f"cluster temporaire {bin_dir} sur 127.0.0.1:{cluster.port}")
    finally:
        cluster.stop()


class Databases:
    """The session's databases on one server: an administrative engine kept open, the template databases built once
    (migrated; migrated with the example programme…), and `clone`, which copies one into a new database: `CREATE
    DATABASE … TEMPLATE` copies files, far faster than migrating (or importing) again for each test.

    A copy still takes the server a fifth of a second or more (it waits for checkpoints): COPIERS threads make the
    next copies of each template while the tests run (AHEAD of them), and drop the used databases, so that the
    server works while the test process does. Copies overlap well: with three threads instead of one, the 304
    PostgreSQL tests of test_audit_completeness took 64 s instead of 133 s on 2 cores (-n 2)."""

    COPIERS = 3

    AHEAD = 4

    def __init__(self, server: PostgresServer):
        self.server = server
        self.admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        self.templates: dict[str, str] = {}  # kind -> database name
        self.worker = ThreadPoolExecutor(max_workers=self.COPIERS, thread_name_prefix="postgres-copies")
        self.ready: dict[str, deque[Future]] = {}  # template name -> the copies under way or made, oldest first
        self.dropping: list[Future] = []
        # PostgreSQL 15 copies a template through its write-ahead log by default, block by block: for our small
        # templates (about 10 MB) copying the files is 2.4 times faster (55 ms instead of 133 ms; dropping, 17 ms
        # instead of 36), server time taken from the tests' on 2 cores. Older servers always copy the files.
        with self.admin.connect() as conn:
            version = int(conn.execute(text("SHOW server_version_num")).scalar())
        self._strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""

    def url(self, name: str) -> str:
        return self.server.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str = "template0") -> str:
        name = f"test_{secrets.token_hex(6)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE "{template}"{self._strategy}'))
        return name

    def _drop_now(self, name: str) -> None:
        with self.admin.connect() as conn:  # FORCE (PostgreSQL ≥ 13): an engine the test left open does not block it
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def drop(self, name: str) -> None:
        """Drop the database, in the background (its name is never used again)."""
        self.dropping = [f for f in self.dropping if not f.done() or f.result()]  # a failed drop raises here
        self.dropping.append(self.worker.submit(self._drop_now, name))

    def copy(self, template: str) -> str:
        """A new database, a copy of the database `template` (which no one may be connected to); its name."""
        ready = self.ready.setdefault(template, deque())
        while len(ready) < self.AHEAD + 1:
            ready.append(self.worker.submit(self.create, template))
        return ready.popleft().result()

    def template(self, kind: str, build=None) -> str:
        """The template database `kind`, built on first use: "migrated" (the schema at its head), or another kind
        built by `build(url)` on a copy of "migrated". Nothing stays connected to it (the engines are disposed):
        PostgreSQL copies a database only while no one is connected to it."""
        if kind not in self.templates:
            from models.db import make_engine, migrate  # the plugin loads before conftest puts the project on the path

            if kind == "migrated":
                name = self.create()
                engine = make_engine(self.url(name))
                try:
                    migrate(engine)
                finally:
                    engine.dispose()
            else:
                if build is None:
                    raise ValueError(f"template « {kind} » : rien pour la construire")
                name = self.create(self.template("migrated"))
                build(self.url(name))
            self.templates[kind] = name
        return self.templates[kind]

    def clone(self, kind: str, build=None) -> str:
        """A new database, a copy of the template `kind` (see `template`); its name."""
        return self.copy(self.template(kind, build))

    def close(self) -> None:
        try:
            unused = [f.result() for ready in self.ready.values() for f in ready]
            for future in self.dropping:
                future.result()
        finally:
            self.worker.shutdown(wait=True)
        for name in [*unused, *self.templates.values()]:
            self._drop_now(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases(postgres_server):
    """The session's `Databases` (templates built on first use, dropped at the end)."""
    databases = Databases(postgres_server)
    yield databases
    databases.close()


@pytest.fixture
def postgres_url(postgres_databases) -> str:
    """A SQLAlchemy URL (as a string, password included) of a new, empty database, dropped after the test."""
    name = postgres_databases.copy("template0")
    yield postgres_databases.url(name)
    postgres_databases.drop(name)
