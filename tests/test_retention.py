"""RGPD retention: anonymisation of the families past their retention period (services.retention, `retention` CLI).

One programme, built once and copied for each test: two families past their period (OLD: closed parcours ended in
June 2025; NOPARC: no parcours, last orientation ended in May 2025), four still kept (OPEN: open parcours; RECENT:
parcours closed in September 2026; ACTIVE: parcours closed but an orientation still in force; EPS: studied in EPS in
June 2026), two left for review (NODATE: nothing dated; UNDATED: closed parcours without end date). Statements of
January to June 2025 are issued before, one with a regularisation. Today is 15 March 2028, so the cutoff of two years
is 15 March 2026.
"""
from __future__ import annotations

import io
import json
import shutil
import sqlite3
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select, text

import main
from models import AuditEntry, Statement as StoredStatement
from models.db import make_engine, migrate
from services import text_rules
from services.billing import get_statement, issue_statement, list_issued, recomputed_lines
from services.dataset import export_dataset, import_dataset
from services.errors import ValidationError
from services.permissions import SYSTEM
from services.retention import anonymise_expired_families, retention_cutoff
from services.uow import unit_of_work_factory
from tests.billing.builders import dataset, family, meeting, session
from tests.billing.test_properties import template_db  # noqa: F401  (fixture: a migrated empty base)
from tests import stores
from tests.stores import is_url

TODAY = date(2028, 3, 15)
MONTHS = ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
EXPIRED = ("NOPARC", "OLD")
KEPT = ("ACTIVE", "EPS", "NODATE", "OPEN", "RECENT", "UNDATED")

# Everything identifying typed about the two expired families: none of it may survive anywhere in the file.
SECRETS = {
    "OLD": ["Famille Quenelleau", "Quenelleau", "12 impasse des Glycines-Mauves", "Zéphyrine", "Barnabé",
            "Ginette", "Honoré", "06 71 82 93 04", "07 12 34 56 78", "École Anatole-Quincampoix",
            "Maternelle des Ormeaux-Fleuris", "CM1-Lumière-B", "GS-Tournesol-C", "2015-07-14", "2018-02-03",
            "Père incarcéré à Villefranche", "Accord signé le 1er décembre", "reprendre confiance en lecture",
            "Déménagement prévu à Oyonnax", "Fatigue parentale marquée", "conflits répétés au domicile",
            *(f"Observation confidentielle Q-{i:02d}" for i in range(13))],
    "NOPARC": ["Vasseur-Pichonnat", "3 chemin du Moulin-Brûlé", "Anatole", "Yolande", "04 74 00 11 22",
               "Collège Saint-Exupéry-Nord", "2013-11-30", "Suivi demandé par l'assistante sociale de secteur",
               "Addiction du beau-père", "Fin de l'accompagnement : objectifs atteints", "Repérée par le collège",
               *(f"Remarque privée V-{i:02d}" for i in range(10))],
}


def _days(first: str, last: str, step: int) -> list[str]:
    day, end, out = date.fromisoformat(first), date.fromisoformat(last), []
    while day <= end:
        out.append(day.isoformat())
        day += timedelta(days=step)
    return out


def add_family(data, key, name, decided_on=None, end=None, children=(), reason=None, **fields):
    """A family (builders.family) with its identifying fields; children: (first, last, birth, sex, school, class)."""
    family(data, key, children=0, decided_on=decided_on, end=end)
    data["families"][-1].update(name=name, **fields, children=[
        {"key": f"{key}-C{i}", "first_name": c[0], "last_name": c[1], "birth_date": c[2], "sex": c[3],
         "school": c[4], "class": c[5]} for i, c in enumerate(children)])
    if reason:
        data["orientations"][-1]["reason"] = reason


def add_parcours(data, key, child, status, start, end=None, objectives=None, exit_reason=None):
    data.setdefault("parcours", []).append({"key": key, "child": child, "referent": "ref", "status": status,
                                            "start": start, "end": end, "objectives": objectives,
                                            "exit_reason": exit_reason})


