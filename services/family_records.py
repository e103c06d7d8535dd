"""Entering a family in the window: the household, its guardians and children, a parcours's objectives and actions;
closing the file when the family is no longer followed, or deleting one entered by mistake.

Validation is the import's (services.dataset.fields: the same readers, lengths and French reasons), read field by
field so that a form learns every problem at once (InvalidFields), plus the programme's age rule (2 to 16 years)
which the import only reports as a warning. Every edit takes `based_on`, the `updated_at` the form read
(services.versions), so that a dialog opened on an older read never overwrites a newer edit.

Who. A référent creates a family and becomes its référent; they edit, and close, the files of the families they
follow. The coordination does all of it for every family, chooses or changes the référent, and alone deletes a file
— only one without home sessions, orientations nor EPS studies (statements and EPS minutes refer to those). The
administration never sees a family's details.

Closing. A closed file keeps everything and leaves the référent's list of families. Closing ends what still runs,
as retention expects (services.retention): each running parcours is closed on that date with the closing reason as
its exit reason, and each orientation in force is ended on that date. An orientation still proposed waits for the
coordination's decision: the file cannot be closed before. Retention anonymises the file once its period is over.
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from models import Child, EpsSituation, Family, Guardian, HomeSession, Orientation, Parcours, ParcoursReason, User
from models.enums import MAX_PRECISION, MAX_QPV_NAME, OTHER, SEXES
from services import audit
from services.dataset.fields import MAX_TEXT, RecordReader, printable
from services.errors import ImportRejected, InvalidFields, NotFound, ValidationError
from services.formatting import format_date
from services.permissions import CurrentUser, require
from services.record_fields import (EXIT_REASON, OTHER_LABELS, PRIORITY, QPV_LABEL, REFERRAL_REASON, REFERRAL_SOURCE,
                                    SCHOOL_LEVEL, SUPPORT_PROFILE, ClosedList, FieldProblem, OtherMissing,
                                    ParcoursDetails, qpv_flag, read_code, read_codes, with_other)
from services.retention import is_anonymised
from services.rules import MAX_AGE, MIN_AGE, age_on
from services.uow import UnitOfWork
from services.versions import ensure_current

FAMILY_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O nor 1/I: a code read out on the phone

LABELS = {
    "name": "Nom du foyer", "address": "Adresse", "commune": "Commune", "priority_neighbourhood": "Quartier prioritaire",
    "referent_id": "Référent·e", "notes": "Notes", "relationship": "Lien avec l'enfant", "phone": "Téléphone",
    "first_name": "Prénom", "last_name": "Nom", "birth_date": "Date de naissance", "sex": "Sexe", "school": "École",
    "school_class": "Classe", "objectives": "Objectifs", "actions": "Actions", "closed_on": "Date de clôture",
    "closed_reason": "Motif de clôture", "qpv_name": QPV_LABEL,
    **{closed.field: closed.label for closed in (REFERRAL_SOURCE, REFERRAL_REASON, SUPPORT_PROFILE, EXIT_REASON,
                                                 SCHOOL_LEVEL, PRIORITY)},
    **OTHER_LABELS,
}
GUARDIAN_LABELS = {**LABELS, "name": "Nom"}


# -- what the forms send --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HouseholdInput:
    name: str
    commune: str
    address: str | None = None
    priority_neighbourhood: bool = False
    notes: str | None = None
    referent_id: str | None = None  # chosen by the coordination; a référent's own family is theirs
    qpv_name: str | None = None  # the QPV by name; a name sets priority_neighbourhood


@dataclass(frozen=True)
class GuardianInput:
    name: str
    relationship: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ChildInput:
    first_name: str
    last_name: str
    birth_date: date | None
    sex: str | None = None  # "F", "M" or None
    school: str | None = None
    school_class: str | None = None
    school_level: str | None = None  # models.enums.SCHOOL_LEVELS
    priority_education: str | None = None  # models.enums.PRIORITY_EDUCATION


# -- what they read back ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GuardianRecord:
    id: str
    name: str
    relationship: str | None
    phone: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ChildRecord:
    id: str
    key: str
    first_name: str
    last_name: str
    birth_date: date
    sex: str | None
    school: str | None
    school_class: str | None
    updated_at: datetime
    school_level: str | None = None
    priority_education: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class ParcoursPlan:
    id: str
    key: str
    child_id: str
    status: str
    objectives: str | None
    actions: str | None
    updated_at: datetime
    details: ParcoursDetails = ParcoursDetails()
    exit_reason_code: str | None = None
    exit_reason: str | None = None


@dataclass(frozen=True)
class FamilyRecord:
    id: str
    key: str
    name: str
    address: str | None
    commune: str
    priority_neighbourhood: bool
    referent_id: str | None
    referent_name: str | None
    notes: str | None
    closed_on: date | None
    closed_reason: str | None
    updated_at: datetime
    guardians: tuple[GuardianRecord, ...]
    children: tuple[ChildRecord, ...]
    parcours: tuple[ParcoursPlan, ...]  # every parcours of the children, oldest first
    has_sessions: bool
    qpv_name: str | None = None

    @property
    def closed(self) -> bool:
        return self.closed_on is not None

    def current_parcours(self, child_id: str) -> ParcoursPlan | None:
        mine = [p for p in self.parcours if p.child_id == child_id]
        return mine[-1] if mine else None


@dataclass(frozen=True)
class DeletedFamily:
    key: str
    name: str


# -- reading a form with the import's readers ----------------------------------------------------------------------

class _FormReader(RecordReader):
    """The import's field readers (same checks, same French reasons) over what a form holds. Each refusal is kept
    under its field instead of stopping at the first, and names the field as the form labels it."""

    def __init__(self, section: str, values: dict[str, Any], labels: dict[str, str]):
        super().__init__(section, {**{k: _interchange(v) for k, v in values.items()}, "key": "formulaire"})
        self.labels = labels
        self.problems: dict[str, str] = {}

    def fail(self, field: str, reason: str) -> ImportRejected:
        return ImportRejected(printable(f"{self.labels.get(field, field)} : {reason}."), field=field)

    def read(self, getter, field: str, *args, **kwargs):
        try:
            return getter(field, *args, **kwargs)
        except ImportRejected as exc:
            self.refuse(field, exc.message)
            return None

    def refuse(self, field: str, message: str) -> None:
        self.problems.setdefault(field, message)

    def check(self) -> None:
        if self.problems:
            raise InvalidFields(self.problems)


def _interchange(value: Any) -> Any:
    """A form's value as the interchange file holds it: a date as ISO text."""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, date) else value


