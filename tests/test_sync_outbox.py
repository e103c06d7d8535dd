"""The outbox of a connected laptop copy: each local write appends its operations in the same transaction."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from models import HomeSession
from services import home_sessions
from services.errors import ValidationError
from services.sync import local, outbox
from tests.service_cases import ACCOUNT_OF, PASSWORD, TODAY, Env, env, template  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[1]


def connect_locally(env: Env, who: str = "referent") -> None:
    """What services.sync.client.connect leaves behind, without a server: the state row and the engine watched."""
    with env.engine.begin() as conn:
        local.write_state(conn, server_url="https://127.0.0.1:1", fingerprint="AA", device_key="poste-test",
                          device_token="jeton", user_key=ACCOUNT_OF[who],
                          user_id=env.users[ACCOUNT_OF[who]].id, cursor=0, next_sequence=1)
    outbox.attach(env.engine)


def operations(env: Env) -> list[dict]:
    with env.engine.connect() as conn:
        rows = conn.execute(select(local.OUTBOX).order_by(local.OUTBOX.c.sequence)).mappings().all()
    return [{**row, "fields": json.loads(row["fields"])} for row in rows]


def draft(env: Env, **changes) -> home_sessions.SessionDraft:
    base = home_sessions.SessionDraft(env.id("family", "F1"), env.id("intervenant", "i-aes"), date(2025, 3, 18), 60,
                                      notes="Séance calme")
    return replace(base, **changes)


@pytest.fixture
def laptop(env):
    connect_locally(env)
    yield env
    outbox.detach(env.engine)


def test_a_recorded_session_appends_its_creation_with_every_field(laptop):
    row = home_sessions.record_session(laptop.uow(), laptop.users["ref-martin"], draft(laptop), TODAY)
    op, trail = operations(laptop)
    assert (op["name"], op["record_key"], op["base_version"], op["sequence"]) == ("session.record", row.id, None, 1)
    assert (trail["name"], trail["sequence"], trail["fields"]["record_key"]["value"]) == ("audit.append", 2, row.key)
    assert op["actor_key"] == "ref-martin" and op["status"] == "pending"
    fields = op["fields"]
    assert fields["duration_minutes"] == {"base": None, "value": 60}
    assert fields["date"]["value"] == "2025-03-18" and fields["notes"]["value"] == "Séance calme"
    assert fields["family_id"]["value"] == laptop.id("family", "F1") and fields["key"]["value"] == row.key
    assert not {"created_at", "updated_at", "version"} & set(fields)


def test_an_update_carries_only_the_changed_fields_with_their_base_and_the_version_it_was_based_on(laptop):
    user = laptop.users["ref-martin"]
    row = home_sessions.record_session(laptop.uow(), user, draft(laptop), TODAY)
    home_sessions.update_session(laptop.uow(), user, row.id, draft(laptop, duration_minutes=90), TODAY)
    update = operations(laptop)[2]
    assert (update["name"], update["record_key"], update["base_version"], update["sequence"]) == (
        "session.update", row.id, 1, 3)
    assert update["fields"] == {"duration_minutes": {"base": 60, "value": 90}}


def test_a_deletion_is_an_operation_without_fields(laptop):
    row = home_sessions.record_session(laptop.uow(), laptop.users["ref-martin"], draft(laptop), TODAY)
    home_sessions.delete_session(laptop.uow(), laptop.users["coord-durand"], row.id)
    assert [(op["name"], op["fields"], op["base_version"]) for op in operations(laptop)][2] == (
        "session.delete", {}, 1)


def test_a_refused_write_leaves_no_operation(laptop):
    with pytest.raises(ValidationError):
        home_sessions.record_session(laptop.uow(), laptop.users["ref-martin"], draft(laptop, duration_minutes=0),
                                     TODAY)
    assert operations(laptop) == []


def test_what_a_pull_applies_is_not_sent_back(laptop):
    with laptop.uow() as w:
        outbox.applying(w.session)
        w.session.get(HomeSession, laptop.id("session", next(k.split(":")[1] for k in laptop.ids
                                                               if k.startswith("session:")))).notes = "du serveur"
        w.commit()
    assert operations(laptop) == []


def test_a_copy_not_connected_keeps_no_outbox(env):
    home_sessions.record_session(env.uow(), env.users["ref-martin"], draft(env), TODAY)
    assert operations(env) == []


def test_a_connected_copy_refuses_to_issue_a_statement(laptop):
    from services.billing.statements import issue_statement  # noqa: PLC0415

    with pytest.raises(ValidationError, match="serveur"):
        issue_statement(laptop.uow(), laptop.users["admin-petit"], "ap-2025", "2025-01")


CRASHING_WRITER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from sqlalchemy import event
    from models.db import make_engine
    from services import home_sessions
    from services.directory import list_users
    from services.sync import outbox
    from services.uow import unit_of_work_factory
    from datetime import date
    engine = make_engine({db!r})
    outbox.attach(engine)
    uow = unit_of_work_factory(engine)
    user = next(u for u in list_users(uow(), active_only=False) if u.key == "ref-martin")
    # Killed once the session and its operation are written, before SQLite commits: the power cut case.
    event.listen(engine, "commit", lambda conn: os._exit(9))
    home_sessions.record_session(uow(), user, home_sessions.SessionDraft({family!r}, {intervenant!r},
                                 date(2025, 3, 18), 75), date(2025, 3, 20))
""")


