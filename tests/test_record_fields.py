"""What the reports count, entered through the services (issue 13): the family's QPV, a child's school level and
REP/REP+, a parcours's referral source and reasons, support profile and exit reason — each closed list refusing an
unknown code by its field's name, « autre » requiring its precision and a precision without « autre » dropped;
audit rows name what changed."""
import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from models import AuditEntry, Parcours, ParcoursReason
from models.enums import (EXIT_REASON_LABELS, EXIT_REASONS, PRIORITY_EDUCATION, PRIORITY_EDUCATION_LABELS,
                          REFERRAL_REASON_LABELS, REFERRAL_REASONS, REFERRAL_SOURCE_LABELS, REFERRAL_SOURCES,
                          SCHOOL_LEVEL_LABELS, SCHOOL_LEVELS, SUPPORT_PROFILE_LABELS, SUPPORT_PROFILES)
from services.errors import InvalidFields, ValidationError
from services.families import family_file
from services.family_records import (ChildInput, HouseholdInput, add_child, correct_closed_parcours, create_family,
                                     family_record, update_child, update_family, update_parcours_plan)
from services.parcours import close_parcours, open_parcours
from services.programme_settings import qpv_names, save_qpv_names
from services.record_fields import ParcoursDetails
from tests.programme_fixture import programme  # noqa: F401 - fixture

TODAY = date(2025, 3, 20)


def _p1(p):
    record = family_record(p.uow(), p.coordinator, p.family["F1"])
    return record, next(plan for plan in record.parcours if plan.key == "P1")


def _last_entry(p, record_type):
    with p.uow() as w:
        e = w.session.scalars(select(AuditEntry).where(AuditEntry.record_type == record_type)
                              .order_by(AuditEntry.at.desc(), AuditEntry.seq.desc())).first()
        return e.action, e.record_key, sorted(json.loads(e.changed_fields or "[]"))


def test_every_code_has_a_french_label_and_other_is_labelled_autre_preciser():
    for codes, labels in ((REFERRAL_SOURCES, REFERRAL_SOURCE_LABELS), (REFERRAL_REASONS, REFERRAL_REASON_LABELS),
                          (SUPPORT_PROFILES, SUPPORT_PROFILE_LABELS), (EXIT_REASONS, EXIT_REASON_LABELS),
                          (SCHOOL_LEVELS, SCHOOL_LEVEL_LABELS), (PRIORITY_EDUCATION, PRIORITY_EDUCATION_LABELS)):
        assert tuple(labels) == codes and all(labels.values())
        if "autre" in codes:
            assert labels["autre"] == "Autre (préciser)"


# -- family and child ------------------------------------------------------------------------------------------------

def test_a_qpv_name_is_kept_and_sets_the_priority_neighbourhood_flag(programme):
    record = create_family(programme.uow(), programme.referent,
                           HouseholdInput("Famille Roux", "Bourg-en-Bresse", qpv_name="  Croix-Blanche "))
    assert (record.qpv_name, record.priority_neighbourhood) == ("Croix-Blanche", True)
    changed = update_family(programme.uow(), programme.referent, record.id,
                            HouseholdInput("Famille Roux", "Bourg-en-Bresse", qpv_name="Pont-des-Chèvres"),
                            record.updated_at)
    assert changed.qpv_name == "Pont-des-Chèvres"
    assert _last_entry(programme, "family") == ("update", record.key, ["qpv_name"])
    assert family_file(programme.uow(), programme.referent, record.id, TODAY).qpv_name == "Pont-des-Chèvres"


def test_a_child_records_school_level_and_priority_education(programme):
    record = add_child(programme.uow(), programme.referent, programme.family["F1"],
                       ChildInput("Léo", "Lefèvre", date(2014, 5, 1), school_level="college",
                                  priority_education="rep_plus"), today=TODAY)
    leo = next(c for c in record.children if c.first_name == "Léo")
    assert (leo.school_level, leo.priority_education) == ("college", "rep_plus")
    shown = next(c for c in family_file(programme.uow(), programme.referent, programme.family["F1"], TODAY).children
                 if c.first_name == "Léo")
    assert (shown.school_level, shown.priority_education) == ("college", "rep_plus")


