"""Issue 9, defects B and D: an intervenant's qualification and employer, and a convention's tariffs, are facts in
force from a date; every session and meeting is billed at those of its own day.

From the Atout Plus convention (Bourg-en-Bresse, 2025): « 30,00 € par intervention » for an AES, « 56,13 € » for a
TISF, the weekly preparation at 15,00 € (AES) and 20,07 € (TISF); « 1 heure d'intervention à domicile par
semaine »; the CCAS may sign « ses éventuels avenants ». The partner is paid for « 2 ou 3 professionnels » of its
own. Zone A school holidays: summer from Saturday 5 July 2025.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Intervenant, IntervenantHistory
from models.db import head_revision, make_engine, migrate
from services import conventions_admin
from services.billing import get_statement, issue_statement, list_issued
from services.dataset import import_dataset
from services.directory import list_users
from services.integrity import verify
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory
from tests.billing.migration_steps import downgrade_to, issued_rows
from tests.billing.builders import dataset, family, meeting, session

MONTHS = ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07")
AVENANT = {("AES", "home_intervention"): "32.00", ("AES", "weekly_preparation"): "15.25",
           ("AES", "launch_meeting"): "32.00", ("AES", "period_end_meeting"): "32.00",
           ("TISF", "home_intervention"): "58.00", ("TISF", "weekly_preparation"): "21.00",
           ("TISF", "launch_meeting"): "58.00", ("TISF", "period_end_meeting"): "58.00"}


def with_admin(data: dict) -> dict:
    data["users"].append({"key": "admin", "name": "Alice Admin", "role": "administrator"})
    return data


def admin(uow):
    return next(u for u in list_users(uow()) if u.key == "admin")


def lines_of(statement):
    return [(l.kind, l.qualification, l.quantity, str(l.unit_price), str(l.amount), l.month) for l in statement.lines]


def issue_until(uow, last: str) -> None:
    for month in MONTHS[:MONTHS.index(last) + 1]:
        issue_statement(uow(), SYSTEM, "AP", month, render_pdf=lambda s: f"%PDF {s.number}".encode())


def change_intervenant(uow, key: str, qualification: str, partner: str, day: date):
    current = next(i for i in conventions_admin.list_intervenants(uow(), admin(uow)) if i.key == key)
    return conventions_admin.update_intervenant(uow(), admin(uow), key, conventions_admin.IntervenantInput(
        key, current.name, qualification, partner, from_date=day))


@pytest.fixture
def may_and_june(uow):
    """F1 seen by the AES A1 on Tuesday 13 May and Tuesday 10 June 2025; January to May issued."""
    data = with_admin(dataset())
    data["partners"].append({"key": "pep", "name": "PEP 01"})
    family(data, "F1")
    session(data, "S-may", "F1", "A1", "2025-05-13", referent=True)
    session(data, "S-june", "F1", "A1", "2025-06-10")
    import_dataset(uow(), data)
    issue_until(uow, "2025-05")
    return uow


def test_an_aes_who_becomes_tisf_on_1_june_is_billed_aes_in_may_and_tisf_in_june_without_regularisation(may_and_june):
    uow = may_and_june
    may_before = get_statement(uow(), SYSTEM, "AP", "2025-05")
    change_intervenant(uow, "A1", "TISF", "adom", date(2025, 6, 1))

    june = get_statement(uow(), SYSTEM, "AP", "2025-06")
    assert lines_of(june) == [("home_intervention", "TISF", 1, "56.13", "56.13", "2025-06"),
                              ("weekly_preparation", "TISF", 1, "20.07", "20.07", "2025-06")]
    assert get_statement(uow(), SYSTEM, "AP", "2025-05") == may_before
    assert lines_of(may_before) == [("home_intervention", "AES", 1, "30.00", "30.00", "2025-05"),
                                    ("weekly_preparation", "AES", 1, "15.00", "15.00", "2025-05")]


def test_the_intervenant_detail_names_the_qualifications_paid_in_the_month_in_their_order(uow):
    """A1 becomes TISF on 15 June, between a session on the 10th (AES) and one on the 17th (TISF): June's detail says
    « AES puis TISF », not the later qualification alone; May's says AES although A1 is TISF today."""
    data = with_admin(dataset())
    family(data, "F1")
    for key, day in (("S-may", "2025-05-13"), ("S-june", "2025-06-10"), ("S-later", "2025-06-17")):
        session(data, key, "F1", "A1", day, referent=True)
    import_dataset(uow(), data)
    change_intervenant(uow, "A1", "TISF", "adom", date(2025, 6, 15))
    june = get_statement(uow(), SYSTEM, "AP", "2025-06")
    assert [d.qualification for d in june.intervenants] == ["AES puis TISF"]
    assert [d.qualification for d in get_statement(uow(), SYSTEM, "AP", "2025-05").intervenants] == ["AES"]


