"""The team server's side of the sync (services.sync.server): each operation applied through its service, the
conflict rule, idempotency, the change numbers in commit order, and the pull's scope. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import event, select, text

from models import AuditEntry, Child, Family, Guardian, HomeSession, Orientation, Parcours, SyncApplied
from services import devices, family_records, home_sessions
from services.sync.changes import install_change_log
from services.sync.operations import BY_NAME, TABLE_OPERATIONS, VERBS
from services.sync.server import apply_operations, changes_after, conflicting_fields, pushing_device
from tests.both_stores import env, template  # noqa: F401 (fixtures, on both stores)
from tests.service_cases import F1_NOTE, F3_NOTE, TODAY

REFERENT, OTHER, COORDINATOR, ADMINISTRATOR = "ref-martin", "ref-other", "coord-durand", "admin-petit"


@pytest.fixture
def server(env):
    """The programme served: its change log installed (numbers for the records already there)."""
    install_change_log(env.engine)
    return env


class Laptop:
    """A device of one user, making operations as a laptop's outbox would."""

    def __init__(self, env, user_key: str):
        self.env, self.user = env, env.users[user_key]
        key = devices.enrol_device(env.uow(), self.user, f"Portable de {user_key}").device.key
        self.device = pushing_device(env.uow(), self.user, key)
        self.sequence = 0

    def op(self, name: str, record: str, fields: dict, base_version: int | None = None, **extra) -> dict:
        self.sequence += 1
        return {"id": str(uuid.uuid4()), "device": self.device.key, "sequence": self.sequence, "name": name,
                "record": record, "base_version": base_version, "fields": fields, "actor": self.user.key,
                "local_time": "2025-03-20T10:00:00+01:00", **extra}

    def push(self, *operations):
        return apply_operations(self.env.uow, self.device, list(operations))

    def pull(self, after: int = 0, limit: int = 5000):
        return changes_after(self.env.uow(), self.user, after, limit)


def record_of(env, model, record_id):
    with env.uow() as w:
        record = w.session.get(model, record_id)
        if record is None:
            return None
        w.session.expunge(record)
        return record


def audit_entries(env, action: str | None = None) -> list[AuditEntry]:
    with env.uow() as w:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        if action:
            query = query.where(AuditEntry.action == action)
        entries = list(w.session.scalars(query))
        w.session.expunge_all()  # readable once the unit of work is left (it rolls back)
        return entries


def changed(value, base=None) -> dict:
    return {"base": base, "value": value}


def new_session_fields(env, family: str = "F1", **overrides) -> dict:
    values = {"family_id": env.id("family", family), "intervenant_id": env.id("intervenant", "i-aes"),
              "date": "2025-03-18", "start_time": "10:00:00", "duration_minutes": 60, "status": "held",
              "referent_present": True, "children_present": 2, "notes": "Séance au domicile", **overrides}
    return {name: changed(value) for name, value in values.items()}


# -- the table of operations -------------------------------------------------------------------------------------

def test_every_operation_has_one_name_and_the_laptop_finds_it_by_table_and_kind():
    assert len(BY_NAME) == len(VERBS)
    for verb in VERBS:
        assert TABLE_OPERATIONS[verb.table][verb.kind] == verb.name


VALUES = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["", "a", "b", "2025-03-18"]), st.booleans())


@given(st.dictionaries(st.sampled_from(["notes", "duration_minutes", "date", "status"]),
                       st.tuples(VALUES, VALUES, VALUES), max_size=4))
def test_a_field_conflicts_exactly_when_the_server_changed_it_to_something_else(fields):
    given_fields = {name: (base, local) for name, (base, local, _server) in fields.items()}
    current = {name: server for name, (_base, _local, server) in fields.items()}
    clashes = conflicting_fields(given_fields, current)
    for name, (base, local, server) in fields.items():
        changed_elsewhere = server != base and server != local
        assert (name in clashes) == changed_elsewhere
        if changed_elsewhere:
            assert clashes[name] == {"base": base, "local": local, "server": server}


# -- applying ----------------------------------------------------------------------------------------------------

