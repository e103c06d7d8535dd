"""Benchmark: issuing a month (`issue_statement`, PDF included) at 1,000 families, next to its floors.

Builds (bulk inserts) the programme of benchmarks/billing_statement.py over 2025 alone: 1,000 families, 40
intervenants, a weekly home session per family, with a few long names. By default the month is March, whose
first week is in the zone A winter holidays: the annex lists about 900 flags, and the PDF has the 11,700-odd
table cells of the issue that measured it. January and February are issued first (months are issued in order),
once; then, on a fresh copy of the database file each time, issuing the month is timed end to end, and, on the
issued statement, the PDF rendering alone (the stored copy without names, and the nominative copy).
`--month 2025-01` issues the convention's first month: no issued history for the draft to re-bill.

Floors, measured in the same run: the draft computation alone (issuing is that draft plus the PDF and the
storing), and reportlab drawing the same cell texts as plain strings with `canvas.drawString`, one line each at
fixed positions, without any table or wrapping (what no table layout can beat).

    .venv/bin/python benchmarks/issue_month.py [--families 1000] [--repeat 5] [--month 2025-01]
"""
from __future__ import annotations

import argparse
import io
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the other benchmarks, to share their programme

from billing_statement import build as build_programme  # noqa: E402

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402
from sqlalchemy import text  # noqa: E402

from models.db import make_engine, migrate  # noqa: E402
from services.billing import get_statement, issue_statement  # noqa: E402
from services.billing.labels import FLAG_REASONS, KIND_LABELS, quantity_text  # noqa: E402
from services.billing.pdf import _fit, render_statement_pdf  # noqa: E402
from services.formatting import format_date, format_hours, format_money  # noqa: E402
from services.permissions import SYSTEM  # noqa: E402  (a benchmark runs like the command line)
from services.uow import unit_of_work_factory  # noqa: E402

# A few long names, so the nominative copy wraps some cells as real ones do.
LONG_FAMILY = "Famille Abdelkader-Rodriguez de la Fontaine Saint-Exupéry et Martin-Lefèvre"
LONG_INTERVENANT = "Intervenante Morel-Grandjean de Saint-Maurice"


def build(engine, families: int, month: str) -> None:
    """The programme of benchmarks/billing_statement.py over 2025 alone, with some long names; the months of
    2025 before `month` issued, since months are issued in order."""
    build_programme(engine, families, years=1)
    with engine.begin() as conn:
        conn.execute(text("UPDATE family SET name = :name WHERE CAST(substr(key, 2) AS INTEGER) % 25 = 0"),
                     {"name": LONG_FAMILY})
        conn.execute(text("UPDATE intervenant SET name = :name || ' ' || key "
                          "WHERE CAST(substr(key, 2) AS INTEGER) % 8 = 0"), {"name": LONG_INTERVENANT})
    uow = unit_of_work_factory(engine)
    for earlier in range(1, int(month[5:])):
        issue_statement(uow(), SYSTEM, "AP", f"2025-{earlier:02d}")


