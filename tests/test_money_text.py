"""Amounts typed as text: what each refusal says, and the same Decimal whatever the French or dotted spelling."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.conventions_admin import ConventionInput, zero_amounts
from services.errors import ValidationError
from services.money_text import parse_amount_text


@pytest.mark.parametrize("text", ["30,00", "30.00", "30", "30,0", " 30,00 € ", "+30", "0030,00"])
def test_every_spelling_of_thirty_euros_is_the_same_amount(text):
    assert parse_amount_text(text) == Decimal("30.00")


@pytest.mark.parametrize("text, words", [
    ("-5", "ne peut pas être négatif"),
    ("56,134", "plus de deux décimales"),
    ("1234567890,00", "trop grand (au plus 999 999 999,99 €)"),
    ("trente", "Montant illisible « trente »"),
    ("5,", "Montant illisible"),
])
def test_each_refusal_says_what_is_wrong(text, words):
    with pytest.raises(ValidationError) as err:
        parse_amount_text(text, "budget_cap")
    assert words in err.value.message and err.value.field == "budget_cap"


@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_cents_written_with_a_comma_or_a_dot_read_back_exactly(cents):
    euros, rest = divmod(cents, 100)
    assert parse_amount_text(f"{euros},{rest:02d}") == parse_amount_text(f"{euros}.{rest:02d}") == Decimal(cents) / 100


def test_amounts_of_zero_are_named_for_a_confirmation():
    data = ConventionInput(key="AP", partner="adom", action="Atout Plus", start=None, end=None, budget_cap="0,00",
                           tariffs={("AES", "home_intervention"): "0", ("TISF", "home_intervention"): "56,13"})
    assert zero_amounts(data) == ("le plafond budgétaire", "le tarif « Intervention à domicile » AES")
    assert zero_amounts(ConventionInput(key="AP", partner="adom", action="x", start=None, end=None)) == ()
