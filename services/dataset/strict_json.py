"""JSON reading that refuses a name twice in one object: `{"key": "F1", "key": "F2"}` would otherwise keep "F2" in
silence, and the record imported would not be the one its author reads first."""
from __future__ import annotations

import json
import json.decoder
import json.scanner
from typing import Any


class DuplicateName(ValueError):
    """A name given twice in one JSON object; `position` is the index of the object's « { » when known."""

    def __init__(self, name: str, first: Any, second: Any):
        super().__init__(name)
        self.name, self.first, self.second = name, first, second
        self.position: int | None = None
        self.line: int | None = None
        self.column: int | None = None


def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)  # in C: the hook runs for every object of the file
    if len(obj) == len(pairs):
        return obj
    obj = {}
    for name, value in pairs:
        if name in obj:
            raise DuplicateName(name, obj[name], value)
        obj[name] = value
    return obj


def loads(text: str | bytes) -> Any:
    """json.loads, raising DuplicateName (with the line and column of the object) for a name given twice."""
    try:
        return json.loads(text, object_pairs_hook=refuse_duplicates)
    except DuplicateName as duplicate:
        _locate(text, duplicate)
        raise


def _locate(text: str | bytes, duplicate: DuplicateName) -> None:
    """Parse again with the pure-Python scanner, which tells where each object starts. Only done once a duplicate is
    known (the C scanner, used for every file, gives no position to the hook)."""
    if isinstance(text, bytes):
        text = text.decode(json.detect_encoding(text), "surrogatepass")

    def parse_object(s_and_end, *args, **kwargs):
        try:
            return json.decoder.JSONObject(s_and_end, *args, **kwargs)
        except DuplicateName as inner:
            if inner.position is None:  # the innermost object holds the duplicate
                inner.position = s_and_end[1] - 1
            raise

    decoder = json.JSONDecoder(object_pairs_hook=refuse_duplicates)
    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    try:
        decoder.decode(text.removeprefix("\ufeff"))
    except DuplicateName as found:
        if found.position is not None:
            duplicate.position = found.position
            duplicate.line = text.count("\n", 0, found.position) + 1
            duplicate.column = found.position - text.rfind("\n", 0, found.position)
    except (ValueError, RecursionError):  # deeper than the Python scanner goes: no position, the name is enough
        pass