def test_a_session_recorded_offline_is_created_with_the_laptops_id_and_key_through_the_service(server):
    laptop = Laptop(server, REFERENT)
    session_id = str(uuid.uuid4())
    fields = {**new_session_fields(server), "key": changed("S-LAPTOP-1")}
    [result] = laptop.push(laptop.op("session.record", session_id, fields))
    assert (result.outcome, result.version) == ("applied", 1)
    stored = record_of(server, HomeSession, session_id)
    assert (stored.key, stored.duration_minutes, stored.notes) == ("S-LAPTOP-1", 60, "Séance au domicile")
    created = audit_entries(server, "create")[-1]
    assert (created.actor_key, created.record_type, created.record_key) == (REFERENT, "home_session", "S-LAPTOP-1")


def test_the_same_operation_sent_twice_is_applied_once_and_the_second_answer_is_the_first(server):
    laptop = Laptop(server, REFERENT)
    operation = laptop.op("session.record", str(uuid.uuid4()), new_session_fields(server))
    before = len(audit_entries(server))
    [first] = laptop.push(operation)
    [again] = laptop.push(operation)
    assert first.outcome == "applied"
    assert (again.outcome, again.original, again.version) == ("duplicate", "applied", first.version)
    with server.uow() as w:
        assert w.session.scalar(select(HomeSession.id).where(HomeSession.id == operation["record"])) is not None
        assert len(w.session.scalars(select(SyncApplied)).all()) == 1
    assert len(audit_entries(server)) == before + 1


def test_fields_that_do_not_overlap_merge_and_the_merge_is_audited(server):
    coordinator, laptop = Laptop(server, COORDINATOR), Laptop(server, REFERENT)
    session_id = server.id("session", "S1")
    read = record_of(server, HomeSession, session_id)
    [office] = coordinator.push(coordinator.op("session.update", session_id,
                                               {"notes": changed("Corrigé au bureau", read.notes)}, read.version))
    assert office.outcome == "applied"
    [offline] = laptop.push(laptop.op("session.update", session_id,
                                      {"duration_minutes": changed(90, read.duration_minutes)}, read.version))
    assert offline.outcome == "applied"
    stored = record_of(server, HomeSession, session_id)
    assert (stored.notes, stored.duration_minutes, stored.version) == ("Corrigé au bureau", 90, read.version + 2)
    merge = audit_entries(server, "sync_merge")
    assert [(m.actor_key, m.record_type, json.loads(m.changed_fields)) for m in merge] == [
        (REFERENT, "home_session", ["duration_minutes"])]


def test_a_field_changed_on_both_sides_is_a_conflict_and_nothing_of_the_operation_is_applied(server):
    coordinator, laptop = Laptop(server, COORDINATOR), Laptop(server, REFERENT)
    session_id = server.id("session", "S1")
    read = record_of(server, HomeSession, session_id)
    coordinator.push(coordinator.op("session.update", session_id, {"duration_minutes": changed(120, 60)},
                                    read.version))
    before = server.dump()
    [result] = laptop.push(laptop.op("session.update", session_id, {
        "duration_minutes": changed(45, read.duration_minutes), "notes": changed("Nouvelle note", read.notes)},
        read.version))
    assert result.outcome == "conflict"
    assert result.conflict == {"fields": {"duration_minutes": {"base": 60, "local": 45, "server": 120}}}
    assert record_of(server, HomeSession, session_id).notes == read.notes
    after = server.dump()
    assert {t: rows for t, rows in after.items() if t != "sync_applied"} == \
        {t: rows for t, rows in before.items() if t != "sync_applied"}


def test_a_field_the_server_already_holds_as_the_laptop_wants_is_no_conflict(server):
    coordinator, laptop = Laptop(server, COORDINATOR), Laptop(server, REFERENT)
    session_id = server.id("session", "S1")
    read = record_of(server, HomeSession, session_id)
    coordinator.push(coordinator.op("session.update", session_id, {"duration_minutes": changed(75, 60)},
                                    read.version))
    [result] = laptop.push(laptop.op("session.update", session_id, {"duration_minutes": changed(75, 60)},
                                     read.version))
    assert result.outcome == "applied"
    assert record_of(server, HomeSession, session_id).duration_minutes == 75


def test_a_refusal_carries_the_services_french_reason_and_writes_nothing_but_the_answer(server):
    laptop = Laptop(server, REFERENT)
    f3_session = server.id("session", "S5")  # F3 is Paul Autre's family
    read = record_of(server, HomeSession, f3_session)
    [result] = laptop.push(laptop.op("session.update", f3_session, {"notes": changed("x", read.notes)},
                                     read.version))
    assert result.outcome == "refused"
    assert "n'est pas suivie par vous" in result.reason
    assert result.conflict is None  # the server's values of a family not followed are not shown either
    assert record_of(server, HomeSession, f3_session).notes == F3_NOTE
    [bad] = laptop.push(laptop.op("session.record", str(uuid.uuid4()),
                                  new_session_fields(server, duration_minutes=0)))
    assert bad.outcome == "refused" and "durée" in bad.reason.lower()


