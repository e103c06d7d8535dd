"""The login does not reveal which accounts exist (issue 15): a name that is no account — or an account without a
password — is throttled like a real account (same messages, same growing delay, same argon2 verification), its
failures are counted from the audit log so that they survive a restart, and each is written down under a hash of the
typed name (never the name: it may be a password typed in the wrong field)."""
from datetime import timedelta

import pytest

from models.db import make_engine
from services import audit, users
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory
from services.users import (FREE_ATTEMPTS, AuthenticationFailed, TooManyAttempts, add_user, authenticate,
                            typed_name_key)

from tests.test_users import PASSWORD, Clock
from tests.test_users import alice  # noqa: F401 (fixture)


def answers(uow, key, clock, attempts, *, between=timedelta(0)):
    """The messages of `attempts` wrong logins with `key`, `between` apart."""
    said = []
    for _ in range(attempts):
        with pytest.raises(AuthenticationFailed) as refused:
            authenticate(uow(), key, "pas-le-bon-mot-de-passe", clock=clock)
        said.append((type(refused.value).__name__, refused.value.message))
        clock.now += between
    return said


def test_an_unknown_name_gets_the_same_messages_and_delays_as_an_existing_account(uow, alice):
    known = answers(uow, alice, Clock(), FREE_ATTEMPTS + 2, between=timedelta(seconds=1))
    unknown = answers(uow, "personne", Clock(), FREE_ATTEMPTS + 2, between=timedelta(seconds=1))
    assert unknown == known
    assert known[FREE_ATTEMPTS - 2] == ("AuthenticationFailed", "Identifiant ou mot de passe incorrect.")
    assert known[FREE_ATTEMPTS - 1] == (
        "TooManyAttempts", "Identifiant ou mot de passe incorrect. Trop d'essais : réessayez dans 30 secondes.")
    assert known[FREE_ATTEMPTS] == ("TooManyAttempts", "Trop d'essais : réessayez dans 29 secondes.")


def test_an_unknown_name_is_let_through_after_its_delay_and_the_next_failure_doubles_it(uow):
    clock = Clock()
    answers(uow, "personne", clock, FREE_ATTEMPTS)
    clock.advance(seconds=30)
    with pytest.raises(TooManyAttempts, match="réessayez dans 1 minute") as refused:
        authenticate(uow(), "personne", "encore-un-essai", clock=clock)
    assert refused.value.retry_after == timedelta(minutes=1)


def test_an_account_without_a_password_is_throttled_like_the_others(uow, alice):
    with uow() as u:
        u.session.execute(users.update(users.User).values(password_hash=None))
        u.commit()
    said = answers(uow, alice, Clock(), FREE_ATTEMPTS + 1)
    assert said[-2][0] == said[-1][0] == "TooManyAttempts"


def test_the_throttle_of_an_unknown_name_survives_a_restart(db_path, uow):
    clock = Clock()
    answers(uow, "personne", clock, FREE_ATTEMPTS)
    engine = make_engine(str(db_path))  # another process opening the same file
    try:
        with pytest.raises(TooManyAttempts):
            authenticate(unit_of_work_factory(engine)(), "personne", PASSWORD, clock=clock)
    finally:
        engine.dispose()


def test_each_unknown_name_has_its_own_count(uow):
    clock = Clock()
    answers(uow, "personne", clock, FREE_ATTEMPTS)
    with pytest.raises(TooManyAttempts):
        authenticate(uow(), "personne", "pas-le-bon-mot-de-passe", clock=clock)
    with pytest.raises(AuthenticationFailed) as other:
        authenticate(uow(), "quelqu-un", "pas-le-bon-mot-de-passe", clock=clock)
    assert not isinstance(other.value, TooManyAttempts)


def test_the_password_is_verified_against_a_dummy_hash_for_an_unknown_name(uow, alice, monkeypatch):
    verified = []
    real = users._verify
    monkeypatch.setattr(users, "_verify", lambda h, p: verified.append(h) or real(h, p))
    clock = Clock()
    answers(uow, "personne", clock, 1)
    answers(uow, alice, clock, 1)
    assert verified == [users._dummy_hash(), verified[1]] and verified[1].startswith("$argon2id$")
    verified.clear()
    answers(uow, "personne", clock, FREE_ATTEMPTS)  # the 5th failure starts the delay…
    verified.clear()
    answers(uow, "personne", clock, 1)  # …during which nothing is verified, as for an account
    assert verified == []


def test_a_failed_login_for_an_unknown_name_is_audited_under_a_hash_of_the_name(uow):
    typed = "cheval-agrafe-pile"  # a password typed in the identifier field
    answers(uow, typed, Clock(), 2)
    entries = audit.list_entries(uow(), SYSTEM)
    assert [(e.actor_key, e.action, e.record_type, e.record_key, e.changed_fields) for e in entries] == [
        (None, "login_failed", "login_name", typed_name_key(typed), ())] * 2
    assert typed not in typed_name_key(typed) and typed_name_key(typed) != typed_name_key("personne")


def test_a_refusal_during_the_delay_is_not_written_down(uow):
    clock = Clock()
    answers(uow, "personne", clock, FREE_ATTEMPTS)
    before = len(audit.list_entries(uow(), SYSTEM))
    answers(uow, "personne", clock, 3)
    assert len(audit.list_entries(uow(), SYSTEM)) == before == FREE_ATTEMPTS
