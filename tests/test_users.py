"""Accounts: password policy, argon2id parameters and rehashing, the growing delay after failed logins,
disabled accounts, and the `user` command line."""
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

import main
from models import User
from services import audit
from services.directory import CurrentUser
from services.errors import NotFound, ValidationError
from services.permissions import SYSTEM
from services.users import (FIRST_DELAY, MAX_DELAY, AuthenticationFailed, TooManyAttempts, add_user,
                            authenticate, change_password, delay_after, disable_user)

PASSWORD = "cheval-agrafe-pile"
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **kwargs):
        self.now += timedelta(**kwargs)


@pytest.fixture
def alice(uow):
    add_user(uow(), SYSTEM, "alice", "referent", PASSWORD, name="Alice Referente")
    return "alice"


def stored_hash(uow, key):
    with uow() as u:
        return u.session.scalars(select(User.password_hash).where(User.key == key)).one()


def argon2_parameters(encoded):
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", encoded)
    assert match, encoded
    return dict(zip("mtp", map(int, match.groups())))


# -- password policy --------------------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["", "court", "onze-chars!"])
def test_password_shorter_than_12_characters_is_refused_in_french(uow, password):
    with pytest.raises(ValidationError, match="au moins 12 caractères") as refused:
        add_user(uow(), SYSTEM, "bob", "referent", password)
    assert refused.value.field == "password"
    with uow() as u:
        assert u.session.scalars(select(User)).all() == []


def test_password_of_exactly_12_characters_is_accepted(uow):
    add_user(uow(), SYSTEM, "bob", "referent", "douze-caract")
    assert authenticate(uow(), "bob", "douze-caract").key == "bob"


def test_password_equal_to_the_login_is_refused(uow):
    with pytest.raises(ValidationError, match="identifiant"):
        add_user(uow(), SYSTEM, "benedicte.martin", "referent", "Benedicte.Martin")


def test_new_password_shorter_than_12_characters_is_refused_and_the_old_one_still_works(uow, alice):
    with pytest.raises(ValidationError, match="au moins 12 caractères"):
        change_password(uow(), SYSTEM, alice, "trop-court")
    assert authenticate(uow(), alice, PASSWORD).key == alice


def test_unknown_role_and_duplicate_login_are_refused(uow, alice):
    with pytest.raises(ValidationError, match="Rôle inconnu"):
        add_user(uow(), SYSTEM, "carole", "chef", PASSWORD)
    with pytest.raises(ValidationError, match="existe déjà"):
        add_user(uow(), SYSTEM, "ALICE", "referent", PASSWORD)


# -- hashing ----------------------------------------------------------------------------------------------

def test_password_is_stored_as_argon2id_with_at_least_19_mib_and_2_passes(uow, alice):
    encoded = stored_hash(uow, alice)
    assert PASSWORD not in encoded
    params = argon2_parameters(encoded)
    assert params["m"] >= 19456 and params["t"] >= 2 and params["p"] >= 1


def test_two_accounts_with_the_same_password_get_different_hashes(uow, alice):
    add_user(uow(), SYSTEM, "bob", "referent", PASSWORD)
    assert stored_hash(uow, "bob") != stored_hash(uow, alice)


def test_hash_with_outdated_parameters_is_replaced_at_the_next_login(uow, alice):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with uow() as u:
        u.session.scalars(select(User).where(User.key == alice)).one().password_hash = weak
        u.commit()
    authenticate(uow(), alice, PASSWORD)
    renewed = stored_hash(uow, alice)
    assert renewed != weak
    assert argon2_parameters(renewed)["m"] >= 19456 and argon2_parameters(renewed)["t"] >= 2
    assert authenticate(uow(), alice, PASSWORD).key == alice
    assert "password_hash" in audit.list_entries(uow(), SYSTEM, action="login")[1].changed_fields


def test_hash_with_current_parameters_is_kept_at_login(uow, alice):
    before = stored_hash(uow, alice)
    authenticate(uow(), alice, PASSWORD)
    assert stored_hash(uow, alice) == before


# -- logging in -------------------------------------------------------------------------------------------

def test_right_password_gives_a_frozen_current_user(uow, alice):
    user = authenticate(uow(), alice, PASSWORD)
    assert isinstance(user, CurrentUser)  # the type the window hands to every page and service
    assert (user.key, user.name, user.role) == ("alice", "Alice Referente", "referent")
    with pytest.raises(AttributeError):
        user.role = "administrator"


def test_wrong_password_and_unknown_login_get_the_same_answer(uow, alice):
    with pytest.raises(AuthenticationFailed) as wrong_password:
        authenticate(uow(), alice, "pas-le-bon-mot-de-passe")
    with pytest.raises(AuthenticationFailed) as unknown_login:
        authenticate(uow(), "personne", PASSWORD)
    assert wrong_password.value.message == unknown_login.value.message == "Identifiant ou mot de passe incorrect."


def test_account_without_password_cannot_log_in(uow):
    with uow() as u:
        u.session.add(User(key="importe", name="Compte importé", role="referent"))
        u.commit()
    with pytest.raises(AuthenticationFailed, match="incorrect"):
        authenticate(uow(), "importe", "")


def test_disabled_account_cannot_log_in_even_with_the_right_password(uow, alice):
    disable_user(uow(), SYSTEM, alice)
    with pytest.raises(AuthenticationFailed, match="désactivé"):
        authenticate(uow(), alice, PASSWORD)


