"""Reading one record of an interchange file, field by field, with a French message naming what is wrong."""
from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Any

from services import text_rules
from services.errors import ImportRejected, ValidationError
from services.money_text import parse_amount_text
from services.date_bounds import bounds_for, out_of_bounds
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
MAX_MONEY_TEXT = 40  # « 999 999 999,99 € » with room to spare: longer is no amount, and is not quoted whole
MAX_TEXT = 10_000
MAX_LIST = 1_000  # items of a list inside one record (communes, guardians, children, situations, intervenants)
# Free texts written over several lines (a QPlainTextEdit in the window): newlines and tabs are theirs.
MULTILINE_FIELDS = frozenset({"notes", "objectives", "actions", "exit_reason", "recommendation", "reason",
                              "exception_reason", "closed_reason"})


class RecordReader:
    """Wraps one JSON object of a given section; every getter validates and explains failures."""

    def __init__(self, section: str, raw: Any, position: int | None = None):
        self.section = section
        self.prefix = ""  # where a nested object sits in the record (« amendments[1]. »), before each field named
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
                raise ImportRejected(printable(f"{self._who()} : la clé dépasse 64 caractères."), field="key")
            if _unstorable(self.key):
                raise ImportRejected(f"{RECORD_LABELS[section]} « {printable(self.key)} » : la clé contient un "
                                     "caractère invalide (caractère nul ou Unicode mal formé).", field="key")
            problem = text_rules.key_problem(self.key)
            if problem:
                raise ImportRejected(printable(f"{self._who()}, champ « key » : la clé {problem}."), field="key")
            self.key = text_rules.normalise(self.key)  # stored and referred to in NFC

    @classmethod
    def checked(cls, section: str, raw: dict, key: str) -> "RecordReader":
        """A reader of a record whose key a reader of the same record has already read (`key`, checked and in
        NFC): the importer reads each record twice, its key first, and checks it once."""
        reader = cls.__new__(cls)
        reader.section, reader.prefix, reader.raw, reader.key = section, "", raw, key
        return reader

    def _who(self) -> str:
        label = RECORD_LABELS[self.section]
        return f"{label} « {self.key} »" if self.key is not None else label

    def reject_unknown_fields(self, allowed) -> None:
        """A field this format does not know would be silently lost (often a misspelt name): refuse it."""
        unknown = sorted(str(name) for name in set(self.raw) - set(allowed))
        if unknown:
            raise self.fail(unknown[0], f"champ inconnu (champs possibles : {', '.join(sorted(allowed))})")

    def fail(self, field: str, reason: str) -> ImportRejected:
        field = f"{self.prefix}{field}"
        return ImportRejected(printable(f"{self._who()}, champ « {field} » : {reason}."), field=field)

    def nested(self, field: str, position: int) -> "RecordReader":
        """A reader of the object at `field`[position] (an avenant, a row of an intervenant's history): its failures
        name this record and the place, counted from 1 as records are (« amendments[2].start »)."""
        raw = self.list(field)[position]
        where = f"{field}[{position + 1}]"
        if not isinstance(raw, dict):
            raise self.fail(where, f"un objet {{…}} est attendu, pas {_describe(raw)}")
        reader = RecordReader(self.section, {**raw, "key": self.key} if self.section != "programme" else raw)
        reader.raw = raw
        reader.prefix = f"{self.prefix}{where}."
        return reader

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
        value = clean_text(value, field, max_length, lambda reason: self.fail(field, reason))
        if required and not value:
            raise self.fail(field, "le texte ne peut pas être vide")
        return value or None

    def reference(self, field: str) -> str | None:
        """The key a reference names (NFC, as keys are stored), or None; refuses what no key can be."""
        value = self.raw.get(field)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(field, "une clé (texte) est attendue")
        return self._key_text(field, value)

    def _key_text(self, field: str, value: str) -> str:
        if len(value) > 64:
            raise self.fail(field, "une clé a au plus 64 caractères")
        if _unstorable(value):
            raise self.fail(field, "la clé contient un caractère invalide (caractère nul ou Unicode mal formé)")
        problem = text_rules.key_problem(value)
        if problem:
            raise self.fail(field, f"la clé {problem}")
        return text_rules.normalise(value)

    def date(self, field: str, required: bool = True) -> date | None:
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.match(value):
            raise self.fail(field, f"date attendue au format AAAA-MM-JJ, reçu {_describe(value)}")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise self.fail(field, f"date impossible « {value} »") from None
        problem = out_of_bounds(day, bounds_for(field))
        if problem:
            raise self.fail(field, problem)
        return day

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

    def list(self, field: str, max_items: int = MAX_LIST) -> list:
        value = self.raw.get(field)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(field, f"une liste […] est attendue, pas {_describe(value)}")
        if len(value) > max_items:
            raise self.fail(field, f"la liste dépasse {max_items} éléments")
        return value

    def text_list(self, field: str, max_length: int = 120) -> list[str]:
        """A list of one-line texts (communes), each read as `text` reads a field."""
        items = []
        for item in self.list(field):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(field, f"la liste ne doit contenir que des textes, reçu {_describe(item)}")
            items.append(clean_text(item, field, max_length, lambda reason: self.fail(field, reason)))
        return items

    def key_list(self, field: str) -> list[str]:
        """A list of references (a meeting's intervenants), each read as a key."""
        keys = []
        for item in self.list(field):
            if not isinstance(item, str) or not item:
                raise self.fail(field, f"la liste ne doit contenir que des clés, reçu {_describe(item)}")
            keys.append(self._key_text(field, item))
        return keys


def clean_text(value: str, field: str, max_length: int, fail) -> str:
    """The stored form of a text (trimmed, NFC), or `fail(reason)` raised: too long, unstorable, or holding a
    character that text_rules refuses for this field (newlines only in the multi-line ones)."""
    if len(value) > 4 * max_length:  # before any work on it: a 10 MB text is refused at once
        raise fail(f"le texte dépasse {max_length} caractères")
    value = value.strip()
    if _unstorable(value):
        raise fail("le texte contient un caractère invalide (caractère nul ou Unicode mal formé)")
    problem = text_rules.character_problem(value, text_rules.TEXT if field in MULTILINE_FIELDS else text_rules.LINE)
    if problem:
        raise fail(f"le texte {problem}")
    value = text_rules.normalise(value)
    if len(value) > max_length:  # after NFC: the length stored
        raise fail(f"le texte dépasse {max_length} caractères")
    return value


def parse_money(value: Any, fail) -> Decimal:
    """Money travels as a string with at most two decimals, read as the window reads it (services.money_text:
    « 30.00 », « 30,00 », « 1 234,56 € »); a JSON number is refused, a float having already lost cents."""
    if not isinstance(value, str) or len(value) > MAX_MONEY_TEXT:
        raise fail(f"montant attendu sous forme de texte avec deux décimales, par exemple « 30.00 », reçu {_describe(value)}")
    try:
        return parse_amount_text(value)
    except ValidationError as refused:  # a whole sentence of the window: lower-cased and without its full stop here
        reason = refused.message.rstrip(".")
        raise fail(reason[:1].lower() + reason[1:]) from None


_unstorable = unstorable  # the same rule as the unit of work's last line of defence


def printable(text: str) -> str:
    """The text with any NUL, lone surrogate, control or invisible character shown as an escape, so that it can be
    printed or stored (a bidi override in a quoted key would otherwise reorder the message itself)."""
    return text_rules.visible(text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00"))


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
