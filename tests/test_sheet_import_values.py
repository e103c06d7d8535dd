"""The spreadsheet import's value dictionaries and merges (services.sheet_import.values, .merge): coded columns of a
real openpyxl workbook mapped to Parcours' closed lists, an unmapped value blocking with its column and rows, the
mapping file (columns, values, layout) written then reused, a row of a stored child adding what is new and listing
what differs."""
from __future__ import annotations

import argparse
import json
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from cli import sheet_command
from models import AuditEntry, Child, Family, Parcours, Programme
from models import enums
from services.permissions import SYSTEM
from services.sheet_import import ColumnMapping, SheetOptions, import_sheet, read_sheet
from services.sheet_import.values import CHOICES, code_of, parts, recognised_code
from tests.programme_fixture import programme  # noqa: F401 - fixture

TODAY = date(2025, 3, 20)
HEADER = ["Nom", "Prénom", "DDN", "Commune", "Classe", "REP", "Orienté par", "Motifs", "Profil", "QPV",
          "Date d'entrée", "Date de sortie", "Motif de sortie"]


def _book(path, rows, header=HEADER):
    wb = Workbook()
    ws = wb.active
    ws.title = "Suivi"
    ws.append(["PRE — enfants suivis 2024"])
    ws.append(header)
    for row in rows:
        ws.append(row)
    ws.append(["Total", None, len(rows)])
    wb.save(path)
    return path


def _run(p, path, *, mapping=None, dry_run=False):
    return import_sheet(p.uow(), SYSTEM, read_sheet(path), SheetOptions(mapping=mapping), today=TODAY,
                        dry_run=dry_run)


ROWS = [
    ["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "CM2", "REP+", "CPE", "Scolarité ; santé / langage",
     "Renforcé", "QPV Croix-Blanche", "01/09/2023", "30/06/2024", "Déménagement"],
    ["Blanc", "Tom", 42005, "Bourg-en-Bresse", "4ème", "hors REP", "Mairie de quartier", "comportement",
     "veille", "non", "01/10/2024", None, None],
    ["Petit", "Léo", "02/02/2014", "Bourg-en-Bresse", "GS", "REP", "Mairie de quartier", "phobie scolaire",
     "individualisé", "oui", "01/10/2024", None, None],
]


def test_recognised_spellings_map_by_themselves():
    assert [recognised_code("school_level", v) for v in ("Maternelle", "GS", "CP", "CM2", "6e", "3ème", "Seconde",
                                                          "non scolarisé")] == [
        "maternelle", "maternelle", "elementaire", "elementaire", "college", "college", "lycee", "non_scolarise"]
    assert [recognised_code("priority_education", v) for v in ("REP+", "REP +", "rep plus", "REP", "hors REP")] == [
        "rep_plus", "rep_plus", "rep_plus", "rep", "hors_rep"]
    assert parts("referral_reasons", "Scolarité, santé;langage / isolement\nautre") == [
        "Scolarité", "santé", "langage", "isolement", "autre"]
    assert recognised_code("referral_source", "Mairie de quartier") is None


def test_the_closed_lists_are_the_models():
    assert [c for c, _ in CHOICES["referral_source"]] == list(enums.REFERRAL_SOURCES)
    assert [c for c, _ in CHOICES["referral_reasons"]] == list(enums.REFERRAL_REASONS)
    assert [c for c, _ in CHOICES["exit_reason"]] == list(enums.EXIT_REASONS)
    assert [c for c, _ in CHOICES["school_level"]] == list(enums.SCHOOL_LEVELS)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([n for n in CHOICES]), st.data())
def test_each_label_and_code_of_a_closed_list_maps_to_itself_whatever_its_case(name, data):
    code, label = data.draw(st.sampled_from(CHOICES[name]))
    if name == "priority_neighbourhood" and code == "nom":
        return  # « la valeur est le nom du quartier » is a choice, not a value
    spelled = data.draw(st.sampled_from([label, label.upper(), label.lower(), code, f"  {code.upper()} "]))
    assert code_of(name, spelled, None) == code


