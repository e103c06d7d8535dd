"""The streamed export and the bulk import of sessions (issue 12): the file written is byte for byte the one the
exporter wrote before it streamed (tests/data/export_golden.json, made by the former exporter from the dataset
below), and an import through the bulk path stores what the record-by-record path stored."""
from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import main

from tests.conftest import DATA

EXAMPLE = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
GOLDEN = DATA / "export_golden.json"


def rich_dataset() -> dict:
    """The example, with what its optional fields can hold: avenants, other billing rules and qualifications, an
    intervenant's dated history, refused dérogations, texts over several lines and beyond the BMP, and a few hundred
    sessions (more than one batch of the streamed query once the batch is made small)."""
    data = copy.deepcopy(EXAMPLE)
    data["partners"].append({"key": "pep", "name": "PEP 01 « Ain »"})
    data["conventions"].append({
        "key": "edu-2025", "partner": "pep", "action": "Accompagnement éducatif", "start": "2025-01-01",
        "end": None, "max_families": None, "budget_cap": None, "period_end_months": [12, 6],
        "budget_imputation": None, "qualifications": ["AES", "TISF", "Éducateur"],
        "tariffs": {"Éducateur": {"home_intervention": "41.50"}, "AES": {"home_intervention": "30"}},
        "amendments": [{"start": "2025-09-01", "tariffs": {"Éducateur": {"home_intervention": "43,20"}}},
                       {"start": "2025-06-01", "tariffs": {"AES": {"home_intervention": "31.00"}}}],
        "sessions_per_week": None, "holidays_need_exception": False, "referent_at_first_session": False,
        "home_unit": "hour", "hour_rounding_minutes": 30,
    })
    data["intervenants"].append({
        "key": "i-moving", "partner": "pep", "name": "Léa Ngô", "qualification": "TISF",
        "history": [{"from": "2025-05-01", "qualification": "TISF", "partner": "pep"},
                    {"from": None, "qualification": "AES", "partner": "adom"}]})
    data["families"][1]["notes"] = "Deux lignes :\nla seconde\tavec une tabulation — et 🌱"
    data["orientations"].append({"key": "O-edu", "family": "F2", "convention": "edu-2025", "eps_date": "2025-01-14",
                                 "status": "ended", "decided_on": "2025-01-21", "decided_by": "coord-durand",
                                 "end": "2025-11-30", "reason": "Fin « prévue »"})
    statuses = ("held", "cancelled", "family_absent")
    for n in range(260):
        day = date(2025, 1, 6) + timedelta(days=n % 330)
        approved = n % 11 == 0 and n % 13 != 1
        session = {"key": f"G{n:04d}", "family": ("F1", "F2")[n % 2],
                   "intervenant": ("i-aes", "i-tisf", "i-moving")[n % 3], "date": day.isoformat(),
                   "start_time": None if n % 7 == 0 else f"{8 + n % 10:02d}:{(n * 5) % 60:02d}",
                   "duration_minutes": 30 + n % 150, "status": statuses[n % 3], "referent_present": n % 4 == 0,
                   "children_present": None if n % 5 else n % 3, "approved_exception": approved,
                   "approved_by": "coord-durand" if approved and n % 2 == 0 else None,
                   "notes": None if n % 6 else f"Séance n° {n}\nsuite « ok » ✓"}
        if n % 13 == 1:
            session.update(exception_refused=True, exception_decided_by="coord-durand",
                           exception_reason="Motif insuffisant\n(vacances)")
        elif n % 17 == 2 and not approved:
            session.update(exception_refused=True)
        data["sessions"].append(session)
    data["meetings"].append({"key": "M-edu", "convention": "edu-2025", "kind": "period_end", "date": "2025-06-30",
                             "intervenants": ["i-moving", "i-aes"], "notes": "Réunion\nde fin"})
    data["eps_meetings"].append({"key": "EPS-2025-06", "date": "2025-06-10", "notes": None, "situations": [
        {"family": "F2", "recommendation": "Suivi"}, {"family": "F1", "recommendation": None},
        {"family": "F1", "recommendation": "Atout Plus"}]})
    return data


