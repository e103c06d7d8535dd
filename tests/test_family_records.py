"""Entering families in the window (services.family_records): creation, the import's validation messages, the age
rule, permissions, audit entries, stale edits, closing and deleting a file."""
from datetime import date

import pytest
from sqlalchemy import select

from models import AuditEntry, Family, Orientation, Parcours, User
from services import audit
from services.consent import record_consent
from services.errors import InvalidFields, NotFound, PermissionDenied, StaleEdit, ValidationError
from services.families import family_file, list_families
from services.family_records import (ChildInput, GuardianInput, HouseholdInput, add_child, add_guardian, close_family,
                                     create_family, delete_family, family_record, remove_guardian, update_child,
                                     update_family, update_guardian, update_parcours_plan)
from services.parcours import open_parcours
from services.permissions import SYSTEM
from tests.programme_fixture import add_family, programme  # noqa: F401 - fixture

TODAY = date(2025, 3, 20)
HOUSEHOLD = HouseholdInput("Famille Martin", "Bourg-en-Bresse", "4 rue du Stade", True, "Orientée par l'école")


def _entries(p, record_type):
    with p.uow() as w:
        return [(e.actor_key, e.action, e.record_key, e.changed_fields)
                for e in w.session.scalars(select(AuditEntry).where(AuditEntry.record_type == record_type)
                                           .order_by(AuditEntry.at))]


# -- creation ------------------------------------------------------------------------------------------------------

def test_a_referent_creates_a_family_and_becomes_its_referent(programme):
    record = create_family(programme.uow(), programme.referent, HOUSEHOLD)
    assert record.key.startswith("F-") and len(record.key) == 8
    assert (record.name, record.address, record.commune, record.priority_neighbourhood, record.notes) == (
        "Famille Martin", "4 rue du Stade", "Bourg-en-Bresse", True, "Orientée par l'école")
    assert (record.referent_id, record.referent_name) == (programme.referent.id, "Claire Martin")
    assert record.updated_at is not None and not record.closed
    assert record.key in {f.key for f in list_families(programme.uow(), programme.referent, TODAY)}
    assert _entries(programme, "family")[-1][:3] == ("ref-martin", "create", record.key)


def test_the_coordination_chooses_the_referent_or_none(programme):
    none = create_family(programme.uow(), programme.coordinator, HOUSEHOLD)
    assert none.referent_id is None
    chosen = create_family(programme.uow(), programme.coordinator,
                           HouseholdInput("Famille Roux", "Péronnas", referent_id=programme.referent.id))
    assert chosen.referent_name == "Claire Martin"
    with pytest.raises(InvalidFields) as refused:
        create_family(programme.uow(), programme.coordinator,
                      HouseholdInput("Famille Roux", "Péronnas", referent_id=programme.administrator.id))
    assert "référent·e parmi les comptes actifs" in refused.value.problems["referent_id"]


def test_family_codes_are_distinct(programme):
    keys = {create_family(programme.uow(), programme.coordinator, HOUSEHOLD).key for _ in range(5)}
    assert len(keys) == 5


def test_guardians_and_children_are_added_with_one_audit_entry_each(programme):
    family = create_family(programme.uow(), programme.referent, HOUSEHOLD)
    after = add_guardian(programme.uow(), programme.referent, family.id,
                         GuardianInput("Nadia Martin", "mère", "06 11 22 33 44"))
    assert [(g.name, g.relationship, g.phone) for g in after.guardians] == [("Nadia Martin", "mère", "06 11 22 33 44")]
    after = add_child(programme.uow(), programme.referent, family.id,
                      ChildInput("Inès", "Martin", date(2016, 5, 4), "F", "École Jean Jaurès", "CE2"), today=TODAY)
    after = add_child(programme.uow(), programme.referent, family.id,
                      ChildInput("Adam", "Martin", date(2019, 1, 9)), today=TODAY)
    assert [(c.name, c.birth_date) for c in after.children] == [("Inès Martin", date(2016, 5, 4)),
                                                                ("Adam Martin", date(2019, 1, 9))]
    assert all(c.key.startswith("C-") for c in after.children)
    assert [e[1:3] for e in _entries(programme, "guardian")] == [("create", family.key)]
    children = _entries(programme, "child")
    assert [e[1] for e in children] == ["create", "create"]
    assert "Inès" not in repr(children) and "first_name" in children[0][3]  # field names, never values


