"""The operations a laptop pushes, one per service verb: their names (shared with the laptop's outbox) and how the
server applies each THROUGH THE SERVICE the window calls (same permission checks, rules, audit rows).

An operation names a table's record by its `id` and gives the changed columns as {column: {"base", "value"}}
(services.sync.changes.from_json reads the values). An update is applied on the server's current values with the
operation's fields over them (fields the server changed since, and the operation did not touch, are kept: the
automatic merge); the service's own input is built from those merged columns.

A child table without records of its own travels as ONE FIELD of its parent (CHILD_FIELDS): a parcours' referral
reasons (`parcours_reason`, several rows per parcours) are the parcours' field « referral_reasons », the sorted list
of codes; a meeting's attendance (`meeting_attendance`) its field « intervenant_ids ». Sent row by row, two people
each adding a reason offline would be two creations that merge silently, and a removal on one side and a re-addition
on the other could never be told apart; as one field, the list follows the conflict rule of any field: an edit made
on a list the server still holds is applied whole, a list the server changed meanwhile to something else is a
conflict shown to a person (base, local and server lists). The server reads the current value with `ChildField.read`
and checks the sent one with `ChildField.wire`; a pull carries it in the parent's row
(services.sync.changes.child_fields_json) and the laptop writes it back with services.sync.local.write_child_fields.

What travels and through which service (the same permission as the window's):
  * sessions: recorded, corrected (a dérogation decided: the coordination's decision), deleted;
  * families, guardians, children: created, edited (consent, closing), a guardian removed, a file entered by
    mistake deleted (delete_family: one operation, the file goes with it);
  * parcours: opened (open_parcours, with its referral details and reasons), suspended, resumed, closed, its plan
    (objectives, actions) and its referral details (source, reasons, profile) edited — on a closed parcours the
    correction of its details and exit reason (correct_closed_parcours);
  * EPS: a meeting created (create_eps_meeting), a family's situation added (add_situation) and its recommendation
    written (record_recommendation), an orientation proposed (propose_orientation, found by the family's situation
    at the meeting of its EPS date) and decided;
  * meetings (`meeting`, `meeting_attendance`) are written by the dataset import only: the server refuses a
    laptop's meeting with its reason (import it on the server).
A change a verb cannot carry (a column no service edits, a parcours created closed) is refused with a French reason,
never applied in part: the laptop keeps it for correction.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields as dataclass_fields
from datetime import date, datetime

from sqlalchemy import select

from services import consent, family_records, home_sessions, orientations, parcours, session_exceptions
from services.errors import NotFound, ValidationError
from services.record_fields import ParcoursDetails
from services.permissions import CurrentUser, require
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
DETAIL_FIELDS = frozenset({"referral_source", "referral_source_other", "referral_reasons", "referral_reason_other",
                           "support_profile", "support_profile_other"})
EXIT_FIELDS = frozenset({"exit_reason_code", "exit_reason"})
STATUS_FIELDS = {"suspended": frozenset({"status"}), "open": frozenset({"status", "start_date"}),
                 "closed": frozenset({"status", "end_date"}) | EXIT_FIELDS}
DERIVED = frozenset({"referent_id"})  # set by the service from the family's référent, never by the operation


@dataclass(frozen=True)
class ChildField:
    """A child table sent as one field of its parent: the sorted values of `attribute` in the `relationship`."""

    relationship: str
    attribute: str

    def read(self, record) -> list:
        return sorted(getattr(child, self.attribute) for child in getattr(record, self.relationship))

    def wire(self, value) -> list:
        """The operation's value read: a list of texts, sorted (ValueError otherwise)."""
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(value)
        return sorted(value)

    def link(self, parent_model):
        """(table, its column naming the parent, its column holding the value) of the rows behind `relationship`:
        the child table itself (parcours_reason), or the association table of a many-to-many (meeting_attendance)."""
        relationship = getattr(parent_model, self.relationship).property
        value = relationship.mapper.columns[self.attribute]
        if relationship.secondary is None:
            [(_parent_id, parent_column)] = relationship.local_remote_pairs
            return parent_column.table, parent_column, value
        [parent_column] = [remote for local, remote in relationship.local_remote_pairs
                           if local.table is parent_model.__table__]
        [value_column] = [remote for local, remote in relationship.local_remote_pairs if local is value]
        return relationship.secondary, parent_column, value_column

    def before(self, state) -> list | None:
        """The value before the pending flush (None: the collection did not change), from the ORM's history."""
        history = state.attrs[self.relationship].history
        if not (history.added or history.deleted):
            return None
        return sorted(getattr(child, self.attribute) for child in (*history.unchanged, *history.deleted))