def test_last_active_administrator_cannot_be_disabled_but_one_of_two_can(uow):
    add_user(uow(), SYSTEM, "admin1", "administrator", PASSWORD)
    with pytest.raises(ValidationError, match="dernier administrateur"):
        disable_user(uow(), SYSTEM, "admin1")
    add_user(uow(), SYSTEM, "admin2", "administrator", PASSWORD + "2")
    assert disable_user(uow(), SYSTEM, "admin1").active is False


def test_disabling_or_changing_the_password_of_an_unknown_login_is_refused(uow):
    with pytest.raises(NotFound):
        disable_user(uow(), SYSTEM, "personne")
    with pytest.raises(NotFound):
        change_password(uow(), SYSTEM, "personne", PASSWORD)


# -- growing delay ----------------------------------------------------------------------------------------

def fail(uow, key, clock):
    with pytest.raises(AuthenticationFailed) as refused:
        authenticate(uow(), key, "pas-le-bon-mot-de-passe", clock=clock)
    return refused.value


def test_four_failures_impose_no_delay(uow, alice):
    clock = Clock()
    for _ in range(4):
        assert not isinstance(fail(uow, alice, clock), TooManyAttempts)
    assert authenticate(uow(), alice, PASSWORD, clock=clock).key == alice


def test_delay_after_five_failures_is_30_seconds_then_doubles_with_each_failure(uow, alice):
    clock = Clock()
    for _ in range(4):
        fail(uow, alice, clock)
    for expected in (30, 60, 120, 240):
        refused = fail(uow, alice, clock)
        assert isinstance(refused, TooManyAttempts)
        assert refused.retry_after == timedelta(seconds=expected)
        assert "Trop d'essais : réessayez dans" in refused.message
        clock.advance(seconds=expected)


def test_during_the_delay_even_the_right_password_is_refused_and_not_counted(uow, alice):
    clock = Clock()
    for _ in range(5):
        fail(uow, alice, clock)
    clock.advance(seconds=10)
    with pytest.raises(TooManyAttempts, match="Trop d'essais : réessayez dans 20 secondes"):
        authenticate(uow(), alice, PASSWORD, clock=clock)
    fail(uow, alice, clock)  # still during the delay: not even checked
    clock.advance(seconds=20)
    assert authenticate(uow(), alice, PASSWORD, clock=clock).key == alice
    with uow() as u:
        user = u.session.scalars(select(User).where(User.key == alice)).one()
        assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_success_resets_the_count_of_failures(uow, alice):
    clock = Clock()
    for _ in range(4):
        fail(uow, alice, clock)
    authenticate(uow(), alice, PASSWORD, clock=clock)
    for _ in range(4):
        assert not isinstance(fail(uow, alice, clock), TooManyAttempts)


def test_a_new_password_lifts_the_delay(uow, alice):
    clock = Clock()
    for _ in range(7):
        clock.advance(hours=1)
        fail(uow, alice, clock)
    change_password(uow(), SYSTEM, alice, "nouveau-mot-de-passe")
    assert authenticate(uow(), alice, "nouveau-mot-de-passe", clock=clock).key == alice


@given(st.integers(min_value=0, max_value=10_000))
def test_delay_grows_with_failures_from_the_fifth_and_never_exceeds_one_hour(failures):
    delay = delay_after(failures)
    if failures < 5:
        assert delay == timedelta(0)
    else:
        assert delay == min(FIRST_DELAY * 2 ** min(failures - 5, 20), MAX_DELAY)
        assert delay_after(failures + 1) >= delay
    assert delay <= timedelta(hours=1)


# -- command line ---------------------------------------------------------------------------------------

@pytest.fixture
def cli(db_path, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def run(*argv, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main.main(["--db", db_path, *argv])
    return run


def test_cli_user_add_passwd_and_disable(cli, capsys, engine, uow):
    assert cli("user", "add", "coord", "--role", "coordinator", "--password-stdin", stdin=PASSWORD + "\n") == 0
    assert cli("user", "add", "admin", "--role", "administrator", "--password-stdin", stdin=PASSWORD + "\n") == 0
    assert authenticate(uow(), "coord", PASSWORD).role == "coordinator"
    assert cli("user", "passwd", "coord", "--password-stdin", stdin="un autre mot de passe\n") == 0
    assert authenticate(uow(), "coord", "un autre mot de passe").key == "coord"
    assert cli("user", "disable", "coord") == 0
    with pytest.raises(AuthenticationFailed, match="désactivé"):
        authenticate(uow(), "coord", "un autre mot de passe")
    out = capsys.readouterr().out
    assert "Compte « coord » créé" in out and "désactivé" in out


@pytest.mark.parametrize("argv, stdin, message", [
    (("user", "add", "bob", "--role", "referent", "--password-stdin"), "court\n", "au moins 12 caractères"),
    (("user", "add", "bob", "--role", "chef", "--password-stdin"), PASSWORD + "\n", "Rôle inconnu"),
    (("user", "passwd", "personne", "--password-stdin"), PASSWORD + "\n", "Aucun utilisateur"),
    (("user", "add", "bob", "--role", "referent"), "", "--password-stdin"),
])
def test_cli_user_refusals_exit_2_with_a_french_message_and_no_traceback(cli, capsys, argv, stdin, message):
    assert cli(*argv, stdin=stdin) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
