"""Bilan annuel du Programme de Réussite Éducative: the tables the State and the partners ask for."""
from __future__ import annotations

from models import Programme
from services.permissions import require
from services.reports.model import Report
from services.reports.period import ReportPeriod

TITLE = "Bilan annuel du Programme de Réussite Éducative"


def bilan_report(uow, user, period: ReportPeriod) -> Report:
    with uow:
        require(user, "report.read", session=uow.session)
        programme = uow.session.query(Programme).first()
        return Report("bilan", TITLE, period, programme.name if programme else "", ())
