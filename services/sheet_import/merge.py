"""A sheet's row merged with the child already in Parcours (same last name, first name and birth date): what is new
is added, nothing filled is overwritten.

    plan_merge(session, child, values, actions, rows, column_of) -> Merge

Added: an empty field of the child, its household or its parcours filled from the sheet (school, class, level,
REP, address, QPV name, référent, a guardian when none is stored; objectives, referral, support profile…), a
referral reason or an action not yet listed, a parcours whose orientation date Parcours does not have. Never
changed: a field already filled with another value — it is listed as « valeur différente, non modifiée », for a
person to decide in the window. A parcours in progress is not closed by a sheet, nor doubled by a second one: a
sheet's exit date or another orientation date for a child whose parcours runs is listed the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from sqlalchemy import select

from models import Child, Guardian, Parcours, ParcoursReason, User
from services.formatting import format_date
from services.sheet_import.columns import fold

RUNNING = ("proposed", "open", "suspended")
CHILD_ATTRIBUTES = ("sex", "school", "school_class", "school_level", "priority_education")
FAMILY_ATTRIBUTES = ("address", "qpv_name")
PARCOURS_ATTRIBUTES = ("objectives", "referral_source", "referral_source_other", "referral_reason_other",
                       "support_profile", "support_profile_other", "exit_reason_code", "exit_reason")
# The value's field for its column (a precision or a QPV name is read from its coded column).
SOURCE_FIELD = {"qpv_name": "priority_neighbourhood", "exit_reason_code": "exit_reason",
                "referral_source_other": "referral_source", "referral_reason_other": "referral_reasons",
                "support_profile_other": "support_profile", "orientation_date": "orientation_date"}
PARCOURS_VALUES = ("orientation_date", "end_date", "objectives", "referent", "referral_source", "referral_reasons",
                   "support_profile", "exit_reason_code", "exit_reason")


@dataclass(frozen=True)
class Difference:
    row: int
    column: str | None
    stored: str
    sheet: str

    def text(self) -> str:
        where = f"ligne {self.row}" + (f", colonne {self.column}" if self.column else "")
        return (f"{where} : valeur différente, non modifiée (dans Parcours : « {self.stored} » ; dans la feuille : "
                f"« {self.sheet} »)")


@dataclass
class Merge:
    changes: list[tuple[object, str, object]] = field(default_factory=list)  # (record, attribute, value)
    added: list[str] = field(default_factory=list)  # what the report says was added, in French
    differences: list[Difference] = field(default_factory=list)
    new_parcours: bool = False  # the row's parcours is created (through the dataset, like a new child's)
    reasons: list[tuple[Parcours, str]] = field(default_factory=list)

    def apply(self) -> dict[object, set[str]]:
        """Write the changes; the records changed with their attributes, for the audit."""
        changed: dict[object, set[str]] = {}
        for record, attribute, value in self.changes:
            if attribute == "guardians":
                record.guardians.append(value)
            else:
                setattr(record, attribute, value)
            changed.setdefault(record, set()).add(attribute)
        for parcours, reason in self.reasons:
            parcours.reasons.append(ParcoursReason(reason=reason))
            changed.setdefault(parcours, set()).add("reasons")
        return changed


def _shown(value) -> str:
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def _same(a, b) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return fold(a) == fold(b)
    return a == b


def plan_merge(session, child: Child, values: dict, actions: list[str], row: int,
               column_of: Callable[[str], str | None]) -> Merge:
    """What merging the row's `values` (the sheet's fields, checked and coded) into `child` adds and leaves."""
    merge = Merge()

    def fill(record, attribute: str, name: str, label: str, ours=None):
        ours = values.get(name) if ours is None else ours
        if ours is None or ours == []:
            return
        theirs = getattr(record, attribute)
        if theirs is None or theirs == "":
            merge.changes.append((record, attribute, ours))
            merge.added.append(label)
        elif not _same(theirs, ours):
            merge.differences.append(Difference(row, column_of(SOURCE_FIELD.get(name, name)), _shown(theirs),
                                                _shown(ours)))

    for name in CHILD_ATTRIBUTES:
        if name == "school_level" and values.get("level_from_class") and child.school_class and not _same(
                child.school_class, values.get("school_class")):
            continue  # read from a class that Parcours has otherwise: said once, for the class
        fill(child, name, name, _LABELS[name])
    family = child.family
    if values.get("commune") and not _same(family.commune, values["commune"]):
        merge.differences.append(Difference(row, column_of("commune"), family.commune, values["commune"]))
    fill(family, "address", "address", "adresse")
    if values.get("priority_neighbourhood") is not None:
        if values["priority_neighbourhood"] != family.priority_neighbourhood:
            merge.differences.append(Difference(row, column_of("priority_neighbourhood"),
                                                "en QPV" if family.priority_neighbourhood else "hors QPV",
                                                "en QPV" if values["priority_neighbourhood"] else "hors QPV"))
        else:
            fill(family, "qpv_name", "qpv_name", "quartier (QPV)")
    if values.get("referent"):
        stored = family.referent.key if family.referent else None
        if stored is None:
            merge.changes.append((family, "referent", _user(session, values["referent"])))
            merge.added.append("référent·e du foyer")
        elif stored != values["referent"]:
            merge.differences.append(Difference(row, column_of("referent"), stored, values["referent"]))
    if values.get("guardian") and not family.guardians:
        merge.changes.append((family, "guardians", Guardian(position=0, name=values["guardian"],
                                                            phone=values.get("phone"))))
        merge.added.append("responsable légal")
    if actions or any(values.get(n) for n in PARCOURS_VALUES):
        _merge_parcours(session, merge, child, values, actions, row, column_of, fill)
    return merge


def _merge_parcours(session, merge: Merge, child: Child, values: dict, actions: list[str], row: int, column_of,
                    fill) -> None:
    stored = list(session.scalars(select(Parcours).where(Parcours.child_id == child.id)
                                  .order_by(Parcours.start_date)))
    start = values.get("orientation_date")
    target = next((p for p in stored if p.start_date == start), None) if start else (stored[-1] if stored else None)
    running = next((p for p in stored if p.status in RUNNING), None)
    if target is None:
        if running is not None:  # another orientation date while a parcours runs: the same one, typed otherwise?
            merge.differences.append(Difference(row, column_of("orientation_date"),
                                                f"parcours en cours depuis le {_shown(running.start_date)}"
                                                if running.start_date else "parcours en cours", _shown(start)))
            return
        merge.new_parcours = True
        merge.added.append(f"parcours du {format_date(start)}" if start else "parcours")
        return
    for name in PARCOURS_ATTRIBUTES:
        if name == "exit_reason_code" or name == "exit_reason":
            if target.status in RUNNING:
                continue  # said below with the exit date
        fill(target, name, name, _LABELS[name])
    end = values.get("end_date")
    if end is not None and target.end_date != end:
        merge.differences.append(Difference(row, column_of("end_date"), _shown(target.end_date) if target.end_date
                                            else "parcours en cours (à clôturer dans la fenêtre)", _shown(end)))
    if values.get("referent"):
        theirs = target.referent.key if target.referent else None
        if theirs is None:
            merge.changes.append((target, "referent", _user(session, values["referent"])))
            merge.added.append("référent·e du parcours")
    have = {r.reason for r in target.reasons}
    for reason in values.get("referral_reasons", ()):
        if reason not in have:
            merge.reasons.append((target, reason))
            have.add(reason)
            merge.added.append("motif d'orientation")
    listed = [line for line in (target.actions or "").splitlines() if line.strip()]
    new = [a for a in actions if fold(a) not in {fold(line) for line in listed}]
    if new:
        merge.changes.append((target, "actions", "\n".join([*listed, *new])))
        merge.added.append("action" + ("s" if len(new) > 1 else "") + " " + ", ".join(new))


def _user(session, key: str) -> User:
    return session.scalars(select(User).where(User.key == key)).one()


_LABELS = {"sex": "sexe", "school": "école", "school_class": "classe", "school_level": "niveau scolaire",
           "priority_education": "REP / REP+", "objectives": "objectifs", "referral_source": "orienté par",
           "referral_source_other": "précision de l'orientation", "referral_reason_other": "précision des motifs",
           "support_profile": "profil d'accompagnement", "support_profile_other": "précision du profil",
           "exit_reason_code": "motif de sortie", "exit_reason": "précision du motif de sortie"}
