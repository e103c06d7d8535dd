"""Importing a team's spreadsheet (services.sheet_import, cli.sheet_command): real XLSX files written by openpyxl
(merged header cells, a title row, a totals row, dates as text, serials and datetimes, « Action 1…3 » columns), an
ODS written with odfpy, a CSV in Windows-1252 with `;`; the report before anything is written, all or nothing, the
date parser, the mapping file, the merge with a stored child."""
from __future__ import annotations

import argparse
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from cli import sheet_command
from models import AuditEntry, Child, Family, Parcours
from services.errors import ValidationError
from services.formatting import MONTHS
from services.permissions import SYSTEM
from services.sheet_import import ColumnMapping, Grid, SheetOptions, import_sheet, read_sheet
from services.sheet_import.cell_dates import EPOCH_1900, cell_date
from services.sheet_import.columns import recognised
from tests.programme_fixture import programme  # noqa: F401 - fixture

TODAY = date(2025, 3, 20)


def _counts(p) -> tuple[int, int, int, int]:
    with p.uow() as w:
        return tuple(w.session.scalar(select(func.count()).select_from(m))
                     for m in (Family, Child, Parcours, AuditEntry))


def _children(p) -> dict[str, SimpleNamespace]:
    with p.uow() as w:
        return {f"{c.first_name} {c.last_name}": SimpleNamespace(key=c.key, birth_date=c.birth_date, sex=c.sex,
                                                                  school=c.school, school_class=c.school_class)
                for c in w.session.scalars(select(Child))}


def _run(p, path, *, dry_run=False, **options):
    return import_sheet(p.uow(), SYSTEM, read_sheet(path, options.pop("sheet", None)), SheetOptions(**options),
                        today=TODAY, dry_run=dry_run)


