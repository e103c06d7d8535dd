"""The API's billing endpoints besides a month's draft, its issue and its PDF (api.routes): a convention's issued
statements, its closing statement (« état complémentaire de clôture »), what an issued month would bill today and
what changed since, the dérogations still undecided, and the audited print of the families' names.

An issued statement's PDF, closing ones included, is read at /api/statements/{convention}/{month}/pdf with the
month the statement carries.
"""
from __future__ import annotations

from services import statement_names
from services.billing import statements

from api.endpoints import Call, Endpoint

MONTH = "/api/statements/{convention}/{month}"


def _month_read(service):
    """The handler of a read taking (uow, user, convention, month) from the path."""
    return lambda c: service(c.uow(), c.user, c.params["convention"], c.params["month"])


def _names_printed(call: Call) -> dict:
    """Said by the desk when it prints a statement with the families' names (their codes only are in the PDF)."""
    statement_names.record_names_printed(call.uow(), call.user, call.params["convention"], call.params["month"])
    return {"recorded": True}


BILLING_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/api/conventions/{key}/statements", statements.list_issued_summaries, "statement.read",
             lambda c: statements.list_issued_summaries(c.uow(), c.user, c.params["key"])),  # no payload, no PDF
    Endpoint("GET", "/api/conventions/{key}/statements/full", statements.list_issued, "statement.read",
             lambda c: statements.list_issued(c.uow(), c.user, c.params["key"])),
    Endpoint("GET", "/api/conventions/{key}/closing-statement", statements.get_closing_statement, "statement.read",
             lambda c: statements.get_closing_statement(c.uow(), c.user, c.params["key"])),
    Endpoint("POST", "/api/conventions/{key}/closing-statement/issue", statements.issue_closing_statement,
             "statement.issue", lambda c: statements.issue_closing_statement(c.uow(), c.user, c.params["key"]),
             status=201),
    Endpoint("GET", f"{MONTH}/recomputed", statements.recomputed_lines, "statement.read",
             _month_read(statements.recomputed_lines)),
    Endpoint("GET", f"{MONTH}/changes", statements.issued_month_changes, "statement.read",
             _month_read(statements.issued_month_changes)),  # null for a month not issued
    Endpoint("GET", f"{MONTH}/undecided", statements.undecided_exceptions, "statement.read",
             _month_read(statements.undecided_exceptions)),
    Endpoint("POST", f"{MONTH}/names-printed", statement_names.record_names_printed, "statement.read",
             _names_printed),
)
