"""The closed lists the reports count (issue 13) and how a code and its « autre (préciser) » text are read.

One rule for the window's forms and the interchange file: an unknown code is refused naming its field; « autre »
needs its precision; a precision given with another code is dropped (the form may still hold what was typed before
the choice changed). The exit reason is the exception: its text (`exit_reason`, free text since the first version)
is a comment kept with any code, and the precision that « autre » requires.

Each refusal is a reason without its field's name nor a full stop; the caller names the field its own way (the form
by its label, the import by the record and key).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from models.enums import (EXIT_REASON_LABELS, EXIT_REASONS, MAX_PRECISION, MAX_QPV_NAME, OTHER, PRIORITY_EDUCATION,
                          PRIORITY_EDUCATION_LABELS, REFERRAL_REASON_LABELS, REFERRAL_REASONS, REFERRAL_SOURCE_LABELS,
                          REFERRAL_SOURCES, SCHOOL_LEVEL_LABELS, SCHOOL_LEVELS, SUPPORT_PROFILE_LABELS,
                          SUPPORT_PROFILES)
from services.text_rules import visible


@dataclass(frozen=True)
class ClosedList:
    field: str  # the column, and the key of the interchange file
    label: str  # the field as the window names it
    codes: tuple[str, ...]
    labels: dict[str, str]
    other_field: str | None = None  # the precision of « autre »
    comment: bool = False  # the precision is also a comment kept with any code (the exit reason)

    def label_of(self, code: str | None) -> str:
        return self.labels.get(code, code or "")


REFERRAL_SOURCE = ClosedList("referral_source", "Orienté·e par", REFERRAL_SOURCES, REFERRAL_SOURCE_LABELS,
                             "referral_source_other")
REFERRAL_REASON = ClosedList("referral_reasons", "Motifs d'orientation", REFERRAL_REASONS, REFERRAL_REASON_LABELS,
                             "referral_reason_other")
SUPPORT_PROFILE = ClosedList("support_profile", "Profil d'accompagnement", SUPPORT_PROFILES, SUPPORT_PROFILE_LABELS,
                             "support_profile_other")
EXIT_REASON = ClosedList("exit_reason_code", "Motif de sortie", EXIT_REASONS, EXIT_REASON_LABELS, "exit_reason",
                         comment=True)
SCHOOL_LEVEL = ClosedList("school_level", "Niveau scolaire", SCHOOL_LEVELS, SCHOOL_LEVEL_LABELS)
PRIORITY = ClosedList("priority_education", "Éducation prioritaire", PRIORITY_EDUCATION, PRIORITY_EDUCATION_LABELS)
OTHER_LABELS = {REFERRAL_SOURCE.other_field: "Précision (orienté·e par)",
                REFERRAL_REASON.other_field: "Précision (motifs)",
                SUPPORT_PROFILE.other_field: "Précision (profil)",
                EXIT_REASON.other_field: "Précision ou commentaire (sortie)"}
QPV_LABEL = "Nom du QPV"  # the field as the household form labels it


@dataclass(frozen=True)
class ParcoursDetails:
    """What a parcours records for the reports: who referred the child and why, and the support profile."""
    referral_source: str | None = None
    referral_source_other: str | None = None
    referral_reasons: tuple[str, ...] = ()
    referral_reason_other: str | None = None
    support_profile: str | None = None
    support_profile_other: str | None = None


class FieldProblem(Exception):
    """A refused field: `field` and `reason` (lower case, no full stop), for the caller to phrase."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


class OtherMissing(FieldProblem):
    """« autre » chosen without its precision (`field` is the precision's)."""


def unknown_code_reason(closed: ClosedList, value: object) -> str:
    # shown escaped: a control or bidi character would garble the message (as services.dataset.fields.printable)
    text = value[:40].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00") \
        if isinstance(value, str) else None
    shown = f"« {visible(text)} »" if text is not None else "une valeur qui n'est pas un texte"
    return f"valeur inconnue {shown} (valeurs possibles : {', '.join(closed.codes)})"


def read_code(closed: ClosedList, value: object) -> str | None:
    """The code, None for none (absent or empty); FieldProblem if it is not one of the list."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in closed.codes:
        raise FieldProblem(closed.field, unknown_code_reason(closed, value))
    return value


def read_codes(closed: ClosedList, values: object) -> tuple[str, ...]:
    """Several codes of the list, each once, in the list's order; FieldProblem for anything else."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise FieldProblem(closed.field, "une liste de valeurs est attendue")
    chosen = set()
    for value in values:
        if not isinstance(value, str) or value not in closed.codes:
            raise FieldProblem(closed.field, unknown_code_reason(closed, value))
        chosen.add(value)
    return tuple(code for code in closed.codes if code in chosen)


def with_other(closed: ClosedList, chosen: bool, precision: str | None) -> str | None:
    """The precision kept beside the code(s): required when « autre » is `chosen`, dropped otherwise (kept as a
    comment for the exit reason). `precision` is already cleaned (trimmed, checked text) or None."""
    if chosen and not precision:
        raise OtherMissing(closed.other_field,
                           f"la précision est obligatoire quand « {closed.field} » contient « {OTHER} »")
    return precision if chosen or closed.comment else None


def qpv_flag(priority_neighbourhood: bool, qpv_name: str | None) -> bool:
    """A family named in a QPV lives in a priority neighbourhood."""
    return bool(priority_neighbourhood or qpv_name)


__all__ = ["ClosedList", "EXIT_REASON", "FieldProblem", "MAX_PRECISION", "MAX_QPV_NAME", "OTHER", "OTHER_LABELS",
           "OtherMissing", "PRIORITY", "ParcoursDetails", "QPV_LABEL", "REFERRAL_REASON", "REFERRAL_SOURCE", "SCHOOL_LEVEL",
           "SUPPORT_PROFILE", "qpv_flag", "read_code", "read_codes", "with_other"]
