"""The programme itself: its name and city (printed on every statement) and the school-holiday zone that decides
which sessions need a dérogation. A new database has none: the administrator fills it in before the first
statement; everything else works without it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from models import Programme
from models.enums import HOLIDAY_ZONES, MAX_QPV_NAME
from services import audit
from services.dataset.fields import clean_text
from services.errors import InvalidFields
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork
from services.versions import ensure_current

ZONE_LABELS = {"A": "Zone A (Besançon, Bordeaux, Clermont, Dijon, Grenoble, Limoges, Lyon, Poitiers…)",
               "B": "Zone B (Aix-Marseille, Amiens, Lille, Nancy-Metz, Nantes, Nice, Normandie, Reims, Rennes…)",
               "C": "Zone C (Créteil, Montpellier, Paris, Toulouse, Versailles)"}
MISSING = ("Le programme n'est pas encore renseigné (nom, ville, zone de vacances scolaires) : l'administration "
           "le fait dans la page Conventions, bouton « Programme… ».")


@dataclass(frozen=True)
class ProgrammeSettings:
    name: str
    city: str | None
    holiday_zone: str
    updated_at: datetime | None = None

    @property
    def zone_label(self) -> str:
        return ZONE_LABELS.get(self.holiday_zone, self.holiday_zone)


def get_programme(uow: UnitOfWork, user: CurrentUser) -> ProgrammeSettings | None:
    with uow:
        require(user, "programme.read", session=uow.session)
        p = uow.session.scalars(select(Programme)).first()
        return ProgrammeSettings(p.name, p.city, p.holiday_zone, p.updated_at) if p else None


def save_programme(uow: UnitOfWork, user: CurrentUser, name: str, city: str | None, holiday_zone: str, *,
                   based_on: datetime | None = None) -> ProgrammeSettings:
    with uow:
        require(user, "programme.manage", session=uow.session)
        name, city = (name or "").strip(), (city or "").strip() or None
        problems = {}
        if not name:
            problems["name"] = "Indiquez le nom du programme (il figure sur chaque état mensuel)."
        elif len(name) > 200:
            problems["name"] = "Le nom du programme ne peut pas dépasser 200 caractères."
        if city and len(city) > 120:
            problems["city"] = "La ville ne peut pas dépasser 120 caractères."
        if holiday_zone not in HOLIDAY_ZONES:
            problems["holiday_zone"] = "Choisissez la zone de vacances scolaires de l'académie (A, B ou C)."
        if problems:
            raise InvalidFields(problems)
        p = uow.session.scalars(select(Programme)).first()
        if p is None:
            p = Programme(name=name, city=city, holiday_zone=holiday_zone, eligible_communes=[])
            uow.session.add(p)
            changed = ["name", "holiday_zone"] + (["city"] if city else [])
            action = "create"
        else:
            ensure_current(p, based_on, "le programme")
            changed = [f for f, v in (("name", name), ("city", city), ("holiday_zone", holiday_zone))
                       if getattr(p, f) != v]
            p.name, p.city, p.holiday_zone = name, city, holiday_zone
            action = "update"
        uow.session.flush()
        audit.record(uow.session, user.key, action, "programme", None, changed)
        result = ProgrammeSettings(p.name, p.city, p.holiday_zone, p.updated_at)
        uow.commit()
        return result


# -- the programme's QPV (issue 13) -------------------------------------------------------------------------------
# The quartiers prioritaires the family form offers by name. A family may still name another (a QPV of a
# neighbouring commune, a list not yet kept up to date): the list is a help to type the same name each time.
MAX_QPV_NAMES = 100


def qpv_names(uow: UnitOfWork, user: CurrentUser) -> tuple[str, ...]:
    """The programme's QPV names, in the administrator's order (none before the programme is filled in)."""
    with uow:
        require(user, "programme.read", session=uow.session)
        p = uow.session.scalars(select(Programme)).first()
        return tuple(p.qpv_names or []) if p else ()


def save_qpv_names(uow: UnitOfWork, user: CurrentUser, names: list[str] | tuple[str, ...], *,
                   based_on: datetime | None = None) -> tuple[str, ...]:
    """Replace the list (administration): each name trimmed, blanks dropped, a name given twice kept once."""
    with uow:
        require(user, "programme.manage", session=uow.session)
        p = uow.session.scalars(select(Programme)).first()
        if p is None:
            raise InvalidFields({"qpv_names": MISSING})
        kept: list[str] = []
        for raw in names or ():
            if not isinstance(raw, str):
                raise refuse("un texte est attendu")
            name = clean_text(raw, "qpv_names", MAX_QPV_NAME, _refuse_qpv)
            if name and name.casefold() not in {k.casefold() for k in kept}:
                kept.append(name)
        if len(kept) > MAX_QPV_NAMES:
            raise InvalidFields({"qpv_names": f"La liste ne peut pas dépasser {MAX_QPV_NAMES} quartiers."})
        ensure_current(p, based_on, "le programme")
        if kept != list(p.qpv_names or []):
            p.qpv_names = kept
            uow.session.flush()
            audit.record(uow.session, user.key, "update", "programme", None, ["qpv_names"])
        uow.commit()
        return tuple(kept)


def _refuse_qpv(reason: str) -> InvalidFields:
    return InvalidFields({"qpv_names": f"Nom de quartier : {reason}."})