def plain_floor(statement) -> bytes:
    """The statement's table cells, formatted as printed, one drawString each at fixed positions."""
    money = format_money
    rows = [[KIND_LABELS.get(l.kind, l.kind), l.qualification, quantity_text(l.kind, l.quantity), money(l.unit_price),
             money(l.amount)] for l in statement.lines]
    rows += [[f.code, str(f.sessions_billed), str(f.preparations_billed), format_hours(f.minutes_delivered),
              money(f.amount)] for f in statement.families]
    rows += [[p.name, p.qualification, str(p.sessions_billed), str(p.preparations_billed), str(p.meetings_billed),
              format_hours(p.minutes_delivered), money(p.amount)] for p in statement.intervenants]
    rows += [[format_date(f.date), FLAG_REASONS.get(f.kind, f.kind), f.session or f.meeting or "—", f.family or "—",
              f.intervenant or "—", "Accordée" if f.approved else "—", "Oui" if f.billed else "Non"]
             for f in statement.flags]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setFont("Helvetica", 8.5)
    y = 800
    for row in rows:
        for column, cell in enumerate(row):
            canvas.drawString(40 + 75 * column, y, cell)
        y -= 14
        if y < 50:
            canvas.showPage()
            canvas.setFont("Helvetica", 8.5)
            y = 800
    canvas.save()
    return buffer.getvalue()


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall-clock and median CPU time of `fn`, in ms: on a shared machine the CPU time varies less."""
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def shown(figures: tuple[float, float]) -> str:
    return f"{figures[0]:7.1f} ms (CPU {figures[1]:6.1f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--month", default="2025-03", help="a month of 2025; the months before it are issued first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        original = Path(folder) / "bench.sqlite"
        engine = make_engine(str(original))
        migrate(engine)
        t0 = time.perf_counter()
        build(engine, args.families, args.month)
        engine.dispose()
        print(f"Données : {args.families} familles sur 2025, {int(args.month[5:]) - 1} mois déjà émis "
              f"(construites en {time.perf_counter() - t0:.1f} s)")

        issues, drafts, statement = [], [], None
        for run in range(args.repeat):  # each run issues the month on its own fresh copy of the file
            copy = Path(folder) / f"run{run}.sqlite"
            shutil.copyfile(original, copy)
            copy_engine = make_engine(str(copy))
            uow = unit_of_work_factory(copy_engine)
            with uow() as w:  # open the pool and warm SQLite's cache as a running application would have
                w.session.execute(text("SELECT count(*) FROM home_session")).scalar()
            # the draft first, as the statements page shows it before the administrator issues it
            drafts.append(timed(lambda: get_statement(uow(), SYSTEM, "AP", args.month), 1))
            _fit.cache_clear()  # each issue wraps its cells anew, as the first PDF a process makes would
            w0, c0 = time.perf_counter(), time.process_time()
            statement = issue_statement(uow(), SYSTEM, "AP", args.month)
            issues.append(((time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000))
            copy_engine.dispose()
        issue = tuple(statistics.median(sample[i] for sample in issues) for i in (0, 1))
        draft = tuple(statistics.median(sample[i] for sample in drafts) for i in (0, 1))
        pdf = render_statement_pdf(statement)
        pdf_time = timed(lambda: _fit.cache_clear() or render_statement_pdf(statement), args.repeat)
        named_time = timed(lambda: _fit.cache_clear() or render_statement_pdf(statement, with_names=True), args.repeat)
        floor_time = timed(lambda: plain_floor(statement), args.repeat)
        cells = (5 * (len(statement.lines) + len(statement.families)) + 7 * len(statement.intervenants)
                 + 7 * len(statement.flags))
        pages = len(re.findall(rb"/Type /Page[^s]", pdf))  # not /Pages, the tree above them
        print(f"État {statement.number} : {len(statement.lines)} lignes, {len(statement.families)} familles, "
              f"{len(statement.intervenants)} intervenants, {len(statement.flags)} éléments signalés "
              f"({cells} cellules), {pages} pages, total {statement.total} €")
        print(f"Émission du mois (PDF compris)       : médiane {shown(issue)}   objectif < 1000 ms")
        print(f"  plancher : projet du mois seul     :         {shown(draft)}   rapport {issue[0] / draft[0]:.2f}× "
              f"(CPU {issue[1] / draft[1]:.2f}×) ; PDF, numérotation et stockage : {issue[0] - draft[0]:.1f} ms")
        print(f"PDF seul (copie stockée, sans noms)  : médiane {shown(pdf_time)}")
        print(f"PDF nominatif                        : médiane {shown(named_time)}")
        print(f"  plancher : mêmes cellules en drawString, sans tableau : {shown(floor_time)}   "
              f"rapport {pdf_time[0] / floor_time[0]:.2f}× (CPU {pdf_time[1] / floor_time[1]:.2f}×), "
              f"nominatif {named_time[0] / floor_time[0]:.2f}× (CPU {named_time[1] / floor_time[1]:.2f}×)")
        print(f"Émission / (projet + plancher PDF)   : {issue[0] / (draft[0] + floor_time[0]):.2f}× "
              f"(CPU {issue[1] / (draft[1] + floor_time[1]):.2f}×)")


if __name__ == "__main__":
    main()
