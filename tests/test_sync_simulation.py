"""A randomised team week: four laptops (two référents, the coordination and the administration: real SQLite copies,
the real client) against the team server run as the IT runs it — `main.py --db STORE serve` in a process of its own,
over TLS on loopback (tests/server_process.py), its store PostgreSQL when tests/postgres.py has a cluster (SQLite
otherwise) — with the office working on the server's store meanwhile.

Hypothesis drives random sessions recorded and corrected offline, office corrections and deletions, families
reassigned, partial syncs, requests that never reach the server, answers lost after the server committed, laptops
killed between their local commit and their push (the engine thrown away, the copy reopened), the server killed
(SIGKILL) in the middle of applying a laptop's push and started again on the same store — at once or some steps
later, the laptops finding it unreachable meanwhile —, and the administrator issuing the months' statements on the
server while sessions keep arriving late from the laptops (and trying, in vain, to issue on the administration's
laptop). Once everything settles (conflicts resolved by a person keeping either side, refusals read — each a French
sentence — and given up, every laptop synced until nothing moves):
  * every replica's data equals the server's, row for row, as its user may read it (a référent's families, the
    administration's families as codes and names and its sessions without notes, the issued statements on the
    coordination's and the administration's laptops, nowhere else), and a laptop holds nothing its user may not see;
  * every operation is applied, resolved from a conflict, or refused with its reason — none lost (each one is in the
    server's ledger exactly once, with the same outcome), none applied twice (the server holds exactly the sessions
    it had and those it accepted, less those the office deleted);
  * statement numbers are unique and without gaps in each convention's series, each issued PDF (and its chain hash)
    is the one issued, no statement was issued anywhere but on the server, and what each issued month bills today
    equals what its statement and the later ones carry plus the régularisation of the next draft: a late session
    changes the next draft, never an issued statement;
  * a laptop refuses to issue (SERVER_ONLY_MESSAGE) and to change an issued statement, writing nothing.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, precondition, rule,
                                 run_state_machine_as_test)
from sqlalchemy import select, text

from api.tls import generate_self_signed
from models import Convention, Family, Intervenant, Parcours, Statement, SyncApplied, SyncAudit
from models.db import make_engine
from services import home_sessions
from services.billing import statements
from services.directory import list_users
from services.errors import DomainError, ValidationError
from services.permissions import followed_family_ids
from services.sync import changes, client, outbox
from services.sync.changes import ADMINISTRATION_FAMILY, RULES
from services.uow import unit_of_work_factory
from tests.server_process import ServerProcess
from tests.service_cases import PASSWORD, TODAY
from tests.test_sync_client import Laptop, Server, build_server_store, server_template

USERS = ("ref-martin", "ref-other", "coord-durand")  # who record and correct sessions on their laptops
ADMINISTRATION = "admin-petit"
LAPTOPS = (*USERS, ADMINISTRATION)  # four laptops; the office computer works on the server's store itself
DAYS = [TODAY - timedelta(days=n) for n in range(1, 40)]  # February and March 2025
DURATIONS = st.sampled_from([30, 45, 60, 75, 90, 120])
VISITS = st.lists(st.tuples(st.integers(0, 20), st.sampled_from(DAYS), DURATIONS), min_size=1, max_size=4)
# Two laptops keeping their own value of one field conflict with each other in turn: one settles per round.
SETTLING_ROUNDS = 2 + 2 * len(USERS)
FAMILY_FILE = ("family", "home_session", "child", "guardian", "parcours", "orientation")
STATEMENT_TABLES = ("statement", "statement_line")
CONVENTIONS = ("ap-2025", "as-2025")
FIRST_MONTH = "2025-01"  # both conventions of the programme start in January 2025 (tests/data/example_dataset.json)
LAST_MONTH = "2025-04"  # the sessions are of February and March: April's statement carries their régularisations


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
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def rows(engine, table: str, family_ids: set | None, masked: frozenset = frozenset()) -> dict:
    """{id: row} of a table, without the `masked` columns; only the families in `family_ids` when given (None:
    all)."""
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
            found[row["id"]] = {k: comparable(v) for k, v in row.items() if k not in masked}
        return found


def masked_columns(table: str, role: str) -> frozenset:
    """The columns the server sends `role` emptied (services.sync.changes.row_writer): the administration reads a
    family as its code and name, a session without its notes."""
    if role != "administrator":
        return frozenset()
    if table == "family":
        from models import Base

        return frozenset(c.name for c in Base.metadata.tables["family"].columns if c.name not in ADMINISTRATION_FAMILY)
    return frozenset({"notes"}) if table == "home_session" else frozenset()


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


def next_month(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def units(lines, month: str) -> dict:
    """{(kind, qualification, unit price): quantity} of the lines billing `month` (régularisations subtract)."""
    found = defaultdict(int)
    for line in lines:
        if line.month == month:
            found[(line.kind, line.qualification, line.unit_price)] += line.quantity
    return {key: quantity for key, quantity in found.items() if quantity}


class TeamWeek(RuleBasedStateMachine):
    tls = None  # api.tls.TlsPair of the server's certificate, set by the test
    template = None  # the SQLite store copied for each example when there is no PostgreSQL
    laptop_template = None  # a migrated SQLite file (tests/conftest.py): each laptop's copy before it connects
    folder = None
    databases = None  # tests/postgres.py's, when the server's store is PostgreSQL
    example = 0

    @initialize(monday=st.tuples(*(VISITS for _ in USERS)))
    def open_programme(self, monday):
        """The server started on a copy of the programme, each laptop connected, Monday's visits recorded."""
        TeamWeek.example += 1
        folder = self.folder / f"example-{TeamWeek.example}"
        folder.mkdir()
        if self.databases is None:
            db = str(folder / "server.sqlite")
            shutil.copyfile(self.template, db)
        else:
            self.database = self.databases.clone("sync-simulation", build_server_store)
            db = self.databases.url(self.database)
        engine = make_engine(db)
        changes.install_change_log(engine)  # the office's writes on the store are numbered, as serve's are
        uow = unit_of_work_factory(engine)
        self.process = ServerProcess(db, self.tls, folder / "serve").launch()
        self.server = Server(self.process.url, self.process.fingerprint, uow, engine,
                             {u.key: u for u in list_users(uow(), active_only=False)})
        self.laptops: dict[str, Laptop] = {}
        for key in LAPTOPS:  # made while the server starts
            path = folder / f"{key}.sqlite"
            shutil.copyfile(self.laptop_template, path)
            laptop_engine = make_engine(str(path))
            self.laptops[key] = Laptop(path, laptop_engine, unit_of_work_factory(laptop_engine))
        self.process.wait()
        self.server.url = self.process.url  # on another port if its own was taken meanwhile
        self.down = False  # from a kill of the server until it answers again
        for key, laptop in self.laptops.items():
            client.connect(laptop.uow, self.server.url, key, PASSWORD, self.server.fingerprint)
        with self.server.uow() as w:
            self.intervenant = w.session.scalar(select(Intervenant.id).where(Intervenant.key == "i-aes"))
        self.initial_sessions = set(self._sessions(self.server.engine))
        self.deleted: set[str] = set()
        self.issued: dict[str, tuple] = {}  # number -> (PDF's SHA-256, chain hash) when issued
        self.unreachable = 0
        self.kills: list[str] = []
        for who, visits in zip(USERS, monday):
            self.record_a_days_visits_offline(who, visits)
        # Every example has the server die in the middle of a push once: the first one's, of Monday's visits. It is
        # started again at once and answers a few seconds later, the team working meanwhile.
        self.server_killed_mid_apply(USERS[0], [(0, DAYS[0], 60)], after=0, at_once=True)

    def teardown(self):
        if not hasattr(self, "server"):
            return
        try:
            if hasattr(self, "kills"):  # the programme opened: not a server that could not start
                self.settle_and_check()
        finally:
            self.process.stop()
            for laptop in self.laptops.values():
                laptop.engine.dispose()
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

    @rule(who=st.sampled_from(USERS), visits=VISITS)
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

    # -- statements ----------------------------------------------------------------------------------------------

    def _next_to_issue(self, uow, user, convention: str) -> str:
        """The month a store would issue next in the convention's series: the one after its last issued month."""
        issued = [s.month for s in statements.list_issued_summaries(uow(), user, convention) if not s.closing]
        return next_month(max(issued)) if issued else FIRST_MONTH

    @rule(convention=st.sampled_from(CONVENTIONS))
    def administrator_issues_the_next_month_on_the_server(self, convention):
        """On the server, with the laptops' late sessions still to come."""
        admin = self.server.users[ADMINISTRATION]
        month = self._next_to_issue(self.server.uow, admin, convention)
        if month > LAST_MONTH:
            return
        issued = statements.issue_statement(self.server.uow(), admin, convention, month)
        pdf = statements.issued_pdf(self.server.uow(), admin, convention, month)
        assert hashlib.sha256(pdf).hexdigest() == issued.pdf_sha256
        with self.server.engine.connect() as conn:
            chain = conn.execute(select(Statement.chain_hash).where(Statement.number == issued.number)).scalar_one()
        self.issued[issued.number] = (issued.pdf_sha256, chain)

    @rule(convention=st.sampled_from(CONVENTIONS), synced_first=st.booleans())
    def administration_tries_to_issue_on_its_laptop(self, convention, synced_first):
        """Refused in French, nothing written, whether the laptop holds the server's last statement or an older
        one: the laptop holds the issued statements read-only."""
        if synced_first:
            self._sync(ADMINISTRATION)
        laptop = self.laptops[ADMINISTRATION]
        user = laptop.user(ADMINISTRATION)
        month = self._next_to_issue(laptop.uow, user, convention)
        before = laptop.outbox(), rows(laptop.engine, "statement", None)
        with pytest.raises(ValidationError) as refused:
            statements.issue_statement(laptop.uow(), user, convention, month,
                                       render_pdf=lambda _statement: b"%PDF-1.4 brouillon")
        assert refused.value.message == outbox.SERVER_ONLY_MESSAGE
        assert (laptop.outbox(), rows(laptop.engine, "statement", None)) == before

    # -- the network, the laptops and the server failing ---------------------------------------------------------

    @rule(who=st.sampled_from(LAPTOPS))
    def sync(self, who):
        self._sync(who)

    @rule(who=st.sampled_from(LAPTOPS), path=st.sampled_from(("/api/sync/push", "/api/sync/pull")),
          before=st.booleans())
    def sync_with_a_fault(self, who, path, before):
        try:
            client.sync_once(self.laptops[who].uow, wrap=lambda inner: Lost(inner, path, before))
        except client.ServerUnreachable as exc:
            assert exc.message.startswith("Serveur injoignable")
            self.unreachable += 1

    @rule(who=st.sampled_from(LAPTOPS), batch=st.integers(1, 3))
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

    @rule(who=st.sampled_from(LAPTOPS))
    def laptop_killed_after_its_local_commit(self, who):
        """The process dies once its writes are committed, before any push: a new process opens the copy."""
        laptop = self.laptops[who]
        laptop.engine.dispose()
        engine = make_engine(str(laptop.path))
        assert client.attach_if_connected(engine)
        self.laptops[who] = Laptop(laptop.path, engine, unit_of_work_factory(engine))

    def _in_ledger(self, operations: list[str]) -> set[str]:
        """Those of `operations` the server has answered (applied, conflict or refused), committed."""
        with self.server.engine.connect() as conn:
            return set(conn.execute(select(SyncApplied.operation_id)
                                    .where(SyncApplied.operation_id.in_(operations))).scalars())

    @precondition(lambda self: not self.down)
    @rule(who=st.sampled_from(USERS), visits=VISITS, after=st.integers(0, 100), at_once=st.booleans())
    def server_killed_mid_apply(self, who, visits, after, at_once):
        """Someone back from visits syncs; the server dies (SIGKILL) once it has applied some of the push, each
        operation in its own transaction: the committed ones stay, the one under way is lost, the laptop hears
        nothing. It is started again on the same store at once (answering a few seconds later) or some steps
        later; the laptops find it unreachable meanwhile."""
        self.record_a_days_visits_offline(who, visits)
        laptop = self.laptops[who]
        pending = [op["id"] for op in laptop.outbox() if op["status"] == "pending"]
        fresh = sorted(set(pending) - self._in_ledger(pending))  # not those applied already, their answer lost
        if len(fresh) < 2:
            return
        target = 1 + after % (len(fresh) - 1)  # some, never all, of the push
        outcome = {}

        def push():
            try:
                outcome["report"] = client.sync_once(laptop.uow)
            except client.SyncError as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=push, name="laptop-push")
        thread.start()
        while thread.is_alive() and len(self._in_ledger(fresh)) < target:
            time.sleep(0.003)
        self.process.kill()
        self.down = True
        thread.join(timeout=60)
        assert not thread.is_alive()
        if "error" in outcome:
            assert isinstance(outcome["error"], client.ServerUnreachable), outcome["error"].message
        answered = {op["id"] for op in laptop.outbox() if op["status"] != "pending"}
        assert answered & set(pending) <= self._in_ledger(pending)  # an answer only for what the server committed
        applied = len(self._in_ledger(fresh))
        self.kills.append("mid-apply" if 0 < applied < len(fresh) else "after the push")
        if at_once:
            self.process.launch()

    @precondition(lambda self: self.down and not self.process.alive)
    @rule()
    def server_started_again(self):
        self.process.launch()

    @precondition(lambda self: self.down and self.process.alive)
    @rule()
    def server_answers_again(self):
        self.process.wait()
        self.down = False

    # -- settling and the invariants --------------------------------------------------------------------------

    def _pending(self, who) -> int:
        return sum(op["status"] == "pending" for op in self.laptops[who].outbox())

    def _sync(self, who):
        pending = self._pending(who)
        try:
            return client.sync_once(self.laptops[who].uow)
        except client.ServerUnreachable as exc:  # only while the server is down or starting: said, nothing lost
            assert self.down and exc.message.startswith("Serveur injoignable"), exc.message
            assert self._pending(who) == pending
            self.unreachable += 1
        return None

    def settle_and_check(self):
        if self.down:
            if not self.process.alive:
                self.process.launch()
            self.process.wait()
            self.down = False
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
        self.check_operations()
        self.check_replicas()
        self.check_statements()
        assert self.process.failures() == []  # no unexpected error on the server, killed or not
        outcomes = sorted({op["status"] for laptop in self.laptops.values() for op in laptop.outbox()})
        event(f"{self.server.engine.dialect.name}: operations {', '.join(outcomes) or 'none'}; "
              f"{'with' if self.unreachable else 'without'} unreachable syncs")
        event(f"server killed {'; '.join(sorted(set(self.kills))) or 'never'}")

    def check_operations(self):
        """Every operation applied, resolved from a conflict or refused with its reason: none lost, none twice."""
        with self.server.engine.connect() as conn:
            ledger = dict(conn.execute(select(SyncApplied.operation_id, SyncApplied.outcome)).all())
            trail = set(conn.execute(select(SyncAudit.id)).scalars())
        for laptop in self.laptops.values():
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
        created = {op["record_key"] for laptop in self.laptops.values() for op in laptop.outbox()
                   if op["name"] == "session.record" and op["status"] == "applied"}
        # none lost, none twice: the server holds exactly the sessions it had and those it accepted
        assert set(self._sessions(self.server.engine)) == (self.initial_sessions | created) - self.deleted
        with self.server.engine.connect() as conn:  # a version per change: none applied twice
            assert conn.execute(text("SELECT count(*) FROM home_session WHERE version < 1")).scalar_one() == 0

    def check_replicas(self):
        """Each laptop holds what its user may read of the server's data, as the server has it, and nothing else."""
        for who, laptop in self.laptops.items():
            user = self.server.users[who]
            with self.server.uow() as w:
                scope = None if not user.is_referent else set(w.session.scalars(followed_family_ids(user.id)))
            held = set(rows(laptop.engine, "family", None))
            if scope is not None:
                assert held <= scope, "a laptop holds a family outside its user's scope"
            for table in (*FAMILY_FILE, *STATEMENT_TABLES):
                if user.role not in RULES[table].readers:
                    assert rows(laptop.engine, table, None) == {}, f"{who} holds {table} rows"
                    continue
                masked = masked_columns(table, user.role)
                for row in rows(laptop.engine, table, None).values():  # emptied, never the server's value
                    assert all(row[c] in (None, "", 0, False) for c in masked), (who, table, row)
                mine = rows(laptop.engine, table, scope, masked)
                theirs = rows(self.server.engine, table, scope, masked)
                assert mine == theirs, f"{who}: {table} differs from the server: {differences(mine, theirs)}"

    def check_statements(self):
        with self.server.engine.connect() as conn:
            stored = conn.execute(select(Convention.key, Statement.sequence, Statement.number, Statement.pdf,
                                         Statement.pdf_sha256, Statement.chain_hash)
                                  .join(Convention, Convention.id == Statement.convention_id)).all()
        assert {s.number for s in stored} == set(self.issued)  # issued by the administrator on the server only
        for convention in CONVENTIONS:
            series = sorted(s.sequence for s in stored if s.key == convention)
            assert series == list(range(1, len(series) + 1)), (convention, series)  # unique, without a gap
        for s in stored:  # as issued: its PDF and the chain that seals its lines
            assert (hashlib.sha256(s.pdf).hexdigest(), s.chain_hash) == self.issued[s.number] == (s.pdf_sha256,
                                                                                                   s.chain_hash)
        admin = self.server.users[ADMINISTRATION]
        uow = self.server.uow
        carried_late = False
        for convention in CONVENTIONS:
            issued = statements.list_issued(uow(), admin, convention)
            if not issued:
                continue
            draft = statements.get_statement(uow(), admin, convention, self._next_to_issue(uow, admin, convention))
            for month in sorted({s.month for s in issued}):
                billed = units(statements.recomputed_lines(uow(), admin, convention, month), month)
                carried = defaultdict(int)  # the month's statement, the régularisations issued since, the draft's
                for lines in (*(s.lines for s in issued), draft.lines):
                    for key, quantity in units(lines, month).items():
                        carried[key] += quantity
                assert billed == {k: q for k, q in carried.items() if q}, (convention, month, billed, dict(carried))
                carried_late |= any(line.month == month for s in issued if s.month > month for line in s.lines)
                carried_late |= any(line.month == month for line in draft.lines)
        event(f"statements: {len(stored)} issued{', régularisations carried' if carried_late else ''}")
        self.check_read_only_statements()

    def check_read_only_statements(self):
        """On the administration's laptop issuing is refused; on the coordination's an issued statement stays."""
        self.administration_tries_to_issue_on_its_laptop(CONVENTIONS[0], synced_first=False)  # synced just now
        laptop = self.laptops["coord-durand"]
        with laptop.uow() as w:
            held = w.session.scalars(select(Statement).order_by(Statement.number).limit(1)).first()
            if held is None:
                return
            held.total = held.total + 1
            with pytest.raises(ValidationError) as refused:
                w.commit()
        assert refused.value.message == outbox.SERVER_ONLY_MESSAGE
        assert rows(laptop.engine, "statement", None) == rows(self.server.engine, "statement", None)