def test_an_operation_made_under_another_account_or_unknown_is_refused_in_french(server):
    laptop = Laptop(server, REFERENT)
    [other, unknown] = laptop.push(
        laptop.op("session.record", str(uuid.uuid4()), new_session_fields(server), actor=COORDINATOR),
        laptop.op("meeting.create", str(uuid.uuid4()), {}))
    assert other.outcome == unknown.outcome == "refused"
    assert "autre compte" in other.reason and "ne sait pas appliquer" in unknown.reason


def test_a_session_deleted_offline_is_deleted_unless_it_changed_since(server):
    coordinator = Laptop(server, COORDINATOR)
    s1, s2 = server.id("session", "S1"), server.id("session", "S2")
    v1, v2 = record_of(server, HomeSession, s1).version, record_of(server, HomeSession, s2).version
    coordinator.push(coordinator.op("session.update", s2, {"duration_minutes": changed(30, 60)}, v2))
    [deleted, stale] = coordinator.push(coordinator.op("session.delete", s1, {}, v1),
                                        coordinator.op("session.delete", s2, {}, v2))
    assert deleted.outcome == "applied" and record_of(server, HomeSession, s1) is None
    assert stale.outcome == "conflict" and record_of(server, HomeSession, s2) is not None
    assert stale.conflict == {"fields": {"version": {"base": v2, "local": None, "server": v2 + 1}}}


def test_family_child_guardian_consent_and_parcours_edits_go_through_their_services(server):
    laptop = Laptop(server, REFERENT)
    f1 = record_of(server, Family, server.id("family", "F1"))
    child = record_of(server, Child, server.id("child", "C1"))
    with server.uow() as w:
        guardian = w.session.scalars(select(Guardian).where(Guardian.family_id == f1.id)).first()
        w.session.expunge(guardian)
    plan = record_of(server, Parcours, server.id("parcours", "P1"))
    results = laptop.push(
        laptop.op("family.update", f1.id, {"address": changed("9 rue du Marché", f1.address)}, f1.version),
        laptop.op("child.update", child.id, {"school": changed("École Jean Jaurès", child.school)}, child.version),
        laptop.op("guardian.update", guardian.id, {"phone": changed("06 11 22 33 44", guardian.phone)},
                  guardian.version),
        laptop.op("family.update", f1.id, {"consent_date": changed("2025-03-19", f1.consent_date and
                                                                   f1.consent_date.isoformat()),
                                           "consent_scope": changed("Atout Plus, école", f1.consent_scope)},
                  f1.version + 1),
        laptop.op("parcours.update", plan.id, {"objectives": changed("Lire chaque soir", plan.objectives)},
                  plan.version))
    assert [r.outcome for r in results] == ["applied"] * 5, [r.reason for r in results]
    family = record_of(server, Family, f1.id)
    assert (family.address, family.consent_scope, family.consent_date.isoformat()) == (
        "9 rue du Marché", "Atout Plus, école", "2025-03-19")
    assert record_of(server, Child, child.id).school == "École Jean Jaurès"
    assert record_of(server, Guardian, guardian.id).phone == "06 11 22 33 44"
    assert record_of(server, Parcours, plan.id).objectives == "Lire chaque soir"
    assert {(e.action, e.record_type) for e in audit_entries(server)} >= {
        ("update", "family"), ("update", "child"), ("update", "guardian"), ("update", "parcours")}


def test_a_child_and_a_guardian_added_offline_keep_their_ids(server):
    laptop = Laptop(server, REFERENT)
    family = server.id("family", "F2")
    child_id, guardian_id = str(uuid.uuid4()), str(uuid.uuid4())
    results = laptop.push(
        laptop.op("child.create", child_id, {"family_id": changed(family), "first_name": changed("Inès"),
                                             "last_name": changed("Martin"), "birth_date": changed("2017-09-01"),
                                             "sex": changed("F")}),
        laptop.op("guardian.create", guardian_id, {"family_id": changed(family), "name": changed("Mme Martin"),
                                                   "relationship_to_child": changed("mère")}))
    assert [r.outcome for r in results] == ["applied", "applied"], [r.reason for r in results]
    assert record_of(server, Child, child_id).first_name == "Inès"
    assert record_of(server, Guardian, guardian_id).relationship_to_child == "mère"


