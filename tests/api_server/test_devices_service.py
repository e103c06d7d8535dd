"""services.devices without the HTTP face: the token and its hash, the label's rules, what device_user refuses, how
often a device is stamped as seen, and the order of the administrator's list."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from models import Device
from services import devices, users
from services.devices import DeviceRefused
from services.errors import NotFound, ValidationError
from services.permissions import SYSTEM
from tests.programme_fixture import load_example

T0 = datetime(2025, 3, 20, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def programme(uow):
    return load_example(uow)


def test_the_token_is_32_random_bytes_given_once_and_only_its_sha256_is_stored(programme):
    enrolled = devices.enrol_device(programme.uow(), programme.referent, "Portable de Claire")
    other = devices.enrol_device(programme.uow(), programme.referent, "Portable de Claire")
    assert enrolled.token != other.token and enrolled.device.key != other.device.key
    assert len(enrolled.token) == 43  # base64url of 32 bytes, unpadded
    with programme.uow() as w:
        stored = w.session.scalars(select(Device).where(Device.key == enrolled.device.key)).one()
        assert stored.token_hash == hashlib.sha256(enrolled.token.encode()).hexdigest()
        assert enrolled.token not in (stored.token_hash, stored.label, stored.key)


@pytest.mark.parametrize("label, message", [
    ("", "Donnez un nom à ce poste"), ("   ", "Donnez un nom à ce poste"), (None, "Donnez un nom à ce poste"),
    ("Poste\u202ede Claire", "Le nom du poste contient"), ("x" * 101, "ne peut pas dépasser 100 caractères")])
def test_a_label_that_cannot_name_a_device_is_refused_on_its_field(programme, label, message):
    with pytest.raises(ValidationError, match=message) as refused:
        devices.enrol_device(programme.uow(), programme.referent, label)
    assert refused.value.field == "device_label"


def test_enrolment_with_a_password_logs_in_then_enrols_and_a_wrong_one_enrols_nothing(programme):
    users.change_password(programme.uow(), SYSTEM, "ref-martin", "cheval-agrafe-pile")
    with pytest.raises(users.AuthenticationFailed, match="Identifiant ou mot de passe incorrect"):
        devices.enrol_with_password(programme.uow(), "ref-martin", "faux", "Portable", clock=lambda: T0)
    enrolled = devices.enrol_with_password(programme.uow(), "ref-martin", "cheval-agrafe-pile", "Portable",
                                           clock=lambda: T0)
    assert enrolled.device.user_key == "ref-martin" and enrolled.device.created_at == T0
    assert [d.key for d in devices.list_devices(programme.uow(), programme.administrator)] == [enrolled.device.key]


def test_device_user_gives_the_current_role_and_refuses_revoked_unknown_and_disabled(programme):
    token = devices.enrol_device(programme.uow(), programme.referent, "Portable").token
    assert devices.device_user(programme.uow(), token) == programme.referent
    for bad in (None, "", "pas-un-jeton"):
        with pytest.raises(DeviceRefused):
            devices.device_user(programme.uow(), bad)
    users.disable_user(programme.uow(), SYSTEM, "ref-martin")
    with pytest.raises(DeviceRefused, match="désactivé"):
        devices.device_user(programme.uow(), token)


def test_a_revoked_device_stays_listed_last_and_revoking_it_again_changes_nothing(programme):
    kept = devices.enrol_device(programme.uow(), programme.coordinator, "Bureau coordination")
    gone = devices.enrol_device(programme.uow(), programme.referent, "Ancien portable")
    revoked = devices.revoke_device(programme.uow(), programme.administrator, gone.device.key, clock=lambda: T0)
    assert revoked.revoked and revoked.revoked_at == T0
    again = devices.revoke_device(programme.uow(), programme.administrator, gone.device.key,
                                  clock=lambda: T0 + timedelta(days=1))
    assert again.revoked_at == T0
    assert [d.key for d in devices.list_devices(programme.uow(), programme.administrator)] == [
        kept.device.key, gone.device.key]
    with pytest.raises(DeviceRefused, match="retiré par l'administration"):
        devices.device_user(programme.uow(), gone.token)
    with pytest.raises(NotFound, match="Aucun poste « poste-inconnu »"):
        devices.revoke_device(programme.uow(), programme.administrator, "poste-inconnu")


def test_a_device_is_stamped_as_seen_at_most_every_few_minutes(programme):
    enrolled = devices.enrol_device(programme.uow(), programme.referent, "Portable")

    def seen_at(moment):
        devices.device_user(programme.uow(), enrolled.token, clock=lambda: moment)
        [info] = devices.list_devices(programme.uow(), programme.administrator)
        return info.last_seen_at

    assert seen_at(T0) == T0
    assert seen_at(T0 + devices.SEEN_PRECISION - timedelta(seconds=1)) == T0  # no write for every request
    assert seen_at(T0 + devices.SEEN_PRECISION) == T0 + devices.SEEN_PRECISION


def test_the_device_model_and_migration_0011_agree_on_sqlite_and_go_down_and_up(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    from models import Base
    from models.db import head_revision, migrate
    from tests.billing.migration_steps import downgrade_to

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert {ix["name"] for ix in inspect(engine).get_indexes("device")} == {"ix_device_user_id"}
    downgrade_to(engine, "0010")
    assert "device" not in inspect(engine).get_table_names()
    assert migrate(engine) == head_revision()
    assert "device" in inspect(engine).get_table_names()
