"""The French words of a statement, shared by the PDF, the window and the command line."""

KIND_LABELS = {
    "home_intervention": "Intervention à domicile",
    "weekly_preparation": "Temps de préparation hebdomadaire",
    "launch_meeting": "Réunion de lancement",
    "period_end_meeting": "Réunion de fin de période",
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