def test_an_orientation_decided_offline_by_the_coordination_is_validated(server):
    coordinator = Laptop(server, COORDINATOR)
    proposed = record_of(server, Orientation, server.id("orientation", "O-prop"))
    [result] = coordinator.push(coordinator.op("orientation.update", proposed.id, {
        "status": changed("validated", "proposed"), "decided_on": changed("2025-03-19")}, proposed.version))
    assert result.outcome == "applied", result.reason
    stored = record_of(server, Orientation, proposed.id)
    assert (stored.status, stored.decided_on.isoformat()) == ("validated", "2025-03-19")


def test_a_laptops_audit_entries_are_stored_unchanged_with_their_receipt_time_and_cannot_be_altered(server):
    laptop = Laptop(server, REFERENT)
    entry = {"at": "2025-03-18T09:12:00+00:00", "actor_key": REFERENT, "action": "update",
             "record_type": "home_session", "record_key": "S1", "changed_fields": '["notes"]', "seq": 7,
             "entry_hash": "a" * 64}
    operation = laptop.op("audit.append", str(uuid.uuid4()), {name: changed(v) for name, v in entry.items()})
    [result] = laptop.push(operation)
    assert result.outcome == "applied"
    with server.engine.connect() as conn:
        row = conn.execute(text("SELECT actor_key, action, record_key, changed_fields, seq, entry_hash, received_at "
                                "FROM sync_audit WHERE id = :id"), {"id": operation["record"]}).one()
    assert tuple(row[:6]) == (REFERENT, "update", "S1", '["notes"]', 7, "a" * 64) and row.received_at is not None
    with pytest.raises(Exception, match="modification interdite"):
        with server.engine.begin() as conn:
            conn.execute(text("UPDATE sync_audit SET action = 'x'"))
    with pytest.raises(Exception, match="suppression interdite"):
        with server.engine.begin() as conn:
            conn.execute(text("DELETE FROM sync_audit"))


# -- the change numbers and the pull ----------------------------------------------------------------------------

def test_every_write_gets_a_higher_change_number_and_the_pull_gives_it_after_the_cursor(server):
    laptop, coordinator = Laptop(server, REFERENT), Laptop(server, COORDINATOR)
    cursor = laptop.pull().next
    assert cursor > 0  # the records already there were numbered when the log was installed
    session_id = str(uuid.uuid4())
    laptop.push(laptop.op("session.record", session_id, new_session_fields(server)))
    page = laptop.pull(cursor)
    assert [(c.table, c.key) for c in page.changes] == [("home_session", session_id)]
    assert page.changes[0].number > cursor and page.next == page.changes[0].number
    assert page.changes[0].row["version"] == 1 and page.changes[0].row["notes"] == "Séance au domicile"
    coordinator.push(coordinator.op("session.delete", session_id, {}, 1))
    [gone] = laptop.pull(page.next).changes
    assert (gone.key, gone.deleted, gone.row) == (session_id, True, None)
    assert laptop.pull(gone.number).changes == ()


def test_the_pull_pages_in_number_order(server):
    laptop = Laptop(server, COORDINATOR)
    whole = laptop.pull()
    pages, after = [], 0
    while True:
        page = laptop.pull(after, limit=7)
        pages.extend(page.changes)
        after = page.next
        if not page.more:
            break
    assert [c.number for c in pages] == [c.number for c in whole.changes]
    assert [c.number for c in pages] == sorted(c.number for c in pages)
    assert after == whole.next


def test_a_referent_pulls_only_their_families_and_no_one_pulls_a_password_hash(server):
    referent, coordinator, administrator = (Laptop(server, key) for key in (REFERENT, COORDINATOR, ADMINISTRATOR))
    mine = {server.id("family", k) for k in ("F1", "F2", "F4")}
    rows = referent.pull().changes
    families = {c.key for c in rows if c.table == "family"}
    assert families == mine
    assert {c.row["family_id"] for c in rows if c.table == "home_session"} <= mine
    assert F3_NOTE not in json.dumps([c.row for c in rows])
    assert {c.key for c in coordinator.pull().changes if c.table == "family"} >= mine | {server.id("family", "F3")}
    for laptop in (referent, coordinator, administrator):
        users = [c.row for c in laptop.pull().changes if c.table == "app_user"]
        assert users and all("password_hash" not in row and "failed_logins" not in row for row in users)
    admin_rows = administrator.pull().changes
    assert not {c.table for c in admin_rows} & {"child", "guardian", "parcours", "orientation"}
    admin_families = [c.row for c in admin_rows if c.table == "family"]
    assert admin_families and all(row["notes"] is None and row["address"] is None for row in admin_families)
    assert all(c.row["notes"] is None for c in admin_rows if c.table == "home_session")
    assert F1_NOTE not in json.dumps([c.row for c in admin_rows])