def test_a_move_to_another_partner_on_1_june_keeps_may_with_the_first_partner_and_no_regularisation(may_and_june):
    uow = may_and_june
    change_intervenant(uow, "A1", "AES", "pep", date(2025, 6, 1))

    june = get_statement(uow(), SYSTEM, "AP", "2025-06")
    assert june.lines == ()  # 10 June: A1 works for PEP 01, not for Adom 01
    assert june.total == Decimal("0.00")
    summary = next(i for i in conventions_admin.list_intervenants(uow(), admin(uow)) if i.key == "A1")
    assert [(p.start, p.partner) for p in summary.history] == [(None, "adom"), (date(2025, 6, 1), "pep")]


def test_a_change_dated_inside_an_issued_month_brings_regularisations_and_the_window_is_told(may_and_june):
    uow = may_and_june
    data = conventions_admin.IntervenantInput("A1", "Nadia Benali", "TISF", "adom", from_date=date(2025, 5, 1))
    warning = conventions_admin.regularisation_warning(uow(), admin(uow), "A1", data)
    assert "l'état de mai 2025 est émis" in warning and "régularisation" in warning
    conventions_admin.update_intervenant(uow(), admin(uow), "A1", data)

    june = get_statement(uow(), SYSTEM, "AP", "2025-06")
    assert [l for l in lines_of(june) if l[5] == "2025-05"] == [
        ("home_intervention", "AES", -1, "30.00", "-30.00", "2025-05"),
        ("home_intervention", "TISF", 1, "56.13", "56.13", "2025-05"),
        ("weekly_preparation", "AES", -1, "15.00", "-15.00", "2025-05"),
        ("weekly_preparation", "TISF", 1, "20.07", "20.07", "2025-05")]
    later = conventions_admin.IntervenantInput("A1", "Nadia Benali", "AES", "adom", from_date=date(2025, 6, 2))
    assert conventions_admin.regularisation_warning(uow(), admin(uow), "A1", later) is None


@pytest.fixture
def avenant_on_1_july(uow):
    """F1: Monday 30 June and Thursday 3 July 2025 (one ISO week), no dérogation; F2: Wednesday 2 July; a period-end
    meeting on 4 July. January to June issued, then an avenant from 1 July."""
    data = with_admin(dataset())
    family(data, "F1")
    family(data, "F2")
    session(data, "F1-a", "F1", "A1", "2025-06-30", referent=True)
    session(data, "F1-b", "F1", "A1", "2025-07-03")
    session(data, "F2-a", "F2", "A1", "2025-07-02", referent=True)
    meeting(data, "M-end", "period_end", "2025-07-04", ["A1", "T1"])
    import_dataset(uow(), data)
    issue_until(uow, "2025-06")
    conventions_admin.add_amendment(uow(), admin(uow), "AP", date(2025, 7, 1), AVENANT)
    return uow


