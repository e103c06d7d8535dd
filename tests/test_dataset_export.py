"""Export in `parcours-dataset/1`: export(import(x)) gives back every field of x, and an export re-imports as is."""
import copy
import itertools
import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import main
from models.db import make_engine, migrate
from models.enums import SESSION_STATUSES
from services.dataset import export_dataset, import_dataset
from services import text_rules
from services.date_bounds import EVENT
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory

from tests.conftest import DATA

EXAMPLE_FILE = DATA / "example_dataset.json"
EXAMPLE = json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))
SECTIONS = ("users", "partners", "conventions", "intervenants", "families", "parcours", "eps_meetings",
            "orientations", "sessions", "meetings")


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    """main.main() writes its log under the user's state folder: keep it inside the test's folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def cli_export(db_path, target):
    assert main.main(["--db", db_path, "export", str(target)]) == 0
    return json.loads(target.read_text(encoding="utf-8"))


def assert_contains(given_value, exported, where):
    """Every field of `given_value` is in `exported` with the same value; records in lists are matched by key."""
    if isinstance(given_value, dict):
        assert isinstance(exported, dict), where
        for name, value in given_value.items():
            assert name in exported, f"{where}.{name} missing from the export"
            assert_contains(value, exported[name], f"{where}.{name}")
    elif isinstance(given_value, list) and given_value and all(isinstance(v, dict) and "key" in v for v in given_value):
        by_key = {item["key"]: item for item in exported}
        assert len(by_key) == len(given_value), f"{where}: {sorted(by_key)}"
        for item in given_value:
            assert item["key"] in by_key, f"{where}: « {item['key']} » missing from the export"
            assert_contains(item, by_key[item["key"]], f"{where}[{item['key']}]")
    elif isinstance(given_value, list):
        assert len(exported) == len(given_value), where
        for i, (a, b) in enumerate(zip(given_value, exported)):
            assert_contains(a, b, f"{where}[{i}]")
    else:
        assert exported == given_value, f"{where}: {given_value!r} became {exported!r}"


def test_export_of_imported_example_contains_every_field_of_the_file(db_path, tmp_path, capsys):
    assert main.main(["--db", db_path, "import", str(EXAMPLE_FILE)]) == 0
    exported = cli_export(db_path, tmp_path / "out.json")
    assert "Export écrit dans" in capsys.readouterr().out
    assert_contains(EXAMPLE, exported, "dataset")
    assert not (tmp_path / "out.json.tmp").exists()


def test_assert_contains_notices_a_missing_or_changed_field():
    """The helper above really fails when a field is lost or altered (else the round-trip test proves nothing)."""
    exported = copy.deepcopy(EXAMPLE)
    del exported["sessions"][3]["duration_minutes"]
    with pytest.raises(AssertionError, match=r"S4\]\.duration_minutes missing"):
        assert_contains(EXAMPLE, exported, "dataset")
    exported = copy.deepcopy(EXAMPLE)
    exported["families"][0]["children"][1]["birth_date"] = "2019-09-16"
    with pytest.raises(AssertionError, match="2019-09-15"):
        assert_contains(EXAMPLE, exported, "dataset")


def test_export_writes_every_field_of_every_record_including_nulls(db_path, tmp_path):
    assert main.main(["--db", db_path, "import", str(EXAMPLE_FILE)]) == 0
    exported = cli_export(db_path, tmp_path / "out.json")
    assert exported["format"] == "parcours-dataset/1"
    assert set(exported) == {"format", "programme", *SECTIONS}
    s4 = next(s for s in exported["sessions"] if s["key"] == "S4")
    assert s4 == {"key": "S4", "family": "F2", "intervenant": "i-tisf", "date": "2025-03-12", "start_time": None,
                  "duration_minutes": 60, "status": "held", "referent_present": True, "children_present": None,
                  "approved_exception": False, "approved_by": None, "notes": None}
    c3 = exported["families"][1]["children"][0]
    assert c3 == {"key": "C3", "first_name": "Awa", "last_name": "Diallo", "birth_date": "2014-11-30", "sex": None,
                  "school": None, "class": None}


def test_export_reimports_into_an_empty_database_and_exports_identically(db_path, tmp_path):
    assert main.main(["--db", db_path, "import", str(EXAMPLE_FILE)]) == 0
    first = cli_export(db_path, tmp_path / "first.json")
    other_db = str(tmp_path / "other.sqlite")
    assert main.main(["--db", other_db, "import", str(tmp_path / "first.json")]) == 0
    assert cli_export(other_db, tmp_path / "second.json") == first


def test_export_of_an_empty_database_has_every_section_empty_and_reimports(db_path, tmp_path):
    exported = cli_export(db_path, tmp_path / "empty.json")
    assert exported == {"format": "parcours-dataset/1", **{section: [] for section in SECTIONS}}
    assert main.main(["--db", str(tmp_path / "other.sqlite"), "import", str(tmp_path / "empty.json")]) == 0


def test_optional_fields_may_be_null_or_absent_and_export_as_null(uow):
    data = copy.deepcopy(EXAMPLE)
    convention = data["conventions"][0]
    convention["budget_cap"] = None
    del convention["end"]
    data["orientations"][0].update(status="proposed", decided_on=None, decided_by=None)
    del data["orientations"][1]["decided_on"]
    data["orientations"][1].update(status="proposed", decided_by=None)
    data["sessions"][0]["start_time"] = None
    del data["sessions"][1]["start_time"]

    import_dataset(uow(), data)
    exported = export_dataset(uow(), SYSTEM)

    assert (exported["conventions"][0]["budget_cap"], exported["conventions"][0]["end"]) == (None, None)
    assert [o["decided_on"] for o in exported["orientations"]] == [None, None]
    sessions = {s["key"]: s for s in exported["sessions"]}
    assert (sessions["S1"]["start_time"], sessions["S2"]["start_time"]) == (None, None)


def test_money_is_exported_as_text_with_two_decimals(uow):
    data = copy.deepcopy(EXAMPLE)
    data["conventions"][0]["budget_cap"] = "25000"
    data["conventions"][0]["tariffs"]["AES"]["home_intervention"] = "30.5"
    import_dataset(uow(), data)
    convention = export_dataset(uow(), SYSTEM)["conventions"][0]
    assert convention["budget_cap"] == "25000.00"
    assert convention["tariffs"]["AES"]["home_intervention"] == "30.50"
    assert convention["tariffs"]["TISF"] == {"home_intervention": "56.13", "weekly_preparation": "20.07",
                                             "launch_meeting": "56.13", "period_end_meeting": "56.13"}


# -- property: generated sessions come back field for field ---------------------------------------------------

@pytest.fixture(scope="module")
def property_store(tmp_path_factory):
    """One database holding the example: each generated file holds only new sessions referring to it."""
    engine = make_engine(str(tmp_path_factory.mktemp("property") / "property.sqlite"))
    migrate(engine)
    uow = unit_of_work_factory(engine)
    import_dataset(uow(), EXAMPLE)
    yield uow
    engine.dispose()


# Clean notes (services.text_rules refuses controls and invisible characters, stores NFC); refusals are
# tests/test_fuzz_dataset.py's.
notes = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), min_size=1,
                max_size=200).map(lambda text: unicodedata.normalize("NFC", text.strip())).filter(
                    lambda text: text and text_rules.first_forbidden(text, text_rules.TEXT) is None)


@st.composite
def session_fields(draw):
    decision = draw(st.sampled_from(("none", "approved", "refused")))
    exception = decision == "approved"
    fields = {
        "family": draw(st.sampled_from(["F1", "F2"])),
        "intervenant": draw(st.sampled_from(["i-aes", "i-tisf"])),
        "date": draw(st.dates(*EVENT)).isoformat(),
        "start_time": draw(st.none() | st.times().map(lambda t: t.strftime("%H:%M"))),
        "duration_minutes": draw(st.integers(1, 1440)),
        "status": draw(st.sampled_from(SESSION_STATUSES)),
        "referent_present": draw(st.booleans()),
        "children_present": draw(st.none() | st.integers(0, 30)),
        "approved_exception": exception,
        "approved_by": draw(st.none() | st.just("coord-durand")) if exception else None,
        "notes": draw(st.none() | notes),
    }
    if decision == "refused":  # optional fields, written only when set
        fields["exception_refused"] = True
        refusal = {"exception_decided_by": draw(st.none() | st.just("coord-durand")),
                   "exception_reason": draw(st.none() | notes)}
        fields.update({k: v for k, v in refusal.items() if v is not None})
    return fields


_serial = itertools.count()


@settings(max_examples=50, deadline=None)
@given(generated=st.lists(session_fields(), min_size=1, max_size=4), omit_nulls=st.booleans())
def test_generated_sessions_export_with_the_same_fields_as_imported(property_store, generated, omit_nulls):
    uow = property_store
    n = next(_serial)
    sessions = [{"key": f"P{n}-{i}", **fields} for i, fields in enumerate(generated)]
    in_file = [{k: v for k, v in s.items() if v is not None or not omit_nulls} for s in sessions]

    report = import_dataset(uow(), {"format": "parcours-dataset/1", "sessions": in_file})

    assert report.created == {"sessions": len(sessions)}
    exported = {s["key"]: s for s in export_dataset(uow(), SYSTEM)["sessions"]}
    for session in sessions:
        assert exported[session["key"]] == session