def test_a_reassigned_family_is_listed_once_in_removed_families_and_a_family_handed_over_comes_whole(server):
    losing, gaining = Laptop(server, OTHER), Laptop(server, REFERENT)  # F3: Paul Autre's, no parcours of another
    cursor, gaining_cursor = losing.pull().next, gaining.pull().next
    f3 = record_of(server, Family, server.id("family", "F3"))
    household = family_records.HouseholdInput(f3.name, f3.commune, f3.address, f3.priority_neighbourhood, f3.notes,
                                              referent_id=server.users[REFERENT].id)
    family_records.update_family(server.uow(), server.users[COORDINATOR], f3.id, household, None)
    page = losing.pull(cursor)
    assert page.removed_families == ("F3",)
    assert not [c for c in page.changes if c.key == f3.id or (c.row or {}).get("family_id") == f3.id]
    assert losing.pull(page.next).removed_families == ()  # once
    handed = gaining.pull(gaining_cursor)
    assert handed.removed_families == ()
    assert {(c.table, c.key) for c in handed.changes} >= {
        ("family", f3.id), ("child", server.id("child", "C4")), ("home_session", server.id("session", "S5"))}
    assert F3_NOTE in json.dumps([c.row for c in handed.changes])  # the référent now reads the notes


def test_the_clock_hands_out_numbers_in_commit_order_so_a_reader_never_skips_a_change(server, backend):
    """Writer A takes its number and stays before its COMMIT; writer B, with a later number, cannot commit before
    A; a reader meanwhile sees neither. On PostgreSQL (two real connections); SQLite has one writer anyway."""
    if backend != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite lets one writer at a time)")
    reader = Laptop(server, COORDINATOR)
    cursor = reader.pull().next
    a_ready, a_release = threading.Event(), threading.Event()
    holder = threading.get_ident

    a_thread: dict = {}

    def pause_a(conn):
        if a_thread.get("id") == holder():
            a_ready.set()
            a_release.wait(30)

    event.listen(server.engine, "commit", pause_a)
    try:
        def write(key: str, minutes: int, mark: bool):
            if mark:
                a_thread["id"] = holder()
            with server.uow() as w:
                session = w.session.get(HomeSession, server.id("session", key))
                session.duration_minutes = minutes
                w.commit()

        a = threading.Thread(target=write, args=("S1", 61, True))
        a.start()
        assert a_ready.wait(30)  # A holds its number, not committed
        b = threading.Thread(target=write, args=("S2", 62, False))
        b.start()
        b.join(1)
        assert b.is_alive()  # B waits on the clock's row: it cannot commit before A
        assert reader.pull(cursor).changes == ()  # nothing committed yet: nothing to read, no number passed
        a_release.set()
        a.join(30)
        b.join(30)
    finally:
        a_release.set()
        event.remove(server.engine, "commit", pause_a)
    page = reader.pull(cursor)
    assert [c.key for c in page.changes] == [server.id("session", "S1"), server.id("session", "S2")]
    assert page.changes[0].number < page.changes[1].number


def test_pull_refuses_a_bad_cursor_in_french(server):
    laptop = Laptop(server, REFERENT)
    from services.errors import ValidationError

    with pytest.raises(ValidationError, match="curseur"):
        laptop.pull(-1)
    with pytest.raises(ValidationError, match="limit"):
        laptop.pull(0, limit=0)


def test_the_it_s_verbs_keep_the_log_only_on_a_store_serve_has_numbered(env):
    def logged() -> int:
        with env.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM sync_change")).scalar_one()

    assert install_change_log(env.engine, seed=False) is False  # never served: nothing numbered, nothing written
    assert logged() == 0
    assert install_change_log(env.engine) is True  # the first serve numbers what it finds
    numbered = logged()
    assert numbered > 0
    assert install_change_log(env.engine, seed=False) is True  # later verbs on that store keep the log going
    assert logged() == numbered