def test_an_unmapped_value_blocks_with_its_column_and_rows_then_the_mapping_file_unblocks(programme, tmp_path):
    path = _book(tmp_path / "suivi.xlsx", ROWS)
    before = _counts(programme)
    report = _run(programme, path)
    assert not report.written and report.blocked and not report.refused and _counts(programme) == before
    assert [(v.field, v.column, v.value, v.rows) for v in report.unmapped] == [
        ("referral_source", "G (Orienté par)", "Mairie de quartier", (4, 5)),
        ("referral_reasons", "H (Motifs)", "phobie scolaire", (5,))]
    assert "colonne G (Orienté par), lignes 4, 5 : valeur « Mairie de quartier » sans correspondance" in report.text()
    saved = json.loads(report.mapping.to_json())
    assert saved["values"]["referral_source"] == {"CPE": "en_cpe", "Mairie de quartier": None}
    saved["values"]["referral_source"]["Mairie de quartier"] = "autre"
    saved["values"]["referral_reasons"]["phobie scolaire"] = "absenteisme"
    mapping = ColumnMapping.from_json(json.dumps(saved))
    report = _run(programme, path, mapping=mapping)
    assert report.written and not report.blocked, report.text()
    with programme.uow() as w:
        children = {c.first_name: c for c in w.session.scalars(select(Child).where(Child.first_name.in_(
            ["Jade", "Tom", "Léo"])))}
        got = {name: (c.school_level, c.priority_education) for name, c in children.items()}
        plans = {p.child.first_name: (p.referral_source, p.referral_source_other, sorted(r.reason for r in p.reasons),
                                      p.support_profile, p.exit_reason_code, p.status)
                 for p in w.session.scalars(select(Parcours)) if p.child.first_name in children}
        qpv = {f.name: (f.priority_neighbourhood, f.qpv_name) for f in w.session.scalars(select(Family))
               if f.name in ("Famille Roux", "Famille Blanc", "Famille Petit")}
    assert got == {"Jade": ("elementaire", "rep_plus"), "Tom": ("college", "hors_rep"), "Léo": ("maternelle", "rep")}
    assert plans == {
        "Jade": ("en_cpe", None, ["langage", "sante", "scolarite"], "renforce", "demenagement", "closed"),
        "Tom": ("autre", "Mairie de quartier", ["comportement"], "veille", None, "open"),
        "Léo": ("autre", "Mairie de quartier", ["absenteisme"], "individualise", None, "open")}
    assert qpv == {"Famille Roux": (True, "Croix-Blanche"), "Famille Blanc": (False, None),
                   "Famille Petit": (True, None)}


def test_the_command_line_writes_null_for_a_value_to_choose_and_reads_it_back(programme, tmp_path, capsys):
    path, mapping = _book(tmp_path / "suivi.xlsx", ROWS), tmp_path / "correspondance.json"
    parser = argparse.ArgumentParser()
    sheet_command.add_parser(parser.add_subparsers(dest="command"))

    def cli(*argv):
        return sheet_command.run(parser.parse_args(["import-sheet", *map(str, argv)]), programme.uow)

    assert cli(path, "--mapping", mapping) == 2
    assert "valeur « phobie scolaire » sans correspondance" in capsys.readouterr().err
    text = mapping.read_text(encoding="utf-8")
    assert '"Mairie de quartier": null' in text and '"layout": "per_child"' in text
    mapping.write_text(text.replace('"Mairie de quartier": null', '"Mairie de quartier": "ccas"')
                       .replace('"phobie scolaire": null', '"phobie scolaire": "autre"'), encoding="utf-8")
    assert cli(path, "--mapping", mapping) == 0, capsys.readouterr().err
    with programme.uow() as w:
        leo = w.session.scalars(select(Parcours).join(Child).where(Child.first_name == "Léo")).one()
        assert (leo.referral_source, [r.reason for r in leo.reasons], leo.referral_reason_other) == (
            "ccas", ["autre"], "phobie scolaire")
    # next year's sheet: the same values need no choice
    assert cli(_book(tmp_path / "2025.xlsx", [["Noir", "Lou", "03/03/2016", "Bourg-en-Bresse", "CE1", "REP",
                                                "Mairie de quartier", "phobie scolaire", None, None, "02/09/2024",
                                                None, None]]), "--mapping", mapping, "--dry-run") == 0


