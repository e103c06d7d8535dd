"""Common passwords are refused (issue 15): at least 12 characters AND zxcvbn (offline) rates it at least 3 out of 4,
with the account's identifier and name as known words; the refusal is a French sentence on the field « password »,
wherever a password is set (first administrator, new account, change of password)."""
import pytest

from services.errors import ValidationError
from services.permissions import SYSTEM
from services.users import add_user, change_password, check_password_policy, create_first_administrator

STRONG = "cheval-agrafe-pile"
WEAK = ["aaaaaaaaaaaa", "password1234", " " * 12, "azertyuiop12", "123456789012", "motdepasse12", "qwertyuiop123"]


@pytest.mark.parametrize("password", WEAK)
def test_a_common_or_repetitive_password_is_refused_in_french(password):
    with pytest.raises(ValidationError, match="trop facile à deviner") as refused:
        check_password_policy(password, "bob", "Bob Martin")
    assert refused.value.field == "password"
    assert "Choisissez" in refused.value.message
    assert not any(word in refused.value.message for word in ("easy", "guess", "password", "common"))


@pytest.mark.parametrize("password, reason", [
    ("aaaaaaaaaaaa", "un caractère répété"), ("password1234", "très courant"), ("azertyuiop12", "très courant")])
def test_the_refusal_says_why_in_french(password, reason):
    with pytest.raises(ValidationError, match=reason):
        check_password_policy(password)


@pytest.mark.parametrize("password", ["b.nouveau12345", "B.Nouveau-2025", "Bruno Nouveau", "bruno.nouveau", "brunonouveau!"])
def test_the_users_own_identifier_or_name_is_refused(password):
    with pytest.raises(ValidationError) as refused:
        check_password_policy(password, "b.nouveau", "Bruno Nouveau")
    assert refused.value.field == "password"


@pytest.mark.parametrize("strong, weak", [(STRONG, "azertyazerty"), ("soleil-de-mars-2025", "soleil123456"),
                                          ("un autre mot de passe", "motdepasse123"),
                                          ("Tr0mbone!Velo#Gare", "Password2025!"),
                                          ("-ß7q-Lampe-Orage-" * 10, "a" * 100)])
def test_a_strong_password_is_accepted_and_a_guessable_one_of_the_same_length_range_is_not(strong, weak):
    check_password_policy(strong, "b.nouveau", "Bruno Nouveau")
    with pytest.raises(ValidationError, match="trop facile"):
        check_password_policy(weak, "b.nouveau", "Bruno Nouveau")


def test_every_place_that_sets_a_password_refuses_a_weak_one(uow):
    with pytest.raises(ValidationError, match="trop facile"):
        create_first_administrator(uow(), "admin", "password1234")
    create_first_administrator(uow(), "admin", STRONG, name="Agnès Admin")
    with pytest.raises(ValidationError, match="trop facile"):
        add_user(uow(), SYSTEM, "bob", "referent", "azertyuiop12", name="Bob Martin")
    with pytest.raises(ValidationError) as refused:
        add_user(uow(), SYSTEM, "bob", "referent", "Bob Martin", name="Bob Martin")  # 10 characters: too short
    assert refused.value.field == "password"
    with pytest.raises(ValidationError, match="trop facile|ne peut pas être"):
        add_user(uow(), SYSTEM, "agnes.fabre", "referent", "Agnès Fabre 1", name="Agnès Fabre")
    with pytest.raises(ValidationError, match="trop facile|ne peut pas être"):
        change_password(uow(), SYSTEM, "admin", "Agnes-Admin!")  # her own name, barely dressed up
    with pytest.raises(ValidationError, match="trop facile"):
        change_password(uow(), SYSTEM, "admin", "aaaaaaaaaaaa")
    change_password(uow(), SYSTEM, "admin", "soleil-de-mars-2025")
