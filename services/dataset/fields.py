"""Reading one record of an interchange file, field by field, with a French message naming what is wrong."""
from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from services.errors import ImportRejected
from services.uow import unstorable

RECORD_LABELS = {
    "programme": "Programme",
    "users": "Utilisateur",
    "partners": "Partenaire",
    "conventions": "Convention",
    "intervenants": "Intervenant",
    "families": "Famille",
    "children": "Enfant",
    "parcours": "Parcours",
    "eps_meetings": "Séance d'EPS",
    "orientations": "Orientation",
    "sessions": "Séance à domicile",
    "meetings": "Réunion",
}

# ASCII digits only and \Z (not $, which accepts a trailing newline): "１４:００" or "٣٠.٠٠" are malformed.
_DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIME = re.compile(r"\A([0-9]{2}):([0-9]{2})\Z")
_MONEY = re.compile(r"\A[0-9]{1,9}(\.[0-9]{1,2})?\Z")
MAX_TEXT = 10_000


class RecordReader:
    """Wraps one JSON object of a given section; every getter validates and explains failures."""

    def __init__(self, section: str, raw: Any, position: int | None = None):
        self.section = section
        if not isinstance(raw, dict):
            where = f" n° {position + 1}" if position is not None else ""
            raise ImportRejected(f"{RECORD_LABELS[section]}{where} : un objet JSON {{…}} est attendu.")
        self.raw = raw
        self.key = raw.get("key") if section != "programme" else None
        if section != "programme":
            if not isinstance(self.key, str) or not self.key.strip():
                where = f" n° {position + 1}" if position is not None else ""
                raise ImportRejected(
                    f"{RECORD_LABELS[section]}{where} : le champ « key » (identifiant texte non vide) est obligatoire.",
                    field="key",
                )
            if len(self.key) > 64:
                raise ImportRejected(f"{self._who()} : la clé dépasse 64 caractères.", field="key")
            if _unstorable(self.key):
                raise ImportRejected(f"{RECORD_LABELS[section]} « {printable(self.key)} » : la clé contient un "
                                     "caractère invalide (caractère nul ou Unicode mal formé).", field="key")

    def _who(self) -> str:
        label = RECORD_LABELS[self.section]
        return f"{label} « {self.key} »" if self.key is not None else label

    def reject_unknown_fields(self, allowed) -> None:
        """A field this format does not know would be silently lost (often a misspelt name): refuse it."""
        unknown = sorted(str(name) for name in set(self.raw) - set(allowed))
        if unknown:
            raise self.fail(unknown[0], f"champ inconnu (champs possibles : {', '.join(sorted(allowed))})")

    def fail(self, field: str, reason: str) -> ImportRejected:
        return ImportRejected(printable(f"{self._who()}, champ « {field} » : {reason}."), field=field)

    def _get(self, field: str, required: bool) -> Any:
        value = self.raw.get(field)
        if value is None and required:
            raise self.fail(field, "valeur obligatoire manquante")
        return value

    def text(self, field: str, required: bool = True, max_length: int = MAX_TEXT) -> str | None:
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(field, f"un texte est attendu, pas {_describe(value)}")
        value = value.strip()
        if required and not value:
            raise self.fail(field, "le texte ne peut pas être vide")
        if len(value) > max_length:
            raise self.fail(field, f"le texte dépasse {max_length} caractères")
        if _unstorable(value):
            raise self.fail(field, "le texte contient un caractère invalide (caractère nul ou Unicode mal formé)")
        return value or None

    def date(self, field: str, required: bool = True) -> date | None:
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.match(value):
            raise self.fail(field, f"date attendue au format AAAA-MM-JJ, reçu {_describe(value)}")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(field, f"date impossible « {value} »") from None

    def time(self, field: str, required: bool = False) -> time | None:
        value = self._get(field, required)
        if value is None:
            return None
        match = _TIME.match(value) if isinstance(value, str) else None
        if not match:
            raise self.fail(field, f"heure attendue au format HH:MM, reçu {_describe(value)}")
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours > 23 or minutes > 59:
            raise self.fail(field, f"heure impossible « {value} »")
        return time(hours, minutes)

    def integer(self, field: str, required: bool = True, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        value = self._get(field, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, f"un nombre entier est attendu, pas {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(field, f"la valeur {_number(value)} est trop petite (minimum {minimum})")
        if maximum is not None and value > maximum:
            raise self.fail(field, f"la valeur {_number(value)} est trop grande (maximum {maximum})")
        return value

    def boolean(self, field: str, default: bool = False) -> bool:
        value = self.raw.get(field)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(field, f"true ou false est attendu, pas {_describe(value)}")
        return value

    def money(self, field: str, required: bool = True) -> Decimal | None:
        value = self._get(field, required)
        return None if value is None else parse_money(value, lambda reason: self.fail(field, reason))

    def choice(self, field: str, allowed: tuple[str, ...], required: bool = True) -> str | None:
        value = self._get(field, required)
        if value is None:
            return None
        if value not in allowed:
            raise self.fail(field, f"valeur inconnue {_describe(value)} (valeurs possibles : {', '.join(allowed)})")
        return value

    def list(self, field: str) -> list:
        value = self.raw.get(field)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(field, f"une liste […] est attendue, pas {_describe(value)}")
        return value

    def text_list(self, field: str) -> list[str]:
        items = self.list(field)
        for item in items:
            if not isinstance(item, str) or not item.strip() or _unstorable(item):
                raise self.fail(field, f"la liste ne doit contenir que des textes, reçu {_describe(item)}")
        return [item.strip() for item in items]


def parse_money(value: Any, fail) -> Decimal:
    """Money travels as a string with at most two decimals ("56.13"); a float would already have lost cents."""
    if not isinstance(value, str) or not _MONEY.match(value.strip()):
        raise fail(f"montant attendu sous forme de texte avec deux décimales, par exemple « 30.00 », reçu {_describe(value)}")
    try:
        return Decimal(value.strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise fail(f"montant illisible {_describe(value)}") from None


_unstorable = unstorable  # the same rule as the unit of work's last line of defence


def printable(text: str) -> str:
    """The text with any NUL or lone surrogate shown as an escape, so that it can be printed or stored."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _number(value: int | float) -> str:
    # Python refuses to write an int of more than 4300 digits; the exact value does not help the user anyway.
    return "hors limites" if isinstance(value, int) and abs(value) >= 10**15 else str(value)


def _describe(value: Any) -> str:
    if value is None:
        return "rien (null)"
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, (int, float)):
        return f"le nombre {_number(value)}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"« {printable(shown)} »"
    if isinstance(value, list):
        return "une liste"
    return "un objet"
