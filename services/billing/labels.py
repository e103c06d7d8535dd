"""The French words of a statement, shared by the PDF, the window and the command line."""

KIND_LABELS = {
    "home_intervention": "Intervention à domicile",
    "home_hours": "Intervention à domicile (à l'heure)",  # quantity: minutes, shown in hours (quantity_text)
    "weekly_preparation": "Temps de préparation hebdomadaire",
    "launch_meeting": "Réunion de lancement",
    "period_end_meeting": "Réunion de fin de période",
    "monthly_family_flat": "Forfait mensuel par famille suivie",  # quantity: the families followed in the month
}

FLAG_REASONS = {
    "no_orientation": "Pas d'orientation validée en vigueur",
    "outside_convention": "Hors période de la convention",
    "extra_session_in_week": "Séance supplémentaire dans la semaine",
    "school_holiday": "Pendant les vacances scolaires",
    "referent_absent_first_session": "Première séance sans le référent de parcours (avertissement)",
    "not_a_period_end_month": "Réunion de fin de période hors mois prévu",
    "duplicate_period_end_meeting": "Réunion de fin de période en double",
    "missing_tariff": "Tarif absent de la convention",
    "not_partner_intervenant": "Intervenant·e d'un autre partenaire (non facturé)",
}


def quantity_text(kind: str, quantity: int) -> str:
    """A line's quantity as printed: a count, or for `home_hours` its minutes in hours (« 12 h 15 », « 2 h »)."""
    if kind != "home_hours":
        return f"{quantity:d}"
    sign, minutes = ("-" if quantity < 0 else ""), abs(quantity)
    hours, rest = divmod(minutes, 60)
    return f"{sign}{hours} h {rest:02d}" if rest else f"{sign}{hours} h"
