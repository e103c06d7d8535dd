"""SQLAlchemy tables of Parcours. No rules here: they live in services/."""
from models.audit import AuditEntry, AuditPurgePermit
from models.base import Base, Cents
from models.devices import Device  # noqa: F401  (the team server's enrolled computers)
from models.conventions import (Action, Convention, Intervenant, IntervenantHistory, Partner, Tariff,
                                TariffAmendment)
from models.eps import EpsMeeting, EpsSituation, Orientation
from models.families import Child, Family, Guardian, Parcours
from models.programme import Programme, User
from models.sessions import HomeSession, Meeting, meeting_attendance
from models.statements import Statement, StatementLine
from models.billing_marks import BillingChangeMark  # noqa: F401  (importing it registers the listeners that mark)

__all__ = [
    "Action", "AuditEntry", "AuditPurgePermit", "Base", "Cents", "Child", "Convention", "EpsMeeting",
    "EpsSituation", "Family", "Guardian",
    "HomeSession", "Intervenant", "IntervenantHistory", "Meeting", "Orientation", "Parcours", "Partner", "Programme", "Statement",
    "StatementLine", "Tariff", "TariffAmendment", "User", "meeting_attendance",
]