def team_workbook(path, extra_rows=()):
    """A sheet as a team keeps it: a title row, a two-level header (« Enfant » merged over Nom and Prénom,
    « Commune » merged down), dates as text, as a serial number and as a datetime, a totals row at the bottom."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Suivi 2024-2025"
    ws.append(["Liste des enfants suivis — PRE de Bourg-en-Bresse"])
    ws.merge_cells("A1:H1")
    ws.append(["Enfant", None, "DDN", "F/M/G", "Commune", "École", "Saisine", "Observations"])
    ws.append(["NOM", "Prénom", None, None, None, "Classe", None, None])
    ws.merge_cells("A2:B2")
    for column in "CDEGH":
        ws.merge_cells(f"{column}2:{column}3")
    ws.append(["Dupont", "Léa", "03/04/2015", "F", "Bourg-en-Bresse", "CM2", datetime(2024, 9, 12), "timide"])
    ws.append(["MARTIN", "Noé", 42465, "G", "Bourg-en-Bresse", "CE1", "12 septembre 2024", None])  # 05/04/2016
    ws.append([None] * 8)
    ws.append(["Nguyen", "Inès", datetime(2017, 6, 1), "fille", "Bourg-en-Bresse", None, "2024-10-01", None])
    for row in extra_rows:
        ws.append(row)
    ws.append(["Total", None, None, None, None, None, None, "3 enfants"])
    ws.append(["ne pas lire", "x", "99/99/99", None, None, None, None, None])
    wb.save(path)
    return path


# -- reading sheets ---------------------------------------------------------------------------------------------

def test_a_team_workbook_is_read_past_its_title_merged_header_and_totals(programme, tmp_path):
    before = _counts(programme)
    report = _run(programme, team_workbook(tmp_path / "suivi.xlsx"))
    assert report.written and not report.refused, report.text()
    assert report.header_row == 3 and report.sheet == "Suivi 2024-2025"
    fields = {c.letter: c.field for c in report.columns}
    assert fields == {"A": "last_name", "B": "first_name", "C": "birth_date", "D": "sex", "E": "commune",
                      "F": "school_class", "G": "orientation_date", "H": None}
    assert [(c.rows, c.first_name) for c in report.created] == [((4,), "Léa"), ((5,), "Noé"), ((7,), "Inès")]
    assert report.dropped == ("H (Observations)",) and "Colonnes non reprises" in report.text()
    children = _children(programme)
    assert (children["Léa Dupont"].birth_date, children["Léa Dupont"].sex, children["Léa Dupont"].school_class) == (
        date(2015, 4, 3), "F", "CM2")
    assert (children["Noé MARTIN"].birth_date, children["Noé MARTIN"].sex) == (date(2016, 4, 5), "M")
    assert children["Inès Nguyen"].birth_date == date(2017, 6, 1)
    with programme.uow() as w:
        starts = {p.child.first_name: p.start_date for p in w.session.scalars(select(Parcours))
                  if p.child.first_name in ("Léa", "Noé", "Inès")}
        notes = [f.notes for f in w.session.scalars(select(Family).where(Family.name == "Famille Dupont"))]
        entry = w.session.execute(select(AuditEntry.actor_key, AuditEntry.action)
                                  .where(AuditEntry.record_type == "sheet")).one()
    assert starts == {"Léa": date(2024, 9, 12), "Noé": date(2024, 9, 12), "Inès": date(2024, 10, 1)}
    assert notes == [None]  # « Observations » is not kept unless asked
    assert tuple(entry) == ("system", "import")
    assert _counts(programme)[:2] == (before[0] + 3, before[1] + 3)


def test_a_family_called_totalis_is_no_totals_row(programme, tmp_path):
    (tmp_path / "f.csv").write_text("Nom;Prénom;DDN;Commune\nTotalis;Jade;01/01/2015;Bourg-en-Bresse\n"
                                    "Sous-total;;;\nRoux;Tom;01/01/2015;Bourg-en-Bresse\n", encoding="utf-8")
    assert [c.last_name for c in _run(programme, tmp_path / "f.csv", dry_run=True).created] == ["Totalis"]


def test_unmapped_columns_are_kept_as_notes_only_when_asked(programme, tmp_path):
    report = _run(programme, team_workbook(tmp_path / "suivi.xlsx"), keep_unmapped_as_notes=True)
    assert report.kept_as_notes == ("H (Observations)",) and not report.dropped
    with programme.uow() as w:
        notes = w.session.scalars(select(Family.notes).where(Family.name == "Famille Dupont")).one()
    assert notes == "Observations : timide"


def test_one_row_per_child_with_action_columns_unpivoted(programme, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Nom", "Prénom", "Date de naissance", "Sexe", "Ville", "Action 1", "Action 2", "Action 3",
               "Référent"])
    ws.append(["Roux", "Jade", "2014-02-28", "F", "Bourg-en-Bresse", "Atout Plus", "Loisirs", None, "Claire Martin"])
    ws.append(["Roux", "Tom", "5-6-16", "M", "Bourg-en-Bresse", None, None, "Accompagnement scolaire", "ref-martin"])
    wb.save(tmp_path / "actions.xlsx")
    report = _run(programme, tmp_path / "actions.xlsx")
    assert report.written, report.text()
    assert [c.actions for c in report.created] == [("Atout Plus", "Loisirs"), ("Accompagnement scolaire",)]
    with programme.uow() as w:
        plans = {p.child.first_name: (p.actions, p.referent.key, p.status)
                 for p in w.session.scalars(select(Parcours)) if p.child.last_name == "Roux"}
        families = [f.referent.key for f in w.session.scalars(select(Family).where(Family.name == "Famille Roux"))]
    assert plans == {"Jade": ("Atout Plus\nLoisirs", "ref-martin", "open"),
                     "Tom": ("Accompagnement scolaire", "ref-martin", "open")}
    assert families == ["ref-martin", "ref-martin"]  # no address nor « Famille » column: a household each


def test_one_row_per_action_gathers_the_child_and_its_household(programme, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Famille", "Nom", "Prénom", "né(e) le", "Commune", "Action"])
    ws.append(["Famille Roux", "Roux", "Jade", "28/02/2014", "Bourg-en-Bresse", "Atout Plus"])
    ws.append(["Famille Roux", "ROUX", "jade", "28/02/2014", "Bourg-en-Bresse", "Loisirs"])
    ws.append(["Famille Roux", "Roux", "Tom", "05/06/2016", "Bourg-en-Bresse", "Atout Plus"])
    wb.save(tmp_path / "par-action.xlsx")
    report = _run(programme, tmp_path / "par-action.xlsx")
    assert report.written, report.text()
    assert [(c.rows, c.actions) for c in report.created] == [((2, 3), ("Atout Plus", "Loisirs")),
                                                             ((4,), ("Atout Plus",))]
    assert report.families_created == 1
    with programme.uow() as w:
        family = w.session.scalars(select(Family).where(Family.name == "Famille Roux")).one()
        assert sorted(c.first_name for c in family.children) == ["Jade", "Tom"]


def ods_text(value, **attributes):
    from odf.table import TableCell
    from odf.text import P

    cell = TableCell(valuetype="string", **attributes)
    cell.addElement(P(text=value))
    return cell


def ods_value(kind: str, value: str, shown: str):
    """A typed ODS cell: kind « float » or « date » (value ISO), shown as `shown`."""
    from odf.table import TableCell
    from odf.text import P

    cell = TableCell(valuetype=kind, **({"datevalue": value} if kind == "date" else {"value": value}))
    cell.addElement(P(text=shown))
    return cell


def write_ods(path, name: str, rows) -> None:
    """An ODS file of one sheet `name` whose rows are lists of odfpy cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow

    doc = OpenDocumentSpreadsheet()
    table = Table(name=name)
    for cells in rows:
        tr = TableRow()
        for cell in cells:
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


