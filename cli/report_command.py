"""The `report` verb: the one-click bilans at the command line.

  report bilan|caf --from AAAA-MM-JJ --to AAAA-MM-JJ [--xlsx SORTIE.xlsx] [--pdf SORTIE.pdf] [--json] [--exact]

The files (--pdf, --xlsx), meant for the funders, and the tables printed as text hide every count from 1 to 4
(« < 5 ») unless --exact is given (internal use). --json prints the report as JSON with the exact counts, always:
it is the scripting view, read by an authorised user on this machine, not a document handed out (every table: key,
title, headers, rows of labels and integer counts; amounts and hours as strings, « 1234.50 »). The files are written
all or none, each through a temporary file. Acts as services.permissions.SYSTEM, as the other verbs do. Exit 0, or 2 with a
French message (bad date, --from after --to, unwritable file).
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal

from services.file_faults import write_all_atomically
from services.permissions import SYSTEM

EXIT_OK, EXIT_REFUSED = 0, 2
COMMAND = "report"
KINDS = {"bilan": "bilan annuel du PRE", "caf": "annexe CAF / Département (accompagnement à domicile)"}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas une date AAAA-MM-JJ (par exemple 2025-01-31)") \
            from None


def add_parser(sub) -> None:
    """Add `report` to the sub-commands of main.build_parser()."""
    p = sub.add_parser(COMMAND, help="bilan annuel du PRE ou annexe CAF / Département, en PDF, XLSX ou JSON")
    p.add_argument("kind", choices=tuple(KINDS), help="bilan : bilan annuel du PRE ; caf : annexe CAF / Département")
    p.add_argument("--from", dest="start", required=True, type=_day, metavar="AAAA-MM-JJ",
                   help="premier jour de la période")
    p.add_argument("--to", dest="end", required=True, type=_day, metavar="AAAA-MM-JJ",
                   help="dernier jour de la période (inclus)")
    p.add_argument("--xlsx", metavar="SORTIE.xlsx", help="écrit le rapport en XLSX (une feuille par tableau)")
    p.add_argument("--pdf", metavar="SORTIE.pdf", help="écrit le rapport en PDF, graphiques compris")
    p.add_argument("--json", action="store_true",
                   help="affiche tous les tableaux en JSON, toujours en chiffres exacts (usage interne, scripts)")
    p.add_argument("--exact", action="store_true",
                   help="fichiers et tableaux affichés en chiffres exacts, usage interne (sinon les effectifs de 1 à 4 "
                        "y sont remplacés par « < 5 »)")


def run(args, uow) -> int:
    from services.reports import (ReportPeriod, bilan_report, caf_report, report_pdf, report_xlsx,
                                  suppress_small_counts)

    if args.start > args.end:
        print(f"La période est à l'envers : --from ({args.start.isoformat()}) est après --to "
              f"({args.end.isoformat()}).", file=sys.stderr)
        return EXIT_REFUSED
    period = ReportPeriod(args.start, args.end)
    exact = (bilan_report if args.kind == "bilan" else caf_report)(uow(), SYSTEM, period)
    shown = exact if args.exact else suppress_small_counts(exact)  # what may be handed out
    outputs = [(args.xlsx, report_xlsx) if args.xlsx else None, (args.pdf, report_pdf) if args.pdf else None]
    write_all_atomically([(path, render(shown)) for path, render in filter(None, outputs)])
    if args.json:
        print(json.dumps(report_json(exact), ensure_ascii=False, indent=2))
    else:
        print(report_text(shown))
    for path, _ in filter(None, outputs):
        print(f"Écrit : {path}", file=sys.stderr)
    return EXIT_OK


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def report_json(report) -> dict:
    return {"kind": report.kind, "title": report.title, "programme": report.programme_name,
            "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat(),
                       "label": report.period.label()},
            "exact": report.exact,
            "tables": [{"key": t.key, "title": t.title, "headers": list(t.headers), "label_columns": t.label_columns,
                        "rows": [[_plain(v) for v in row] for row in t.rows]} for t in report.tables]}


def report_text(report) -> str:
    from services.reports.pdf import mention
    from services.reports.values import is_money, value_text

    lines = [report.title, report.programme_name, f"{report.period.label()} — {mention(report)}"]
    for table in report.tables:
        cells = [list(table.headers)] + [
            [value_text(v, is_money(table, i)) if i >= table.label_columns else str(v) for i, v in enumerate(row)]
            for row in table.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(table.headers))]
        lines += ["", table.title]
        for row in cells:
            lines.append("  ".join(c.ljust(w) if i < table.label_columns else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    return "\n".join(lines)
