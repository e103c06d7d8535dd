"""The closed vocabularies of the domain, as stored in the database."""

ROLES = ("referent", "coordinator", "administrator")
HOLIDAY_ZONES = ("A", "B", "C")
# The qualifications of a convention that declares none (every convention before migration 0008): since 0008 a
# convention lists its own (`Convention.qualifications`) and an intervenant carries any label of 1 to 20 characters.
QUALIFICATIONS = ("AES", "TISF")
MAX_QUALIFICATION = 20
TARIFF_KINDS = ("home_intervention", "weekly_preparation", "launch_meeting", "period_end_meeting")
# « Forfait mensuel par famille suivie » (migration 0008): one unit per family followed in the month, whoever
# intervenes. It is stored in the tariff table (so that an avenant carries it like any other rate, and a statement
# line keeps its (kind, qualification, unit price) shape) under the reserved qualification label FLAT_QUALIFICATION,
# which no intervenant may carry and no convention may declare.
FLAT_KIND = "monthly_family_flat"
FLAT_QUALIFICATION = "forfait"
PRICED_KINDS = (*TARIFF_KINDS, FLAT_KIND)  # what the tariff table stores
# The kinds of a statement line: the tariff kinds, and the home interventions of an hourly convention (its quantity
# is the billed minutes, priced at the home_intervention tariff per hour).
LINE_KINDS = (*TARIFF_KINDS, "home_hours", FLAT_KIND)
HOME_UNITS = ("session", "hour")
PARCOURS_STATUSES = ("proposed", "open", "suspended", "closed")
ORIENTATION_STATUSES = ("proposed", "validated", "rejected", "ended")
SESSION_STATUSES = ("held", "cancelled", "family_absent")
MEETING_KINDS = ("launch", "period_end")
SEXES = ("F", "M")


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK constraint restricting a column to a vocabulary."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# The closed lists the reports count (issue 13, migration 0012). Each list offering « autre » has a free-text
# precision column beside its code; the labels are what the window and the reports show.
OTHER = "autre"
MAX_PRECISION = 200  # the « autre (préciser) » free text beside a code
MAX_QPV_NAME = 120
REFERRAL_SOURCES = ("en_enseignant", "en_direction", "en_cpe", "en_infirmiere", "en_assistante_sociale", "pmi",
                    "ase_departement", "ccas", "cmp_cmpp", "famille", "association", "autre")
REFERRAL_SOURCE_LABELS = {
    "en_enseignant": "Éducation nationale — enseignant",
    "en_direction": "Éducation nationale — direction d'école ou d'établissement",
    "en_cpe": "Éducation nationale — CPE",
    "en_infirmiere": "Éducation nationale — infirmière scolaire",
    "en_assistante_sociale": "Éducation nationale — assistante sociale",
    "pmi": "PMI",
    "ase_departement": "ASE / services du Département",
    "ccas": "CCAS",
    "cmp_cmpp": "CMP / CMPP",
    "famille": "La famille elle-même",
    "association": "Association",
    "autre": "Autre (préciser)",
}
REFERRAL_REASONS = ("scolarite", "comportement", "sante", "langage", "absenteisme", "soutien_parentalite",
                    "vie_familiale", "acces_loisirs_culture", "isolement_social", "autre")
REFERRAL_REASON_LABELS = {
    "scolarite": "Scolarité, apprentissages",
    "comportement": "Comportement",
    "sante": "Santé",
    "langage": "Langage",
    "absenteisme": "Absentéisme scolaire",
    "soutien_parentalite": "Soutien à la parentalité",
    "vie_familiale": "Vie familiale",
    "acces_loisirs_culture": "Accès aux loisirs et à la culture",
    "isolement_social": "Isolement social",
    "autre": "Autre (préciser)",
}
SUPPORT_PROFILES = ("veille", "individualise", "renforce", "autre")
SUPPORT_PROFILE_LABELS = {
    "veille": "Veille",
    "individualise": "Parcours individualisé",
    "renforce": "Parcours renforcé",
    "autre": "Autre (préciser)",
}
EXIT_REASONS = ("objectifs_atteints", "relais_droit_commun", "demenagement", "refus_abandon", "limite_age", "autre")
EXIT_REASON_LABELS = {
    "objectifs_atteints": "Objectifs atteints",
    "relais_droit_commun": "Relais vers le droit commun",
    "demenagement": "Déménagement",
    "refus_abandon": "Refus ou abandon de la famille",
    "limite_age": "Limite d'âge atteinte",
    "autre": "Autre (préciser)",
}
SCHOOL_LEVELS = ("maternelle", "elementaire", "college", "lycee", "non_scolarise")
SCHOOL_LEVEL_LABELS = {
    "maternelle": "Maternelle",
    "elementaire": "Élémentaire",
    "college": "Collège",
    "lycee": "Lycée",
    "non_scolarise": "Non scolarisé",
}
PRIORITY_EDUCATION = ("hors_rep", "rep", "rep_plus")
PRIORITY_EDUCATION_LABELS = {
    "hors_rep": "Hors éducation prioritaire",
    "rep": "REP",
    "rep_plus": "REP+",
}
