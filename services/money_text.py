"""Reading an amount typed or written as text: « 56,13 », « 56.13 », « 1 234,56 € » all mean the same Decimal.

One reader for the window and the import (a file may say "30,00" as the window does), each refusal saying what is
wrong: a sign, a third decimal, more digits than a tariff or a cap can have."""
from __future__ import annotations

import re
from decimal import Decimal

from services.errors import ValidationError

MAX_INTEGER_DIGITS = 9  # up to 999 999 999,99 €: far above any cap, and well inside 64-bit integer cents
_NUMBER = re.compile(r"\A(?P<units>[0-9]+)(?:[.,](?P<cents>[0-9]+))?\Z")
CENT = Decimal("0.01")


def parse_amount_text(text: str, field: str | None = None) -> Decimal:
    raw = text.strip()
    compact = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").removesuffix("€")
    if compact.startswith("-"):
        raise ValidationError("Le montant ne peut pas être négatif.", field=field)
    compact = compact.removeprefix("+")
    match = _NUMBER.match(compact)
    if match is None:
        raise ValidationError(f"Montant illisible « {raw} » : écrivez par exemple 56,13.", field=field)
    if match["cents"] and len(match["cents"]) > 2:
        raise ValidationError(f"Le montant « {raw} » a plus de deux décimales : un montant se compte en centimes.",
                              field=field)
    if len(match["units"].lstrip("0")) > MAX_INTEGER_DIGITS:
        raise ValidationError(f"Le montant « {raw} » est trop grand (au plus 999 999 999,99 €).", field=field)
    return Decimal(f"{match['units']}.{match['cents'] or '0'}").quantize(CENT)
