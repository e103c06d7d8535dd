"""The programme's rules, checked after an import and reported as warnings (history is taken as it happened)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import Family, HomeSession, Meeting, Orientation, Programme
from services.billing.labels import KIND_LABELS
from services.billing.loading import intervenant_terms
from services.rules import MAX_AGE, MIN_AGE, age_on, orientation_in_force


_IN_BATCH = 500


def programme_rule_warnings(session, family_keys: set[str]) -> list[str]:
    if not family_keys:
        return []
    programme = session.scalars(select(Programme)).first()
    communes = {c.casefold() for c in (programme.eligible_communes if programme else [])}
    warnings: list[str] = []
    keys = sorted(family_keys)
    # A few hundred families a query (a bound list, far below any backend's limit), their sessions and orientations
    # in one query each: a query per family was most of the time after an import of 300,000 sessions.
    for start in range(0, len(keys), _IN_BATCH):
        families = session.scalars(select(Family).where(Family.key.in_(keys[start:start + _IN_BATCH]))
                                   .options(selectinload(Family.children))).all()
        ids = [f.id for f in families]
        held: dict[str, list] = {f.id: [] for f in families}
        # Columns, not objects; the status left out of the WHERE clause: with it, SQLite chose the index on
        # (status, date) and read every held session of the store.
        for row in session.execute(
                select(HomeSession.family_id, HomeSession.date, HomeSession.referent_present, HomeSession.status)
                .where(HomeSession.family_id.in_(ids))
                .order_by(HomeSession.family_id, HomeSession.date, HomeSession.start_time, HomeSession.key)):
            if row.status == "held":
                held[row.family_id].append(row)
        orientations_of: dict[str, list] = {f.id: [] for f in families}
        for orientation in session.scalars(select(Orientation).where(Orientation.family_id.in_(ids))):
            orientations_of[orientation.family_id].append(orientation)
        for family in sorted(families, key=lambda f: f.key):
            warnings += _family_warnings(family, communes, held[family.id], orientations_of[family.id])
    return warnings


def _family_warnings(family: Family, communes: set[str], sessions: list, orientations: list) -> list[str]:
    """The programme's rules on one family: `sessions`, its held sessions in order (date, referent_present)."""
    warnings: list[str] = []
    if communes and family.commune.casefold() not in communes:
        warnings.append(f"Famille « {family.key} » : la commune « {family.commune} » n'est pas éligible au programme.")
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
    uncovered = [s for s in sessions if not any(
        orientation_in_force(o.status, o.decided_on, o.end_date, s.date) for o in orientations)]
    if uncovered:
        warnings.append(
            f"Famille « {family.key} » : {len(uncovered)} séance(s) réalisée(s) sans orientation validée en "
            f"vigueur (première le {uncovered[0].date:%d/%m/%Y})."
        )
    return warnings


def zero_amount_warnings(convention_key: str, budget_cap: str | None, tariffs: dict[str, dict[str, str]],
                         amendments: list[tuple[date, dict]]) -> list[str]:
    """Amounts of 0,00 € (canonical "0.00"): legal, but more often a slip than a decision (the window asks before
    saving them, services.conventions_admin.zero_amounts)."""
    who = f"Convention « {convention_key} »"
    warnings = []
    if budget_cap == "0.00":
        warnings.append(f"{who} : plafond budgétaire à 0,00 € : tout état le dépassera dès son premier euro.")
    tables = [("les tarifs de la convention", tariffs)] + [(f"l'avenant du {day:%d/%m/%Y}", table)
                                                          for day, table in amendments]
    for where, table in tables:
        for qualification, kinds in table.items():
            for kind, amount in kinds.items():
                if amount == "0.00":
                    warnings.append(f"{who} : tarif à 0,00 € : « {KIND_LABELS.get(kind, kind)} » {qualification} "
                                    f"({where}) ne sera jamais payé.")
    return warnings


def meeting_partner_warnings(session, meeting_keys: set[str]) -> list[str]:
    """A meeting of a convention that lists an intervenant working, on the meeting's day, for another partner than
    the convention's: billing flags it (not_partner_intervenant) and does not pay that presence."""
    if not meeting_keys:
        return []
    meetings = session.scalars(select(Meeting).where(Meeting.key.in_(sorted(meeting_keys)))
                               .options(selectinload(Meeting.intervenants))).all()
    terms = intervenant_terms(session)
    warnings: list[str] = []
    for meeting in sorted(meetings, key=lambda m: (m.date, m.key)):
        convention = meeting.convention
        if meeting.date < convention.start_date or (convention.end_date and meeting.date > convention.end_date):
            continue  # outside the convention: billing says that first, and pays nobody
        for intervenant in sorted(meeting.intervenants, key=lambda i: i.key):
            history = terms[intervenant.id]  # by start, the first from the beginning: as billing reads it
            in_force = next((t for t in reversed(history[1:]) if t.start <= meeting.date), history[0])
            if in_force.partner_id != convention.partner_id:
                warnings.append(
                    f"Réunion « {meeting.key} » du {meeting.date:%d/%m/%Y} : l'intervenant « {intervenant.key} » "
                    f"n'est pas, à cette date, un intervenant du partenaire « {convention.partner.key} » de la "
                    f"convention « {convention.key} » : sa présence ne sera pas payée.")
    return warnings
