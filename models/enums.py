"""The closed vocabularies of the domain, as stored in the database."""

ROLES = ("referent", "coordinator", "administrator")
HOLIDAY_ZONES = ("A", "B", "C")
QUALIFICATIONS = ("AES", "TISF")
TARIFF_KINDS = ("home_intervention", "weekly_preparation", "launch_meeting", "period_end_meeting")
# The kinds of a statement line: the tariff kinds, and the home interventions of an hourly convention (its quantity
# is the billed minutes, priced at the home_intervention tariff per hour).
LINE_KINDS = (*TARIFF_KINDS, "home_hours")
HOME_UNITS = ("session", "hour")
PARCOURS_STATUSES = ("proposed", "open", "suspended", "closed")
ORIENTATION_STATUSES = ("proposed", "validated", "rejected", "ended")
SESSION_STATUSES = ("held", "cancelled", "family_absent")
MEETING_KINDS = ("launch", "period_end")
SEXES = ("F", "M")


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK constraint restricting a column to a vocabulary."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
