"""The laptop's client against a real team server: uvicorn over TLS on 127.0.0.1, its own copy of the programme.

Each test gets a fresh server store (a copy of the programme of tests/service_cases.py, every account with
PASSWORD) and fresh laptop files; the server process is started once per module and serves the current store.
"""
from __future__ import annotations

import json
import shutil
import socket
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from api.app import build_app
from api.tls import generate_self_signed
from models import Family, HomeSession, Parcours
from models.db import head_revision, make_engine, migrate
from services import devices, home_sessions, users
from services.directory import list_users
from services.permissions import SYSTEM, followed_family_ids
from services.sync import changes, client, local
from services.uow import unit_of_work_factory
from tests.api_server.conftest import ServedStore, start_server, stop_server
from tests.service_cases import ACCOUNT_OF, PASSWORD, TODAY, build_template

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Server:
    """The server's store for one test, and what a test needs to act on it as its users."""

    url: str
    fingerprint: str
    uow: object
    engine: object
    users: dict

    def ids(self, model, **where) -> list[str]:
        with self.uow() as w:
            query = select(model.id)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return list(w.session.scalars(query.order_by(model.id)))


@dataclass
class Laptop:
    path: Path
    engine: object
    uow: object
    extra: dict = field(default_factory=dict)

    def user(self, key: str):
        return next(u for u in list_users(self.uow(), active_only=False) if u.key == key)

    def families(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(text("SELECT key FROM family")).scalars())

    def outbox(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(local.OUTBOX).order_by(local.OUTBOX.c.sequence)).mappings()]


def build_server_store(db: str) -> None:
    """The programme of tests/service_cases.py, every account with PASSWORD (a file's path or a database URL)."""
    build_template(db)
    engine = make_engine(db)
    uow = unit_of_work_factory(engine)
    for key in (*ACCOUNT_OF.values(), "ref-other"):
        users.change_password(uow(), SYSTEM, key, PASSWORD)
    engine.dispose()


def server_template(folder: Path) -> Path:
    path = folder / "server.sqlite"
    build_server_store(str(path))
    return path


@pytest.fixture(scope="module")
def sync_served(tmp_path_factory):
    """(store, base URL, fingerprint, server template) — one uvicorn for the module."""
    pair = generate_self_signed(tmp_path_factory.mktemp("tls") / "pair")
    template = server_template(tmp_path_factory.mktemp("server-template"))
    store = ServedStore()
    app = build_app(store, schema_version=head_revision(), today=lambda: TODAY)
    server, thread, url = start_server(app, pair)
    yield store, url, pair.fingerprint, template
    stop_server(server, thread)


def open_server(sync_served, folder: Path) -> Server:
    """The server's store for a test: a copy of the module's SQLite template."""
    path = folder / "server.sqlite"
    shutil.copyfile(sync_served[3], path)
    return serve_store(sync_served, str(path))


def serve_store(sync_served, db: str) -> Server:
    """The running server now serves `db` (a copy of the programme), its change log installed as `serve` does."""
    store, url, fingerprint, _template = sync_served
    engine = make_engine(db)
    changes.install_change_log(engine)
    uow = unit_of_work_factory(engine)
    store.uow = uow
    return Server(url, fingerprint, uow, engine, {u.key: u for u in list_users(uow(), active_only=False)})


def new_laptop(folder: Path, name: str = "laptop") -> Laptop:
    path = folder / f"{name}.sqlite"
    engine = make_engine(str(path))
    migrate(engine)
    return Laptop(path, engine, unit_of_work_factory(engine))


@pytest.fixture
def server(sync_served, tmp_path):
    made = open_server(sync_served, tmp_path)
    yield made
    sync_served[0].uow = None
    made.engine.dispose()


@pytest.fixture
def laptop(server, tmp_path):
    made = new_laptop(tmp_path)
    client.connect(made.uow, server.url, "ref-martin", PASSWORD, server.fingerprint)
    yield made
    made.engine.dispose()


def draft(server: Server, family: str = "F1", **changes) -> home_sessions.SessionDraft:
    with server.uow() as w:
        family_id = w.session.scalar(select(Family.id).where(Family.key == family))
        from models import Intervenant

        intervenant = w.session.scalar(select(Intervenant.id).where(Intervenant.key == "i-aes"))
    return replace(home_sessions.SessionDraft(family_id, intervenant, date(2025, 3, 18), 60, notes="Séance calme"),
                   **changes)


# -- connecting -------------------------------------------------------------------------------------------------

