"""SQLAlchemy tables of Parcours. No rules here: they live in services/.

The mapped classes are loaded on first use (PEP 562 `__getattr__`): `from models import Family` loads every model
module at once — the relationships name each other, and importing models.billing_marks registers the listeners
that mark — while `models.db`, `models.enums`, `models.base` or `models.chain` alone load none of them. The
window's start reaches its login without them (services.users, services.permissions and services.directory read
`app_user` through SQLAlchemy Core until someone logs in): mapping the 30 tables costs more than a tenth of the
start. A mapper configured before any `from models import …` (a model submodule imported on its own) loads the
rest first, so the set of mapped classes is always whole."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Mapper

if TYPE_CHECKING:
    from models.audit import AuditEntry, AuditPurgePermit
    from models.base import Base, Cents
    from models.billing_marks import BillingChangeMark
    from models.conventions import (Action, Convention, Intervenant, IntervenantHistory, Partner, Tariff,
                                    TariffAmendment)
    from models.devices import Device
    from models.sync import (SyncApplied, SyncAudit, SyncChange, SyncClock, SyncConflict, SyncOutbox, SyncScope,
                             SyncState)
    from models.eps import EpsMeeting, EpsSituation, Orientation
    from models.families import Child, Family, Guardian, Parcours, ParcoursReason
    from models.programme import Programme, User
    from models.sessions import HomeSession, Meeting, meeting_attendance
    from models.statements import Statement, StatementLine

# Where each name lives, in the order the modules were always imported (billing_marks last: it needs the others).
_SOURCES: dict[str, tuple[str, ...]] = {
    "models.audit": ("AuditEntry", "AuditPurgePermit"),
    "models.base": ("Base", "Cents"),
    "models.devices": ("Device",),  # the team server's enrolled computers
    "models.sync": ("SyncApplied", "SyncAudit", "SyncChange", "SyncClock", "SyncConflict", "SyncOutbox",
                    "SyncScope", "SyncState"),  # laptops and team server converging (issue 11)
    "models.conventions": ("Action", "Convention", "Intervenant", "IntervenantHistory", "Partner", "Tariff",
                           "TariffAmendment"),
    "models.eps": ("EpsMeeting", "EpsSituation", "Orientation"),
    "models.families": ("Child", "Family", "Guardian", "Parcours", "ParcoursReason"),
    "models.programme": ("Programme", "User"),
    "models.sessions": ("HomeSession", "Meeting", "meeting_attendance"),
    "models.statements": ("Statement", "StatementLine"),
    "models.billing_marks": ("BillingChangeMark",),  # importing it registers the listeners that mark
}
_LAZY = {name for names in _SOURCES.values() for name in names}

__all__ = [
    "Action", "AuditEntry", "AuditPurgePermit", "Base", "Cents", "Child", "Convention", "EpsMeeting",
    "EpsSituation", "Family", "Guardian",
    "HomeSession", "Intervenant", "IntervenantHistory", "Meeting", "Orientation", "Parcours", "ParcoursReason", "Partner", "Programme", "Statement",
    "StatementLine", "Tariff", "TariffAmendment", "User", "meeting_attendance",
]


def load_all() -> None:
    """Import every model module and bind its names here (idempotent; what any first `from models import X` does)."""
    namespace = globals()
    if namespace.get("_loaded"):
        return
    for module_name, names in _SOURCES.items():
        module = importlib.import_module(module_name)
        for name in names:
            namespace[name] = getattr(module, name)
    namespace["_loaded"] = True


def __getattr__(name: str):
    if name in _LAZY:
        load_all()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


@event.listens_for(Mapper, "before_configured")
def _whole_before_configuring() -> None:
    """A model submodule imported on its own (`from models.billing_marks import …`) maps only some tables: the
    others, which its relationships may name, are loaded before the mappers are configured."""
    load_all()