def test_an_ods_sheet(programme, tmp_path):
    from odf.table import CoveredTableCell, TableCell

    text = ods_text
    write_ods(tmp_path / "suivi.ods", "Enfants", [
        [text("Suivi PRE 2025", numbercolumnsspanned=4), CoveredTableCell(), CoveredTableCell(), CoveredTableCell()],
        [text("Nom"), text("Prénom"), text("Date de naissance"), text("Commune")],
        [text("Petit"), text("Zoé"), ods_value("date", "2013-01-31", "31/01/2013"), text("Bourg-en-Bresse")],
        [text("Blanc"), text("Yanis"), text("1er mars 2012"), text("Bourg-en-Bresse")],
        [TableCell(numbercolumnsrepeated=4)],
        [text("TOTAL"), ods_value("float", "2", "2")]])
    report = _run(programme, tmp_path / "suivi.ods")
    assert report.written and report.header_row == 2 and report.sheet == "Enfants", report.text()
    children = _children(programme)
    assert children["Zoé Petit"].birth_date == date(2013, 1, 31)
    assert children["Yanis Blanc"].birth_date == date(2012, 3, 1)


def test_a_csv_in_windows_1252_with_semicolons(programme, tmp_path):
    text = ("Nom;Prénom;Né le;Sexe;Commune;École\r\n"
            "Lemaître;Chloé;07/11/2014;F;Bourg-en-Bresse;École Jean Macé\r\n"
            "Garçon;Élie;1/2/15;M;Bourg-en-Bresse;\r\n")
    (tmp_path / "export.csv").write_bytes(text.encode("cp1252"))
    report = _run(programme, tmp_path / "export.csv")
    assert report.written, report.text()
    children = _children(programme)
    assert (children["Chloé Lemaître"].school, children["Élie Garçon"].birth_date) == ("École Jean Macé",
                                                                                     date(2015, 2, 1))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_a_csv_in_utf8_with_commas(tmp_path, encoding):
    (tmp_path / "f.csv").write_bytes("Nom,Prénom,DDN,Commune\nÉvrard,Maël,2015-04-03,Bourg\n".encode(encoding))
    grid = read_sheet(tmp_path / "f.csv")
    assert grid.rows == (("Nom", "Prénom", "DDN", "Commune"), ("Évrard", "Maël", "2015-04-03", "Bourg"))


# -- refusals: nothing written ----------------------------------------------------------------------------------

