"""The « Importer un tableur » wizard (ui.sheet_wizard) driven by pytest-qt on a real openpyxl workbook: file, sheet
and header row with a preview, the columns corrected, a value chosen in its dictionary, the report before anything is
written, « Importer » off the GUI thread, the mapping file saved then reused; its models pass qtmodeltester; the
window's menu opens it for coordination and administration; the partner column's values are offered the
programme's partners."""
from __future__ import annotations

import json

import pytest
from openpyxl import Workbook
from PySide6.QtWidgets import QWizard
from sqlalchemy import func, select

from models import Child, Parcours
from ui.sheet_models import GridPreviewModel, ReportModel
from ui.sheet_wizard import NOT_KEPT, TO_CHOOSE, SheetWizard

HEADER = ["Patronyme", "Prénom", "DDN", "Commune", "Classe", "Orienté par", "Saisine", "Action 1", "Action 2",
          "Observations"]


def _book(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws.append(["rien ici"])
    ws = wb.create_sheet("Suivi 2024")
    ws.append(["Enfants suivis — PRE de Bourg-en-Bresse"])
    ws.merge_cells("A1:J1")
    ws.append(HEADER)
    ws.append(["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "CM2", "CPE", "01/09/2024", "Atout Plus", "Loisirs",
               "timide"])
    ws.append(["Blanc", "Tom", 42005, "Bourg-en-Bresse", "4ème", "Mairie de quartier", "01/10/2024", None, None,
               None])
    ws.append(["Total", None, 2])
    wb.save(path)
    return path


@pytest.fixture
def wizard(qtbot, programme, today):
    w = SheetWizard(programme.uow, programme.coordinator, today=today)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _children(programme) -> int:
    with programme.uow() as u:
        return u.session.scalar(select(func.count()).select_from(Child))


def _next(qtbot, wizard) -> None:
    """« Suivant », then wait for the page's dry run (made off the GUI thread) to answer."""
    wizard.next()
    page = wizard.currentPage()
    if hasattr(page, "ready"):
        qtbot.waitUntil(lambda: page.ready, timeout=20000)


def _to_values(qtbot, wizard, path, sheet="Suivi 2024"):
    page = wizard.file_page
    page.path.setText(str(path))
    page.load()
    page.sheet.setCurrentText(sheet)
    assert wizard.grid.sheet == sheet and page.header.value() == 2 and page.isComplete()
    _next(qtbot, wizard)
    assert wizard.currentPage() is wizard.columns_page
    combos = dict(wizard.columns_page.combos)
    assert combos["Patronyme"].currentText() == NOT_KEPT and combos["DDN"].currentData() == "birth_date"
    combos["Patronyme"].setCurrentIndex(combos["Patronyme"].findData("last_name"))  # the user corrects
    _next(qtbot, wizard)
    assert wizard.currentPage() is wizard.values_page


def test_the_wizard_imports_a_team_workbook_and_saves_the_mapping(qtbot, wizard, programme, tmp_path):
    path, saved = _book(tmp_path / "suivi.xlsx"), tmp_path / "correspondance.json"
    before = _children(programme)
    _to_values(qtbot, wizard, path)
    sources = dict(wizard.values_page.combos["referral_source"])
    assert sources["CPE"].currentData() == "en_cpe" and sources["Mairie de quartier"].currentText() == TO_CHOOSE
    assert wizard.values_page.waiting() == ["Mairie de quartier"]
    sources["Mairie de quartier"].setCurrentIndex(sources["Mairie de quartier"].findData("ccas"))
    _next(qtbot, wizard)
    page = wizard.report_page
    assert wizard.currentPage() is page and page.isComplete(), page.summary.text()
    assert page.summary.text().startswith("À créer : 2 enfant(s) dans 2 foyer(s)")
    assert "Colonnes non reprises : J (Observations)." in page.summary.text()
    assert wizard.button(QWizard.WizardButton.FinishButton).text() == "&Importer"
    assert _children(programme) == before  # the report wrote nothing
    wizard.choose_mapping_path = lambda: str(saved)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.result is not None, timeout=20000)
    assert wizard.result.written and _children(programme) == before + 2
    with programme.uow() as u:
        jade = u.session.scalars(select(Parcours).join(Child).where(Child.first_name == "Jade")).one()
        assert (jade.actions, jade.referral_source, jade.child.school_level) == ("Atout Plus\nLoisirs", "en_cpe",
                                                                                 "elementaire")
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert (data["sheet"], data["header_row"], data["layout"]) == ("Suivi 2024", 2, "per_child")
    assert data["columns"]["Patronyme"] == "last_name" and data["values"]["referral_source"]["Mairie de quartier"] \
        == "ccas"


