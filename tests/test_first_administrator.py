"""The first administrator: asked for while nobody can log in, refused once someone can; the accounts list."""
import pytest

from services.errors import PermissionDenied, ValidationError
from services.permissions import SYSTEM
from services.users import (add_user, authenticate, create_first_administrator, disable_user, list_accounts,
                            needs_first_administrator)
from tests.programme_fixture import load_example

PASSWORD = "cheval-agrafe-pile"


def test_an_empty_store_needs_a_first_administrator_who_can_then_log_in(uow):
    assert needs_first_administrator(uow())
    info = create_first_administrator(uow(), "admin", PASSWORD, name="Agnès Admin")
    assert (info.role, info.has_password, info.name) == ("administrator", True, "Agnès Admin")
    assert not needs_first_administrator(uow())
    assert authenticate(uow(), "admin", PASSWORD).role == "administrator"


def test_the_first_administrator_is_refused_once_someone_can_log_in(uow):
    add_user(uow(), SYSTEM, "claire", "referent", PASSWORD)
    with pytest.raises(PermissionDenied):
        create_first_administrator(uow(), "intrus", PASSWORD)
    assert [a.key for a in list_accounts(uow(), SYSTEM)] == ["claire"]


def test_the_policy_applies_to_the_first_administrator(uow):
    with pytest.raises(ValidationError) as short:
        create_first_administrator(uow(), "admin", "court")
    assert short.value.field == "password"
    with pytest.raises(ValidationError) as bad_key:
        create_first_administrator(uow(), "é admin", PASSWORD)
    assert bad_key.value.field == "key"
    assert needs_first_administrator(uow())


def test_imported_accounts_without_password_still_need_a_first_administrator(uow):
    load_example(uow)  # its accounts have no password
    accounts = list_accounts(uow(), SYSTEM)
    assert accounts and not any(a.has_password for a in accounts)
    assert needs_first_administrator(uow())
    create_first_administrator(uow(), "admin", PASSWORD)
    assert {a.key: a.has_password for a in list_accounts(uow(), SYSTEM)}["admin"]


def test_a_disabled_account_lets_nobody_in_and_is_listed_last(uow):
    add_user(uow(), SYSTEM, "bruno", "referent", PASSWORD, name="Bruno")
    add_user(uow(), SYSTEM, "anne", "coordinator", PASSWORD, name="Anne")
    disable_user(uow(), SYSTEM, "anne")
    assert not needs_first_administrator(uow())
    assert [(a.key, a.active) for a in list_accounts(uow(), SYSTEM)] == [("bruno", True), ("anne", False)]
    disable_user(uow(), SYSTEM, "bruno")
    assert needs_first_administrator(uow())