# -- validation: the import's rules and messages ------------------------------------------------------------------

def test_every_missing_household_field_is_named_at_once(programme):
    with pytest.raises(InvalidFields) as refused:
        create_family(programme.uow(), programme.referent, HouseholdInput(" ", None, "x" * 301))
    assert refused.value.problems == {
        "name": "Nom du foyer : le texte ne peut pas être vide.",
        "commune": "Commune : valeur obligatoire manquante.",
        "address": "Adresse : le texte dépasse 300 caractères.",
    }


def test_unstorable_text_and_too_long_names_are_refused_as_on_import(programme):
    with pytest.raises(InvalidFields) as refused:
        create_family(programme.uow(), programme.referent, HouseholdInput("Famille\x00", "B" * 121))
    assert refused.value.problems == {
        "name": "Nom du foyer : le texte contient un caractère invalide (caractère nul ou Unicode mal formé).",
        "commune": "Commune : le texte dépasse 120 caractères.",
    }


def test_guardian_messages(programme):
    family = programme.family["F1"]
    with pytest.raises(InvalidFields) as refused:
        add_guardian(programme.uow(), programme.referent, family, GuardianInput("", "r" * 61, "0" * 41))
    assert refused.value.problems == {
        "name": "Nom : le texte ne peut pas être vide.",
        "relationship": "Lien avec l'enfant : le texte dépasse 60 caractères.",
        "phone": "Téléphone : le texte dépasse 40 caractères.",
    }


def test_child_messages_required_fields_sex_and_date(programme):
    family = programme.family["F1"]
    with pytest.raises(InvalidFields) as refused:
        add_child(programme.uow(), programme.referent, family, ChildInput("", "", None, "X"), today=TODAY)
    assert refused.value.problems == {
        "first_name": "Prénom : le texte ne peut pas être vide.",
        "last_name": "Nom : le texte ne peut pas être vide.",
        "birth_date": "Date de naissance : valeur obligatoire manquante.",
        "sex": "Sexe : valeur inconnue « X » (valeurs possibles : F, M).",
    }


@pytest.mark.parametrize("born, message", [
    (date(2024, 1, 1), "1 an au 20/03/2025, hors de la tranche 2 à 16 ans"),
    (date(2008, 3, 20), "17 ans au 20/03/2025, hors de la tranche 2 à 16 ans"),
    (date(2025, 4, 1), "La date de naissance (01/04/2025) ne peut pas être dans le futur"),
])
def test_a_child_outside_2_to_16_years_is_refused(programme, born, message):
    with pytest.raises(InvalidFields) as refused:
        add_child(programme.uow(), programme.referent, programme.family["F1"], ChildInput("Léo", "Lefèvre", born),
                  today=TODAY)
    assert message in refused.value.problems["birth_date"]


def test_ages_2_and_16_are_accepted(programme):
    for first, born in (("Deux", date(2023, 3, 20)), ("Seize", date(2008, 3, 21))):
        add_child(programme.uow(), programme.referent, programme.family["F2"], ChildInput(first, "Diallo", born),
                  today=TODAY)


def test_the_same_child_twice_is_refused(programme):
    with pytest.raises(InvalidFields, match="déjà inscrit·e") as refused:
        add_child(programme.uow(), programme.referent, programme.family["F1"],
                  ChildInput("lucas", "Lefèvre", date(2016, 4, 2)), today=TODAY)
    assert refused.value.field == "first_name"


