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