def test_each_refusal_names_its_row_column_and_reason_and_nothing_is_written(programme, tmp_path):
    before = _counts(programme)
    path = team_workbook(tmp_path / "suivi.xlsx", extra_rows=[
        ["Faure", "Lina", "31/02/2015", "F", "Bourg-en-Bresse", None, None, None],   # row 8: impossible date
        ["Faure", "Hugo", "2000-01-01", "M", "Bourg-en-Bresse", None, None, None],   # row 9: 25 years old
        [None, "Sans", "01/01/2015", "M", "Bourg-en-Bresse", None, None, None],      # row 10: no last name
        ["dupont", "LEA", "2015-04-03", "F", "Bourg-en-Bresse", None, None, None],   # row 11: row 4 again
        ["Faure", "Max", "02/02/2015", "X", None, None, None, None],                 # row 12: sex, commune
    ])
    report = _run(programme, path)
    assert not report.written and _counts(programme) == before
    reasons = [(r.row, r.column, r.reason) for r in report.refused]
    assert reasons[0][:2] == (8, "C (DDN)") and "Le 31 février 2015 n'existe pas" in reasons[0][2]
    assert reasons[1][:2] == (9, "C (DDN)") and "âge hors du programme : 25 ans au 20/03/2025" in reasons[1][2]
    assert reasons[2] == (10, "A (NOM)", "champ obligatoire manquant (Nom)")
    assert reasons[3][0] == 11 and "doublon dans la feuille" in reasons[3][2] and "déjà ligne 4" in reasons[3][2]
    assert reasons[4:] == [(12, "E (Commune)", "champ obligatoire manquant (Commune)")]
    assert [(v.field, v.column, v.value, v.rows) for v in report.unmapped] == [("sex", "D (F/M/G)", "X", (12,))]
    text = report.text()
    assert "ligne 8, colonne C (DDN) : date impossible (31/02/2015)" in text
    assert "colonne D (F/M/G), ligne 12 : valeur « X » sans correspondance dans la liste « Sexe »" in text
    assert text.endswith("Import refusé, rien n'a été enregistré : corrigez ces lignes dans la feuille (ou la "
                         "correspondance des colonnes et des valeurs), puis relancez.")


def test_a_sheet_without_a_required_column_is_refused(programme, tmp_path):
    (tmp_path / "f.csv").write_text("Nom;Prénom;DDN\nRoux;Jade;01/01/2015\n", encoding="utf-8")
    report = _run(programme, tmp_path / "f.csv")
    assert [r.text() for r in report.refused] == [
        "ligne 1 : aucune colonne « Commune » (colonne obligatoire) : nommez-la dans le fichier de correspondance"]


def test_dry_run_writes_nothing(programme, tmp_path):
    before = _counts(programme)
    report = _run(programme, team_workbook(tmp_path / "suivi.xlsx"), dry_run=True)
    assert len(report.created) == 3 and not report.refused and not report.written
    assert report.text().endswith("Simulation : rien n'a été enregistré.")
    assert _counts(programme) == before


def test_a_row_of_a_stored_child_is_merged_not_created(programme, tmp_path):
    # the example's Lucas Lefèvre, born 02/04/2016, written in capitals and without accents
    (tmp_path / "f.csv").write_text("Nom;Prénom;DDN;Commune\nLEFEVRE;lucas;02/04/2016;Bourg-en-Bresse\n"
                                    "Roux;Jade;01/01/2015;Bourg-en-Bresse\n", encoding="utf-8")
    before = _counts(programme)
    report = _run(programme, tmp_path / "f.csv")
    assert report.written, report.text()
    assert [(m.rows, m.child_key) for m in report.merged] == [((2,), _children(programme)["Lucas Lefèvre"].key)]
    assert [c.first_name for c in report.created] == ["Jade"]
    assert _counts(programme)[:2] == (before[0] + 1, before[1] + 1)
    assert "Fusionnés avec un enfant déjà dans Parcours (ce qui est nouveau est ajouté, rien n'est remplacé) : " \
           "1 enfant(s)." in report.text() and "fusionné avec" in report.text()
    again = _run(programme, tmp_path / "f.csv")  # the same sheet a second time: every row merged, nothing written
    assert (again.created, len(again.merged), again.written) == ((), 2, False)
    assert again.text().endswith("Import terminé : rien de nouveau à enregistrer.")
    assert _counts(programme) == (before[0] + 1, before[1] + 1, before[2], before[3] + 1)


# -- the mapping file ---------------------------------------------------------------------------------------------

