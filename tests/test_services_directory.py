"""Who is at the keyboard, and the pickers' lists."""
import pytest

from services.directory import CurrentUser, list_conventions, list_intervenants, list_users, store_is_empty
from services.errors import PermissionDenied
from services.permissions import require
from tests.programme_fixture import load_example


def test_empty_store_then_users_conventions_and_intervenants(uow):
    assert store_is_empty(uow())
    p = load_example(uow)
    assert not store_is_empty(uow())
    assert [u.role for u in list_users(uow())] == ["administrator", "coordinator", "referent"]
    assert [i.label for i in list_intervenants(uow(), p.referent)] == ["Julien Morel (TISF)", "Nadia Benali (AES)"]
    assert [c.label for c in list_conventions(uow(), p.coordinator)] == ["Atout Plus — Adom 01 (ap-2025)"]


def test_a_refusal_is_explained_in_french():
    referent = CurrentUser("1", "r", "Claire", "referent")
    require(referent, "session.record")
    with pytest.raises(PermissionDenied) as err:
        require(referent, "orientation.validate")
    assert err.value.message == "Votre rôle (Référent·e de parcours) ne permet pas de valider ou refuser une orientation."
