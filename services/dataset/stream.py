"""A dataset file read section by section, in bounded memory (issue 12): the whole file parsed at once held every
record of 300,000 sessions as Python objects (about 470 MB) before the first was checked.

The file is scanned once through (`open_dataset`), every value parsed by json's own C scanner as `strict_json.loads`
parses it, and only the top-level values other than lists are kept, with the place of each list; a section is then
read again, record by record, each time the importer goes through it. Whatever this reader cannot take (a file
that is not JSON, a name given twice, another encoding than UTF-8, a top level that is not an object) is handed
to the whole-file reader, so that every refusal is the very one it gave.
"""
from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.dataset import strict_json
from services.errors import ImportRejected

CHUNK = 1 << 20  # characters decoded at a time
# A value (a record, the programme…) still unfinished once it spans this many characters is refused: a record is a
# few kilobytes, the whole-file reader would hold the file in memory, and a file that keeps growing while it is
# read (a pipe, a file still being written) would be read on without end.
MAX_VALUE_CHARS = 1 << 28
TOO_LONG = ("Un enregistrement du fichier dépasse {} caractères : ce n'est pas un fichier de données Parcours, ou il "
            "est encore en cours d'écriture.")
_WHITESPACE = json.decoder.WHITESPACE


class _NotAnObject:
    """An item of a top-level list that is not an object, kept whole: the importer refuses it."""

    def __init__(self, value: Any):
        self.value = value


class _NotStreamable(Exception):
    """This reader cannot go on: the whole-file reader will say why (or read what this one cannot)."""


class StreamedList:
    """A top-level list of the file: its length, its items parsed anew at each iteration, and, kept from the scan,
    what each item's key is (the importer checks every key of a section before reading its records)."""

    def __init__(self, file: "DatasetFile", offset: int, keys: list):
        self._file, self._offset, self._keys = file, offset, keys

    def __len__(self) -> int:
        return len(self._keys)

    def key_items(self) -> Iterator[Any]:
        """Each item as far as its key goes: `{"key": …}` for an object, any other item as it is."""
        for key in self._keys:
            yield key.value if isinstance(key, _NotAnObject) else {"key": key}

    def __iter__(self) -> Iterator[Any]:
        with open(self._file.path, "rb") as raw:
            raw.seek(self._offset)
            # names twice were refused by the scan: read again, the records go without its hook
            reader = _Reader(raw, codecs.getincrementaldecoder("utf-8")("surrogatepass"), checked=True)
            try:
                yield from reader.items()
            except _NotStreamable:  # the file was changed since it was scanned
                raise ImportRejected("Le fichier a changé pendant l'import : relancez l'import une fois le fichier "
                                     "complet.") from None


class DatasetFile(dict):
    """The top-level object of a dataset file: its values as parsed, each list a StreamedList."""

    def __init__(self, path: str | Path, values: dict[str, Any]):
        super().__init__(values)
        self.path = Path(path)


def open_dataset(path: str | Path) -> Any:
    """The dataset in `path`, as the importer reads it: a DatasetFile, or, for a file this reader does not stream,
    what `strict_json.loads` makes of the whole file. Raises what `strict_json.loads` raises (JSON errors, a name
    given twice, UnicodeDecodeError), ImportRejected for a value past MAX_VALUE_CHARS, and OSError."""
    try:
        return _scan(Path(path))
    except _NotStreamable:
        return strict_json.loads(Path(path).read_bytes())


def _scan(path: Path) -> DatasetFile:
    with open(path, "rb") as raw:
        head = raw.read(4)
        encoding = json.detect_encoding(head) if head else "utf-8"
        if encoding not in ("utf-8", "utf-8-sig"):
            raise _NotStreamable
        raw.seek(3 if encoding == "utf-8-sig" else 0)
        reader = _Reader(raw, codecs.getincrementaldecoder("utf-8")("surrogatepass"), 3 if encoding == "utf-8-sig" else 0)
        values: dict[str, Any] = {}
        file = DatasetFile(path, {})
        reader.expect("{")
        if reader.peek() == "}":
            reader.take(1)
        else:
            while True:
                name = reader.string()
                if name in values:
                    raise _NotStreamable  # a name twice: refused, with its place, by the whole-file reader
                reader.expect(":")
                if reader.peek() == "[":
                    offset = reader.byte_offset()
                    values[name] = StreamedList(file, offset, [item.get("key") if isinstance(item, dict)
                                                               else _NotAnObject(item) for item in reader.items()])
                else:
                    values[name] = reader.value()
                if not reader.another("}"):
                    break
        if reader.peek() != "":  # anything after the object
            raise _NotStreamable
        dict.update(file, values)
        return file