def test_an_unknown_school_level_or_rep_is_refused_naming_each_field(programme):
    with pytest.raises(InvalidFields) as refused:
        add_child(programme.uow(), programme.referent, programme.family["F1"],
                  ChildInput("Léo", "Lefèvre", date(2014, 5, 1), school_level="CM2", priority_education="REP+"),
                  today=TODAY)
    problems = refused.value.problems
    assert problems["school_level"].startswith("Niveau scolaire : valeur inconnue « CM2 »")
    assert problems["priority_education"].startswith("Éducation prioritaire : valeur inconnue « REP+ »")


def test_correcting_a_childs_school_level_is_audited(programme):
    record = family_record(programme.uow(), programme.referent, programme.family["F1"])
    lucas = next(c for c in record.children if c.first_name == "Lucas")
    update_child(programme.uow(), programme.referent, lucas.id,
                 ChildInput(lucas.first_name, lucas.last_name, lucas.birth_date, lucas.sex, lucas.school,
                            lucas.school_class, school_level="lycee", priority_education="hors_rep"),
                 lucas.updated_at, today=TODAY)
    assert _last_entry(programme, "child") == ("update", lucas.key, ["priority_education", "school_level"])


# -- parcours ----------------------------------------------------------------------------------------------------

def test_the_plan_records_referral_and_support_profile(programme):
    _record, plan = _p1(programme)
    details = ParcoursDetails("en_cpe", None, ("absenteisme", "scolarite"), None, "renforce")
    saved = update_parcours_plan(programme.uow(), programme.referent, plan.id, plan.objectives, "Aide aux devoirs",
                                 plan.updated_at, details=details)
    assert saved.details == ParcoursDetails("en_cpe", None, ("scolarite", "absenteisme"), None, "renforce")
    assert saved.actions == "Aide aux devoirs"
    assert _last_entry(programme, "parcours") == ("update", "P1", ["actions", "referral_reasons", "referral_source",
                                                                   "support_profile"])


def test_changing_the_reasons_keeps_the_others_and_drops_the_unticked(programme):
    _record, plan = _p1(programme)
    first = update_parcours_plan(programme.uow(), programme.referent, plan.id, plan.objectives, None, plan.updated_at,
                                 details=ParcoursDetails(referral_reasons=("sante", "langage")))
    second = update_parcours_plan(programme.uow(), programme.referent, plan.id, plan.objectives, None,
                                  first.updated_at, details=ParcoursDetails(referral_reasons=("langage", "comportement")))
    assert second.details.referral_reasons == ("comportement", "langage")
    with programme.uow() as w:
        assert sorted(w.session.scalars(select(ParcoursReason.reason))) == ["comportement", "langage"]


def test_other_needs_its_precision_and_a_precision_without_other_is_dropped(programme):
    _record, plan = _p1(programme)
    with pytest.raises(InvalidFields) as refused:
        update_parcours_plan(programme.uow(), programme.referent, plan.id, None, None, plan.updated_at,
                             details=ParcoursDetails("autre", " ", ("autre",), None, "autre"))
    assert set(refused.value.problems) == {"referral_source_other", "referral_reason_other", "support_profile_other"}
    assert "« Autre » est choisi pour « Orienté·e par » : précisez-le" in refused.value.problems["referral_source_other"]
    saved = update_parcours_plan(programme.uow(), programme.referent, plan.id, None, None, plan.updated_at,
                                 details=ParcoursDetails("autre", "Club de football", ("sante",), "typed before",
                                                         "veille", "typed too"))
    assert saved.details == ParcoursDetails("autre", "Club de football", ("sante",), None, "veille", None)


