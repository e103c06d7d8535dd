"""The closed vocabularies of the domain, as stored in the database."""

ROLES = ("referent", "coordinator", "administrator")
HOLIDAY_ZONES = ("A", "B", "C")
QUALIFICATIONS = ("AES", "TISF")
TARIFF_KINDS = ("home_intervention", "weekly_preparation", "launch_meeting", "period_end_meeting")
PARCOURS_STATUSES = ("proposed", "open", "suspended", "closed")
ORIENTATION_STATUSES = ("proposed", "validated", "rejected", "ended")
SESSION_STATUSES = ("held", "cancelled", "family_absent")
MEETING_KINDS = ("launch", "period_end")
SEXES = ("F", "M")


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK constraint restricting a column to a vocabulary."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
