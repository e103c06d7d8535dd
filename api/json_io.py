"""JSON in and out of the API: the services' frozen dataclasses written generically, request bodies read strictly.

Out: a dataclass becomes an object of its fields (not its properties), a Decimal the string of its amount
(« 56.13 », never a float), a date, time or datetime its ISO form, a tuple a list.
In: a body is one JSON object, without NaN/Infinity (not JSON) nor a key given twice (which one would count?); a
field of the wrong type is named, in French, with every other wrong field at once (InvalidFields, 422).
"""
from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum

from services.dates import make_date
from services.errors import DomainError, InvalidFields, ValidationError


class BadJson(Exception):
    """The body is not a JSON object; the message is French."""


NOT_JSON = "Le corps de la requête n'est pas du JSON valide."
NOT_OBJECT = "Le corps de la requête doit être un objet JSON ({…})."


def to_json(value):
    """A JSON-ready copy of `value` (see the module's docstring)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [to_json(v) for v in items]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_json(value.value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value) -> bytes:
    return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _no_constant(name: str):
    raise BadJson(NOT_JSON)  # NaN, Infinity, -Infinity: Python's json reads them, JSON has none


def _unique_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise BadJson(f"Le corps de la requête donne deux fois le champ « {key} ».")
        seen[key] = value
    return seen


def parse_object(body: bytes) -> dict:
    """The JSON object in `body` (UTF-8); BadJson (French) otherwise."""
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadJson(NOT_JSON) from None
    if not isinstance(value, dict):
        raise BadJson(NOT_OBJECT)
    return value


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")


def _text(value):
    if not isinstance(value, str):
        raise ValidationError("doit être un texte")
    return value


def _integer(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("doit être un nombre entier")
    return value


def _boolean(value):
    if not isinstance(value, bool):
        raise ValidationError("doit valoir true ou false")
    return value


def _date(value):
    match = _ISO_DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError("doit être une date AAAA-MM-JJ (par exemple 2025-03-18)")
    try:
        return make_date(int(match[1]), int(match[2]), int(match[3]))
    except DomainError as exc:
        reason = exc.message.rstrip(".")
        raise ValidationError(f"n'est pas une date : {reason[0].lower()}{reason[1:]}") from None


def _time(value):
    match = _ISO_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError("doit être une heure HH:MM (par exemple 14:30)")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _datetime(value):
    try:
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise ValueError
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("doit être un horodatage ISO (par exemple 2025-03-18T14:30:00+00:00)") from None


_DECIMAL = re.compile(r"-?\d+(?:[.,]\d+)?")


def _decimal(value):
    """An amount as a string (« 31.50 » or « 31,50 »): a float would not be exact."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value.strip()):
        raise ValidationError("doit être un montant écrit comme un texte (par exemple « 31.50 »)")
    return Decimal(value.strip().replace(",", "."))


def _texts(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("doit être une liste de textes")
    return value


def _integers(value):
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValidationError("doit être une liste de nombres entiers")
    return tuple(value)


KINDS = {"text": _text, "integer": _integer, "boolean": _boolean, "date": _date, "time": _time,
         "datetime": _datetime, "decimal": _decimal, "texts": _texts, "integers": _integers,
         "text_tuple": lambda value: tuple(_texts(value))}


REQUIRED = "est obligatoire"


def read_fields(body: Mapping, spec: Mapping[str, str], required: tuple[str, ...] = ()) -> dict:
    """The fields of `spec` ({name: kind}) read from `body` and converted, a missing one or a null as None: whether a
    field may be empty is the service's rule, not the API's — except the `required` ones, the records a service
    looks up by id, which the API names itself. Every field of the wrong type is reported at once
    (InvalidFields, French)."""
    values, problems = {}, {}
    for name, kind in spec.items():
        raw = body.get(name)
        if raw is None and name in required:
            problems[name] = f"Le champ « {name} » {REQUIRED}."
            continue
        try:
            values[name] = None if raw is None else KINDS[kind](raw)
        except ValidationError as exc:
            problems[name] = f"Le champ « {name} » {exc.message}."
    if problems:
        raise InvalidFields(problems)
    return values


def read_query(params: Mapping[str, str], spec: Mapping[str, str]) -> dict:
    """The fields of `spec` read from a URL's query string (every value a text there): an integer, a boolean
    (true/false), a date… named in French when it cannot be read, like read_fields; an absent one is None."""
    values, problems = {}, {}
    for name, kind in spec.items():
        raw = params.get(name)
        if raw is None or raw == "":
            values[name] = None
            continue
        try:
            if kind == "integer":
                if not re.fullmatch(r"-?\d{1,9}", raw):
                    raise ValidationError("doit être un nombre entier")
                values[name] = int(raw)
            elif kind == "boolean":
                if raw not in ("true", "false"):
                    raise ValidationError("doit valoir true ou false")
                values[name] = raw == "true"
            else:
                values[name] = KINDS[kind](raw)
        except ValidationError as exc:
            problems[name] = f"Le paramètre « {name} » {exc.message}."
    if problems:
        raise InvalidFields(problems)
    return values


_KIND_OF_TYPE = {str: "text", int: "integer", bool: "boolean", date: "date", time: "time", datetime: "datetime",
                 Decimal: "decimal", tuple[str, ...]: "text_tuple", tuple[int, ...]: "integers"}


def input_spec(cls) -> tuple[dict[str, str], tuple[str, ...]]:
    """A service's input dataclass as a read_fields spec ({field: kind}) and the fields it cannot do without (no
    default and not optional: the API names them when they are missing)."""
    hints = typing.get_type_hints(cls)
    spec, required = {}, []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)  # X | None; tuple[str, ...] is no union
        kinds = [a for a in typing.get_args(hint) if a is not type(None)] if union else [hint]
        if len(kinds) != 1 or kinds[0] not in _KIND_OF_TYPE:
            continue  # neither a JSON scalar nor a list of texts or integers (tariffs…): the endpoint reads it itself
        spec[f.name] = _KIND_OF_TYPE[kinds[0]]
        optional = union and type(None) in typing.get_args(hint)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and not optional:
            required.append(f.name)
    return spec, tuple(required)


def read_input(cls, body: Mapping, extra: Mapping[str, str] | None = None, **given):
    """(an instance of the service's input dataclass `cls` read from `body`, the `extra` fields read with it): a
    field left out takes the dataclass's default, a null one None when its type allows it; every wrong or missing
    field is named at once (InvalidFields).
    `given` are the fields the endpoint read itself."""
    spec, required = input_spec(cls)
    spec = {name: kind for name, kind in spec.items() if name not in given}
    values = read_fields(body, {**spec, **(extra or {})}, tuple(r for r in required if r not in given))
    # a field left out is not passed, so that the dataclass gives its default (or its default_factory's); null is
    # None where the type allows it (sessions_per_week: null, no weekly limit), else the default too
    hints = typing.get_type_hints(cls)
    passed = {f.name for f in dataclasses.fields(cls)
              if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
              or f.name in body and type(None) in typing.get_args(hints[f.name])}
    fields = {name: values[name] for name in spec if values[name] is not None or name in passed}
    return cls(**fields, **given), {name: values[name] for name in (extra or {})}