def test_an_unknown_referral_code_is_refused_naming_the_field(programme):
    _record, plan = _p1(programme)
    with pytest.raises(InvalidFields) as refused:
        update_parcours_plan(programme.uow(), programme.referent, plan.id, None, None, plan.updated_at,
                             details=ParcoursDetails("mairie", referral_reasons=("ennui",), support_profile="x"))
    problems = refused.value.problems
    assert problems["referral_source"].startswith("Orienté·e par : valeur inconnue « mairie »")
    assert problems["referral_reasons"].startswith("Motifs d'orientation : valeur inconnue « ennui »")
    assert problems["support_profile"].startswith("Profil d'accompagnement : valeur inconnue « x »")


def test_opening_a_parcours_records_its_referral(programme):
    file = family_file(programme.uow(), programme.coordinator, programme.family["F2"], TODAY)
    awa = file.children[0]
    row = open_parcours(programme.uow(), programme.coordinator, awa.id, date(2025, 3, 3), "Lire",
                        details=ParcoursDetails("pmi", referral_reasons=("langage",), support_profile="individualise"))
    with programme.uow() as w:
        p = w.session.get(Parcours, row.id)
        assert (p.referral_source, [r.reason for r in p.reasons], p.support_profile) == (
            "pmi", ["langage"], "individualise")
    action, key, changed = _last_entry(programme, "parcours")
    assert (action, key) == ("open", row.key) and {"referral_source", "referral_reasons", "support_profile"} <= set(changed)


def test_closing_records_the_exit_reason_code_and_its_comment(programme):
    _record, plan = _p1(programme)
    row = close_parcours(programme.uow(), programme.coordinator, plan.id, date(2025, 3, 10), "Très bon suivi",
                         "objectifs_atteints")
    assert (row.exit_reason_code, row.exit_reason, row.exit_label) == (
        "objectifs_atteints", "Très bon suivi", "Objectifs atteints — Très bon suivi")
    assert _last_entry(programme, "parcours") == ("close", "P1", ["end_date", "exit_reason", "exit_reason_code",
                                                                  "status"])


def test_closing_for_another_reason_needs_its_precision_and_an_unknown_code_is_refused(programme):
    _record, plan = _p1(programme)
    with pytest.raises(InvalidFields) as refused:
        close_parcours(programme.uow(), programme.coordinator, plan.id, date(2025, 3, 10), "", "autre")
    assert set(refused.value.problems) == {"exit_reason"}
    with pytest.raises(InvalidFields) as refused:
        close_parcours(programme.uow(), programme.coordinator, plan.id, date(2025, 3, 10), None, "fin")
    assert refused.value.problems["exit_reason_code"].startswith("Motif de sortie : valeur inconnue « fin »")


def test_a_closed_parcours_is_completed_for_the_reports(programme):
    _record, plan = _p1(programme)
    close_parcours(programme.uow(), programme.coordinator, plan.id, date(2025, 3, 10), "Partie à Lyon")
    _record, closed = _p1(programme)
    assert closed.exit_reason_code is None
    done = correct_closed_parcours(programme.uow(), programme.referent, closed.id,
                                   ParcoursDetails("famille", support_profile="veille"), "demenagement",
                                   "Partie à Lyon", closed.updated_at)
    assert (done.exit_reason_code, done.exit_reason, done.details.referral_source) == (
        "demenagement", "Partie à Lyon", "famille")
    with pytest.raises(InvalidFields) as refused:
        correct_closed_parcours(programme.uow(), programme.referent, closed.id, ParcoursDetails("x"), "autre", None,
                                done.updated_at)
    assert set(refused.value.problems) == {"referral_source", "exit_reason"}


def test_an_open_parcours_is_not_corrected_as_a_closed_one(programme):
    _record, plan = _p1(programme)
    with pytest.raises(ValidationError) as refused:
        correct_closed_parcours(programme.uow(), programme.referent, plan.id, ParcoursDetails(), "demenagement",
                                None, plan.updated_at)
    assert "n'est pas clos" in refused.value.message


