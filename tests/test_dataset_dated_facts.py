"""Issue 9 in the interchange format: a convention's avenants (`amendments`) and an intervenant's dated qualification
and partner (`history`) travel in `parcours-dataset/1` — an export re-imported into an empty store exports the same
and bills the same; a file that contradicts them is refused (exit 2, French, nothing written); a meeting listing
another partner's intervenant, and an amount of 0,00 €, are warned about; amounts may be written « 30,00 »."""
import copy
import json
from datetime import date

import pytest

import main
from services import conventions_admin
from services.billing import get_statement
from services.dataset import export_dataset, import_dataset
from services.directory import list_users
from services.permissions import SYSTEM
from tests.billing.builders import dataset, family, meeting, session
from tests.stores import dump, rows

REFUSED = "Import refusé, rien n'a été enregistré."
MONTHS = ("2025-05", "2025-06", "2025-07", "2025-08", "2025-09")
AVENANT = {("AES", "home_intervention"): "32.00", ("AES", "weekly_preparation"): "15.25",
           ("AES", "launch_meeting"): "32.00", ("AES", "period_end_meeting"): "32.00",
           ("TISF", "home_intervention"): "58.00", ("TISF", "weekly_preparation"): "21.00",
           ("TISF", "launch_meeting"): "58.00", ("TISF", "period_end_meeting"): "58.00"}


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    """main.main() writes its log under the user's state folder: keep it inside the test's folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def base() -> dict:
    """The Atout Plus convention of tests/billing/builders with a second partner, an administrator, two families seen
    in May, June and September by A1 and T1, and a period-end meeting on 4 July with both."""
    data = dataset()
    data["users"].append({"key": "admin", "name": "Alice Admin", "role": "administrator"})
    data["partners"].append({"key": "pep", "name": "PEP 01"})
    family(data, "F1")
    family(data, "F2")
    session(data, "S1", "F1", "A1", "2025-05-13", referent=True)
    session(data, "S2", "F1", "A1", "2025-06-10")
    session(data, "S3", "F2", "T1", "2025-06-11", referent=True)
    session(data, "S4", "F1", "A1", "2025-09-09")
    session(data, "S5", "F2", "T1", "2025-09-10")
    meeting(data, "M-end", "period_end", "2025-07-04", ["A1", "T1"])
    return data


def with_dated_facts(data: dict) -> dict:
    """The same base as the window leaves it after « Nouvel avenant… » from 1 July and two dated changes: A1 is TISF
    from 1 June, T1 works for PEP 01 from 1 July (then back with Adom 01 from 1 September)."""
    data = copy.deepcopy(data)
    data["conventions"][0]["amendments"] = [
        {"start": "2025-07-01", "tariffs": {"AES": {k: v for (q, k), v in AVENANT.items() if q == "AES"},
                                            "TISF": {k: v for (q, k), v in AVENANT.items() if q == "TISF"}}}]
    a1, t1 = data["intervenants"]
    a1.update(qualification="TISF", history=[{"from": None, "qualification": "AES", "partner": "adom"},
                                             {"from": "2025-06-01", "qualification": "TISF", "partner": "adom"}])
    t1["history"] = [{"from": None, "qualification": "TISF", "partner": "adom"},
                     {"from": "2025-07-01", "qualification": "TISF", "partner": "pep"},
                     {"from": "2025-09-01", "qualification": "TISF", "partner": "adom"}]
    return data


def write(tmp_path, data, name="data.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return str(path)


def cli_export(db: str, target) -> dict:
    assert main.main(["--db", db, "export", str(target)]) == 0
    return json.loads(target.read_text(encoding="utf-8"))


def statements(uow) -> list:
    return [get_statement(uow(), SYSTEM, "AP", month) for month in MONTHS]


@pytest.fixture
def through_the_window(uow, db_path):
    """A base whose avenant and dated changes were entered in the window's services (not by an import)."""
    import_dataset(uow(), base())
    admin = next(u for u in list_users(uow()) if u.key == "admin")
    conventions_admin.add_amendment(uow(), admin, "AP", date(2025, 7, 1), AVENANT)
    for key, name, qualification, partner, day in (("A1", "Nadia Benali", "TISF", "adom", date(2025, 6, 1)),
                                                   ("T1", "Julien Morel", "TISF", "pep", date(2025, 7, 1)),
                                                   ("T1", "Julien Morel", "TISF", "adom", date(2025, 9, 1))):
        conventions_admin.update_intervenant(uow(), admin, key, conventions_admin.IntervenantInput(
            key, name, qualification, partner, from_date=day))
    return uow