def _household(values: HouseholdInput) -> tuple[_FormReader, dict[str, Any]]:
    r = _FormReader("families", {"name": values.name, "address": values.address, "commune": values.commune,
                                 "priority_neighbourhood": values.priority_neighbourhood, "notes": values.notes,
                                 "qpv_name": values.qpv_name}, LABELS)
    read = {"name": r.read(r.text, "name", max_length=200),
            "address": r.read(r.text, "address", required=False, max_length=300),
            "commune": r.read(r.text, "commune", max_length=120),
            "priority_neighbourhood": r.read(r.boolean, "priority_neighbourhood"),
            "qpv_name": r.read(r.text, "qpv_name", required=False, max_length=MAX_QPV_NAME),
            "notes": r.read(r.text, "notes", required=False)}
    read["priority_neighbourhood"] = qpv_flag(read["priority_neighbourhood"], read["qpv_name"])
    return r, read


def _guardian(values: GuardianInput) -> dict[str, Any]:
    r = _FormReader("families", {"name": values.name, "relationship": values.relationship, "phone": values.phone},
                    GUARDIAN_LABELS)
    read = {"name": r.read(r.text, "name", max_length=200),
            "relationship_to_child": r.read(r.text, "relationship", required=False, max_length=60),
            "phone": r.read(r.text, "phone", required=False, max_length=40)}
    r.check()
    return read


def _child(values: ChildInput, today: date, check_age: bool) -> dict[str, Any]:
    r = _FormReader("children", {"first_name": values.first_name, "last_name": values.last_name,
                                 "birth_date": values.birth_date, "sex": values.sex or None, "school": values.school,
                                 "school_class": values.school_class}, LABELS)
    read = {"first_name": r.read(r.text, "first_name", max_length=120),
            "last_name": r.read(r.text, "last_name", max_length=120),
            "birth_date": r.read(r.date, "birth_date"),
            "sex": r.read(r.choice, "sex", SEXES, required=False),
            "school": r.read(r.text, "school", required=False, max_length=200),
            "school_class": r.read(r.text, "school_class", required=False, max_length=40),
            "school_level": _code(r, SCHOOL_LEVEL, values.school_level),
            "priority_education": _code(r, PRIORITY, values.priority_education)}
    born = read["birth_date"]
    if born is not None and born > today:
        r.refuse("birth_date", f"La date de naissance ({format_date(born)}) ne peut pas être dans le futur "
                               f"(nous sommes le {format_date(today)}).")
    elif born is not None and check_age and not MIN_AGE <= age_on(born, today) <= MAX_AGE:
        age = age_on(born, today)
        r.refuse("birth_date", f"{age} an{'s' if age > 1 else ''} au {format_date(today)}, hors de la tranche "
                               f"{MIN_AGE} à {MAX_AGE} ans : le programme suit les enfants de {MIN_AGE} à {MAX_AGE} ans.")
    r.check()
    return read


