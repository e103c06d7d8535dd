"""The closing statement (« état complémentaire de clôture »): after the convention's last month.

Atout Plus 2025 runs « du 1er janvier 2025 jusqu'au 31 décembre 2025 ». One AES family (F1, Adom 01's AES
intervenant A1) has a session in the first week of each month, outside the zone A holidays. All twelve months are
issued; then a session of Tuesday 9 December 2025 (ISO week 50, before the Christmas holidays of 20 December, no
other session that week) is logged late. The convention pays it as « 1 heure d'intervention à domicile … 30,00 € par
intervention » plus « 30 minutes de temps de préparation … 15,00 € par semaine, par intervenant et par famille »:
+45,00 € for December, which no monthly statement can carry any more (January 2026 is outside the period).
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

import main
from models import Family, HomeSession, Intervenant
from services.billing import (get_closing_statement, get_statement, issue_closing_statement, issue_statement,
                              issued_pdf, list_issued)
from services.billing.statements import issued_month_changes
from services.dataset import import_dataset
from services.errors import StatementError
from services.integrity import verify
from services.permissions import SYSTEM
from tests.billing.builders import dataset, family, session

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
# one session early in each month; August's falls in the summer holidays (5 July – 1 September): not billed
FIRST_SESSIONS = ["2025-01-21", "2025-02-04", "2025-03-11", "2025-04-01", "2025-05-06", "2025-06-03",
                  "2025-07-01", "2025-08-05", "2025-09-02", "2025-10-07", "2025-11-04", "2025-12-02"]


def fake_pdf(statement) -> bytes:
    return f"%PDF-1.4 {statement.number}".encode()


@pytest.fixture
def year(uow):
    """The twelve months of the convention, each with one session of F1."""
    data = dataset()
    family(data, "F1")
    for i, day in enumerate(FIRST_SESSIONS):
        session(data, f"F1-{i + 1:02d}", "F1", "A1", day, referent=(i == 0))
    import_dataset(uow(), data)
    return uow


def issue_year(uow, render_pdf=fake_pdf) -> None:
    for month in MONTHS:
        issue_statement(uow(), SYSTEM, "AP", month, render_pdf=render_pdf)


def late_session(uow, key: str, day: date) -> None:
    with uow() as u:
        f1 = u.session.scalars(select(Family).where(Family.key == "F1")).one()
        a1 = u.session.scalars(select(Intervenant).where(Intervenant.key == "A1")).one()
        u.session.add(HomeSession(key=key, family=f1, intervenant=a1, date=day, duration_minutes=60, status="held",
                                  approved_exception=False))
        u.commit()


def lines_of(statement):
    return [(l.kind, l.qualification, l.quantity, l.unit_price, l.amount, l.month) for l in statement.lines]


DECEMBER_CORRECTION = [("home_intervention", "AES", 1, Decimal("30.00"), Decimal("30.00"), "2025-12"),
                       ("weekly_preparation", "AES", 1, Decimal("15.00"), Decimal("15.00"), "2025-12")]


def test_a_late_december_session_cannot_go_on_a_monthly_statement_after_the_period(year):
    issue_year(year)
    late_session(year, "late-1", date(2025, 12, 9))
    assert issued_month_changes(year(), SYSTEM, "AP", "2025-12").difference == Decimal("45.00")
    with pytest.raises(StatementError, match="Janvier 2026 est hors de la période.*état complémentaire de clôture"):
        get_statement(year(), SYSTEM, "AP", "2026-01")


def test_the_closing_draft_carries_the_december_correction_and_nothing_else(year):
    issue_year(year)
    late_session(year, "late-1", date(2025, 12, 9))
    draft = get_closing_statement(year(), SYSTEM, "AP")
    assert draft.closing and draft.status == "draft" and draft.number is None
    assert lines_of(draft) == DECEMBER_CORRECTION  # home intervention + weekly preparation, as the convention says
    assert draft.total == Decimal("45.00")
    assert draft.current_lines == () and draft.regularisation_lines == draft.lines
    assert draft.month > "2025-12"  # stored after the period
    twelve = sum((s.total for s in list_issued(year(), SYSTEM, "AP")), Decimal("0.00"))
    assert twelve == 11 * Decimal("45.00")  # August: summer holidays
    assert draft.period_to_date == twelve + Decimal("45.00")


def test_the_closing_statement_is_issued_as_the_next_number_frozen_and_chained(year, engine, db_path, capsys):
    issue_year(year)
    late_session(year, "late-1", date(2025, 12, 9))
    closing = issue_closing_statement(year(), SYSTEM, "AP")  # the real PDF
    assert (closing.number, closing.status, closing.closing) == ("AP-013", "issued", True)
    assert lines_of(closing) == DECEMBER_CORRECTION and closing.total == Decimal("45.00")
    issued = list_issued(year(), SYSTEM, "AP")
    assert [s.number for s in issued][-2:] == ["AP-012", "AP-013"] and issued[-1] == closing
    assert get_statement(year(), SYSTEM, "AP", closing.month) == closing  # read back, not recomputed
    assert issued_pdf(year(), SYSTEM, "AP", closing.month).startswith(b"%PDF")
    # December is now carried: nothing left to tell on its statement, nothing left for a closing statement
    assert issued_month_changes(year(), SYSTEM, "AP", "2025-12").lines == ()
    assert get_closing_statement(year(), SYSTEM, "AP").lines == ()
    for sql in ("UPDATE statement SET total = 0 WHERE number = 'AP-013'",
                "DELETE FROM statement WHERE number = 'AP-013'",
                "UPDATE statement_line SET quantity = 2 WHERE month = '2025-12'"):
        with pytest.raises(Exception, match="frozen"):
            with engine.begin() as conn:
                conn.execute(text(sql))
    report = verify(engine)
    assert report.ok and report.statements == 13, report.problems
    assert main.main(["--db", db_path, "check"]) == 0, capsys.readouterr()


def test_a_second_correction_gives_a_second_closing_statement_with_only_the_new_difference(year, engine):
    issue_year(year)
    late_session(year, "late-1", date(2025, 12, 9))
    first = issue_closing_statement(year(), SYSTEM, "AP", render_pdf=fake_pdf)
    late_session(year, "late-2", date(2025, 12, 16))  # week 51, still before the holidays
    with year() as u:  # and December's first session did not take place after all
        u.session.scalars(select(HomeSession).where(HomeSession.key == "F1-12")).one().status = "cancelled"
        u.commit()
    second_draft = get_closing_statement(year(), SYSTEM, "AP")
    assert second_draft.total == Decimal("0.00") and lines_of(second_draft) == []  # +45 and −45 cancel out
    late_session(year, "late-3", date(2025, 11, 18))  # and a November session, week 47
    second = issue_closing_statement(year(), SYSTEM, "AP", render_pdf=fake_pdf)
    assert second.number == "AP-014" and second.month > first.month
    assert lines_of(second) == [
        ("home_intervention", "AES", 1, Decimal("30.00"), Decimal("30.00"), "2025-11"),
        ("weekly_preparation", "AES", 1, Decimal("15.00"), Decimal("15.00"), "2025-11")]
    assert second.period_to_date == 11 * Decimal("45.00") + first.total + second.total
    assert verify(engine).ok


def test_a_december_change_that_moves_units_between_months_carries_both_signs(year):
    issue_year(year)
    with year() as u:  # December's session moved to 25 November (week 48, no other session that week)
        u.session.scalars(select(HomeSession).where(HomeSession.key == "F1-12")).one().date = date(2025, 11, 25)
        u.commit()
    draft = get_closing_statement(year(), SYSTEM, "AP")
    assert [(l.kind, l.quantity, l.month) for l in draft.lines] == [
        ("home_intervention", 1, "2025-11"), ("weekly_preparation", 1, "2025-11"),
        ("home_intervention", -1, "2025-12"), ("weekly_preparation", -1, "2025-12")]
    assert draft.total == Decimal("0.00")
    issued = issue_closing_statement(year(), SYSTEM, "AP", render_pdf=fake_pdf)  # something to carry: issued
    assert issued.number == "AP-013"


def test_nothing_to_carry_is_refused(year, engine):
    issue_year(year)
    assert get_closing_statement(year(), SYSTEM, "AP").lines == ()
    with pytest.raises(StatementError, match="Aucune régularisation à reporter"):
        issue_closing_statement(year(), SYSTEM, "AP", render_pdf=fake_pdf)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM statement")).scalar() == 12


def test_a_closing_statement_before_the_last_month_is_issued_is_refused_naming_the_month(year, engine):
    for month in MONTHS[:-1]:
        issue_statement(year(), SYSTEM, "AP", month, render_pdf=fake_pdf)
    late_session(year, "late-1", date(2025, 11, 18))
    with pytest.raises(StatementError, match="l'état de décembre 2025 n'est pas encore émis"):
        get_closing_statement(year(), SYSTEM, "AP")
    with pytest.raises(StatementError, match="Émettez d'abord décembre 2025"):
        issue_closing_statement(year(), SYSTEM, "AP", render_pdf=fake_pdf)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM statement")).scalar() == 11


def test_a_closing_statement_with_months_missing_names_the_first_one(year):
    for month in MONTHS[:9]:
        issue_statement(year(), SYSTEM, "AP", month, render_pdf=fake_pdf)
    with pytest.raises(StatementError, match="l'état d'octobre 2025 n'est pas encore émis.*jusqu'à décembre 2025"):
        issue_closing_statement(year(), SYSTEM, "AP", render_pdf=fake_pdf)


def test_a_convention_without_an_end_has_no_closing_statement(uow):
    data = dataset()
    data["conventions"][0]["end"] = None
    family(data, "F1")
    import_dataset(uow(), data)
    with pytest.raises(StatementError, match="n'a pas de date de fin"):
        get_closing_statement(uow(), SYSTEM, "AP")


# -- the command line -------------------------------------------------------------------------------------

def run(db, capsys, *args):
    code = main.main(["--db", db, "statement", "--convention", "AP", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_closing_shows_the_draft_then_issues_it_with_its_pdf(year, db_path, capsys, tmp_path):
    issue_year(year)
    late_session(year, "late-1", date(2025, 12, 9))
    code, out, _ = run(db_path, capsys, "--closing", "--json")
    data = json.loads(out)
    assert code == 0 and (data["kind"], data["status"], data["number"], data["total"]) == (
        "closing", "draft", None, "45.00")
    assert [(l["kind"], l["amount"], l["month"]) for l in data["lines"]] == [
        ("home_intervention", "30.00", "2025-12"), ("weekly_preparation", "15.00", "2025-12")]
    code, out, _ = run(db_path, capsys, "--closing")
    assert code == 0 and "État complémentaire de clôture AP (projet)" in out and "régul. décembre 2025" in out
    target = tmp_path / "cloture.pdf"
    code, out, _ = run(db_path, capsys, "--closing", "--issue", "--pdf", str(target))
    assert code == 0 and "État complémentaire de clôture AP (émis, n° AP-013)" in out
    closing = list_issued(year(), SYSTEM, "AP")[-1]
    assert target.read_bytes() == issued_pdf(year(), SYSTEM, "AP", closing.month)
    code, _, err = run(db_path, capsys, "--closing", "--issue")
    assert code == 2 and "Aucune régularisation à reporter" in err


def test_cli_closing_and_month_are_exclusive_and_one_is_required(year, db_path, capsys):
    for args in (["--closing", "--month", "2025-12"], []):
        with pytest.raises(SystemExit) as exit_:
            run(db_path, capsys, *args)
        assert exit_.value.code == 2
    errors = capsys.readouterr().err
    assert "argument --month : incompatible avec l'argument --closing" in errors
    assert "l'un des arguments --month --closing est obligatoire" in errors


def test_cli_closing_before_december_is_issued_is_refused(year, db_path, capsys):
    code, _, err = run(db_path, capsys, "--closing", "--issue")
    assert code == 2 and "l'état de janvier 2025 n'est pas encore émis" in err


# -- the PDF ----------------------------------------------------------------------------------------------

def pdf_text(pdf: bytes) -> str:
    import io

    import pypdf  # test extra only: reads the text back

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def test_the_pdf_says_it_is_a_closing_statement_and_which_month_each_line_corrects(year):
    issue_year(year)
    late_session(year, "late-1", date(2025, 12, 9))
    late_session(year, "late-3", date(2025, 11, 18))
    closing = issue_closing_statement(year(), SYSTEM, "AP")
    text = pdf_text(issued_pdf(year(), SYSTEM, "AP", closing.month))
    assert "État complémentaire de clôture" in text and "N° AP-013" in text
    assert "État mensuel" not in text  # neither a month's title nor its details
    assert "Détail par famille" not in text and "Aucune prestation facturée" not in text
    november, december = text.index("Régularisation de novembre 2025 (mois corrigé)"), \
        text.index("Régularisation de décembre 2025 (mois corrigé)")
    assert november < text.index("Sous-total de la régularisation de novembre 2025 45,00 €") < december
    assert "Sous-total de la régularisation de décembre 2025 45,00 €" in text
    assert "Total TTC 90,00 €" in text
    assert "État complémentaire de clôture AP — N° AP-013" in text  # the footer of every page
