"""RGPD right of access: everything held on one family (services.access_export, `access-export` CLI).

Two families under the same convention, both billed in the issued January statement: ALPHA (whose name holds
markup, « <b>& »), and BETA, of which nothing may appear in ALPHA's export.
"""
from __future__ import annotations

import io
import json
import os
import stat
from datetime import date

import pytest
from pypdf import PdfReader

import main
from services.access_export import export_family, render_family_pdf
from services.dataset import import_dataset
from services.errors import NotFound
from services.permissions import SYSTEM
from services.retention import anonymise_expired_families
from tests.billing.builders import dataset, session
from tests.test_retention import add_family, add_parcours, add_sessions, audit_entries, issue, issued, stub_pdf

ALPHA_NAME = "Famille <b>& Cie"
BETA_TEXT = ["Bêta-Zorglub", "Kassandra", "9 allée Zorglub", "Note Zorglub", "Séance Zorglub", "Objectif Zorglub",
             "Recommandation Zorglub", "Motif Zorglub", "01 99 88 77 66", "Collège Zorglub"]


@pytest.fixture
def two_families(uow):
    data = dataset()
    add_family(data, "ALPHA", ALPHA_NAME, decided_on="2025-01-10", address="1 rue <Alpha> & fils",
               notes="Ligne 1\nLigne 2 <i>pas en italique</i>", consent_date="2024-12-01", consent_scope="Atout Plus",
               guardians=[{"name": "Anne <Alpha>", "relationship": "mère", "phone": "06 00 00 00 01"}],
               children=[("Léa <i>", "Alpha", "2016-05-04", "F", "École A", "CE2"),
                         ("Noé", "Alpha", "2019-01-02", "M", None, None)],
               reason="Motif Alpha")
    add_parcours(data, "P-ALPHA-0", "ALPHA-C0", "open", "2024-12-01", objectives="Objectif Alpha")
    add_parcours(data, "P-ALPHA-1", "ALPHA-C1", "closed", "2024-12-01", "2025-01-31", exit_reason="Sortie Alpha")
    add_sessions(data, "ALPHA", "A1", ["2025-01-14", "2025-01-21", "2025-01-28", "2025-02-04"], "Séance Alpha {i}")
    session(data, "ALPHA-early", "ALPHA", "A1", "2025-01-07")  # before the orientation: flagged in the statement

    add_family(data, "BETA", "Famille Bêta-Zorglub", decided_on="2025-01-10", address="9 allée Zorglub",
               notes="Note Zorglub", guardians=[{"name": "Kassandra Bêta-Zorglub", "phone": "01 99 88 77 66"}],
               children=[("Kassandra", "Bêta-Zorglub", "2014-02-02", "F", "Collège Zorglub", None)],
               reason="Motif Zorglub")
    add_parcours(data, "P-BETA", "BETA-C0", "open", "2024-12-01", objectives="Objectif Zorglub")
    add_sessions(data, "BETA", "T1", ["2025-01-15", "2025-01-22"], "Séance Zorglub {i}")
    session(data, "BETA-early", "BETA", "T1", "2025-01-08")
    data["eps_meetings"] = [{"key": "EPS-1", "date": "2024-12-17", "notes": "Ordre du jour commun", "situations": [
        {"family": "ALPHA", "recommendation": "Recommandation Alpha"},
        {"family": "BETA", "recommendation": "Recommandation Zorglub"}]}]
    import_dataset(uow(), data)
    issue(uow, "2025-01", render_pdf=stub_pdf)
    return uow


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_export_holds_every_child_parcours_session_and_situation_of_the_family(two_families):
    data = export_family(two_families(), SYSTEM, "ALPHA", today=date(2026, 1, 5))
    assert data["format"] == "parcours-access-export/1" and data["generated_on"] == "2026-01-05"
    assert data["family"]["name"] == ALPHA_NAME and data["family"]["address"] == "1 rue <Alpha> & fils"
    assert data["family"]["referent"] == "Claire Martin" and data["family"]["consent_scope"] == "Atout Plus"
    assert data["guardians"] == [{"name": "Anne <Alpha>", "relationship": "mère", "phone": "06 00 00 00 01"}]
    assert [(c["key"], c["first_name"], c["birth_date"], c["school"]) for c in data["children"]] == [
        ("ALPHA-C0", "Léa <i>", "2016-05-04", "École A"), ("ALPHA-C1", "Noé", "2019-01-02", None)]
    assert [(p["key"], p["objectives"], p["exit_reason"]) for c in data["children"] for p in c["parcours"]] == [
        ("P-ALPHA-0", "Objectif Alpha", None), ("P-ALPHA-1", None, "Sortie Alpha")]
    assert [(s["key"], s["date"], s["duration_minutes"], s["notes"]) for s in data["sessions"]] == [
        ("ALPHA-early", "2025-01-07", 60, None), ("ALPHA-S00", "2025-01-14", 60, "Séance Alpha 0"),
        ("ALPHA-S01", "2025-01-21", 60, "Séance Alpha 1"), ("ALPHA-S02", "2025-01-28", 60, "Séance Alpha 2"),
        ("ALPHA-S03", "2025-02-04", 60, "Séance Alpha 3")]
    assert data["sessions"][1]["intervenant"] == "Nadia Benali"
    assert data["eps_situations"] == [{"meeting": "EPS-1", "date": "2024-12-17", "recommendation": "Recommandation Alpha"}]
    assert [(o["key"], o["status"], o["reason"], o["action"]) for o in data["orientations"]] == [
        ("O-ALPHA", "validated", "Motif Alpha", "Atout Plus")]