def _plan_texts(objectives: str | None, actions: str | None) -> dict[str, Any]:
    r = _FormReader("parcours", {"objectives": objectives, "actions": actions}, LABELS)
    read = {"objectives": r.read(r.text, "objectives", required=False),
            "actions": r.read(r.text, "actions", required=False)}
    r.check()
    return read


def _code(r: _FormReader, closed: ClosedList, value: Any, *, many: bool = False):
    """A code (or, `many`, the codes) of a closed list as a form sends it; an unknown one is refused by name."""
    try:
        return read_codes(closed, value) if many else read_code(closed, value)
    except FieldProblem as problem:
        r.refuse(problem.field, f"{closed.label} : {problem.reason}.")
        return () if many else None


def _precision(r: _FormReader, closed: ClosedList, code, text: str | None) -> str | None:
    """The « autre » precision: required with « autre », dropped without it (except the exit reason's comment)."""
    field = closed.other_field
    precision = r.read(r.text, field, required=False, max_length=MAX_TEXT if closed.comment else MAX_PRECISION)
    chosen = OTHER in code if isinstance(code, tuple) else code == OTHER
    try:
        return with_other(closed, chosen, precision)
    except OtherMissing:
        if field not in r.problems:
            r.refuse(field, f"« Autre » est choisi pour « {closed.label} » : précisez-le.")
        return precision


def parcours_details(details: ParcoursDetails) -> dict[str, Any]:
    """The columns of a parcours's referral and support profile, read as the form sends them (InvalidFields)."""
    d = details
    r = _FormReader("parcours", {"referral_source_other": d.referral_source_other,
                                 "referral_reason_other": d.referral_reason_other,
                                 "support_profile_other": d.support_profile_other}, LABELS)
    source = _code(r, REFERRAL_SOURCE, d.referral_source)
    reasons = _code(r, REFERRAL_REASON, d.referral_reasons, many=True)
    profile = _code(r, SUPPORT_PROFILE, d.support_profile)
    read = {"referral_source": source,
            "referral_source_other": _precision(r, REFERRAL_SOURCE, source, d.referral_source_other),
            "reasons": reasons,
            "referral_reason_other": _precision(r, REFERRAL_REASON, reasons, d.referral_reason_other),
            "support_profile": profile,
            "support_profile_other": _precision(r, SUPPORT_PROFILE, profile, d.support_profile_other)}
    r.check()
    return read


def exit_reason(code: str | None, text: str | None) -> tuple[str | None, str | None]:
    """(exit_reason_code, exit_reason) of a closing: a code of the list, or at least a text; « autre » needs the text
    (InvalidFields)."""
    r = _FormReader("parcours", {"exit_reason": text}, LABELS)
    code = _code(r, EXIT_REASON, code)
    text = _precision(r, EXIT_REASON, code, text)
    if code is None and not text and not r.problems:
        r.refuse(EXIT_REASON.other_field, "Indiquez le motif de sortie du parcours.")
    r.check()
    return code, text


def apply_parcours_details(p: Parcours, values: dict[str, Any]) -> list[str]:
    """Set a parcours's referral and support profile (parcours_details' values); the names of those changed."""
    values = dict(values)
    reasons = values.pop("reasons")
    changed = _apply(p, values)
    stored = {r.reason for r in p.reasons}
    if stored != set(reasons):
        # the rows kept stay: a deleted row and a new one of the same key would meet in one flush
        p.reasons = [r for r in p.reasons if r.reason in reasons] + [ParcoursReason(reason=reason) for reason in reasons
                                                                    if reason not in stored]
        changed.append("referral_reasons")
    return changed


