"""Benchmark: the monthly statement on a large programme, next to two hand-written SQL floors.

Builds 1,000 families followed for 5 years (2021–2025) with a weekly home session each (about 260,000
sessions), then times the draft statement of one month and of the twelve months of 2025, and two single SQL
queries measured in the same run:
  * the aggregate: sums the held sessions of the month per qualification (what a spreadsheet would do: it reads only
    March and applies no rule of the convention);
  * the fair floor: reads the same window as the statement (the whole ISO weeks touching the month), ranks each
    family's sessions of each ISO week with a window function (ROW_NUMBER() OVER (PARTITION BY family, week ORDER BY
    date, start time, key)) and sums the first of each week falling in the month — the week rule done by SQL.
Prints each figure next to its floor and the ratios.

    .venv/bin/python benchmarks/billing_statement.py [--families 1000] [--years 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from models import (Action, Convention, Family, HomeSession, Intervenant, Orientation, Partner,  # noqa: E402
                    Programme, Tariff)
from models.db import make_engine, migrate  # noqa: E402
from services.billing import get_statement  # noqa: E402
from services.billing.rules import billing_window  # noqa: E402
from services.permissions import SYSTEM  # noqa: E402  (a benchmark runs like the command line)
from services.uow import unit_of_work_factory  # noqa: E402

TARIFFS = {("AES", "home_intervention"): 3000, ("AES", "weekly_preparation"): 1500, ("AES", "launch_meeting"): 3000,
           ("AES", "period_end_meeting"): 3000, ("TISF", "home_intervention"): 5613,
           ("TISF", "weekly_preparation"): 2007, ("TISF", "launch_meeting"): 5613, ("TISF", "period_end_meeting"): 5613}


def build(engine, families: int, years: int, until: date = date(2025, 12, 31),
          convention_end: date | None = date(2025, 12, 31)) -> None:
    """A convention from 1 January of the first year (`years` before 2026) to `convention_end`, a weekly session per
    family until `until` (one in 13 the family is absent)."""
    now = datetime.now(timezone.utc)
    stamp = {"created_at": now, "updated_at": now}
    first_year = 2026 - years
    ids = lambda n: [str(uuid.uuid4()) for _ in range(n)]  # noqa: E731
    with engine.begin() as conn:
        conn.execute(insert(Programme), [{"id": str(uuid.uuid4()), "name": "DRE de démonstration", "holiday_zone": "A",
                                          "eligible_communes": ["Bourg-en-Bresse"], "city": "Bourg-en-Bresse", **stamp}])
        partner_id, action_id, convention_id = ids(3)
        conn.execute(insert(Partner), [{"id": partner_id, "key": "adom", "name": "Adom 01", **stamp}])
        conn.execute(insert(Action), [{"id": action_id, "name": "Atout Plus", **stamp}])
        conn.execute(insert(Convention), [{
            "id": convention_id, "key": "AP", "partner_id": partner_id, "action_id": action_id,
            "start_date": date(first_year, 1, 1), "end_date": convention_end, "max_families": 1000,
            "budget_cap": None, "period_end_months": [2, 4, 7, 10, 12], "budget_imputation": None, **stamp}])
        conn.execute(text("INSERT INTO tariff (id, convention_id, qualification, kind, unit_price, created_at, updated_at)"
                          " VALUES (:id, :c, :q, :k, :p, :t, :t)"),
                     [{"id": str(uuid.uuid4()), "c": convention_id, "q": q, "k": k, "p": p, "t": now}
                      for (q, k), p in TARIFFS.items()])
        intervenant_ids = ids(40)
        conn.execute(insert(Intervenant), [{"id": i, "key": f"I{n:02d}", "partner_id": partner_id, "name": f"Intervenant {n}",
                                            "qualification": "AES" if n % 2 else "TISF", **stamp}
                                           for n, i in enumerate(intervenant_ids)])
        family_ids = ids(families)
        conn.execute(insert(Family), [{"id": f, "key": f"F{n:04d}", "name": f"Famille {n}", "commune": "Bourg-en-Bresse",
                                       "priority_neighbourhood": False, **stamp} for n, f in enumerate(family_ids)])
        conn.execute(insert(Orientation), [{"id": str(uuid.uuid4()), "key": f"O{n:04d}", "family_id": f,
                                            "convention_id": convention_id, "eps_date": date(first_year, 1, 5),
                                            "status": "validated", "decided_on": date(first_year, 1, 5), **stamp}
                                           for n, f in enumerate(family_ids)])
        start = date(first_year, 1, 4) - timedelta(days=date(first_year, 1, 4).weekday())
        rows, serial = [], 0
        for n, family_id in enumerate(family_ids):
            day = start + timedelta(days=n % 5)
            while day <= until:
                serial += 1
                rows.append({"id": str(uuid.uuid4()), "key": f"S{serial:07d}", "family_id": family_id,
                             "intervenant_id": intervenant_ids[n % 40], "date": day, "start_time": clock(14, 0),
                             "duration_minutes": 60, "status": "held" if serial % 13 else "family_absent",
                             "referent_present": True, "approved_exception": False, **stamp})
                day += timedelta(days=7)
            if len(rows) > 50_000:
                conn.execute(insert(HomeSession), rows)
                rows = []
        if rows:
            conn.execute(insert(HomeSession), rows)


# The held sessions of the partner's intervenants covered by a validated orientation, with their tariff: what both
# floors read (the aggregate over the month, the fair floor over the month's whole weeks).
COVERED_SESSIONS = """
    FROM home_session s
    JOIN intervenant i ON i.id = s.intervenant_id
    JOIN orientation o ON o.family_id = s.family_id AND o.convention_id = :c AND o.status = 'validated'
                          AND o.decided_on <= s.date AND (o.end_date IS NULL OR o.end_date >= s.date)
    JOIN tariff t ON t.convention_id = :c AND t.qualification = i.qualification AND t.kind = 'home_intervention'
    WHERE s.status = 'held' AND i.partner_id = :p"""

SQL_AGGREGATE = text(f"""
    SELECT i.qualification, count(*) AS sessions, sum(t.unit_price) AS cents
    {COVERED_SESSIONS} AND s.date BETWEEN :start AND :end
    GROUP BY i.qualification