def test_export_holds_what_issued_statements_say_about_the_family_by_code(two_families):
    [statement] = export_family(two_families(), SYSTEM, "ALPHA")["statements"]
    [statement_read] = issued(two_families)
    detail = next(f for f in statement_read.families if f.code == "ALPHA")
    assert (statement["number"], statement["month"]) == ("AP-001", "2025-01")
    assert statement["family"] == {"sessions_billed": 3, "preparations_billed": detail.preparations_billed,
                                   "minutes_delivered": detail.minutes_delivered, "amount": f"{detail.amount:.2f}"}
    assert [(f["kind"], f["session"]) for f in statement["flags"]] == [("no_orientation", "ALPHA-early")]


def test_statements_are_found_whatever_characters_the_code_holds(uow):
    data = dataset()
    code = 'Dupont "Ré" \\ 100%_'  # characters that JSON escapes and that LIKE would take as wildcards
    add_family(data, code, "Famille Dupont", decided_on="2025-01-10")
    session(data, "Q-1", code, "A1", "2025-01-14")
    import_dataset(uow(), data)
    issue(uow, "2025-01", render_pdf=stub_pdf)
    [statement] = export_family(uow(), SYSTEM, code)["statements"]
    assert statement["family"]["sessions_billed"] == 1


def test_export_holds_nothing_of_another_family(two_families):
    text = json.dumps(export_family(two_families(), SYSTEM, "ALPHA"), ensure_ascii=False)
    assert [t for t in BETA_TEXT if t in text] == []
    assert "BETA" not in text and "Ordre du jour commun" not in text  # nor the meeting's shared notes


def test_export_is_audited_and_lists_the_operations_on_the_family(two_families):
    export_family(two_families(), SYSTEM, "ALPHA")
    [entry] = audit_entries(two_families, "access_export")
    assert (entry.record_type, entry.record_key, entry.actor_key) == ("family", "ALPHA", "system")
    again = export_family(two_families(), SYSTEM, "ALPHA")
    assert [(a["action"], a["record_key"]) for a in again["audit"]] == [("access_export", "ALPHA")]


def test_unknown_family_is_refused_in_french(two_families):
    with pytest.raises(NotFound, match="Aucune famille de code « GAMMA »"):
        export_family(two_families(), SYSTEM, "GAMMA")


def test_export_of_an_anonymised_family_holds_no_identity(two_families):
    with two_families() as u:  # close ALPHA's open parcours and end its orientation long ago
        from sqlalchemy import text
        u.session.execute(text("UPDATE parcours SET status = 'closed', end_date = '2025-02-28' WHERE key = 'P-ALPHA-0'"))
        u.session.execute(text("UPDATE orientation SET status = 'ended', end_date = '2025-02-28' WHERE key = 'O-ALPHA'"))
        u.commit()
    assert anonymise_expired_families(two_families(), SYSTEM, today=date(2028, 1, 1)).anonymised == ("ALPHA",)
    data = export_family(two_families(), SYSTEM, "ALPHA")
    assert data["family"]["name"] == "Famille anonymisée ALPHA" and data["guardians"] == []
    assert len(data["sessions"]) == 5 and all(s["notes"] is None for s in data["sessions"])
    assert {c["first_name"] for c in data["children"]} == {"Anonyme"}


# ---------------------------------------------------------------------------------------------- PDF

def test_pdf_is_french_a4_and_shows_markup_in_names_as_typed(two_families):
    pdf = render_family_pdf(export_family(two_families(), SYSTEM, "ALPHA", today=date(2026, 1, 5)))
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = pdf_text(pdf)
    assert "Droit d'accès aux données personnelles" in text and "05/01/2026" in text
    assert ALPHA_NAME in text  # « <b>& » escaped, so printed as typed and not taken as markup
    assert "Léa <i>" in text and "1 rue <Alpha> & fils" in text and "Anne <Alpha>" in text
    assert "<i>pas en italique</i>" in text and "Séances à domicile (5)" in text
    for day in ("07/01/2025", "14/01/2025", "21/01/2025", "28/01/2025", "04/02/2025"):
        assert day in text
    assert "Séance Alpha 3" in text and "Recommandation Alpha" in text and "AP-001" in text
    assert "Signalé le 07/01/2025 : Pas d'orientation validée en vigueur (non facturé)" in text
    assert [t for t in BETA_TEXT if t in text] == []


