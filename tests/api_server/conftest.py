"""A real uvicorn server over TLS on 127.0.0.1, in a thread, with a certificate made by api.tls; an httpx client that
trusts that certificate only; each test on its own copy of the programme of tests/service_cases.py.

The server is started once per test module and serves whichever store the current test points it to
(`ServedStore.uow`), so that each test gets fresh files without waiting for a new server. Every account has the
password PASSWORD; the template already holds a device for each role, a spare device (for revocations) and a revoked
one, whose tokens are in `Api.tokens`.
"""
from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
import httpx
import pytest

from api.app import SCHEMA_HEADER, build_app
from api.server import make_server
from api.tls import generate_self_signed
from models.db import head_revision, make_engine
from services import devices, users
from services.directory import list_users
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory
from tests.service_cases import ACCOUNT_OF, PASSWORD, TODAY, Env, build_template, open_env

ROLES = ("referent", "coordinator", "administrator")
START_TIMEOUT_S = 20


@dataclass
class ServedStore:
    """What the running server serves: the current test's unit-of-work factory."""

    uow: object = None

    def __call__(self):
        return self.uow()


@dataclass
class Api:
    env: Env
    client: httpx.Client
    tokens: dict[str, str]  # referent, coordinator, administrator, spare, revoked -> token
    devices: dict[str, str]  # the same -> device key
    template: object  # the file each test's store is a copy of
    schema: str = field(default_factory=head_revision)

    def headers(self, who: str | None = None, schema: str | None = None) -> dict[str, str]:
        headers = {SCHEMA_HEADER: schema or self.schema}
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return headers

    def get(self, path: str, who: str | None = None, **kw) -> httpx.Response:
        return self.client.get(path, headers={**self.headers(who), **kw.pop("headers", {})}, **kw)

    def post(self, path: str, who: str | None = None, **kw) -> httpx.Response:
        return self.client.post(path, headers={**self.headers(who), **kw.pop("headers", {})}, **kw)


def trusting(certfile) -> ssl.SSLContext:
    """A client context that trusts this certificate and nothing else (what pinning it amounts to)."""
    return ssl.create_default_context(cafile=str(certfile))


@pytest.fixture(scope="session")
def tls_pair(tmp_path_factory):
    return generate_self_signed(tmp_path_factory.mktemp("tls") / "pair")


def enrol_all(uow) -> tuple[dict[str, str], dict[str, str]]:
    """A device per role, a spare one and a revoked one (both the référent's); every account gets PASSWORD."""
    accounts = {u.key: u for u in list_users(uow(), active_only=False)}
    for key in ACCOUNT_OF.values():
        users.change_password(uow(), SYSTEM, key, PASSWORD)
    tokens, keys = {}, {}
    owners = {**{role: ACCOUNT_OF[role] for role in ROLES}, "spare": ACCOUNT_OF["referent"],
              "revoked": ACCOUNT_OF["referent"]}
    for name, account in owners.items():
        enrolled = devices.enrol_device(uow(), accounts[account], f"Poste {name}")
        tokens[name], keys[name] = enrolled.token, enrolled.device.key
    devices.revoke_device(uow(), accounts[ACCOUNT_OF["administrator"]], keys["revoked"])
    return tokens, keys


@pytest.fixture(scope="module")
def api_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("api-template") / "programme.sqlite"
    build_template(path)
    engine = make_engine(str(path))
    try:
        tokens, keys = enrol_all(unit_of_work_factory(engine))
    finally:
        engine.dispose()  # the last connection checkpoints the write-ahead log into the file that is copied
    return path, tokens, keys


def start_server(app, tls_pair):
    """A uvicorn server on a free port of 127.0.0.1, in a thread; returns (server, thread, base URL)."""
    server = make_server(app, "127.0.0.1", 0, tls_pair.certfile, tls_pair.keyfile)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("le serveur de test n'a pas démarré")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"https://127.0.0.1:{port}"


def stop_server(server, thread) -> None:
    server.should_exit = True
    thread.join(timeout=START_TIMEOUT_S)


@pytest.fixture(scope="module")
def served(tls_pair):
    store = ServedStore()
    server, thread, url = start_server(build_app(store, schema_version=head_revision(), today=lambda: TODAY),
                                       tls_pair)
    with httpx.Client(base_url=url, verify=trusting(tls_pair.certfile), timeout=30) as client:
        yield store, client
    stop_server(server, thread)


@pytest.fixture
def api(served, api_template, tmp_path):
    store, client = served
    template, tokens, keys = api_template
    env = open_env(template, tmp_path)
    store.uow = env.uow
    yield Api(env, client, tokens, keys, template)
    store.uow = None
    env.engine.dispose()