def test_connecting_pulls_the_referents_families_and_no_other(server, laptop):
    with server.uow() as w:
        followed = set(w.session.scalars(select(Family.key).where(
            Family.id.in_(followed_family_ids(server.users["ref-martin"].id)))))
    assert laptop.families() == followed and {"F1", "F2"} <= followed and "F3" not in followed
    with laptop.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM app_user WHERE password_hash IS NOT NULL")).scalar_one() == 0
        state = local.read_state(conn)
    assert (state["user_key"], state["fingerprint"]) == ("ref-martin", server.fingerprint)
    assert state["device_token"] and state["user_id"] == server.users["ref-martin"].id
    status = client.sync_status(laptop.uow(), laptop.user("ref-martin"))
    assert status.connected and status.pending == 0 and status.server == server.url


def test_a_certificate_other_than_the_pinned_one_is_refused_before_anything_is_sent(server, tmp_path):
    laptop = new_laptop(tmp_path)
    other = "AB:" * 31 + "AB"
    with pytest.raises(client.FingerprintMismatch, match="autre certificat"):
        client.connect(laptop.uow, server.url, "ref-martin", PASSWORD, other)
    with laptop.engine.connect() as conn:
        assert local.read_state(conn) is None
    assert devices.list_devices(server.uow(), server.users["admin-petit"]) == ()


def test_a_wrong_password_is_refused_in_french_and_nothing_is_stored(server, tmp_path):
    laptop = new_laptop(tmp_path)
    with pytest.raises(client.SyncError, match="(?i)mot de passe|identifiant"):
        client.connect(laptop.uow, server.url, "ref-martin", "pas le bon", server.fingerprint)
    with laptop.engine.connect() as conn:
        assert local.read_state(conn) is None


# -- pushing ----------------------------------------------------------------------------------------------------

def test_a_session_recorded_offline_reaches_the_server_once_with_its_laptop_made_id(server, laptop):
    row = home_sessions.record_session(laptop.uow(), laptop.user("ref-martin"), draft(server), TODAY)
    report = client.sync_once(laptop.uow)
    assert (report.applied, report.conflicts, report.refused) == (report.pushed, 0, 0) and report.pushed >= 1
    assert server.ids(HomeSession, id=row.id) == [row.id]
    assert {op["status"] for op in laptop.outbox()} == {"applied"}
    assert client.sync_once(laptop.uow).pushed == 0  # nothing left to send


class DropResponses(httpx.BaseTransport):
    """Lets the request reach the server (which commits), then loses the answer: the laptop sees a broken line."""

    def __init__(self, inner: httpx.BaseTransport, path: str):
        self.inner, self.path, self.dropped = inner, path, 0

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        if request.url.path == self.path:
            response.read()
            self.dropped += 1
            raise httpx.ReadError("connexion coupée", request=request)
        return response

    def close(self):
        self.inner.close()