def _import_rich(db_path, tmp_path) -> None:
    source = tmp_path / "rich.json"
    source.write_text(json.dumps(rich_dataset(), ensure_ascii=False), encoding="utf-8")
    assert main.main(["--db", db_path, "import", str(source)]) == 0


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_streamed_export_is_byte_for_byte_the_former_exporters_file(db_path, tmp_path, monkeypatch):
    """The golden file was written by the exporter that built one dictionary and one string; the streamed one,
    fetching sessions a few rows at a time (several batches here), writes the same bytes."""
    from services.dataset import exporter

    monkeypatch.setattr(exporter, "SESSION_BATCH", 7)
    _import_rich(db_path, tmp_path)
    out = tmp_path / "out.json"
    assert main.main(["--db", db_path, "export", str(out)]) == 0
    assert out.read_bytes() == GOLDEN.read_bytes()


def test_streamed_text_is_json_dumps_of_the_exported_dictionary(db_path, tmp_path, uow):
    """export_dataset (the dictionary other services and tests read) and the streamed text say the same."""
    from services.dataset import export_dataset, stream_dataset
    from services.permissions import SYSTEM

    _import_rich(db_path, tmp_path)
    chunks: list[str] = []
    stream_dataset(uow(), SYSTEM, deliver=chunks.extend)
    assert "".join(chunks) == json.dumps(export_dataset(uow(), SYSTEM), ensure_ascii=False, indent=2)


# -- the streamed reader says what the whole-file reader says --------------------------------------------------------

def _outcome(read):
    """What a reader makes of a file: its value (every streamed section read out) or its refusal."""
    from services.errors import ImportRejected

    try:
        value = read()
    except ImportRejected as refused:
        return ("refused", refused.message)
    if isinstance(value, dict):
        return ("read", {name: item if isinstance(item, (dict, str)) or item is None or not hasattr(item, "__len__")
                         else list(item) for name, item in value.items()})
    return ("read", value)


def _same_as_whole_file(tmp_path, content: bytes) -> None:
    from services.dataset import parse_json, read_dataset_file

    path = tmp_path / "file.json"
    path.write_bytes(content)
    assert _outcome(lambda: read_dataset_file(path)) == _outcome(lambda: parse_json(content))


SMALL = json.dumps({**EXAMPLE, "sessions": EXAMPLE["sessions"][:2], "programme": EXAMPLE["programme"]},
                   ensure_ascii=False, indent=1)


@pytest.mark.parametrize("content", [
    SMALL, "\ufeff" + SMALL, SMALL + "  \n", SMALL + " x", SMALL[:-1], SMALL[:len(SMALL) // 2], "", "  ", "[]",
    '"text"', "{}", '{"format": "parcours-dataset/1", "sessions": []}', '{"sessions": [1, 2, 3]}',
    '{"a": 1, "a": 2}', '{"sessions": [{"key": "S1", "key": "S2"}]}', '{"sessions": [{"a": 1e400}]}',
    '{"n": 12345678901234567890123}', '{"sessions": [1 2]}', '{"x": [' + "[" * 5000 + "]" * 5000 + "]}",
    '{"x": "\\ud800"}', '{"x": "a\x01b"}', '{"x": NaN}', '{"x": tru}', '{"x": 1,}', '{"x": [1,]}',
])
def test_the_streamed_reader_reads_or_refuses_as_the_whole_file_reader(tmp_path, monkeypatch, content):
    from services.dataset import stream

    for chunk in (stream.CHUNK, 3):  # in one chunk, and cut everywhere
        monkeypatch.setattr(stream, "CHUNK", chunk)
        _same_as_whole_file(tmp_path, content.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("content", [SMALL.encode("utf-16"), SMALL.encode("utf-32-le"), b'{"x": "\xff"}',
                                     b'{"x": "\xc3"}', b"\xef\xbb\xbf" + SMALL.encode("utf-8")])
def test_other_encodings_and_broken_utf8_are_read_or_refused_as_before(tmp_path, content):
    _same_as_whole_file(tmp_path, content)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(SMALL)), insert=st.sampled_from(["", ",", "]", "}", '"', "{", "[", " ", "é", "\\", "0",
                                                               '"key": 1, '] ), chunk=st.sampled_from([1, 2, 5, 64]))