def test_the_mapping_file_fills_next_years_choices(qtbot, wizard, tmp_path):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"format": "parcours-sheet-mapping/1", "sheet": "Suivi 2024", "header_row": 2,
                                   "columns": {"Patronyme": "last_name"},
                                   "values": {"referral_source": {"Mairie de quartier": "autre"}}}), encoding="utf-8")
    wizard.file_page.mapping_path.setText(str(mapping))
    wizard.file_page.path.setText(str(_book(tmp_path / "suivi.xlsx")))
    wizard.file_page.load()
    assert wizard.grid.sheet == "Suivi 2024"  # the file's sheet, not the first
    _next(qtbot, wizard)
    assert dict(wizard.columns_page.combos)["Patronyme"].currentData() == "last_name"
    _next(qtbot, wizard)
    assert wizard.values_page.waiting() == []
    _next(qtbot, wizard)
    assert wizard.report_page.isComplete(), wizard.report_page.summary.text()


def test_an_unmapped_value_keeps_importer_disabled_and_is_listed(qtbot, wizard, tmp_path):
    _to_values(qtbot, wizard, _book(tmp_path / "suivi.xlsx"))
    _next(qtbot, wizard)
    page = wizard.report_page
    assert not page.isComplete() and not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    lines = [[page.model.index(r, c).data() for c in range(4)] for r in range(page.model.rowCount())]
    assert ["Sans correspondance", "4", "F (Orienté par)",
            "« Mairie de quartier » : à choisir à l'étape des valeurs"] in lines
    assert "1 valeur(s) sans correspondance" in page.summary.text()


def test_a_file_that_is_no_spreadsheet_is_said_in_french(wizard, tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    wizard.file_page.path.setText(str(tmp_path / "notes.docx"))
    wizard.file_page.load()
    assert "n'est ni un classeur XLSX, ni un ODS, ni un CSV" in wizard.file_page.message.text()
    assert not wizard.file_page.isComplete()
    wizard.file_page.path.setText(str(tmp_path / "absent.xlsx"))
    wizard.file_page.load()
    assert "absent.xlsx" in wizard.file_page.message.text() and not wizard.file_page.isComplete()


def test_the_wizards_models_pass_the_model_tester(qtbot, qtmodeltester, wizard, tmp_path):
    qtmodeltester.check(GridPreviewModel())
    qtmodeltester.check(ReportModel())
    _to_values(qtbot, wizard, _book(tmp_path / "suivi.xlsx"))
    qtmodeltester.check(wizard.file_page.preview)
    _next(qtbot, wizard)
    assert wizard.report_page.model.rowCount() > 0
    qtmodeltester.check(wizard.report_page.model)


def test_the_menu_opens_the_wizard_for_coordination_and_administration(qtbot, open_window, programme, tmp_path):
    window = open_window(programme.coordinator)
    assert window.import_sheet_action.isEnabled()
    window.import_sheet_action.trigger()
    assert isinstance(window.sheet_wizard, SheetWizard) and window.sheet_wizard.isVisible()
    window.sheet_wizard.reject()
    assert not window.statusBar().currentMessage().startswith("Tableur importé")  # cancelled: nothing said
    (tmp_path / "f.csv").write_text("Nom;Prénom;DDN;Commune\nRoux;Jade;01/01/2015;Bourg-en-Bresse\n",
                                    encoding="utf-8")
    window.import_sheet_action.trigger()
    wizard = window.sheet_wizard
    wizard.file_page.path.setText(str(tmp_path / "f.csv"))
    wizard.file_page.load()
    for _ in range(3):
        _next(qtbot, wizard)
    wizard.choose_mapping_path = lambda: None
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=20000)
    assert window.statusBar().currentMessage() == "Tableur importé : 1 enfant(s) créé(s), 0 fusionné(s)."
    assert open_window(programme.administrator).import_sheet_action.isEnabled()  # sheet.import: day one too
    assert not open_window(programme.referent).import_sheet_action.isEnabled()


