"""On the demo programme (services.demo, the year 2025): every count of both reports equals a direct SQL query,
written here without the reports' code, and every amount equals the statements' own (services.billing)."""
from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Date, bindparam, text

from models.enums import (EXIT_REASON_LABELS, PRIORITY_EDUCATION_LABELS, REFERRAL_SOURCE_LABELS,
                          SCHOOL_LEVEL_LABELS, SUPPORT_PROFILE_LABELS)
from services.billing import get_statement
from services.demo import load_demo
from services.permissions import SYSTEM
from services.reports import ReportPeriod, bilan_report
from services.reports.caf import caf_report

TODAY = date(2025, 12, 15)
YEAR = ReportPeriod.calendar_year(2025)
NR = "Non renseigné"
FOLLOWED = ("p.status IN ('open', 'suspended', 'closed') AND p.start_date IS NOT NULL AND p.start_date <= :e "
            "AND (p.end_date IS NULL OR p.end_date >= :s)")
# The latest parcours of each followed child (the one the bilan describes the child by).
LATEST = (f"{FOLLOWED} AND p.start_date = (SELECT MAX(q.start_date) FROM parcours q WHERE q.child_id = p.child_id "
          f"AND q.status IN ('open', 'suspended', 'closed') AND q.start_date IS NOT NULL AND q.start_date <= :e "
          f"AND (q.end_date IS NULL OR q.end_date >= :s))")
IN_FORCE = ("o.status IN ('validated', 'ended') AND o.decided_on <= :e AND (o.end_date IS NULL OR o.end_date >= :s)")


@pytest.fixture
def demo(uow):
    load_demo(uow(), SYSTEM, today=TODAY)
    return uow


def query(uow, sql: str, **extra):
    statement = text(sql).bindparams(*(bindparam(name, type_=Date) for name in ("s", "e") if f":{name}" in sql))
    with uow() as work:
        return work.session.execute(statement, {"s": YEAR.start, "e": YEAR.end, **extra}).all()


def one(uow, sql: str) -> int:
    return query(uow, sql)[0][0]


def column(table, header: str) -> dict:
    index = table.headers.index(header)
    return {row[0]: row[index] for row in table.rows}


def labelled(rows, labels: dict) -> Counter:
    return Counter({labels.get(code, NR) if code else NR: n for code, n in rows})


def nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v and k != "Total"}


