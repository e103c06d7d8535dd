"""Fuzz proof of the import (issue 15): from tests/data/example_dataset.json, hypothesis breaks one thing at a time —
a value of the wrong type, a text with controls, bidi, zero-width, look-alike letters or lone surrogates, a huge text
or list, a name given twice in one object, a date at the edge of its range, a key that looks like another — and for
every file, through the command line in-process, on SQLite and on PostgreSQL (conftest's `backend`), either

- the import is refused: exit 2, the French refusal with a reason line safe to print, and every table unchanged; or
- it is accepted, and its export re-imports into an empty store to give the very same export.

An exit 1 (an unexpected error) or a traceback fails the test, whatever the input. PostgreSQL runs fewer examples
(EXAMPLES): each one copies two databases, and the CI must stay short."""
import codecs
import copy
import io
import json
import math
import re
import sqlite3
import tempfile
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import main
from models.db import make_engine, migrate
from services import text_rules
from services.dataset import stream
from services.dataset.fields import MULTILINE_FIELDS
from services.date_bounds import bounds_for, out_of_bounds
from services.errors import ImportRejected
from tests.stores import dump

from tests.conftest import DATA

EXAMPLE = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
REFUSED = "Import refusé, rien n'a été enregistré."
# In memory where there is one: SQLite syncs every commit to the disk (synchronous=FULL), which is most of the time.
FAST_DIR = "/dev/shm" if Path("/dev/shm").is_dir() else None
DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
POSTGRES_SHARE = 5  # PostgreSQL runs a fifth of SQLite's examples (at least 5): the same property, fewer files


