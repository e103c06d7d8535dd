"""The parents' prior agreement (consentement) that the PRE needs before following a family.

A family has consented when both the date and the scope (what they agreed to) are recorded. Anonymised families
(see services.retention) are no longer followed: they are neither listed nor can they receive a consent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, literal, or_, select

from models import Family, User
from services import audit
from services.date_bounds import require_plausible
from services.errors import ValidationError
from services.families import family_by_key
from services.formatting import format_date
from services.permissions import CurrentUser, require, scope_families
from services.retention import ANONYMISED_NAME_PREFIX, is_anonymised
from services.uow import UnitOfWork

MAX_SCOPE_LENGTH = 300  # models.Family.consent_scope


@dataclass(frozen=True)
class FamilyWithoutConsent:
    id: str
    key: str
    name: str
    referent_name: str | None


@dataclass(frozen=True)
class ConsentRecord:
    family_key: str
    consent_date: date
    consent_scope: str


def families_without_consent(uow: UnitOfWork, user: CurrentUser) -> tuple[FamilyWithoutConsent, ...]:
    """Families whose consent date or scope is missing, by name; a référent sees only the families they follow."""
    with uow:
        require(user, "family.list", session=uow.session)
        query = scope_families(
            select(Family.id, Family.key, Family.name, User.name)
            .outerjoin(User, User.id == Family.referent_id)
            .where(or_(Family.consent_date.is_(None), Family.consent_scope.is_(None),
                       func.trim(Family.consent_scope) == ""),
                   Family.name != literal(ANONYMISED_NAME_PREFIX) + Family.key)
            .order_by(Family.name, Family.key), user)
        return tuple(FamilyWithoutConsent(*row) for row in uow.session.execute(query))


def check_consent(consent_date, scope, today: date) -> tuple[date, str]:
    """The date and the stripped scope, or ValidationError with a French message naming the field."""
    if consent_date is None:
        raise ValidationError("Indiquez la date à laquelle la famille a donné son accord.", field="consent_date")
    if isinstance(consent_date, datetime):
        consent_date = consent_date.date()
    if not isinstance(consent_date, date):
        raise ValidationError("La date du consentement n'est pas une date valide.", field="consent_date")
    require_plausible(consent_date, "consent_date", "La date du consentement")
    if consent_date > today:
        raise ValidationError(f"La date du consentement ({format_date(consent_date)}) ne peut pas être dans le futur "
                              f"(nous sommes le {format_date(today)}).", field="consent_date")
    if scope is not None and not isinstance(scope, str):
        raise ValidationError("L'objet du consentement doit être un texte.", field="consent_scope")
    scope = (scope or "").strip()
    if not scope:
        raise ValidationError("Précisez ce à quoi la famille a consenti (objet du consentement).",
                              field="consent_scope")
    if len(scope) > MAX_SCOPE_LENGTH:
        raise ValidationError(f"L'objet du consentement ne peut pas dépasser {MAX_SCOPE_LENGTH} caractères "
                              f"({len(scope)} saisis).", field="consent_scope")
    if not _storable(scope):
        raise ValidationError("L'objet du consentement contient un caractère invalide (caractère de contrôle).",
                              field="consent_scope")
    return consent_date, scope


def _storable(text: str) -> bool:
    """No control character but tab and line breaks, no lone surrogate (which UTF-8 cannot store)."""
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def record_consent(uow: UnitOfWork, user: CurrentUser, family_key: str, consent_date: date, scope: str, *,
                   today: date | None = None) -> ConsentRecord:
    """Record (or replace) the family's consent: date not in the future, scope of 1 to 300 characters."""
    with uow:
        require(user, "consent.record", session=uow.session)
        consent_date, scope = check_consent(consent_date, scope, today or date.today())
        s = uow.session
        family = family_by_key(s, family_key)
        require(user, "consent.record", family_id=family.id, session=s)
        if is_anonymised(family.key, family.name):
            raise ValidationError("Cette famille a été anonymisée : son dossier est clos, aucun consentement ne peut "
                                  "y être enregistré.", field="family")
        changed = [name for name, value in (("consent_date", consent_date), ("consent_scope", scope))
                   if getattr(family, name) != value]
        family.consent_date, family.consent_scope = consent_date, scope
        if changed:
            audit.record(s, user.key, "record_consent", "family", family.key, changed)
        uow.commit()
        return ConsentRecord(family.key, consent_date, scope)
