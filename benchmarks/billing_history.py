"""Benchmark: a month's draft after N issued months, next to the same draft with none issued (issue 12).

Builds the programme of benchmarks/billing_statement.py (1,000 families, a weekly session each) on a convention from
January 2021 with no end, sessions until January 2026; times the draft of January 2026 with nothing issued (the
floor, N = 0), then issues the months in order (PDF left out: a stand-in renderer, the PDF is not what is measured)
and times the same draft after N = 1, 12 and 60 issued months, and once more after a late session logged in an issued
month (that month alone is re-billed). The N = 0 floor is a copy of the database taken before the first issue, timed
in turn with each measure. Prints each figure next to that floor and the ratio (target: 1.3×), and
the list of issued statements read whole (`list_issued`) next to its columns only (`list_issued_summaries`).

    .venv/bin/python benchmarks/billing_history.py [--families 1000] [--issued 1,12,60] [--repeat 7]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, time as clock, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import select, text  # noqa: E402

from billing_statement import build, timed  # noqa: E402
from models import Family, HomeSession, Intervenant  # noqa: E402
from models.db import make_engine, migrate  # noqa: E402
from services.billing import get_statement, issue_statement, list_issued  # noqa: E402
from services.billing.statements import list_issued_summaries  # noqa: E402
from services.permissions import SYSTEM  # noqa: E402
from services.uow import unit_of_work_factory  # noqa: E402

DRAFT = "2026-01"


def months_from(first: str, count: int) -> list[str]:
    year, month, out = int(first[:4]), int(first[5:]), []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--issued", default="1,12,60", help="the N to measure, in increasing order, up to 60")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    steps = [int(n) for n in args.issued.split(",")]
    months = months_from("2021-01", 60)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(str(Path(folder) / "bench.sqlite"))
        migrate(engine)
        t0 = time.perf_counter()
        build(engine, args.families, 5, until=date(2026, 1, 31), convention_end=None)
        with engine.connect() as conn:
            sessions = conn.execute(text("SELECT count(*) FROM home_session")).scalar()
        print(f"Données : {args.families} familles, {sessions} séances de janvier 2021 à janvier 2026 "
              f"(construites en {time.perf_counter() - t0:.1f} s) ; projet mesuré : {DRAFT}")
        engine.dispose()  # the last connection checkpoints the WAL: the file alone is the database
        shutil.copy(Path(folder) / "bench.sqlite", Path(folder) / "floor.sqlite")
        floor_engine = make_engine(str(Path(folder) / "floor.sqlite"))  # stays at N = 0
        uow, floor_uow = unit_of_work_factory(engine), unit_of_work_factory(floor_engine)
        draft = lambda: get_statement(uow(), SYSTEM, "AP", DRAFT)  # noqa: E731
        floor_draft = lambda: get_statement(floor_uow(), SYSTEM, "AP", DRAFT)  # noqa: E731

        def against_floor(label: str) -> None:
            """The draft and the N = 0 draft timed in turn, so that both see the same load of the machine."""
            draft(), floor_draft()
            samples = {"n": [], "floor": []}
            for turn in range(args.repeat):  # in turn, each first every other time
                for name, fn in (("floor", floor_draft), ("n", draft))[::1 if turn % 2 else -1]:
                    samples[name].append(timed(fn, 1)[0])
            median, floor = statistics.median(samples["n"]), statistics.median(samples["floor"])
            print(f"{label} : médiane {median:7.1f} ms (meilleur {min(samples['n']):.1f} ms) ; plancher N = 0 "
                  f"{floor:.1f} ms (meilleur {min(samples['floor']):.1f} ms) ; rapport {median / floor:.2f}× "
                  "(cible : 1,3×)")

        against_floor("N =  0 mois émis  ")
        issued = 0
        t0 = time.perf_counter()
        for n in steps:
            for month in months[issued:n]:
                issue_statement(uow(), SYSTEM, "AP", month, render_pdf=lambda s: b"%PDF-1.4 benchmark")
            issued = n
            against_floor(f"N = {n:2d} mois émis  ")
        print(f"({issued} mois émis en {time.perf_counter() - t0:.1f} s, PDF exclu)")

        late_month = months[max(issued // 2 - 1, 0)]
        late_day = date(int(late_month[:4]), int(late_month[5:]), 10)
        late_day += timedelta(days=(5 - late_day.weekday()) % 7)  # a Saturday: the week's second session, approved
        with uow() as u:  # a session logged late in an issued month: that month alone is re-billed
            family = u.session.scalars(select(Family).order_by(Family.key)).first()
            intervenant = u.session.scalars(select(Intervenant).order_by(Intervenant.key)).first()
            u.session.add(HomeSession(key="late", family=family, intervenant=intervenant, date=late_day,
                                      start_time=clock(10, 0), duration_minutes=60, status="held",
                                      approved_exception=True))
            u.commit()
        regularised = sorted({line.month for line in draft().regularisation_lines})
        against_floor(f"Après une séance tardive le {late_day:%d/%m/%Y} (régularisé : {', '.join(regularised)})")

        whole, _ = timed(lambda: list_issued(uow(), SYSTEM, "AP"), args.repeat)
        light, _ = timed(lambda: list_issued_summaries(uow(), SYSTEM, "AP"), args.repeat)
        print(f"Liste des {issued} états émis : lus entiers {whole:.1f} ms ; colonnes seules {light:.1f} ms "
              f"(rapport {whole / light:.1f}×)")
        engine.dispose()
        floor_engine.dispose()


if __name__ == "__main__":
    main()
