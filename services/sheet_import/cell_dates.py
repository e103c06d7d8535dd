"""A spreadsheet cell read as a date: a date or datetime cell, an Excel serial number, or a text typed every way a
French team types it (services.dates.parse_french_date: « 03/04/2015 », « 3-4-15 », « 2015-04-03 », « 3 avril
2015 »…). What is no date is refused with a ValidationError whose message says why, in French; never another error.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

from services.dates import EARLIEST_YEAR, LATEST_YEAR, parse_french_date
from services.errors import ValidationError

# Excel's 1900 date system counts days from 30/12/1899 (its phantom 29/02/1900 included); 1904 from 01/01/1904.
EPOCH_1900, EPOCH_1904 = date(1899, 12, 30), date(1904, 1, 1)
_FIRST_SERIAL = (date(EARLIEST_YEAR, 1, 1) - EPOCH_1900).days
_LAST_SERIAL = (date(LATEST_YEAR, 12, 31) - EPOCH_1900).days
_WITH_TIME = re.compile(r"(?<=[0-9])(?:\s+|T)[0-9]{1,2}[:h][0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?$")


def cell_date(value: object, epoch: date = EPOCH_1900) -> date:
    """The date a cell holds; raises ValidationError (no field: the caller names the row and column)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValidationError("Une case cochée (vrai/faux) n'est pas une date.")
    if isinstance(value, (int, float)):
        return serial_date(value, epoch)
    if isinstance(value, str):
        # « 03/04/2015 00:00 », « 2015-04-03T00:00:00 »: a date that a program wrote with its (empty) hour
        return parse_french_date(_WITH_TIME.sub("", value.strip()))
    if value is None:
        return parse_french_date(None)
    raise ValidationError("Cette case ne contient pas une date lisible.")


def serial_date(serial: int | float, epoch: date = EPOCH_1900) -> date:
    """An Excel date number (« 42097 » for 03/04/2015); the fraction of a day (an hour) is dropped."""
    if not math.isfinite(serial) or not _FIRST_SERIAL <= serial <= _LAST_SERIAL:
        raise ValidationError(f"Le nombre {_number(serial)} n'est pas une date : un tableur compte les dates en "
                              f"jours depuis 1900 (par exemple 42097 pour le 03/04/2015).")
    return epoch + timedelta(days=int(serial))


def _number(value: float) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace(".", ",")