def test_a_process_killed_between_the_write_and_its_commit_leaves_neither(laptop):
    before = laptop.dump()["home_session"]
    laptop.engine.dispose()
    script = CRASHING_WRITER.format(root=str(ROOT), db=str(laptop.path), family=laptop.id("family", "F1"),
                                    intervenant=laptop.id("intervenant", "i-aes"))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == 9, done.stderr.decode()
    assert laptop.dump()["home_session"] == before
    assert operations(laptop) == []
    with laptop.engine.connect() as conn:  # nor was a sequence number taken
        assert conn.execute(text("SELECT next_sequence FROM sync_state")).scalar_one() == 1


def test_a_connected_copy_refuses_to_change_reference_data_which_no_operation_carries(laptop):
    from services import conventions_admin  # noqa: PLC0415

    before = laptop.dump()
    with pytest.raises(ValidationError, match="serveur de l'équipe"):
        conventions_admin.create_partner(laptop.uow(), laptop.users["admin-petit"], "pep", "PEP 01")
    assert laptop.dump() == before


def test_a_connected_copy_refuses_to_change_accounts_which_are_the_servers(laptop):
    from services import users  # noqa: PLC0415

    admin = laptop.users["admin-petit"]
    before = laptop.dump()
    for change in (lambda: users.add_user(laptop.uow(), admin, "nouvelle", "referent", "Motdepasse-long-42"),
                   lambda: users.change_password(laptop.uow(), admin, "ref-martin", "Motdepasse-long-42"),
                   lambda: users.disable_user(laptop.uow(), admin, "ref-martin")):
        with pytest.raises(ValidationError, match="Les comptes et leurs mots de passe se gèrent sur le serveur"):
            change()
    assert laptop.dump() == before and operations(laptop) == []


def test_referral_reasons_changed_locally_travel_as_one_field_of_the_parcours_with_their_base(laptop):
    from models import Parcours
    from services import family_records
    from services.record_fields import ParcoursDetails

    user = laptop.users["ref-martin"]
    parcours_id = laptop.id("parcours", "P1")
    with laptop.uow() as w:
        plan = w.session.get(Parcours, parcours_id)
        objectives, actions, version = plan.objectives, plan.actions, plan.version
    family_records.update_parcours_plan(laptop.uow(), user, parcours_id, objectives, actions, None,
                                        details=ParcoursDetails(referral_reasons=("sante", "comportement")))
    family_records.update_parcours_plan(laptop.uow(), user, parcours_id, objectives, actions, None,
                                        details=ParcoursDetails(referral_reasons=("sante",)))
    first, second = [op for op in operations(laptop) if op["name"] == "parcours.update"]
    assert (first["record_key"], first["base_version"]) == (parcours_id, version)
    assert first["fields"] == {"referral_reasons": {"base": [], "value": ["comportement", "sante"]}}
    assert second["fields"] == {"referral_reasons": {"base": ["comportement", "sante"], "value": ["sante"]}}