""")

# 1721425.5 is julianday('0001-01-01'), a Monday: the same week number as services.rules.iso_week.
SQL_WINDOW_FLOOR = text(f"""
    WITH ranked AS (
        SELECT s.date, i.qualification, t.unit_price,
               ROW_NUMBER() OVER (PARTITION BY s.family_id, CAST((julianday(s.date) - 1721425.5) / 7 AS INTEGER)
                                  ORDER BY s.date, s.start_time, s.key) AS rank
        {COVERED_SESSIONS} AND s.date BETWEEN :window_start AND :window_end
    )
    SELECT qualification, count(*) AS sessions, sum(unit_price) AS cents
    FROM ranked WHERE rank = 1 AND date BETWEEN :start AND :end
    GROUP BY qualification
""")


def timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(str(Path(folder) / "bench.sqlite"))
        migrate(engine)
        t0 = time.perf_counter()
        build(engine, args.families, args.years)
        with engine.connect() as conn:
            sessions = conn.execute(text("SELECT count(*) FROM home_session")).scalar()
            c, p = conn.execute(text("SELECT id, partner_id FROM convention")).one()
        print(f"Données : {args.families} familles, {sessions} séances sur {args.years} ans "
              f"(construites en {time.perf_counter() - t0:.1f} s)")
        uow = unit_of_work_factory(engine)
        statement = get_statement(uow(), SYSTEM, "AP", "2025-03")
        year_median, year_best = timed(
            lambda: [get_statement(uow(), SYSTEM, "AP", f"2025-{m:02d}") for m in range(1, 13)],
            max(2, args.repeat // 3))

        march = {"c": c, "p": p, "start": date(2025, 3, 1), "end": date(2025, 3, 31)}

        def aggregate():
            with engine.connect() as conn:
                return conn.execute(SQL_AGGREGATE, march).all()

        window_start, window_end = billing_window("2025-03")

        def window_floor():
            with engine.connect() as conn:
                return conn.execute(SQL_WINDOW_FLOOR, {**march, "window_start": window_start,
                                                       "window_end": window_end}).all()
        # The month and both floors timed in turn, so that the three see the same load of the machine.
        samples = {"month": [], "aggregate": [], "floor": []}
        runs = (("month", lambda: get_statement(uow(), SYSTEM, "AP", "2025-03")), ("aggregate", aggregate),
                ("floor", window_floor))
        for _ in range(args.repeat):
            for name, fn in runs:
                samples[name].append(timed(fn, 1)[0])
        (month_median, month_best), (sql_median, sql_best), (floor_median, floor_best) = (
            (statistics.median(samples[name]), min(samples[name])) for name, _fn in runs)
        billed = {q: n for q, n, _cents in window_floor()}
        print(f"État de mars 2025 : {len(statement.lines)} lignes, total {statement.total} €, "
              f"{len(statement.flags)} éléments signalés ; le plancher classé compte {billed} séances")
        print(f"Un mois  : médiane {month_median:7.1f} ms (meilleur {month_best:.1f} ms)")
        print(f"Une année: médiane {year_median:7.1f} ms (meilleur {year_best:.1f} ms) pour 12 états")
        print(f"Agrégat SQL (mars seul, sans règle) : médiane {sql_median:7.1f} ms (meilleur {sql_best:.1f} ms)")
        print(f"Plancher juste (semaines entières, ROW_NUMBER par famille et semaine ISO) : médiane "
              f"{floor_median:7.1f} ms (meilleur {floor_best:.1f} ms)")
        print(f"Rapport mois / agrégat SQL : {month_median / sql_median:.1f}× (meilleurs : {month_best / sql_best:.1f}×)")
        print(f"Rapport mois / plancher juste : {month_median / floor_median:.1f}× (meilleurs : "
              f"{month_best / floor_best:.1f}×) (cible : 2×)")
        engine.dispose()


if __name__ == "__main__":
    main()