def test_a_push_whose_answer_is_lost_after_the_server_committed_is_applied_once(server, laptop):
    row = home_sessions.record_session(laptop.uow(), laptop.user("ref-martin"), draft(server), TODAY)
    with pytest.raises(client.ServerUnreachable, match="restent en attente"):
        client.sync_once(laptop.uow, wrap=lambda inner: DropResponses(inner, "/api/sync/push"))
    assert server.ids(HomeSession, id=row.id) == [row.id]  # the server did commit
    assert {op["status"] for op in laptop.outbox()} == {"pending"}  # the laptop does not know it yet
    report = client.sync_once(laptop.uow)  # the replay: the stored answers, nothing applied twice
    assert report.applied == report.pushed and report.conflicts == report.refused == 0
    assert server.ids(HomeSession, id=row.id) == [row.id]
    assert {op["status"] for op in laptop.outbox()} == {"applied"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_without_the_server_the_sync_says_so_in_french_and_keeps_every_change(server, laptop):
    user = laptop.user("ref-martin")
    home_sessions.record_session(laptop.uow(), user, draft(server), TODAY)
    home_sessions.record_session(laptop.uow(), user, draft(server, duration_minutes=45), TODAY)
    pending = len(laptop.outbox())
    with laptop.engine.begin() as conn:
        local.write_state(conn, server_url=f"https://127.0.0.1:{free_port()}")
    with pytest.raises(client.ServerUnreachable) as refused:
        client.sync_once(laptop.uow)
    assert refused.value.message.startswith("Serveur injoignable : ")
    assert f"vos {pending} modifications restent en attente" in refused.value.message
    assert [op["status"] for op in laptop.outbox()] == ["pending"] * pending
    assert client.sync_status(laptop.uow(), user).last_error == refused.value.message


# -- conflicts --------------------------------------------------------------------------------------------------

def synced_session(server: Server, laptop: Laptop):
    row = home_sessions.record_session(laptop.uow(), laptop.user("ref-martin"), draft(server), TODAY)
    client.sync_once(laptop.uow)
    return row


def test_edits_of_different_fields_merge_and_the_laptop_receives_the_result(server, laptop):
    row = synced_session(server, laptop)
    home_sessions.update_session(server.uow(), server.users["coord-durand"], row.id,
                                 draft(server, notes="Corrigé au bureau"), TODAY)
    home_sessions.update_session(laptop.uow(), laptop.user("ref-martin"), row.id,
                                 draft(server, duration_minutes=90), TODAY)
    report = client.sync_once(laptop.uow)
    assert report.conflicts == 0 and report.refused == 0
    for store in (server, laptop):
        got = home_sessions.get_session(store.uow(), store.users["ref-martin"] if store is server
                                        else laptop.user("ref-martin"), row.id)
        assert (got.duration_minutes, got.notes) == (90, "Corrigé au bureau")


def duration_changed_on_both_sides(server: Server, laptop: Laptop):
    """A synced session whose duration the coordination sets to 75 on the server and the référent to 90 offline."""
    row = synced_session(server, laptop)
    user = laptop.user("ref-martin")
    home_sessions.update_session(server.uow(), server.users["coord-durand"], row.id,
                                 draft(server, duration_minutes=75), TODAY)
    home_sessions.update_session(laptop.uow(), user, row.id, draft(server, duration_minutes=90), TODAY)
    return row, user, client.sync_once(laptop.uow)


def test_the_same_field_changed_on_both_sides_is_a_conflict_shown_then_resolved_by_a_person(server, laptop):
    row, user, report = duration_changed_on_both_sides(server, laptop)
    assert report.conflicts == 1
    [conflict] = client.list_conflicts(laptop.uow(), user)
    [shown] = conflict.fields
    assert (shown.name, shown.base, shown.local, shown.server) == ("duration_minutes", 60, 90, 75)
    assert home_sessions.get_session(laptop.uow(), user, row.id).duration_minutes == 90  # nothing overwritten
    client.resolve_conflict(laptop.uow(), user, conflict.key, {"duration_minutes": "local"})
    assert client.list_conflicts(laptop.uow(), user) == ()
    report = client.sync_once(laptop.uow)
    assert report.conflicts == 0 and report.refused == 0 and report.applied >= 1
    assert home_sessions.get_session(server.uow(), server.users["coord-durand"], row.id).duration_minutes == 90


def test_a_conflict_resolved_with_the_servers_value_takes_it_locally(server, laptop):
    row, user, _ = duration_changed_on_both_sides(server, laptop)
    [conflict] = client.list_conflicts(laptop.uow(), user)
    client.resolve_conflict(laptop.uow(), user, conflict.key, {"duration_minutes": "server"})
    client.sync_once(laptop.uow)
    assert home_sessions.get_session(laptop.uow(), user, row.id).duration_minutes == 75
    assert home_sessions.get_session(server.uow(), server.users["coord-durand"], row.id).duration_minutes == 75


# -- scope and revocation ---------------------------------------------------------------------------------------

def test_a_family_reassigned_to_another_referent_leaves_the_laptop_audited(server, laptop):
    other = server.users["ref-other"].id
    with server.uow() as w:
        family = w.session.scalars(select(Family).where(Family.key == "F2")).one()
        family.referent_id = other
        for parcours in w.session.scalars(select(Parcours).join(Parcours.child).where(
                Parcours.child.has(family_id=family.id))):
            parcours.referent_id = other
        w.commit()
    before = laptop.families()
    client.sync_once(laptop.uow)
    assert laptop.families() == before - {"F2"} and "F1" in before
    with laptop.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM home_session WHERE family_id NOT IN "
                                 "(SELECT id FROM family)")).scalar_one() == 0
        assert conn.execute(text("SELECT record_key FROM audit_log WHERE action = 'leave_scope'")).scalars().all() \
            == ["F2"]


def test_a_revoked_device_erases_its_copy_at_its_next_contact(server, laptop):
    with laptop.engine.connect() as conn:
        device = local.read_state(conn)["device_key"]
    devices.revoke_device(server.uow(), server.users["admin-petit"], device)
    with pytest.raises(client.DeviceRevoked, match="effacée"):
        client.sync_once(laptop.uow)
    assert not laptop.path.exists()
    assert not Path(f"{laptop.path}-wal").exists()


