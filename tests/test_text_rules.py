"""Clean input (services.text_rules): invisible, bidi and control characters refused with their code, NFC, look-alike
and reserved keys; and the same rules where text comes in: the import, the unit of work."""
import json
import sqlite3
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import main
from models import Partner
from services import text_rules
from services.errors import ValidationError
from services.text_rules import KEY, LINE, TEXT

from tests.conftest import DATA
from tests.programme_fixture import programme  # noqa: F401 - fixture

EXAMPLE = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2061", "\u180e", "\u3164", "\U000e0041"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f"]
CONTROLS = ["\x01", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize("char", INVISIBLE + BIDI + CONTROLS)
@pytest.mark.parametrize("kind", [KEY, LINE, TEXT])
def test_invisible_bidi_and_control_characters_are_refused_naming_their_code(char, kind):
    problem = text_rules.character_problem(f"Dup{char}ont", kind)
    assert problem is not None and f"(U+{ord(char):04X})" in problem and "retirez-le" in problem


def test_the_kind_of_character_is_said_in_french():
    assert "invisible" in text_rules.character_problem("a\u200bb")
    assert "direction d'écriture" in text_rules.character_problem("a\u202eb")
    assert "contrôle" in text_rules.character_problem("a\x1bb")


def test_newline_and_tab_pass_only_in_multi_line_free_text():
    assert text_rules.character_problem("ligne 1\nligne 2\tfin", TEXT) is None
    assert "U+000A" in text_rules.character_problem("Dupont\nMartin", LINE)
    assert "U+0009" in text_rules.character_problem("F\t1", KEY)


def test_variation_selector_passes_in_a_note_not_in_a_name():
    assert text_rules.character_problem("Merci \u2764\ufe0f", TEXT) is None
    assert "U+FE0F" in text_rules.character_problem("Dupont\ufe0f", LINE)


clean_text = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Mn", "Lo")), max_size=30)


@given(before=clean_text, after=clean_text, char=st.sampled_from(INVISIBLE + BIDI + CONTROLS),
       kind=st.sampled_from([KEY, LINE, TEXT]))
def test_a_refused_character_anywhere_in_a_text_is_found(before, after, char, kind):
    assert text_rules.first_forbidden(before + char + after, kind) == char


@given(text=clean_text)
def test_french_text_without_refused_characters_passes(text):
    assert text_rules.character_problem(text + " « Élodie » l’école 12 rue", LINE) is None


def test_texts_are_stored_in_nfc():
    decomposed = "He\u0301le\u0300ne"
    assert text_rules.normalise(decomposed) == "Hélène" == unicodedata.normalize("NFC", decomposed)


def test_a_key_with_surrounding_spaces_is_refused():
    assert "espace" in text_rules.key_problem(" F1")
    assert "espace" in text_rules.key_problem("F1\u00a0")
    assert text_rules.key_problem("F-1") is None


@pytest.mark.parametrize("spelling", ["system", "SYSTEM", "System", "ѕystem", "sуstem", "ЅУЅТЕМ", "system\u200b",
                                      "ｓｙｓｔｅｍ", "𝐬𝐲𝐬𝐭𝐞𝐦", "ſyſtem", "syst\u0435m", "ѕуѕтем"])
def test_every_spelling_of_system_is_reserved(spelling):
    assert text_rules.is_reserved(spelling)


@pytest.mark.parametrize("key", ["systems", "sytem", "systèm", "admin", "F1"])
def test_other_keys_are_not_reserved(key):
    assert not text_rules.is_reserved(key)


LOOK_ALIKE_OF = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "s": "ѕ", "i": "і"}


@given(key=st.text("acdeiopsxyz0123456789-", min_size=1, max_size=12), data=st.data())
def test_case_and_cyrillic_look_alikes_give_the_same_skeleton(key, data):
    disguised = "".join(LOOK_ALIKE_OF.get(c, c) if data.draw(st.booleans()) else c.upper() for c in key)
    assert text_rules.skeleton(disguised) == text_rules.skeleton(key)
    index = text_rules.KeyIndex([key])
    assert index.look_alike(disguised) == (None if disguised == key else key)


def test_a_different_key_is_not_a_look_alike():
    index = text_rules.KeyIndex(["F1", "F2"])
    assert index.look_alike("F3") is None
    assert index.look_alike("F1") is None  # a key already known is not its own twin
    assert index.look_alike("f1") == "F1"


# -- where text comes in ----------------------------------------------------------------------------------------------

def dump(db_path):
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"'))) for t in tables}


