"""A realistic, entirely fictional programme for demonstrations and manual testing.

`build_demo_dataset` is pure and deterministic: the same (seed, today) always gives the same
`parcours-dataset/1` dictionary (one `random.Random(seed)`, `today` is a parameter), so loading the demo into a
store that already holds it is harmless — the importer finds every record identical and creates nothing.

The data tells the twelve months up to `today` in Bourg-en-Bresse (zone A): families followed by the DRE, the
Atout Plus convention with Adom 01 (tariffs of the CCAS deliberation of 19 December 2024), a second convention
(accompagnement scolaire à domicile with Les PEP de l'Ain), monthly EPS meetings, orientations, weekly home
sessions outside school holidays, and the meetings billed under each convention.

The story is written once, on the dates of 2025 (`STORY_YEAR`; the EPS of December 2024 opens it), and
`_Calendar` places it on the real calendar: story month k (0 = January 2025) becomes the k-th of the twelve
months ending with today's month, a story date keeps its weekday and its rank in the month (« 2nd Tuesday »),
dates that follow another one keep their distance to it, and nothing is dated after today. School holidays
and public holidays are the real ones of the period, so the holiday sessions are placed in real holidays, the
period-end meetings in the convention's period-end months, and each convention covers the civil years of the
period (key AP-2026, or AP-2026-2027 when the twelve months straddle two years). With today in December 2025
the demo is the historical one: the year 2025. A few records deliberately
break the rules (second session in a week, session during the holidays, session before the orientation is
validated, first session without the référent, family outside the eligible communes) so that statements and
import warnings have something to show.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from models.enums import REFERRAL_REASONS

STORY_YEAR = 2025  # the year the story tables below are written in
ZONE = "A"
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")

PROGRAMME = {
    "name": "Dispositif de Réussite Éducative de Bourg-en-Bresse",
    "holiday_zone": ZONE,
    "eligible_communes": ["Bourg-en-Bresse"],
    "city": "Bourg-en-Bresse",
    "qpv_names": ["Croix-Blanche", "Grande Reyssouze", "Les Vennes", "Pont-des-Chèvres"],  # Bourg's QPV
}

REFERENTS = ("ref-benhamou", "ref-garnier", "ref-lopez")
COORDINATOR = "coord-rousseau"
ADMINISTRATOR = "admin-fabre"
USERS = [
    {"key": "ref-benhamou", "name": "Leïla Benhamou", "role": "referent"},
    {"key": "ref-garnier", "name": "Thomas Garnier", "role": "referent"},
    {"key": "ref-lopez", "name": "Camille Lopez", "role": "referent"},
    {"key": COORDINATOR, "name": "Sophie Rousseau", "role": "coordinator"},
    {"key": ADMINISTRATOR, "name": "Hélène Fabre", "role": "administrator"},
]

PARTNERS = [
    {"key": "adom", "name": "Adom 01"},
    {"key": "pep01", "name": "Les PEP de l'Ain"},
]

IMPUTATION = ("Chapitre 65 « Autres charges de gestion courante », "
              "article 65748 « Autres personnes de droit privé »")
AP, AS = "AP", "AS"  # story tokens; the keys (AP-2026…) depend on the period, see _Calendar.key
ACTION_AP, ACTION_AS = "Atout Plus", "Accompagnement scolaire à domicile"
CONVENTIONS = [
    {
        "key": AP, "partner": "adom", "action": ACTION_AP,
        "max_families": 18, "budget_cap": "45000.00", "period_end_months": [2, 4, 7, 10, 12],
        "budget_imputation": IMPUTATION,
        "tariffs": {
            "AES": {"home_intervention": "30.00", "weekly_preparation": "15.00",
                    "launch_meeting": "30.00", "period_end_meeting": "30.00"},
            "TISF": {"home_intervention": "56.13", "weekly_preparation": "20.07",
                     "launch_meeting": "56.13", "period_end_meeting": "56.13"},
        },
    },
    {
        "key": AS, "partner": "pep01", "action": ACTION_AS,
        "max_families": 12, "budget_cap": "20000.00", "period_end_months": [6, 12],
        "budget_imputation": IMPUTATION,
        # Paid per hour delivered (the home_intervention tariff read as an hourly rate, durations rounded up to the
        # quarter hour), with no weekly limit and the school holidays as ordinary days: no dérogation is asked.
        "sessions_per_week": None, "holidays_need_exception": False, "home_unit": "hour",
        "tariffs": {
            "AES": {"home_intervention": "28.50", "weekly_preparation": "12.00",
                    "launch_meeting": "28.50", "period_end_meeting": "28.50"},
            "TISF": {"home_intervention": "52.40", "weekly_preparation": "18.00",
                     "launch_meeting": "52.40", "period_end_meeting": "52.40"},
        },
    },
]
CONVENTION_PARTNER = {c["key"]: c["partner"] for c in CONVENTIONS}
CONVENTION_ACTION = {c["key"]: c["action"] for c in CONVENTIONS}

INTERVENANTS = [
    {"key": "i-haddad", "partner": "adom", "name": "Karima Haddad", "qualification": "AES"},
    {"key": "i-perrin", "partner": "adom", "name": "Julien Perrin", "qualification": "AES"},
    {"key": "i-sow", "partner": "adom", "name": "Fatou Sow", "qualification": "TISF"},
    {"key": "i-chevalier", "partner": "adom", "name": "Élodie Chevalier", "qualification": "TISF"},
    {"key": "i-roux", "partner": "pep01", "name": "Sébastien Roux", "qualification": "AES"},
    {"key": "i-belkacem", "partner": "pep01", "name": "Yasmine Belkacem", "qualification": "TISF"},
    {"key": "i-carvalho", "partner": "pep01", "name": "Inès Carvalho", "qualification": "AES"},
]
PARTNER_INTERVENANTS = {p["key"]: [i["key"] for i in INTERVENANTS if i["partner"] == p["key"]] for p in PARTNERS}


# -- the households -------------------------------------------------------------------------------------------
# (key, family name, commune, priority neighbourhood, guardians [(name, relationship)],
#  children [(first name, sex, birth year or exact ISO date, last name if not the family's)], notes)
BOURG = "Bourg-en-Bresse"
FAMILIES = [
    ("F001", "Diallo", BOURG, True, [("Mariama Diallo", "mère"), ("Ousmane Diallo", "père")],
     [("Aïssatou", "F", 2014, None), ("Mamadou", "M", 2017, None)], None),
    ("F002", "Martin", BOURG, False, [("Aurélie Martin", "mère")],
     [("Enzo", "M", 2013, None), ("Lola", "F", 2016, None)],
     "Mère seule, horaires de travail décalés (grande surface)."),
    ("F003", "Benslimane", BOURG, True, [("Samira Benslimane", "mère"), ("Karim Benslimane", "père")],
     [("Yanis", "M", 2015, None)], None),
    ("F004", "Nguyen", BOURG, False, [("Thi Lan Nguyen", "mère")],
     [("Minh", "M", 2012, None), ("Linh", "F", 2018, None)], None),
    ("F005", "Da Silva", BOURG, False, [("Ana Da Silva", "mère"), ("Paulo Da Silva", "père")],
     [("Lucas", "M", 2016, None)], None),
    ("F006", "Yılmaz", BOURG, True, [("Ayşe Yılmaz", "mère"), ("Mehmet Yılmaz", "père")],
     [("Elif", "F", 2014, None), ("Emir", "M", 2019, None)],
     "Un interprète turcophone est utile pour les rencontres avec la mère."),
    ("F007", "Traoré", BOURG, False, [("Fatoumata Traoré", "mère")],
     [("Moussa", "M", 2011, None), ("Kadiatou", "F", 2015, None)], None),
    ("F008", "Lefèvre", BOURG, False, [("Sandrine Lefèvre", "mère")],
     [("Kylian", "M", 2017, None), ("Jade", "F", "2022-11-08", None)], None),
    ("F009", "Kaya", BOURG, True, [("Zeynep Kaya", "mère")],
     [("Deniz", "M", 2013, None)], "Suivi conjoint avec l'assistante sociale de secteur."),
    ("F010", "Mansouri", BOURG, False, [("Nadia Mansouri", "mère"), ("Rachid Mansouri", "père")],
     [("Inès", "F", 2016, None), ("Adam", "M", 2018, None)], None),
    ("F011", "Camara", BOURG, True, [("Hawa Camara", "mère")],
     [("Ibrahima", "M", "2009-01-22", None), ("Sira", "F", 2012, None), ("Bintou", "F", 2017, None)], None),
    ("F012", "Dubois", BOURG, False, [("Jessica Dubois", "mère")],
     [("Noah", "M", 2015, None)], "Notification MDPH en cours de renouvellement."),
    ("F013", "Ferreira", BOURG, False, [("Cláudia Ferreira", "mère"), ("Rui Ferreira", "père")],
     [("Gabriel", "M", 2018, None), ("Beatriz", "F", 2021, None)], None),
    ("F014", "Rahmani", BOURG, True, [("Malika Rahmani", "grand-mère")],
     [("Sofiane", "M", 2012, None)], "L'enfant vit chez sa grand-mère (délégation d'autorité parentale)."),
    ("F015", "Koné", BOURG, False, [("Awa Koné", "mère")],
     [("Mariam", "F", 2015, None), ("Seydou", "M", 2019, None)], None),
    ("F016", "Moreau", BOURG, False, [("Stéphanie Moreau", "mère"), ("Julien Blanc", "père")],
     [("Léa", "F", 2014, "Blanc"), ("Hugo", "M", 2016, "Blanc")], None),
    ("F017", "Petrović", BOURG, False, [("Jelena Petrović", "mère"), ("Dragan Petrović", "père")],
     [("Luka", "M", 2013, None)], None),
    ("F018", "Şahin", BOURG, True, [("Fatma Şahin", "mère")],
     [("Yusuf", "M", 2014, None), ("Zehra", "F", 2016, None)], None),
    ("F019", "Bernard", BOURG, False, [("Céline Bernard", "mère")],
     [("Maxime", "M", 2014, None)], None),
    ("F020", "Amrani", BOURG, False, [("Hanane Amrani", "mère"), ("Youssef Amrani", "père")],
     [("Rayan", "M", 2012, None)], None),
    ("F021", "Mbemba", BOURG, True, [("Grâce Mbemba", "mère")],
     [("Divine", "F", 2013, None), ("Exaucé", "M", 2016, None)], None),
    ("F022", "Girard", BOURG, False, [("Émilie Girard", "mère")],
     [("Manon", "F", 2011, None)], None),
    ("F023", "Hoxha", BOURG, False, [("Arta Hoxha", "mère"), ("Besnik Hoxha", "père")],
     [("Elira", "F", 2015, None), ("Dren", "M", 2018, None)], None),
    ("F024", "Cissé", BOURG, True, [("Kadidia Cissé", "mère")],
     [("Oumar", "M", 2016, None)], None),
    ("F025", "Ahmadi", BOURG, False, [("Fereshta Ahmadi", "mère")],
     [("Mahdi", "M", 2013, None), ("Zahra", "F", 2017, None)],
     "Famille arrivée en France en {two_years_before} (protection internationale)."),
    ("F026", "Rodrigues", BOURG, False, [("Sónia Rodrigues", "mère")],
     [("Tiago", "M", 2012, None)], None),
    ("F027", "Fontaine", BOURG, False, [("Virginie Fontaine", "mère"), ("David Fontaine", "père")],
     [("Chloé", "F", 2015, None)], None),
    ("F028", "Ouédraogo", BOURG, True, [("Salimata Ouédraogo", "mère")],
     [("Abdoul", "M", 2014, None)], None),
    ("F029", "Belhadj", BOURG, False, [("Sonia Belhadj", "mère")],
     [("Nassim", "M", 2016, None)], "Consentement des parents à recueillir."),
    ("F030", "Popescu", BOURG, False, [("Ioana Popescu", "mère"), ("Andrei Popescu", "père")],
     [("Daria", "F", 2014, None)], None),
    ("F031", "Laurent", "Viriat", False, [("Nathalie Laurent", "mère")],
     [("Théo", "M", 2013, None)], "Famille domiciliée à Viriat depuis {month_before}."),
    ("F032", "Boukhari", "Péronnas", False, [("Farida Boukhari", "mère")],
     [("Ilyes", "M", 2011, None)], None),
]
NO_CONSENT = {"F029", "F032"}

STREETS = [
    "rue des Lilas", "allée des Glycines", "avenue Jean Jaurès", "rue Paul Verlaine", "boulevard de l'Europe",
    "rue du Stade", "allée Rosa Parks", "rue Louise Michel", "avenue des Sports", "rue Victor Hugo",
    "rue des Tilleuls", "allée Simone Veil", "rue Jean Moulin", "impasse des Acacias", "rue Pierre et Marie Curie",
]
SECTORS = [
    ("École maternelle Les Écureuils", "École élémentaire Jean Macé", "Collège Jean Rostand"),
    ("École maternelle Charles Robin", "École élémentaire Charles Robin", "Collège Louis Aragon"),
    ("École maternelle Les Tilleuls", "École élémentaire Pablo Picasso", "Collège Jean Rostand"),
    ("École maternelle Pierre Perret", "École élémentaire Jules Ferry", "Collège Louis Aragon"),
]
LYCEE = "Lycée professionnel Gustave Eiffel"
# Éducation prioritaire of the sectors' schools (a school not listed, in Bourg or elsewhere, is « hors REP »; a
# lycée is outside the REP map).
SCHOOL_PRIORITY = {
    "École maternelle Les Écureuils": "rep_plus", "École élémentaire Jean Macé": "rep_plus",
    "Collège Jean Rostand": "rep", "École maternelle Charles Robin": "rep", "École élémentaire Charles Robin": "rep",
    "École maternelle Les Tilleuls": "rep", "École élémentaire Pablo Picasso": "rep",
}
CLASS_BY_BIRTH_YEAR = {  # story birth years, school year 2024-2025 (moved with the period)
    2021: "PS", 2020: "MS", 2019: "GS", 2018: "CP", 2017: "CE1", 2016: "CE2", 2015: "CM1", 2014: "CM2",
    2013: "6e", 2012: "5e", 2011: "4e", 2010: "3e", 2009: "CAP 1re année",
}

OBJECTIVES = {
    "small": ["Accompagner la séparation et la socialisation à l'école maternelle",
              "Soutenir le langage oral et l'éveil par le jeu",
              "Installer des routines apaisées à la maison (repas, coucher)"],
    "middle": ["Renforcer la confiance en soi et l'expression orale",
               "Soutenir l'entrée dans la lecture et le goût des livres",
               "Favoriser la gestion des émotions et de la frustration",
               "Apaiser la relation parent-enfant et le respect des règles à la maison",
               "Accès aux soins : bilan orthophonique à organiser",
               "Accès aux loisirs : inscription à une activité sportive"],
    "teen": ["Améliorer l'organisation du travail scolaire et l'usage de l'agenda",
             "Prévenir le décrochage scolaire et remobiliser sur les apprentissages",
             "Construire un projet d'orientation en lien avec le collège",
             "Renforcer la confiance en soi et les relations avec les pairs",
             "Accès aux loisirs : découverte d'activités culturelles"],
}

HELD_NOTES = {
    AP: ["Jeu de société coopératif avec la fratrie : attendre son tour, accepter de perdre.",
         "Lecture partagée avec la mère, puis jeu de vocabulaire.",
         "Jeu des émotions : bonne participation de l'enfant.",
         "Atelier cuisine : lecture de la recette et mesures.",
         "Construction d'un planning de la semaine avec l'enfant.",
         "Échange avec le parent sur les routines du soir.",
         "Jeu de mémoire et de concentration ; enfant plus posé qu'à la dernière séance.",
         "Travail sur l'organisation du cartable et de l'agenda."],
    AS: ["Méthodologie : comment apprendre une leçon.",
         "Révision des tables de multiplication.",
         "Préparation du contrôle de français.",
         "Lecture et compréhension de texte.",
         "Aide à la préparation d'un exposé d'histoire.",
         "Point sur le carnet de liaison avec le parent."],
}
ABSENT_NOTES = ["Famille absente, message laissé sur le répondeur.", "Personne au domicile à l'heure prévue.",
                "Absence non prévenue ; la mère a rappelé le lendemain."]
CANCELLED_NOTES = ["Annulée par la famille (rendez-vous médical).", "Annulée par la famille (enfant malade).",
                   "Annulée par l'intervenant(e) (formation).", "Annulée par la famille (démarche en préfecture)."]

# -- EPS meetings and orientations ---------------------------------------------------------------------------
EPS_DATES = {
    "EPS-2024-12": "2024-12-10", "EPS-2025-01": "2025-01-14", "EPS-2025-02": "2025-02-11",
    "EPS-2025-03": "2025-03-11", "EPS-2025-04": "2025-04-08", "EPS-2025-05": "2025-05-13",
    "EPS-2025-06": "2025-06-10", "EPS-2025-07": "2025-07-01", "EPS-2025-09": "2025-09-09",
    "EPS-2025-10": "2025-10-07", "EPS-2025-11": "2025-11-04", "EPS-2025-12": "2025-12-02",
}

# (family, convention, EPS meeting, status, decided on, end, reason, usual intervenant)
ORIENTATIONS = [
    ("F001", AP, "EPS-2024-12", "validated", "2025-01-06", None, None, "i-haddad"),
    ("F002", AP, "EPS-2024-12", "validated", "2025-01-06", None, None, "i-sow"),
    ("F003", AP, "EPS-2024-12", "ended", "2025-01-06", "2025-06-27",
     "Objectifs atteints : relais par le centre social du quartier.", "i-perrin"),
    ("F004", AP, "EPS-2024-12", "validated", "2025-01-06", None, None, "i-chevalier"),
    ("F005", AP, "EPS-2025-01", "validated", "2025-01-17", None, None, "i-haddad"),
    ("F006", AP, "EPS-2025-01", "validated", "2025-01-17", None, None, "i-sow"),
    ("F007", AP, "EPS-2025-01", "ended", "2025-01-17", "2025-10-17",
     "Déménagement de la famille dans la métropole de Lyon.", "i-perrin"),
    ("F017", AS, "EPS-2025-01", "validated", "2025-01-20", None, None, "i-roux"),
    ("F018", AS, "EPS-2025-01", "validated", "2025-01-20", None, None, "i-belkacem"),
    ("F008", AP, "EPS-2025-02", "validated", "2025-02-14", None, None, "i-chevalier"),
    ("F009", AP, "EPS-2025-02", "validated", "2025-02-14", None, None, "i-haddad"),
    ("F019", AS, "EPS-2025-02", "ended", "2025-02-17", "2025-07-04",
     "Fin d'année scolaire : entrée en 6e, relais par le dispositif « Devoirs faits » du collège.", "i-carvalho"),
    ("F010", AP, "EPS-2025-03", "validated", "2025-03-24", None, None, "i-perrin"),
    ("F011", AP, "EPS-2025-03", "validated", "2025-03-14", None, None, "i-sow"),
    ("F012", AP, "EPS-2025-04", "validated", "2025-04-11", None, None, "i-chevalier"),
    ("F020", AS, "EPS-2025-04", "validated", "2025-04-14", None, None, "i-roux"),
    ("F013", AP, "EPS-2025-05", "validated", "2025-05-16", None, None, "i-haddad"),
    ("F031", AP, "EPS-2025-05", "rejected", "2025-05-16", None,
     "Famille domiciliée à Viriat : hors du public de la convention (un parent doit habiter Bourg-en-Bresse).",
     None),
    ("F014", AP, "EPS-2025-06", "validated", "2025-06-13", None, None, "i-perrin"),
    ("F015", AP, "EPS-2025-09", "validated", "2025-09-12", None, None, "i-sow"),
    ("F016", AP, "EPS-2025-09", "validated", "2025-09-12", None, None, "i-chevalier"),
    ("F021", AS, "EPS-2025-09", "validated", "2025-09-15", None, None, "i-carvalho"),
    ("F022", AS, "EPS-2025-09", "validated", "2025-09-15", None, None, "i-belkacem"),
    ("F027", AP, "EPS-2025-09", "rejected", "2025-09-19", None,
     "La famille ne souhaite pas d'intervention à domicile ; "
     "orientation vers le groupe de soutien à la parentalité.",
     None),
    ("F023", AP, "EPS-2025-10", "proposed", None, None, None, None),
    ("F024", AP, "EPS-2025-11", "proposed", None, None, None, None),
    ("F030", AS, "EPS-2025-11", "proposed", None, None, None, None),
    ("F025", AP, "EPS-2025-12", "proposed", None, None, None, None),
    ("F026", AS, "EPS-2025-12", "proposed", None, None, None, None),
]

# Situations studied without an orientation, or follow-up reviews: (EPS meeting, family, recommendation).
OTHER_SITUATIONS = [
    ("EPS-2025-03", "F001", "Bilan Atout Plus : poursuite de l'accompagnement à domicile."),
    ("EPS-2025-04", "F002", "Bilan Atout Plus : poursuite ; demander un bilan orthophonique pour Lola."),
    ("EPS-2025-05", "F032", "Hors périmètre du DRE (Péronnas) : relais vers le CCAS de Péronnas."),
    ("EPS-2025-06", "F003", "Fin de l'action Atout Plus : objectifs atteints, relais par le centre social."),
    ("EPS-2025-06", "F028", "Soutien psychologique : orientation vers le CMP enfants."),
    ("EPS-2025-07", "F006", "Bilan Atout Plus : poursuite après l'été, travailler le lien avec l'école."),
    ("EPS-2025-07", "F019", "Fin de l'accompagnement scolaire : relais par « Devoirs faits » au collège."),
    ("EPS-2025-09", "F005", "Bilan Atout Plus : poursuite de l'accompagnement."),
    ("EPS-2025-10", "F007", "Déménagement de la famille : clôture du parcours, transmission au DRE de Lyon."),
    ("EPS-2025-10", "F009", "Bilan Atout Plus : poursuite ; inscription au club de football à accompagner."),
    ("EPS-2025-11", "F029", "Poursuivre l'évaluation ; recueillir le consentement des parents."),
    ("EPS-2025-12", "F011", "Bilan Atout Plus : poursuite ; préparer l'orientation d'Ibrahima."),
]

# Regular weekly slots of an intervenant: (weekday, possible start times). Wednesday has three slots that never
# overlap even at 90 minutes.
SLOTS = [(0, ("16:45", "17:00", "17:15")), (1, ("16:45", "17:00", "17:30")), (2, ("09:30",)), (2, ("14:00",)),
         (2, ("16:30",)), (3, ("16:45", "17:00", "17:15")), (4, ("16:45", "17:00"))]
LONG_SESSIONS = {"F002": 90, "F011": 90, "F013": 45}
FIRST_WITHOUT_REFERENT = "F006"
EARLY_START = {"F010": "2025-03-12"}  # the intervenant began before the coordinator's decision (story date)
# Who falls ill on which story Monday (two weeks off: the first one cancelled, the second replaced), replaced by.
SICK_LEAVE = ("i-haddad", "2025-11-17", "i-perrin")

# Convention meetings. Launches: (convention, story date, intervenants present or None for all the partner's,
# note). Period-end meetings: one in each period-end month of the convention, on its third Thursday unless
# PERIOD_END_RANK tells another rank (0-based); plus one held outside the convention's calendar.
LAUNCHES = [
    (AP, "2025-01-23", None, "Présentation des familles entrées dans l'action en {month0}."),
    (AP, "2025-09-25", None, "Présentation des familles orientées par l'EPS de {month8}."),
    (AS, "2025-01-30", ["i-belkacem", "i-roux"], None),
]
PERIOD_END_RANK = {(AP, 7): 0, (AS, 6): 3, (AS, 12): 1}
THURSDAY, WEDNESDAY = 3, 2

# Sessions during the school holidays, in the holiday periods of the twelve months: (family, approved, note).
HOLIDAY_SESSIONS = [
    ("F009", True, "Séance pendant les vacances : dérogation accordée (situation familiale tendue)."),
    ("F005", False, "Séance pendant les vacances, à la demande de la mère."),
    ("F012", False, "Rattrapage de la séance annulée avant les vacances."),
]


# -- the calendar ---------------------------------------------------------------------------------------------
def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * l_) // 433
    month = (h + l_ - 7 * m + 90) // 25
    return date(year, month, (h + l_ - 7 * m + 33 * month + 19) % 32)


@lru_cache(maxsize=16)
def _public_holidays(year: int) -> frozenset[date]:
    """French public holidays, and the Friday after Ascension (no school anywhere in France)."""
    easter = _easter(year)
    fixed = {date(year, m, d) for m, d in ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))}
    return frozenset(fixed | {easter + timedelta(days=n) for n in (1, 39, 40, 50)})


@lru_cache(maxsize=1)
def _holiday_calendar():
    from vacances_scolaires_france import SchoolHolidayDates

    return SchoolHolidayDates()  # bundled data: works offline


@lru_cache(maxsize=4096)
def _school_holiday(day: date) -> bool:
    try:
        return _holiday_calendar().is_holiday_for_zone(day, ZONE)
    except Exception:  # a year the bundled calendar does not know: no holidays rather than no demo
        return False


def _school_day(day: date) -> bool:
    return day.weekday() < 5 and not _school_holiday(day) and day not in _public_holidays(day.year)


class _Orientation(NamedTuple):
    family: str
    convention: str  # story token AP or AS
    eps: str  # story key of the EPS meeting
    status: str
    decided: date | None
    end: date | None
    reason: str | None
    intervenant: str | None
    story_decided: str | None


class _Calendar:
    """The story, written on the dates of 2025, placed on the twelve months ending with `today`'s month."""

    def __init__(self, today: date):
        self.today = today
        self.first_index = _month_index(today) - 11  # story month 0 (January 2025)
        self.first_day = _month_start(self.first_index)
        self.shift = self.first_day.year - STORY_YEAR  # years added to birth dates and dated texts
        first_year, last_year = self.first_day.year, today.year
        suffix = str(first_year) if first_year == last_year else f"{first_year}-{last_year}"
        self.key = {AP: f"AP-{suffix}", AS: f"AS-{suffix}"}
        self.convention_start, self.convention_end = date(first_year, 1, 1), date(last_year, 12, 31)
        before = _month_start(self.first_index - 1)
        self.words = {"month_before": f"{MONTHS_FR[before.month - 1]} {before.year}",
                      "two_years_before": str(first_year - 2), "month0": self.month_name(0),
                      "month8": self.month_name(8)}
        # The EPS meetings held by today (a later one is not planned in the demo), their orientations, and the
        # other situations they studied.
        self.eps = {key: self.on(day) for key, day in EPS_DATES.items() if self.on(day) <= today}
        self.orientations = [o for o in map(self._orientation, ORIENTATIONS) if o is not None]
        self.situations = [s for s in OTHER_SITUATIONS if s[0] in self.eps]
        self.sick_leave = self._sick_leave()

    def month_name(self, k: int) -> str:
        return MONTHS_FR[_month_start(self.first_index + k).month - 1]

    def on(self, story: str) -> date:
        """The story date's weekday, of the same rank, in the matching month (the last one if the month lacks it)."""
        day = date.fromisoformat(story)
        return self.nth_weekday(_month_index(day) - STORY_YEAR * 12, day.weekday(), (day.day - 1) // 7)

    def nth_weekday(self, k: int, weekday: int, rank: int) -> date:
        start = _month_start(self.first_index + k)
        day = start + timedelta(days=(weekday - start.weekday()) % 7 + 7 * rank)
        while day.month != start.month:
            day -= timedelta(days=7)
        return day

    def eps_key(self, story_key: str) -> str:
        return f"EPS-{self.eps[story_key]:%Y-%m}"

    def _orientation(self, row) -> _Orientation | None:
        family, convention, eps, status, decided, end, reason, intervenant = row
        if eps not in self.eps:
            return None
        # A decision keeps its distance to the EPS meeting; an end is a date of the calendar of its own.
        decided_on = (self.eps[eps] + (date.fromisoformat(decided) - date.fromisoformat(EPS_DATES[eps]))
                      if decided else None)
        end_on = self.on(end) if end else None
        if decided_on is not None and decided_on > self.today:
            status, decided_on, end_on, reason, decided = "proposed", None, None, None, None
        elif end_on is not None and end_on > self.today:
            status, end_on, reason = "validated", None, None
        return _Orientation(family, convention, eps, status, decided_on, end_on, reason, intervenant, decided)

    def _sick_leave(self) -> tuple[str, date, date, str]:
        who, story_day, replacement = SICK_LEAVE
        first = self.on(story_day)
        for _attempt in range(20):  # two whole weeks of school, over by today
            weekdays = [first + timedelta(days=n) for n in range(12) if n % 7 < 5]
            if first + timedelta(days=11) < self.today and not any(map(_school_holiday, weekdays)):
                break
            first -= timedelta(days=7)
        return who, first, first + timedelta(days=11), replacement

    def first_eps_date(self, family_key: str) -> date | None:
        dates = [self.eps[o.eps] for o in self.orientations if o.family == family_key]
        dates += [self.eps[s[0]] for s in self.situations if s[1] == family_key]
        return min(dates) if dates else None

    def holiday_wednesdays(self) -> list[date]:
        """The first Wednesday of each school-holiday period (not the summer) begun in the twelve months."""
        found, day = [], self.first_day
        while day <= self.today:
            if _school_holiday(day) and not _school_holiday(day - timedelta(days=1)):
                run = day
                while _school_holiday(run + timedelta(days=1)) and (run - day).days < 40:
                    run += timedelta(days=1)
                wednesday = day + timedelta(days=(WEDNESDAY - day.weekday()) % 7)
                if (run - day).days < 21 and wednesday <= min(run, self.today) \
                        and wednesday not in _public_holidays(wednesday.year):
                    found.append(wednesday)
                day = run
            day += timedelta(days=1)
        return found


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _age_group(story_birth_year: int) -> str:
    age = STORY_YEAR - story_birth_year
    return "small" if age <= 5 else "middle" if age <= 11 else "teen"


def build_demo_dataset(seed: int = 2025, today: date | None = None) -> dict:
    """The demo programme as a `parcours-dataset/1` dictionary for the twelve months up to `today` (the
    clock's date when not given); same (seed, today), same dictionary."""
    calendar = _Calendar(today or date.today())
    rng = random.Random(seed)
    families, children_of, referent_of = _families(rng, calendar)
    parcours = _parcours(rng, calendar, families, children_of, referent_of)
    # what the reports count (issue 13), drawn from a generator of its own: the rest of the demo stays as it was
    _record_fields(random.Random(seed + 13), families, parcours)
    orientations = _orientations(calendar)
    eps_meetings = _eps_meetings(calendar)
    sessions = _Sessions(rng, calendar, children_of).build()
    meetings = _meetings(calendar)
    return {
        "format": "parcours-dataset/1",
        "programme": dict(PROGRAMME, eligible_communes=list(PROGRAMME["eligible_communes"]),
                          qpv_names=list(PROGRAMME["qpv_names"])),
        "users": [dict(u) for u in USERS],
        "partners": [dict(p) for p in PARTNERS],
        "conventions": [_copy_convention(c, calendar) for c in CONVENTIONS],
        "intervenants": [dict(i) for i in INTERVENANTS],
        "families": families,
        "parcours": parcours,
        "eps_meetings": eps_meetings,
        "orientations": orientations,
        "sessions": sessions,
        "meetings": meetings,
    }


def _copy_convention(c: dict, calendar: _Calendar) -> dict:
    return {**c, "key": calendar.key[c["key"]], "start": calendar.convention_start.isoformat(),
            "end": calendar.convention_end.isoformat(), "period_end_months": list(c["period_end_months"]),
            "tariffs": {q: dict(kinds) for q, kinds in c["tariffs"].items()}}


def _families(rng: random.Random, calendar: _Calendar):
    families, children_of, referent_of = [], {}, {}
    child_number = 0
    for index, (key, surname, commune, qpv, guardians, children, notes) in enumerate(FAMILIES):
        referent = COORDINATOR if key == "F032" else REFERENTS[index % len(REFERENTS)]
        referent_of[key] = referent
        maternelle, elementaire, college = rng.choice(SECTORS)
        kids = []
        for first_name, sex, born, last_name in children:
            child_number += 1
            if isinstance(born, str):
                story_birth = date.fromisoformat(born)
            else:
                story_birth = date(born, 1, 1) + timedelta(days=rng.randrange(365))
            story_year = story_birth.year  # the school and class are those of the story
            birth = story_birth.replace(year=story_year + calendar.shift)
            school_class = CLASS_BY_BIRTH_YEAR.get(story_year)
            if school_class is None:
                school = None
            elif commune != BOURG:
                school = f"École de {commune}" if story_year >= 2014 else f"Collège de {commune}"
            elif story_year >= 2019:
                school = maternelle
            elif story_year >= 2014:
                school = elementaire
            elif story_year >= 2010:
                school = college
            else:
                school = LYCEE
            if key == "F012":
                school_class = f"{school_class} (ULIS)"
            kids.append({"key": f"C{child_number:03d}", "first_name": first_name, "last_name": last_name or surname,
                         "birth_date": birth.isoformat(), "sex": sex, "school": school, "class": school_class})
        children_of[key] = kids
        first_eps = calendar.first_eps_date(key) or calendar.on("2025-03-01")
        if key in NO_CONSENT:
            consent_date = consent_scope = None
        else:
            consent_date = (first_eps - timedelta(days=rng.randint(7, 40))).isoformat()
            actions = sorted({o.convention for o in calendar.orientations if o.family == key})
            consent_scope = " ; ".join(["Parcours de réussite éducative", "échange d'informations en EPS"]
                                       + [CONVENTION_ACTION[c] for c in actions])
        number = rng.randint(1, 48)
        address = f"{number} {rng.choice(STREETS)}"
        if qpv:
            address += f", bât. {rng.choice('ABCDE')}, appt {rng.randint(1, 4)}{rng.randint(1, 12):02d}"
        families.append({
            "key": key, "name": f"Famille {surname}", "address": address, "commune": commune,
            "priority_neighbourhood": qpv, "referent": referent, "consent_date": consent_date,
            "consent_scope": consent_scope, "notes": notes.format(**calendar.words) if notes else notes,
            "guardians": [{"name": name, "relationship": relationship,
                           "phone": f"06 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"}
                          for name, relationship in guardians],
            "children": kids,
        })
    return families, children_of, referent_of


def _parcours(rng: random.Random, calendar: _Calendar, families: list[dict], children_of: dict,
              referent_of: dict) -> list[dict]:
    ended = {o.family: o for o in calendar.orientations if o.status == "ended" and o.convention == AP}
    closed_reasons = {"F003": "Objectifs atteints : relais par le centre social du quartier.",
                      "F007": "Déménagement hors de la commune."}
    suspended = {"F028"}  # Abdoul Ouédraogo: waiting for the CMP, see the EPS of June
    proposed_families = {"F029", "F032", "F025", "F026"}
    parcours = []
    for family in families:
        key = family["key"]
        for position, child in enumerate(children_of[key]):
            story_year = date.fromisoformat(child["birth_date"]).year - calendar.shift
            if story_year >= 2021 and position > 0:
                continue  # the toddler of a sibling group is not followed individually
            group = _age_group(story_year)
            objectives = " ; ".join(rng.sample(OBJECTIVES[group], 2 if group != "small" else 1))
            start = family["consent_date"] or (calendar.first_eps_date(key) or calendar.on("2025-03-03")).isoformat()
            record = {"key": f"P-{child['key']}", "child": child["key"], "referent": referent_of[key],
                      "status": "open", "start": start, "end": None, "objectives": objectives, "exit_reason": None}
            if key in ended:
                record.update(status="closed", end=ended[key].end.isoformat(), exit_reason=closed_reasons[key])
            elif key in suspended:
                record.update(status="suspended", exit_reason=None,
                              objectives=f"{objectives} ; parcours suspendu dans l'attente du CMP")
            elif key in proposed_families:
                record.update(status="proposed", start=None)
            elif key == "F031":
                record.update(status="closed", end=calendar.on("2025-05-16").isoformat(),
                              exit_reason="Famille domiciliée hors de Bourg-en-Bresse (Viriat).")
            parcours.append(record)
    return parcours


# -- what the reports count (issue 13) --------------------------------------------------------------------------
# Who refers a child depends on its age: the school for most, the PMI for the youngest, the CPE for a collégien.
REFERRAL_WEIGHTS = {
    "small": {"pmi": 4, "en_enseignant": 3, "en_direction": 2, "famille": 1, "ccas": 1},
    "middle": {"en_enseignant": 6, "en_direction": 4, "en_assistante_sociale": 1, "en_infirmiere": 1,
               "ase_departement": 1, "ccas": 1, "cmp_cmpp": 1, "famille": 1, "association": 1, "autre": 1},
    "teen": {"en_cpe": 5, "en_assistante_sociale": 2, "en_infirmiere": 2, "en_enseignant": 1, "ase_departement": 1,
             "cmp_cmpp": 1, "famille": 1, "autre": 1},
}
REASONS_BY_GROUP = {
    "small": ("langage", "sante", "soutien_parentalite", "vie_familiale", "acces_loisirs_culture"),
    "middle": ("scolarite", "comportement", "langage", "soutien_parentalite", "vie_familiale",
               "acces_loisirs_culture", "isolement_social", "sante"),
    "teen": ("scolarite", "absenteisme", "comportement", "isolement_social", "vie_familiale", "sante"),
}
OTHER_SOURCES = ("Centre social Amédée Mercier", "Club de football du quartier", "Médecin traitant")
OTHER_REASONS = ("Deuil récent dans la famille", "Arrivée récente en France", "Hospitalisation d'un parent")
PROFILE_WEIGHTS = {"veille": 2, "individualise": 7, "renforce": 2, "autre": 1}
OTHER_PROFILES = ("Accompagnement collectif uniquement", "Suivi partagé avec le CMP")
EXIT_CODES = {"F003": "objectifs_atteints", "F007": "demenagement", "F031": "autre"}
ACTIONS_BY_GROUP = {
    "small": ("Ateliers parents-enfants à la ludothèque", "Accompagnement à domicile (jeux de langage)"),
    "middle": ("Aide aux devoirs à domicile", "Inscription au centre de loisirs", "Atelier lecture à la médiathèque",
               "Rencontre avec l'enseignant chaque trimestre"),
    "teen": ("Tutorat scolaire", "Point mensuel avec la CPE", "Inscription au club sportif",
             "Stage de découverte professionnelle"),
}
SCHOOL_LEVEL_OF_CLASS = (("PS", "maternelle"), ("MS", "maternelle"), ("GS", "maternelle"), ("CP", "elementaire"),
                         ("CE", "elementaire"), ("CM", "elementaire"), ("6e", "college"), ("5e", "college"),
                         ("4e", "college"), ("3e", "college"), ("CAP", "lycee"))


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _record_fields(rng: random.Random, families: list[dict], parcours: list[dict]) -> None:
    """The QPV of the families in a priority neighbourhood, each child's school level and REP, and for each parcours
    who referred the child and why, the support profile, the planned actions and the exit reason: varied, so that
    every table of the bilan has something to count."""
    qpv_names = PROGRAMME["qpv_names"]
    group_of: dict[str, str] = {}
    for family in families:
        if family["priority_neighbourhood"]:
            family["qpv_name"] = rng.choice(qpv_names)
        for child in family["children"]:
            level = next((lvl for prefix, lvl in SCHOOL_LEVEL_OF_CLASS if (child["class"] or "").startswith(prefix)),
                         "non_scolarise")
            child["school_level"] = level
            if level != "non_scolarise" and level != "lycee":
                child["priority_education"] = SCHOOL_PRIORITY.get(child["school"], "hors_rep")
            group_of[child["key"]] = ("small" if level in ("maternelle", "non_scolarise") else
                                      "teen" if level in ("college", "lycee") else "middle")
    for record in parcours:
        group = group_of[record["child"]]
        source = _weighted(rng, REFERRAL_WEIGHTS[group])
        record["referral_source"] = source
        if source == "autre":
            record["referral_source_other"] = rng.choice(OTHER_SOURCES)
        reasons = rng.sample(REASONS_BY_GROUP[group], rng.choice((1, 2, 2, 3)))
        if rng.random() < 0.08:
            reasons.append("autre")
            record["referral_reason_other"] = rng.choice(OTHER_REASONS)
        record["referral_reasons"] = [code for code in REFERRAL_REASONS if code in reasons]
        if record["status"] != "proposed":  # the profile is decided when the parcours starts
            profile = _weighted(rng, PROFILE_WEIGHTS)
            record["support_profile"] = profile
            if profile == "autre":
                record["support_profile_other"] = rng.choice(OTHER_PROFILES)
            record["actions"] = " ; ".join(rng.sample(ACTIONS_BY_GROUP[group], 2))
        family_key = next(f["key"] for f in families if any(c["key"] == record["child"] for c in f["children"]))
        if record["status"] == "closed":
            record["exit_reason_code"] = EXIT_CODES.get(family_key, "relais_droit_commun")


def _orientations(calendar: _Calendar) -> list[dict]:
    ordered = sorted(calendar.orientations, key=lambda o: (calendar.eps[o.eps], o.family))
    return [{"key": f"OR-{n:03d}", "family": o.family, "convention": calendar.key[o.convention],
             "eps_date": calendar.eps[o.eps].isoformat(), "status": o.status,
             "decided_on": o.decided.isoformat() if o.decided else None,
             "decided_by": COORDINATOR if o.decided else None,
             "end": o.end.isoformat() if o.end else None, "reason": o.reason}
            for n, o in enumerate(ordered, start=1)]


def _eps_meetings(calendar: _Calendar) -> list[dict]:
    meetings = []
    for key, day in calendar.eps.items():
        situations = [{"family": o.family, "recommendation": CONVENTION_ACTION[o.convention]}
                      for o in calendar.orientations if o.eps == key]
        situations += [{"family": s[1], "recommendation": s[2]} for s in calendar.situations if s[0] == key]
        situations.sort(key=lambda s: (s["family"], s["recommendation"]))
        if key != "EPS-2024-12":
            notes = f"Séance mensuelle : {len(situations)} situation(s) étudiée(s)."
        elif calendar.first_day.month == 1:
            notes = f"Renouvellements Atout Plus pour {calendar.first_day.year}."
        else:
            notes = f"Renouvellements Atout Plus à partir de {calendar.month_name(0)} {calendar.first_day.year}."
        meetings.append({"key": calendar.eps_key(key), "date": day.isoformat(), "notes": notes,
                         "situations": situations})
    return meetings


def _meetings(calendar: _Calendar) -> list[dict]:
    plan = [(convention, "launch", calendar.on(day), present or PARTNER_INTERVENANTS[CONVENTION_PARTNER[convention]],
             note.format(**calendar.words) if note else None)
            for convention, day, present, note in LAUNCHES]
    period_ends = 0
    for k in range(12):
        month_start = _month_start(calendar.first_index + k)
        for c in CONVENTIONS:
            if month_start.month not in c["period_end_months"]:
                continue
            day = calendar.nth_weekday(k, THURSDAY, PERIOD_END_RANK.get((c["key"], month_start.month), 2))
            present, note = PARTNER_INTERVENANTS[c["partner"]], None
            if c["key"] == AP:
                period_ends += 1
                if period_ends == 2:
                    present, note = ["i-haddad", "i-perrin", "i-sow"], "Élodie Chevalier excusée."
                elif month_start.month == 12:
                    note = f"Bilan de l'année et perspectives {month_start.year + 1}."
            plan.append((c["key"], "period_end", day, present, note))
    for k in (2, 3, 1, 5, 4):  # a further period-end meeting, held in a month outside the convention's calendar
        month_start = _month_start(calendar.first_index + k)
        if month_start.month not in CONVENTIONS[0]["period_end_months"]:
            plan.append((AP, "period_end", calendar.nth_weekday(k, THURSDAY, 3), ["i-haddad", "i-sow"],
                         f"Réunion complémentaire de fin de période, tenue en {MONTHS_FR[month_start.month - 1]} "
                         "(hors calendrier de la convention)."))
            break
    counters: dict[str, int] = {}
    meetings = []
    for convention, kind, day, present, notes in sorted(plan, key=lambda m: (m[0], m[2])):
        if day > calendar.today:
            continue  # only the meetings held by today
        key = calendar.key[convention]
        counters[key] = counters.get(key, 0) + 1
        meetings.append({"key": f"M-{key}-{counters[key]:02d}", "convention": key, "kind": kind,
                         "date": day.isoformat(), "intervenants": sorted(present), "notes": notes})
    return meetings


class _Sessions:
    """Weekly home sessions for each validated orientation, plus the deliberate irregularities; none after today."""

    def __init__(self, rng: random.Random, calendar: _Calendar, children_of: dict):
        self.rng = rng
        self.calendar = calendar
        self.today = calendar.today
        self.children_of = children_of
        self.by_family: dict[str, list[dict]] = {}
        self.busy: dict[tuple[str, date], list[tuple[int, int]]] = {}
        self.free_slots = {i["key"]: list(range(len(SLOTS))) for i in INTERVENANTS}
        self.usual: dict[str, tuple[int, str, int, str]] = {}  # family -> weekday, time, duration, intervenant
        self.replacements: list[tuple[str, date, str, int]] = []

    # -- bookkeeping ----------------------------------------------------------------------------------------
    def _is_free(self, intervenant: str, day: date, start: str, duration: int) -> bool:
        begin = _minutes(start)
        return all(begin + duration + 15 <= b or e + 15 <= begin for b, e in self.busy.get((intervenant, day), []))

    def _add(self, family: str, intervenant: str, day: date, start: str, duration: int, status: str = "held",
             referent_present: bool = False, notes: str | None = None, approved: bool = False) -> dict:
        assert day <= self.today, "a home session is recorded once held"
        begin = _minutes(start)
        self.busy.setdefault((intervenant, day), []).append((begin, begin + duration))
        n_children = len(self.children_of[family])
        session = {
            "family": family, "intervenant": intervenant, "date": day.isoformat(), "start_time": start,
            "duration_minutes": duration, "status": status, "referent_present": referent_present,
            "children_present": (n_children if self.rng.random() < 0.8 else self.rng.randint(1, n_children))
            if status == "held" else None,
            "approved_exception": approved, "approved_by": COORDINATOR if approved else None, "notes": notes,
        }
        self.by_family.setdefault(family, []).append(session)
        return session

    def _free_time(self, intervenant: str, day: date, duration: int) -> str | None:
        for start in ("17:00", "18:15", "18:45", "14:00", "10:00", "15:30", "11:00"):
            if (day.weekday() != 2 and _minutes(start) < 16 * 60 + 30):
                continue  # children are at school
            if self._is_free(intervenant, day, start, duration):
                return start
        return None

    def _school_day_from(self, day: date) -> date | None:
        """The day, or the same weekday of a following week when it is no school day; None if after today."""
        for _attempt in range(4):
            if _school_day(day):
                return day if day <= self.today else None
            day += timedelta(days=7)
        return None

    # -- the twelve months -----------------------------------------------------------------------------------
    def build(self) -> list[dict]:
        rng, calendar = self.rng, self.calendar
        for o in calendar.orientations:
            if o.status not in ("validated", "ended"):
                continue
            family, intervenant = o.family, o.intervenant
            slot_index = self.free_slots[intervenant].pop(rng.randrange(len(self.free_slots[intervenant])))
            weekday, times = SLOTS[slot_index]
            start_time = rng.choice(times)
            duration = LONG_SESSIONS.get(family, 60)
            self.usual[family] = (weekday, start_time, duration, intervenant)
            if family in EARLY_START:  # as many days after the EPS meeting as in the story
                first = calendar.eps[o.eps] + (date.fromisoformat(EARLY_START[family])
                                               - date.fromisoformat(EPS_DATES[o.eps]))
            else:
                first = o.decided + timedelta(days=0 if o.story_decided == "2025-01-06" else rng.randint(2, 8))
            last = min(o.end or self.today, self.today)
            day = first + timedelta(days=(weekday - first.weekday()) % 7)
            count = 0
            while day <= last:
                if _school_day(day):
                    self._regular(family, o.convention, intervenant, day, start_time, duration, count)
                    count += 1
                day += timedelta(days=7)
        self._replace_sick_intervenant()
        self._extra_in_week()
        self._holiday_sessions()
        self._without_orientation()
        self._this_week()
        sessions = []
        for family in sorted(self.by_family):
            ordered = sorted(self.by_family[family], key=lambda s: (s["date"], s["start_time"]))
            for n, s in enumerate(ordered, start=1):
                sessions.append({"key": f"S-{family}-{n:04d}", **s})
        return sessions

    def _regular(self, family, convention, intervenant, day, start_time, duration, count) -> None:
        rng = self.rng
        who, sick_from, sick_to, replacement = self.calendar.sick_leave
        if intervenant == who and sick_from <= day <= sick_to:
            if day >= sick_from + timedelta(days=7):
                # Replaced by a colleague, once every regular session of the colleague is known.
                self.replacements.append((family, day, start_time, duration))
            else:
                self._add(family, intervenant, day, start_time, duration, "cancelled",
                          notes="Annulée : intervenante en arrêt maladie.")
            return
        if count == 0:
            present = family != FIRST_WITHOUT_REFERENT
            note = ("Première séance en présence du référent de parcours." if present
                    else "Première séance : référent de parcours excusé (réunion à l'école).")
            if family in EARLY_START:
                note = "Démarrage avant la validation de l'orientation, à la demande de l'EPS."
            self._add(family, intervenant, day, start_time, duration, referent_present=present, notes=note)
            return
        draw = rng.random()
        if draw < 0.07:
            self._add(family, intervenant, day, start_time, duration, "family_absent",
                      notes=rng.choice(ABSENT_NOTES) if rng.random() < 0.8 else None)
        elif draw < 0.11:
            self._add(family, intervenant, day, start_time, duration, "cancelled",
                      notes=rng.choice(CANCELLED_NOTES) if rng.random() < 0.8 else None)
        else:
            length, note = duration, None
            if duration == 60 and rng.random() < 0.04:
                length, note = 45, "Séance écourtée : enfant fatigué."
            elif rng.random() < 0.22:
                note = rng.choice(HELD_NOTES[convention])
            referent = rng.random() < 0.04
            if referent:
                note = "Point d'étape avec le référent de parcours."
            self._add(family, intervenant, day, start_time, length, referent_present=referent, notes=note)

    def _replace_sick_intervenant(self) -> None:
        who, _from, _to, replacement = self.calendar.sick_leave
        for family, day, start_time, duration in self.replacements:
            start = self._free_time(replacement, day, duration)
            if start is None:
                self._add(family, who, day, start_time, duration, "cancelled",
                          notes="Annulée : intervenante en arrêt maladie, pas de remplacement possible.")
            else:
                self._add(family, replacement, day, start, duration,
                          notes="Remplacement de Karima Haddad (arrêt maladie).")

    def _extra_in_week(self) -> None:
        """A second session in the same week: three approved by the coordinator, three not."""
        candidates = ["F001", "F004", "F009", "F011", "F012", "F002", "F017"]
        approved_notes = ["Séance supplémentaire avant l'équipe éducative à l'école (dérogation accordée).",
                          "Deuxième séance pour préparer le rendez-vous au CMP (dérogation accordée).",
                          "Séance supplémentaire avant le conseil de classe (dérogation accordée)."]
        added = 0
        for family in candidates:
            if added == 6:
                break
            if family not in self.usual:
                continue
            weekday, start_time, duration, intervenant = self.usual[family]
            held = [s for s in self.by_family.get(family, [])[1:-1]
                    if s["status"] == "held" and s["intervenant"] == intervenant]
            for s in self.rng.sample(held, len(held)):
                day = date.fromisoformat(s["date"])
                other = [day - timedelta(days=day.weekday()) + timedelta(days=d) for d in range(5) if d != weekday]
                other = [d for d in other if _school_day(d) and d <= self.today]
                placed = False
                for extra_day in other:
                    start = self._free_time(intervenant, extra_day, duration)
                    if start is None:
                        continue
                    approved = added < 3
                    note = (approved_notes[added] if approved
                            else "Deuxième séance dans la semaine à la demande de la famille.")
                    self._add(family, intervenant, extra_day, start, duration, notes=note, approved=approved)
                    placed = True
                    break
                if placed:
                    added += 1
                    break

    def _holiday_sessions(self) -> None:
        """One session in each of three holiday periods, each while its family is followed."""
        wednesdays = self.calendar.holiday_wednesdays()
        used: set[date] = set()
        for family, approved, note in HOLIDAY_SESSIONS:
            if family not in self.usual or not self.by_family.get(family):
                continue
            days = [date.fromisoformat(s["date"]) for s in self.by_family[family]]
            followed = [d for d in wednesdays if min(days) < d < max(days)]
            choice = next((d for d in followed if d not in used), followed[0] if followed else None)
            if choice is None:
                continue
            used.add(choice)
            _w, _t, duration, intervenant = self.usual[family]
            start = self._free_time(intervenant, choice, duration) or "10:00"
            self._add(family, intervenant, choice, start, duration, notes=note, approved=approved)

    def _without_orientation(self) -> None:
        calendar = self.calendar
        # F023: the EPS proposed Atout Plus in October; the intervenant began before the coordinator decided.
        proposed = any(o.family == "F023" and o.status == "proposed" for o in calendar.orientations)
        first = self._school_day_from(calendar.on("2025-11-13")) if proposed else None
        days = [first, self._school_day_from(first + timedelta(days=7))] if first else []
        for n, the_day in enumerate(d for d in days if d is not None):
            start = self._free_time("i-perrin", the_day, 60) or "18:45"
            self._add("F023", "i-perrin", the_day, start, 60, referent_present=n == 0,
                      notes="Orientation proposée, en attente de validation par la coordination.")
        # F028: a discovery visit asked by the référente, with no orientation at all.
        the_day = self._school_day_from(calendar.on("2025-06-04"))
        if the_day is not None:
            self._add("F028", "i-sow", the_day, self._free_time("i-sow", the_day, 60) or "11:00", 60,
                      referent_present=True,
                      notes="Visite de découverte à la demande de la référente (sans orientation).")

    def _this_week(self) -> None:
        """The window opens on « Semaine » and « ce mois-ci »: when no session was held yet in today's week (today
        is a Monday, or the regular sessions fall later in the week), one is brought forward to a day already
        gone — during the holidays it is a holiday session."""
        monday = self.today - timedelta(days=self.today.weekday())
        held = [s for sessions in self.by_family.values() for s in sessions
                if s["status"] == "held" and monday.isoformat() <= s["date"] <= self.today.isoformat()]
        days = [d for d in (monday + timedelta(days=n) for n in range(5))
                if d <= self.today and d not in _public_holidays(d.year)]
        if held or not days:
            return
        school_days = [d for d in days if _school_day(d)]
        day = (school_days or days)[-1]
        followed = [o for o in self.calendar.orientations if o.status == "validated" and o.family in self.usual
                    and any(s["date"] < day.isoformat() for s in self.by_family.get(o.family, []))]
        later_this_week = [o for o in followed if self.usual[o.family][0] > day.weekday()]
        for o in later_this_week + followed:
            _w, _t, duration, intervenant = self.usual[o.family]
            start = self._free_time(intervenant, day, duration)
            if start is None:
                continue
            if school_days:
                note = "Séance avancée dans la semaine à la demande de la famille."
            else:
                note = "Séance pendant les vacances, à la demande de la famille."
            self._add(o.family, intervenant, day, start, duration, notes=note)
            return


def _summary(data: dict) -> str:
    families = len(data["families"])
    children = sum(len(f["children"]) for f in data["families"])
    return (f"{families} familles, {children} enfants, {len(data['intervenants'])} intervenants, "
            f"{len(data['conventions'])} conventions, {len(data['sessions'])} séances")


def load_demo(uow, user=None, today: date | None = None) -> str:
    """Import the demo programme (the twelve months up to `today`, the clock's date when not given) in one
    transaction; harmless if the store already holds it. Without `user` (the window's first start) only into a
    store where nobody can log in yet."""
    from services.dataset import import_dataset

    data = build_demo_dataset(today=today)
    report = import_dataset(uow, data, user)
    if report.created_total == 0:
        return f"Programme de démonstration déjà présent, rien n'a été ajouté ({_summary(data)})."
    return f"Programme de démonstration chargé : {_summary(data)}."