# -- export and round trip ----------------------------------------------------------------------------------------

def test_export_writes_the_avenants_and_the_dated_history_entered_in_the_window(through_the_window):
    exported = export_dataset(through_the_window(), SYSTEM)
    convention = exported["conventions"][0]
    assert convention["amendments"] == with_dated_facts(base())["conventions"][0]["amendments"]
    assert convention["tariffs"]["AES"]["home_intervention"] == "30.00"  # the first table stays the convention's
    intervenants = {i["key"]: i for i in exported["intervenants"]}
    assert intervenants["A1"]["history"] == [{"from": None, "qualification": "AES", "partner": "adom"},
                                             {"from": "2025-06-01", "qualification": "TISF", "partner": "adom"}]
    assert [(h["from"], h["partner"]) for h in intervenants["T1"]["history"]] == [
        (None, "adom"), ("2025-07-01", "pep"), ("2025-09-01", "adom")]


def test_export_import_into_an_empty_store_export_is_identical_and_bills_the_same(through_the_window, db_path,
                                                                                  tmp_path):
    before = statements(through_the_window)
    first = cli_export(db_path, tmp_path / "first.json")
    other = str(tmp_path / "other.sqlite")
    assert main.main(["--db", other, "import", str(tmp_path / "first.json")]) == 0
    second = cli_export(other, tmp_path / "second.json")
    assert second == first
    assert (tmp_path / "second.json").read_bytes() == (tmp_path / "first.json").read_bytes()

    from models.db import make_engine
    from services.uow import unit_of_work_factory
    engine = make_engine(other)
    try:
        after = statements(unit_of_work_factory(engine))
    finally:
        engine.dispose()
    assert after == before
    # the avenant and the changes are really in what is billed (else « the same » would prove nothing)
    july = next(s for s in after if s.month == "2025-07")
    assert [(l.kind, l.qualification, str(l.unit_price)) for l in july.lines] == [
        ("period_end_meeting", "TISF", "58.00")]  # A1, TISF since June, at the avenant; T1 is PEP's on 4 July
    assert any(f.kind == "not_partner_intervenant" for f in july.flags)


def test_reimport_of_a_file_with_dated_facts_changes_nothing(tmp_path, db_path, capsys):
    path = write(tmp_path, with_dated_facts(base()))
    assert main.main(["--db", db_path, "import", path]) == 0
    before = dump(db_path)
    capsys.readouterr()
    assert main.main(["--db", db_path, "import", path]) == 0
    assert "Import terminé : aucun nouvel enregistrement." in capsys.readouterr().out
    assert dump(db_path) == before


def test_a_file_without_dated_facts_gives_one_table_and_one_history_row_and_exports_as_before(tmp_path, db_path):
    assert main.main(["--db", db_path, "import", write(tmp_path, base())]) == 0
    exported = cli_export(db_path, tmp_path / "out.json")
    assert "amendments" not in exported["conventions"][0]
    assert all(set(i) == {"key", "partner", "name", "qualification"} for i in exported["intervenants"])
    history = rows(db_path, "SELECT i.key, h.starts_on, h.qualification, p.key FROM intervenant_history h "
                            "JOIN intervenant i ON i.id = h.intervenant_id JOIN partner p ON p.id = h.partner_id "
                            "ORDER BY i.key")
    [(amendments,)] = rows(db_path, "SELECT count(*) FROM tariff_amendment")
    assert history == [("A1", None, "AES", "adom"), ("T1", None, "TISF", "adom")]
    assert amendments == 0