class _Reader:
    """Characters of a UTF-8 file decoded a chunk at a time; `pos` in `buf`, `base` the bytes before `buf`."""

    def __init__(self, raw, decoder, base: int = 0, checked: bool = False):
        self.raw, self.decoder = raw, decoder
        self.buf, self.pos, self.base, self.eof = "", 0, base, False
        hook = None if checked else strict_json.refuse_duplicates
        self.decode = json.JSONDecoder(object_pairs_hook=hook).scan_once

    def _more(self, size: int | None = None) -> bool:
        """Decode the next `size` bytes (a CHUNK by default); False at the end of the file."""
        if self.eof:
            return False
        data = self.raw.read(size or CHUNK)
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise _NotStreamable from None
        if not data:
            self.eof = True
        if self.pos > CHUNK:  # drop what was read: the buffer stays a few chunks long
            done = self.buf[:self.pos]
            self.base += len(done.encode("utf-8", "surrogatepass"))
            self.buf, self.pos = self.buf[self.pos:], 0
        self.buf += text
        return True

    def byte_offset(self) -> int:
        return self.base + len(self.buf[:self.pos].encode("utf-8", "surrogatepass"))

    def peek(self) -> str:
        """The next character after white space ("" at the end of the file)."""
        while True:
            self.pos = _WHITESPACE.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos:self.pos + 1]

    def take(self, n: int) -> None:
        self.pos += n

    def expect(self, character: str) -> None:
        if self.peek() != character:
            raise _NotStreamable
        self.take(1)

    def another(self, close: str) -> bool:
        """Past what follows an item: True after a comma (another item), False after `close`."""
        separator = self.peek()
        self.take(1)
        if separator == close:
            return False
        if separator != ",":
            raise _NotStreamable
        return True

    def _grow(self) -> bool:
        """Read on for a value that runs past the buffer: as much again as it already spans (a chunk at least).
        Each attempt parses the value from its start, so a value of n characters is parsed about log2(n / CHUNK)
        times instead of n / CHUNK times (a time that grew as the square of the value's size). False at the end
        of the file; ImportRejected when the value, still unfinished, spans MAX_VALUE_CHARS."""
        spanned = len(self.buf) - self.pos
        if spanned >= MAX_VALUE_CHARS:
            raise ImportRejected(TOO_LONG.format(f"{MAX_VALUE_CHARS:,}".replace(",", "\u202f")))  # 268 435 456
        return self._more(max(CHUNK, spanned))

    def value(self) -> Any:
        """The next value, parsed as json parses it; more of the file is read while it runs past the buffer."""
        self.peek()
        while True:  # each turn reads more of the file (_grow), up to MAX_VALUE_CHARS
            try:
                value, end = self.decode(self.buf, self.pos)
            except strict_json.DuplicateName:
                raise _NotStreamable from None
            except RecursionError:  # nested too deep: more of the file cannot help
                raise _NotStreamable from None
            except (StopIteration, ValueError):
                if self._grow():
                    continue
                raise _NotStreamable from None
            # a number may go on in the next chunk: « 0. », « 1e », « 1.5e- » cut there read as 0, 1 and 1.5
            if len(self.buf) - end <= 2 and self._grow():
                continue
            self.pos = end
            return value

    def string(self) -> str:
        if self.peek() != '"':
            raise _NotStreamable
        return self.value()

    def items(self) -> Iterator[Any]:
        """The items of the list starting here, one at a time."""
        self.expect("[")
        if self.peek() == "]":
            self.take(1)
            return
        while True:
            yield self.value()
            if not self.another("]"):
                return