def reasons_of(p: Parcours) -> tuple[str, ...]:
    """A parcours's reasons for referral, in the list's order."""
    return tuple(code for code in REFERRAL_REASON.codes if code in {r.reason for r in p.reasons})


# -- helpers ----------------------------------------------------------------------------------------------------------

def _family(uow: UnitOfWork, family_id: str) -> Family:
    family = uow.session.get(Family, family_id) if isinstance(family_id, str) and family_id else None
    if family is None:
        raise NotFound("Cette famille n'existe plus : actualisez la liste.")
    return family


def _open_family(uow: UnitOfWork, user: CurrentUser, operation: str, family_id: str) -> Family:
    """The family, once `user` may run `operation` on it; an anonymised file takes no more entries."""
    family = _family(uow, family_id)
    require(user, operation, family_id=family.id, session=uow.session)
    if is_anonymised(family.key, family.name):
        raise ValidationError("Cette famille a été anonymisée : son dossier est clos, il ne peut plus être modifié.")
    return family


def _referent(uow: UnitOfWork, referent_id: str | None) -> User | None:
    if not referent_id:
        return None
    referent = uow.session.get(User, referent_id)
    if referent is None or not referent.active or referent.role not in ("referent", "coordinator"):
        raise InvalidFields({"referent_id": "Choisissez le ou la référent·e parmi les comptes actifs de référent·e "
                                            "ou de coordination."})
    return referent


def new_family_key(session) -> str:
    """A short code, easy to read out (« F-7KQ2MX »), made without counting: two computers never pick the same."""
    while True:
        key = "F-" + "".join(secrets.choice(FAMILY_CODE_ALPHABET) for _ in range(6))
        if session.scalar(select(Family.id).where(Family.key == key)) is None:
            return key


def new_child_key() -> str:
    return "C-" + uuid.uuid4().hex[:10]