def add_sessions(data, family_key, intervenant, days, note=None):
    for i, day in enumerate(days):
        session(data, f"{family_key}-S{i:02d}", family_key, intervenant, day, referent=(i == 0))
        if note:
            data["sessions"][-1]["notes"] = note.format(i=i)


def programme_data() -> dict:
    data = dataset()
    add_family(data, "OLD", "Famille Quenelleau", decided_on="2025-01-10", end="2025-06-30",
            address="12 impasse des Glycines-Mauves", notes="Père incarcéré à Villefranche jusqu'en mai.",
            consent_date="2024-12-01", consent_scope="Accord signé le 1er décembre par Mme Quenelleau : Atout Plus.",
            guardians=[{"name": "Ginette Quenelleau", "relationship": "mère", "phone": "06 71 82 93 04"},
                       {"name": "Honoré Quenelleau", "relationship": "père", "phone": "07 12 34 56 78"}],
            children=[("Zéphyrine", "Quenelleau", "2015-07-14", "F", "École Anatole-Quincampoix", "CM1-Lumière-B"),
                      ("Barnabé", "Quenelleau", "2018-02-03", "M", "Maternelle des Ormeaux-Fleuris",
                       "GS-Tournesol-C")],
            reason="Fatigue parentale marquée chez Mme Quenelleau.")
    for i in range(2):
        add_parcours(data, f"P-OLD-{i}", f"OLD-C{i}", "closed", "2024-12-01", "2025-06-30",
                  "Zéphyrine doit reprendre confiance en lecture.", "Déménagement prévu à Oyonnax-les-Bains.")
        data["parcours"][-1].update({  # free texts that can name someone, beside the codes the bilans count
            "actions": "Lecture avec Mme Quenelleau le mercredi.", "exit_reason_code": "demenagement",
            "referral_source": "autre", "referral_source_other": "Voisine de Mme Quenelleau",
            "referral_reasons": ["scolarite", "autre"], "referral_reason_other": "Conflit avec M. Quenelleau",
            "support_profile": "autre", "support_profile_other": "Suivi par Mme Quenelleau"})
    add_sessions(data, "OLD", "A1", _days("2025-01-07", "2025-06-24", 14), "Observation confidentielle Q-{i:02d}")
    session(data, "OLD-early", "OLD", "A1", "2025-01-06")  # before the orientation: flagged, not billed

    add_family(data, "NOPARC", "Famille Vasseur-Pichonnat", decided_on="2025-01-20", end="2025-05-31",
            address="3 chemin du Moulin-Brûlé", notes="Addiction du beau-père.",
            consent_scope="Suivi demandé par l'assistante sociale de secteur",
            guardians=[{"name": "Yolande Vasseur-Pichonnat", "phone": "04 74 00 11 22"}],
            children=[("Anatole", "Vasseur-Pichonnat", "2013-11-30", "M", "Collège Saint-Exupéry-Nord", None)],
            reason="Fin de l'accompagnement : objectifs atteints")
    data["orientations"][-1]["status"] = "ended"
    add_sessions(data, "NOPARC", "T1", _days("2025-01-23", "2025-05-29", 14), "Remarque privée V-{i:02d}")
    data["sessions"][-1]["approved_exception"], data["sessions"][-1]["approved_by"] = True, "coord"

    add_family(data, "OPEN", "Famille Ouvrard", decided_on="2025-01-15", address="8 rue Ouverte", notes="Suivi en cours.",
            children=[("Oscar", "Ouvrard", "2016-04-04", "M", "École du Centre", None)])
    add_parcours(data, "P-OPEN", "OPEN-C0", "open", "2024-12-01", objectives="Lecture et confiance.")
    add_sessions(data, "OPEN", "A1", _days("2025-01-16", "2025-06-26", 21), "Note Ouvrard {i}")

    add_family(data, "RECENT", "Famille Récente", decided_on="2025-01-20", end="2025-12-31",
            children=[("Rita", "Récente", "2014-03-03", "F", None, None)])
    add_parcours(data, "P-RECENT", "RECENT-C0", "closed", "2024-12-01", "2026-09-30", exit_reason="Fin du suivi.")
    add_sessions(data, "RECENT", "A1", _days("2025-02-04", "2025-06-03", 28))

    add_family(data, "ACTIVE", "Famille Active", decided_on="2025-01-20",
            children=[("Alain", "Active", "2012-12-12", "M", None, None)])
    add_parcours(data, "P-ACTIVE", "ACTIVE-C0", "closed", "2024-10-01", "2025-03-31")
    add_sessions(data, "ACTIVE", "T1", _days("2025-02-06", "2025-06-05", 28))

    add_family(data, "EPS", "Famille Étudiée", children=[("Eve", "Étudiée", "2015-05-05", "F", None, None)])
    add_parcours(data, "P-EPS", "EPS-C0", "closed", "2024-10-01", "2025-06-30")

    add_family(data, "NODATE", "Famille Sans Date")
    add_family(data, "UNDATED", "Famille Sans Fin", children=[("Ugo", "Sans Fin", "2016-06-06", "M", None, None)])
    add_parcours(data, "P-UNDATED", "UNDATED-C0", "closed", "2020-09-01")

    data["eps_meetings"] = [
        {"key": "EPS-2024-12", "date": "2024-12-17", "notes": "Séance ordinaire.", "situations": [
            {"family": "OLD", "recommendation": "Proposer Atout Plus : conflits répétés au domicile."},
            {"family": "NOPARC", "recommendation": "Repérée par le collège ; proposer Atout Plus."},
            {"family": "OPEN", "recommendation": "Atout Plus."}]},
        {"key": "EPS-2026-06", "date": "2026-06-02", "situations": [{"family": "EPS", "recommendation": "Revoir."}]},
    ]
    meeting(data, "M-launch", "launch", "2025-01-15", ["A1", "T1"])
    meeting(data, "M-end", "period_end", "2025-02-26", ["A1", "T1"])
    return data