def test_an_old_child_keeps_being_corrected_but_a_new_birth_date_follows_the_age_rule(programme):
    lucas = next(c for c in family_record(programme.uow(), programme.referent, programme.family["F1"]).children
                 if c.first_name == "Lucas")
    later = date(2034, 1, 1)  # Lucas is 17
    after = update_child(programme.uow(), programme.referent, lucas.id,
                         ChildInput("Lucas", "Lefèvre", lucas.birth_date, "M", "Lycée Lalande", "Terminale"),
                         lucas.updated_at, today=later)
    assert next(c for c in after.children if c.id == lucas.id).school == "Lycée Lalande"
    with pytest.raises(InvalidFields, match="hors de la tranche"):
        update_child(programme.uow(), programme.referent, lucas.id, ChildInput("Lucas", "Lefèvre", date(2016, 4, 3)),
                     None, today=later)


# -- editing and stale edits --------------------------------------------------------------------------------------

def test_update_family_records_changed_fields_and_a_stale_read_is_refused(programme):
    read = family_record(programme.uow(), programme.referent, programme.family["F1"])
    edited = HouseholdInput("Famille Lefèvre", "Bourg-en-Bresse", "14 rue des Lilas", True)
    after = update_family(programme.uow(), programme.referent, read.id, edited, read.updated_at)
    assert after.address == "14 rue des Lilas" and after.updated_at != read.updated_at
    assert _entries(programme, "family")[-1][:3] == ("ref-martin", "update", "F1")
    assert "address" in _entries(programme, "family")[-1][3]
    with pytest.raises(StaleEdit, match="modifié ce foyer entre-temps"):
        update_family(programme.uow(), programme.coordinator, read.id,
                      HouseholdInput("Famille Lefèvre", "Péronnas"), read.updated_at)
    assert family_record(programme.uow(), programme.referent, read.id).commune == "Bourg-en-Bresse"


def test_a_referent_cannot_hand_the_family_over_but_the_coordination_can(programme):
    f1 = programme.family["F1"]
    other = HouseholdInput("Famille Lefèvre", "Bourg-en-Bresse", referent_id=programme.coordinator.id)
    assert update_family(programme.uow(), programme.referent, f1, other, None).referent_id == programme.referent.id
    assert update_family(programme.uow(), programme.coordinator, f1, other, None).referent_id == (
        programme.coordinator.id)


def test_stale_guardian_and_child_edits_are_refused(programme):
    read = family_record(programme.uow(), programme.referent, programme.family["F1"])
    guardian, child = read.guardians[0], read.children[0]
    update_guardian(programme.uow(), programme.referent, guardian.id, GuardianInput("Aurélie Lefèvre", "mère"),
                    guardian.updated_at)
    with pytest.raises(StaleEdit, match="ce responsable légal"):
        remove_guardian(programme.uow(), programme.referent, guardian.id, guardian.updated_at)
    update_child(programme.uow(), programme.referent, child.id,
                 ChildInput(child.first_name, child.last_name, child.birth_date, child.sex, "École Pasteur"),
                 child.updated_at, today=TODAY)
    with pytest.raises(StaleEdit, match="la fiche de cet enfant"):
        update_child(programme.uow(), programme.referent, child.id,
                     ChildInput(child.first_name, child.last_name, child.birth_date), child.updated_at, today=TODAY)
    fresh = family_record(programme.uow(), programme.referent, programme.family["F1"])
    assert remove_guardian(programme.uow(), programme.referent, guardian.id, fresh.guardians[0].updated_at
                           ).guardians == ()


