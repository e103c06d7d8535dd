"""The operations a laptop pushes, one per service verb: their names (shared with the laptop's outbox) and how the
server applies each THROUGH THE SERVICE the window calls (same permission checks, rules, audit rows).

An operation names a table's record by its `id` and gives the changed columns as {column: {"base", "value"}}
(services.sync.changes.from_json reads the values). An update is applied on the server's current values with the
operation's fields over them (fields the server changed since, and the operation did not touch, are kept: the
automatic merge); the service's own input is built from those merged columns.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields as dataclass_fields
from datetime import date, datetime

from services import consent, family_records, home_sessions, orientations, parcours, session_exceptions
from services.errors import ValidationError
from services.permissions import CurrentUser
from services.uow import UnitOfWork

CREATE, UPDATE, DELETE = "create", "update", "delete"
AUDIT_APPEND = "audit.append"  # a laptop's audit entry, stored unchanged (not a service verb)


@dataclass(frozen=True)
class Applying:
    """One operation being applied: `values` are the record's columns after the merge (Python values)."""

    uow: UnitOfWork
    user: CurrentUser
    record_id: str
    values: dict
    changed: frozenset[str]  # the columns the operation changes
    based_on: datetime | None  # the server's updated_at the merge was made on: a write in between is refused
    today: date


@dataclass(frozen=True)
class Verb:
    name: str
    table: str
    kind: str  # create | update | delete
    operation: str  # the permission the service checks (for the family, before any server value is shown)
    apply: Callable[[Applying], object]


def _input(kind, values: dict, renames: dict[str, str] | None = None):
    """A service's input dataclass from the merged columns (a field named differently: `renames`)."""
    renames = renames or {}
    given = {f.name: values[renames.get(f.name, f.name)] for f in dataclass_fields(kind)
             if renames.get(f.name, f.name) in values}
    return kind(**given)


def _draft(a: Applying) -> home_sessions.SessionDraft:
    return _input(home_sessions.SessionDraft, a.values)


DECISION_FIELDS = frozenset({"approved_exception", "approved_by_id", "exception_refused", "exception_decided_by_id",
                             "exception_reason"})


def _update_session(a: Applying):
    """A dérogation decided on a laptop is the coordination's decision; any other change is a correction."""
    if a.changed and a.changed <= DECISION_FIELDS:
        if a.values.get("approved_exception"):
            return session_exceptions.approve_exceptions(a.uow, a.user, [a.record_id])
        if a.values.get("exception_refused"):
            return session_exceptions.refuse_exceptions(a.uow, a.user, [a.record_id],
                                                        a.values.get("exception_reason") or "", a.today)
    return home_sessions.update_session(a.uow, a.user, a.record_id, _draft(a), a.today, based_on=a.based_on)


CONSENT_FIELDS = frozenset({"consent_date", "consent_scope"})
CLOSING_FIELDS = frozenset({"closed_on", "closed_reason"})


def _update_family(a: Applying):
    if a.changed <= CONSENT_FIELDS:
        return consent.record_consent(a.uow, a.user, a.values["key"], a.values["consent_date"],
                                      a.values["consent_scope"], today=a.today)
    if a.changed <= CLOSING_FIELDS and a.values.get("closed_on"):
        return family_records.close_family(a.uow, a.user, a.record_id, a.values["closed_on"],
                                           a.values.get("closed_reason"), a.based_on, today=a.today)
    return family_records.update_family(a.uow, a.user, a.record_id, _input(family_records.HouseholdInput, a.values),
                                        a.based_on)


GUARDIAN = {"relationship": "relationship_to_child"}
PLAN_FIELDS = frozenset({"objectives", "actions"})


def _update_parcours(a: Applying):
    status = a.values.get("status")
    if "status" in a.changed and status == "suspended":
        return parcours.suspend_parcours(a.uow, a.user, a.record_id)
    if "status" in a.changed and status == "open":
        return parcours.resume_parcours(a.uow, a.user, a.record_id, a.values.get("start_date"))
    if "status" in a.changed and status == "closed":
        return parcours.close_parcours(a.uow, a.user, a.record_id, a.values.get("end_date"),
                                       a.values.get("exit_reason"), a.values.get("exit_reason_code"))
    return family_records.update_parcours_plan(a.uow, a.user, a.record_id, a.values.get("objectives"),
                                               a.values.get("actions"), a.based_on)


def _update_orientation(a: Applying):
    status = a.values.get("status")
    if "status" in a.changed and status == "validated":
        return orientations.validate_orientation(a.uow, a.user, a.record_id, a.values.get("decided_on"))
    if "status" in a.changed and status == "rejected":
        return orientations.reject_orientation(a.uow, a.user, a.record_id, a.values.get("reason") or "",
                                               a.values.get("decided_on"))
    if "end_date" in a.changed and a.values.get("end_date"):
        return orientations.end_orientation(a.uow, a.user, a.record_id, a.values["end_date"],
                                            a.values.get("reason") or "")
    raise ValidationError("Seule la décision de la coordination (validation, refus, fin) d'une orientation se "
                            "synchronise : refaites cette modification sur le serveur.")


VERBS: tuple[Verb, ...] = (
    Verb("session.record", "home_session", CREATE, "session.record",
         lambda a: home_sessions.record_session(a.uow, a.user, _draft(a), a.today)),
    Verb("session.update", "home_session", UPDATE, "session.update", _update_session),
    Verb("session.delete", "home_session", DELETE, "session.delete",
         lambda a: home_sessions.delete_session(a.uow, a.user, a.record_id, based_on=a.based_on)),
    Verb("family.create", "family", CREATE, "family.create",
         lambda a: family_records.create_family(a.uow, a.user, _input(family_records.HouseholdInput, a.values))),
    Verb("family.update", "family", UPDATE, "family.edit", _update_family),
    Verb("guardian.create", "guardian", CREATE, "family.edit",
         lambda a: family_records.add_guardian(a.uow, a.user, a.values["family_id"],
                                               _input(family_records.GuardianInput, a.values, GUARDIAN))),
    Verb("guardian.update", "guardian", UPDATE, "family.edit",
         lambda a: family_records.update_guardian(a.uow, a.user, a.record_id,
                                                  _input(family_records.GuardianInput, a.values, GUARDIAN),
                                                  a.based_on)),
    Verb("guardian.delete", "guardian", DELETE, "family.edit",
         lambda a: family_records.remove_guardian(a.uow, a.user, a.record_id, a.based_on)),
    Verb("child.create", "child", CREATE, "family.edit",
         lambda a: family_records.add_child(a.uow, a.user, a.values["family_id"],
                                            _input(family_records.ChildInput, a.values), today=a.today)),
    Verb("child.update", "child", UPDATE, "family.edit",
         lambda a: family_records.update_child(a.uow, a.user, a.record_id, _input(family_records.ChildInput, a.values),
                                               a.based_on, today=a.today)),
    Verb("parcours.update", "parcours", UPDATE, "parcours.edit", _update_parcours),
    Verb("orientation.update", "orientation", UPDATE, "orientation.validate", _update_orientation),
)
BY_NAME: dict[str, Verb] = {verb.name: verb for verb in VERBS}

# For the laptop's outbox: the name of the operation a local write of each kind becomes.
TABLE_OPERATIONS: dict[str, dict[str, str]] = {}
for _verb in VERBS:
    TABLE_OPERATIONS.setdefault(_verb.table, {})[_verb.kind] = _verb.name
