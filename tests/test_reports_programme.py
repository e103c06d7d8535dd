"""A small programme for the reports' tests (no test here: the builder they share), every figure of both reports
computed by hand in tests/test_reports_tables.py.

Five families, six children, 2025. The 0012 fields (school level, REP, QPV name, referral source and reasons,
profile, exit reason code) are set on the stored rows after the import, so this programme does not depend on the
dataset format's version of them.

  FA « Les Vennes » (QPV): A1 F 2015-03-10, parcours 2024-09-01 → (ref) ; A2 M 2020-06-01, 2025-03-01 → (coord)
  FB (no QPV): B1 M 2012-01-15, 2025-02-01 → 2025-10-31 closed (ref) ; B2 sex unknown 2013-07-01, 2025-01-10 →
  FC (QPV, no name): C1 F 2009-02-01, 2023-01-10 → 2025-01-31 closed, then 2025-06-01 → (ref)
  FD: D1 M 2017-09-09, parcours proposed ; FE: E1 F 2014-05-05, 2023-09-01 → 2024-06-30 closed
Orientations: FA, FB to Atout Plus (AP, Adom 01) validated 2025-01-20 (EPS 2025-01-14), FB's ended 2025-10-31;
FC to Accompagnement scolaire (AS, PEP) validated 2025-06-10 (EPS 2025-04-08); FD proposed and FE rejected at the
EPS of 2025-04-08 (FE decided 2025-04-15). EPS meetings: 2024-12-10 (FA), 2025-01-14 (FA, FB), 2025-04-08 (FC, FD, FE).
Sessions: see SESSIONS below; the AP launch meeting of 2025-01-28 with A1 and T1; AP's January and February issued.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models import Child, Family, Parcours
from models.families import ParcoursReason
from services.billing.statements import issue_statement
from services.dataset import import_dataset
from services.permissions import SYSTEM
from tests.billing.builders import dataset

TODAY = date(2025, 12, 31)
TARIFFS_AS = {q: {"home_intervention": "20.00", "weekly_preparation": "10.00", "launch_meeting": "20.00",
                  "period_end_meeting": "20.00"} for q in ("AES", "TISF")}
# (key, family, intervenant, day, minutes, status, référent present)
SESSIONS = [
    ("S1", "FA", "A1", "2025-02-04", 60, "held", True),
    ("S2", "FA", "T1", "2025-03-11", 90, "held", False),
    ("S3", "FB", "A1", "2025-03-12", 60, "held", True),
    ("S4", "FB", "A1", "2025-03-13", 60, "held", False),  # a second one in the week: delivered, not billed
    ("S5", "FA", "A1", "2025-06-03", 60, "cancelled", False),
    ("S6", "FC", "P1", "2025-06-17", 45, "held", True),
    ("S7", "FB", "T1", "2025-11-04", 60, "held", False),  # after FB's orientation ended: under no convention
    ("S8", "FA", "T1", "2025-12-02", 120, "held", False),
]
CHILD_FIELDS = {  # school level, priority education
    "A1": ("elementaire", "rep"), "A2": ("maternelle", "rep_plus"), "B1": ("college", "hors_rep"),
    "B2": (None, None), "C1": ("lycee", None),
}
PARCOURS_FIELDS = {  # referral source, reasons, support profile, exit reason code
    "P-A1": ("en_enseignant", ["scolarite", "comportement"], "individualise", None),
    "P-A2": ("pmi", ["langage"], "veille", None),
    "P-B1": ("famille", [], "individualise", "objectifs_atteints"),
    "P-C1a": ("ase_departement", ["sante"], "renforce", "demenagement"),
    "P-C1b": ("ase_departement", ["sante"], "renforce", None),
}


def _family(key: str, children: list[tuple], **extra) -> dict:
    return {"key": key, "name": f"Famille {key}", "commune": "Bourg-en-Bresse", "referent": "ref", **extra,
            "children": [{"key": k, "first_name": f"Enfant {k}", "last_name": key, "birth_date": born,
                          **({"sex": sex} if sex else {})} for k, sex, born in children]}


def _parcours(key, child, status, start, end=None, referent="ref", exit_reason=None) -> dict:
    return {"key": key, "child": child, "referent": referent, "status": status, "start": start, "end": end,
            "objectives": None, "exit_reason": exit_reason}


def _orientation(key, family, convention, eps, status, decided=None, end=None) -> dict:
    return {"key": key, "family": family, "convention": convention, "eps_date": eps, "status": status,
            "decided_on": decided, "decided_by": "coord" if decided else None, "end": end}


def reports_dataset() -> dict:
    data = dataset()
    data["partners"].append({"key": "pep", "name": "Les PEP de l'Ain"})
    data["conventions"].append({"key": "AS", "partner": "pep", "action": "Accompagnement scolaire",
                                "start": "2025-01-01", "end": "2025-12-31", "max_families": 5,
                                "budget_cap": "1000.00", "period_end_months": [], "tariffs": TARIFFS_AS})
    data["intervenants"].append({"key": "P1", "partner": "pep", "name": "Inès Carvalho", "qualification": "AES"})
    data["families"] = [
        _family("FA", [("A1", "F", "2015-03-10"), ("A2", "M", "2020-06-01")], priority_neighbourhood=True),
        _family("FB", [("B1", "M", "2012-01-15"), ("B2", None, "2013-07-01")]),
        _family("FC", [("C1", "F", "2009-02-01")], priority_neighbourhood=True),
        _family("FD", [("D1", "M", "2017-09-09")]),
        _family("FE", [("E1", "F", "2014-05-05")]),
    ]
    data["parcours"] = [
        _parcours("P-A1", "A1", "open", "2024-09-01"),
        _parcours("P-A2", "A2", "open", "2025-03-01", referent="coord"),
        _parcours("P-B1", "B1", "closed", "2025-02-01", "2025-10-31", exit_reason="Objectifs atteints"),
        _parcours("P-B2", "B2", "open", "2025-01-10", referent=None),
        _parcours("P-C1a", "C1", "closed", "2023-01-10", "2025-01-31", exit_reason="Déménagement"),
        _parcours("P-C1b", "C1", "open", "2025-06-01"),
        _parcours("P-D1", "D1", "proposed", None),
        _parcours("P-E1", "E1", "closed", "2023-09-01", "2024-06-30", exit_reason="Déménagement"),
    ]
    data["orientations"] = [
        _orientation("O-FA", "FA", "AP", "2025-01-14", "validated", "2025-01-20"),
        _orientation("O-FB", "FB", "AP", "2025-01-14", "ended", "2025-01-20", "2025-10-31"),
        _orientation("O-FC", "FC", "AS", "2025-04-08", "validated", "2025-06-10"),
        _orientation("O-FD", "FD", "AP", "2025-04-08", "proposed"),
        _orientation("O-FE", "FE", "AP", "2025-04-08", "rejected", "2025-04-15"),
    ]
    data["eps_meetings"] = [
        {"key": "EPS-0", "date": "2024-12-10", "situations": [{"family": "FA", "recommendation": "Atout Plus"}]},
        {"key": "EPS-1", "date": "2025-01-14", "situations": [{"family": "FA", "recommendation": "Atout Plus"},
                                                              {"family": "FB", "recommendation": "Atout Plus"}]},
        {"key": "EPS-2", "date": "2025-04-08", "situations": [{"family": f, "recommendation": None}
                                                              for f in ("FC", "FD", "FE")]},
    ]
    data["sessions"] = [
        {"key": key, "family": family, "intervenant": who, "date": day, "start_time": "14:00",
         "duration_minutes": minutes, "status": status, "referent_present": referent, "approved_exception": False,
         "approved_by": None} for key, family, who, day, minutes, status, referent in SESSIONS]
    data["meetings"] = [{"key": "M-launch", "convention": "AP", "kind": "launch", "date": "2025-01-28",
                         "intervenants": ["A1", "T1"]}]
    return data


def _fake_pdf(_statement) -> bytes:
    return b"%PDF-1.4 test"


def load_reports_programme(uow) -> None:
    import_dataset(uow(), reports_dataset())
    work = uow()
    with work:
        session = work.session
        for child in session.scalars(select(Child)):
            if child.key in CHILD_FIELDS:
                child.school_level, child.priority_education = CHILD_FIELDS[child.key]
        session.scalars(select(Family).where(Family.key == "FA")).one().qpv_name = "Les Vennes"
        for p in session.scalars(select(Parcours)):
            if p.key in PARCOURS_FIELDS:
                p.referral_source, reasons, p.support_profile, p.exit_reason_code = PARCOURS_FIELDS[p.key]
                p.reasons = [ParcoursReason(reason=r) for r in reasons]
        work.commit()
    for month in ("2025-01", "2025-02"):
        issue_statement(uow(), SYSTEM, "AP", month, render_pdf=_fake_pdf)