def test_every_count_of_the_bilan_equals_a_direct_query(demo):
    tables = {t.key: t for t in bilan_report(demo(), SYSTEM, YEAR).tables}
    children = one(demo, f"SELECT COUNT(DISTINCT p.child_id) FROM parcours p WHERE {FOLLOWED}")
    assert children > 20  # the demo follows dozens of children in 2025
    overview = [row[1] for row in tables["overview"].rows]
    assert overview == [
        children,
        one(demo, f"SELECT COUNT(DISTINCT c.family_id) FROM parcours p JOIN child c ON c.id = p.child_id "
                  f"WHERE {FOLLOWED}"),
        one(demo, f"SELECT COUNT(DISTINCT p.child_id) FROM parcours p WHERE {FOLLOWED} AND p.start_date >= :s"),
        one(demo, "SELECT COUNT(DISTINCT p.child_id) FROM parcours p WHERE p.status = 'closed' "
                  "AND p.start_date IS NOT NULL AND p.end_date BETWEEN :s AND :e"),
        one(demo, f"SELECT COUNT(DISTINCT p.child_id) FROM parcours p WHERE {FOLLOWED} "
                  f"AND (p.end_date IS NULL OR p.end_date > :e)"),
    ]
    assert [row[1] for row in tables["not_taken_on"].rows] == [
        one(demo, "SELECT COUNT(DISTINCT family_id) FROM orientation WHERE status = 'rejected' "
                  "AND eps_date BETWEEN :s AND :e"),
        one(demo, "SELECT COUNT(DISTINCT family_id) FROM orientation WHERE status = 'proposed' "
                  "AND eps_date BETWEEN :s AND :e"),
        one(demo, "SELECT COUNT(DISTINCT child_id) FROM parcours WHERE status = 'proposed'"),
    ]

    per_child = f"FROM parcours p JOIN child c ON c.id = p.child_id JOIN family f ON f.id = c.family_id WHERE {LATEST}"
    sexes = labelled(query(demo, f"SELECT c.sex, COUNT(*) {per_child} GROUP BY c.sex"),
                     {"F": "Filles", "M": "Garçons"})
    total_row = dict(zip(tables["sex_by_age"].headers[1:], tables["sex_by_age"].rows[-1][1:]))
    assert nonzero(total_row) == nonzero(sexes) and total_row["Total"] == children
    assert nonzero(column(tables["school_level"], "Total")) == nonzero(labelled(
        query(demo, f"SELECT c.school_level, COUNT(*) {per_child} GROUP BY c.school_level"), SCHOOL_LEVEL_LABELS))
    school_total = dict(zip(tables["school_level"].headers[1:], tables["school_level"].rows[-1][1:]))
    assert nonzero(school_total) == nonzero(labelled(
        query(demo, f"SELECT c.priority_education, COUNT(*) {per_child} GROUP BY c.priority_education"),
        PRIORITY_EDUCATION_LABELS))
    qpv = Counter()
    for name, flag, n in query(demo, f"SELECT f.qpv_name, f.priority_neighbourhood, COUNT(*) {per_child} "
                                     f"GROUP BY f.qpv_name, f.priority_neighbourhood"):
        qpv[name or ("QPV (nom non renseigné)" if flag else "Hors quartier prioritaire (QPV)")] += n
    assert nonzero(dict(tables["qpv"].rows)) == nonzero(qpv)
    assert nonzero(column(tables["referral_source_by_reason"], "Enfants")) == nonzero(labelled(
        query(demo, f"SELECT p.referral_source, COUNT(*) {per_child} GROUP BY p.referral_source"),
        REFERRAL_SOURCE_LABELS))
    reasons = dict(query(demo, f"SELECT r.reason, COUNT(*) FROM parcours_reason r JOIN parcours p "
                               f"ON p.id = r.parcours_id WHERE {LATEST} GROUP BY r.reason"))
    reason_total = dict(zip(tables["referral_source_by_reason"].headers[2:],
                            tables["referral_source_by_reason"].rows[-1][2:]))
    without = one(demo, f"SELECT COUNT(*) FROM parcours p WHERE {LATEST} AND NOT EXISTS "
                        f"(SELECT 1 FROM parcours_reason r WHERE r.parcours_id = p.id)")
    from models.enums import REFERRAL_REASON_LABELS
    assert nonzero(reason_total) == nonzero({**{REFERRAL_REASON_LABELS[k]: v for k, v in reasons.items()},
                                             "Motif non renseigné": without})
    assert nonzero(dict(tables["support_profile"].rows)) == nonzero(labelled(
        query(demo, f"SELECT p.support_profile, COUNT(*) {per_child} GROUP BY p.support_profile"),
        SUPPORT_PROFILE_LABELS))
    closed = "FROM parcours p WHERE p.status = 'closed' AND p.start_date IS NOT NULL AND p.end_date BETWEEN :s AND :e"
    assert nonzero(dict(tables["exits_by_reason"].rows)) == nonzero(labelled(
        query(demo, f"SELECT p.exit_reason_code, COUNT(*) {closed} GROUP BY p.exit_reason_code"), EXIT_REASON_LABELS))
    ongoing = one(demo, f"SELECT COUNT(*) FROM parcours p WHERE {FOLLOWED} AND (p.end_date IS NULL OR p.end_date > :e)")
    assert [row[1] for row in tables["duration_summary"].rows] == [one(demo, f"SELECT COUNT(*) {closed}"), ongoing]
    assert tables["duration_bands"].rows[-1][1:] == (one(demo, f"SELECT COUNT(*) {closed}"), ongoing,
                                                      one(demo, f"SELECT COUNT(*) {closed}") + ongoing)

    actions = {(a, p): n for a, p, n in query(demo, (
        f"SELECT a.name, pa.name, COUNT(DISTINCT o.family_id) FROM orientation o "
        f"JOIN convention c ON c.id = o.convention_id JOIN action a ON a.id = c.action_id "
        f"JOIN partner pa ON pa.id = c.partner_id WHERE {IN_FORCE} GROUP BY a.name, pa.name"))}
    assert {(r[0], r[1]): r[2] for r in tables["actions_by_partner"].rows[:-1]} == actions
    assert tables["actions_by_partner"].rows[-1][2] == one(
        demo, f"SELECT COUNT(DISTINCT o.family_id) FROM orientation o WHERE {IN_FORCE}")

    eps = [row[1] for row in tables["eps"].rows[:3]]
    assert eps == [
        one(demo, "SELECT COUNT(*) FROM eps_meeting WHERE date BETWEEN :s AND :e"),
        one(demo, "SELECT COUNT(*) FROM eps_situation s JOIN eps_meeting m ON m.id = s.eps_meeting_id "
                  "WHERE m.date BETWEEN :s AND :e"),
        one(demo, "SELECT COUNT(DISTINCT s.family_id) FROM eps_situation s JOIN eps_meeting m "
                  "ON m.id = s.eps_meeting_id WHERE m.date BETWEEN :s AND :e"),
    ]
    referents = Counter({name or NR: n for name, n in query(
        demo, f"SELECT u.name, COUNT(*) FROM parcours p LEFT JOIN app_user u ON u.id = p.referent_id "
              f"WHERE {LATEST} GROUP BY u.name")})
    assert nonzero(dict(tables["children_by_referent"].rows)) == nonzero(referents)