def test_any_file_broken_anywhere_is_read_or_refused_as_the_whole_file_reader(tmp_path, monkeypatch, cut, insert,
                                                                             chunk):
    """One character added (or none) anywhere in a real file, read in chunks of any size: the streamed reader's
    value or refusal (message, line and column) is the whole-file reader's."""
    from services.dataset import stream

    monkeypatch.setattr(stream, "CHUNK", chunk)
    _same_as_whole_file(tmp_path, (SMALL[:cut] + insert + SMALL[cut:]).encode("utf-8"))


# -- the bulk insert of sessions stores what one ORM object each stored ----------------------------------------------

def _stored(db_path) -> dict:
    """Every row of every table, ids replaced by the keys they stand for and timestamps left out (they differ from one
    import to the next); the audit log as (actor, action, type, key, fields)."""
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        names = {}
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            label = "key" if "key" in columns else "name" if "name" in columns else None  # actions have a name
            if "id" in columns and label:
                names.update(conn.execute(f'SELECT id, {label} FROM "{table}"'))
        rows = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            kept = [c for c in columns if c not in ("id", "created_at", "updated_at", "at", "seq", "entry_hash",
                                                    "changes")]
            rows[table] = sorted(repr(tuple(names.get(v, v) if c.endswith("_id") else v for c, v in zip(kept, row)))
                                 for row in conn.execute(f'SELECT {", ".join(kept)} FROM "{table}"'))
    conn.close()
    return rows


def test_bulk_import_stores_the_rows_the_warnings_and_the_audit_entry_of_the_orm_path(tmp_path, monkeypatch, capsys):
    """The same file through both paths (batches of 7 rows: many statements): the same rows in every table (billing
    marks included, when the schema has them), the same summary and warnings, the same audit entry."""
    from services.dataset import importer

    results = []
    for bulk in (importer.BULK_SECTIONS, frozenset()):
        monkeypatch.setattr(importer, "BULK_SECTIONS", bulk)
        monkeypatch.setattr(importer, "BULK_BATCH", 7)
        db = str(tmp_path / f"{'bulk' if bulk else 'orm'}.sqlite")
        capsys.readouterr()
        _import_rich(db, tmp_path)
        results.append((capsys.readouterr(), _stored(db)))
    (bulk_output, bulk_rows), (orm_output, orm_rows) = results
    assert bulk_output == orm_output
    assert "264 séances à domicile" in bulk_output.out and "Avertissement" in bulk_output.err
    assert bulk_rows == orm_rows
    assert len(bulk_rows["home_session"]) == 264


def test_an_imported_store_passes_the_integrity_check(db_path, tmp_path, capsys):
    """The audit chain written next to a bulk import is whole: `check` finds nothing wrong."""
    _import_rich(db_path, tmp_path)
    capsys.readouterr()
    assert main.main(["--db", db_path, "check"]) == 0, capsys.readouterr().err
    from models.db import make_engine
    from services import integrity

    engine = make_engine(db_path)
    report = integrity.verify(engine)
    engine.dispose()
    assert report.ok and report.entries >= 1, report.problems


@pytest.mark.sqlite_only("reads every table through sqlite3")
def test_reimport_through_batches_counts_every_session_unchanged_and_refuses_one_changed(db_path, tmp_path,
                                                                                        monkeypatch, capsys):
    """Stored sessions are fetched a batch at a time: an identical file writes nothing; one session changed in a
    later batch is refused, by its key and field, and nothing is written."""
    from services.dataset import importer

    monkeypatch.setattr(importer, "BULK_BATCH", 7)
    _import_rich(db_path, tmp_path)
    before = _stored(db_path)
    capsys.readouterr()
    _import_rich(db_path, tmp_path)
    out = capsys.readouterr().out
    assert "aucun nouvel enregistrement" in out and _stored(db_path) == before
    changed = rich_dataset()
    changed["sessions"][200]["duration_minutes"] += 1
    changed["sessions"].append({**changed["sessions"][0], "key": "NEW"})
    source = tmp_path / "changed.json"
    source.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    assert main.main(["--db", db_path, "import", str(source)]) == 2
    err = capsys.readouterr().err
    key = changed["sessions"][200]["key"]
    assert f"Séance à domicile « {key} » : cette clé existe déjà dans la base avec un contenu différent " \
           "(champ(s) : duration_minutes)" in err
    assert _stored(db_path) == before


