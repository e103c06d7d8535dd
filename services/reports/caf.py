"""Annexe CAF / Département: the home-support actions (conventions with home sessions), hours and amounts."""
from __future__ import annotations

from models import Programme
from services.permissions import require
from services.reports.model import Report
from services.reports.period import ReportPeriod

TITLE = "Annexe CAF / Département — actions d'accompagnement à domicile"


def caf_report(uow, user, period: ReportPeriod) -> Report:
    with uow:
        require(user, "report.read", session=uow.session)
        programme = uow.session.query(Programme).first()
        return Report("caf", TITLE, period, programme.name if programme else "", ())
