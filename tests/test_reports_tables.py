"""Every table of the bilan and of the CAF annex, on the small programme of tests/reports_programme.py, against
figures computed by hand (its docstring tells the programme; the comments here, the arithmetic)."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from services.errors import PermissionDenied, ValidationError
from services.permissions import SYSTEM, CurrentUser
from services.reports import ReportPeriod, bilan_report, caf_report
from tests.test_reports_programme import TODAY, load_reports_programme

YEAR = ReportPeriod.calendar_year(2025)
Z = 0


@pytest.fixture
def small(uow):
    load_reports_programme(uow)
    return uow


@pytest.fixture
def bilan(small):
    return {t.key: t for t in bilan_report(small(), SYSTEM, YEAR).tables}


@pytest.fixture
def caf(small):
    return {t.key: t for t in caf_report(small(), SYSTEM, YEAR, today=TODAY).tables}


def values(table):
    return [row[table.label_columns:] for row in table.rows]


def test_the_period_labels_say_which_year():
    assert YEAR.label() == "Année 2025"
    assert ReportPeriod.school_year(2024).label() == "Année scolaire 2024-2025"
    assert ReportPeriod.school_year(2024).start.isoformat() == "2024-09-01"
    assert ReportPeriod(YEAR.start.replace(month=3), YEAR.end.replace(month=6, day=30)).label() == \
        "du 01/03/2025 au 30/06/2025"


def test_followed_entries_exits_and_ongoing(bilan):
    # followed: A1, A2, B1, B2, C1 (E1 ended in 2024, D1 only proposed); families FA, FB, FC;
    # entries: A2, B1, B2, C1 (its second parcours); exits: B1, C1 (first parcours, 31/01); ongoing: A1, A2, B2, C1
    assert values(bilan["overview"]) == [(5,), (3,), (4,), (2,), (4,)]
    assert bilan["overview"].rows[4][0] == "Parcours en cours au 31/12/2025"


def test_situations_not_taken_on(bilan):
    # FE rejected, FD never validated (both at the EPS of 08/04/2025), D1's parcours still proposed
    assert values(bilan["not_taken_on"]) == [(1,), (1,), (1,)]


def test_sex_by_age_band_at_the_first_day_followed(bilan):
    # A1 F 9 on 01/01 ; A2 M 4 on 01/03 ; B1 M 13 on 01/02 ; B2 ? 11 on 10/01 ; C1 F 16 on 01/06 (latest parcours)
    table = bilan["sex_by_age"]
    assert table.headers == ("Tranche d'âge", "Filles", "Garçons", "Non renseigné", "Total")
    assert table.rows == (("2 à 5 ans", 0, 1, 0, 1), ("6 à 10 ans", 1, 0, 0, 1), ("11 à 16 ans", 1, 1, 1, 3),
                          ("17 ans et plus", 0, 0, 0, 0), ("Total", 2, 2, 1, 5))


def test_school_level_by_priority_education(bilan):
    assert bilan["school_level"].rows == (
        ("Maternelle", 0, 0, 1, 0, 1), ("Élémentaire", 0, 1, 0, 0, 1), ("Collège", 1, 0, 0, 0, 1),
        ("Lycée", 0, 0, 0, 1, 1), ("Non scolarisé", 0, 0, 0, 0, 0), ("Non renseigné", 0, 0, 0, 1, 1),
        ("Total", 1, 1, 1, 2, 5))


def test_qpv_by_name(bilan):
    assert bilan["qpv"].rows == (("Les Vennes", 2), ("QPV (nom non renseigné)", 1),
                                 ("Hors quartier prioritaire (QPV)", 2), ("Total", 5))


def test_referral_source_by_reasons(bilan):
    table = bilan["referral_source_by_reason"]
    rows = {row[0]: row[1:] for row in table.rows}
    reasons = table.headers[2:]
    assert reasons[0] == "Scolarité, apprentissages" and reasons[-1] == "Motif non renseigné"

    def row(children, **counts):
        return (children, *(counts.get(r, 0) for r in reasons))
    assert rows["Éducation nationale — enseignant"] == row(1, **{"Scolarité, apprentissages": 1, "Comportement": 1})
    assert rows["PMI"] == row(1, Langage=1)
    assert rows["ASE / services du Département"] == row(1, Santé=1)
    assert rows["La famille elle-même"] == row(1, **{"Motif non renseigné": 1})
    assert rows["Non renseigné"] == row(1, **{"Motif non renseigné": 1})
    assert rows["Total"] == row(5, **{"Scolarité, apprentissages": 1, "Comportement": 1, "Langage": 1, "Santé": 1,
                                      "Motif non renseigné": 2})
    assert sum(rows[label][0] for label in rows if label != "Total") == 5


def test_support_profile(bilan):
    assert bilan["support_profile"].rows == (("Veille", 1), ("Parcours individualisé", 2), ("Parcours renforcé", 1),
                                             ("Autre (préciser)", 0), ("Non renseigné", 1), ("Total", 5))


def test_length_of_parcours(bilan):
    # closed: B1 272 days, C1 752 → mean = median 512.0 days, 512 / 30.4375 = 16.8 months
    # ongoing on 31/12: A1 486, A2 305, B2 355, C1 213 → mean 339.75 → 339.8, median (305 + 355) / 2 = 330.0;
    # 339.8 / 30.4375 = 11.16 → 11.2 months, 330 / 30.4375 = 10.84 → 10.8
    assert values(bilan["duration_summary"]) == [(2, D("512.0"), D("512.0"), D("16.8"), D("16.8")),
                                                 (4, D("339.8"), D("330.0"), D("11.2"), D("10.8"))]
    assert bilan["duration_bands"].rows == (("Moins de 6 mois", 0, 0, 0), ("6 mois à moins d'un an", 1, 3, 4),
                                            ("1 an à moins de 2 ans", 0, 1, 1), ("2 ans et plus", 1, 0, 1),
                                            ("Total", 2, 4, 6))


def test_actions_by_domain_and_partner(bilan):
    # AP: FA, FB (FB's ended on 31/10, still in force during 2025) → children A1, A2, B1, B2; AS: FC → C1
    assert bilan["actions_by_partner"].rows == (
        ("Accompagnement scolaire", "Les PEP de l'Ain", 1, 1), ("Atout Plus", "Adom 01", 2, 4),
        ("Ensemble des actions", "(familles distinctes)", 3, 5))


def test_exits_by_reason(bilan):
    rows = dict(bilan["exits_by_reason"].rows)
    assert rows == {"Objectifs atteints": 1, "Relais vers le droit commun": 0, "Déménagement": 1,
                    "Refus ou abandon de la famille": 0, "Limite d'âge atteinte": 0, "Autre (préciser)": 0,
                    "Non renseigné": 0, "Total": 2}


def test_eps_meetings_situations_and_delays(bilan):
    # 2025: EPS-1 (FA, FB) and EPS-2 (FC, FD, FE); EPS-0 of 2024 left out.
    # Saisine → first EPS on or after it: FB 10/01 → 14/01 = 4 ; FC 10/01/2023 → 08/04/2025 = 819 ;
    # FE 01/09/2023 → 08/04/2025 = 585 ; FA's was in 2024, FD has no start → (4 + 819 + 585) / 3 = 469.3.
    # EPS → decision, decided in 2025: FA 6, FB 6, FC 63, FE 7 → 20.5
    assert values(bilan["eps"]) == [(2,), (5,), (5,), (D("469.3"),), (D("20.5"),)]
    assert not bilan["eps"].counts_children


def test_children_per_referent(bilan):
    assert bilan["children_by_referent"].rows == (("Claire Martin", 3), ("Sophie Durand", 1), ("Non renseigné", 1),
                                                  ("Total", 5))


def test_caf_families_and_children_supported(caf):
    assert caf["caf_supported"].rows == (("Atout Plus — Adom 01 (AP)", 2, 2, 4),
                                         ("Accompagnement scolaire — Les PEP de l'Ain (AS)", 1, 1, 1),
                                         ("Ensemble (familles distinctes)", 3, 3, 5))


def test_caf_sessions_and_hours_by_qualification(caf):
    # delivered: S1 60, S3 60, S4 60 (not billed: second in its week), S6 45 (AS) → AES 4 sessions 3,75 h;
    # S2 90, S8 120 → TISF 2 sessions 3,50 h. S5 cancelled, S7 under no orientation: not counted.
    assert caf["caf_by_qualification"].rows == (("AES", 4, D("3.75")), ("TISF", 2, D("3.50")),
                                                ("Total", 6, D("7.25")))


def test_caf_hours_by_month(caf):
    table = caf["caf_hours_by_month"]
    assert table.chart == "line" and table.headers == ("Mois", "Heures AES", "Heures TISF", "Total")
    by_month = {row[0]: row[1:] for row in table.rows}
    zero = (D("0.00"),) * 3
    assert by_month["février 2025"] == (D("1.00"), D("0.00"), D("1.00"))
    assert by_month["mars 2025"] == (D("2.00"), D("1.50"), D("3.50"))
    assert by_month["juin 2025"] == (D("0.75"), D("0.00"), D("0.75"))
    assert by_month["décembre 2025"] == (D("0.00"), D("2.00"), D("2.00"))
    assert by_month["Total"] == (D("3.75"), D("3.50"), D("7.25"))
    assert [by_month[m] for m in ("janvier 2025", "avril 2025", "novembre 2025")] == [zero] * 3


def test_caf_amounts_per_convention_against_the_cap(caf):
    # AP: January = launch meeting AES 30,00 + TISF 56,13 = 86,13 (issued); February S1 30,00 + preparation 15,00
    # = 45,00 (issued); March S2 56,13 + 20,07 and S3 30,00 + 15,00 = 121,20; December S8 76,20 (drafts: 197,40).
    # AS: June S6 20,00 + 10,00 = 30,00 (draft). Shares: 328,53 / 25 000 = 1,3 % ; 30 / 1 000 = 3,0 %.
    assert caf["caf_billing"].rows == (
        ("Atout Plus — Adom 01 (AP)", 2, 10, D("131.13"), D("197.40"), D("328.53"), D("25000.00"), D("1.3")),
        ("Accompagnement scolaire — Les PEP de l'Ain (AS)", 0, 12, D("0.00"), D("30.00"), D("30.00"),
         D("1000.00"), D("3.0")))
    assert all(isinstance(v, (int, D)) for row in values(caf["caf_billing"]) for v in row)


def test_caf_monthly_spending_against_the_summed_caps(caf):
    table = caf["caf_spending_by_month"]
    month = {row[0]: row[1:] for row in table.rows}
    assert table.chart == "line" and len(table.rows) == 12
    assert month["janvier 2025"] == (D("86.13"), D("86.13"), D("26000.00"))
    assert month["mars 2025"] == (D("121.20"), D("252.33"), D("26000.00"))
    assert month["juin 2025"] == (D("30.00"), D("282.33"), D("26000.00"))
    assert month["décembre 2025"] == (D("76.20"), D("358.53"), D("26000.00"))


def test_months_after_today_are_not_billed(small):
    tables = {t.key: t for t in caf_report(small(), SYSTEM, YEAR, today=TODAY.replace(month=6, day=30)).tables}
    # AP up to June: 86,13 + 45,00 (issued) + 121,20 ; AS June 30,00
    assert [row[1:6] for row in tables["caf_billing"].rows] == [(2, 4, D("131.13"), D("121.20"), D("252.33")),
                                                                (0, 6, D("0.00"), D("30.00"), D("30.00"))]


def test_a_period_that_ends_before_it_starts_is_refused_in_french(small):
    backwards = ReportPeriod(YEAR.end, YEAR.start)
    for build in (bilan_report, caf_report):
        with pytest.raises(ValidationError, match="La période est à l'envers : elle commence le 31/12/2025"):
            build(small(), SYSTEM, backwards)


def test_a_referent_may_not_produce_the_bilans(small):
    referent = CurrentUser(id="x", key="ref", name="Claire Martin", role="referent")
    for build in (bilan_report, caf_report):
        with pytest.raises(PermissionDenied, match="produire les bilans"):
            build(small(), referent, YEAR)