def test_the_mapping_file_overrides_and_round_trips(programme, tmp_path):
    (tmp_path / "f.csv").write_text("Titre\nPatronyme;Prénom;Jour de naissance;Lieu;Remarque\n"
                                    "Roux;Jade;01/01/2015;Bourg-en-Bresse;rien\n", encoding="utf-8")
    mapping = ColumnMapping(None, 2, {"Patronyme": "last_name", "Jour de naissance": "birth_date",
                                      "Lieu": "commune", "Remarque": None})
    assert ColumnMapping.from_json(mapping.to_json()) == mapping
    report = _run(programme, tmp_path / "f.csv", mapping=mapping, dry_run=True)
    assert not report.refused and report.header_row == 2, report.text()
    assert ColumnMapping.from_json(report.mapping.to_json()) == ColumnMapping(None, 2, {
        "Patronyme": "last_name", "Prénom": "first_name", "Jour de naissance": "birth_date", "Lieu": "commune",
        "Remarque": None}, layout="per_child")


def test_a_mapping_file_naming_an_unknown_field_is_refused():
    from services.errors import ImportRejected

    with pytest.raises(ImportRejected, match="champ inconnu « age »"):
        ColumnMapping.from_json('{"format": "parcours-sheet-mapping/1", "columns": {"Âge": "age"}}')


# -- the command line -------------------------------------------------------------------------------------------

def _cli(p, *argv) -> int:
    parser = argparse.ArgumentParser()
    sheet_command.add_parser(parser.add_subparsers(dest="command"))
    return sheet_command.run(parser.parse_args(["import-sheet", *map(str, argv)]), p.uow)


def test_the_command_line_dry_run_then_import_writes_the_mapping(programme, tmp_path, capsys):
    path, mapping = team_workbook(tmp_path / "suivi.xlsx"), tmp_path / "colonnes.json"
    before = _counts(programme)
    assert _cli(programme, path, "--dry-run", "--mapping", mapping) == 0
    assert _counts(programme) == before and "Simulation" in capsys.readouterr().out
    saved = ColumnMapping.from_json(mapping.read_text(encoding="utf-8"))
    assert (saved.sheet, saved.header_row, saved.fields["DDN"]) == ("Suivi 2024-2025", 3, "birth_date")
    assert _cli(programme, path, "--mapping", mapping) == 0
    assert "Import terminé." in capsys.readouterr().out and _counts(programme)[1] == before[1] + 3


def test_a_refused_run_writes_the_mapping_to_correct_then_it_is_reused(programme, tmp_path, capsys):
    (tmp_path / "f.csv").write_text("Patronyme;Prénom;DDN;Commune\nRoux;Jade;01/01/2015;Bourg-en-Bresse\n",
                                    encoding="utf-8")
    mapping = tmp_path / "m.json"
    assert _cli(programme, tmp_path / "f.csv", "--mapping", mapping) == 2
    assert "aucune colonne « Nom »" in capsys.readouterr().err
    saved = ColumnMapping.from_json(mapping.read_text(encoding="utf-8"))
    assert saved.fields["Patronyme"] is None
    mapping.write_text(mapping.read_text(encoding="utf-8").replace('"Patronyme": null', '"Patronyme": "last_name"'),
                       encoding="utf-8")
    assert _cli(programme, tmp_path / "f.csv", "--mapping", mapping) == 0
    assert "Jade Roux" in _children(programme)


def test_the_command_line_refuses_with_exit_2(programme, tmp_path, capsys):
    path = team_workbook(tmp_path / "suivi.xlsx", extra_rows=[["Faure", "Lina", "31/02/2015", "F", "Bourg", None,
                                                               None, None]])
    before = _counts(programme)
    assert _cli(programme, path) == 2 and _counts(programme) == before
    assert "ligne 8, colonne C (DDN)" in capsys.readouterr().err
    assert _cli(programme, path, "--header-row", "zéro") == 2
    for absent in ("absent.xlsx", "absent.ods", "absent.csv"):
        assert _cli(programme, tmp_path / absent) == 2
        error = capsys.readouterr().err
        assert absent in error and "lisible" not in error
    assert _cli(programme, path, "--sheet", "Autre") == 2
    assert "pas de feuille « Autre »" in capsys.readouterr().err


# -- headers and dates --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, field", [
    ("Nom", "last_name"), ("NOM", "last_name"), ("Prénom", "first_name"), ("DDN", "birth_date"),
    ("né(e) le", "birth_date"), ("Date de naissance", "birth_date"), ("Sexe", "sex"), ("F/M/G", "sex"),
    ("fille/garçon", "sex"), ("Saisine", "orientation_date"), ("Date d'orientation", "orientation_date"),
    ("École", "school"), ("Classe", "school_class"), ("Commune", "commune"), ("Référent", "referent"),
    ("Action 1", "actions"), ("ACTION 12", "actions"), ("Observations", None)])
