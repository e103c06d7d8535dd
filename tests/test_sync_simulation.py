"""A randomised team week: three laptops (two référents and the coordination, real SQLite copies, the real client)
against one real team server (uvicorn over TLS on loopback; its store SQLite, or PostgreSQL when tests/postgres.py
has a cluster), with the office editing on the server meanwhile.

Hypothesis drives random sessions recorded and corrected offline, office corrections and deletions, families
reassigned, partial syncs, requests that never reach the server, answers lost after the server committed, and
laptops killed between their local commit and their push (the engine thrown away, the copy reopened). Once
everything settles (conflicts resolved by a person keeping either side, refusals read — each a French sentence — and
given up, every laptop synced until nothing moves):
  * every replica's in-scope data equals the server's, row for row;
  * every operation is applied, resolved from a conflict, or refused with its reason — none lost (each one is in the
    server's ledger exactly once, with the same outcome), none applied twice (the server holds exactly the sessions
    it had and those it accepted, less those the office deleted);
  * no laptop holds a family outside its user's scope.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from sqlalchemy import select, text

from models import Family, Intervenant, Parcours, SyncApplied, SyncAudit
from services import home_sessions
from services.errors import DomainError
from services.permissions import followed_family_ids
from services.sync import client
from services.uow import unit_of_work_factory
from models.db import make_engine
from tests.service_cases import PASSWORD, TODAY
from tests.test_sync_client import (Laptop, Server, build_server_store, new_laptop, open_server,  # noqa: F401
                                    serve_store, sync_served)

USERS = ("ref-martin", "ref-other", "coord-durand")
DAYS = [TODAY - timedelta(days=n) for n in range(1, 40)]
DURATIONS = st.sampled_from([30, 45, 60, 75, 90, 120])
# Two laptops keeping their own value of one field conflict with each other in turn: one settles per round.
SETTLING_ROUNDS = 2 + 2 * len(USERS)
COMPARED = ("family", "home_session", "child", "guardian", "parcours", "orientation")


class Lost(httpx.BaseTransport):
    """A transport that fails one request: before it reaches the server (`before`) or after the server answered
    (the answer thrown away: the server committed, the laptop never knows)."""

    def __init__(self, inner: httpx.BaseTransport, path: str, before: bool):
        self.inner, self.path, self.before = inner, path, before

    def handle_request(self, request):
        if request.url.path == self.path and self.before:
            raise httpx.ConnectError("réseau coupé", request=request)
        response = self.inner.handle_request(request)
        if request.url.path == self.path:
            response.read()
            raise httpx.ReadError("réponse perdue", request=request)
        return response

    def close(self):
        self.inner.close()


def comparable(value):
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return value


def rows(engine, table: str, family_ids: set | None) -> dict:
    """{id: row} of a table; only the families in `family_ids` when given (None: all)."""
    from models import Base

    t = Base.metadata.tables[table]
    with engine.connect() as conn:
        found = {}
        for row in conn.execute(select(t)).mappings():
            if family_ids is not None:
                family = row["id"] if table == "family" else row.get("family_id")
                if table == "parcours":
                    family = conn.execute(text("SELECT family_id FROM child WHERE id = :c"),
                                          {"c": row["child_id"]}).scalar()
                if family not in family_ids:
                    continue
            found[row["id"]] = {k: comparable(v) for k, v in row.items()}
        return found


def differences(mine: dict, theirs: dict) -> dict:
    """{record: {column: (laptop, server)}} — what the failure message shows."""
    found = {}
    for key in set(mine) | set(theirs):
        a, b = mine.get(key), theirs.get(key)
        if a is None or b is None:
            found[key] = "absent du serveur" if b is None else "absent du poste"
        elif a != b:
            found[key] = {c: (a.get(c), b.get(c)) for c in set(a) | set(b) if a.get(c) != b.get(c)}
    return found


class TeamWeek(RuleBasedStateMachine):
    served = None  # (store, url, fingerprint, template), set by the test
    folder = None
    databases = None  # tests/postgres.py's, when the server's store is PostgreSQL
    example = 0

    @initialize()
    def open_programme(self):
        TeamWeek.example += 1
        folder = self.folder / f"example-{TeamWeek.example}"
        folder.mkdir()
        if self.databases is None:
            self.server: Server = open_server(self.served, folder)
        else:
            self.database = self.databases.clone("sync-simulation", build_server_store)
            self.server = serve_store(self.served, self.databases.url(self.database))
        self.laptops: dict[str, Laptop] = {}
        for key in USERS:
            laptop = new_laptop(folder, key)
            client.connect(laptop.uow, self.server.url, key, PASSWORD, self.server.fingerprint)
            self.laptops[key] = laptop
        with self.server.uow() as w:
            self.intervenant = w.session.scalar(select(Intervenant.id).where(Intervenant.key == "i-aes"))
        self.initial_sessions = set(self._sessions(self.server.engine))
        self.deleted: set[str] = set()
        self.unreachable = 0

    def teardown(self):
        if not hasattr(self, "server"):
            return
        try:
            self.settle_and_check()
        finally:
            for laptop in self.laptops.values():
                laptop.engine.dispose()
            self.served[0].uow = None
            self.server.engine.dispose()
            if self.databases is not None:
                self.databases.drop(self.database)

    # -- what the team does -----------------------------------------------------------------------------------

    def _families(self, key: str) -> list[str]:
        with self.laptops[key].engine.connect() as conn:
            return list(conn.execute(text("SELECT id FROM family WHERE closed_on IS NULL ORDER BY key")).scalars())

    def _sessions(self, engine) -> list[str]:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT id FROM home_session ORDER BY key")).scalars())

    @rule(who=st.sampled_from(USERS), visits=st.lists(st.tuples(st.integers(0, 20), st.sampled_from(DAYS), DURATIONS),
                                                      min_size=1, max_size=4))
    def record_a_days_visits_offline(self, who, visits):
        families = self._families(who)
        if not families:
            return
        laptop = self.laptops[who]
        for pick, day, minutes in visits:
            draft = home_sessions.SessionDraft(families[pick % len(families)], self.intervenant, day, minutes)
            try:
                home_sessions.record_session(laptop.uow(), laptop.user(who), draft, TODAY)
            except DomainError:
                pass  # a rule of the form refused it: nothing written, nothing to send

    def _correct(self, uow, user, session_id, minutes, notes):
        current = home_sessions.get_session(uow(), user, session_id)
        draft = home_sessions.SessionDraft(current.family_id, current.intervenant_id, current.date, minutes,
                                           current.status, current.start_time, current.referent_present,
                                           current.children_present, notes)
        try:
            home_sessions.update_session(uow(), user, session_id, draft, TODAY)
        except DomainError:
            pass

    @rule(who=st.sampled_from(USERS), pick=st.integers(0, 200), minutes=DURATIONS,
          notes=st.sampled_from([None, "Séance calme", "Devoirs faits", "Annulée sur place"]))
    def correct_offline(self, who, pick, minutes, notes):
        laptop = self.laptops[who]
        sessions = self._sessions(laptop.engine)
        if sessions:
            self._correct(laptop.uow, laptop.user(who), sessions[pick % len(sessions)], minutes, notes)

    @rule(pick=st.integers(0, 200), minutes=DURATIONS)
    def office_corrects_on_the_server(self, pick, minutes):
        sessions = self._sessions(self.server.engine)
        self._correct(self.server.uow, self.server.users["coord-durand"], sessions[pick % len(sessions)], minutes,
                      "Corrigé au bureau")

    @rule(pick=st.integers(0, 200))
    def office_deletes_a_session_on_the_server(self, pick):
        sessions = sorted(set(self._sessions(self.server.engine)) - self.initial_sessions)
        if sessions:  # one recorded this week (by mistake), perhaps corrected on a laptop meanwhile
            doomed = sessions[pick % len(sessions)]
            home_sessions.delete_session(self.server.uow(), self.server.users["coord-durand"], doomed)
            self.deleted.add(doomed)

    @rule(to=st.sampled_from(("ref-martin", "ref-other")), pick=st.integers(0, 10))
    def office_reassigns_a_family(self, to, pick):
        target = self.server.users[to].id
        with self.server.uow() as w:
            families = list(w.session.scalars(select(Family).where(Family.closed_on.is_(None)).order_by(Family.key)))
            family = families[pick % len(families)]
            family.referent_id = target
            for parcours in w.session.scalars(select(Parcours).where(Parcours.child.has(family_id=family.id))):
                parcours.referent_id = target
            w.commit()

    @rule(who=st.sampled_from(USERS))
    def sync(self, who):
        self._sync(who)

    @rule(who=st.sampled_from(USERS), path=st.sampled_from(("/api/sync/push", "/api/sync/pull")),
          before=st.booleans())
    def sync_with_a_fault(self, who, path, before):
        try:
            client.sync_once(self.laptops[who].uow, wrap=lambda inner: Lost(inner, path, before))
        except client.ServerUnreachable as exc:
            assert exc.message.startswith("Serveur injoignable")
            self.unreachable += 1

    @rule(who=st.sampled_from(USERS), batch=st.integers(1, 3))
    def partial_sync(self, who, batch):
        """Small batches with the answer of the second lost: some operations settled, the rest pending."""
        calls = {"n": 0}

        class SecondLost(httpx.BaseTransport):
            def __init__(self, inner):
                self.inner = inner

            def handle_request(self, request):
                response = self.inner.handle_request(request)
                if request.url.path == "/api/sync/push":
                    calls["n"] += 1
                    if calls["n"] == 2:
                        response.read()
                        raise httpx.ReadError("coupé", request=request)
                return response

            def close(self):
                self.inner.close()

        try:
            client.sync_once(self.laptops[who].uow, wrap=SecondLost, push_batch=batch)
        except client.ServerUnreachable:
            self.unreachable += 1

    @rule(who=st.sampled_from(USERS))
    def laptop_killed_after_its_local_commit(self, who):
        """The process dies once its writes are committed, before any push: a new process opens the copy."""
        laptop = self.laptops[who]
        laptop.engine.dispose()
        engine = make_engine(str(laptop.path))
        assert client.attach_if_connected(engine)
        self.laptops[who] = Laptop(laptop.path, engine, unit_of_work_factory(engine))

    # -- settling and the invariants --------------------------------------------------------------------------

    def _sync(self, who):
        return client.sync_once(self.laptops[who].uow)

    def settle_and_check(self):
        for _round in range(SETTLING_ROUNDS):  # conflicts resolved by a person, until a round moves nothing
            for who, laptop in self.laptops.items():
                for refusal in client.list_refused(laptop.uow(), laptop.user(who)):
                    assert refusal.reason and refusal.reason[0].isupper()  # a sentence, in French
                    client.withdraw_refused(laptop.uow(), laptop.user(who), refusal.operation_id)
                for n, conflict in enumerate(client.list_conflicts(laptop.uow(), laptop.user(who))):
                    choice = ("local", "server")[n % 2]  # a person keeps either side
                    client.resolve_conflict(laptop.uow(), laptop.user(who), conflict.key,
                                            {f.name: choice for f in conflict.fields})
            reports = [self._sync(who) for who in self.laptops]
            if not any(r.pushed or r.conflicts for r in reports):
                break
        else:
            raise AssertionError(f"the replicas did not settle in {SETTLING_ROUNDS} rounds")
        with self.server.engine.connect() as conn:
            ledger = dict(conn.execute(select(SyncApplied.operation_id, SyncApplied.outcome)).all())
            trail = set(conn.execute(select(SyncAudit.id)).scalars())
        for who, laptop in self.laptops.items():
            user = self.server.users[who]
            ops = laptop.outbox()
            assert all(op["status"] in ("applied", "withdrawn", "resolved") for op in ops), \
                {op["status"] for op in ops}
            for op in ops:
                expected = {"resolved": "conflict", "withdrawn": "refused"}.get(op["status"], op["status"])
                assert ledger.get(op["id"]) == expected, (op["name"], op["status"], ledger.get(op["id"]))
                if op["status"] == "withdrawn":
                    assert op["reason"] and op["reason"][0].isupper()  # a sentence, in French, from the service
                if op["name"] == "audit.append" and op["status"] == "applied":
                    assert op["record_key"] in trail
            with self.server.uow() as w:
                scope = None if not user.is_referent else set(w.session.scalars(followed_family_ids(user.id)))
            held = set(rows(laptop.engine, "family", None))
            if scope is not None:
                assert held <= scope, "a laptop holds a family outside its user's scope"
            for table in COMPARED:
                mine, theirs = rows(laptop.engine, table, scope), rows(self.server.engine, table, scope)
                assert mine == theirs, f"{who}: {table} differs from the server: {differences(mine, theirs)}"
        created = {op["record_key"] for laptop in self.laptops.values() for op in laptop.outbox()
                   if op["name"] == "session.record" and op["status"] == "applied"}
        # none lost, none twice: the server holds exactly the sessions it had and those it accepted
        assert set(self._sessions(self.server.engine)) == (self.initial_sessions | created) - self.deleted
        outcomes = sorted({op["status"] for laptop in self.laptops.values() for op in laptop.outbox()})
        event(f"{self.server.engine.dialect.name}: operations {', '.join(outcomes) or 'none'}; "
              f"{'with' if self.unreachable else 'without'} unreachable syncs")
        with self.server.engine.connect() as conn:  # a version per change: none applied twice
            assert conn.execute(text("SELECT count(*) FROM home_session WHERE version < 1")).scalar_one() == 0


@pytest.fixture
def server_databases(request):
    """tests/postgres.py's databases when PostgreSQL can be had (in CI), else None: the server's store is SQLite."""
    try:
        return request.getfixturevalue("postgres_databases")
    except pytest.skip.Exception:
        return None


# PARCOURS_SIMULATION_EXAMPLES=50 for a longer search on a developer's machine (the default keeps CI under a minute).
def test_a_team_week_of_random_work_and_faults_converges(sync_served, server_databases, tmp_path):
    TeamWeek.served, TeamWeek.folder, TeamWeek.databases = sync_served, tmp_path, server_databases
    run_state_machine_as_test(TeamWeek, settings=settings(
        max_examples=int(os.environ.get("PARCOURS_SIMULATION_EXAMPLES", 5)), stateful_step_count=30, deadline=None,
        suppress_health_check=list(HealthCheck)))