# -- the command line -------------------------------------------------------------------------------------------

def run_main(argv, stdin: str = "", monkeypatch=None, capsys=None):
    import io

    import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_connects_records_through_the_outbox_and_syncs(server, tmp_path, monkeypatch, capsys,
                                                                       tmp_path_factory):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    db = str(tmp_path / "cli-laptop.sqlite")
    code, out, err = run_main(["--db", db, "connect", server.url, "--user", "ref-martin", "--password-stdin",
                               "--fingerprint", server.fingerprint], PASSWORD + "\n", monkeypatch, capsys)
    assert code == 0, err
    assert "connecté" in out
    from services.local_crypto import is_encrypted

    assert is_encrypted(db)  # the copy connect made is encrypted: the account's password opens it
    code, out, err = run_main(["--db", db, "status", "--json"], "", monkeypatch, capsys)
    assert code == 2 and "--unlock-stdin" in err and "Traceback" not in err
    unlock = ["--db", db, "--unlock-stdin"]
    code, out, err = run_main([*unlock, "status", "--json"], PASSWORD + "\n", monkeypatch, capsys)
    status = json.loads(out)
    assert (status["pending"], status["server"]) == (0, server.url) and code == 0
    code, out, err = run_main([*unlock, "sync", "--json"], PASSWORD + "\n", monkeypatch, capsys)
    assert code == 0 and json.loads(out) == {"pushed": 0, "applied": 0, "conflicts": 0, "refused": 0,
                                             "pulled": json.loads(out)["pulled"]}
    code, out, err = run_main([*unlock, "conflicts", "--json"], PASSWORD + "\n", monkeypatch, capsys)
    assert code == 0 and json.loads(out) == {"conflicts": [], "refused": []}
    code, out, err = run_main([*unlock, "status", "--json"], "pas-le-bon\n", monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err


def test_connecting_a_copy_twice_is_refused_and_leaves_the_connected_copy_whole(server, tmp_path, monkeypatch,
                                                                                 capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    db = str(tmp_path / "twice.sqlite")
    connect = ["--db", db, "connect", server.url, "--user", "ref-martin", "--password-stdin",
               "--fingerprint", server.fingerprint]
    assert run_main(connect, PASSWORD + "\n", monkeypatch, capsys)[0] == 0
    code, out, err = run_main(connect, PASSWORD + "\n", monkeypatch, capsys)
    assert code == 2 and "déjà connecté" in err and "Traceback" not in err
    code, out, err = run_main(["--db", db, "--unlock-stdin", "status", "--json"], PASSWORD + "\n", monkeypatch,
                              capsys)
    assert code == 0 and json.loads(out)["server"] == server.url  # the copy and its key are still there


def test_the_command_line_sync_without_the_server_exits_2_in_french(server, laptop, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    home_sessions.record_session(laptop.uow(), laptop.user("ref-martin"), draft(server), TODAY)
    with laptop.engine.begin() as conn:
        local.write_state(conn, server_url=f"https://127.0.0.1:{free_port()}")
    laptop.engine.dispose()
    code, out, err = run_main(["--db", str(laptop.path), "sync"], "", monkeypatch, capsys)
    assert code == 2 and err.startswith("Serveur injoignable") and "Traceback" not in err
    code, out, err = run_main(["--db", str(laptop.path), "status", "--json"], "", monkeypatch, capsys)
    assert json.loads(out)["pending"] >= 1


def test_a_change_refused_by_the_server_is_kept_with_its_reason_until_withdrawn(server, laptop):
    row = synced_session(server, laptop)
    user = laptop.user("ref-martin")
    home_sessions.delete_session(server.uow(), server.users["coord-durand"], row.id)
    home_sessions.update_session(laptop.uow(), user, row.id, draft(server, duration_minutes=90), TODAY)
    report = client.sync_once(laptop.uow)
    assert report.refused == 1
    [refusal] = client.list_refused(laptop.uow(), user)
    assert refusal.record_key == row.id and refusal.reason[0].isupper()
    assert home_sessions.get_session(laptop.uow(), user, row.id).duration_minutes == 90  # kept for correction
    client.withdraw_refused(laptop.uow(), user, refusal.operation_id)
    assert client.list_refused(laptop.uow(), user) == ()
    assert server.ids(HomeSession, id=row.id) == [] and laptop_sessions(laptop, row.id) == 0
    assert client.sync_once(laptop.uow).refused == 0  # the withdrawal's audit entry travels, nothing else


def laptop_sessions(laptop: Laptop, session_id: str) -> int:
    with laptop.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM home_session WHERE id = :i"), {"i": session_id}).scalar_one()


NEW_FAMILY_FILE = {"format": "parcours-dataset/1", "families": [
    {"key": "F9", "name": "Famille Neuve", "commune": "Bourg-en-Bresse", "referent": "ref-martin"}]}


def test_on_a_connected_copy_the_import_verb_acts_as_the_enrolled_user(server, laptop, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    dataset = tmp_path / "famille.json"
    dataset.write_text(json.dumps(NEW_FAMILY_FILE), encoding="utf-8")
    laptop.engine.dispose()
    code, out, err = run_main(["--db", str(laptop.path), "import", str(dataset)], "", monkeypatch, capsys)
    assert code == 2 and "Référent" in err and "Traceback" not in err  # a référent may not import: refused
    assert "F9" not in laptop.families() and laptop.outbox() == []


def test_on_a_coordinators_copy_an_import_goes_through_the_outbox_to_the_server(server, tmp_path, monkeypatch,
                                                                                 capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    office = new_laptop(tmp_path, "office")
    client.connect(office.uow, server.url, "coord-durand", PASSWORD, server.fingerprint)
    office.engine.dispose()
    dataset = tmp_path / "famille.json"
    dataset.write_text(json.dumps(NEW_FAMILY_FILE), encoding="utf-8")
    code, out, err = run_main(["--db", str(office.path), "import", str(dataset)], "", monkeypatch, capsys)
    assert code == 0, err
    names = [op["name"] for op in office.outbox()]
    assert "family.create" in names and {op["actor_key"] for op in office.outbox()} == {"coord-durand"}
    with office.engine.connect() as conn:
        actors = set(conn.execute(text("SELECT actor_key FROM audit_log")).scalars())
    assert actors == {"coord-durand"}  # not the machine's operator
    report = client.sync_once(office.uow)
    assert report.refused == 0, client.list_refused(office.uow(), office.user("coord-durand"))
    with server.uow() as w:
        assert w.session.scalar(select(Family.key).where(Family.key == "F9")) == "F9"


def test_a_first_pull_in_small_pages_takes_a_child_that_comes_before_its_parent(server, tmp_path, monkeypatch):
    with server.uow() as w:  # the family's latest change is now after its sessions'
        family = w.session.scalars(select(Family).where(Family.key == "F1")).one()
        family.notes = "Revue au bureau"
        w.commit()
    with server.engine.connect() as conn:
        numbers = dict(conn.execute(text("SELECT table_name, min(number) FROM sync_change WHERE family_id = :f "
                                         "GROUP BY table_name"), {"f": family.id}).all())
    assert numbers["home_session"] + 5 < numbers["family"]  # its sessions come pages before it
    monkeypatch.setattr(client, "PULL_PAGE", 5)
    laptop = new_laptop(tmp_path, "small-pages")
    done = client.connect(laptop.uow, server.url, "ref-martin", PASSWORD, server.fingerprint)
    assert "F1" in laptop.families() and done.pulled > 5
    with laptop.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM home_session s JOIN family f ON f.id = s.family_id "
                                 "WHERE f.key = 'F1'")).scalar_one() > 0
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    laptop.engine.dispose()


def test_the_coordinations_copy_receives_issued_statements_with_their_pdf(server, tmp_path):
    from services.billing.statements import issue_statement

    issued = issue_statement(server.uow(), server.users["admin-petit"], "ap-2025", "2025-01")
    office = new_laptop(tmp_path, "office")
    client.connect(office.uow, server.url, "coord-durand", PASSWORD, server.fingerprint)
    with office.engine.connect() as conn:
        assert conn.execute(text("SELECT number, month FROM statement")).all() == [(issued.number, "2025-01")]
    with server.engine.connect() as conn:
        expected = conn.execute(text("SELECT pdf, chain_hash FROM statement")).one()
        lines = conn.execute(text("SELECT count(*) FROM statement_line")).scalar_one()
    with office.engine.connect() as conn:
        assert conn.execute(text("SELECT pdf, chain_hash FROM statement")).one() == expected  # the PDF unchanged
        assert conn.execute(text("SELECT count(*) FROM statement_line")).scalar_one() == lines
    office.engine.dispose()  # issuing on a connected copy is refused: tests/test_sync_outbox.py


def test_a_copy_that_already_holds_families_is_not_connected(sync_served, server, tmp_path):
    standalone = tmp_path / "standalone.sqlite"
    shutil.copyfile(sync_served[3], standalone)
    engine = make_engine(str(standalone))
    with pytest.raises(client.SyncError, match="contient déjà des familles"):
        client.connect(unit_of_work_factory(engine), server.url, "ref-martin", PASSWORD, server.fingerprint)
    with engine.connect() as conn:
        assert local.read_state(conn) is None
    engine.dispose()
    assert devices.list_devices(server.uow(), server.users["admin-petit"]) == ()


def test_the_administrations_copy_holds_families_as_names_and_no_notes(server, tmp_path):
    desk = new_laptop(tmp_path, "admin")
    client.connect(desk.uow, server.url, "admin-petit", PASSWORD, server.fingerprint)
    with desk.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM family")).scalar_one() > 0
        assert conn.execute(text("SELECT count(*) FROM family WHERE notes IS NOT NULL OR address IS NOT NULL")
                            ).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM home_session WHERE notes IS NOT NULL")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM child")).scalar_one() == 0
    desk.engine.dispose()


def test_without_a_fingerprint_the_certificate_presented_at_connection_is_pinned(server, tmp_path):
    laptop = new_laptop(tmp_path, "trusting")
    done = client.connect(laptop.uow, server.url, "ref-martin", PASSWORD)
    assert done.fingerprint == server.fingerprint  # said to the person, to compare with the IT's
    with laptop.engine.connect() as conn:
        assert local.read_state(conn)["fingerprint"] == server.fingerprint
    with laptop.engine.begin() as conn:  # as if another server answered at that address later
        local.write_state(conn, fingerprint=client.normalised_fingerprint("00" * 32))
    with pytest.raises(client.FingerprintMismatch):
        client.sync_once(laptop.uow)
    laptop.engine.dispose()


# -- the password of an encrypted connected copy: the lock screen, a password changed elsewhere or here ----------

NEW_PASSWORD = "lanterne-orage-pivot-7"


def encrypted_laptop(server: Server, folder: Path, name: str = "chiffree", user: str = "ref-martin") -> Laptop:
    """A copy encrypted on this computer (services.local_crypto), connected as `user`: what main.py makes."""
    from services import local_crypto

    path = folder / f"{name}.sqlite"
    engine = make_engine(str(path), key=local_crypto.create_encrypted_copy(path, PASSWORD))
    migrate(engine)
    made = Laptop(path, engine, unit_of_work_factory(engine))
    client.connect(made.uow, server.url, user, PASSWORD, server.fingerprint)
    return made


@pytest.fixture
def encrypted(server, tmp_path):
    made = encrypted_laptop(server, tmp_path)
    yield made
    made.engine.dispose()


def test_the_lock_screen_of_an_encrypted_copy_checks_the_password_against_its_key_file(encrypted):
    assert client.copy_file(encrypted.uow) == encrypted.path
    user = client.unlock_screen(encrypted.uow, "ref-martin", PASSWORD)
    assert (user.key, user.role) == ("ref-martin", "referent")
    with pytest.raises(client.DomainError) as refused:
        client.unlock_screen(encrypted.uow, "ref-martin", "pas le bon")
    assert refused.value.message == "Mot de passe incorrect."


def test_the_lock_screen_of_an_encrypted_copy_waits_after_five_failures_as_the_login_does(encrypted):
    from datetime import datetime, timedelta, timezone

    now = [datetime(2026, 3, 14, 9, 0, tzinfo=timezone.utc)]
    clock = lambda: now[0]  # noqa: E731
    for _ in range(4):
        with pytest.raises(client.DomainError, match="^Mot de passe incorrect.$"):
            client.unlock_screen(encrypted.uow, "ref-martin", "pas le bon", clock=clock)
    with pytest.raises(users.TooManyAttempts, match="réessayez dans 30 secondes"):
        client.unlock_screen(encrypted.uow, "ref-martin", "pas le bon", clock=clock)
    with pytest.raises(users.TooManyAttempts):  # even the right one waits: guesses made meanwhile are not tried
        client.unlock_screen(encrypted.uow, "ref-martin", PASSWORD, clock=clock)
    now[0] += timedelta(seconds=31)
    assert client.unlock_screen(encrypted.uow, "ref-martin", PASSWORD, clock=clock).key == "ref-martin"
    with pytest.raises(client.DomainError, match="^Mot de passe incorrect.$"):  # a success starts the count again
        client.unlock_screen(encrypted.uow, "ref-martin", "pas le bon", clock=clock)


def test_the_lock_screen_of_a_standalone_copy_still_logs_in_with_the_accounts_hash(server):
    assert client.copy_file(server.uow) is None
    assert client.unlock_screen(server.uow, "ref-martin", PASSWORD).key == "ref-martin"
    with pytest.raises(users.AuthenticationFailed):
        client.unlock_screen(server.uow, "ref-martin", "pas le bon")


def test_a_password_changed_on_the_server_rewraps_the_key_once_the_server_confirms_it(server, encrypted):
    from services import local_crypto

    users.change_password(server.uow(), SYSTEM, "ref-martin", NEW_PASSWORD)  # changed on another computer
    with pytest.raises(local_crypto.WrongPassword):
        local_crypto.unlock(encrypted.path, NEW_PASSWORD)  # the key is still wrapped by the old one
    client.confirm_new_password(encrypted.uow, PASSWORD, NEW_PASSWORD)
    assert local_crypto.unlock(encrypted.path, NEW_PASSWORD)
    with pytest.raises(local_crypto.WrongPassword):
        local_crypto.unlock(encrypted.path, PASSWORD)


def test_a_new_password_the_server_does_not_know_leaves_the_key_wrapped_by_the_old_one(server, encrypted):
    from services import local_crypto

    with pytest.raises(client.PasswordNotConfirmed, match="s'ouvre toujours avec l'ancien"):
        client.confirm_new_password(encrypted.uow, PASSWORD, "une-faute-de-frappe-42")
    assert local_crypto.unlock(encrypted.path, PASSWORD)
    with pytest.raises(local_crypto.WrongPassword):  # a wrong previous password: refused before anything is sent
        client.confirm_new_password(encrypted.uow, "pas le bon", NEW_PASSWORD)


def test_without_the_server_a_new_password_waits_and_the_old_one_still_opens_the_copy(server, encrypted):
    from services import local_crypto

    users.change_password(server.uow(), SYSTEM, "ref-martin", NEW_PASSWORD)
    with encrypted.engine.begin() as conn:
        local.write_state(conn, server_url=f"https://127.0.0.1:{free_port()}")
    with pytest.raises(client.ServerUnreachable):
        client.confirm_new_password(encrypted.uow, PASSWORD, NEW_PASSWORD)
    assert local_crypto.unlock(encrypted.path, PASSWORD)


def test_a_password_changed_from_this_computer_changes_on_the_server_and_rewraps_at_once(server, encrypted):
    from services import local_crypto

    client.change_own_password(encrypted.uow, PASSWORD, NEW_PASSWORD)
    assert users.authenticate(server.uow(), "ref-martin", NEW_PASSWORD).key == "ref-martin"
    assert local_crypto.unlock(encrypted.path, NEW_PASSWORD)
    with pytest.raises(local_crypto.WrongPassword):
        client.change_own_password(encrypted.uow, PASSWORD, "encore-un-autre-mot-9")  # the old one no longer opens


# -- what a conflict or a refusal names -------------------------------------------------------------------------

def test_a_conflict_names_its_session_by_date_and_family_and_its_fields_in_french(server, laptop):
    _, user, _ = duration_changed_on_both_sides(server, laptop)
    with laptop.engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM family WHERE key = 'F1'")).scalar_one()
    [conflict] = client.list_conflicts(laptop.uow(), user)
    assert conflict.label == f"Séance du 18/03/2025 — famille {name} (F1)"
    assert client.field_label("duration_minutes", conflict.record_table) == "Durée (minutes)"
    assert client.field_label("name", "family") == "Nom du foyer" and client.field_label("name", "guardian") == "Nom"


def test_each_kind_of_record_is_named_from_this_copy_and_a_record_gone_by_its_short_id(server, laptop):
    from models import Child, Guardian, Orientation
    from services.formatting import format_date

    with laptop.uow() as w:
        family = w.session.scalars(select(Family).where(Family.key == "F1")).one()
        [guardian] = w.session.scalars(select(Guardian).where(Guardian.family_id == family.id))
        [parcours] = w.session.scalars(select(Parcours).join(Child).where(Child.family_id == family.id))
        child = w.session.get(Child, parcours.child_id)
        [orientation] = w.session.scalars(select(Orientation).where(Orientation.family_id == family.id))
        label = lambda table, key: client.record_label(w.session, table, key)  # noqa: E731
        assert label("family", family.id) == f"Famille {family.name} (F1)"
        assert label("child", child.id) == f"Enfant {child.first_name} {child.last_name}"
        assert label("guardian", guardian.id) == f"Responsable {guardian.name} — famille {family.name} (F1)"
        assert label("parcours", parcours.id) == f"Parcours de {child.first_name} {child.last_name}"
        assert label("orientation", orientation.id) == (f"Orientation de l'EPS du {format_date(orientation.eps_date)}"
                                                        f" — famille {family.name} (F1)")
        assert label("home_session", "ca4d3b56-0000-4000-8000-000000000000") == "Séance ca4d3b56"
        assert label("eps_meeting", "ca4d3b56-0000-4000-8000-000000000000") == "Séance d'EPS ca4d3b56"


def test_an_eps_situation_is_named_by_its_meeting_and_family(server, tmp_path):
    from models import EpsMeeting, EpsSituation

    coordination = new_laptop(tmp_path, "coordination")
    client.connect(coordination.uow, server.url, "coord-durand", PASSWORD, server.fingerprint)
    with coordination.uow() as w:
        situation = w.session.scalars(select(EpsSituation)).first()
        assert situation is not None  # the programme has an EPS meeting with its situations
        meeting = w.session.get(EpsMeeting, situation.eps_meeting_id)
        family = w.session.get(Family, situation.family_id)
        assert client.record_label(w.session, "eps_meeting", meeting.id) == \
            f"Séance d'EPS du {meeting.date.strftime('%d/%m/%Y')}"
        assert client.record_label(w.session, "eps_situation", situation.id) == \
            f"Situation de l'EPS du {meeting.date.strftime('%d/%m/%Y')} — famille {family.name} ({family.key})"
    assert client.field_label("recommendation", "eps_situation") == "Préconisation"
    coordination.engine.dispose()


def test_the_command_line_lists_a_conflict_with_its_label_and_french_field_names(server, tmp_path, monkeypatch,
                                                                                 capsys):
    made = new_laptop(tmp_path, "cli")
    client.connect(made.uow, server.url, "ref-martin", PASSWORD, server.fingerprint)
    duration_changed_on_both_sides(server, made)
    made.engine.dispose()
    code, out, _ = run_main(["--db", str(made.path), "conflicts", "--json"], "", monkeypatch, capsys)
    [conflict] = json.loads(out)["conflicts"]
    assert code == 0 and conflict["label"].startswith("Séance du 18/03/2025 — famille ")
    assert conflict["fields"]["duration_minutes"] == {"label": "Durée (minutes)", "base": 60, "local": 90,
                                                      "server": 75}
    code, out, _ = run_main(["--db", str(made.path), "conflicts"], "", monkeypatch, capsys)
    assert "— Séance du 18/03/2025 — famille " in out and "Séance modifiée" in out
    assert "Durée (minutes) : au départ 60, sur ce poste 90, sur le serveur 75" in out


def test_the_command_line_takes_a_password_changed_elsewhere_or_changes_it_from_here(server, tmp_path, monkeypatch,
                                                                                    capsys):
    from services import local_crypto

    made = encrypted_laptop(server, tmp_path)
    made.engine.dispose()
    users.change_password(server.uow(), SYSTEM, "ref-martin", NEW_PASSWORD)  # on another computer
    base = ["--db", str(made.path), "--unlock-stdin"]
    code, _, err = run_main([*base, "status"], NEW_PASSWORD + "\n", monkeypatch, capsys)
    assert code == 2 and err.startswith("Mot de passe incorrect")  # the key still wrapped by the old one
    code, out, err = run_main([*base, "password", "--changed-elsewhere", "--password-stdin"],
                              f"{PASSWORD}\n{PASSWORD}\n{NEW_PASSWORD}\n", monkeypatch, capsys)
    assert code == 0 and "confirmé" in out, err
    assert local_crypto.unlock(made.path, NEW_PASSWORD)
    third = "ruisseau-tambour-craie-3"
    code, out, err = run_main([*base, "password", "--password-stdin"],
                              f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n{third}\n", monkeypatch, capsys)
    assert code == 0 and "changé sur le serveur" in out, err
    assert users.authenticate(server.uow(), "ref-martin", third).key == "ref-martin"
    assert local_crypto.unlock(made.path, third)
    code, _, err = run_main([*base, "password", "--changed-elsewhere", "--password-stdin"],
                            f"{third}\n{third}\nune-faute-de-frappe-42\n", monkeypatch, capsys)
    assert code == 2 and "s'ouvre toujours avec l'ancien" in err and local_crypto.unlock(made.path, third)
