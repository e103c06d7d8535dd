"""The record fields of issue 13 in `parcours-dataset/1`: optional keys (an older file imports as before and
exports as before), exported only when set, re-imported identically, refused with the field's name when wrong."""
import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Child, Family, Parcours
from services.dataset import export_dataset, import_dataset
from services.errors import ImportRejected
from services.permissions import SYSTEM

EXAMPLE = json.loads((Path(__file__).parent / "data" / "example_dataset.json").read_text(encoding="utf-8"))
PARCOURS_FIELDS = {"referral_source": "autre", "referral_source_other": "Club de football",
                   "referral_reasons": ["scolarite", "autre", "sante"], "referral_reason_other": "Deuil récent",
                   "support_profile": "renforce", "actions": "Aide aux devoirs\nSortie au musée"}


def with_fields(data=None):
    data = copy.deepcopy(data or EXAMPLE)
    data["programme"]["qpv_names"] = ["Croix-Blanche", "Pont-des-Chèvres"]
    f1 = next(f for f in data["families"] if f["key"] == "F1")
    f1["qpv_name"] = "Croix-Blanche"
    f1["children"][0].update(school_level="college", priority_education="rep_plus")
    data["parcours"][0].update(PARCOURS_FIELDS)
    data["parcours"].append({"key": "P-closed", "child": "C3", "referent": "ref-martin", "status": "closed",
                             "start": "2024-09-02", "end": "2025-02-28", "exit_reason_code": "demenagement",
                             "exit_reason": "Partie à Lyon", "referral_source": "en_infirmiere"})
    return data


def _by_key(records):
    return {r["key"]: r for r in records}


def test_the_new_fields_are_exported_as_imported_and_reimport_unchanged(uow):
    given_data = with_fields()
    import_dataset(uow(), given_data)
    exported = export_dataset(uow(), SYSTEM)
    assert exported["programme"]["qpv_names"] == ["Croix-Blanche", "Pont-des-Chèvres"]
    f1 = _by_key(exported["families"])["F1"]
    assert (f1["qpv_name"], f1["priority_neighbourhood"]) == ("Croix-Blanche", True)
    lucas = _by_key(f1["children"])["C1"]
    assert (lucas["school_level"], lucas["priority_education"]) == ("college", "rep_plus")
    parcours = _by_key(exported["parcours"])
    # the reasons in the list's order, whatever the file's
    assert parcours["P1"] | {"referral_reasons": None} == parcours["P1"] | PARCOURS_FIELDS | {"referral_reasons": None}
    assert parcours["P1"]["referral_reasons"] == ["scolarite", "sante", "autre"]
    assert (parcours["P-closed"]["exit_reason_code"], parcours["P-closed"]["exit_reason"]) == (
        "demenagement", "Partie à Lyon")
    report = import_dataset(uow(), exported)
    assert report.created_total == 0
    assert export_dataset(uow(), SYSTEM) == exported


def test_an_export_reimports_into_an_empty_store_with_the_same_fields(uow, tmp_path):
    from models.db import make_engine, migrate
    from services.uow import unit_of_work_factory

    import_dataset(uow(), with_fields())
    exported = export_dataset(uow(), SYSTEM)
    engine = make_engine(str(tmp_path / "other.sqlite"))
    migrate(engine)
    other = unit_of_work_factory(engine)
    import_dataset(other(), exported)
    assert export_dataset(other(), SYSTEM) == exported
    engine.dispose()


def test_a_file_without_the_new_fields_exports_without_them(uow):
    import_dataset(uow(), copy.deepcopy(EXAMPLE))
    exported = export_dataset(uow(), SYSTEM)
    new_keys = {"qpv_name", "school_level", "priority_education", "qpv_names", "actions", "exit_reason_code",
                *PARCOURS_FIELDS}
    records = [exported["programme"], *exported["families"], *exported["parcours"],
               *(c for f in exported["families"] for c in f["children"])]
    assert not any(new_keys & set(r) for r in records)


def test_a_qpv_name_sets_the_priority_neighbourhood_flag_on_import(uow):
    data = copy.deepcopy(EXAMPLE)
    data["families"][0].update(qpv_name="Croix-Blanche", priority_neighbourhood=False)
    import_dataset(uow(), data)
    with uow() as w:
        family = w.session.scalars(select(Family).where(Family.key == data["families"][0]["key"])).one()
        assert (family.qpv_name, family.priority_neighbourhood) == ("Croix-Blanche", True)


def test_a_precision_without_autre_is_dropped_on_import(uow):
    data = copy.deepcopy(EXAMPLE)
    data["parcours"][0].update(referral_source="pmi", referral_source_other="typed", support_profile="veille",
                               support_profile_other="typed", referral_reasons=["sante"],
                               referral_reason_other="typed")
    import_dataset(uow(), data)
    with uow() as w:
        p = w.session.scalars(select(Parcours).where(Parcours.key == "P1")).one()
        assert (p.referral_source, p.referral_source_other, p.support_profile_other, p.referral_reason_other) == (
            "pmi", None, None, None)
    assert import_dataset(uow(), data).created_total == 0  # the file says what is stored, its extra text aside


@pytest.mark.parametrize("change, field", [
    (lambda d: d["parcours"][0].update(referral_source="mairie"), "referral_source"),
    (lambda d: d["parcours"][0].update(referral_reasons=["sante", "ennui"]), "referral_reasons"),
    (lambda d: d["parcours"][0].update(referral_reasons="sante"), "referral_reasons"),
    (lambda d: d["parcours"][0].update(support_profile="leger"), "support_profile"),
    (lambda d: d["parcours"][0].update(exit_reason_code="fin"), "exit_reason_code"),
    (lambda d: d["parcours"][0].update(referral_source="autre"), "referral_source_other"),
    (lambda d: d["parcours"][0].update(referral_reasons=["autre"]), "referral_reason_other"),
    (lambda d: d["parcours"][0].update(support_profile="autre", support_profile_other=" "), "support_profile_other"),
    (lambda d: d["parcours"][0].update(exit_reason_code="autre"), "exit_reason"),
    (lambda d: d["parcours"][0].update(referral_source_other="x" * 201, referral_source="autre"),
     "referral_source_other"),
    (lambda d: d["families"][0]["children"][0].update(school_level="CM2"), "school_level"),
    (lambda d: d["families"][0]["children"][0].update(priority_education="REP+"), "priority_education"),
    (lambda d: d["families"][0].update(qpv_name="x" * 121), "qpv_name"),
    (lambda d: d["programme"].update(qpv_names=["ok", 3]), "qpv_names"),
])
def test_a_wrong_value_is_refused_naming_its_field_and_nothing_is_written(uow, change, field):
    data = copy.deepcopy(EXAMPLE)
    change(data)
    with pytest.raises(ImportRejected) as refused:
        import_dataset(uow(), data)
    assert refused.value.field == field and f"champ « {field} »" in refused.value.message
    with uow() as w:
        assert w.session.scalars(select(Child)).first() is None


def test_a_stored_parcours_differing_in_a_new_field_is_refused(uow):
    import_dataset(uow(), with_fields())
    data = with_fields()
    data["parcours"][0]["support_profile"] = "veille"
    with pytest.raises(ImportRejected) as refused:
        import_dataset(uow(), data)
    assert "support_profile" in refused.value.message