# The billing and audit services as these tests call them, in one place (their signatures are changing).
def issue(uow, month: str, render_pdf=None):
    return issue_statement(uow(), SYSTEM, "AP", month, render_pdf=render_pdf)


def issued(uow):
    return list_issued(uow(), SYSTEM, "AP")


def recomputed(uow, month: str):
    return recomputed_lines(uow(), SYSTEM, "AP", month)


def draft(uow, month: str):
    return get_statement(uow(), SYSTEM, "AP", month)


def audit_entries(uow, action: str, record_key: str | None = None) -> list[SimpleNamespace]:
    """Entries of the audit log, newest first, read straight from the table."""
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.at.desc())
    if record_key is not None:
        query = query.where(AuditEntry.record_key == record_key)
    with uow() as u:
        return [SimpleNamespace(record_type=e.record_type, record_key=e.record_key, actor_key=e.actor_key,
                                changed_fields=tuple(json.loads(e.changed_fields))) for e in u.session.scalars(query)]


def stub_pdf(statement) -> bytes:
    return b"%PDF-1.4 test"


def build_programme(db: str) -> None:
    """The programme imported and January to June 2025 issued (February regularises a late January session), in
    the migrated store at `db`."""
    engine = make_engine(db)
    uow = unit_of_work_factory(engine)
    import_dataset(uow(), programme_data())
    issue(uow, "2025-01")
    late = dataset()
    session(late, "OLD-late", "OLD", "T1", "2025-01-29")
    import_dataset(uow(), {"format": late["format"], "sessions": late["sessions"]})
    for month in MONTHS[1:]:
        issue(uow, month)
    engine.dispose()  # the last connection checkpoints the log into the file


