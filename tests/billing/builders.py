"""Small builders of `parcours-dataset/1` dicts for billing tests (the import is how data enters the store)."""
from __future__ import annotations

import copy

BASE = {
    "format": "parcours-dataset/1",
    "programme": {"name": "DRE de Bourg-en-Bresse", "holiday_zone": "A", "eligible_communes": ["Bourg-en-Bresse"],
                  "city": "Bourg-en-Bresse"},
    "users": [{"key": "ref", "name": "Claire Martin", "role": "referent"},
              {"key": "coord", "name": "Sophie Durand", "role": "coordinator"}],
    "partners": [{"key": "adom", "name": "Adom 01"}],
    "conventions": [{
        "key": "AP", "partner": "adom", "action": "Atout Plus", "start": "2025-01-01", "end": "2025-12-31",
        "max_families": 18, "budget_cap": "25000.00", "period_end_months": [2, 4, 7, 10, 12],
        "tariffs": {"AES": {"home_intervention": "30.00", "weekly_preparation": "15.00",
                            "launch_meeting": "30.00", "period_end_meeting": "30.00"},
                    "TISF": {"home_intervention": "56.13", "weekly_preparation": "20.07",
                             "launch_meeting": "56.13", "period_end_meeting": "56.13"}}}],
    "intervenants": [{"key": "A1", "partner": "adom", "name": "Nadia Benali", "qualification": "AES"},
                     {"key": "T1", "partner": "adom", "name": "Julien Morel", "qualification": "TISF"}],
    "families": [], "orientations": [], "sessions": [], "meetings": [],
}


def dataset() -> dict:
    return copy.deepcopy(BASE)


def family(data: dict, key: str, children: int = 1, decided_on: str | None = "2025-01-20", end: str | None = None):
    data["families"].append({
        "key": key, "name": f"Famille {key}", "commune": "Bourg-en-Bresse", "referent": "ref",
        "children": [{"key": f"{key}-C{i}", "first_name": f"Enfant{i}", "last_name": key,
                      "birth_date": "2016-05-0" + str(i + 1)} for i in range(children)]})
    if decided_on:
        data["orientations"].append({"key": f"O-{key}", "family": key, "convention": "AP", "eps_date": "2024-12-17",
                                     "status": "validated", "decided_on": decided_on, "decided_by": "coord",
                                     "end": end})


def session(data: dict, key: str, family_key: str, intervenant: str, day: str, status: str = "held",
            referent: bool = False, approved: bool = False, start: str | None = "14:00", minutes: int = 60):
    data["sessions"].append({
        "key": key, "family": family_key, "intervenant": intervenant, "date": day, "start_time": start,
        "duration_minutes": minutes, "status": status, "referent_present": referent, "approved_exception": approved,
        "approved_by": "coord" if approved else None})


def meeting(data: dict, key: str, kind: str, day: str, intervenants: list[str]):
    data["meetings"].append({"key": key, "convention": "AP", "kind": kind, "date": day, "intervenants": intervenants})