CHILD_FIELDS: dict[str, dict[str, ChildField]] = {
    "parcours": {"referral_reasons": ChildField("reasons", "reason")},
    # who attended a meeting (billed meetings): received by the coordination's and the administration's copies
    "meeting": {"intervenant_ids": ChildField("intervenants", "id")},
}


# The fields a refusal names that the family file's labels do not (services.family_records.LABELS).
FIELD_NAMES = {"start_date": "Date de début", "end_date": "Date de fin", "status": "Statut", "child_id": "Enfant",
               "family_id": "Famille", "eps_meeting_id": "Séance d'EPS", "key": "Code"}


def _not_carried(what: str, fields) -> ValidationError:
    names = ", ".join(sorted(f"« {FIELD_NAMES.get(name) or family_records.LABELS.get(name) or name} »"
                             for name in fields))
    return ValidationError(f"Cette modification {what} ne se synchronise pas ({names}) : refaites-la sur le "
                           "serveur ; rien n'en a été enregistré.")


def _details(values: dict) -> ParcoursDetails:
    return ParcoursDetails(values.get("referral_source"), values.get("referral_source_other"),
                           tuple(values.get("referral_reasons") or ()), values.get("referral_reason_other"),
                           values.get("support_profile"), values.get("support_profile_other"))


def _update_parcours(a: Applying):
    """A status change goes through its verb (and carries only what that verb sets); otherwise the plan and the
    referral details, or on a closed parcours the correction of its details and exit reason."""
    status = a.values.get("status")
    changed = a.changed - DERIVED
    if "status" in changed:
        if changed - STATUS_FIELDS.get(status, frozenset({"status"})):
            raise _not_carried("du parcours faite avec son changement d'état",
                               changed - STATUS_FIELDS.get(status, frozenset()))
        if status == "suspended":
            return parcours.suspend_parcours(a.uow, a.user, a.record_id)
        if status == "open":
            return parcours.resume_parcours(a.uow, a.user, a.record_id, a.values.get("start_date"))
        if status == "closed":
            return parcours.close_parcours(a.uow, a.user, a.record_id, a.values.get("end_date"),
                                           a.values.get("exit_reason"), a.values.get("exit_reason_code"))
        raise _not_carried("de l'état du parcours", {"status"})
    details = _details(a.values) if changed & DETAIL_FIELDS else None
    if status == "closed":
        if changed - DETAIL_FIELDS - EXIT_FIELDS:
            raise _not_carried("d'un parcours clos", changed - DETAIL_FIELDS - EXIT_FIELDS)
        return family_records.correct_closed_parcours(a.uow, a.user, a.record_id, details or _details(a.values),
                                                      a.values.get("exit_reason_code"), a.values.get("exit_reason"),
                                                      a.based_on)
    if changed - PLAN_FIELDS - DETAIL_FIELDS:
        raise _not_carried("du parcours", changed - PLAN_FIELDS - DETAIL_FIELDS)
    return family_records.update_parcours_plan(a.uow, a.user, a.record_id, a.values.get("objectives"),
                                               a.values.get("actions"), a.based_on, details=details)


