"""`statement --convention KEY --month YYYY-MM [--json] [--pdf OUT.pdf] [--issue] [--with-names]`.

`statement --convention KEY --closing [--issue] [--json] [--pdf OUT.pdf]`: the closing statement (« état
complémentaire de clôture »), after the period's last month. It names no family: `--with-names` changes nothing.
"""
from __future__ import annotations

import json
import sys

from services.billing import (get_closing_statement, get_statement, issue_closing_statement, issue_statement,
                              issued_pdf, to_public_json)
from services.billing.labels import KIND_LABELS
from services.billing.statement import Statement
from services.errors import DomainError
from services.file_faults import write_atomically
from services.permissions import SYSTEM  # the command line: the operator of the machine
from services.statement_names import record_names_printed
from services.formatting import format_money, month_in_words
from services.month import refuse_implausible

EXIT_OK, EXIT_REFUSED = 0, 2


def _render(statement: Statement, with_names: bool = False) -> bytes:
    from services.billing.pdf import render_statement_pdf

    return render_statement_pdf(statement, with_names=with_names)


def run(uow, args) -> int:
    try:
        if getattr(args, "closing", False):
            return _run_closing(uow, args)
        month = args.month
        refuse_implausible(month)  # 9999-12, 0000-01: refused in French before any computation
        if args.issue:
            statement = issue_statement(uow(), SYSTEM, args.convention, month)
        else:
            statement = get_statement(uow(), SYSTEM, args.convention, month)
        if args.pdf:
            stored = issued_pdf(uow(), SYSTEM, args.convention, month) if not args.with_names else None
            write_atomically(args.pdf, stored or _render(statement, with_names=args.with_names))
            if args.with_names:  # the families' names left the programme's hands: audited
                record_names_printed(uow(), SYSTEM, statement.convention, month)
    except DomainError as exc:  # FileFault too: the PDF could not be written, said in French
        print(exc.message, file=sys.stderr)
        return EXIT_REFUSED
    return _print(statement, args)


def _run_closing(uow, args) -> int:
    if args.issue:
        statement = issue_closing_statement(uow(), SYSTEM, args.convention)
    else:
        statement = get_closing_statement(uow(), SYSTEM, args.convention)
    if args.pdf:
        stored = issued_pdf(uow(), SYSTEM, args.convention, statement.month) if statement.status == "issued" else None
        write_atomically(args.pdf, stored or _render(statement))
    return _print(statement, args)


def _print(statement: Statement, args) -> int:
    if args.json:
        print(json.dumps(to_public_json(statement), ensure_ascii=False, indent=2))
    else:
        print(_summary(statement))
    return EXIT_OK


def _summary(statement: Statement) -> str:
    status = f"émis, n° {statement.number}" if statement.status == "issued" else "projet"
    if statement.closing:
        lines = [f"État complémentaire de clôture {statement.convention} ({status})"]
        if not statement.lines:
            lines.append("  Aucune régularisation à reporter : les états émis correspondent aux données d'aujourd'hui.")
    else:
        lines = [f"État mensuel {statement.convention} — {month_in_words(statement.month)} ({status})"]
    for line in statement.lines:
        label = KIND_LABELS.get(line.kind, line.kind)
        if line.month != statement.month:
            label += f" (régul. {month_in_words(line.month)})"
        lines.append(f"  {label:<55} {line.qualification:<5} {line.quantity:>5} × {format_money(line.unit_price):>12}"
                     f" = {format_money(line.amount):>14}")
    lines.append(f"  Total TTC : {format_money(statement.total)}")
    cap = format_money(statement.budget_cap) if statement.budget_cap is not None else "sans plafond"
    left = f", reste {format_money(statement.budget_left)}" if statement.budget_left is not None else ""
    lines.append(f"  Cumul {statement.cumulative_label} : {format_money(statement.period_to_date)} "
                 f"(plafond : {cap}{left})")
    if statement.flags:
        lines.append(f"  {len(statement.flags)} élément(s) signalé(s) : voir --json ou le PDF.")
    return "\n".join(lines)