def test_a_parcours_opened_locally_carries_its_reasons_in_its_creation(laptop):
    from services import parcours
    from services.record_fields import ParcoursDetails

    row = parcours.open_parcours(laptop.uow(), laptop.users["coord-durand"], laptop.id("child", "C2"),
                                 date(2025, 3, 17), details=ParcoursDetails(referral_reasons=("langage",)))
    [created] = [op for op in operations(laptop) if op["name"] == "parcours.create"]
    assert created["record_key"] == row.id
    assert created["fields"]["referral_reasons"] == {"base": None, "value": ["langage"]}
    assert created["fields"]["status"]["value"] == "open"


def test_sessions_a_coordinator_imports_on_a_connected_copy_travel_although_stored_by_one_statement(env):
    from services.dataset.importer import import_dataset

    connect_locally(env, "coordinator")
    try:
        import_dataset(env.uow(), {"format": "parcours-dataset/1", "sessions": [
            {"key": f"S-IMP-{n}", "family": "F1", "intervenant": "i-aes", "date": f"2025-03-1{n}",
             "start_time": "10:00", "duration_minutes": 45, "status": "held", "referent_present": True}
            for n in (3, 4)]}, env.users["coord-durand"])
    finally:
        outbox.detach(env.engine)
    created = [op for op in operations(env) if op["name"] == "session.record"]
    assert sorted(op["fields"]["key"]["value"] for op in created) == ["S-IMP-3", "S-IMP-4"]
    assert all(op["fields"]["duration_minutes"]["value"] == 45 and op["base_version"] is None for op in created)
    assert {op["actor_key"] for op in created} == {"coord-durand"}


def test_an_update_statement_on_a_table_that_travels_is_refused_on_a_connected_copy(laptop):
    from sqlalchemy import update

    before = laptop.dump()
    with pytest.raises(ValidationError, match="serveur"):
        with laptop.uow() as w:
            w.session.execute(update(HomeSession).values(notes="partout"))
            w.commit()
    assert laptop.dump() == before


def test_written_child_fields_replace_the_rows_behind_them(laptop):
    from models import Meeting

    with laptop.uow() as w:
        meeting = w.session.scalars(select(Meeting).where(Meeting.key == "M1")).one()
        meeting_id = meeting.id
    aes = laptop.id("intervenant", "i-aes")
    with laptop.engine.begin() as conn:
        local.write_child_fields(conn, "meeting", meeting_id, {"intervenant_ids": [aes]})
        local.write_child_fields(conn, "parcours", laptop.id("parcours", "P1"), {"referral_reasons": ["sante"]})
        local.write_child_fields(conn, "parcours", laptop.id("parcours", "P2"), {"objectives": "absent: untouched"})
    with laptop.engine.connect() as conn:
        assert conn.execute(text("SELECT intervenant_id FROM meeting_attendance WHERE meeting_id = :m"),
                            {"m": meeting_id}).scalars().all() == [aes]
        assert conn.execute(text("SELECT parcours_id, reason FROM parcours_reason")).all() == [
            (laptop.id("parcours", "P1"), "sante")]


def test_a_family_deleted_on_a_connected_copy_sends_its_deletion_alone_which_takes_its_file_along(env):
    from services import family_records

    connect_locally(env, "coordinator")
    try:
        family_records.delete_family(env.uow(), env.users["coord-durand"], env.id("family", "F5"), None)
    finally:
        outbox.detach(env.engine)
    sent = [(op["name"], op["record_key"]) for op in operations(env) if op["name"] != "audit.append"]
    assert sent == [("family.delete", env.id("family", "F5"))]


def test_a_login_on_a_connected_copy_after_a_failed_attempt_logs_in_and_sends_only_its_audit_entries(env):
    """A copy that checks passwords itself (no key file: plain here): a right password after a wrong one logs in."""
    from services import users  # noqa: PLC0415
    from services.permissions import SYSTEM  # noqa: PLC0415

    users.change_password(env.uow(), SYSTEM, "ref-martin", PASSWORD)  # as it came before this copy was connected
    connect_locally(env)
    laptop = env
    with pytest.raises(users.AuthenticationFailed):
        users.authenticate(laptop.uow(), "ref-martin", "pas le bon")
    assert users.authenticate(laptop.uow(), "ref-martin", PASSWORD).key == "ref-martin"
    assert [op["name"] for op in operations(laptop)] == ["audit.append", "audit.append"]  # failed, then logged in
    outbox.detach(env.engine)