def _open_parcours(a: Applying):
    """A parcours opened on a laptop: open_parcours, with its referral details; one made otherwise (an import of a
    closed parcours) is not a verb of the window."""
    v = a.values
    if v.get("status") != "open" or any(v.get(name) for name in ("end_date", "actions", *EXIT_FIELDS)):
        raise ValidationError("Seul un parcours ouvert (en cours, sans fin ni actions) se crée depuis un poste "
                              "connecté : créez celui-ci sur le serveur ; rien n'en a été enregistré.")
    return parcours.open_parcours(a.uow, a.user, v.get("child_id"), v.get("start_date"), v.get("objectives"),
                                  details=_details(v))


def _propose_orientation(a: Applying):
    """The EPS's proposal: the family's situation at the meeting of the orientation's EPS date."""
    from models import EpsMeeting, EpsSituation

    v = a.values
    if v.get("status") != "proposed":
        raise ValidationError("Une orientation se crée proposée par l'EPS, puis se décide : créez celle-ci sur le "
                              "serveur ; rien n'en a été enregistré.")
    with a.uow:
        require(a.user, "eps.manage", session=a.uow.session)  # the refusal of the window before any lookup
        situation_id = a.uow.session.scalar(
            select(EpsSituation.id).join(EpsMeeting, EpsMeeting.id == EpsSituation.eps_meeting_id)
            .where(EpsSituation.family_id == v.get("family_id"), EpsMeeting.date == v.get("eps_date"))
            .order_by(EpsSituation.id).limit(1))
    if situation_id is None:
        raise NotFound("La situation de cette famille à la séance d'EPS de cette orientation n'est pas sur le "
                       "serveur : cette orientation est refusée ; une fois la situation reçue par le serveur, "
                       "abandonnez ce refus et proposez l'orientation à nouveau.")
    return orientations.propose_orientation(a.uow, a.user, situation_id, v.get("convention_id"))


def _part_of_a_file(a: Applying):
    """A child's or a parcours' deletion only comes with its family's (delete_family, which the outbox sends alone:
    it takes the file along); alone, the window never does it."""
    raise ValidationError("Un enfant ou un parcours ne se supprime qu'avec le dossier de sa famille, et ce dossier "
                          "est toujours sur le serveur : rien n'a été supprimé ; clôturez plutôt le parcours.")


def _update_situation(a: Applying):
    if a.changed - {"recommendation"}:
        raise _not_carried("de la situation étudiée en EPS", a.changed - {"recommendation"})
    return orientations.record_recommendation(a.uow, a.user, a.record_id, a.values.get("recommendation") or "")


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
    Verb("family.delete", "family", DELETE, "family.remove",
         lambda a: family_records.delete_family(a.uow, a.user, a.record_id, a.based_on)),
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
    Verb("child.delete", "child", DELETE, "family.remove", _part_of_a_file),
    Verb("parcours.create", "parcours", CREATE, "parcours.change", _open_parcours),
    Verb("parcours.delete", "parcours", DELETE, "family.remove", _part_of_a_file),
    Verb("parcours.update", "parcours", UPDATE, "parcours.edit", _update_parcours),
    Verb("orientation.create", "orientation", CREATE, "eps.manage", _propose_orientation),
    Verb("orientation.update", "orientation", UPDATE, "orientation.validate", _update_orientation),
    Verb("eps_meeting.create", "eps_meeting", CREATE, "eps.manage",
         lambda a: orientations.create_eps_meeting(a.uow, a.user, a.values.get("date"), a.values.get("notes"))),
    Verb("eps_situation.create", "eps_situation", CREATE, "eps.manage",
         lambda a: orientations.add_situation(a.uow, a.user, a.values.get("eps_meeting_id"),
                                              a.values.get("family_id"), a.values.get("recommendation"))),
    Verb("eps_situation.update", "eps_situation", UPDATE, "eps.manage", _update_situation),
)
BY_NAME: dict[str, Verb] = {verb.name: verb for verb in VERBS}

# For the laptop's outbox: the name of the operation a local write of each kind becomes.
TABLE_OPERATIONS: dict[str, dict[str, str]] = {}
for _verb in VERBS:
    TABLE_OPERATIONS.setdefault(_verb.table, {})[_verb.kind] = _verb.name
