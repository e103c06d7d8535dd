"""The administrator's table models: qtmodeltester on each, native sorting, regularisation marks."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from services.billing.statement import FamilyDetail, IntervenantDetail, Statement, StatementFlag, StatementLine
from services.conventions_admin import ConventionSummary, IntervenantSummary, PartnerSummary, TariffAmount
from ui.admin.table_models import (SORT_ROLE, ConventionsModel, FamilyDetailsModel, FlagsModel,
                                   IntervenantDetailsModel, IntervenantsModel, IssuedStatementsModel, PartnersModel,
                                   StatementLinesModel, sorting_proxy)

D = Decimal


def statement(**changes) -> Statement:
    data = dict(
        convention="ap-2025", month="2025-04", status="issued", number="ap-2025-004",
        issued_at="2025-05-05T08:30:00+00:00", programme="DRE", city="Bourg-en-Bresse", partner="Adom 01",
        action="Atout Plus", budget_imputation="Chapitre 65", period_start="2025-01-01", period_end="2025-12-31",
        lines=(StatementLine("home_intervention", "AES", 17, D("30.00"), D("510.00"), "2025-04"),
               StatementLine("weekly_preparation", "TISF", 12, D("20.07"), D("240.84"), "2025-04"),
               StatementLine("launch_meeting", "AES", 3, D("3.00"), D("9.00"), "2025-04"),
               StatementLine("home_intervention", "AES", -1, D("30.00"), D("-30.00"), "2025-02")),
        total=D("729.84"),
        flags=(StatementFlag("school_holiday", "2025-04-23", "S9", None, "F005", "i-aes", False, False),
               StatementFlag("not_a_period_end_month", "2025-04-10", None, "M2", None, "i-tisf", False, False),
               StatementFlag("extra_session_in_week", "2025-04-03", "S7", None, "F011", "i-aes", True, True)),
        families=(FamilyDetail("F001", "Famille Diallo", 2, 2, 120, D("90.00")),
                  FamilyDetail("F002", "Famille Martin", 3, 3, 270, D("228.60"))),
        intervenants=(IntervenantDetail("i-aes", "Nadia Benali", "AES", 17, 17, 3, 1020, D("519.00")),
                      IntervenantDetail("i-tisf", "Julien Morel", "TISF", 0, 12, 0, 0, D("240.84"))),
        period_to_date=D("26000.00"), budget_cap=D("25000.00"), families_in_period=19, max_families=18,
        pdf_sha256="ab" * 32)
    data.update(changes)
    return Statement(**data)


CONVENTION = ConventionSummary(
    "ap-2025", "adom", "Adom 01", "Atout Plus", date(2025, 1, 1), date(2025, 12, 31), 18, D("25000.00"), "Ch. 65",
    (2, 4), (TariffAmount("AES", "home_intervention", D("30.00")),), ("2025-01", "2025-02"))


def filled_models():
    s = statement()
    lines, flags = StatementLinesModel(), FlagsModel()
    lines.set_statement(s)
    flags.set_statement(s)
    families, intervenants, issued = FamilyDetailsModel(), IntervenantDetailsModel(), IssuedStatementsModel()
    families.set_rows(s.families)
    intervenants.set_rows(s.intervenants)
    issued.set_rows((s, statement(month="2025-03", number="ap-2025-003", total=D("9.50"), pdf_sha256=None)))
    partners, people, conventions = PartnersModel(), IntervenantsModel(), ConventionsModel()
    partners.set_rows((PartnerSummary("adom", "Adom 01", 2, 1), PartnerSummary("pep", "Les PEP de l'Ain", 0, 0)))
    people.set_rows((IntervenantSummary("i-aes", "Nadia Benali", "AES", "adom", "Adom 01"),
                     IntervenantSummary("i-x", "Élodie Chevalier", "TISF", "adom", "Adom 01")))
    conventions.set_rows((CONVENTION, ConventionSummary(
        "as-2025", "pep", "Les PEP de l'Ain", "Accompagnement scolaire", date(2025, 9, 1), None, None, None, None,
        (), (), ())))
    return [lines, flags, families, intervenants, issued, partners, people, conventions]


@pytest.mark.parametrize("index", range(8))
def test_each_model_passes_the_model_tester_filled_empty_and_behind_its_proxy(qtmodeltester, index):
    model = filled_models()[index]
    qtmodeltester.check(model)
    qtmodeltester.check(sorting_proxy(model))
    model.set_rows(())
    qtmodeltester.check(model)


def column_after_sort(model, column: int, shown: int | None = None) -> list[str]:
    proxy = sorting_proxy(model)
    proxy.sort(column, Qt.SortOrder.AscendingOrder)
    shown = column if shown is None else shown
    return [proxy.index(r, shown).data() for r in range(proxy.rowCount())]


def test_money_sorts_by_value_not_by_text():
    lines = filled_models()[0]
    assert column_after_sort(lines, StatementLinesModel.AMOUNT) == [
        "-30,00\u00a0€", "9,00\u00a0€", "240,84\u00a0€", "510,00\u00a0€"]
    assert lines.index(0, StatementLinesModel.AMOUNT).data(SORT_ROLE) == 51000


def test_statement_order_comes_back_when_sorting_on_the_service_column():
    lines = filled_models()[0]
    in_order = column_after_sort(lines, StatementLinesModel.SERVICE, StatementLinesModel.QUANTITY)
    assert in_order == ["17", "12", "3", "-1"]


def test_regularisation_lines_are_marked_with_their_month():
    lines = filled_models()[0]
    regularisation = lines.index(3, StatementLinesModel.PERIOD)
    assert regularisation.data() == "Régularisation de février 2025"
    assert lines.index(0, StatementLinesModel.PERIOD).data() == "avril 2025"
    assert isinstance(regularisation.data(Qt.ItemDataRole.FontRole), QFont)
    assert regularisation.data(Qt.ItemDataRole.FontRole).italic()
    assert lines.index(0, StatementLinesModel.PERIOD).data(Qt.ItemDataRole.FontRole) is None
    assert lines.index(3, StatementLinesModel.SERVICE).data() == "Intervention à domicile"


def test_flags_read_in_french_with_the_intervenant_name():
    flags = filled_models()[1]
    assert flags.index(0, FlagsModel.REASON).data() == "Pendant les vacances scolaires"
    assert flags.index(0, FlagsModel.INTERVENANT).data() == "Nadia Benali"
    assert flags.index(1, FlagsModel.SUBJECT).data() == "M2"
    assert [flags.index(r, FlagsModel.BILLED).data() for r in range(3)] == ["Non", "Non", "Oui"]
    assert column_after_sort(flags, FlagsModel.DATE) == ["03/04/2025", "10/04/2025", "23/04/2025"]


def test_hours_and_names_sort_natively():
    models = filled_models()
    assert column_after_sort(models[3], IntervenantDetailsModel.HOURS) == ["0\u00a0h", "17\u00a0h"]
    assert column_after_sort(models[6], IntervenantsModel.NAME) == ["Élodie Chevalier", "Nadia Benali"]


def test_issued_list_shows_number_month_total_and_short_hash():
    issued = filled_models()[4]
    row = [issued.index(0, c).data() for c in range(issued.columnCount())]
    assert row[:3] == ["ap-2025-004", "avril 2025", "729,84\u00a0€"]
    assert row[4] == "abababababab…"
    assert issued.index(0, IssuedStatementsModel.SHA256).data(Qt.ItemDataRole.ToolTipRole) == "ab" * 32
    assert issued.index(1, IssuedStatementsModel.SHA256).data() == "—"
    assert column_after_sort(issued, IssuedStatementsModel.MONTH) == ["mars 2025", "avril 2025"]


def test_conventions_list_shows_the_issued_count_and_the_period_in_its_tooltip():
    conventions = filled_models()[7]
    tooltip = Qt.ItemDataRole.ToolTipRole
    assert conventions.index(0, ConventionsModel.KEY).data(tooltip) == "Atout Plus, 01/01/2025 – 31/12/2025"
    assert conventions.index(1, ConventionsModel.KEY).data(tooltip) == "Accompagnement scolaire, depuis le 01/09/2025"
    assert [conventions.index(r, ConventionsModel.ISSUED).data() for r in range(2)] == ["2", "aucun"]
