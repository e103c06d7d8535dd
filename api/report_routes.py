"""The API's programme-wide reads for the coordination: the dashboard, and the one-click bilans (the annual bilan,
the CAF / Département annex) as the services compute them, with their exact counts: a desk hides the small counts
itself (services.reports.suppress_small_counts) before a report leaves the programme, as the window does."""
from __future__ import annotations

from services import dashboard, reports
from services.errors import InvalidFields

from api.endpoints import Call, Endpoint
from api.json_io import read_query

PERIOD_REQUIRED = "Le paramètre « {} » est obligatoire : une date AAAA-MM-JJ (par exemple 2025-01-01)."


def _period(call: Call) -> reports.ReportPeriod:
    """?start=YYYY-MM-DD&end=YYYY-MM-DD, both days included; the services refuse a period that ends before it starts."""
    given = read_query(call.query, {"start": "date", "end": "date"})
    missing = {name: PERIOD_REQUIRED.format(name) for name, day in given.items() if day is None}
    if missing:
        raise InvalidFields(missing)
    return reports.ReportPeriod(given["start"], given["end"])


REPORT_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/api/dashboard", dashboard.coordinator_dashboard, "dashboard.read",
             lambda c: dashboard.coordinator_dashboard(c.uow(), c.user, c.today)),
    Endpoint("GET", "/api/reports/bilan", reports.bilan_report, "report.read",
             lambda c: reports.bilan_report(c.uow(), c.user, _period(c))),
    Endpoint("GET", "/api/reports/caf", reports.caf_report, "report.read",
             lambda c: reports.caf_report(c.uow(), c.user, _period(c), today=c.today)),
)