def test_choices_survive_a_step_back_and_one_row_per_action_with_notes_kept_when_asked(qtbot, wizard, programme,
                                                                                       tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Nom", "Prénom", "né(e) le", "Commune", "Action", "Orienté par", "Remarque"])
    ws.append(["Roux", "Jade", "28/02/2014", "Bourg-en-Bresse", "Atout Plus", "Voisine", "suivie par la PMI"])
    ws.append(["ROUX", "jade", "28/02/2014", "Bourg-en-Bresse", "Loisirs", "Voisine", None])
    wb.save(tmp_path / "actions.xlsx")
    wizard.file_page.path.setText(str(tmp_path / "actions.xlsx"))
    wizard.file_page.load()
    _next(qtbot, wizard)
    assert wizard.columns_page.layout() == "per_action"  # an « Action » column: one row per action
    wizard.columns_page.keep.setChecked(True)
    _next(qtbot, wizard)
    voisine = dict(wizard.values_page.combos["referral_source"])["Voisine"]
    voisine.setCurrentIndex(voisine.findData("autre"))
    wizard.back()
    _next(qtbot, wizard)
    assert dict(wizard.values_page.combos["referral_source"])["Voisine"].currentData() == "autre"
    _next(qtbot, wizard)
    assert wizard.report_page.isComplete(), wizard.report_page.summary.text()
    wizard.choose_mapping_path = lambda: None  # not saved
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.result is not None, timeout=20000)
    assert [c.rows for c in wizard.result.created] == [(2, 3)]
    with programme.uow() as u:
        jade = u.session.scalars(select(Parcours).join(Child).where(Child.first_name == "Jade")).one()
        assert (jade.actions, jade.referral_source, jade.referral_source_other, jade.child.family.notes) == (
            "Atout Plus\nLoisirs", "autre", "Voisine", "Remarque : suivie par la PMI")
    assert not list(tmp_path.glob("*.json"))


def test_the_values_step_offers_the_programmes_partners_and_an_administrator_imports(qtbot, programme, today,
                                                                                      tmp_path):
    wizard = SheetWizard(programme.uow, programme.administrator, today=today)
    qtbot.addWidget(wizard)
    wizard.show()
    wb = Workbook()
    ws = wb.active
    ws.append(["Nom", "Prénom", "DDN", "Commune", "Action 1", "Partenaire mobilisé"])
    ws.append(["Roux", "Jade", "01/01/2015", "Bourg-en-Bresse", "Atout Plus", "Adom"])
    ws.append(["Blanc", "Tom", "01/01/2015", "Bourg-en-Bresse", "Loisirs", "MJC"])
    wb.save(tmp_path / "partenaires.xlsx")
    wizard.file_page.path.setText(str(tmp_path / "partenaires.xlsx"))
    wizard.file_page.load()
    _next(qtbot, wizard)
    assert dict(wizard.columns_page.combos)["Partenaire mobilisé"].currentData() == "partner"
    _next(qtbot, wizard)
    partners = dict(wizard.values_page.combos["partner"])
    offered = [(partners["MJC"].itemData(i), partners["MJC"].itemText(i)) for i in range(partners["MJC"].count())]
    assert offered == [(None, TO_CHOOSE), ("partner:adom", "Adom 01"), ("autre", "Autre (préciser)")]
    assert partners["Adom"].currentData() == "partner:adom" and wizard.values_page.waiting() == ["MJC"]
    partners["MJC"].setCurrentIndex(partners["MJC"].findData("autre"))
    _next(qtbot, wizard)
    assert wizard.report_page.isComplete(), wizard.report_page.summary.text()
    wizard.choose_mapping_path = lambda: None
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wizard.result is not None, timeout=20000)
    with programme.uow() as u:
        got = {p.child.first_name: p.actions for p in u.session.scalars(select(Parcours).join(Child).where(
            Child.first_name.in_(["Jade", "Tom"])))}
    assert got == {"Jade": "Atout Plus — Adom 01", "Tom": "Loisirs — MJC"}