def test_parcours_objectives_and_actions(programme):
    read = family_record(programme.uow(), programme.referent, programme.family["F1"])
    plan = next(p for p in read.parcours if p.status == "open")
    after = update_parcours_plan(programme.uow(), programme.referent, plan.id, "Lecture", "Atout Plus ; "
                                 "accompagnement scolaire", plan.updated_at)
    assert (after.objectives, after.actions) == ("Lecture", "Atout Plus ; accompagnement scolaire")
    assert _entries(programme, "parcours")[-1][:3] == ("ref-martin", "update", plan.key)
    with pytest.raises(StaleEdit, match="ce parcours"):
        update_parcours_plan(programme.uow(), programme.coordinator, plan.id, "x", None, plan.updated_at)
    with pytest.raises(InvalidFields, match="Actions : le texte dépasse 10000 caractères"):
        update_parcours_plan(programme.uow(), programme.coordinator, plan.id, None, "a" * 10_001, None)


# -- permissions --------------------------------------------------------------------------------------------------

def test_a_referent_edits_only_the_families_they_follow_and_the_administration_nothing(programme):
    stranger = add_family(programme, "F9", "Famille Autre")  # no référent
    before = len(_entries(programme, "family"))
    with pytest.raises(PermissionDenied, match="pas suivie par vous"):
        update_family(programme.uow(), programme.referent, stranger, HOUSEHOLD, None)
    with pytest.raises(PermissionDenied, match="pas suivie par vous"):
        add_child(programme.uow(), programme.referent, stranger, ChildInput("A", "B", date(2015, 1, 1)), today=TODAY)
    with pytest.raises(PermissionDenied, match="pas suivie par vous"):
        family_record(programme.uow(), programme.referent, stranger)
    for call in (lambda: create_family(programme.uow(), programme.administrator, HOUSEHOLD),
                 lambda: family_record(programme.uow(), programme.administrator, programme.family["F1"]),
                 lambda: create_family(programme.uow(), SYSTEM, HOUSEHOLD),
                 lambda: delete_family(programme.uow(), programme.referent, stranger, None)):
        with pytest.raises(PermissionDenied):
            call()
    assert len(_entries(programme, "family")) == before


def test_an_unknown_family_is_not_found(programme):
    with pytest.raises(NotFound, match="n'existe plus"):
        update_family(programme.uow(), programme.coordinator, "nope", HOUSEHOLD, None)


# -- closing and deleting --------------------------------------------------------------------------------------------

def test_closing_ends_the_parcours_and_orientations_and_hides_the_file_from_the_referent(programme):
    f1 = programme.family["F1"]
    read = family_record(programme.uow(), programme.referent, f1)
    closed = close_family(programme.uow(), programme.referent, f1, TODAY, "Déménagement", read.updated_at,
                          today=TODAY)
    assert (closed.closed_on, closed.closed_reason) == (TODAY, "Déménagement")
    with programme.uow() as w:
        parcours = w.session.scalars(select(Parcours).join(Parcours.child).where(Parcours.child.has(family_id=f1)))
        assert {(p.status, p.end_date, p.exit_reason) for p in parcours} == {("closed", TODAY, "Déménagement")}
        orientation = w.session.scalars(select(Orientation).where(Orientation.family_id == f1)).one()
        assert (orientation.status, orientation.end_date) == ("ended", TODAY)
    entry = _entries(programme, "family")[-1]
    assert entry[:3] == ("ref-martin", "close", "F1") and "parcours_status" in entry[3]
    assert "F1" not in {f.key for f in list_families(programme.uow(), programme.referent, TODAY)}
    assert "F1" in {f.key for f in list_families(programme.uow(), programme.referent, TODAY, include_closed=True)}
    assert "F1" in {f.key for f in list_families(programme.uow(), programme.coordinator, TODAY)}
    assert family_file(programme.uow(), programme.referent, f1, TODAY).key == "F1"  # the file itself stays open
    # the session form no longer offers it, except to correct one of its sessions
    from services.families import family_choices
    assert f1 not in {c.id for c in family_choices(programme.uow(), programme.referent)}
    assert f1 in {c.id for c in family_choices(programme.uow(), programme.referent, keep=f1)}
    with pytest.raises(ValidationError, match="déjà clos"):
        close_family(programme.uow(), programme.referent, f1, TODAY, "Encore", None, today=TODAY)


