"""The writes of issue 11's second round, end to end: a real laptop copy, its client and a real team server (uvicorn
over TLS, tests/test_sync_client.py's fixtures). A parcours' referral reasons travel both ways as one field of the
parcours; sessions the server stores by one statement (the import's bulk path) reach the laptop; an EPS meeting and
its situation recorded on the coordination's copy reach the server."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from models import EpsMeeting, EpsSituation, Family, HomeSession, Parcours, ParcoursReason
from services import family_records, orientations
from services.dataset.importer import import_dataset
from services.permissions import SYSTEM
from services.record_fields import ParcoursDetails
from services.sync import client
from tests.service_cases import PASSWORD
from tests.test_sync_client import laptop, new_laptop, server, sync_served  # noqa: F401 (fixtures)


def reasons(store, parcours_id: str) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(conn.execute(select(ParcoursReason.reason).where(ParcoursReason.parcours_id == parcours_id))
                      .scalars())


def p1(store) -> Parcours:
    with store.uow() as w:
        plan = w.session.scalars(select(Parcours).where(Parcours.key == "P1")).one()
        w.session.expunge(plan)
        return plan


def set_reasons(store, user, codes: tuple[str, ...]) -> None:
    plan = p1(store)
    family_records.update_parcours_plan(store.uow(), user, plan.id, plan.objectives, plan.actions, None,
                                        details=ParcoursDetails(referral_reasons=codes))


def test_referral_reasons_reach_the_laptop_and_come_back_to_the_server(server, laptop):
    coordinator, referent = server.users["coord-durand"], laptop.user("ref-martin")
    set_reasons(server, coordinator, ("sante",))
    client.sync_once(laptop.uow)
    plan = p1(server)
    assert reasons(laptop, plan.id) == ["sante"]
    set_reasons(laptop, referent, ("langage", "sante"))
    report = client.sync_once(laptop.uow)
    assert (report.conflicts, report.refused) == (0, 0)
    assert reasons(server, plan.id) == ["langage", "sante"]
    set_reasons(server, coordinator, ("langage",))
    client.sync_once(laptop.uow)
    assert reasons(laptop, plan.id) == ["langage"]


def test_reasons_changed_on_both_sides_are_one_conflict_resolved_by_a_person(server, laptop):
    referent = laptop.user("ref-martin")
    set_reasons(server, server.users["coord-durand"], ("sante",))
    set_reasons(laptop, referent, ("langage",))
    assert client.sync_once(laptop.uow).conflicts == 1
    [conflict] = client.list_conflicts(laptop.uow(), referent)
    [shown] = conflict.fields
    assert (shown.name, shown.base, shown.local, shown.server) == ("referral_reasons", [], ["langage"], ["sante"])
    client.resolve_conflict(laptop.uow(), referent, conflict.key, {"referral_reasons": "server"})
    assert reasons(laptop, p1(server).id) == ["sante"]
    client.sync_once(laptop.uow)
    assert reasons(server, p1(server).id) == ["sante"]


def test_sessions_the_server_imports_in_bulk_reach_the_laptop(server, laptop):
    import_dataset(server.uow(), {"format": "parcours-dataset/1", "sessions": [
        {"key": "S-BULK", "family": "F1", "intervenant": "i-aes", "date": "2025-03-13", "start_time": "10:00",
         "duration_minutes": 45, "status": "held", "referent_present": True}]}, SYSTEM)
    client.sync_once(laptop.uow)
    with laptop.engine.connect() as conn:
        assert conn.execute(select(HomeSession.duration_minutes).where(HomeSession.key == "S-BULK")).scalar() == 45


def test_an_eps_meeting_and_a_situation_recorded_on_the_coordinations_copy_reach_the_server(server, tmp_path):
    office = new_laptop(tmp_path, "office")
    client.connect(office.uow, server.url, "coord-durand", PASSWORD, server.fingerprint)
    user = office.user("coord-durand")
    meeting = orientations.create_eps_meeting(office.uow(), user, date(2025, 3, 18), "Salle B")
    with office.uow() as w:
        family_id = w.session.scalar(select(Family.id).where(Family.key == "F2"))
    situation = orientations.add_situation(office.uow(), user, meeting.id, family_id, "Atout Plus")
    report = client.sync_once(office.uow)
    assert (report.conflicts, report.refused) == (0, 0), client.list_refused(office.uow(), user)
    with server.uow() as w:
        stored = w.session.get(EpsMeeting, meeting.id)
        assert (stored.key, stored.date, stored.notes) == (meeting.key, date(2025, 3, 18), "Salle B")
        assert w.session.get(EpsSituation, situation.id).recommendation == "Atout Plus"
    with office.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sync_outbox WHERE status != 'applied'")).scalar_one() == 0
    office.engine.dispose()


def test_a_family_deletion_the_server_refuses_breaks_no_sync_and_withdrawn_brings_the_whole_file_back(server, tmp_path):
    """The office deletes a file the server has meanwhile given a session: refused; the pulls that follow skip what
    the server sends of that file (the laptop has none of it), and once the refusal is withdrawn the file comes back
    whole — family, child, parcours and the new session."""
    from services import home_sessions
    from tests.test_sync_client import draft

    office = new_laptop(tmp_path, "office")
    client.connect(office.uow, server.url, "coord-durand", PASSWORD, server.fingerprint)
    user = office.user("coord-durand")
    with office.uow() as w:
        family_id = w.session.scalar(select(Family.id).where(Family.key == "F5"))
    family_records.delete_family(office.uow(), user, family_id, None)
    session = home_sessions.record_session(server.uow(), server.users["coord-durand"], draft(server, family="F5"),
                                           date(2025, 3, 20))
    report = client.sync_once(office.uow)
    assert report.refused == 1
    [refusal] = client.list_refused(office.uow(), user)
    assert refusal.operation == "family.delete" and refusal.record_key == family_id
    home_sessions.update_session(server.uow(), server.users["coord-durand"], session.id,
                                 draft(server, family="F5", duration_minutes=90), date(2025, 3, 20))
    assert client.sync_once(office.uow).refused == 0  # no error: the file's rows wait
    with office.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM family WHERE key = 'F5'")).scalar_one() == 0
    client.withdraw_refused(office.uow(), user, refusal.operation_id)
    client.sync_once(office.uow)
    with office.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM family WHERE key = 'F5'")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM child WHERE family_id = :f"), {"f": family_id}).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM parcours p JOIN child c ON c.id = p.child_id "
                                 "WHERE c.family_id = :f"), {"f": family_id}).scalar_one() == 1
        assert conn.execute(text("SELECT duration_minutes FROM home_session WHERE id = :s"),
                            {"s": session.id}).scalar_one() == 90
    office.engine.dispose()