# A held session of the year under a convention: its family oriented to the convention on the day (validated
# orientation in force), the day within the convention, the intervenant employed by its partner.
UNDER = ("FROM home_session s JOIN intervenant i ON i.id = s.intervenant_id WHERE s.status = 'held' "
         "AND s.date BETWEEN :s AND :e AND EXISTS (SELECT 1 FROM orientation o JOIN convention c "
         "ON c.id = o.convention_id WHERE o.family_id = s.family_id AND c.partner_id = i.partner_id "
         "AND o.status IN ('validated', 'ended') AND o.decided_on <= s.date "
         "AND (o.end_date IS NULL OR o.end_date >= s.date) AND c.start_date <= s.date "
         "AND (c.end_date IS NULL OR c.end_date >= s.date))")


def test_every_count_and_amount_of_the_caf_annex_equals_a_direct_query(demo):
    # The demo's intervenants keep one qualification all year: the current one is the one of every session.
    assert one(demo, "SELECT COUNT(*) FROM intervenant_history WHERE starts_on IS NOT NULL") == 0
    tables = {t.key: t for t in caf_report(demo(), SYSTEM, YEAR, today=TODAY).tables}
    expected = {q: (n, (Decimal(m) / 60).quantize(Decimal("0.01")))
                for q, n, m in query(demo, f"SELECT i.qualification, COUNT(*), SUM(s.duration_minutes) {UNDER} "
                                           f"GROUP BY i.qualification")}
    assert {row[0]: row[1:] for row in tables["caf_by_qualification"].rows[:-1]} == expected
    assert sum(n for n, _ in expected.values()) > 300

    months = query(demo, f"SELECT s.date, i.qualification, s.duration_minutes {UNDER}")
    by_month = Counter()
    for day, qualification, minutes in months:
        by_month[(date.fromisoformat(str(day)[:10]).month, qualification)] += minutes
    table = tables["caf_hours_by_month"]
    for index, row in enumerate(table.rows[:-1]):
        for q_index, header in enumerate(table.headers[1:-1], start=1):
            assert row[q_index] == (Decimal(by_month[(index + 1, header.removeprefix("Heures "))]) / 60).quantize(
                Decimal("0.01"))

    keys = [k for (k,) in query(demo, "SELECT key FROM convention ORDER BY start_date, key")]
    supported = tables["caf_supported"].rows
    for key, row in zip(keys, supported):
        families = one(demo, f"SELECT COUNT(DISTINCT o.family_id) FROM orientation o JOIN convention c "
                             f"ON c.id = o.convention_id WHERE c.key = '{key}' AND {IN_FORCE}")
        assert row[0].endswith(f"({key})") and row[1] == families
    for key, row in zip(keys, tables["caf_billing"].rows):
        totals = [get_statement(demo(), SYSTEM, key, f"2025-{m:02d}").total for m in range(1, 13)]
        assert row[0].endswith(f"({key})")
        assert row[5] == sum(totals, Decimal("0.00")) and row[3] == Decimal("0.00")  # nothing issued in the demo
    spending = tables["caf_spending_by_month"].rows
    assert spending[-1][2] == sum((row[5] for row in tables["caf_billing"].rows), Decimal("0.00"))
