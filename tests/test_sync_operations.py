"""Each operation of services.sync.operations.VERBS applied by the team server through its service: applied, a
conflict when a field changed on both sides, the automatic merge of fields that do not overlap, and the French
refusal of a role the window refuses too. The verbs tested in tests/test_sync_server.py (sessions, the family's
edits, a child and a guardian added, the orientation's decision) are not repeated here. On SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from models import EpsMeeting, EpsSituation, Family, Guardian, HomeSession, Orientation, Parcours, ParcoursReason
from services import family_records
from services.sync.operations import BY_NAME, CHILD_FIELDS, VERBS
from tests.both_stores import env, template  # noqa: F401 (fixtures, on both stores)
from tests.test_sync_server import (ADMINISTRATOR, COORDINATOR, REFERENT, Laptop, audit_entries, changed,  # noqa: F401
                                    record_of, server)

OTHER = "ref-other"
ROLE = "ne permet pas de"  # « Votre rôle (…) ne permet pas de … » (services.permissions)


def only(results):
    [result] = results
    return result


def reasons_on(server, parcours_id: str) -> list[str]:
    with server.uow() as w:
        return sorted(w.session.scalars(select(ParcoursReason.reason).where(ParcoursReason.parcours_id == parcours_id)))


def test_every_verb_names_a_table_that_travels_and_a_permission_of_the_window():
    from services.permissions import PERMISSIONS
    from services.sync.changes import RULES
    from services.sync.outbox import NAMES

    for verb in VERBS:
        assert verb.table in RULES and verb.table in NAMES and verb.operation in PERMISSIONS, verb.name
    assert {"parcours.create", "orientation.create", "eps_meeting.create", "eps_situation.create",
            "eps_situation.update"} <= set(BY_NAME)
    assert CHILD_FIELDS["parcours"]["referral_reasons"].relationship == "reasons"


# -- family.create, guardian.delete --------------------------------------------------------------------------------

def family_fields(**overrides) -> dict:
    values = {"key": "F-LAPTOP", "name": "Famille Portable", "commune": "Bourg-en-Bresse", **overrides}
    return {name: changed(value) for name, value in values.items()}


def test_a_family_created_offline_keeps_its_id_and_key_and_is_audited_as_its_author(server):
    laptop = Laptop(server, REFERENT)
    family_id = str(uuid.uuid4())
    result = only(laptop.push(laptop.op("family.create", family_id, family_fields())))
    assert result.outcome == "applied", result.reason
    stored = record_of(server, Family, family_id)
    assert (stored.key, stored.name) == ("F-LAPTOP", "Famille Portable")
    assert audit_entries(server, "create")[-1].actor_key == REFERENT


def test_a_family_created_offline_by_the_administration_is_refused_in_french(server):
    desk = Laptop(server, ADMINISTRATOR)
    family_id = str(uuid.uuid4())
    result = only(desk.push(desk.op("family.create", family_id, family_fields())))
    assert result.outcome == "refused" and ROLE in result.reason
    assert record_of(server, Family, family_id) is None


def f1_guardian(server) -> Guardian:
    with server.uow() as w:
        guardian = w.session.scalars(select(Guardian).where(Guardian.family_id == server.id("family", "F1"))).first()
        w.session.expunge(guardian)
        return guardian


def test_a_guardian_removed_offline_is_removed_unless_it_changed_since(server):
    laptop, office = Laptop(server, REFERENT), Laptop(server, COORDINATOR)
    guardian = f1_guardian(server)
    office.push(office.op("guardian.update", guardian.id, {"phone": changed("06 99 99 99 99", guardian.phone)},
                          guardian.version))
    stale = only(laptop.push(laptop.op("guardian.delete", guardian.id, {}, guardian.version)))
    assert stale.outcome == "conflict" and record_of(server, Guardian, guardian.id) is not None
    current = record_of(server, Guardian, guardian.id)
    done = only(laptop.push(laptop.op("guardian.delete", guardian.id, {}, current.version)))
    assert done.outcome == "applied" and record_of(server, Guardian, guardian.id) is None


def test_a_guardian_removed_by_a_referent_who_does_not_follow_the_family_is_refused(server):
    stranger = Laptop(server, OTHER)
    guardian = f1_guardian(server)
    result = only(stranger.push(stranger.op("guardian.delete", guardian.id, {}, guardian.version)))
    assert result.outcome == "refused" and "n'est pas suivie par vous" in result.reason
    assert record_of(server, Guardian, guardian.id) is not None


def test_a_guardian_edited_on_both_sides_merges_other_fields_and_conflicts_on_the_same(server):
    laptop, office = Laptop(server, REFERENT), Laptop(server, COORDINATOR)
    guardian = f1_guardian(server)
    office.push(office.op("guardian.update", guardian.id, {"phone": changed("06 99 99 99 99", guardian.phone)},
                          guardian.version))
    merged = only(laptop.push(laptop.op("guardian.update", guardian.id, {"name": changed("A. Lefèvre", guardian.name)},
                                        guardian.version)))
    assert merged.outcome == "applied"
    stored = record_of(server, Guardian, guardian.id)
    assert (stored.name, stored.phone) == ("A. Lefèvre", "06 99 99 99 99")
    clash = only(laptop.push(laptop.op("guardian.update", guardian.id,
                                       {"phone": changed("06 00 00 00 00", guardian.phone)}, guardian.version)))
    assert clash.outcome == "conflict"
    assert clash.conflict["fields"]["phone"] == {"base": guardian.phone, "local": "06 00 00 00 00",
                                                 "server": "06 99 99 99 99"}


# -- parcours -----------------------------------------------------------------------------------------------------

def test_a_parcours_opened_offline_by_the_coordination_keeps_its_id_with_its_referral_details(server):
    office = Laptop(server, COORDINATOR)
    parcours_id = str(uuid.uuid4())
    fields = {"key": changed("P-LAPTOP"), "child_id": changed(server.id("child", "C2")), "status": changed("open"),
              "start_date": changed("2025-03-17"), "objectives": changed("Lire"),
              "referral_source": changed("en_cpe")}
    result = only(office.push(office.op("parcours.create", parcours_id, fields)))
    assert result.outcome == "applied", result.reason
    stored = record_of(server, Parcours, parcours_id)
    assert (stored.key, stored.status, stored.objectives, stored.referral_source) == (
        "P-LAPTOP", "open", "Lire", "en_cpe")
    assert stored.referent_id == server.users[REFERENT].id  # the family's référent, as the window does


def test_a_parcours_opened_offline_by_a_referent_or_created_closed_is_refused_in_french(server):
    laptop, office = Laptop(server, REFERENT), Laptop(server, COORDINATOR)
    fields = {"child_id": changed(server.id("child", "C2")), "status": changed("open"),
              "start_date": changed("2025-03-17")}
    refused = only(laptop.push(laptop.op("parcours.create", str(uuid.uuid4()), fields)))
    assert refused.outcome == "refused" and ROLE in refused.reason and "ouvrir" in refused.reason
    closed = only(office.push(office.op("parcours.create", str(uuid.uuid4()), {
        **fields, "status": changed("closed"), "end_date": changed("2025-03-18")})))
    assert closed.outcome == "refused" and "sur le serveur" in closed.reason


def test_a_parcours_suspended_offline_by_the_coordination_is_suspended_and_a_referents_is_refused(server):
    laptop, office = Laptop(server, REFERENT), Laptop(server, COORDINATOR)
    plan = record_of(server, Parcours, server.id("parcours", "P1"))
    refused = only(laptop.push(laptop.op("parcours.update", plan.id, {"status": changed("suspended", "open")},
                                         plan.version)))
    assert refused.outcome == "refused" and ROLE in refused.reason
    done = only(office.push(office.op("parcours.update", plan.id, {"status": changed("suspended", "open")},
                                      plan.version)))
    assert done.outcome == "applied" and record_of(server, Parcours, plan.id).status == "suspended"


def test_a_parcours_referral_source_and_objectives_edited_apart_merge_and_the_same_field_conflicts(server):
    laptop, office = Laptop(server, REFERENT), Laptop(server, COORDINATOR)
    plan = record_of(server, Parcours, server.id("parcours", "P1"))
    office.push(office.op("parcours.update", plan.id, {"objectives": changed("Au bureau", plan.objectives)},
                          plan.version))
    merged = only(laptop.push(laptop.op("parcours.update", plan.id,
                                        {"referral_source": changed("en_cpe", plan.referral_source)}, plan.version)))
    assert merged.outcome == "applied", merged.reason
    stored = record_of(server, Parcours, plan.id)
    assert (stored.objectives, stored.referral_source) == ("Au bureau", "en_cpe")  # the detail is not lost
    clash = only(laptop.push(laptop.op("parcours.update", plan.id,
                                       {"objectives": changed("Sur le portable", plan.objectives)}, plan.version)))
    assert clash.outcome == "conflict"
    assert clash.conflict["fields"]["objectives"]["server"] == "Au bureau"


def test_a_parcours_column_no_service_edits_is_refused_not_dropped(server):
    office = Laptop(server, COORDINATOR)
    plan = record_of(server, Parcours, server.id("parcours", "P1"))
    result = only(office.push(office.op("parcours.update", plan.id, {
        "start_date": changed("2025-01-01", plan.start_date.isoformat())}, plan.version)))
    assert result.outcome == "refused" and "« Date de début »" in result.reason and "serveur" in result.reason
    assert record_of(server, Parcours, plan.id).start_date == plan.start_date


def test_a_closed_parcours_details_and_exit_reason_are_corrected_offline(server):
    office = Laptop(server, COORDINATOR)
    closed = record_of(server, Parcours, server.id("parcours", "P5"))
    result = only(office.push(office.op("parcours.update", closed.id, {
        "exit_reason_code": changed("demenagement", closed.exit_reason_code)}, closed.version)))
    assert result.outcome == "applied", result.reason
    assert record_of(server, Parcours, closed.id).exit_reason_code == "demenagement"


# -- the referral reasons: the parcours' field « referral_reasons » -------------------------------------------------

def test_referral_reasons_edited_offline_replace_the_servers_list(server):
    laptop = Laptop(server, REFERENT)
    plan = record_of(server, Parcours, server.id("parcours", "P1"))
    before = reasons_on(server, plan.id)
    result = only(laptop.push(laptop.op("parcours.update", plan.id, {
        "referral_reasons": changed(["comportement", "scolarite"], before)}, plan.version)))
    assert result.outcome == "applied", result.reason
    assert reasons_on(server, plan.id) == ["comportement", "scolarite"]


def test_referral_reasons_changed_on_both_sides_are_a_conflict_of_the_whole_list(server):
    laptop, office = Laptop(server, REFERENT), Laptop(server, COORDINATOR)
    plan = record_of(server, Parcours, server.id("parcours", "P1"))
    before = reasons_on(server, plan.id)
    office.push(office.op("parcours.update", plan.id, {"referral_reasons": changed(["sante"], before)},
                          plan.version))
    clash = only(laptop.push(laptop.op("parcours.update", plan.id, {
        "referral_reasons": changed(["langage"], before)}, plan.version)))
    assert clash.outcome == "conflict"
    assert clash.conflict["fields"]["referral_reasons"] == {"base": before, "local": ["langage"],
                                                            "server": ["sante"]}


# -- EPS: meetings, situations, proposals ---------------------------------------------------------------------------

def test_an_eps_meeting_recorded_offline_by_the_coordination_keeps_its_id(server):
    office = Laptop(server, COORDINATOR)
    meeting_id = str(uuid.uuid4())
    result = only(office.push(office.op("eps_meeting.create", meeting_id, {
        "key": changed("EPS-2025-03-18"), "date": changed("2025-03-18"), "notes": changed("Salle B")})))
    assert result.outcome == "applied", result.reason
    stored = record_of(server, EpsMeeting, meeting_id)
    assert (stored.key, stored.date.isoformat(), stored.notes) == ("EPS-2025-03-18", "2025-03-18", "Salle B")


def test_an_eps_meeting_recorded_by_a_referent_is_refused_in_french(server):
    laptop = Laptop(server, REFERENT)
    meeting_id = str(uuid.uuid4())
    result = only(laptop.push(laptop.op("eps_meeting.create", meeting_id, {"date": changed("2025-03-18")})))
    assert result.outcome == "refused" and ROLE in result.reason and "séance d'EPS" in result.reason
    assert record_of(server, EpsMeeting, meeting_id) is None


def test_a_situation_added_offline_then_its_recommendation_written_reach_the_server(server):
    office = Laptop(server, COORDINATOR)
    meeting = server.id("eps", "EPS-2025-02")
    situation_id = str(uuid.uuid4())
    added = only(office.push(office.op("eps_situation.create", situation_id, {
        "eps_meeting_id": changed(meeting), "family_id": changed(server.id("family", "F2")),
        "recommendation": changed("Atout Plus")})))
    assert added.outcome == "applied", added.reason
    stored = record_of(server, EpsSituation, situation_id)
    written = only(office.push(office.op("eps_situation.update", situation_id, {
        "recommendation": changed("Accompagnement scolaire", "Atout Plus")}, stored.version)))
    assert written.outcome == "applied", written.reason
    assert record_of(server, EpsSituation, situation_id).recommendation == "Accompagnement scolaire"


def test_a_recommendation_written_on_both_sides_is_a_conflict_and_a_referents_is_refused(server):
    office, other_office, laptop = Laptop(server, COORDINATOR), Laptop(server, COORDINATOR), Laptop(server, REFERENT)
    situation = record_of(server, EpsSituation, server.id("situation", "EPS-2025-01/F1"))
    office.push(office.op("eps_situation.update", situation.id, {
        "recommendation": changed("Au bureau", situation.recommendation)}, situation.version))
    clash = only(other_office.push(other_office.op("eps_situation.update", situation.id, {
        "recommendation": changed("En réunion", situation.recommendation)}, situation.version)))
    assert clash.outcome == "conflict"
    assert clash.conflict["fields"]["recommendation"] == {"base": situation.recommendation, "local": "En réunion",
                                                          "server": "Au bureau"}
    refused = only(laptop.push(laptop.op("eps_situation.update", situation.id, {
        "recommendation": changed("x", "Au bureau")}, situation.version + 1)))
    assert refused.outcome == "refused" and ROLE in refused.reason


def test_a_situation_change_other_than_its_recommendation_is_refused(server):
    office = Laptop(server, COORDINATOR)
    situation = record_of(server, EpsSituation, server.id("situation", "EPS-2025-01/F1"))
    result = only(office.push(office.op("eps_situation.update", situation.id, {
        "family_id": changed(server.id("family", "F2"), situation.family_id)}, situation.version)))
    assert result.outcome == "refused" and "« Famille »" in result.reason


def test_an_orientation_proposed_offline_is_the_proposal_of_the_familys_situation(server):
    office = Laptop(server, COORDINATOR)
    orientation_id = str(uuid.uuid4())
    fields = {"key": changed("O-LAPTOP"), "family_id": changed(server.id("family", "F2")),
              "convention_id": changed(server.id("convention", "as-2025")), "eps_date": changed("2025-01-14"),
              "status": changed("proposed")}
    result = only(office.push(office.op("orientation.create", orientation_id, fields)))
    assert result.outcome == "applied", result.reason
    stored = record_of(server, Orientation, orientation_id)
    assert (stored.key, stored.status, stored.eps_date.isoformat()) == ("O-LAPTOP", "proposed", "2025-01-14")


def test_an_orientation_proposed_without_its_situation_or_by_a_referent_is_refused(server):
    office, laptop = Laptop(server, COORDINATOR), Laptop(server, REFERENT)
    fields = {"family_id": changed(server.id("family", "F2")),
              "convention_id": changed(server.id("convention", "as-2025")), "eps_date": changed("2025-03-01"),
              "status": changed("proposed")}
    missing = only(office.push(office.op("orientation.create", str(uuid.uuid4()), fields)))
    assert missing.outcome == "refused" and "séance d'EPS" in missing.reason
    refused = only(laptop.push(laptop.op("orientation.create", str(uuid.uuid4()), fields)))
    assert refused.outcome == "refused" and ROLE in refused.reason


# -- what the change log sees: rows written by statements -----------------------------------------------------------

def test_sessions_inserted_by_an_orm_statement_are_numbered_for_the_pull(server):
    from services.dataset.importer import import_dataset
    from services.permissions import SYSTEM

    laptop = Laptop(server, REFERENT)
    cursor = laptop.pull().next
    import_dataset(server.uow(), {"format": "parcours-dataset/1", "sessions": [
        {"key": "S-BULK", "family": "F1", "intervenant": "i-aes", "date": "2025-03-13", "start_time": "10:00",
         "duration_minutes": 45, "status": "held", "referent_present": True}]}, SYSTEM)
    with server.uow() as w:
        bulk = w.session.scalar(select(HomeSession.id).where(HomeSession.key == "S-BULK"))
    assert [(c.table, c.key) for c in laptop.pull(cursor).changes] == [("home_session", bulk)]


def test_a_family_renamed_by_an_orm_update_statement_is_numbered_and_a_failed_login_is_not(server):
    from sqlalchemy import update

    from models import User

    laptop = Laptop(server, COORDINATOR)
    cursor = laptop.pull().next
    with server.uow() as w:
        w.session.execute(update(User).where(User.key == REFERENT).values(failed_logins=User.failed_logins + 1))
        w.session.execute(update(Family).where(Family.key == "F2").values(name="Famille Diallo-Sow"))
        w.commit()
    assert [(c.table, c.key) for c in laptop.pull(cursor).changes] == [("family", server.id("family", "F2"))]


def test_child_fields_of_a_pull_are_read_for_each_row(server):
    from services.sync.changes import child_fields_json

    plan = record_of(server, Parcours, server.id("parcours", "P1"))
    details = family_records.ParcoursDetails(referral_reasons=("sante", "comportement"))
    family_records.update_parcours_plan(server.uow(), server.users[COORDINATOR], plan.id, plan.objectives,
                                        plan.actions, None, details=details)
    with server.uow() as w:
        found = child_fields_json(w.session, "parcours", [plan.id, server.id("parcours", "P2")])
    assert found == {plan.id: {"referral_reasons": ["comportement", "sante"]},
                     server.id("parcours", "P2"): {"referral_reasons": []}}


def test_a_meetings_attendance_is_read_as_its_field_intervenant_ids(server):
    from models import Meeting
    from services.sync.changes import child_fields_json

    with server.uow() as w:
        meeting = w.session.scalars(select(Meeting).where(Meeting.key == "M1")).one()
        found = child_fields_json(w.session, "meeting", [meeting.id])
        read, meeting_id = CHILD_FIELDS["meeting"]["intervenant_ids"].read(meeting), meeting.id
    expected = sorted([server.id("intervenant", "i-aes"), server.id("intervenant", "i-tisf")])
    assert found == {meeting_id: {"intervenant_ids": expected}} and read == expected


def test_a_meeting_recorded_on_a_laptop_is_refused_with_its_reason(server):
    office = Laptop(server, COORDINATOR)
    result = only(office.push(office.op("meeting.create", str(uuid.uuid4()), {"kind": changed("launch")})))
    assert result.outcome == "refused" and "ne sait pas appliquer" in result.reason


def test_a_family_file_deleted_offline_takes_its_children_along_and_a_child_alone_is_refused(server):
    from models import Child

    office = Laptop(server, COORDINATOR)
    family = record_of(server, Family, server.id("family", "F5"))
    child, plan = server.id("child", "C6"), server.id("parcours", "P5")
    alone = only(office.push(office.op("child.delete", child, {}, 1)))
    assert alone.outcome == "refused" and "avec le dossier de sa famille" in alone.reason
    done = only(office.push(office.op("family.delete", family.id, {}, family.version)))
    assert done.outcome == "applied", done.reason
    assert record_of(server, Family, family.id) is None and record_of(server, Child, child) is None
    assert record_of(server, Parcours, plan) is None


def test_a_family_file_deleted_offline_by_a_referent_is_refused(server):
    laptop = Laptop(server, REFERENT)
    family = record_of(server, Family, server.id("family", "F1"))
    result = only(laptop.push(laptop.op("family.delete", family.id, {}, family.version)))
    assert result.outcome == "refused" and ROLE in result.reason
    assert record_of(server, Family, family.id) is not None


def test_a_deletion_of_a_record_the_server_already_deleted_is_applied(server, backend):
    office, other = Laptop(server, COORDINATOR), Laptop(server, COORDINATOR)
    session_id = server.id("session", "S1")
    version = record_of(server, HomeSession, session_id).version
    assert only(office.push(office.op("session.delete", session_id, {}, version))).outcome == "applied"
    again = only(other.push(other.op("session.delete", session_id, {}, version)))
    assert again.outcome == "applied" and record_of(server, HomeSession, session_id) is None
