"""The programme's rules, checked after an import and reported as warnings (history is taken as it happened)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models import Family, HomeSession, Orientation, Programme
from services.rules import MAX_AGE, MIN_AGE, age_on, orientation_in_force


def programme_rule_warnings(session, family_keys: set[str]) -> list[str]:
    if not family_keys:
        return []
    programme = session.scalars(select(Programme)).first()
    communes = {c.casefold() for c in (programme.eligible_communes if programme else [])}
    warnings: list[str] = []
    families = session.scalars(select(Family).where(Family.key.in_(sorted(family_keys)))).all()
    for family in sorted(families, key=lambda f: f.key):
        if communes and family.commune.casefold() not in communes:
            warnings.append(f"Famille « {family.key} » : la commune « {family.commune} » n'est pas éligible au programme.")
        sessions = session.scalars(
            select(HomeSession).where(HomeSession.family_id == family.id, HomeSession.status == "held")
            .order_by(HomeSession.date, HomeSession.start_time, HomeSession.key)
        ).all()
        reference_day = sessions[0].date if sessions else date.today()
        for child in family.children:
            age = age_on(child.birth_date, reference_day)
            if not MIN_AGE <= age <= MAX_AGE:
                warnings.append(
                    f"Enfant « {child.key} » : {age} ans au {reference_day:%d/%m/%Y}, hors de la tranche 2 à 16 ans."
                )
        if sessions and not sessions[0].referent_present:
            warnings.append(
                f"Famille « {family.key} » : le référent de parcours était absent de la première séance "
                f"({sessions[0].date:%d/%m/%Y})."
            )
        orientations = session.scalars(select(Orientation).where(Orientation.family_id == family.id)).all()
        uncovered = [s for s in sessions if not any(
            orientation_in_force(o.status, o.decided_on, o.end_date, s.date) for o in orientations)]
        if uncovered:
            warnings.append(
                f"Famille « {family.key} » : {len(uncovered)} séance(s) réalisée(s) sans orientation validée en "
                f"vigueur (première le {uncovered[0].date:%d/%m/%Y})."
            )
    return warnings