def test_a_history_equal_to_the_current_terms_from_the_beginning_is_the_same_as_none(tmp_path, db_path, capsys):
    assert main.main(["--db", db_path, "import", write(tmp_path, base())]) == 0
    data = base()
    data["intervenants"][0]["history"] = [{"from": None, "qualification": "AES", "partner": "adom"}]
    capsys.readouterr()
    assert main.main(["--db", db_path, "import", write(tmp_path, data, "again.json")]) == 0
    assert "aucun nouvel enregistrement" in capsys.readouterr().out


def test_the_same_key_with_other_avenants_is_refused_as_different_content(tmp_path, db_path, capsys):
    assert main.main(["--db", db_path, "import", write(tmp_path, base())]) == 0
    before = dump(db_path)
    assert main.main(["--db", db_path, "import", write(tmp_path, with_dated_facts(base()), "dated.json")]) == 2
    err = capsys.readouterr().err
    assert "Convention « AP » : cette clé existe déjà dans la base avec un contenu différent (champ(s) : amendments)" in err
    assert dump(db_path) == before


# -- refusals -----------------------------------------------------------------------------------------------------

def _avenant(data):
    return data["conventions"][0]["amendments"]


def _history(data, key="A1"):
    return next(i for i in data["intervenants"] if i["key"] == key)


