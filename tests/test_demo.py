"""The demonstration programme: realistic content, exact Atout Plus tariffs, idempotent loading."""
from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta

import pytest

from services.billing.rules import is_school_holiday
from services.billing.statements import get_statement
from services.dataset import export_dataset, import_dataset
from services.demo import build_demo_dataset, load_demo
from services.permissions import SYSTEM

DEMO_2025 = date(2025, 12, 19)  # the twelve months up to this day are the year 2025 the facts below tell

AP_2025_TARIFFS = {
    "AES": {"home_intervention": "30.00", "weekly_preparation": "15.00",
            "launch_meeting": "30.00", "period_end_meeting": "30.00"},
    "TISF": {"home_intervention": "56.13", "weekly_preparation": "20.07",
             "launch_meeting": "56.13", "period_end_meeting": "56.13"},
}


def test_build_is_deterministic_and_pure():
    first = build_demo_dataset(today=DEMO_2025)
    second = build_demo_dataset(today=DEMO_2025)
    assert first == second
    first["families"].clear()  # the caller owns the dict: mutating it must not leak into the next build
    assert build_demo_dataset(today=DEMO_2025) == second
    assert build_demo_dataset(seed=7, today=DEMO_2025) != second
    assert build_demo_dataset(seed=7, today=DEMO_2025) == build_demo_dataset(seed=7, today=DEMO_2025)
    assert build_demo_dataset(today=date(2026, 12, 1)) != second


def test_loading_the_demo_fills_a_realistic_programme(uow):
    started = time.perf_counter()
    summary = load_demo(uow(), today=DEMO_2025)
    assert time.perf_counter() - started < 5
    assert summary.startswith("Programme de démonstration chargé : 32 familles, 48 enfants")
    assert summary.endswith("séances.")

    data = export_dataset(uow(), SYSTEM)
    assert data["programme"] == {
        "name": "Dispositif de Réussite Éducative de Bourg-en-Bresse", "holiday_zone": "A",
        "eligible_communes": ["Bourg-en-Bresse"], "city": "Bourg-en-Bresse",
        "qpv_names": ["Croix-Blanche", "Grande Reyssouze", "Les Vennes", "Pont-des-Chèvres"],
    }
    roles = Counter(u["role"] for u in data["users"])
    assert roles == {"referent": 3, "coordinator": 1, "administrator": 1}

    families = data["families"]
    assert len(families) >= 30
    assert sum(len(f["children"]) for f in families) >= 45
    assert any(f["commune"] != "Bourg-en-Bresse" for f in families)
    assert any(f["consent_date"] is None for f in families)
    assert sum(f["consent_date"] is not None for f in families) >= 28
    assert any(f["priority_neighbourhood"] for f in families)
    assert any(len(f["children"]) >= 2 for f in families)

    intervenants = data["intervenants"]
    assert len(intervenants) >= 5
    assert {i["qualification"] for i in intervenants} == {"AES", "TISF"}
    assert sum(i["partner"] == "adom" for i in intervenants) == 4

    conventions = {c["key"]: c for c in data["conventions"]}
    ap = conventions["AP-2025"]
    assert ap["tariffs"] == AP_2025_TARIFFS
    assert (ap["start"], ap["end"]) == ("2025-01-01", "2025-12-31")
    assert (ap["max_families"], ap["budget_cap"]) == (18, "45000.00")
    assert ap["period_end_months"] == [2, 4, 7, 10, 12]
    assert ap["partner"] == "adom" and ap["action"] == "Atout Plus"
    assert "65748" in ap["budget_imputation"]
    assert conventions["AS-2025"]["partner"] == "pep01"

    statuses = Counter(o["status"] for o in data["orientations"])
    assert statuses["validated"] + statuses["ended"] >= 16
    assert statuses["proposed"] >= 2 and statuses["rejected"] >= 1 and statuses["ended"] >= 2

    sessions = data["sessions"]
    months = {s["date"][:7] for s in sessions}
    assert {"2025-01", "2025-12"} <= months
    assert Counter(s["status"] for s in sessions).keys() == {"held", "cancelled", "family_absent"}
    assert any(s["approved_exception"] and s["approved_by"] == "coord-rousseau" for s in sessions)
    assert len({s["key"] for s in sessions}) == len(sessions)
    kinds = Counter((m["convention"], m["kind"]) for m in data["meetings"])
    assert kinds[("AP-2025", "launch")] == 2 and kinds[("AP-2025", "period_end")] >= 5


def test_loading_twice_creates_nothing(uow):
    load_demo(uow(), today=DEMO_2025)
    before = export_dataset(uow(), SYSTEM)

    again = import_dataset(uow(), build_demo_dataset(today=DEMO_2025))
    assert again.created_total == 0
    assert again.unchanged["sessions"] == len(before["sessions"])
    summary = load_demo(uow(), today=DEMO_2025)
    assert "rien n'a été ajouté" in summary
    assert export_dataset(uow(), SYSTEM) == before