def test_french_headers_are_recognised(header, field):
    assert recognised(header) == field


def _written(day: date, style: int) -> object:
    return [day.strftime("%d/%m/%Y"), f"{day.day}-{day.month}-{day.year % 100:02d}", day.isoformat(),
            f"{day.day} {MONTHS[day.month - 1]} {day.year}", (day - EPOCH_1900).days,
            datetime(day.year, day.month, day.day, 14, 30)][style]


@settings(max_examples=400, deadline=None)
@given(st.dates(date(2005, 1, 1), date(2025, 12, 31)), st.integers(0, 5))
def test_every_date_written_each_way_parses_back(day, style):
    assert cell_date(_written(day, style)) == day


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.booleans(), st.none()))
def test_garbage_is_refused_in_french_never_with_another_error(value):
    try:
        result = cell_date(value)
    except ValidationError as exc:
        assert exc.message and exc.message[0].isupper() and any(w in exc.message for w in (
            "date", "Date", "jour", "mois", "année", "existe", "Indiquez"))
    else:
        assert isinstance(result, date)


def test_impossible_dates_say_why():
    for value, reason in [("31/02/2015", "Le 31 février 2015 n'existe pas"), ("3/13/15", "Le mois 13 n'existe pas"),
                          (-5, "n'est pas une date"), (10_000_000, "n'est pas une date"), ("bientôt", "illisible")]:
        with pytest.raises(ValidationError, match=reason):
            cell_date(value)
    assert cell_date(42097.75) == date(2015, 4, 3) and cell_date(date(2015, 4, 3)) == date(2015, 4, 3)


def test_household_columns_and_a_closed_parcours(programme, tmp_path):
    wb = Workbook()
    wb.active.title = "Notes"
    ws = wb.create_sheet("2024")
    ws.append(["Nom", "Prénom", "DDN", "Commune", "Adresse", "QPV", "Responsable légal", "Tél", "Date d'entrée",
               "Date de sortie", "Motif de sortie", "Objectifs"])
    ws.append(["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "2 rue Neuve", "oui", "Nadia Roux", "06 12 34 56 78",
               "01/09/2023", "30/06/2024", "Objectifs atteints", "Lecture"])
    ws.append(["Roux", "Tom", "01/01/2017", "Bourg-en-Bresse", "2 rue Neuve", "oui", None, None, "01/09/2023", None,
               None, None])
    wb.save(tmp_path / "f.xlsx")
    report = _run(programme, tmp_path / "f.xlsx", sheet="2024", header_row=1)
    assert report.written and report.families_created == 1, report.text()
    with programme.uow() as w:
        family = w.session.scalars(select(Family).where(Family.name == "Famille Roux")).one()
        assert (family.address, family.priority_neighbourhood, [(g.name, g.phone) for g in family.guardians]) == (
            "2 rue Neuve", True, [("Nadia Roux", "06 12 34 56 78")])
        plans = {p.child.first_name: (p.status, p.start_date, p.end_date, p.exit_reason_code, p.exit_reason,
                                      p.objectives)
                 for p in w.session.scalars(select(Parcours)) if p.child.family_id == family.id}
    assert plans == {"Jade": ("closed", date(2023, 9, 1), date(2024, 6, 30), "objectifs_atteints", None, "Lecture"),
                     "Tom": ("open", date(2023, 9, 1), None, None, None, None)}


