"""The administrator's monthly statements page, offscreen, on the example dataset (convention ap-2025)."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox

from services.billing import issue_statement, issued_pdf
from services.formatting import format_money
from tests.programme_fixture import programme  # noqa: F401  (fixture)
from ui.admin.statements_page import StatementsPage
from ui.admin.table_models import FamilyDetailsModel, StatementLinesModel

WAIT = 15_000


def open_page(qtbot, programme, user=None) -> StatementsPage:  # noqa: F811
    page = StatementsPage(programme.uow, user or programme.administrator)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.statement() is not None, timeout=WAIT)
    return page


def show_month(qtbot, page: StatementsPage, month: str) -> None:
    with qtbot.waitSignal(page.statement_loaded, timeout=WAIT,
                          check_params_cb=lambda s: s.month == month):
        page.select("ap-2025", month)


def error_dialogs() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if w.objectName() == "errorDialog" and w.isVisible()]


def close_dialogs() -> None:
    for box in error_dialogs():
        box.done(0)


def cell(model, row: int, column: int) -> str:
    return model.index(row, column).data()


def test_administrator_previews_the_draft_of_a_month(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    assert page.selected_convention() == "ap-2025" and page.selected_month() == "2025-01"  # next to issue
    show_month(qtbot, page, "2025-03")
    assert page.badge.text() == "PROJET"
    lines = page.lines_model
    services = {cell(lines, r, StatementLinesModel.SERVICE) for r in range(lines.rowCount())}
    assert {"Intervention à domicile", "Temps de préparation hebdomadaire", "Réunion de lancement"} <= services
    statement = page.statement()
    assert [cell(lines, r, StatementLinesModel.AMOUNT) for r in range(lines.rowCount())] == [
        format_money(line.amount) for line in statement.lines]
    assert cell(lines, 0, StatementLinesModel.AMOUNT) == "30,00\u00a0€"  # S2; S1 fell in the winter holidays
    assert f"{statement.total:.2f}".replace(".", ",") in page.total_label.text()
    assert "sur un plafond de 25\u00a0000,00\u00a0€" in page.budget_label.text()
    assert "sur un maximum indicatif de 18" in page.families_label.text()
    assert page.flags_model.rowCount() == len(statement.flags) > 0
    assert not page.issue_button.isEnabled()  # January comes first


def test_family_names_appear_only_on_the_partner_copy(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-03")
    assert page.families_view.isColumnHidden(FamilyDetailsModel.NAME)
    page.names_check.setChecked(True)
    assert not page.families_view.isColumnHidden(FamilyDetailsModel.NAME)
    names = {cell(page.families_model, r, FamilyDetailsModel.NAME) for r in range(page.families_model.rowCount())}
    assert names == {"Famille Lefèvre", "Famille Diallo"}


def test_issue_is_offered_only_for_the_next_month_in_order(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    assert page.selected_month() == "2025-01" and page.issue_button.isEnabled()
    show_month(qtbot, page, "2025-03")
    assert not page.issue_button.isEnabled()
    assert "émettez d'abord janvier 2025" in page.issue_button.toolTip()
    assert page.statement().status == "draft" and page.issued_model.rowCount() == 0


def test_the_confirmation_warns_of_the_months_undecided_exceptions(qtbot, programme):  # noqa: F811
    from services.session_exceptions import flagged_sessions

    for month in ("2025-01", "2025-02"):
        issue_statement(programme.uow(), programme.administrator, "ap-2025", month)
    page = open_page(qtbot, programme)
    assert page.selected_month() == "2025-03"  # S1, 4 March, in the winter holidays, waits for a decision
    undecided = sorted(f.session.key for f in flagged_sessions(programme.uow(), programme.coordinator)
                       if f.session.date.strftime("%Y-%m") == "2025-03")
    assert undecided == ["S1"] and list(page._undecided) == undecided
    shown = []
    real_exec = QMessageBox.exec
    QMessageBox.exec = lambda box: shown.append(box.informativeText()) or 0
    try:
        page.confirm_issue(page.statement())
    finally:
        QMessageBox.exec = real_exec
    assert "attend" in shown[0] and undecided[0] in shown[0] and "dérogation" in shown[0]


def test_a_correction_after_issue_is_marked_on_the_issued_month(qtbot, programme):  # noqa: F811
    from datetime import date

    from services.home_sessions import SessionDraft, record_session

    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01")
    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-02")
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-02")
    assert "ont changé depuis l'émission" not in page.total_label.text()
    record_session(programme.uow(), programme.referent, SessionDraft(
        family_id=programme.family["F1"], intervenant_id=programme.intervenant["i-aes"], date=date(2025, 2, 11),
        duration_minutes=60), date(2025, 3, 20))
    with qtbot.waitSignal(page.statement_loaded, timeout=WAIT):
        page.refresh()
    assert "ont changé depuis l'émission" in page.total_label.text()
    assert "+" in page.total_label.text()


def test_declined_confirmation_issues_nothing(qtbot, programme, monkeypatch):  # noqa: F811
    page = open_page(qtbot, programme)
    asked = []
    monkeypatch.setattr(page, "confirm_issue", lambda statement: asked.append(statement.month) or False)
    page.issue_button.click()
    assert asked == ["2025-01"] and page.statement().status == "draft"


def test_administrator_issues_a_month_sees_it_listed_and_saves_its_pdf(qtbot, programme, monkeypatch,  # noqa: F811
                                                                      tmp_path):
    for month in ("2025-01", "2025-02"):
        issue_statement(programme.uow(), programme.administrator, "ap-2025", month)
    page = open_page(qtbot, programme)
    assert page.selected_month() == "2025-03"  # the next month to issue
    monkeypatch.setattr(page, "confirm_issue", lambda statement: statement.month == "2025-03")
    with qtbot.waitSignal(page.statement_issued, timeout=WAIT) as issued:
        page.issue_button.click()
    number = issued.args[0].number
    assert number == "ap-2025-003"
    assert page.done_label.text().startswith("✓ État n° ap-2025-003 émis (mars 2025")
    assert page.badge.text().startswith(f"Émis n° {number} le ")
    assert page.month_combo.currentText() == "Mars 2025 — émis"
    numbers = [cell(page.issued_model, r, 0) for r in range(page.issued_model.rowCount())]
    assert numbers == ["ap-2025-001", "ap-2025-002", "ap-2025-003"]
    sha = cell(page.issued_model, 2, page.issued_model.SHA256)
    assert issued.args[0].pdf_sha256.startswith(sha.rstrip("…"))
    assert not page.issue_button.isEnabled()

    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "etat-mars"
    monkeypatch.setattr(page, "choose_pdf_path", lambda suggested: str(target))
    with qtbot.waitSignal(page.pdf_saved, timeout=WAIT) as saved:
        page.save_button.click()
    written = folder / "etat-mars.pdf"
    assert saved.args == [str(written)]
    assert page.done_label.text() == f"✓ PDF enregistré : {written}"
    assert written.read_bytes().startswith(b"%PDF")
    assert written.read_bytes() == issued_pdf(programme.uow(), programme.administrator, "ap-2025", "2025-03")  # the stored copy
    assert [p.name for p in folder.iterdir()] == ["etat-mars.pdf"]  # no temporary file left behind


def test_an_issued_month_cannot_be_issued_again(qtbot, programme, monkeypatch):  # noqa: F811
    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01")
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-01")
    assert page.statement().status == "issued" and not page.issue_button.isEnabled()
    monkeypatch.setattr(page, "confirm_issue", lambda statement: True)
    page.issue()  # even called directly, nothing happens
    assert page.issued_model.rowCount() == 1 and not error_dialogs()


def test_without_qtpdf_print_hands_the_pdf_to_the_system_viewer(qtbot, programme, monkeypatch):  # noqa: F811
    monkeypatch.setattr("ui.admin.statements_page.pdf_support", lambda: None)  # PySide6-Essentials only
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-03")
    page.names_check.setChecked(True)
    opened = []
    monkeypatch.setattr(page, "open_externally", lambda path: opened.append(path) or True)
    with qtbot.waitSignal(page.pdf_opened, timeout=WAIT):
        page.print_button.click()
    assert opened[0].endswith("_exemplaire-partenaire.pdf")
    with open(opened[0], "rb") as pdf:
        assert pdf.read(4) == b"%PDF"


def test_only_an_administrator_can_issue(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme, user=programme.coordinator)
    assert page.statement().status == "draft"
    assert not page.issue_button.isEnabled() and page.save_button.isEnabled()


def test_refresh_keeps_the_month_and_shows_what_changed_elsewhere(qtbot, programme):  # noqa: F811
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-03")
    issue_statement(programme.uow(), programme.administrator, "ap-2025", "2025-01")  # from another window
    with qtbot.waitSignal(page.statement_loaded, timeout=WAIT):
        page.refresh()
    assert page.selected_month() == "2025-03"
    assert page.month_combo.itemText(0) == "Janvier 2025 — émis"
    assert "février 2025" in page.next_hint.text()


# -- the closing statement (« état complémentaire de clôture »), after the period's last month ----------------

def issue_the_year(programme, months=range(1, 13)) -> None:  # noqa: F811
    for m in months:
        issue_statement(programme.uow(), programme.administrator, "ap-2025", f"2025-{m:02d}",
                        render_pdf=lambda s: f"%PDF-1.4 {s.number}".encode())


def late_december_session(programme) -> None:  # noqa: F811
    from datetime import date

    from services.home_sessions import SessionDraft, record_session

    record_session(programme.uow(), programme.referent, SessionDraft(  # week 50, before the Christmas holidays
        family_id=programme.family["F1"], intervenant_id=programme.intervenant["i-aes"], date=date(2025, 12, 9),
        duration_minutes=60), date(2026, 1, 12))


def month_items(page: StatementsPage) -> list[str]:
    return [page.month_combo.itemText(i) for i in range(page.month_combo.count())]


def test_the_closing_statement_is_offered_only_once_every_month_is_issued(qtbot, programme):  # noqa: F811
    issue_the_year(programme, range(1, 12))
    page = open_page(qtbot, programme)
    assert page.selected_month() == "2025-12" and "État de clôture" not in month_items(page)
    assert month_items(page)[-1] == "Décembre 2025"


def test_administrator_previews_and_issues_the_closing_statement_then_saves_its_pdf(  # noqa: F811
        qtbot, programme, monkeypatch, tmp_path):
    issue_the_year(programme)
    late_december_session(programme)
    page = open_page(qtbot, programme)
    assert month_items(page)[-2:] == ["Décembre 2025 — émis", "État de clôture"]
    assert page.month_combo.currentText() == "État de clôture"  # nothing else to issue
    draft = page.statement()
    assert draft.closing and draft.status == "draft" and page.badge.text() == "PROJET"
    assert "<b>État complémentaire de clôture (projet)</b>" in page.header_label.text()
    lines = page.lines_model
    assert [(cell(lines, r, StatementLinesModel.SERVICE), cell(lines, r, StatementLinesModel.AMOUNT))
            for r in range(lines.rowCount())] == [("Intervention à domicile", "30,00\u00a0€"),
                                                  ("Temps de préparation hebdomadaire", "15,00\u00a0€")]
    assert "Total TTC : 45,00\u00a0€" in page.total_label.text()
    assert "2 lignes de régularisation : décembre 2025" in page.total_label.text()
    assert page.issue_button.isEnabled()

    asked = []
    monkeypatch.setattr(page, "confirm_issue", lambda statement: asked.append(statement.closing) or True)
    with qtbot.waitSignal(page.statement_issued, timeout=WAIT) as issued:
        page.issue_button.click()
    closing = issued.args[0]
    assert asked == [True] and (closing.number, closing.closing) == ("ap-2025-013", True)
    assert page.done_label.text() == "✓ État complémentaire de clôture n° ap-2025-013 émis (45,00\u00a0€ TTC)."
    assert page.badge.text().startswith("Émis n° ap-2025-013 le ")
    assert "<b>État complémentaire de clôture n° ap-2025-013</b>" in page.header_label.text()
    assert page.month_combo.currentText() == "État de clôture — émis"
    assert month_items(page)[-2:] == ["État de clôture — émis", "État de clôture"]  # for later corrections
    assert "Janvier 2026" not in " ".join(month_items(page))
    history = page.issued_model
    assert [cell(history, r, 0) for r in range(history.rowCount())][-2:] == ["ap-2025-012", "ap-2025-013"]
    assert [cell(history, r, 1) for r in range(history.rowCount())][-2:] == ["décembre 2025", "État de clôture"]
    assert not page.issue_button.isEnabled()

    target = tmp_path / "cloture.pdf"
    suggested = []
    monkeypatch.setattr(page, "choose_pdf_path", lambda name: suggested.append(name) or str(target))
    with qtbot.waitSignal(page.pdf_saved, timeout=WAIT):
        page.save_button.click()
    assert suggested == ["Etat-cloture_ap-2025_ap-2025-013.pdf"]
    assert target.read_bytes() == issued_pdf(programme.uow(), programme.administrator, "ap-2025", closing.month)

    with qtbot.waitSignal(page.statement_loaded, timeout=WAIT, check_params_cb=lambda s: s.status == "draft"):
        page.select("ap-2025", "closing")  # the next closing statement: nothing left to carry
    assert page.statement().lines == () and not page.issue_button.isEnabled()
    assert "Aucune régularisation à reporter" in page.total_label.text()
    assert "Aucune régularisation à reporter" in page.issue_button.toolTip()


def test_a_correction_of_december_announces_the_closing_statement(qtbot, programme):  # noqa: F811
    issue_the_year(programme)
    late_december_session(programme)
    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-12")
    assert "+45,00\u00a0€ viendront en régularisation sur l'état complémentaire de clôture" in page.total_label.text()
    assert "Une correction ultérieure se reporte sur l'« État de clôture »" in page.next_hint.text()


def test_a_pdf_with_the_families_names_is_written_in_the_audit_log(qtbot, programme, monkeypatch, tmp_path):  # noqa: F811
    from sqlalchemy import select

    from models import AuditEntry

    page = open_page(qtbot, programme)
    show_month(qtbot, page, "2025-03")
    page.names_check.setChecked(True)
    monkeypatch.setattr(page, "choose_pdf_path", lambda suggested: str(tmp_path / "partenaire.pdf"))
    with qtbot.waitSignal(page.pdf_saved, timeout=WAIT):
        page.save_button.click()
    with programme.uow() as w:
        entries = w.session.execute(select(AuditEntry.actor_key, AuditEntry.action, AuditEntry.record_key)
                                    .where(AuditEntry.record_type == "statement_names")).all()
    assert entries == [(programme.administrator.key, "read", "ap-2025/2025-03")]