def test_first_session_of_each_family_has_the_referent_but_one():
    sessions = build_demo_dataset(today=DEMO_2025)["sessions"]
    first = {}
    for s in sorted(sessions, key=lambda s: (s["date"], s["start_time"])):
        first.setdefault(s["family"], s)
    without = [family for family, s in first.items() if not s["referent_present"]]
    assert len(without) == 1
    assert all(1 <= s["children_present"] for s in sessions if s["status"] == "held")


# -- the demo follows today's date ------------------------------------------------------------------------------
# A Tuesday the 1st, Mondays (the current week is today alone), the last day before the summer, a Friday of the
# summer holidays (nothing but a holiday session can be held that week).
TODAYS = [date(2026, 12, 1), date(2027, 3, 15), date(2025, 6, 30), date(2026, 8, 14), date(2026, 11, 2)]


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_the_demo_tells_the_twelve_months_up_to_today(today):
    data = build_demo_dataset(today=today)
    assert data == build_demo_dataset(today=today)
    sessions = data["sessions"]
    held = [date.fromisoformat(s["date"]) for s in sessions if s["status"] == "held"]
    monday = today - timedelta(days=today.weekday())
    assert max(date.fromisoformat(s["date"]) for s in sessions) <= today  # recorded once held: none after today
    assert any(d.year == today.year and d.month == today.month for d in held)  # « ce mois-ci »
    assert any(monday <= d <= today for d in held)  # « Semaine »
    assert len({(d.year, d.month) for d in held}) >= 10  # the twelve months, less August and maybe July
    assert min(held) >= _month_start(today, 11)
    for key in ("eps_meetings", "meetings"):
        assert all(date.fromisoformat(m["date"]) <= today for m in data[key])

    conventions = data["conventions"]
    assert {c["key"][:3] for c in conventions} == {"AP-", "AS-"}
    for c in conventions:
        start, end = date.fromisoformat(c["start"]), date.fromisoformat(c["end"])
        assert start <= _month_start(today, 11) and end >= today  # the past twelve months and the current one
        assert c["key"].endswith(str(start.year) if start.year == end.year else f"{start.year}-{end.year}")
    ap = next(c for c in conventions if c["key"].startswith("AP-"))
    assert ap["tariffs"] == AP_2025_TARIFFS and ap["period_end_months"] == [2, 4, 7, 10, 12]
    assert all(any(c["start"] <= s["date"] <= c["end"] for c in conventions) for s in sessions)
    first_session = min(s["date"] for s in sessions)
    validated = [o for o in data["orientations"] if o["status"] in ("validated", "ended")]
    assert len(validated) >= 16 and min(o["decided_on"] for o in validated) <= first_session
    assert all(o["decided_on"] is None or o["decided_on"] <= today.isoformat() for o in data["orientations"])
    assert all(o["end"] is None or o["end"] <= today.isoformat() for o in data["orientations"])
    months = {c["key"]: c["period_end_months"] for c in conventions}
    period_ends = [m for m in data["meetings"] if m["kind"] == "period_end"]
    assert sum(int(m["date"][5:7]) not in months[m["convention"]] for m in period_ends) == 1  # the deliberate one


@pytest.mark.parametrize("today", TODAYS[:3], ids=str)
def test_the_showcase_cases_are_there_whatever_the_date(today):
    sessions = build_demo_dataset(today=today)["sessions"]
    held = [s for s in sessions if s["status"] == "held"]
    notes = " | ".join(s["notes"] or "" for s in sessions)
    in_holidays = [s for s in held if is_school_holiday(date.fromisoformat(s["date"]), "A")]
    assert len(in_holidays) >= 3 and any(s["approved_exception"] for s in in_holidays)
    weeks = Counter((s["family"], date.fromisoformat(s["date"]).isocalendar()[:2]) for s in held)
    assert sum(n > 1 for n in weeks.values()) >= 6
    assert "Remplacement de Karima Haddad" in notes and "intervenante en arrêt maladie" in notes
    assert "Démarrage avant la validation" in notes and "sans orientation" in notes
    assert "Orientation proposée, en attente de validation" in notes
    first = {}
    for s in sorted(sessions, key=lambda s: (s["date"], s["start_time"])):
        first.setdefault(s["family"], s)
    assert sum(not s["referent_present"] for s in first.values()) == 1


@pytest.mark.parametrize("today", TODAYS[:3], ids=str)
def test_last_months_statements_are_computed_on_the_demo(uow, today):
    assert load_demo(uow(), SYSTEM, today=today).startswith("Programme de démonstration chargé")
    month = _month_start(today, 1).isoformat()[:7]
    keys = [c["key"] for c in export_dataset(uow(), SYSTEM)["conventions"]]
    statements = {key: get_statement(uow(), SYSTEM, key, month) for key in keys}
    ap = next(s for key, s in statements.items() if key.startswith("AP-"))
    assert ap.status == "draft" and ap.total > 0 and ap.lines
    assert not any(f.kind in ("outside_convention", "missing_tariff") for s in statements.values() for f in s.flags)
    assert load_demo(uow(), SYSTEM, today=today).startswith("Programme de démonstration déjà présent")


def test_the_demo_defaults_to_the_clock():
    assert build_demo_dataset() == build_demo_dataset(today=date.today())