def test_rows_that_contradict_each_other_or_the_base_are_refused(programme, tmp_path):
    long_name = "A" * 130
    (tmp_path / "f.csv").write_text(
        "Famille;Nom;Prénom;DDN;Commune;Action;Référent;QPV\n"
        "Roux;Roux;Jade;01/01/2015;Bourg-en-Bresse;Loisirs;Inconnue;\n"            # row 2: no such account
        "Roux;Roux;Jade;01/01/2015;Bourg;Atout Plus;;\n"                            # row 3: same child, other commune
        "Petit;Petit;Léo;01/01/2015;Bourg-en-Bresse;;Marc Petit;peut-être\n"        # row 4: an administrator; QPV
        f"Blanc;{long_name};Léa;01/01/2015;Bourg-en-Bresse;;;\n", encoding="utf-8")
    before = _counts(programme)
    report = _run(programme, tmp_path / "f.csv")
    assert _counts(programme) == before
    assert [r.text() for r in report.refused] == [
        "ligne 2, colonne G (Référent) : référent·e inconnu·e « Inconnue » : aucun compte de ce nom ni de cet "
        "identifiant",
        "ligne 3, colonne E (Commune) : même enfant que ligne 2, mais « Commune » y est différent",
        "ligne 4, colonne G (Référent) : « Marc Petit » n'est ni référent·e ni coordination"]
    assert [v.text() for v in report.unmapped] == [
        "colonne H (QPV), ligne 4 : valeur « peut-être » sans correspondance dans la liste « Quartier prioritaire »"]
    (tmp_path / "g.csv").write_text(f"Nom;Prénom;DDN;Commune\n{long_name};Léa;01/01/2015;Bourg-en-Bresse\n",
                                    encoding="utf-8")
    report = _run(programme, tmp_path / "g.csv")  # the dataset import's own rule (120 characters), given its row
    assert len(report.refused) == 1 and report.refused[0].row == 2 and "120" in report.refused[0].reason
    assert _counts(programme) == before


def test_dates_written_with_their_empty_hour_and_future_births():
    assert cell_date("03/04/2015 00:00") == cell_date("2015-04-03T00:00:00") == cell_date("2015-04-03 00:00:00.000")
    with pytest.raises(ValidationError):
        cell_date("03/04/2015 midi")


def test_a_birth_date_to_come_is_refused_as_such(programme, tmp_path):
    (tmp_path / "f.csv").write_text("Nom;Prénom;DDN;Commune\nRoux;Jade;12/05/98;Bourg-en-Bresse\n", encoding="utf-8")
    assert [r.text() for r in _run(programme, tmp_path / "f.csv").refused] == [
        "ligne 2, colonne C (DDN) : date de naissance à venir (12/05/2098), après le 20/03/2025"]


_CELL = st.one_of(st.none(), st.text(max_size=12), st.integers(-10, 80_000), st.floats(), st.booleans(),
                  st.datetimes(datetime(1890, 1, 1), datetime(2100, 1, 1)),
                  st.sampled_from(["Total", "F", "garçon", "01/01/2015", "Bourg-en-Bresse", "oui", "ref-martin"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_CELL, min_size=0, max_size=8), max_size=8))
def test_any_sheet_is_reported_or_refused_in_french_and_a_dry_run_writes_nothing(programme, rows):
    grid = Grid("Feuille", ("Feuille",), (("Nom", "Prénom", "DDN", "Sexe", "Commune", "QPV", "Référent", "Action 1"),
                                          *map(tuple, rows)))
    before = _counts(programme)
    report = import_sheet(programme.uow(), SYSTEM, grid, today=TODAY, dry_run=True)
    assert isinstance(report.text(), str) and not report.written
    assert all(r.reason for r in report.refused)
    assert _counts(programme) == before


def test_an_xlsx_is_read_as_written_even_when_it_declares_a_wrong_dimension(tmp_path):
    import re
    import zipfile

    wb = Workbook()
    ws = wb.active
    ws.append(["Nom", "Prénom", "DDN", "Commune"])
    ws.append(["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", None, None])
    ws.append([])
    ws.append(["Blanc", "Tom", None, None, None, "note au loin"])
    wb.save(tmp_path / "ok.xlsx")
    with zipfile.ZipFile(tmp_path / "ok.xlsx") as source, \
            zipfile.ZipFile(tmp_path / "wrong.xlsx", "w") as target:  # as some exporters write it: « A1 »
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
            target.writestr(item, data)
    rows = (("Nom", "Prénom", "DDN", "Commune"), ("Roux", "Jade", "01/01/2015", "Bourg-en-Bresse"), (),
            ("Blanc", "Tom", None, None, None, "note au loin"))
    assert read_sheet(tmp_path / "ok.xlsx").rows == read_sheet(tmp_path / "wrong.xlsx").rows == rows