REFUSALS = {
    "start_before_the_convention": (
        lambda d: _avenant(d)[0].update(start="2024-12-01"),
        "Convention « AP », champ « amendments[1].start » : l'avenant commence le 01/12/2024, pas après le début de "
        "la convention (01/01/2025)"),
    "start_on_the_convention_start": (
        lambda d: _avenant(d)[0].update(start="2025-01-01"),
        "Convention « AP », champ « amendments[1].start » : l'avenant commence le 01/01/2025, pas après le début"),
    "start_after_the_end": (
        lambda d: _avenant(d)[0].update(start="2026-01-01"),
        "Convention « AP », champ « amendments[1].start » : l'avenant commence le 01/01/2026, après la fin de la "
        "convention (31/12/2025)"),
    "duplicate_start": (
        lambda d: _avenant(d).append(copy.deepcopy(_avenant(d)[0])),
        "Convention « AP », champ « amendments[2].start » : un autre avenant commence déjà le 01/07/2025"),
    "bad_amount_in_an_avenant": (
        lambda d: _avenant(d)[0]["tariffs"]["AES"].update(home_intervention="32,001"),
        "Convention « AP », champ « amendments[1].tariffs.AES.home_intervention » : le montant « 32,001 » a plus de "
        "deux décimales"),
    "negative_amount": (
        lambda d: d["conventions"][0].update(budget_cap="-5,00"),
        "Convention « AP », champ « budget_cap » : le montant ne peut pas être négatif"),
    "avenant_without_any_amount": (
        lambda d: _avenant(d)[0].update(tariffs={"AES": {}}),
        "Convention « AP », champ « amendments[1].tariffs » : la grille des tarifs donne au moins un tarif"),
    "unknown_field_in_an_avenant": (
        lambda d: _avenant(d)[0].update(debut="2025-07-01"),
        "Convention « AP », champ « amendments[1].debut » : champ inconnu"),
    "contradicting_current_qualification": (
        lambda d: _history(d).update(qualification="AES"),
        "Intervenant « A1 », champ « qualification » : la qualification AES contredit l'historique, dont la dernière "
        "ligne dit TISF à partir du 01/06/2025"),
    "contradicting_current_partner": (
        lambda d: _history(d, "T1").update(partner="pep"),
        "Intervenant « T1 », champ « partner » : le partenaire « pep » contredit l'historique, dont la dernière ligne "
        "dit « adom » à partir du 01/09/2025"),
    "unknown_partner_in_history": (
        lambda d: _history(d)["history"][1].update(partner="adom-02"),
        "Intervenant « A1 », champ « history[2].partner » : référence inconnue : aucun(e) partenaire de clé "
        "« adom-02 » dans le fichier ni dans la base"),
    "duplicate_history_date": (
        lambda d: _history(d)["history"].append({"from": "2025-06-01", "qualification": "TISF", "partner": "adom"}),
        "Intervenant « A1 », champ « history[3].from » : une autre ligne de l'historique commence déjà le 01/06/2025"),
    "history_date_out_of_bounds": (
        lambda d: _history(d)["history"][1].update(**{"from": "2205-06-01"}),
        "Intervenant « A1 », champ « history[2].from » : date hors de la période admise « 2205-06-01 »"),
    "history_without_a_first_row": (
        lambda d: _history(d)["history"].pop(0),
        "Intervenant « A1 », champ « history » : la première ligne de l'historique vaut depuis le début"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_file_contradicting_the_dated_facts_is_refused_in_french_and_writes_nothing(case, tmp_path, db_path, capsys):
    assert main.main(["--db", db_path, "import", write(tmp_path, {"format": "parcours-dataset/1",
                                                                  "users": base()["users"]}, "first.json")]) == 0
    before = dump(db_path)
    data = with_dated_facts(base())
    change, message = REFUSALS[case]
    change(data)
    capsys.readouterr()

    assert main.main(["--db", db_path, "import", write(tmp_path, data)]) == 2

    err = capsys.readouterr().err
    assert err.startswith(REFUSED)
    assert message in err
    assert "Traceback" not in err
    assert dump(db_path) == before


# -- warnings and amounts -----------------------------------------------------------------------------------------

def test_a_meeting_listing_another_partners_intervenant_on_its_day_is_warned_about(tmp_path, db_path, capsys):
    assert main.main(["--db", db_path, "import", write(tmp_path, with_dated_facts(base()))]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("Avertissement : Réunion")]
    assert warnings == ["Avertissement : Réunion « M-end » du 04/07/2025 : l'intervenant « T1 » n'est pas, à cette "
                        "date, un intervenant du partenaire « adom » de la convention « AP » : sa présence ne sera "
                        "pas payée."]


def test_a_meeting_of_the_partners_own_intervenants_brings_no_warning(tmp_path, db_path, capsys):
    data = with_dated_facts(base())
    data["meetings"][0]["date"] = "2025-06-27"  # T1 works for PEP 01 only from 1 July
    assert main.main(["--db", db_path, "import", write(tmp_path, data)]) == 0
    assert "Réunion" not in capsys.readouterr().err


def test_amounts_written_with_a_comma_are_accepted_and_exported_with_a_point(uow):
    data = with_dated_facts(base())
    data["conventions"][0]["budget_cap"] = "25000,00"
    data["conventions"][0]["tariffs"]["AES"]["home_intervention"] = "30,00"
    _avenant(data)[0]["tariffs"]["TISF"]["home_intervention"] = "58,5"
    import_dataset(uow(), data)
    convention = export_dataset(uow(), SYSTEM)["conventions"][0]
    assert convention["budget_cap"] == "25000.00"
    assert convention["tariffs"]["AES"]["home_intervention"] == "30.00"
    assert convention["amendments"][0]["tariffs"]["TISF"]["home_intervention"] == "58.50"


def test_a_file_with_commas_reimports_as_unchanged_over_its_own_import(uow):
    data = base()
    data["conventions"][0]["tariffs"]["AES"]["home_intervention"] = "30,00"
    import_dataset(uow(), base())
    report = import_dataset(uow(), data)
    assert report.created == {} and report.unchanged["conventions"] == 1


def test_a_tariff_or_a_cap_of_zero_is_warned_about(tmp_path, db_path, capsys):
    data = with_dated_facts(base())
    data["conventions"][0]["budget_cap"] = "0,00"
    data["conventions"][0]["tariffs"]["TISF"]["launch_meeting"] = "0.00"
    _avenant(data)[0]["tariffs"]["AES"]["weekly_preparation"] = "0"
    assert main.main(["--db", db_path, "import", write(tmp_path, data)]) == 0
    err = capsys.readouterr().err
    assert ("Avertissement : Convention « AP » : plafond budgétaire à 0,00 € : tout état le dépassera dès son premier "
            "euro.") in err
    assert ("Avertissement : Convention « AP » : tarif à 0,00 € : « Réunion de lancement » TISF (les tarifs de la "
            "convention) ne sera jamais payé.") in err
    assert ("Avertissement : Convention « AP » : tarif à 0,00 € : « Temps de préparation hebdomadaire » AES "
            "(l'avenant du 01/07/2025) ne sera jamais payé.") in err
    assert err.count("0,00 €") == 3  # nothing about the amounts that are not zero
