"""Issue 9, last part: qualifications are the convention's own, and a monthly flat per family followed (0008).

By hand, April 2025 (zone A spring holidays from Saturday 19 April):
- convention « ED »: Éducateur 40,00 € per session and 10,00 € of weekly preparation, Psychologue 60,00 € and
  12,50 €. Family F1: Éducateur E1 on Tue 1/04, Psychologue P1 on Tue 8/04, Médiatrice M1 (no tariff) on Tue 15/04.
    home interventions  Éducateur 1 × 40,00 = 40,00   Psychologue 1 × 60,00 = 60,00
    preparation         Éducateur 1 × 10,00 = 10,00   Psychologue 1 × 12,50 = 12,50     total 122,50 €
  the Médiatrice's session is flagged missing_tariff, not billed.
- convention « AP » with a flat of 150,00 € per family followed: F1 (since 20/01), F2 (from 20/04: counts), F3
  (ended 31/03: does not count), F4 (since 20/01): 3 × 150,00 = 450,00 €.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Convention, Intervenant, Statement as StoredStatement, Tariff
from models.db import head_revision, migrate
from services.billing import get_statement, issue_statement
from services.billing.labels import KIND_LABELS
from services.billing.pdf import render_statement_pdf
from services.conventions_admin import (FLAT, ConventionInput, IntervenantInput, InvalidFields, create_convention,
                                        create_intervenant, get_convention, known_qualifications, update_convention)
from services.dataset import export_dataset, import_dataset
from services.integrity import verify
from services.permissions import SYSTEM
from tests.billing.migration_steps import downgrade_to, issued_rows
from tests.billing.builders import dataset, family, session


def lines_of(statement):
    return [(l.kind, l.qualification, l.quantity, str(l.unit_price), str(l.amount)) for l in statement.lines]


def educator_dataset() -> dict:
    data = dataset()
    data["conventions"][0].update(
        qualifications=["Éducateur", "Psychologue"],
        tariffs={"Éducateur": {"home_intervention": "40.00", "weekly_preparation": "10.00"},
                 "Psychologue": {"home_intervention": "60.00", "weekly_preparation": "12.50"}})
    data["intervenants"] = [
        {"key": "E1", "partner": "adom", "name": "Nadia Benali", "qualification": "Éducateur"},
        {"key": "P1", "partner": "adom", "name": "Julien Morel", "qualification": "Psychologue"},
        {"key": "M1", "partner": "adom", "name": "Léa Roux", "qualification": "Médiatrice"}]
    family(data, "F1")
    session(data, "a", "F1", "E1", "2025-04-01", referent=True)
    session(data, "b", "F1", "P1", "2025-04-08")
    session(data, "c", "F1", "M1", "2025-04-15")
    return data


def flat_dataset() -> dict:
    data = dataset()
    data["conventions"][0]["tariffs"]["forfait"] = {"monthly_family_flat": "150.00"}
    family(data, "F1")
    family(data, "F2", decided_on="2025-04-20")
    family(data, "F3", end="2025-03-31")
    family(data, "F4")
    return data


def test_a_convention_with_educateur_and_psychologue_is_billed_per_session_at_their_rates(uow):
    import_dataset(uow(), educator_dataset())
    april = get_statement(uow(), SYSTEM, "AP", "2025-04")
    assert lines_of(april) == [  # by kind, then qualification as text (as AES before TISF)
        ("home_intervention", "Psychologue", 1, "60.00", "60.00"),
        ("home_intervention", "Éducateur", 1, "40.00", "40.00"),
        ("weekly_preparation", "Psychologue", 1, "12.50", "12.50"),
        ("weekly_preparation", "Éducateur", 1, "10.00", "10.00")]
    assert april.total == Decimal("122.50")
    assert [(f.kind, f.session, f.billed) for f in april.flags if f.kind == "missing_tariff"] == [("missing_tariff", "c", False)]
    with uow() as u:
        assert u.session.scalars(select(Convention)).one().qualifications == ["Éducateur", "Psychologue"]


def test_a_statement_with_long_qualifications_is_issued_with_its_pdf_and_the_chain_checks(uow, engine):
    import_dataset(uow(), educator_dataset())
    for month in ("2025-01", "2025-02", "2025-03", "2025-04"):
        issued = issue_statement(uow(), SYSTEM, "AP", month, render_pdf=render_statement_pdf)
    assert issued.total == Decimal("122.50") and issued.lines[1].qualification == "Éducateur"
    assert verify(engine).ok


def test_a_monthly_flat_of_150_for_3_followed_families_is_450(uow):
    import_dataset(uow(), flat_dataset())
    april = get_statement(uow(), SYSTEM, "AP", "2025-04")
    assert lines_of(april) == [("monthly_family_flat", "forfait", 3, "150.00", "450.00")]
    assert april.total == Decimal("450.00")
    assert {f.code: f.amount for f in april.families} == {"F1": Decimal("150.00"), "F2": Decimal("150.00"),
                                                          "F4": Decimal("150.00")}
    assert april.intervenants == ()
    march = get_statement(uow(), SYSTEM, "AP", "2025-03")  # F3 still followed in March, F2 not yet
    assert lines_of(march) == [("monthly_family_flat", "forfait", 3, "150.00", "450.00")]
    assert {f.code for f in march.families} == {"F1", "F3", "F4"}


def test_the_flat_is_labelled_in_the_pdf_and_the_window_and_issued_with_the_chain(uow, engine):
    import pypdf, io
    assert KIND_LABELS["monthly_family_flat"] == "Forfait mensuel par famille suivie"
    import_dataset(uow(), flat_dataset())
    for month in ("2025-01", "2025-02", "2025-03", "2025-04"):
        issued = issue_statement(uow(), SYSTEM, "AP", month, render_pdf=render_statement_pdf)
    assert issued.total == Decimal("450.00")
    with uow() as u:
        pdf = u.session.scalars(select(StoredStatement).where(StoredStatement.month == "2025-04")).one().pdf
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Forfait mensuel par famille suivie" in text
    assert verify(engine).ok


def test_a_convention_without_a_flat_bills_none(uow):
    data = flat_dataset()
    del data["conventions"][0]["tariffs"]["forfait"]
    import_dataset(uow(), data)
    assert get_statement(uow(), SYSTEM, "AP", "2025-04").lines == ()


@pytest.mark.sqlite_only("brings the SQLite file back to 0007 (writable_schema, PRAGMA integrity_check)")
def test_the_migration_keeps_issued_statements_byte_identical_and_check_passes(engine, uow):
    """Statements issued on a base brought back to 0007 keep payload, PDF and hashes through 0008; every convention
    reads AES, TISF and the next draft carries no régularisation."""
    data = dataset()
    family(data, "F1")
    session(data, "a", "F1", "A1", "2025-01-21", referent=True)
    session(data, "b", "F1", "A1", "2025-01-23")
    session(data, "c", "F1", "T1", "2025-02-18", minutes=70)
    session(data, "d", "F1", "T1", "2025-03-11")
    import_dataset(uow(), data)
    for month in ("2025-01", "2025-02"):
        issue_statement(uow(), SYSTEM, "AP", month, render_pdf=render_statement_pdf)
    downgrade_to(engine, "0007")
    with engine.connect() as conn:
        assert "qualification IN ('AES', 'TISF')" in conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'statement_line'").scalar_one()
    before = issued_rows(uow)
    assert migrate(engine) == head_revision()
    after = issued_rows(uow)
    with uow() as u:
        assert u.session.scalars(select(Convention)).one().qualifications == ["AES", "TISF"]
        u.session.add(Tariff(convention=u.session.scalars(select(Convention)).one(), qualification="Psychologue",
                             kind="monthly_family_flat", unit_price=Decimal("1.00")))
        u.session.flush()  # the lifted and widened CHECKs accept it
        u.session.rollback()
    assert after == before and len(after) == 2
    assert verify(engine).ok
    march = get_statement(uow(), SYSTEM, "AP", "2025-03")
    assert [l for l in march.lines if l.month != "2025-03"] == [] and march.lines
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_the_dataset_round_trip_keeps_qualifications_and_the_flat(uow, engine, tmp_path):
    from models.db import make_engine
    from services.uow import unit_of_work_factory
    data = educator_dataset()
    data["conventions"][0]["tariffs"]["forfait"] = {"monthly_family_flat": "150.00"}
    import_dataset(uow(), data)
    exported = export_dataset(uow(), SYSTEM)
    (convention,) = exported["conventions"]
    assert convention["qualifications"] == ["Éducateur", "Psychologue"]
    assert list(convention["tariffs"]) == ["Éducateur", "Psychologue", "forfait"]
    assert convention["tariffs"]["forfait"] == {"monthly_family_flat": "150.00"}
    assert {i["key"]: i["qualification"] for i in exported["intervenants"]}["M1"] == "Médiatrice"
    import_dataset(uow(), exported)  # the same base: unchanged, not refused
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(other)
    other_uow = unit_of_work_factory(other)
    import_dataset(other_uow(), exported)
    assert export_dataset(other_uow(), SYSTEM)["conventions"] == exported["conventions"]
    assert get_statement(other_uow(), SYSTEM, "AP", "2025-04").total == Decimal("272.50")  # 122,50 + one family followed × 150,00
    other.dispose()


def test_an_atout_plus_file_exports_without_qualifications(uow):
    import_dataset(uow(), dataset())
    (convention,) = export_dataset(uow(), SYSTEM)["conventions"]
    assert "qualifications" not in convention and list(convention["tariffs"]) == ["AES", "TISF"]


def test_the_dataset_refuses_a_tariff_of_an_undeclared_qualification(uow):
    from services.errors import DomainError
    data = educator_dataset()
    data["conventions"][0]["tariffs"]["Infirmier"] = {"home_intervention": "10.00"}
    with pytest.raises(DomainError, match="Infirmier"):
        import_dataset(uow(), data)


def admin_store(uow):
    data = dataset()
    data["users"].append({"key": "admin", "name": "Alice Admin", "role": "administrator"})
    import_dataset(uow(), data)
    from services.directory import list_users
    return {u.key: u for u in list_users(uow())}["admin"]


def _input(**changes) -> ConventionInput:
    from datetime import date
    return ConventionInput(**{"key": "ED", "partner": "adom", "action": "Éducation", "start": date(2025, 1, 1),
                              "end": None, **changes})


def test_the_service_keeps_the_conventions_qualifications_and_flat_and_checks_labels(uow):
    user = admin_store(uow)
    created = create_convention(uow(), user, _input(
        qualifications=("Éducateur",), tariffs={("Éducateur", "home_intervention"): "40,00", FLAT: "150,00"}))
    assert created.qualifications == ("Éducateur",) and created.monthly_family_flat == Decimal("150.00")
    assert created.tariff("Éducateur", "home_intervention") == Decimal("40.00")
    for bad, message in ((" ", "obligatoire"), ("x" * 21, "20 caractères"), ("Forfait", "réservé")):
        with pytest.raises(InvalidFields) as raised:
            update_convention(uow(), user, "ED", _input(qualifications=("Éducateur", bad)))
        assert message in raised.value.problems["qualifications"]
    with pytest.raises(InvalidFields) as raised:
        update_convention(uow(), user, "ED", _input(qualifications=("Psychologue",),
                                                      tariffs={("Éducateur", "home_intervention"): "40,00"}))
    assert "Éducateur" in raised.value.problems["tariffs"]
    assert get_convention(uow(), user, "ED").qualifications == ("Éducateur",)
    assert known_qualifications(uow(), user) == ("AES", "TISF", "Éducateur")  # AP before ED, same start


def test_an_intervenant_carries_any_label_of_1_to_20_characters(uow):
    user = admin_store(uow)
    made = create_intervenant(uow(), user, IntervenantInput("X1", "Léa Roux", "  Éducatrice spé. ", "adom"))
    assert made.qualification == "Éducatrice spé."
    for bad, message in (("", "obligatoire"), ("y" * 21, "20 caractères"), ("forfait", "réservé")):
        with pytest.raises(InvalidFields) as raised:
            create_intervenant(uow(), user, IntervenantInput("X2", "Léa Roux", bad, "adom"))
        assert message in raised.value.problems["qualification"]
    with uow() as u:
        assert u.session.scalars(select(Intervenant.qualification).where(Intervenant.key == "X1")).one() == \
            "Éducatrice spé."