def test_export_holds_the_coded_record_fields_with_their_precisions(uow):
    data = dataset()
    add_family(data, "GAMMA", "Famille Gamma", decided_on="2025-01-10",
               children=[("Inès", "Gamma", "2013-03-03", "F", "Collège Gamma", "5e")])
    data["families"][-1].update({"qpv_name": "Croix-Blanche", "priority_neighbourhood": True})
    data["families"][-1]["children"][0].update({"school_level": "college", "priority_education": "rep_plus"})
    add_parcours(data, "P-GAMMA", "GAMMA-C0", "closed", "2024-12-01", "2025-01-31", exit_reason="Parti à Lyon")
    data["parcours"][-1].update({"actions": "Aide aux devoirs", "referral_source": "autre",
                                 "referral_source_other": "Centre social", "referral_reasons": ["scolarite", "sante"],
                                 "support_profile": "renforce", "exit_reason_code": "demenagement"})
    import_dataset(uow(), data)
    exported = export_family(uow(), SYSTEM, "GAMMA", today=date(2026, 1, 5))
    assert exported["family"]["qpv_name"] == "Croix-Blanche"
    child = exported["children"][0]
    assert (child["school_level"], child["priority_education"]) == ("college", "rep_plus")
    parcours = child["parcours"][0]
    assert (parcours["referral_source"], parcours["referral_source_other"], parcours["referral_reasons"],
            parcours["support_profile"], parcours["exit_reason_code"], parcours["actions"]) == (
        "autre", "Centre social", ["sante", "scolarite"], "renforce", "demenagement", "Aide aux devoirs")
    text = " ".join(pdf_text(render_family_pdf(exported)).split())
    for shown in ("oui — Croix-Blanche", "Collège", "REP+", "Autre : Centre social", "Actions prévues : Aide aux devoirs",
                  "Motif de sortie : Déménagement — Parti à Lyon"):
        assert shown in text, shown


def test_pdf_of_very_long_texts_runs_over_several_pages():
    note = "Très longue note. " * 800  # 14 400 characters: more than a page
    data = {"format": "parcours-access-export/1", "generated_on": "2026-01-05",
            "family": {"code": "LONG", "name": "N" * 200, "address": None, "commune": "Bourg", "notes": note,
                       "priority_neighbourhood": False, "referent": None, "consent_date": None,
                       "consent_scope": None},
            "guardians": [{"name": "G" * 200, "relationship": None, "phone": None}],
            "children": [], "eps_situations": [], "orientations": [], "statements": [], "audit": [],
            "sessions": [{"key": f"S{i}", "date": "2025-01-07", "start_time": None, "duration_minutes": 60,
                          "status": "held", "intervenant": "X", "qualification": "AES", "referent_present": False,
                          "children_present": None, "approved_exception": False, "notes": note} for i in range(3)]}
    reader = PdfReader(io.BytesIO(render_family_pdf(data)))
    assert len(reader.pages) > 3 and "Page 2" in reader.pages[1].extract_text()


# ---------------------------------------------------------------------------------------------- command line

@pytest.fixture
def cli(two_families, db_path, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def run(*args):
        code = main.main(["--db", db_path, "access-export", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cli_writes_json_and_pdf_readable_by_their_owner_only(cli, tmp_path):
    out_json, out_pdf = tmp_path / "alpha.json", tmp_path / "alpha.pdf"
    code, out, err = cli("ALPHA", "--json", str(out_json), "--pdf", str(out_pdf))
    assert (code, err) == (0, "") and "ALPHA" in out
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["family"]["name"] == ALPHA_NAME and len(data["sessions"]) == 5
    assert ALPHA_NAME in pdf_text(out_pdf.read_bytes())
    if os.name == "posix":
        assert stat.S_IMODE(out_json.stat().st_mode) == stat.S_IMODE(out_pdf.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("args, message", [
    (["GAMMA", "--json", "x.json"], "Aucune famille de code « GAMMA »"),
    (["ALPHA"], "Indiquez le fichier à écrire avec --json"),
    ([], "Indiquez le code de la famille"),
    (["ALPHA", "--json", "/nonexistent-folder/x.json"], "Le dossier « /nonexistent-folder » est introuvable"),
])
def test_cli_refuses_bad_input_in_french_with_exit_code_2(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2 and message in err and "Traceback" not in err and out == ""