def test_a_mapping_file_with_an_unknown_code_is_refused():
    from services.errors import ImportRejected

    with pytest.raises(ImportRejected, match="code inconnu « primaire »"):
        ColumnMapping.from_json('{"format": "parcours-sheet-mapping/1", "values": {"school_level": {"CP": '
                                '"primaire"}}}')
    with pytest.raises(ImportRejected, match="layout"):
        ColumnMapping.from_json('{"format": "parcours-sheet-mapping/1", "layout": "en colonnes"}')


def test_one_row_per_action_gathers_reasons_across_rows(programme, tmp_path):
    header = ["Nom", "Prénom", "DDN", "Commune", "Action", "Motif", "Saisine"]
    path = _book(tmp_path / "actions.xlsx", [
        ["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Atout Plus", "scolarité", "01/09/2024"],
        ["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Loisirs", "isolement", "01/09/2024"]], header)
    report = _run(programme, path)
    assert report.written and report.layout == "per_action", report.text()
    with programme.uow() as w:
        p = w.session.scalars(select(Parcours).join(Child).where(Child.first_name == "Jade")).one()
        assert (p.actions, sorted(r.reason for r in p.reasons)) == ("Atout Plus\nLoisirs",
                                                                    ["isolement_social", "scolarite"])


# -- merged rows --------------------------------------------------------------------------------------------------

def _counts(p):
    with p.uow() as w:
        return tuple(w.session.scalar(select(func.count()).select_from(m)) for m in (Family, Child, Parcours))


def _lucas(p):
    with p.uow() as w:
        child = w.session.scalars(select(Child).where(Child.first_name == "Lucas")).one()
        plans = list(w.session.scalars(select(Parcours).where(Parcours.child_id == child.id)
                                       .order_by(Parcours.start_date)))
        return child.key, (child.school, child.school_class, child.school_level, child.sex), [
            (p.start_date, p.status, p.actions, p.objectives) for p in plans]


def test_a_merged_row_adds_what_is_new_and_lists_what_differs_unchanged(programme, tmp_path):
    with programme.uow() as w:  # Lucas as a team left him: a class, no school, no sex, one running parcours
        child = w.session.scalars(select(Child).where(Child.first_name == "Lucas")).one()
        child.school, child.school_class, child.sex, child.school_level = None, "CE2", None, None
        plans = list(w.session.scalars(select(Parcours).where(Parcours.child_id == child.id)))
        for p in plans[1:]:
            w.session.delete(p)
        plans[0].status, plans[0].start_date, plans[0].end_date = "open", date(2024, 9, 2), None
        plans[0].actions, plans[0].objectives = "Atout Plus", None
        w.commit()
    key = _lucas(programme)[0]
    header = ["Nom", "Prénom", "DDN", "Commune", "Sexe", "École", "Classe", "Date d'entrée", "Action 1", "Action 2",
              "Objectifs"]
    path = _book(tmp_path / "m.xlsx", [["LEFEVRE", "lucas", "02/04/2016", "Bourg-en-Bresse", "G", "École Jean Macé",
                                        "CM1", "02/09/2024", "atout plus", "Atelier lecture", "Lire seul"]], header)
    counts = _counts(programme)
    report = _run(programme, path)
    assert report.written and not report.created and [m.child_key for m in report.merged] == [key], report.text()
    line = report.merged[0]
    assert line.added == ("sexe", "école", "objectifs", "action Atelier lecture")  # no level: read from a class
    assert [(d.column, d.stored, d.sheet) for d in line.differences] == [("G (Classe)", "CE2", "CM1")]
    assert "ligne 3, colonne G (Classe) : valeur différente, non modifiée (dans Parcours : « CE2 » ; dans la " \
           "feuille : « CM1 »)" in report.text()
    assert _lucas(programme)[1:] == (("École Jean Macé", "CE2", None, "M"),
                                     [(date(2024, 9, 2), "open", "Atout Plus\nAtelier lecture", "Lire seul")])
    assert _counts(programme) == counts
    with programme.uow() as w:
        updates = w.session.execute(select(AuditEntry.record_type, AuditEntry.changed_fields).where(
            AuditEntry.action == "update", AuditEntry.actor_key == "system")).all()
    assert sorted((t, json.loads(f)) for t, f in updates) == [("child", ["school", "sex"]),
                                                              ("parcours", ["actions", "objectives"])]
    again = _run(programme, path)  # the same sheet again: nothing new, the class still listed
    assert not again.written and again.merged[0].added == () and len(again.differences) == 1