def examples(backend: str, on_sqlite: int) -> settings:
    """FUZZ with `on_sqlite` examples on SQLite, and POSTGRES_SHARE times fewer on PostgreSQL."""
    return settings(FUZZ, max_examples=on_sqlite if backend == "sqlite" else max(5, on_sqlite // POSTGRES_SHARE))


def _paths(node, prefix=()):
    """Every place of the example a value sits at (the root's `format` included)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for name, child in items:
        yield prefix + (name,)
        yield from _paths(child, prefix + (name,))


def _at(data, path):
    for name in path:
        data = data[name]
    return data


PATHS = list(_paths(EXAMPLE))
OBJECT_PATHS = [()] + [p for p in PATHS if isinstance(_at(EXAMPLE, p), dict)]

# -- the pieces hypothesis breaks a file with ---------------------------------------------------------------------
NASTY = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\n", "\t", "\r", "\u2028", "\u202a", "\u202e", "\u2066", "\u2069",
         "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\ufe0f", "\u3164", "\ud800", "\udfff", "\U000e0041",
         "\u0301", "\u00a0", " ", "а", "е", "о", "р", "ѕ", "ο", "ı", "ｓ", "𝐬", "é", "e\u0301", "«", "’"]
EDGE_DATES = ["1899-12-31", "1900-01-01", "1999-12-31", "2000-01-01", "2025-02-29", "2024-02-29", "2199-12-31",
              "2200-01-01", "9999-12-31", "0001-01-01", "2025-13-01", "2025-1-1", "２０２５-01-01", "2025-01-01\n"]
nasty_text = st.lists(st.sampled_from(NASTY) | st.text(max_size=3), max_size=8).map("".join)
huge_text = st.sampled_from([10_001, 200_000, 1_000_000]).map(lambda n: "x" * n)
wrong_type = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                       st.just([]), st.just({}), st.just(["a", 1]), st.just({"a": 1}), st.just(10**400))


def _disguise(key: str, draw) -> str:
    """The key (with a cased letter) in another case, with letters swapped for look-alikes, an invisible character or
    a surrounding space: never the key itself, always read as it."""
    swaps = {"a": "а", "e": "е", "o": "о", "p": "р", "s": "ѕ", "c": "с", "i": "і", "x": "х", "y": "у"}
    how = draw(st.sampled_from(["case", "swap", "invisible", "space"]))
    if how == "case":
        return key.swapcase()
    if how == "swap":
        return "".join(swaps.get(c, c) for c in key) if any(c in swaps for c in key) else key.swapcase()
    if how == "invisible":
        return key + draw(st.sampled_from(["\u200b", "\u2060", "\ufeff", "\u202e"]))
    return draw(st.sampled_from([" ", "\u00a0"])) + key


def _mutate(data, draw, refusals: list[str]):
    """Break one thing of `data` in place; the (name, value) of a name to give twice, if that is the break. A break
    that no file may get through is added to `refusals`."""
    duplicate = None
    mutation = draw(st.sampled_from(["type", "text", "huge", "date", "key", "duplicate_name", "unknown",
                                     "remove", "long_list", "reserved"]))
    path = draw(st.sampled_from(PATHS))
    parent, name = _at(data, path[:-1]), path[-1]
    parent[name]  # still there (an earlier break may have taken it away)
    if mutation == "type":
        parent[name] = draw(wrong_type)
    elif mutation == "text":
        parent[name] = draw(nasty_text) if draw(st.booleans()) else f"{parent[name]}{draw(nasty_text)}"
    elif mutation == "huge":
        parent[name] = draw(huge_text)
        refusals.append("huge")  # every text field holds at most 10 000 characters, a key 64
    elif mutation == "date":
        date_paths = [p for p in PATHS if isinstance(_at(EXAMPLE, p), str) and len(_at(EXAMPLE, p)) == 10
                      and _at(EXAMPLE, p)[4:5] == "-"]
        target = draw(st.sampled_from(date_paths))
        _at(data, target[:-1])[target[-1]] = draw(st.sampled_from(EDGE_DATES))
    elif mutation == "key":
        key_paths = [p for p in PATHS if p[-1] in ("key", "family", "partner", "intervenant", "convention",
                                                   "child", "referent", "decided_by", "approved_by")]
        target = draw(st.sampled_from(key_paths))
        holder = _at(data, target[:-1])
        if isinstance(holder.get(target[-1]), str):
            holder[target[-1]] = _disguise(holder[target[-1]], draw)
    elif mutation == "duplicate_name":
        holder = _at(data, draw(st.sampled_from(OBJECT_PATHS)))
        if isinstance(holder, dict) and holder:
            duplicate = (draw(st.sampled_from(sorted(holder))), draw(st.one_of(st.text(max_size=5), wrong_type)))
            holder["\x00duplicate"] = duplicate[1]
            refusals.append("duplicate name")
    elif mutation == "unknown":
        holder = _at(data, draw(st.sampled_from(OBJECT_PATHS)))
        if isinstance(holder, dict):
            holder[draw(st.sampled_from(["Key", "nom", "key\u200b", "notes ", "\ud800"]))] = "x"
    elif mutation == "remove" and isinstance(parent, (dict, list)):
        del parent[name]
    elif mutation == "long_list":
        target = draw(st.sampled_from([("programme", "eligible_communes"), ("families", 0, "guardians"),
                                       ("families", 0, "children"), ("meetings", 0, "intervenants")]))
        holder = _at(data, target[:-1])
        # copies, not one object repeated: a huge text put in it by a later break would be in every item (a file of
        # a gigabyte: the likely cause of a fuzz run seen past 12 minutes)
        times = draw(st.sampled_from([2, 31, 1001]))
        holder[target[-1]] = [copy.deepcopy(item) for _ in range(times) for item in holder[target[-1]] or ["x"]]
    elif mutation == "reserved":
        data["users"][0]["key"] = draw(st.sampled_from(["system", "SYSTEM", "ѕystem", "sуstem", "system\u200b"]))
        refusals.append("reserved")
    return duplicate


@st.composite
def broken_files(draw) -> tuple[str, bool, bool]:
    """(the text of a broken file, whether to import it over the example already stored, whether it must be
    refused whatever else it holds)."""
    data = copy.deepcopy(EXAMPLE)
    duplicate, refusals = None, []
    for _ in range(draw(st.integers(1, 3))):
        try:
            duplicate = _mutate(data, draw, refusals) or duplicate
        except (KeyError, IndexError, TypeError, AttributeError):  # an earlier mutation took this place away
            continue
    ensure_ascii = draw(st.booleans())
    try:
        text = json.dumps(data, ensure_ascii=ensure_ascii).encode("utf-8").decode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate is only written escaped (\ud800)
        text = json.dumps(data, ensure_ascii=True)
    if duplicate is not None:
        text = text.replace(json.dumps("\x00duplicate"), json.dumps(duplicate[0], ensure_ascii=True), 1)
    return text, draw(st.booleans()), bool(refusals) and _still_refused(data)


RESERVED_SPELLINGS = {"system", "SYSTEM", "ѕystem", "sуstem", "system\u200b"}


def _still_refused(data) -> bool:
    """Whether what made the file one to refuse is still in it: a later mutation may have removed the huge text,
    the object holding the name given twice, or the user with the reserved key (hypothesis found such a file)."""
    def texts(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for name, value in node.items():
                yield name
                yield from texts(value)
        elif isinstance(node, list):
            for value in node:
                yield from texts(value)

    found = list(texts(data))
    users = data.get("users") if isinstance(data, dict) else None
    reserved = isinstance(users, list) and any(isinstance(u, dict) and u.get("key") in RESERVED_SPELLINGS
                                               for u in users)
    return reserved or "\x00duplicate" in found or any(len(text) > 10_000 for text in found)


# -- the stores -----------------------------------------------------------------------------------------------------

def _copy(source: str, target: str) -> None:
    """A consistent copy, WAL included (SQLite's backup API)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _import_example(db: str) -> None:
    assert main.main(["--db", db, "import", str(DATA / "example_dataset.json")]) == 0


@dataclass(frozen=True)
class Templates:
    """An empty migrated store and one holding the example, on the test's store: each example starts from a copy
    (a SQLite file copied with the backup API, or a PostgreSQL database copied by CREATE DATABASE … TEMPLATE)."""

    backend: str
    empty: str  # a file's path, or a template database's name
    example: str
    databases: object = None  # tests.postgres.Databases, on PostgreSQL

    @contextmanager
    def copy(self, of_example: bool, folder: Path):
        """A new store, a copy of the example's (or the empty one): its path or URL, removed afterwards."""
        source = self.example if of_example else self.empty
        if self.backend == "sqlite":
            target = str(folder / f"store-{len(list(folder.iterdir()))}.sqlite")
            _copy(source, target)
            yield target
            return
        name = self.databases.copy(source)
        try:
            yield self.databases.url(name)
        finally:
            self.databases.drop(name)


@pytest.fixture(scope="module")
def templates(request, backend, tmp_path_factory) -> Templates:
    if backend == "postgresql":
        databases = request.getfixturevalue("postgres_databases")
        return Templates(backend, databases.template("migrated"),
                         databases.template("fuzz-example", _import_example), databases)
    folder = tmp_path_factory.mktemp("fuzz_templates")
    empty, example = str(folder / "empty.sqlite"), str(folder / "example.sqlite")
    engine = make_engine(empty)
    migrate(engine)
    engine.dispose()
    _copy(empty, example)
    _import_example(example)
    return Templates(backend, empty, example)


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _export(db: str, folder: Path, capsys) -> dict:
    out = folder / f"export-{len(list(folder.iterdir()))}.json"
    assert main.main(["--db", db, "export", str(out)]) == 0, capsys.readouterr().err
    return json.loads(out.read_text(encoding="utf-8"))


def _strings(node, field=None):
    if isinstance(node, str):
        yield field, node
    elif isinstance(node, dict):
        for name, value in node.items():
            yield from _strings(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, field)


def assert_clean(exported: dict) -> None:
    """What an accepted file leaves in the store: texts in NFC, trimmed, without a refused character; keys without
    look-alikes within their section; no spelling of system among the users; every date within its bounds."""
    for field, value in _strings(exported):
        assert value == unicodedata.normalize("NFC", value) and value == value.strip(), (field, value)
        kind = text_rules.TEXT if field in MULTILINE_FIELDS else text_rules.LINE
        assert text_rules.first_forbidden(value, kind) is None, (field, value)
        if DATE.match(value):
            assert out_of_bounds(date.fromisoformat(value), bounds_for(field)) is None, (field, value)
    for section, records in exported.items():
        if isinstance(records, list):
            keys = [r["key"] for r in records]
            skeletons = {text_rules.skeleton(k) for k in keys}
            assert len(skeletons) == len(keys), (section, keys)
    assert not any(text_rules.is_reserved(u["key"]) for u in exported["users"])


def check_all_or_nothing(text: str, over_example: bool, templates: Templates, capsys) -> tuple[int, str]:
    """The property: refused cleanly with nothing written, or accepted and exported stably; (exit status, stderr)."""
    with tempfile.TemporaryDirectory(dir=FAST_DIR) as tmp, templates.copy(over_example, Path(tmp)) as db:
        folder = Path(tmp)
        before = dump(db)
        file = folder / "data.json"
        file.write_text(text, encoding="utf-8")
        capsys.readouterr()
        status = main.main(["--db", db, "import", str(file)])
        out, err = capsys.readouterr()
        event("refused" if status == 2 else "accepted")  # both branches must be seen (--hypothesis-show-statistics)
        assert "Traceback" not in err and status in (0, 2), err
        if status == 2:
            first, _, reason = err.partition("\n")
            assert first == REFUSED and reason.strip(), err
            # said in French, and printable as is: no raw control, bidi or invisible character, no lone surrogate
            assert text_rules.first_forbidden(reason.rstrip("\n"), text_rules.LINE) is None, repr(reason)
            reason.encode("utf-8")
            assert not any(word in reason for word in ("Expecting", "Error", "Invalid", "line ")), reason
            assert dump(db) == before
            return status, err
        (folder / "out").mkdir()
        exported = _export(db, folder / "out", capsys)
        again = folder / "again.json"
        again.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
        with templates.copy(False, folder) as fresh:
            assert main.main(["--db", fresh, "import", str(again)]) == 0, capsys.readouterr().err
            assert _export(fresh, folder / "out", capsys) == exported
        assert_clean(exported)
        return status, err


def test_every_broken_file_is_refused_cleanly_or_round_trips(backend, templates, capsys):
    @examples(backend, 40)
    @given(case=broken_files())
    def run(case):
        text, over_example, must_refuse = case
        status, err = check_all_or_nothing(text, over_example, templates, capsys)
        assert status == 2 or not must_refuse, "a huge text, a name given twice or a spelling of system got through"

    run()


def test_a_disguised_key_of_a_stored_record_is_refused(backend, templates, capsys):
    """A stored key in another case, with look-alike letters, an invisible character or a space, imported over the
    example (or next to the original in one file): always refused, on the key, nothing written."""
    @examples(backend, 25)
    @given(section=st.sampled_from(["users", "partners", "families", "sessions", "meetings"]), data=st.data())
    def run(section, data):
        original = data.draw(st.sampled_from(EXAMPLE[section]))
        record = {**copy.deepcopy(original), "key": _disguise(original["key"], data.draw)}
        over_example = data.draw(st.booleans())
        file = {**EXAMPLE, section: [*EXAMPLE[section], record]} if not over_example else {
            "format": EXAMPLE["format"], section: [record]}
        text = json.dumps(file, ensure_ascii=data.draw(st.booleans()))
        status, err = check_all_or_nothing(text, over_example, templates, capsys)
        assert status == 2 and "champ « key »" in err, err

    run()


def test_dates_at_the_edges_are_refused_cleanly_or_round_trip(backend, templates, capsys):
    @examples(backend, 25)
    @given(field=st.sampled_from(["date", "birth_date", "consent_date", "eps_date", "start"]),
           day=st.dates() | st.sampled_from(EDGE_DATES))
    def run(field, day):
        data = copy.deepcopy(EXAMPLE)
        value = day if isinstance(day, str) else day.isoformat()
        holder = {"date": data["sessions"][0], "birth_date": data["families"][0]["children"][0],
                  "consent_date": data["families"][0], "eps_date": data["orientations"][0],
                  "start": data["conventions"][0]}[field]
        holder[field] = value
        check_all_or_nothing(json.dumps(data), False, templates, capsys)

    run()


TEXT_PLACES = [("programme", "name"), ("programme", "city"), ("users", 0, "name"), ("partners", 0, "name"),
               ("families", 0, "name"), ("families", 0, "address"), ("families", 0, "commune"),
               ("families", 0, "notes"), ("families", 0, "guardians", 0, "name"), ("sessions", 0, "notes"),
               ("parcours", 0, "objectives"), ("orientations", 0, "reason"), ("conventions", 0, "action")]


def test_any_unicode_text_is_refused_cleanly_or_round_trips(backend, templates, capsys):
    """Any text (every plane, combining marks, decomposed accents…) into an empty store: most are kept, in NFC."""
    @examples(backend, 25)
    @given(place=st.sampled_from(TEXT_PLACES), text=st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
           | nasty_text)
    def run(place, text):
        data = copy.deepcopy(EXAMPLE)
        _at(data, place[:-1])[place[-1]] = text
        check_all_or_nothing(json.dumps(data, ensure_ascii=True), False, templates, capsys)

    run()


# -- the streaming reader's reads (services.dataset.stream) ----------------------------------------------------------

class CountingFile(io.BytesIO):
    """A file that counts its reads; `endless`: past its bytes, it gives `[1,` again and again (a file that keeps
    growing while it is read)."""

    def __init__(self, data: bytes, endless: bool = False):
        super().__init__(data)
        self.reads, self.endless = 0, endless

    def read(self, size=-1):
        self.reads += 1
        data = super().read(size)
        return data or (b"[1," * (size // 3 + 1))[:size] if self.endless else data


def _reader(file) -> stream._Reader:
    return stream._Reader(file, codecs.getincrementaldecoder("utf-8")("surrogatepass"), checked=True)


json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.text(max_size=30)
                           | st.floats(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=6), max_leaves=40)


@settings(deadline=None, max_examples=150)
@given(items=st.lists(json_values, max_size=8), chunk=st.integers(1, 64))
def test_the_streamed_items_of_a_list_are_what_json_reads_whatever_the_chunk(items, chunk):
    """Values split at any byte by small chunks (numbers, escapes, multi-byte letters cut in two): the same values
    (a number cut after its « . » or its « e » once read as the number before it)."""
    text = json.dumps(items, ensure_ascii=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream, "CHUNK", chunk)
        assert list(_reader(CountingFile(text.encode("utf-8"))).items()) == json.loads(text)


def test_a_value_over_many_chunks_is_read_in_doubling_reads_not_one_chunk_at_a_time(monkeypatch):
    monkeypatch.setattr(stream, "CHUNK", 64)
    family = {"key": "F1", "children": [{"first_name": "Léa", "last_name": "Dupont"}] * 4000}
    data = json.dumps([family]).encode("utf-8")  # about 170 000 bytes: 2 700 chunks
    file = CountingFile(data)
    assert list(_reader(file).items()) == [family]
    assert file.reads <= math.log2(len(data) / 64) + 4  # each read twice the last (one chunk at a time: 2 700)


def test_a_value_nested_too_deep_is_handed_to_the_whole_file_reader_at_once(monkeypatch):
    monkeypatch.setattr(stream, "CHUNK", 64)
    file = CountingFile(b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(stream._NotStreamable):
        list(_reader(file).items())
    assert file.reads <= 12  # as far as the nesting the parser refuses, not the file's 6 250 chunks


def test_a_file_that_never_ends_is_refused_in_french_once_a_value_passes_the_bound(monkeypatch):
    monkeypatch.setattr(stream, "CHUNK", 64)
    monkeypatch.setattr(stream, "MAX_VALUE_CHARS", 100_000)
    file = CountingFile(b'[{"key": "F1", "children": [', endless=True)
    with pytest.raises(ImportRejected) as refused:
        list(_reader(file).items())
    assert refused.value.message.startswith("Un enregistrement du fichier dépasse 100\u202f000 caractères")
    assert file.reads <= math.log2(100_000 / 64) + 4


def test_an_import_whose_record_passes_the_bound_is_refused_in_french_and_writes_nothing(tmp_path, monkeypatch,
                                                                                        capsys):
    monkeypatch.setattr(stream, "MAX_VALUE_CHARS", 4 * stream.CHUNK)
    db = str(tmp_path / "store.sqlite")
    engine = make_engine(db)
    migrate(engine)
    engine.dispose()
    before = dump(db)
    family = {**EXAMPLE["families"][0], "notes": "x" * (9 * stream.CHUNK)}  # unfinished past 4 chunks
    file = tmp_path / "data.json"
    file.write_text(json.dumps({**EXAMPLE, "families": [family]}), encoding="utf-8")
    capsys.readouterr()
    assert main.main(["--db", db, "import", str(file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(REFUSED) and "Un enregistrement du fichier dépasse 4\u202f194\u202f304 caractères" in err, err
    assert dump(db) == before