@pytest.fixture(scope="module")
def simulation_tls(tmp_path_factory):
    return generate_self_signed(tmp_path_factory.mktemp("tls") / "pair")


@pytest.fixture
def server_store(request, tmp_path_factory):
    """(tests/postgres.py's databases, None) when PostgreSQL can be had (in CI), else (None, a SQLite template)."""
    try:
        return request.getfixturevalue("postgres_databases"), None
    except pytest.skip.Exception:
        return None, server_template(tmp_path_factory.mktemp("server-template"))


# PARCOURS_SIMULATION_EXAMPLES=50 for a longer search on a developer's machine. The default keeps this test near a
# minute of CI: each example starts its own server process and connects four laptops. The first example Hypothesis
# runs is its simplest — the rule of fewest arguments at every step: the administrator issuing every month on the
# server, Monday's visits arriving late at the settle.
def test_a_team_week_of_random_work_and_faults_converges(simulation_tls, server_store, sqlite_template, tmp_path):
    TeamWeek.tls, TeamWeek.folder, TeamWeek.laptop_template = simulation_tls, tmp_path, sqlite_template
    TeamWeek.databases, TeamWeek.template = server_store
    run_state_machine_as_test(TeamWeek, settings=settings(
        max_examples=int(os.environ.get("PARCOURS_SIMULATION_EXAMPLES", 4)), stateful_step_count=25, deadline=None,
        suppress_health_check=list(HealthCheck)))