@pytest.mark.sqlite_only("SQLite's page cache")
def test_the_import_gives_its_connection_back_with_the_page_cache_it_had(engine, uow):
    """The import's larger SQLite page cache is the import's only: the pooled connection, used next by the window,
    keeps its own size — after an import, and after a refused one."""
    from sqlalchemy import text

    from services.dataset import import_dataset
    from services.errors import ImportRejected

    engine.pool = engine.pool.recreate()  # one connection, the one the import used
    with engine.connect() as connection:
        before = connection.execute(text("PRAGMA cache_size")).scalar()
    import_dataset(uow(), copy.deepcopy(EXAMPLE))
    with pytest.raises(ImportRejected):
        import_dataset(uow(), {**EXAMPLE, "sessions": [{**EXAMPLE["sessions"][0], "duration_minutes": 0}]})
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA cache_size")).scalar() == before


def _broken(section: str, position: int, record) -> dict:
    data = copy.deepcopy(EXAMPLE)
    data[section] = [*data[section][:position], record, *data[section][position:]]
    return data


@pytest.mark.parametrize("data", [
    _broken("sessions", 1, 42), _broken("sessions", 2, ["S9"]), _broken("sessions", 0, {"family": "F1"}),
    _broken("sessions", 3, {**EXAMPLE["sessions"][0]}), _broken("sessions", 3, {**EXAMPLE["sessions"][0], "key": "s1"}),
    _broken("sessions", 4, {**EXAMPLE["sessions"][0], "key": "S9", "status": "done"}),
    _broken("families", 1, {**EXAMPLE["families"][0], "key": "F9"}), _broken("users", 0, None),
    {**EXAMPLE, "sessions": {"key": "S1"}},
], ids=["not-an-object", "a-list", "no-key", "key-twice", "look-alike", "bad-status", "child-twice", "null", "no-list"])
def test_a_streamed_file_is_refused_with_the_message_of_the_same_dictionary(db_path, tmp_path, uow, capsys, data):
    """The keys a streamed section gives from its scan, and its records read again, are refused as the records of
    the parsed dictionary are."""
    from services.dataset import import_dataset, parse_json
    from services.errors import ImportRejected

    text = json.dumps(data, ensure_ascii=False, indent=2)
    with pytest.raises(ImportRejected) as refused:
        import_dataset(uow(), parse_json(text))
    source = tmp_path / "broken.json"
    source.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main.main(["--db", db_path, "import", str(source)]) == 2
    assert capsys.readouterr().err == f"Import refusé, rien n'a été enregistré.\n{refused.value.message}\n"


def test_bulk_import_and_streamed_export_on_postgresql(postgres_url, monkeypatch):
    """The same paths on PostgreSQL (no page cache there): the rich dataset imports through batches, its sessions all
    stored, and the streamed text is json.dumps of the exported dictionary."""
    from models.db import make_engine, migrate
    from services.dataset import export_dataset, import_dataset, importer, stream_dataset
    from services.permissions import SYSTEM
    from services.uow import unit_of_work_factory

    monkeypatch.setattr(importer, "BULK_BATCH", 7)
    engine = make_engine(postgres_url)
    migrate(engine)
    uow = unit_of_work_factory(engine)
    try:
        report = import_dataset(uow(), rich_dataset())
        assert report.created["sessions"] == 264
        chunks: list[str] = []
        stream_dataset(uow(), SYSTEM, deliver=chunks.extend)
        exported = export_dataset(uow(), SYSTEM)
        assert "".join(chunks) == json.dumps(exported, ensure_ascii=False, indent=2)
        assert len(exported["sessions"]) == 264
        assert import_dataset(uow(), exported).unchanged["sessions"] == 264
    finally:
        engine.dispose()