def test_a_merged_row_with_a_parcours_parcours_does_not_have_creates_it(programme, tmp_path):
    key = _lucas(programme)[0]
    with programme.uow() as w:  # the stored parcours ended: a sheet's later one is a new period
        for p in w.session.scalars(select(Parcours).join(Child).where(Child.key == key)):
            p.status, p.start_date, p.end_date = "closed", date(2023, 9, 1), date(2024, 6, 30)
        w.commit()
    header = ["Nom", "Prénom", "DDN", "Commune", "Saisine", "Action 1"]
    path = _book(tmp_path / "n.xlsx", [["Lefèvre", "Lucas", "02/04/2016", "Bourg-en-Bresse", "01/10/2024",
                                        "Atout Plus"]], header)
    counts = _counts(programme)
    report = _run(programme, path)
    assert report.written and report.merged[0].added == ("parcours du 01/10/2024",), report.text()
    assert _counts(programme) == (counts[0], counts[1], counts[2] + 1)
    _, _, after = _lucas(programme)
    assert after[-1][:3] == (date(2024, 10, 1), "open", "Atout Plus")
    # a third sheet naming another date while that parcours runs: listed, not doubled
    path = _book(tmp_path / "o.xlsx", [["Lefèvre", "Lucas", "02/04/2016", "Bourg-en-Bresse", "15/10/2024",
                                        None]], header)
    report = _run(programme, path)
    assert not report.written and _counts(programme)[2] == counts[2] + 1
    assert [(d.column, d.stored, d.sheet) for d in report.differences] == [
        ("E (Saisine)", "parcours en cours depuis le 01/10/2024", "15/10/2024")]


def test_an_ods_sheet_with_merged_header_cells_and_coded_values(programme, tmp_path):
    from odf.table import CoveredTableCell

    from tests.test_sheet_import import ods_text as text, ods_value, write_ods

    covered = CoveredTableCell
    write_ods(tmp_path / "suivi.ods", "Suivi", [
        [text("PRE — suivi 2025", numbercolumnsspanned=6), *[covered() for _ in range(5)]],
        [text("Enfant", numbercolumnsspanned=2), covered(), text("DDN", numberrowsspanned=2),
         text("Commune", numberrowsspanned=2), text("Niveau", numberrowsspanned=2),
         text("Profil", numberrowsspanned=2)],
        [text("Nom"), text("Prénom"), covered(), covered(), covered(), covered()],
        [text("Petit"), text("Zoé"), ods_value("float", "41305", "41305"), text("Bourg-en-Bresse"), text("CM2"),
         text("Veille")],
        [text("Blanc"), text("Yanis"), text("1er mars 2012"), text("Bourg-en-Bresse"), text("ULIS collège"),
         text("Renforcé")],
        [text("Sous-total"), ods_value("float", "2", "2")]])
    report = _run(programme, tmp_path / "suivi.ods")
    assert report.header_row == 3 and [(v.value, v.rows) for v in report.unmapped] == [("ULIS collège", (5,))]
    mapping = ColumnMapping.from_json(report.mapping.to_json().replace('"ULIS collège": null',
                                                                       '"ULIS collège": "college"'))
    report = _run(programme, tmp_path / "suivi.ods", mapping=mapping)
    assert report.written, report.text()
    with programme.uow() as w:
        got = {c.first_name: (c.birth_date, c.school_level) for c in w.session.scalars(
            select(Child).where(Child.first_name.in_(["Zoé", "Yanis"])))}
        profiles = {p.child.first_name: p.support_profile for p in w.session.scalars(select(Parcours))
                    if p.child.first_name in got}
    assert got == {"Zoé": (date(2013, 1, 31), "elementaire"), "Yanis": (date(2012, 3, 1), "college")}
    assert profiles == {"Zoé": "veille", "Yanis": "renforce"}


