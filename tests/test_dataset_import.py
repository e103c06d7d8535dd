"""Import of `parcours-dataset/1` files through the command line: all or nothing, idempotent, references to
stored records, warnings for the programme's rules, and a clear French refusal (exit 2) for bad data."""
import copy
import itertools
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import main
from models.db import make_engine, migrate
from services.dataset import export_dataset, import_dataset
from services.errors import ImportRejected
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory

from tests.conftest import DATA
from tests.stores import dump, rows

EXAMPLE_FILE = DATA / "example_dataset.json"
EXAMPLE = json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))
REFUSED = "Import refusé, rien n'a été enregistré."


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    """main.main() writes its log under the user's state folder: keep it inside the test's folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def write(tmp_path, content, name="data.json"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False),
                    encoding="utf-8")
    return str(path)


def cli_import(db_path, file):
    return main.main(["--db", db_path, "import", file])


def counts(db_path):
    return {table: len(found) for table, found in dump(db_path).items()}


@pytest.fixture
def stored_db(db_path, capsys):
    """A database file holding the example dataset, imported through the command line."""
    assert cli_import(db_path, str(EXAMPLE_FILE)) == 0
    capsys.readouterr()
    return db_path


# -- a good import ---------------------------------------------------------------------------------------

def test_import_of_example_stores_every_record_and_prints_a_french_summary(db_path, capsys):
    assert cli_import(db_path, str(EXAMPLE_FILE)) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Import terminé : 1 programme, 3 utilisateurs, 1 partenaire, 1 convention, 2 intervenants,"
                          " 2 familles, 1 parcours, 1 séance d'EPS, 2 orientations, 4 séances à domicile, 1 réunion.")
    assert err == ""  # the example follows every rule of the programme: no warning
    n = counts(db_path)
    assert [n[t] for t in ("programme", "app_user", "partner", "convention", "tariff", "intervenant")] == [1, 3, 1, 1, 8, 2]
    assert [n[t] for t in ("family", "guardian", "child", "parcours", "eps_meeting", "eps_situation")] == [2, 1, 3, 1, 1, 2]
    assert (n["orientation"], n["home_session"], n["meeting"], n["meeting_attendance"]) == (2, 4, 1, 2)


def test_reimport_of_identical_file_changes_nothing(stored_db, capsys):
    before = dump(stored_db)
    assert cli_import(stored_db, str(EXAMPLE_FILE)) == 0
    out = capsys.readouterr().out
    assert "Import terminé : aucun nouvel enregistrement." in out
    assert "Déjà présents et identiques : 19 enregistrement(s)." in out
    assert dump(stored_db) == before


def test_reimport_with_optional_fields_omitted_or_null_is_still_identical(stored_db, tmp_path, capsys):
    data = copy.deepcopy(EXAMPLE)
    data["orientations"][0].pop("end")  # was null
    data["sessions"][0]["notes"] = None  # was absent
    data["families"][1]["guardians"] = []  # was absent
    before = dump(stored_db)
    assert cli_import(stored_db, write(tmp_path, data)) == 0
    assert "aucun nouvel enregistrement" in capsys.readouterr().out
    assert dump(stored_db) == before


def test_second_file_with_only_new_records_resolves_references_to_stored_records(stored_db, tmp_path, capsys):
    later = {
        "format": "parcours-dataset/1",
        "sessions": [
            {"key": "S5", "family": "F1", "intervenant": "i-aes", "date": "2025-03-18", "start_time": "14:00",
             "duration_minutes": 60, "status": "held", "referent_present": False},
            {"key": "S6", "family": "F2", "intervenant": "i-tisf", "date": "2025-03-19", "duration_minutes": 120,
             "status": "cancelled", "approved_exception": True, "approved_by": "coord-durand"},
        ],
        "meetings": [{"key": "M2", "convention": "ap-2025", "kind": "period_end", "date": "2025-04-30",
                      "intervenants": ["i-tisf"]}],
    }
    assert cli_import(stored_db, write(tmp_path, later)) == 0
    assert "Import terminé : 2 séances à domicile, 1 réunion." in capsys.readouterr().out
    sessions = rows(
        stored_db, "SELECT s.key, f.key, i.key, u.key FROM home_session s JOIN family f ON f.id = s.family_id"
        " JOIN intervenant i ON i.id = s.intervenant_id LEFT JOIN app_user u ON u.id = s.approved_by_id"
        " WHERE s.key IN ('S5', 'S6') ORDER BY s.key")
    attendance = rows(stored_db, "SELECT i.key FROM meeting m JOIN meeting_attendance a ON a.meeting_id = m.id"
                                 " JOIN intervenant i ON i.id = a.intervenant_id WHERE m.key = 'M2'")
    assert sessions == [("S5", "F1", "i-aes", None), ("S6", "F2", "i-tisf", "coord-durand")]
    assert attendance == [("i-tisf",)]
    assert counts(stored_db)["home_session"] == 6


def test_programme_rules_are_reported_as_warnings_and_the_records_are_imported(db_path, tmp_path, capsys):
    data = copy.deepcopy(EXAMPLE)
    data["families"][0]["children"][0]["birth_date"] = "2005-01-01"  # 20 years old at the first session
    data["families"][1]["commune"] = "Lyon"  # not an eligible commune
    data["sessions"][0]["referent_present"] = False  # référent absent at F1's first session
    data["orientations"][1]["decided_on"] = "2025-03-20"  # F2's session of 2025-03-12 held before validation

    assert cli_import(db_path, write(tmp_path, data)) == 0
    out, err = capsys.readouterr()
    assert "4 séances à domicile" in out
    warnings = [line for line in err.splitlines() if line.startswith("Avertissement : ")]
    assert len(warnings) == 4
    assert any("Enfant « C1 »" in w and "hors de la tranche 2 à 16 ans" in w for w in warnings)
    assert any("Famille « F2 »" in w and "« Lyon » n'est pas éligible" in w for w in warnings)
    assert any("Famille « F1 »" in w and "référent de parcours était absent" in w for w in warnings)
    assert any("Famille « F2 »" in w and "sans orientation validée" in w for w in warnings)
    assert counts(db_path)["home_session"] == 4 and counts(db_path)["child"] == 3


# -- bad input: exit 2, a French message naming type, key and field, nothing written ---------------------

def _file_with_new_records():
    """The example (already stored) plus a new user and a new session: a refusal must not keep them either."""
    data = copy.deepcopy(EXAMPLE)
    data["users"].append({"key": "u-new", "name": "Paul Roux", "role": "referent"})
    data["sessions"].append({"key": "S9", "family": "F1", "intervenant": "i-aes", "date": "2025-03-25",
                             "start_time": "14:00", "duration_minutes": 60, "status": "held"})
    return data


def _session(data, key="S9"):
    return next(s for s in data["sessions"] if s["key"] == key)


def _malformed(data):
    return json.dumps(data)[:-40]


def _wrong_format(data):
    data["format"] = "parcours-dataset/2"


def _unknown_reference(data):
    _session(data)["family"] = "F404"


def _impossible_date(data):
    _session(data)["date"] = "2025-02-30"


def _negative_duration(data):
    _session(data)["duration_minutes"] = -30


def _duration_as_text(data):
    _session(data)["duration_minutes"] = "60"


def _unknown_qualification(data):
    data["intervenants"].append({"key": "i-new", "partner": "adom", "name": "Léa Blanc", "qualification": "A" * 21})


def _unknown_status(data):
    _session(data)["status"] = "done"


def _unknown_role(data):
    data["users"][-1]["role"] = "boss"


def _duplicate_key(data):
    data["sessions"].append(copy.deepcopy(_session(data)))


def _conflicting_reimport(data):
    _session(data, "S1")["duration_minutes"] = 45


def _unknown_field(data):
    _session(data)["referent_presnt"] = True  # misspelt: would silently be lost


def _decision_before_eps(data):
    data["orientations"].append({"key": "O9", "family": "F1", "convention": "ap-2025", "eps_date": "2025-01-14",
                                 "status": "validated", "decided_on": "2025-01-10"})


def _refused_and_approved(data):
    _session(data).update(approved_exception=True, exception_refused=True)


def _refusal_reason_without_refusal(data):
    _session(data)["exception_reason"] = "Hors cadre"


def _reserved_user_key(data):
    data["users"].append({"key": "system", "name": "Système", "role": "administrator"})


BAD_INPUTS = {
    "malformed_json": (_malformed, ["n'est pas un JSON valide", "ligne 1"]),
    "wrong_format": (_wrong_format, ["Format non reconnu", "parcours-dataset/2"]),
    "unknown_reference": (_unknown_reference, ["Séance à domicile « S9 »", "champ « family »",
                                              "référence inconnue", "« F404 »"]),
    "impossible_date": (_impossible_date, ["Séance à domicile « S9 »", "champ « date »", "date impossible",
                                           "2025-02-30"]),
    "negative_duration": (_negative_duration, ["Séance à domicile « S9 »", "champ « duration_minutes »",
                                               "trop petite"]),
    "wrong_type": (_duration_as_text, ["Séance à domicile « S9 »", "champ « duration_minutes »",
                                       "un nombre entier est attendu"]),
    "unknown_qualification": (_unknown_qualification, ["Intervenant « i-new »", "champ « qualification »",
                                                       "la qualification dépasse 20 caractères"]),
    "unknown_status": (_unknown_status, ["Séance à domicile « S9 »", "champ « status »", "valeur inconnue « done »"]),
    "unknown_role": (_unknown_role, ["Utilisateur « u-new »", "champ « role »", "valeur inconnue « boss »"]),
    "duplicate_key": (_duplicate_key, ["Séance à domicile « S9 »", "champ « key »", "clé en double"]),
    "conflicting_reimport": (_conflicting_reimport, ["Séance à domicile « S1 »", "existe déjà",
                                                     "contenu différent", "duration_minutes"]),
    "unknown_field": (_unknown_field, ["Séance à domicile « S9 »", "champ « referent_presnt »", "champ inconnu"]),
    "contradictory_dates": (_decision_before_eps, ["Orientation « O9 »", "champ « decided_on »",
                                                   "la décision précède la séance d'EPS"]),
    "refused_and_approved": (_refused_and_approved, ["Séance à domicile « S9 »", "champ « exception_refused »",
                                                     "à la fois approuvée et refusée"]),
    "reason_without_refusal": (_refusal_reason_without_refusal, ["Séance à domicile « S9 »",
                                                                 "champ « exception_reason »", "pas marquée refusée"]),
    "reserved_user_key": (_reserved_user_key, ["Utilisateur « system »", "champ « key »", "réservé"]),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_refused_with_french_message_exit_2_and_database_unchanged(case, stored_db, tmp_path, capsys):
    mutate, expected = BAD_INPUTS[case]
    data = _file_with_new_records()
    content = mutate(data)
    file = write(tmp_path, data if content is None else content)
    before = dump(stored_db)

    status = cli_import(stored_db, file)

    out, err = capsys.readouterr()
    assert status == 2
    assert err.startswith(REFUSED)
    for words in expected:
        assert words in err
    assert "Import terminé" not in out
    assert dump(stored_db) == before


def test_the_same_file_without_the_fault_is_accepted(stored_db, tmp_path, capsys):
    """Control for the test above: the new user and session alone are imported (so the refusals were the faults')."""
    assert cli_import(stored_db, write(tmp_path, _file_with_new_records())) == 0
    assert "Import terminé : 1 utilisateur, 1 séance à domicile." in capsys.readouterr().out


@pytest.mark.parametrize("case, field", [
    ("unknown_reference", "family"), ("impossible_date", "date"), ("negative_duration", "duration_minutes"),
    ("unknown_qualification", "qualification"), ("unknown_status", "status"), ("unknown_role", "role"),
    ("duplicate_key", "key"), ("conflicting_reimport", "duration_minutes"), ("unknown_field", "referent_presnt"),
])
def test_rejection_carries_the_field_at_fault(case, field, uow):
    import_dataset(uow(), EXAMPLE)
    data = _file_with_new_records()
    BAD_INPUTS[case][0](data)
    with pytest.raises(ImportRejected) as caught:
        import_dataset(uow(), data)
    assert caught.value.field == field


def test_missing_file_is_refused_with_exit_2(db_path, tmp_path, capsys):
    assert cli_import(db_path, str(tmp_path / "absent.json")) == 2
    assert f"Le fichier « {tmp_path / 'absent.json'} » est introuvable." in capsys.readouterr().err


PATHOLOGICAL_JSON = {
    "huge_number": "1" * 5000,
    "deep_nesting": "[" * 100_000 + "]" * 100_000,
    "lone_surrogate_key": '{"format": "parcours-dataset/1", "sessions": [{"key": "\\ud800"}]}',
}


@pytest.mark.parametrize("content", PATHOLOGICAL_JSON.values(), ids=list(PATHOLOGICAL_JSON))
def test_pathological_json_is_refused_with_exit_2(content, stored_db, tmp_path, capsys):
    before = dump(stored_db)
    assert cli_import(stored_db, write(tmp_path, content)) == 2
    assert capsys.readouterr().err.startswith(REFUSED)
    assert dump(stored_db) == before


# -- fuzz: junk in session fields is imported or refused, never anything else, never half-written -----------

SESSION_FIELDS = ["key", "family", "intervenant", "date", "start_time", "duration_minutes", "status",
                  "referent_present", "children_present", "approved_exception", "approved_by", "notes"]

odd_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1),  # lone surrogates
    st.sampled_from(["\x00", "\u202e\u0301", "\ufeff", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "😀" * 3, " ", "１４:００", "２０２５-０３-０４",
                     "2025-02-30", "2025-03-04\n", "24:00", "held ", "F1\n", "-1"]),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "😀"]), st.integers(60, 20_000)),  # very long
)
junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**18), st.floats(), odd_text,
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    engine = make_engine(str(tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite"))
    migrate(engine)
    uow = unit_of_work_factory(engine)
    import_dataset(uow(), EXAMPLE)
    yield engine, uow
    engine.dispose()


def _row_counts(engine):
    with engine.connect() as conn:
        return {t: conn.exec_driver_sql(f'SELECT COUNT(*) FROM "{t}"').scalar()
                for t in ("app_user", "home_session", "family", "child", "intervenant")}


_fuzz_serial = itertools.count()


@settings(max_examples=50, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(SESSION_FIELDS), junk, min_size=1, max_size=4))
@example(changes={"key": "\ud800"})  # lone surrogates once reached SQLite and raised UnicodeEncodeError
@example(changes={"notes": "\udcff", "family": "\ud800"})
@example(changes={"start_time": "１４:００", "notes": "😀" * 5000})
@example(changes={"duration_minutes": 10**5000, "children_present": float("inf")})
def test_fuzzed_session_fields_either_import_or_raise_import_rejected_never_half_written(fuzz_store, changes):
    engine, uow = fuzz_store
    n = next(_fuzz_serial)
    session = {"key": f"FZ{n}", "family": "F1", "intervenant": "i-aes", "date": "2025-04-01",
               "duration_minutes": 60, "status": "held", **changes}
    data = {"format": "parcours-dataset/1", "users": [{"key": f"fz-user-{n}", "name": "X", "role": "referent"}],
            "sessions": [session]}
    before = _row_counts(engine)
    try:
        report = import_dataset(uow(), data)
    except ImportRejected as rejected:
        assert rejected.message.strip()
        rejected.message.encode("utf-8")  # printable as is: no lone surrogate copied from the input
        assert _row_counts(engine) == before  # the new user, given before the session, was not kept either
    else:
        assert report.created["users"] == 1
        after = _row_counts(engine)
        assert after["app_user"] == before["app_user"] + 1
        assert after["home_session"] - before["home_session"] == report.created.get("sessions", 0)
        exported = {s["key"]: s for s in export_dataset(uow(), SYSTEM)["sessions"]}
        assert session["key"] in exported
