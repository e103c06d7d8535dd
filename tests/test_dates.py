"""services.dates.parse_french_date: every way a date is typed in a French form, and a precise French reason for
every date it refuses."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.dates import parse_french_date
from services.errors import ValidationError

NOV_7 = date(2025, 11, 7)
INCOMPLETE = "Date incomplète : écrivez-la jj/mm/aaaa (par exemple 07/11/2025)."


@pytest.mark.parametrize("text", ["7/11/2025", "07/11/2025", "07112025", "071125", "7/11/25", "07-11-2025",
                                  "07.11.2025", "2025-11-07", "7 novembre 2025", " 07/11/2025 ", "7 Novembre 2025",
                                  "7 nov. 2025"])
def test_every_usual_spelling_reads_the_seventh_of_november(text):
    assert parse_french_date(text) == NOV_7


def test_the_first_of_the_month_and_accents_left_out():
    assert parse_french_date("1er février 2024") == date(2024, 2, 1)
    assert parse_french_date("1 fevrier 2024") == date(2024, 2, 1)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_a_date_written_dd_mm_yyyy_or_ddmmyyyy_reads_back(day):
    assert parse_french_date(day.strftime("%d/%m/%Y")) == day
    assert parse_french_date(day.strftime("%d%m%Y")) == day


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_a_date_written_d_m_yy_reads_back_in_the_two_thousands(day):
    assert parse_french_date(f"{day.day}/{day.month}/{day:%y}") == day


def _refusal(text) -> str:
    with pytest.raises(ValidationError) as refused:
        parse_french_date(text)
    return refused.value.message


def test_a_day_past_the_end_of_its_month_says_how_long_the_month_is():
    assert _refusal("31/02/2025") == "Le 31 février 2025 n'existe pas (février 2025 a 28 jours)."
    assert _refusal("29/02/2025") == "Le 29 février 2025 n'existe pas (février 2025 a 28 jours)."
    assert _refusal("31/04/2026") == "Le 31 avril 2026 n'existe pas (avril 2026 a 30 jours)."
    assert parse_french_date("29/02/2024") == date(2024, 2, 29)


def test_a_month_or_a_day_that_no_calendar_has():
    assert _refusal("07/13/2025") == "Le mois 13 n'existe pas."
    assert _refusal("07/00/2025") == "Le mois 0 n'existe pas."
    assert _refusal("32/01/2025") == "Le jour 32 n'existe pas."


@pytest.mark.parametrize("text", ["07/11", "7/11/", "07/11/202", "0711", "07112", "7 novembre"])
def test_a_date_cut_short_is_called_incomplete(text):
    assert _refusal(text) == INCOMPLETE


@pytest.mark.parametrize("text", ["", "   ", None])
def test_nothing_typed_asks_for_the_date(text):
    assert _refusal(text) == "Indiquez la date."


def test_what_is_no_date_at_all_is_unreadable_and_a_typo_year_implausible():
    assert _refusal("mardi") == "Date illisible : écrivez-la jj/mm/aaaa (par exemple 07/11/2025)."
    assert _refusal("07/11/0205").startswith("L'année 0205 n'est pas plausible")


@given(st.text(max_size=20))
def test_any_text_is_read_or_refused_in_french(text):
    try:
        parse_french_date(text)
    except ValidationError as exc:
        assert exc.message