def test_an_avenant_on_1_july_prices_june_at_the_old_tariff_and_july_at_the_new_one(avenant_on_1_july):
    uow = avenant_on_1_july
    june = list_issued(uow(), SYSTEM, "AP")[-1]
    assert lines_of(june) == [("home_intervention", "AES", 1, "30.00", "30.00", "2025-06"),
                              ("weekly_preparation", "AES", 1, "15.00", "15.00", "2025-06")]
    july = get_statement(uow(), SYSTEM, "AP", "2025-07")
    assert lines_of(july) == [("home_intervention", "AES", 1, "32.00", "32.00", "2025-07"),
                              ("weekly_preparation", "AES", 1, "15.25", "15.25", "2025-07"),
                              ("period_end_meeting", "AES", 1, "32.00", "32.00", "2025-07"),
                              ("period_end_meeting", "TISF", 1, "58.00", "58.00", "2025-07")]


def test_the_second_session_in_the_week_of_the_avenant_is_still_the_extra_one(avenant_on_1_july):
    uow = avenant_on_1_july
    july = get_statement(uow(), SYSTEM, "AP", "2025-07")
    extra = [(f.kind, f.billed) for f in july.flags if f.session == "F1-b"]
    assert extra == [("extra_session_in_week", False)]
    # A second convention from 1 July would have billed 3 July as its first session of the week: 32,00 + 15,25.
    assert next(f for f in july.families if f.code == "F1").amount == Decimal("0.00")
    assert july.total == Decimal("32.00") + Decimal("15.25") + Decimal("32.00") + Decimal("58.00")  # F2 and the meeting


def test_an_avenant_starting_in_an_issued_month_is_refused(avenant_on_1_july):
    with pytest.raises(conventions_admin.InvalidFields) as refused:
        conventions_admin.add_amendment(avenant_on_1_july(), admin(avenant_on_1_july), "AP", date(2025, 6, 15), AVENANT)
    assert "juin 2025 est émis" in refused.value.problems["start"]
    versions = conventions_admin.get_convention(avenant_on_1_july(), admin(avenant_on_1_july), "AP").tariff_versions
    assert [(v.start, v.amendment, v.locked) for v in versions] == [
        (date(2025, 1, 1), False, True), (date(2025, 7, 1), True, False)]


def test_the_migration_keeps_issued_statements_byte_identical_and_gives_each_intervenant_one_history_row(tmp_path):
    """Statements on a base at the previous head keep their payload, PDF and hashes through the upgrade; check passes
    and the next draft carries no régularisation. (They are issued first, then the base is brought back to the
    previous head with alembic: this revision's code cannot issue on the old schema.)"""
    path = str(tmp_path / "old.sqlite")
    engine = make_engine(path)
    migrate(engine)
    uow = unit_of_work_factory(engine)
    data = dataset()
    family(data, "F1")
    family(data, "F2")
    session(data, "a", "F1", "A1", "2025-01-21", referent=True)
    session(data, "b", "F2", "T1", "2025-01-28", referent=True)
    session(data, "c", "F1", "A1", "2025-02-04")
    meeting(data, "m", "period_end", "2025-02-27", ["A1", "T1"])
    import_dataset(uow(), data)
    issue_until(uow, "2025-02")
    downgrade_to(engine, "0005")  # before 0006, whatever migrations came after it
    before = issued_rows(uow)
    assert migrate(engine) == head_revision()
    after = issued_rows(uow)
    assert after == before and len(after) == 2
    assert verify(engine).ok
    with uow() as u:  # what billing read until now, from the beginning
        rows = u.session.execute(select(Intervenant.key, IntervenantHistory.starts_on, IntervenantHistory.qualification)
                                 .join(Intervenant, Intervenant.id == IntervenantHistory.intervenant_id)
                                 .order_by(Intervenant.key)).all()
    assert [tuple(r) for r in rows] == [("A1", None, "AES"), ("T1", None, "TISF")]
    march = get_statement(uow(), SYSTEM, "AP", "2025-03")
    assert [l for l in march.lines if l.month != "2025-03"] == []