CODES = st.one_of(st.none(), st.sampled_from(REFERRAL_SOURCES), st.text(max_size=8))
TEXTS = st.one_of(st.none(), st.just(""), st.just("  "), st.just("Club de foot"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=CODES, precision=TEXTS)
def test_a_referral_source_is_stored_only_as_the_rule_says(programme, code, precision):
    _record, plan = _p1(programme)
    details = ParcoursDetails(code, precision)
    try:
        saved = update_parcours_plan(programme.uow(), programme.referent, plan.id, plan.objectives, plan.actions,
                                     plan.updated_at, details=details)
    except InvalidFields as refused:
        unknown = code not in (None, "", *REFERRAL_SOURCES)
        missing = code == "autre" and not (precision or "").strip()
        assert unknown or missing
        assert set(refused.problems) == ({"referral_source"} if unknown else {"referral_source_other"})
        return
    assert saved.details.referral_source == (code or None)
    assert saved.details.referral_source_other == (precision.strip() if code == "autre" else None)


# -- the programme's QPV ------------------------------------------------------------------------------------------

def test_the_administrator_keeps_the_programmes_qpv_list(programme):
    from services.programme_settings import save_programme

    save_programme(programme.uow(), programme.administrator, "PRE de Bourg", "Bourg-en-Bresse", "A")
    kept = save_qpv_names(programme.uow(), programme.administrator,
                          [" Croix-Blanche", "", "Pont-des-Chèvres", "croix-blanche"])
    assert kept == ("Croix-Blanche", "Pont-des-Chèvres")
    assert qpv_names(programme.uow(), programme.referent) == kept
    with pytest.raises(InvalidFields) as refused:
        save_qpv_names(programme.uow(), programme.administrator, ["x" * 121])
    assert "120 caractères" in refused.value.problems["qpv_names"]


# -- the demo programme ---------------------------------------------------------------------------------------

def test_the_demo_fills_every_record_field_with_varied_values(uow):
    from collections import Counter

    from services.dataset import export_dataset
    from services.demo import load_demo
    from services.permissions import SYSTEM

    load_demo(uow(), today=date(2025, 12, 31))
    data = export_dataset(uow(), SYSTEM)
    families, parcours = data["families"], data["parcours"]
    children = [c for f in families for c in f["children"]]
    assert all(f.get("qpv_name") for f in families if f["priority_neighbourhood"])
    assert len({f.get("qpv_name") for f in families} - {None}) >= 3
    assert set(Counter(c["school_level"] for c in children)) >= {"maternelle", "elementaire", "college"}
    assert set(Counter(c.get("priority_education") for c in children)) >= {"hors_rep", "rep", "rep_plus"}
    assert len(Counter(p["referral_source"] for p in parcours)) >= 8
    assert all(p.get("referral_reasons") for p in parcours)
    assert len(Counter(r for p in parcours for r in p["referral_reasons"])) >= 8
    assert len(Counter(p.get("support_profile") for p in parcours if p["status"] != "proposed")) >= 3
    assert all(p.get("exit_reason_code") for p in parcours if p["status"] == "closed")
    assert all(p.get("referral_source_other") for p in parcours if p["referral_source"] == "autre")


def test_closing_the_family_file_gives_its_running_parcours_the_exit_reason_code(programme):
    from services.family_records import close_family

    record = family_record(programme.uow(), programme.coordinator, programme.family["F1"])
    with pytest.raises(InvalidFields) as refused:
        close_family(programme.uow(), programme.coordinator, record.id, TODAY, "Départ", record.updated_at,
                     today=TODAY, exit_reason_code="parti")
    assert refused.value.problems["exit_reason_code"].startswith("Motif de sortie : valeur inconnue « parti »")
    close_family(programme.uow(), programme.coordinator, record.id, TODAY, "Départ à Lyon", record.updated_at,
                 today=TODAY, exit_reason_code="demenagement")
    with programme.uow() as w:
        p = w.session.scalars(select(Parcours).where(Parcours.key == "P1")).one()
        assert (p.status, p.exit_reason_code, p.exit_reason) == ("closed", "demenagement", "Départ à Lyon")
    assert "parcours_exit_reason_code" in _last_entry(programme, "family")[2]