@pytest.fixture(scope="module")
def template(request, backend, tmp_path_factory):
    """build_programme once: a SQLite file per module, a PostgreSQL template database per session (its name)."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres_databases").template("retention", build_programme)
    path = tmp_path_factory.mktemp("retention") / "programme.sqlite"
    shutil.copy(request.getfixturevalue("template_db"), path)
    build_programme(str(path))
    return path


@pytest.fixture
def store(request, backend, template, tmp_path):
    """(where the store is: a SQLite file's Path or a PostgreSQL URL, the unit-of-work factory), a copy of the
    template."""
    if backend == "sqlite":
        path = tmp_path / "parcours.sqlite"
        shutil.copy(template, path)
    else:
        databases = request.getfixturevalue("postgres_databases")
        name = databases.copy(template)
        path = databases.url(name)
    engine = make_engine(str(path))
    yield path, unit_of_work_factory(engine)
    engine.dispose()
    if backend == "postgresql":
        databases.drop(name)


def dump(path: Path | str) -> str:
    """The whole base as SQL text (sqlite3's iterdump), with the SQL quoting undone so that « l'assistante » is
    found as typed; on PostgreSQL every value of every row of every table, as text (dates as ISO dates)."""
    if is_url(path):
        return "\n".join(" | ".join(map(str, row)) for found in stores.table_rows(path).values() for row in found)
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump()).replace("''", "'")
    finally:
        connection.close()


def raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def anonymise(uow, **kw):
    return anonymise_expired_families(uow(), SYSTEM, today=TODAY, **kw)


def without_names(statement):
    return replace(statement, families=tuple(replace(f, name="") for f in statement.families))


def billing_snapshot(uow):
    return (tuple(without_names(s) for s in issued(uow)), {m: recomputed(uow, m) for m in (*MONTHS, "2025-07")},
            without_names(draft(uow, "2025-07")))


# ---------------------------------------------------------------------------------------------- which families

def test_only_families_past_their_retention_period_are_anonymised(store):
    _, uow = store
    report = anonymise(uow)
    assert report.cutoff == date(2026, 3, 15)
    assert report.anonymised == EXPIRED
    assert (report.kept, report.already_anonymised) == (4, 0)
    assert report.to_review == ("NODATE", "UNDATED")
    names = {f["key"]: f["name"] for f in export_dataset(uow(), SYSTEM)["families"]}
    assert names["OLD"] == "Famille anonymisée OLD" and names["NOPARC"] == "Famille anonymisée NOPARC"


def test_families_still_followed_or_recently_active_are_untouched(store):
    _, uow = store
    before = export_dataset(uow(), SYSTEM)
    anonymise(uow)
    after = export_dataset(uow(), SYSTEM)

    def kept(data):
        child_family = {c["key"]: f["key"] for f in data["families"] for c in f["children"]}
        return ([f for f in data["families"] if f["key"] in KEPT],
                [p for p in data["parcours"] if child_family[p["child"]] in KEPT],
                [o for o in data["orientations"] if o["family"] in KEPT],
                [s for s in data["sessions"] if s["family"] in KEPT],
                [x for m in data["eps_meetings"] for x in m["situations"] if x["family"] in KEPT])

    assert kept(after) == kept(before)
    assert [m["notes"] for m in after["eps_meetings"]] == [m["notes"] for m in before["eps_meetings"]]


def test_cutoff_is_exclusive_a_family_last_active_exactly_years_ago_is_kept(store):
    _, uow = store
    # NOPARC's last activity is the end of its orientation, 31 May 2025; OLD's is 30 June 2025.
    assert anonymise_expired_families(uow(), SYSTEM, today=date(2027, 5, 31)).anonymised == ()
    assert anonymise_expired_families(uow(), SYSTEM, today=date(2027, 6, 1), dry_run=True).anonymised == ("NOPARC",)
    assert anonymise_expired_families(uow(), SYSTEM, years=1, today=date(2026, 7, 1)).anonymised == EXPIRED


def test_cutoff_of_29_february_falls_on_28_february():
    assert retention_cutoff(date(2028, 2, 29), 2) == date(2026, 2, 28)
    assert retention_cutoff(date(2028, 3, 15), 3) == date(2025, 3, 15)


@pytest.mark.parametrize("years", [0, -1, 101, True, 2.5, "2"])
def test_years_must_be_a_whole_number_from_1_to_100(store, years):
    _, uow = store
    with pytest.raises(ValidationError, match="nombre entier d'années, de 1 à 100") as refused:
        anonymise(uow, years=years)
    assert refused.value.field == "years"


# ---------------------------------------------------------------------------------------------- what is erased

def test_no_name_address_note_or_birth_date_of_an_anonymised_family_is_left_anywhere_in_the_file(store):
    path, uow = store
    secrets = [s for values in SECRETS.values() for s in values]
    before = dump(path)
    assert all(s in before for s in secrets), [s for s in secrets if s not in before]  # the test sees them first
    report = anonymise(uow)
    assert report.storage_compacted is True  # SQLite: VACUUM and the WAL truncated; PostgreSQL: VACUUM (FULL)

    after = dump(path)  # every table, including the audit log and the issued statements' JSON
    assert [s for s in secrets if s in after] == []
    if not is_url(path):  # SQLite: nor in the file's free pages and its write-ahead log
        content = raw_bytes(path)
        assert [s for s in secrets if s.encode("utf-8") in content] == []
    pdfs = [row[0] for row in stores.rows(str(path), "SELECT pdf FROM statement")]
    assert len(pdfs) == len(MONTHS)
    for pdf in pdfs:  # the stored statements were printed without family names
        printed = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert "OLD" in printed and [s for s in secrets if s in printed] == []


# written only when set (services.dataset): once erased they are absent from the export
FREE_PARCOURS_TEXTS = ("actions", "referral_source_other", "referral_reason_other", "support_profile_other")


def test_amounts_dates_durations_statuses_and_counts_are_kept(store):
    _, uow = store
    before = export_dataset(uow(), SYSTEM)
    anonymise(uow)
    after = export_dataset(uow(), SYSTEM)

    def mine(records, field="family"):
        return [r for r in records if r[field] in EXPIRED]

    assert mine(after["sessions"]) == [{**s, "notes": None} for s in mine(before["sessions"])]
    assert mine(after["orientations"]) == [{**o, "reason": None} for o in mine(before["orientations"])]
    assert [p for p in after["parcours"] if p["key"].startswith("P-OLD")] == [
        {**{k: v for k, v in p.items() if k not in FREE_PARCOURS_TEXTS}, "objectives": None, "exit_reason": None}
        for p in before["parcours"] if p["key"].startswith("P-OLD")]
    old_parcours = [p for p in after["parcours"] if p["key"].startswith("P-OLD")]
    assert old_parcours and all(  # the codes the bilans count stay
        (p["referral_source"], p["referral_reasons"], p["support_profile"], p["exit_reason_code"])
        == ("autre", ["scolarite", "autre"], "autre", "demenagement") for p in old_parcours)
    families = {f["key"]: (f, g) for f, g in zip(before["families"], after["families"]) if f["key"] in EXPIRED}
    for key, (was, now) in families.items():
        assert now == {**was, "name": f"Famille anonymisée {key}", "address": None, "consent_scope": None,
                       "notes": None, "guardians": [],
                       "children": [{**c, "first_name": "Anonyme", "last_name": "Anonyme", "school": None,
                                     "class": None, "birth_date": c["birth_date"][:4] + "-01-01"}
                                    for c in was["children"]]}
    situations = lambda data: [(m["key"], x["family"], x["recommendation"])  # noqa: E731
                               for m in data["eps_meetings"] for x in m["situations"]]
    assert situations(after) == [(m, f, None if f in EXPIRED else r) for m, f, r in situations(before)]
    assert {k: len(v) for k, v in after.items() if isinstance(v, list)} == \
        {k: len(v) for k, v in before.items() if isinstance(v, list)}


def test_guardian_rows_are_deleted(store):
    _, uow = store
    with uow() as u:
        count = lambda: u.session.execute(text("SELECT count(*) FROM guardian")).scalar()  # noqa: E731
        assert count() == 3
    anonymise(uow)
    with uow() as u:
        assert count() == 0


# ---------------------------------------------------------------------------------------------- billing

def test_issued_statements_and_recomputed_months_are_identical_after_anonymisation(store):
    path, uow = store
    issued_before, recomputed_before, draft_before = billing_snapshot(uow)
    assert any(l.month == "2025-01" for l in issued_before[1].lines)  # February regularises January
    assert any(f.family == "OLD" for s in issued_before for f in s.flags)
    assert {f.code for s in issued_before for f in s.families} >= set(EXPIRED)
    with uow() as u:
        stored_before = u.session.execute(select(StoredStatement.number, StoredStatement.total,
                                                 StoredStatement.payload, StoredStatement.pdf_sha256)).all()

    anonymise(uow)

    issued_after, recomputed_after, draft_after = billing_snapshot(uow)
    assert issued_after == issued_before  # totals, lines, flags, family codes, amounts per family…
    assert recomputed_after == recomputed_before
    assert draft_after == draft_before
    with uow() as u:
        assert u.session.execute(select(StoredStatement.number, StoredStatement.total, StoredStatement.payload,
                                        StoredStatement.pdf_sha256)).all() == stored_before
    names = {f.code: f.name for f in issued(uow)[0].families}
    assert names["OLD"] == "Famille anonymisée OLD" and names["OPEN"] == "Famille Ouvrard"


FAMILIES = ("F1", "F2", "F3")
notes = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), max_size=30).filter(
    lambda t: text_rules.first_forbidden(t, text_rules.TEXT) is None)  # what the import accepts (services.text_rules)
DAYS = [date(2025, 1, 2) + timedelta(days=i) for i in range(88)]
generated_programme = st.fixed_dictionaries({
    "families": st.lists(st.fixed_dictionaries({
        "decided": st.sampled_from(DAYS[:40] + [None]), "ended": st.booleans(),
        "parcours": st.sampled_from(("closed", "closed", "open", None)), "note": notes}),
        min_size=3, max_size=3),
    "sessions": st.lists(st.fixed_dictionaries({
        "family": st.sampled_from(FAMILIES), "intervenant": st.sampled_from(("A1", "T1")), "day": st.sampled_from(DAYS),
        "status": st.sampled_from(("held", "held", "cancelled", "family_absent")), "referent": st.booleans(),
        "approved": st.booleans(), "minutes": st.sampled_from((30, 60, 90)), "note": notes}),
        max_size=20),
})


@settings(max_examples=25, deadline=None)
@given(generated=generated_programme)
def test_anonymisation_never_changes_billing(template_db, tmp_path_factory, generated):  # noqa: F811
    path = tmp_path_factory.mktemp("generated") / "p.sqlite"
    shutil.copy(template_db, path)
    engine = make_engine(str(path))
    uow = unit_of_work_factory(engine)
    try:
        data = dataset()
        for key, f in zip(FAMILIES, generated["families"]):
            family(data, key, decided_on=f["decided"] and f["decided"].isoformat(),
                   end="2025-03-31" if f["ended"] and f["decided"] else None)
            data["families"][-1].update(notes=f["note"].strip() or None, address=f"{key} rue X")
            if f["parcours"]:
                add_parcours(data, f"P-{key}", f"{key}-C0", f["parcours"], "2024-12-01",
                          "2025-03-31" if f["parcours"] == "closed" else None, objectives=f["note"].strip() or None)
        for i, s in enumerate(generated["sessions"]):
            session(data, f"S{i:02d}", s["family"], s["intervenant"], s["day"].isoformat(), status=s["status"],
                    referent=s["referent"], approved=s["approved"], minutes=s["minutes"])
            data["sessions"][-1]["notes"] = s["note"].strip() or None
        import_dataset(uow(), data)
        for month in ("2025-01", "2025-02"):
            issue(uow, month, render_pdf=stub_pdf)
        before = billing_snapshot(uow)

        report = anonymise_expired_families(uow(), SYSTEM, today=TODAY)

        running = {k for k, f in zip(FAMILIES, generated["families"])
                   if f["parcours"] == "open" or (f["decided"] and not f["ended"])}
        dated = {k for k, f in zip(FAMILIES, generated["families"]) if f["parcours"] == "closed" or f["decided"]}
        dated |= {s["family"] for s in generated["sessions"]}
        assert report.anonymised == tuple(k for k in FAMILIES if k not in running and k in dated)
        assert report.to_review == tuple(k for k in FAMILIES if k not in running and k not in dated)
        assert billing_snapshot(uow) == before
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------- runs and audit

def test_dry_run_writes_nothing_and_reports_what_would_be_done(store):
    path, uow = store
    before = dump(path)
    dry = anonymise(uow, dry_run=True)
    assert dump(path) == before
    assert dry.dry_run and dry.storage_compacted is None
    real = anonymise(uow)
    assert (dry.anonymised, dry.kept, dry.to_review) == (real.anonymised, real.kept, real.to_review)


def test_each_anonymisation_is_audited_with_field_names_only(store):
    _, uow = store
    anonymise(uow)
    entries = {e.record_key: e for e in audit_entries(uow, "anonymise")}
    assert set(entries) == set(EXPIRED)
    assert all(e.record_type == "family" and e.actor_key == "system" for e in entries.values())
    assert entries["OLD"].changed_fields == (
        "address", "child_birth_date", "child_first_name", "child_last_name", "child_school", "child_school_class",
        "consent_scope", "eps_situation_recommendation", "guardians", "home_session_notes", "name", "notes",
        "orientation_reason", "parcours_actions", "parcours_exit_reason", "parcours_objectives",
        "parcours_referral_reason_other", "parcours_referral_source_other", "parcours_support_profile_other")
    assert "child_school_class" not in entries["NOPARC"].changed_fields  # it had no class: nothing erased


def test_already_anonymised_families_are_skipped_and_text_typed_later_is_erased(store):
    _, uow = store
    anonymise(uow)
    with uow() as u:
        audited = lambda: u.session.scalar(select(func.count()).select_from(AuditEntry))  # noqa: E731
        count = audited()
    again = anonymise(uow)
    assert (again.anonymised, again.already_anonymised) == ((), 2)
    with uow() as u:
        assert audited() == count
        u.session.execute(text("UPDATE home_session SET notes = 'Saisie tardive Quenelleau' WHERE key = 'OLD-S03'"))
        u.commit()
    third = anonymise(uow)
    assert (third.anonymised, third.already_anonymised) == (("OLD",), 1)
    assert audit_entries(uow, "anonymise", "OLD")[0].changed_fields == ("home_session_notes",)


# ---------------------------------------------------------------------------------------------- command line

@pytest.fixture
def cli(store, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path, uow = store

    def run(*args):
        code = main.main(["--db", str(path), "retention", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run, path, uow


def test_cli_prints_counts_never_names(cli):
    run, path, uow = cli
    expected = anonymise_expired_families(uow(), SYSTEM, years=1, dry_run=True)  # the CLI's today is the real one
    before = dump(path)
    code, out, err = run("--years", "1", "--dry-run")
    assert (code, err) == (0, "")
    assert f"familles seraient anonymisées : {expected.anonymised_count}" in out
    assert dump(path) == before
    code, out, err = run("--years", "1")
    assert code == 0 and f"familles anonymisées : {expected.anonymised_count}" in out
    assert [s for values in SECRETS.values() for s in values if s in out + err] == []
    assert not any(key in out for key in (*EXPIRED, *KEPT))  # not even the codes


@pytest.mark.parametrize("years", ["abc", "0", "-3", "1.5", "101", "٣"])
def test_cli_refuses_a_bad_number_of_years_in_french_with_exit_code_2(cli, years):
    run, path, _ = cli
    before = dump(path)
    code, out, err = run("--years", years)
    assert code == 2 and "--years attend un nombre entier d'années de 1 à 100" in err
    assert "Traceback" not in err and out == ""
    assert dump(path) == before


@pytest.mark.sqlite_only("compacting is the SQLite file's (VACUUM and the write-ahead log's checkpoint)")
def test_cli_warns_when_the_file_could_not_be_compacted(cli, monkeypatch):
    run, _, _ = cli
    from services import retention
    monkeypatch.setattr(retention, "_compact_sqlite", lambda engine: False)  # another program held the base busy
    code, out, err = run("--years", "1")
    assert code == 0 and "familles anonymisées : 2" in out
    assert "la base n'a pas pu être compactée" in err and "relancez la commande quand Parcours est fermé" in err
