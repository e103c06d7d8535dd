"""The streamed export and the bulk import of sessions (issue 12): the file written is byte for byte the one the
exporter wrote before it streamed (tests/data/export_golden.json, made by the former exporter from the dataset
below), and an import through the bulk path stores what the record-by-record path stored."""
from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest

import main

from conftest import DATA

EXAMPLE = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
GOLDEN = DATA / "export_golden.json"


def rich_dataset() -> dict:
    """The example, with what its optional fields can hold: avenants, other billing rules and qualifications, an
    intervenant's dated history, refused dérogations, texts over several lines and beyond the BMP, and a few hundred
    sessions (more than one batch of the streamed query once the batch is made small)."""
    data = copy.deepcopy(EXAMPLE)
    data["partners"].append({"key": "pep", "name": "PEP 01 « Ain »"})
    data["conventions"].append({
        "key": "edu-2025", "partner": "pep", "action": "Accompagnement éducatif", "start": "2025-01-01",
        "end": None, "max_families": None, "budget_cap": None, "period_end_months": [12, 6],
        "budget_imputation": None, "qualifications": ["AES", "TISF", "Éducateur"],
        "tariffs": {"Éducateur": {"home_intervention": "41.50"}, "AES": {"home_intervention": "30"}},
        "amendments": [{"start": "2025-09-01", "tariffs": {"Éducateur": {"home_intervention": "43,20"}}},
                       {"start": "2025-06-01", "tariffs": {"AES": {"home_intervention": "31.00"}}}],
        "sessions_per_week": None, "holidays_need_exception": False, "referent_at_first_session": False,
        "home_unit": "hour", "hour_rounding_minutes": 30,
    })
    data["intervenants"].append({
        "key": "i-moving", "partner": "pep", "name": "Léa Ngô", "qualification": "TISF",
        "history": [{"from": "2025-05-01", "qualification": "TISF", "partner": "pep"},
                    {"from": None, "qualification": "AES", "partner": "adom"}]})
    data["families"][1]["notes"] = "Deux lignes :\nla seconde\tavec une tabulation — et 🌱"
    data["orientations"].append({"key": "O-edu", "family": "F2", "convention": "edu-2025", "eps_date": "2025-01-14",
                                 "status": "ended", "decided_on": "2025-01-21", "decided_by": "coord-durand",
                                 "end": "2025-11-30", "reason": "Fin « prévue »"})
    statuses = ("held", "cancelled", "family_absent")
    for n in range(260):
        day = date(2025, 1, 6) + timedelta(days=n % 330)
        approved = n % 11 == 0 and n % 13 != 1
        session = {"key": f"G{n:04d}", "family": ("F1", "F2")[n % 2],
                   "intervenant": ("i-aes", "i-tisf", "i-moving")[n % 3], "date": day.isoformat(),
                   "start_time": None if n % 7 == 0 else f"{8 + n % 10:02d}:{(n * 5) % 60:02d}",
                   "duration_minutes": 30 + n % 150, "status": statuses[n % 3], "referent_present": n % 4 == 0,
                   "children_present": None if n % 5 else n % 3, "approved_exception": approved,
                   "approved_by": "coord-durand" if approved and n % 2 == 0 else None,
                   "notes": None if n % 6 else f"Séance n° {n}\nsuite « ok » ✓"}
        if n % 13 == 1:
            session.update(exception_refused=True, exception_decided_by="coord-durand",
                           exception_reason="Motif insuffisant\n(vacances)")
        elif n % 17 == 2 and not approved:
            session.update(exception_refused=True)
        data["sessions"].append(session)
    data["meetings"].append({"key": "M-edu", "convention": "edu-2025", "kind": "period_end", "date": "2025-06-30",
                             "intervenants": ["i-moving", "i-aes"], "notes": "Réunion\nde fin"})
    data["eps_meetings"].append({"key": "EPS-2025-06", "date": "2025-06-10", "notes": None, "situations": [
        {"family": "F2", "recommendation": "Suivi"}, {"family": "F1", "recommendation": None},
        {"family": "F1", "recommendation": "Atout Plus"}]})
    return data


def _import_rich(db_path, tmp_path) -> None:
    source = tmp_path / "rich.json"
    source.write_text(json.dumps(rich_dataset(), ensure_ascii=False), encoding="utf-8")
    assert main.main(["--db", db_path, "import", str(source)]) == 0


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_streamed_export_is_byte_for_byte_the_former_exporters_file(db_path, tmp_path, monkeypatch):
    """The golden file was written by the exporter that built one dictionary and one string; the streamed one,
    fetching sessions a few rows at a time (several batches here), writes the same bytes."""
    from services.dataset import exporter

    monkeypatch.setattr(exporter, "SESSION_BATCH", 7)
    _import_rich(db_path, tmp_path)
    out = tmp_path / "out.json"
    assert main.main(["--db", db_path, "export", str(out)]) == 0
    assert out.read_bytes() == GOLDEN.read_bytes()


def test_streamed_text_is_json_dumps_of_the_exported_dictionary(db_path, tmp_path, uow):
    """export_dataset (the dictionary other services and tests read) and the streamed text say the same."""
    from services.dataset import export_dataset, stream_dataset
    from services.permissions import SYSTEM

    _import_rich(db_path, tmp_path)
    chunks: list[str] = []
    stream_dataset(uow(), SYSTEM, deliver=chunks.extend)
    assert "".join(chunks) == json.dumps(export_dataset(uow(), SYSTEM), ensure_ascii=False, indent=2)
