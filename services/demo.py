"""A realistic, entirely fictional programme for demonstrations and manual testing.

`build_demo_dataset` is pure and deterministic: the same seed always gives the same `parcours-dataset/1`
dictionary (no date.today(), one `random.Random(seed)`), so loading the demo into a store that already holds
it is harmless — the importer finds every record identical and creates nothing.

The year told by the data is 2025 in Bourg-en-Bresse (zone A): families followed by the DRE, the Atout Plus
convention with Adom 01 (tariffs of the CCAS deliberation of 19 December 2024), a second convention
(accompagnement scolaire à domicile with Les PEP de l'Ain), monthly EPS meetings, orientations, weekly home
sessions outside school holidays, and the meetings billed under each convention. A few records deliberately
break the rules (second session in a week, session during the holidays, session before the orientation is
validated, first session without the référent, family outside the eligible communes) so that statements and
import warnings have something to show.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache

YEAR = 2025
FIRST_DAY, LAST_DAY = date(YEAR, 1, 1), date(YEAR, 12, 31)
ZONE = "A"

PROGRAMME = {
    "name": "Dispositif de Réussite Éducative de Bourg-en-Bresse",
    "holiday_zone": ZONE,
    "eligible_communes": ["Bourg-en-Bresse"],
    "city": "Bourg-en-Bresse",
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
AP, AS = "AP-2025", "AS-2025"
ACTION_AP, ACTION_AS = "Atout Plus", "Accompagnement scolaire à domicile"
CONVENTIONS = [
    {
        "key": AP, "partner": "adom", "action": ACTION_AP, "start": "2025-01-01", "end": "2025-12-31",
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
        "key": AS, "partner": "pep01", "action": ACTION_AS, "start": "2025-01-01", "end": "2025-12-31",
        "max_families": 12, "budget_cap": "20000.00", "period_end_months": [6, 12],
        "budget_imputation": IMPUTATION,
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

# French public holidays of 2025, and the Friday after Ascension (no school anywhere in France).
NO_SCHOOL_2025 = frozenset(date.fromisoformat(d) for d in (
    "2025-01-01", "2025-04-21", "2025-05-01", "2025-05-08", "2025-05-29", "2025-05-30", "2025-06-09",
    "2025-07-14", "2025-08-15", "2025-11-01", "2025-11-11", "2025-12-25",
))

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
     "Famille arrivée en France en 2023 (protection internationale)."),
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
     [("Théo", "M", 2013, None)], "Famille domiciliée à Viriat depuis décembre 2024."),
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
CLASS_BY_BIRTH_YEAR = {  # school year 2024-2025
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
EARLY_START = {"F010": "2025-03-12"}  # the intervenant began before the coordinator's decision
SICK_LEAVE = ("i-haddad", date(2025, 11, 17), date(2025, 11, 28), "i-perrin")  # who, from, to, replaced by (2nd week)


@lru_cache(maxsize=1)
def _holidays() -> frozenset[date]:
    from vacances_scolaires_france import SchoolHolidayDates

    calendar = SchoolHolidayDates()
    days = (FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1))
    return frozenset(d for d in days if calendar.is_holiday_for_zone(d, ZONE))


def _school_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays() and day not in NO_SCHOOL_2025


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _age_group(birth: date) -> str:
    age = YEAR - birth.year
    return "small" if age <= 5 else "middle" if age <= 11 else "teen"


def build_demo_dataset(seed: int = 2025) -> dict:
    """The demo programme as a `parcours-dataset/1` dictionary; same seed, same dictionary."""
    rng = random.Random(seed)
    families, children_of, referent_of = _families(rng)
    parcours = _parcours(rng, families, children_of, referent_of)
    orientations = _orientations()
    eps_meetings = _eps_meetings()
    sessions = _Sessions(rng, children_of).build()
    meetings = _meetings()
    return {
        "format": "parcours-dataset/1",
        "programme": dict(PROGRAMME, eligible_communes=list(PROGRAMME["eligible_communes"])),
        "users": [dict(u) for u in USERS],
        "partners": [dict(p) for p in PARTNERS],
        "conventions": [_copy_convention(c) for c in CONVENTIONS],
        "intervenants": [dict(i) for i in INTERVENANTS],
        "families": families,
        "parcours": parcours,
        "eps_meetings": eps_meetings,
        "orientations": orientations,
        "sessions": sessions,
        "meetings": meetings,
    }


def _copy_convention(c: dict) -> dict:
    return {**c, "period_end_months": list(c["period_end_months"]),
            "tariffs": {q: dict(kinds) for q, kinds in c["tariffs"].items()}}


def _first_eps_date(family_key: str) -> date | None:
    dates = [EPS_DATES[o[2]] for o in ORIENTATIONS if o[0] == family_key]
    dates += [EPS_DATES[s[0]] for s in OTHER_SITUATIONS if s[1] == family_key]
    return date.fromisoformat(min(dates)) if dates else None


def _families(rng: random.Random):
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
                birth = date.fromisoformat(born)
            else:
                birth = date(born, 1, 1) + timedelta(days=rng.randrange(365))
            school_class = CLASS_BY_BIRTH_YEAR.get(birth.year)
            if school_class is None:
                school = None
            elif commune != BOURG:
                school = f"École de {commune}" if birth.year >= 2014 else f"Collège de {commune}"
            elif birth.year >= 2019:
                school = maternelle
            elif birth.year >= 2014:
                school = elementaire
            elif birth.year >= 2010:
                school = college
            else:
                school = LYCEE
            if key == "F012":
                school_class = f"{school_class} (ULIS)"
            kids.append({"key": f"C{child_number:03d}", "first_name": first_name, "last_name": last_name or surname,
                         "birth_date": birth.isoformat(), "sex": sex, "school": school, "class": school_class})
        children_of[key] = kids
        first_eps = _first_eps_date(key) or date(2025, 3, 1)
        if key in NO_CONSENT:
            consent_date = consent_scope = None
        else:
            consent_date = (first_eps - timedelta(days=rng.randint(7, 40))).isoformat()
            actions = sorted({o[1] for o in ORIENTATIONS if o[0] == key})
            consent_scope = " ; ".join(["Parcours de réussite éducative", "échange d'informations en EPS"]
                                       + [CONVENTION_ACTION[c] for c in actions])
        number = rng.randint(1, 48)
        address = f"{number} {rng.choice(STREETS)}"
        if qpv:
            address += f", bât. {rng.choice('ABCDE')}, appt {rng.randint(1, 4)}{rng.randint(1, 12):02d}"
        families.append({
            "key": key, "name": f"Famille {surname}", "address": address, "commune": commune,
            "priority_neighbourhood": qpv, "referent": referent, "consent_date": consent_date,
            "consent_scope": consent_scope, "notes": notes,
            "guardians": [{"name": name, "relationship": relationship,
                           "phone": f"06 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"}
                          for name, relationship in guardians],
            "children": kids,
        })
    return families, children_of, referent_of


def _parcours(rng: random.Random, families: list[dict], children_of: dict, referent_of: dict) -> list[dict]:
    ended = {o[0]: o for o in ORIENTATIONS if o[3] == "ended" and o[1] == AP}
    closed_reasons = {"F003": "Objectifs atteints : relais par le centre social du quartier.",
                      "F007": "Déménagement hors de la commune."}
    suspended = {"F028"}  # Abdoul Ouédraogo: waiting for the CMP, see the EPS of June
    proposed_families = {"F029", "F032", "F025", "F026"}
    parcours = []
    for family in families:
        key = family["key"]
        for position, child in enumerate(children_of[key]):
            birth = date.fromisoformat(child["birth_date"])
            if birth.year >= 2021 and position > 0:
                continue  # the toddler of a sibling group is not followed individually
            group = _age_group(birth)
            objectives = " ; ".join(rng.sample(OBJECTIVES[group], 2 if group != "small" else 1))
            start = family["consent_date"] or (_first_eps_date(key) or date(2025, 3, 3)).isoformat()
            record = {"key": f"P-{child['key']}", "child": child["key"], "referent": referent_of[key],
                      "status": "open", "start": start, "end": None, "objectives": objectives, "exit_reason": None}
            if key in ended:
                record.update(status="closed", end=ended[key][5], exit_reason=closed_reasons[key])
            elif key in suspended:
                record.update(status="suspended", exit_reason=None,
                              objectives=f"{objectives} ; parcours suspendu dans l'attente du CMP")
            elif key in proposed_families:
                record.update(status="proposed", start=None)
            elif key == "F031":
                record.update(status="closed", end="2025-05-16",
                              exit_reason="Famille domiciliée hors de Bourg-en-Bresse (Viriat).")
            parcours.append(record)
    return parcours


def _orientations() -> list[dict]:
    ordered = sorted(ORIENTATIONS, key=lambda o: (EPS_DATES[o[2]], o[0]))
    return [{"key": f"OR-{n:03d}", "family": family, "convention": convention, "eps_date": EPS_DATES[eps],
             "status": status, "decided_on": decided, "decided_by": COORDINATOR if decided else None,
             "end": end, "reason": reason}
            for n, (family, convention, eps, status, decided, end, reason, _i) in enumerate(ordered, start=1)]


def _eps_meetings() -> list[dict]:
    meetings = []
    for key, day in EPS_DATES.items():
        situations = [{"family": o[0], "recommendation": CONVENTION_ACTION[o[1]]} for o in ORIENTATIONS if o[2] == key]
        situations += [{"family": s[1], "recommendation": s[2]} for s in OTHER_SITUATIONS if s[0] == key]
        situations.sort(key=lambda s: (s["family"], s["recommendation"]))
        notes = ("Renouvellements Atout Plus pour 2025." if key == "EPS-2024-12"
                 else f"Séance mensuelle : {len(situations)} situation(s) étudiée(s).")
        meetings.append({"key": key, "date": day, "notes": notes, "situations": situations})
    return meetings


def _meetings() -> list[dict]:
    adom, pep = PARTNER_INTERVENANTS["adom"], PARTNER_INTERVENANTS["pep01"]
    plan = [
        (AP, "launch", "2025-01-23", adom, "Présentation des familles entrées dans l'action en janvier."),
        (AP, "period_end", "2025-02-20", adom, None),
        (AP, "period_end", "2025-03-27", ["i-haddad", "i-sow"],
         "Réunion complémentaire de fin de période, tenue en mars (hors calendrier de la convention)."),
        (AP, "period_end", "2025-04-17", ["i-haddad", "i-perrin", "i-sow"], "Élodie Chevalier excusée."),
        (AP, "period_end", "2025-07-03", adom, None),
        (AP, "launch", "2025-09-25", adom, "Présentation des familles orientées par l'EPS de septembre."),
        (AP, "period_end", "2025-10-16", adom, None),
        (AP, "period_end", "2025-12-18", adom, "Bilan de l'année et perspectives 2026."),
        (AS, "launch", "2025-01-30", ["i-belkacem", "i-roux"], None),
        (AS, "period_end", "2025-06-26", pep, None),
        (AS, "period_end", "2025-12-11", pep, None),
    ]
    counters: dict[str, int] = {}
    meetings = []
    for convention, kind, day, present, notes in sorted(plan, key=lambda m: (m[0], m[2])):
        counters[convention] = counters.get(convention, 0) + 1
        meetings.append({"key": f"M-{convention}-{counters[convention]:02d}", "convention": convention, "kind": kind,
                         "date": day, "intervenants": sorted(present), "notes": notes})
    return meetings


class _Sessions:
    """Weekly home sessions for each validated orientation, plus the deliberate irregularities."""

    def __init__(self, rng: random.Random, children_of: dict):
        self.rng = rng
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

    # -- the year ---------------------------------------------------------------------------------------------
    def build(self) -> list[dict]:
        rng = self.rng
        for family, convention, _eps, status, decided, end, _reason, intervenant in ORIENTATIONS:
            if status not in ("validated", "ended"):
                continue
            slot_index = self.free_slots[intervenant].pop(rng.randrange(len(self.free_slots[intervenant])))
            weekday, times = SLOTS[slot_index]
            start_time = rng.choice(times)
            duration = LONG_SESSIONS.get(family, 60)
            self.usual[family] = (weekday, start_time, duration, intervenant)
            decided_on = date.fromisoformat(decided)
            first = date.fromisoformat(EARLY_START[family]) if family in EARLY_START else \
                decided_on + timedelta(days=0 if decided == "2025-01-06" else rng.randint(2, 8))
            last = min(date.fromisoformat(end) if end else LAST_DAY, date(YEAR, 12, 19))
            day = first + timedelta(days=(weekday - first.weekday()) % 7)
            count = 0
            while day <= last:
                if _school_day(day):
                    self._regular(family, convention, intervenant, day, start_time, duration, count)
                    count += 1
                day += timedelta(days=7)
        self._replace_sick_intervenant()
        self._extra_in_week()
        self._holiday_sessions()
        self._without_orientation()
        sessions = []
        for family in sorted(self.by_family):
            ordered = sorted(self.by_family[family], key=lambda s: (s["date"], s["start_time"]))
            for n, s in enumerate(ordered, start=1):
                sessions.append({"key": f"S-{family}-{n:04d}", **s})
        return sessions

    def _regular(self, family, convention, intervenant, day, start_time, duration, count) -> None:
        rng = self.rng
        who, sick_from, sick_to, replacement = SICK_LEAVE
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
        who, _from, _to, replacement = SICK_LEAVE
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
            weekday, start_time, duration, intervenant = self.usual[family]
            held = [s for s in self.by_family[family][1:-1]
                    if s["status"] == "held" and s["intervenant"] == intervenant]
            for s in self.rng.sample(held, len(held)):
                day = date.fromisoformat(s["date"])
                other = [day - timedelta(days=day.weekday()) + timedelta(days=d) for d in range(5) if d != weekday]
                other = [d for d in other if _school_day(d)]
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
        plan = [("F009", "2025-02-26", True,
                 "Séance pendant les vacances : dérogation accordée (situation familiale tendue)."),
                ("F005", "2025-04-23", False, "Séance pendant les vacances, à la demande de la mère."),
                ("F012", "2025-10-22", False, "Rattrapage de la séance annulée avant les vacances.")]
        for family, day, approved, note in plan:
            _w, _t, duration, intervenant = self.usual[family]
            the_day = date.fromisoformat(day)
            start = self._free_time(intervenant, the_day, duration) or "10:00"
            self._add(family, intervenant, the_day, start, duration, notes=note, approved=approved)

    def _without_orientation(self) -> None:
        # F023: the EPS proposed Atout Plus in October; the intervenant began before the coordinator decided.
        for n, day in enumerate(("2025-11-13", "2025-11-20")):
            the_day = date.fromisoformat(day)
            start = self._free_time("i-perrin", the_day, 60) or "18:45"
            self._add("F023", "i-perrin", the_day, start, 60, referent_present=n == 0,
                      notes="Orientation proposée, en attente de validation par la coordination.")
        # F028: a discovery visit asked by the référente, with no orientation at all.
        the_day = date(2025, 6, 4)
        self._add("F028", "i-sow", the_day, self._free_time("i-sow", the_day, 60) or "11:00", 60, referent_present=True,
                  notes="Visite de découverte à la demande de la référente (sans orientation).")


def _summary(data: dict) -> str:
    families = len(data["families"])
    children = sum(len(f["children"]) for f in data["families"])
    return (f"{families} familles, {children} enfants, {len(data['intervenants'])} intervenants, "
            f"{len(data['conventions'])} conventions, {len(data['sessions'])} séances")


def load_demo(uow, user=None) -> str:
    """Import the demo programme in one transaction; harmless if the store already holds it. Without `user`
    (the window's first start) only into a store where nobody can log in yet."""
    from services.dataset import import_dataset

    data = build_demo_dataset()
    report = import_dataset(uow, data, user)
    if report.created_total == 0:
        return f"Programme de démonstration déjà présent, rien n'a été ajouté ({_summary(data)})."
    return f"Programme de démonstration chargé : {_summary(data)}."