def refused(tmp_path, capsys, data: dict | str) -> str:
    """Import `data` into a fresh store holding the example; assert exit 2 and nothing written; the message."""
    db = str(tmp_path / "store.sqlite")
    example = tmp_path / "example.json"
    example.write_text(json.dumps(EXAMPLE, ensure_ascii=False), encoding="utf-8")
    assert main.main(["--db", db, "import", str(example)]) == 0
    before = dump(db)
    capsys.readouterr()
    path = tmp_path / "data.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main.main(["--db", db, "import", str(path)]) == 2
    assert dump(db) == before
    return capsys.readouterr().err


def test_import_refuses_an_invisible_character_in_a_family_name(tmp_path, capsys):
    data = {"format": "parcours-dataset/1", "families": [{"key": "F9", "name": "Dupont\u200b", "commune": "Bourg"}]}
    err = refused(tmp_path, capsys, data)
    assert "Famille « F9 », champ « name »" in err and "caractère invisible (U+200B)" in err


def test_import_refuses_a_bidi_override_in_a_key_and_shows_it_escaped(tmp_path, capsys):
    data = {"format": "parcours-dataset/1", "partners": [{"key": "P\u202e1", "name": "Adom"}]}
    err = refused(tmp_path, capsys, data)
    assert "U+202E" in err and "\u202e" not in err and "P\\u202e1" in err


def test_import_refuses_a_key_that_looks_like_a_stored_one(tmp_path, capsys):
    stored = EXAMPLE["partners"][0]["key"]
    disguised = stored.upper() if stored.upper() != stored else stored.lower()
    err = refused(tmp_path, capsys, {"format": "parcours-dataset/1", "partners": [{"key": disguised, "name": "X"}]})
    assert f"se confond avec la clé « {stored} »" in err


def test_import_refuses_two_look_alike_keys_in_one_file(tmp_path, capsys):
    data = {"format": "parcours-dataset/1",
            "partners": [{"key": "pep01", "name": "A"}, {"key": "рер01", "name": "B"}]}  # Cyrillic р, е
    assert "se confond avec la clé « pep01 »" in refused(tmp_path, capsys, data)


@pytest.mark.parametrize("key", ["ѕystem", "SYSTEM", "system\u200b"])
def test_import_refuses_a_user_spelt_like_system(tmp_path, capsys, key):
    data = {"format": "parcours-dataset/1", "users": [{"key": key, "name": "X", "role": "referent"}]}
    err = refused(tmp_path, capsys, data)
    assert "champ « key »" in err


def test_import_refuses_a_name_given_twice_in_one_object(tmp_path, capsys):
    text = ('{"format": "parcours-dataset/1", "partners": [\n'
            '  {"key": "P7", "name": "A", "key": "P8"}]}')
    err = refused(tmp_path, capsys, text)
    assert "deux fois le champ « key »" in err and "ligne 2, colonne 3" in err and "« P7 » puis « P8 »" in err


def test_import_refuses_a_huge_commune_at_once(tmp_path, capsys):
    programme = {**EXAMPLE["programme"], "eligible_communes": ["x" * 10_000_000]}
    err = refused(tmp_path, capsys, {"format": "parcours-dataset/1", "programme": programme})
    assert "champ « eligible_communes »" in err and "dépasse 120 caractères" in err


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", "2200-01-01"])
def test_import_refuses_a_session_date_out_of_range(tmp_path, capsys, day):
    session = {**EXAMPLE["sessions"][0], "key": "S-new", "date": day}
    err = refused(tmp_path, capsys, {"format": "parcours-dataset/1", "sessions": [session]})
    assert "champ « date »" in err and "du 01/01/2000 au 31/12/2199" in err


def test_import_stores_decomposed_accents_in_nfc(tmp_path, capsys):
    db = str(tmp_path / "store.sqlite")
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"format": "parcours-dataset/1",
                                "partners": [{"key": "P\u0301", "name": "He\u0301le\u0300ne"}]}), encoding="utf-8")
    assert main.main(["--db", db, "import", str(path)]) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT key, name FROM partner").fetchall() == [("\u1e54", "Hélène")]


def test_unit_of_work_refuses_a_bidi_override_a_service_forgot(uow):
    with uow() as work:
        work.session.add(Partner(key="P1", name="Adom\u202e01"))
        with pytest.raises(ValidationError) as refused:
            work.session.flush()
    assert refused.value.field == "name" and "U+202E" in refused.value.message


def test_unit_of_work_lets_newlines_pass_in_text_but_not_in_a_key(uow):
    with uow() as work:
        work.session.add(Partner(key="P1", name="Adom\n01"))
        work.session.flush()
    with uow() as work:
        work.session.add(Partner(key="P\n2", name="Adom"))
        with pytest.raises(ValidationError) as refused:
            work.session.flush()
    assert refused.value.field == "key"


# -- the window's services ------------------------------------------------------------------------------------------