def test_closing_needs_a_date_a_reason_and_a_date_after_the_last_session(programme):
    f1 = programme.family["F1"]
    with pytest.raises(InvalidFields) as refused:
        close_family(programme.uow(), programme.referent, f1, None, " ", None, today=TODAY)
    assert refused.value.problems == {"closed_on": "Date de clôture : valeur obligatoire manquante.",
                                      "closed_reason": "Motif de clôture : le texte ne peut pas être vide."}
    with pytest.raises(InvalidFields, match="avant sa dernière séance à domicile \\(11/03/2025\\)"):
        close_family(programme.uow(), programme.referent, f1, date(2025, 3, 10), "Fin", None, today=TODAY)
    with pytest.raises(InvalidFields, match="dans le futur"):
        close_family(programme.uow(), programme.referent, f1, date(2025, 3, 21), "Fin", None, today=TODAY)
    stale = family_record(programme.uow(), programme.referent, f1).updated_at
    update_family(programme.uow(), programme.coordinator, f1,
                  HouseholdInput("Famille Lefèvre", "Bourg-en-Bresse", referent_id=programme.referent.id), None)
    with pytest.raises(StaleEdit):
        close_family(programme.uow(), programme.referent, f1, TODAY, "Fin", stale, today=TODAY)


def test_a_proposed_orientation_keeps_the_file_open(programme):
    with programme.uow() as w:
        o = w.session.scalars(select(Orientation).where(Orientation.family_id == programme.family["F2"])).one()
        o.status, o.decided_on, o.decided_by_id = "proposed", None, None
        w.commit()
    with pytest.raises(ValidationError, match="attend la décision de la coordination"):
        close_family(programme.uow(), programme.referent, programme.family["F2"], TODAY, "Fin", None, today=TODAY)


def test_a_family_with_sessions_cannot_be_deleted(programme):
    with pytest.raises(ValidationError, match="déjà des séances à domicile.*Clore le dossier à la place"):
        delete_family(programme.uow(), programme.coordinator, programme.family["F1"], None)
    with programme.uow() as w:
        assert w.session.get(Family, programme.family["F1"]) is not None


def test_the_coordination_deletes_a_family_without_sessions(programme):
    family = create_family(programme.uow(), programme.referent, HOUSEHOLD)
    family = add_child(programme.uow(), programme.referent, family.id, ChildInput("Inès", "Martin", date(2016, 5, 4)),
                       today=TODAY)
    open_parcours(programme.uow(), programme.coordinator, family.children[0].id, TODAY)
    with pytest.raises(PermissionDenied):
        delete_family(programme.uow(), programme.referent, family.id, None)
    deleted = delete_family(programme.uow(), programme.coordinator, family.id, family.updated_at)
    assert deleted.key == family.key
    with programme.uow() as w:
        assert w.session.get(Family, family.id) is None
        assert w.session.scalars(select(Parcours).where(Parcours.child_id == family.children[0].id)).all() == []
    assert _entries(programme, "family")[-1][:3] == ("coord-durand", "delete", family.key)


def test_consent_of_a_created_family_is_recorded_with_the_existing_service(programme):
    family = create_family(programme.uow(), programme.referent, HOUSEHOLD)
    consent = record_consent(programme.uow(), programme.referent, family.key, TODAY, "Parcours de réussite éducative",
                             today=TODAY)
    assert consent.consent_date == TODAY
    assert audit.list_entries(programme.uow(), programme.coordinator, action="record_consent")[0].record_key == (
        family.key)


def test_an_empty_store_with_one_coordinator_takes_its_first_family(uow):
    with uow() as w:
        coordinator = User(key="coord", name="Sophie", role="coordinator")
        w.session.add(coordinator)
        w.commit()
    from services.directory import list_users
    user = list_users(uow())[0]
    record = create_family(uow(), user, HouseholdInput("Famille Première", "Bourg-en-Bresse"))
    assert [f.key for f in list_families(uow(), user, TODAY)] == [record.key]
