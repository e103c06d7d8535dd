"""Who is at the keyboard, and the pickers' lists."""
import pytest

from services.directory import (CurrentUser, list_conventions, list_intervenants, list_users, require_role,
                                store_is_empty)
from services.errors import PermissionDenied
from tests.programme_fixture import load_example


def test_empty_store_then_users_conventions_and_intervenants(uow):
    assert store_is_empty(uow())
    load_example(uow)
    assert not store_is_empty(uow())
    assert [u.role for u in list_users(uow())] == ["administrator", "coordinator", "referent"]
    assert [i.label for i in list_intervenants(uow())] == ["Julien Morel (TISF)", "Nadia Benali (AES)"]
    assert [c.label for c in list_conventions(uow())] == ["Atout Plus — Adom 01 (ap-2025)"]


def test_require_role_refuses_in_french():
    referent = CurrentUser("1", "r", "Claire", "referent")
    require_role(referent, "referent", "coordinator", doing="saisir une séance")
    with pytest.raises(PermissionDenied) as err:
        require_role(referent, "coordinator", doing="valider une orientation")
    assert err.value.message == "Seul(e) la coordination peut valider une orientation."