@pytest.fixture
def store(uow):
    from services.dataset import import_dataset, parse_json

    import_dataset(uow(), parse_json((DATA / "example_dataset.json").read_text(encoding="utf-8")))
    return uow


def _admin(uow):
    from services.directory import list_users

    return {u.key: u for u in list_users(uow())}["admin-petit"]


def test_family_form_refuses_an_invisible_character_in_the_name_and_keeps_newlines_in_notes(programme):
    from services.errors import InvalidFields
    from services.family_records import HouseholdInput, create_family

    with pytest.raises(InvalidFields) as refused:
        create_family(programme.uow(), programme.coordinator,
                      HouseholdInput("Famille\u200b Martin", "Bourg\u202e", notes="a\u2066b"))
    assert refused.value.problems["name"] == ("Nom du foyer : le texte contient un caractère invisible (U+200B) : "
                                              "retirez-le.")
    assert "U+202E" in refused.value.problems["commune"] and "U+2066" in refused.value.problems["notes"]
    record = create_family(programme.uow(), programme.coordinator,
                           HouseholdInput("He\u0301lo\u0300ise", "Bourg", notes="ligne 1\nligne 2"))
    assert (record.name, record.notes) == ("Hélòise", "ligne 1\nligne 2")


@pytest.mark.parametrize("born", ["1899-12-31", "2200-01-01"])
def test_child_form_refuses_a_birth_date_out_of_range(programme, born):
    from datetime import date

    from services.errors import InvalidFields
    from services.family_records import ChildInput, HouseholdInput, add_child, create_family

    family = create_family(programme.uow(), programme.coordinator, HouseholdInput("Famille Martin", "Bourg"))
    with pytest.raises(InvalidFields) as refused:
        add_child(programme.uow(), programme.coordinator, family.id,
                  ChildInput("Léa", "Martin", date.fromisoformat(born)), today=date(2025, 3, 20))
    assert "du 01/01/1900 au 31/12/2199" in refused.value.problems["birth_date"]


@pytest.mark.parametrize("key", ["System", "SYSTEM"])
def test_account_key_system_is_reserved_in_any_case(uow, key):
    from services.permissions import SYSTEM
    from services.users import add_user

    with pytest.raises(ValidationError) as refused:
        add_user(uow(), SYSTEM, key, "referent", "cheval-agrafe-pile-tortue")
    assert refused.value.field == "key"


def test_account_key_that_looks_like_an_imported_one_is_refused(uow):
    from services.dataset import import_dataset
    from services.permissions import SYSTEM
    from services.users import add_user

    # « аlice » with a Cyrillic а, as a file may bring it
    import_dataset(uow(), {"format": "parcours-dataset/1",
                           "users": [{"key": "\u0430lice", "name": "Alice", "role": "referent"}]})
    with pytest.raises(ValidationError) as refused:
        add_user(uow(), SYSTEM, "alice", "referent", "cheval-agrafe-pile-tortue")
    assert refused.value.field == "key" and "se confond avec le compte « \u0430lice »" in refused.value.message


def test_account_name_with_a_bidi_override_is_refused(uow):
    from services.permissions import SYSTEM
    from services.users import add_user

    with pytest.raises(ValidationError) as refused:
        add_user(uow(), SYSTEM, "alice", "referent", "cheval-agrafe-pile-tortue", name="Alice\u202e")
    assert refused.value.field == "name" and refused.value.message == (
        "Le nom contient un caractère de direction d'écriture (U+202E) : retirez-le.")


def test_partner_key_with_spaces_or_looking_like_a_stored_one_is_refused(store):
    from services.conventions_admin import InvalidFields, create_partner

    admin = _admin(store)
    with pytest.raises(InvalidFields) as refused:
        create_partner(store(), admin, " P2 ", "Partenaire")
    assert "espace" in refused.value.problems["key"]
    with pytest.raises(InvalidFields) as refused:
        create_partner(store(), admin, "ADOM", "Partenaire")
    assert "se confond avec « adom »" in refused.value.problems["key"]


def test_partner_name_with_an_invisible_character_is_refused(store):
    from services.conventions_admin import InvalidFields, create_partner

    with pytest.raises(InvalidFields) as refused:
        create_partner(store(), _admin(store), "P2", "Adom\u2060 02")
    assert refused.value.problems["name"] == "Le texte contient un caractère invisible (U+2060) : retirez-le."


def test_convention_dates_out_of_range_are_refused(store):
    from datetime import date

    from services.conventions_admin import ConventionInput, InvalidFields, create_convention

    data = ConventionInput("AP-9999", "adom", "Atout Plus", date(2025, 1, 1), date(9999, 12, 31))
    with pytest.raises(InvalidFields) as refused:
        create_convention(store(), _admin(store), data)
    assert "du 01/01/2000 au 31/12/2199" in refused.value.problems["end"]