def test_a_precision_too_long_for_parcours_is_refused_at_its_row_and_column(programme, tmp_path):
    long = "Signalement du service de la réussite éducative de la commune voisine " * 4  # 280 characters
    path = _book(tmp_path / "long.xlsx", [["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", None, None, long, None,
                                           None, None, "01/09/2024", None, None]])
    mapping = ColumnMapping(values={"referral_source": {long.strip(): "autre"}})
    before = _counts(programme)
    report = _run(programme, path, mapping=mapping)
    assert not report.written and _counts(programme) == before
    assert [(r.row, r.column) for r in report.refused] == [(3, "G (Orienté par)")] and "200" in \
        report.refused[0].reason, report.text()


def test_a_qpv_of_the_programmes_list_is_recognised_by_its_name(programme, tmp_path):
    with programme.uow() as w:
        w.session.scalars(select(Programme)).one().qpv_names = ["Croix-Blanche", "La Reyssouze"]
        w.commit()
    header = ["Nom", "Prénom", "DDN", "Commune", "QPV"]
    path = _book(tmp_path / "qpv.xlsx", [["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "croix blanche"],
                                         ["Blanc", "Tom", "01/01/2015", "Bourg-en-Bresse", "QPV la reyssouze"],
                                         ["Petit", "Léo", "01/01/2015", "Bourg-en-Bresse", "Pont-des-Chèvres"]],
                 header)
    report = _run(programme, path)
    assert report.qpv_names == ("Croix-Blanche", "La Reyssouze")
    assert [(v.value, v.code) for v in report.values] == [("croix blanche", "qpv:Croix-Blanche"),
                                                          ("QPV la reyssouze", "qpv:La Reyssouze"),
                                                          ("Pont-des-Chèvres", None)]
    mapping = ColumnMapping.from_json(report.mapping.to_json().replace('"Pont-des-Chèvres": null',
                                                                       '"Pont-des-Chèvres": "nom"'))
    assert _run(programme, path, mapping=mapping).written
    with programme.uow() as w:
        got = {f.name: (f.priority_neighbourhood, f.qpv_name) for f in w.session.scalars(select(Family))
               if f.name in ("Famille Roux", "Famille Blanc", "Famille Petit")}
    assert got == {"Famille Roux": (True, "Croix-Blanche"), "Famille Blanc": (True, "La Reyssouze"),
                   "Famille Petit": (True, "Pont-des-Chèvres")}


def test_the_command_line_layout_gathers_rows_per_action(programme, tmp_path, capsys):
    header = ["Nom", "Prénom", "DDN", "Commune", "Action 1"]
    path = _book(tmp_path / "a.xlsx", [["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Atout Plus"],
                                       ["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Loisirs"]], header)
    parser = argparse.ArgumentParser()
    sheet_command.add_parser(parser.add_subparsers(dest="command"))

    def cli(*argv):
        return sheet_command.run(parser.parse_args(["import-sheet", *map(str, argv)]), programme.uow)

    assert cli(path, "--dry-run") == 2 and "doublon dans la feuille" in capsys.readouterr().err
    assert cli(path, "--layout", "par-action") == 0, capsys.readouterr().err
    with programme.uow() as w:
        assert w.session.scalars(select(Parcours.actions).join(Child).where(Child.first_name == "Jade")).one() == \
            "Atout Plus\nLoisirs"


# -- the partner column -------------------------------------------------------------------------------------------

def _plans(p, *names):
    with p.uow() as w:
        return {c.first_name: w.session.scalars(select(Parcours.actions).where(Parcours.child_id == c.id)).one()
                for c in w.session.scalars(select(Child).where(Child.first_name.in_(names)))}


def test_partner_headers_are_recognised_without_taking_another_fields():
    from services.sheet_import.columns import recognised

    assert [recognised(h) for h in ("Partenaire", "Partenaire mobilisé", "Structure", "Opérateur", "Association",
                                    "Structure orientatrice", "Action")] == [
        "partner", "partner", "partner", "partner", "partner", "referral_source", "action"]


def test_one_row_per_child_writes_each_action_with_the_childs_partner(programme, tmp_path):
    header = ["Nom", "Prénom", "DDN", "Commune", "Action 1", "Action 2", "Partenaire"]
    path = _book(tmp_path / "p.xlsx", [
        ["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Atout Plus", "Loisirs", "adom 01"],
        ["Blanc", "Tom", "01/01/2015", "Bourg-en-Bresse", None, None, "ADOM"],  # the partner's key
        ["Petit", "Léo", "01/01/2015", "Bourg-en-Bresse", "Atelier lecture", None, None]], header)
    report = _run(programme, path)
    assert report.written, report.text()
    assert report.partners == (("adom", "Adom 01"),)
    assert [(v.value, v.code) for v in report.values] == [("adom 01", "partner:adom"), ("ADOM", "partner:adom")]
    assert _plans(programme, "Jade", "Tom", "Léo") == {"Jade": "Atout Plus — Adom 01\nLoisirs — Adom 01",
                                                       "Tom": "Adom 01", "Léo": "Atelier lecture"}


def test_an_unmapped_partner_blocks_with_its_rows_until_autre_keeps_it_as_written(programme, tmp_path):
    header = ["Nom", "Prénom", "DDN", "Commune", "Action", "Structure"]
    path = _book(tmp_path / "a.xlsx", [
        ["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Atout Plus", "Adom 01"],
        ["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Loisirs", "Centre social Amédée"],
        ["Blanc", "Tom", "01/01/2015", "Bourg-en-Bresse", "Loisirs", "centre social amedee"]], header)
    before = _counts(programme)
    report = _run(programme, path)
    assert report.layout == "per_action" and report.blocked and not report.refused and _counts(programme) == before
    assert [(v.field, v.column, v.value, v.rows) for v in report.unmapped] == [
        ("partner", "F (Structure)", "Centre social Amédée", (4, 5))]
    text = report.text()
    assert "colonne F (Structure), lignes 4, 5 : valeur « Centre social Amédée » sans correspondance dans la liste " \
           "« Partenaire »" in text and "Codes des partenaires : partner:adom (Adom 01), autre" in text
    saved = json.loads(report.mapping.to_json())
    assert saved["values"]["partner"] == {"Adom 01": "partner:adom", "Centre social Amédée": None}
    saved["values"]["partner"]["Centre social Amédée"] = "autre"
    report = _run(programme, path, mapping=ColumnMapping.from_json(json.dumps(saved)))
    assert report.written, report.text()
    assert _plans(programme, "Jade", "Tom") == {"Jade": "Atout Plus — Adom 01\nLoisirs — Centre social Amédée",
                                                "Tom": "Loisirs — centre social amedee"}


def test_a_mapping_file_names_a_partner_by_its_key_and_survives_its_renaming(programme, tmp_path):
    from models import Partner

    header = ["Nom", "Prénom", "DDN", "Commune", "Action 1", "Partenaire"]
    path = _book(tmp_path / "r.xlsx", [["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Atout Plus", "l'asso"]],
                 header)
    mapping = ColumnMapping.from_json(json.dumps({"format": "parcours-sheet-mapping/1",
                                                  "values": {"partner": {"L'ASSO": "partner:adom"}}}))
    with programme.uow() as w:  # renamed since the mapping file was written
        w.session.scalars(select(Partner).where(Partner.key == "adom")).one().name = "Adom Services"
        w.session.add(Partner(key="ville", name="Ville de Bourg"))
        w.commit()
    assert _run(programme, path, mapping=mapping, dry_run=True).partners == (("adom", "Adom Services"),
                                                                             ("ville", "Ville de Bourg"))
    gone = ColumnMapping(values={"partner": {"l'asso": "partner:ancien"}})  # a partner since removed: asked again
    assert [v.value for v in _run(programme, path, mapping=gone).unmapped] == ["l'asso"]
    report = _run(programme, path, mapping=mapping)
    assert report.written, report.text()
    assert json.loads(report.mapping.to_json())["values"]["partner"] == {"L'ASSO": "partner:adom",
                                                                         "l'asso": "partner:adom"}
    assert _plans(programme, "Jade") == {"Jade": "Atout Plus — Adom Services"}
    from services.errors import ImportRejected

    with pytest.raises(ImportRejected, match="code inconnu « adom »"):
        ColumnMapping.from_json('{"format": "parcours-sheet-mapping/1", "values": {"partner": {"x": "adom"}}}')
    with pytest.raises(ImportRejected, match=r"code inconnu « partner:  » \(codes : autre, partner:<code du "
                                             r"partenaire>\)"):
        ColumnMapping.from_json('{"format": "parcours-sheet-mapping/1", "values": {"partner": {"x": "partner: "}}}')