def _apply(record, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; the names of those changed."""
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, values[name])
    return changed


def _record(uow: UnitOfWork, family: Family) -> FamilyRecord:
    s = uow.session
    s.flush()
    s.refresh(family)
    parcours = s.scalars(select(Parcours).join(Child).where(Child.family_id == family.id)
                         .order_by(Parcours.start_date, Parcours.created_at, Parcours.key)).all()
    has_sessions = s.scalar(select(func.count(HomeSession.id)).where(HomeSession.family_id == family.id)) > 0
    return FamilyRecord(
        id=family.id, key=family.key, name=family.name, address=family.address, commune=family.commune,
        priority_neighbourhood=family.priority_neighbourhood, qpv_name=family.qpv_name, referent_id=family.referent_id,
        referent_name=family.referent.name if family.referent else None, notes=family.notes,
        closed_on=family.closed_on, closed_reason=family.closed_reason, updated_at=family.updated_at,
        guardians=tuple(GuardianRecord(g.id, g.name, g.relationship_to_child, g.phone, g.updated_at)
                        for g in family.guardians),
        children=tuple(ChildRecord(c.id, c.key, c.first_name, c.last_name, c.birth_date, c.sex, c.school,
                                   c.school_class, c.updated_at, c.school_level, c.priority_education)
                       for c in family.children),
        parcours=tuple(_plan(p) for p in parcours), has_sessions=has_sessions)


def _plan(p: Parcours) -> ParcoursPlan:
    details = ParcoursDetails(p.referral_source, p.referral_source_other, reasons_of(p),
                              p.referral_reason_other, p.support_profile, p.support_profile_other)
    return ParcoursPlan(p.id, p.key, p.child_id, p.status, p.objectives, p.actions, p.updated_at, details,
                        p.exit_reason_code, p.exit_reason)


def _saved(uow: UnitOfWork, user: CurrentUser, action: str, record_type: str, key: str, changed: list[str],
           family: Family) -> FamilyRecord:
    if changed or action in ("create", "delete"):
        uow.session.flush()
        audit.record(uow.session, user.key, action, record_type, key, changed)
    result = _record(uow, family)
    uow.commit()
    return result


# -- the family ---------------------------------------------------------------------------------------------------------

def family_record(uow: UnitOfWork, user: CurrentUser, family_id: str) -> FamilyRecord:
    """What the forms edit, with the `updated_at` of each record (their `based_on`)."""
    with uow:
        require(user, "family.read", session=uow.session)
        family = _family(uow, family_id)
        require(user, "family.read", family_id=family.id, session=uow.session)
        return _record(uow, family)


def create_family(uow: UnitOfWork, user: CurrentUser, household: HouseholdInput) -> FamilyRecord:
    """A new family; a référent who creates it becomes its référent, the coordination chooses one (or none yet)."""
    with uow:
        require(user, "family.create", session=uow.session)
        r, values = _household(household)
        r.check()
        referent = _referent(uow, user.id if user.is_referent else household.referent_id)
        family = Family(key=new_family_key(uow.session), referent_id=referent.id if referent else None, **values)
        uow.session.add(family)
        changed = [name for name, value in {**values, "referent_id": family.referent_id}.items() if value]
        return _saved(uow, user, "create", "family", family.key, changed, family)


def update_family(uow: UnitOfWork, user: CurrentUser, family_id: str, household: HouseholdInput,
                  based_on: datetime | None) -> FamilyRecord:
    """The household's name, address, commune, QPV flag and notes; the coordination also changes the référent (a
    référent's `referent_id` is ignored: they cannot hand the family over)."""
    with uow:
        require(user, "family.edit", session=uow.session)
        family = _open_family(uow, user, "family.edit", family_id)
        r, values = _household(household)
        r.check()
        ensure_current(family, based_on, "ce foyer")
        if user.is_coordinator:
            referent = _referent(uow, household.referent_id)
            values["referent_id"] = referent.id if referent else None
        changed = _apply(family, values)
        return _saved(uow, user, "update", "family", family.key, changed, family)


def close_family(uow: UnitOfWork, user: CurrentUser, family_id: str, closed_on: date | None, reason: str | None,
                 based_on: datetime | None, *, today: date | None = None,
                 exit_reason_code: str | None = None) -> FamilyRecord:
    """Close the file on `closed_on` for `reason`: running parcours close — with `exit_reason_code`, a code of
    models.enums.EXIT_REASONS, for the reports (`reason` is its precision) —, orientations in force end (see the
    module's docstring). Refused while an orientation waits for the coordination's decision."""
    with uow:
        require(user, "family.close", session=uow.session)
        family = _open_family(uow, user, "family.close", family_id)
        today = today or date.today()
        s = uow.session
        if family.closed_on is not None:
            raise ValidationError(f"Ce dossier est déjà clos (depuis le {format_date(family.closed_on)}).")
        r = _FormReader("families", {"closed_on": closed_on, "closed_reason": reason}, LABELS)
        closed_on = r.read(r.date, "closed_on")
        reason = r.read(r.text, "closed_reason")
        exit_reason_code = _code(r, EXIT_REASON, exit_reason_code)
        if closed_on is not None and closed_on > today:
            r.refuse("closed_on", f"La date de clôture ({format_date(closed_on)}) ne peut pas être dans le futur "
                                  f"(nous sommes le {format_date(today)}).")
        children = [c.id for c in family.children]
        running = s.scalars(select(Parcours).where(Parcours.child_id.in_(children), Parcours.status != "closed")
                            ).all() if children else []
        orientations = s.scalars(select(Orientation).where(Orientation.family_id == family.id)).all()
        if any(o.status == "proposed" for o in orientations):
            raise ValidationError("Une orientation proposée en EPS attend la décision de la coordination : elle doit "
                                  "être validée ou refusée avant que le dossier soit clos.")
        in_force = [o for o in orientations if o.status == "validated"]
        last_session = s.scalar(select(func.max(HomeSession.date)).where(HomeSession.family_id == family.id))
        if closed_on is not None and "closed_on" not in r.problems:
            for day, what in ((last_session, "sa dernière séance à domicile"),
                              (max((p.start_date for p in running if p.start_date), default=None),
                               "le début d'un parcours en cours"),
                              (max((o.decided_on for o in in_force if o.decided_on), default=None),
                               "la validation d'une orientation en cours")):
                if day is not None and closed_on < day:
                    r.refuse("closed_on", f"Le dossier ne peut pas être clos avant {what} ({format_date(day)}).")
                    break
        r.check()
        ensure_current(family, based_on, "ce dossier")
        changed = ["closed_on", "closed_reason"]
        family.closed_on, family.closed_reason = closed_on, reason
        for p in running:
            p.status, p.end_date, p.exit_reason = "closed", closed_on, p.exit_reason or reason
            changed += ["parcours_status", "parcours_end_date", "parcours_exit_reason"]
            if exit_reason_code is not None:
                p.exit_reason_code = exit_reason_code
                changed.append("parcours_exit_reason_code")
        for o in in_force:
            o.status = "ended"
            if o.end_date is None or o.end_date > closed_on:
                o.end_date = closed_on
            changed += ["orientation_status", "orientation_end_date"]
        return _saved(uow, user, "close", "family", family.key, sorted(set(changed)), family)


def delete_family(uow: UnitOfWork, user: CurrentUser, family_id: str, based_on: datetime | None) -> DeletedFamily:
    """Delete a file entered by mistake (coordination): only without home sessions, orientations nor EPS studies."""
    with uow:
        require(user, "family.remove", session=uow.session)
        s = uow.session
        family = _family(uow, family_id)
        if s.scalar(select(func.count(HomeSession.id)).where(HomeSession.family_id == family.id)):
            raise ValidationError("Cette famille a déjà des séances à domicile : son dossier ne peut plus être "
                                  "supprimé (les états mensuels s'y réfèrent). Clore le dossier à la place.")
        if (s.scalar(select(func.count(Orientation.id)).where(Orientation.family_id == family.id))
                or s.scalar(select(func.count(EpsSituation.id)).where(EpsSituation.family_id == family.id))):
            raise ValidationError("Cette famille a été étudiée en EPS ou orientée : son dossier ne peut pas être "
                                  "supprimé. Clore le dossier à la place.")
        ensure_current(family, based_on, "ce dossier")
        children = [c.id for c in family.children]
        if children:
            for p in s.scalars(select(Parcours).where(Parcours.child_id.in_(children))):
                s.delete(p)
        deleted = DeletedFamily(family.key, family.name)
        s.delete(family)  # guardians and children go with it (delete-orphan)
        s.flush()
        audit.record(s, user.key, "delete", "family", deleted.key, [])
        uow.commit()
        return deleted


# -- guardians ------------------------------------------------------------------------------------------------------

def _guardian_of(uow: UnitOfWork, user: CurrentUser, guardian_id: str) -> Guardian:
    guardian = uow.session.get(Guardian, guardian_id) if isinstance(guardian_id, str) and guardian_id else None
    if guardian is None:
        raise NotFound("Ce responsable légal n'existe plus : actualisez la fiche.")
    _open_family(uow, user, "family.edit", guardian.family_id)
    return guardian


def add_guardian(uow: UnitOfWork, user: CurrentUser, family_id: str, guardian: GuardianInput) -> FamilyRecord:
    with uow:
        require(user, "family.edit", session=uow.session)
        family = _open_family(uow, user, "family.edit", family_id)
        values = _guardian(guardian)
        position = max((g.position for g in family.guardians), default=-1) + 1
        family.guardians.append(Guardian(position=position, **values))
        changed = [name for name, value in values.items() if value]
        return _saved(uow, user, "create", "guardian", family.key, changed, family)


def update_guardian(uow: UnitOfWork, user: CurrentUser, guardian_id: str, guardian: GuardianInput,
                    based_on: datetime | None) -> FamilyRecord:
    with uow:
        require(user, "family.edit", session=uow.session)
        record = _guardian_of(uow, user, guardian_id)
        values = _guardian(guardian)
        ensure_current(record, based_on, "ce responsable légal")
        changed = _apply(record, values)
        return _saved(uow, user, "update", "guardian", record.family.key, changed, record.family)


def remove_guardian(uow: UnitOfWork, user: CurrentUser, guardian_id: str,
                    based_on: datetime | None) -> FamilyRecord:
    with uow:
        require(user, "family.edit", session=uow.session)
        record = _guardian_of(uow, user, guardian_id)
        ensure_current(record, based_on, "ce responsable légal")
        family = record.family
        family.guardians.remove(record)  # delete-orphan: the row is deleted
        return _saved(uow, user, "delete", "guardian", family.key, [], family)


# -- children ---------------------------------------------------------------------------------------------------------

def add_child(uow: UnitOfWork, user: CurrentUser, family_id: str, child: ChildInput, *,
              today: date | None = None) -> FamilyRecord:
    """A child of the family, aged 2 to 16 on `today`."""
    with uow:
        require(user, "family.edit", session=uow.session)
        family = _open_family(uow, user, "family.edit", family_id)
        values = _child(child, today or date.today(), check_age=True)
        twin = next((c for c in family.children if c.first_name.casefold() == values["first_name"].casefold()
                     and c.birth_date == values["birth_date"]), None)
        if twin is not None:
            raise InvalidFields({"first_name": f"{twin.first_name} {twin.last_name}, né·e le "
                                               f"{format_date(twin.birth_date)}, est déjà inscrit·e dans ce foyer."})
        record = Child(key=new_child_key(), **values)
        family.children.append(record)
        changed = [name for name, value in values.items() if value]
        return _saved(uow, user, "create", "child", record.key, changed, family)


def update_child(uow: UnitOfWork, user: CurrentUser, child_id: str, child: ChildInput, based_on: datetime | None,
                 *, today: date | None = None) -> FamilyRecord:
    """Correct a child's details; the age rule applies to a changed birth date only (a child followed since the age of
    15 may turn 17 and still have their school corrected)."""
    with uow:
        require(user, "family.edit", session=uow.session)
        record = uow.session.get(Child, child_id) if isinstance(child_id, str) and child_id else None
        if record is None:
            raise NotFound("Cet enfant n'existe plus : actualisez la fiche.")
        family = _open_family(uow, user, "family.edit", record.family_id)
        changes_birth = child.birth_date != record.birth_date
        values = _child(child, today or date.today(), check_age=changes_birth)
        ensure_current(record, based_on, "la fiche de cet enfant")
        changed = _apply(record, values)
        return _saved(uow, user, "update", "child", record.key, changed, family)


# -- a parcours's objectives and actions ------------------------------------------------------------------------------

def update_parcours_plan(uow: UnitOfWork, user: CurrentUser, parcours_id: str, objectives: str | None,
                         actions: str | None, based_on: datetime | None, *,
                         details: ParcoursDetails | None = None) -> ParcoursPlan:
    """The objectives and the planned actions of a parcours not yet closed, and with `details` its referral and
    support profile (None: unchanged). Opening, suspending and closing are in services.parcours."""
    with uow:
        require(user, "parcours.edit", session=uow.session)
        p = _parcours_of(uow, user, parcours_id)
        if p.status == "closed":
            raise ValidationError("Ce parcours est clos : ses objectifs et ses actions ne se modifient plus.")
        values = _plan_texts(objectives, actions)
        read = parcours_details(details) if details is not None else None
        ensure_current(p, based_on, "ce parcours")
        changed = _apply(p, values) + (apply_parcours_details(p, read) if read is not None else [])
        return _parcours_saved(uow, user, p, changed)


def correct_closed_parcours(uow: UnitOfWork, user: CurrentUser, parcours_id: str, details: ParcoursDetails,
                            exit_reason_code: str | None, exit_reason_text: str | None,
                            based_on: datetime | None) -> ParcoursPlan:
    """A closed parcours's referral, support profile and exit reason, completed or corrected for the reports (a
    parcours closed before these lists existed has only its exit text)."""
    with uow:
        require(user, "parcours.edit", session=uow.session)
        p = _parcours_of(uow, user, parcours_id)
        if p.status != "closed":
            raise ValidationError("Ce parcours n'est pas clos : son motif de sortie se renseigne à sa clôture.")
        problems: dict[str, str] = {}
        try:
            read = parcours_details(details)
        except InvalidFields as refused:
            problems.update(refused.problems)
        try:
            code, text = exit_reason(exit_reason_code, exit_reason_text)
        except InvalidFields as refused:
            problems.update(refused.problems)
        if problems:
            raise InvalidFields(problems)
        ensure_current(p, based_on, "ce parcours")
        changed = apply_parcours_details(p, read) + _apply(p, {"exit_reason_code": code, "exit_reason": text})
        return _parcours_saved(uow, user, p, changed)


def _parcours_of(uow: UnitOfWork, user: CurrentUser, parcours_id: str) -> Parcours:
    p = uow.session.get(Parcours, parcours_id) if isinstance(parcours_id, str) and parcours_id else None
    if p is None:
        raise NotFound("Ce parcours n'existe plus : actualisez la fiche.")
    _open_family(uow, user, "parcours.edit", p.child.family_id)
    return p


def _parcours_saved(uow: UnitOfWork, user: CurrentUser, p: Parcours, changed: list[str]) -> ParcoursPlan:
    if changed:
        uow.session.flush()
        audit.record(uow.session, user.key, "update", "parcours", p.key, changed)
    uow.session.flush()
    uow.session.refresh(p)
    plan = _plan(p)
    uow.commit()
    return plan
