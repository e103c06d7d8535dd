"""The computers enrolled on the team server: enrolment by a login, the device token, listing and revocation.

A device is enrolled by its user logging in once (services.users.authenticate: the same argon2id accounts, the same
throttling and lock-out as the window). It then receives a token of 32 random bytes, shown once; the server keeps
only its SHA-256 (models.devices), so that a copy of the database cannot be used to act as a device. Every later
request presents the token (device_user), which gives back the user as the services know them: their current role,
refused once the device is revoked or the account disabled.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from models import Device, User
from models.base import utcnow
from services import audit, text_rules
from services.errors import NotFound, ValidationError
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork
from services.users import AuthenticationFailed, authenticate

MAX_LABEL = 100
# last_seen_at is written at most this often: a request is not a write, and the administrator's list needs only
# « vu aujourd'hui » precision.
SEEN_PRECISION = timedelta(minutes=5)

NO_TOKEN = "Ce poste n'est pas identifié auprès du serveur : enregistrez-le avec votre identifiant et votre mot de passe."
UNKNOWN_TOKEN = ("Ce poste n'est pas enregistré auprès du serveur (jeton inconnu) : enregistrez-le à nouveau avec "
                 "votre identifiant et votre mot de passe.")
REVOKED = ("Ce poste a été retiré par l'administration : il n'a plus accès au serveur. Enregistrez-le à nouveau avec "
           "votre identifiant et votre mot de passe, ou adressez-vous à un administrateur.")
DISABLED = "Ce compte est désactivé. Adressez-vous à un administrateur."


class DeviceRefused(AuthenticationFailed):
    """The request's device token is missing, unknown or revoked, or its account is disabled."""


@dataclass(frozen=True)
class DeviceInfo:
    key: str
    label: str
    user_key: str
    user_name: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class EnrolledDevice:
    device: DeviceInfo
    token: str  # given once, at enrolment; the server keeps only its hash


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _info(device: Device) -> DeviceInfo:
    optional = lambda moment: audit.as_utc(moment) if moment is not None else None  # noqa: E731
    return DeviceInfo(device.key, device.label, device.user.key, device.user.name, audit.as_utc(device.created_at),
                      optional(device.last_seen_at), optional(device.revoked_at))


def checked_label(label: object) -> str:
    """The label as stored (trimmed, NFC), or ValidationError on field « device_label »."""
    if not isinstance(label, str) or not label.strip():
        raise ValidationError("Donnez un nom à ce poste (par exemple « Portable de Claire »).", field="device_label")
    label = label.strip()
    problem = text_rules.character_problem(label)
    if problem:
        raise ValidationError(f"Le nom du poste {problem}.", field="device_label")
    label = text_rules.normalise(label)
    if len(label) > MAX_LABEL:
        raise ValidationError(f"Le nom du poste ne peut pas dépasser {MAX_LABEL} caractères.", field="device_label")
    return label


def enrol_device(uow: UnitOfWork, user: CurrentUser, label: str, *,
                 clock: Callable[[], datetime] = utcnow) -> EnrolledDevice:
    """A new device for `user` (already authenticated), with its token; the enrolment is audited."""
    with uow:
        require(user, "device.enrol", session=uow.session)
        label = checked_label(label)
        token = secrets.token_urlsafe(32)  # 32 random bytes
        device = Device(key=f"poste-{secrets.token_hex(4)}", label=label, user_id=user.id,
                        token_hash=token_hash(token), created_at=audit.as_utc(clock()))
        uow.session.add(device)
        uow.session.flush()
        audit.record(uow.session, user.key, "create", "device", device.key, ("label", "user_id", "token_hash"))
        info = _info(device)
        uow.commit()
        return EnrolledDevice(info, token)


def enrol_with_password(uow: UnitOfWork, key: str, password: str, label: str, *,
                        clock: Callable[[], datetime] = utcnow) -> EnrolledDevice:
    """Enrolment from a computer: the login (throttled, audited, AuthenticationFailed in French), then enrol_device.
    A label that would be refused is refused first, so that it costs no login attempt."""
    checked_label(label)
    user = authenticate(uow, key, password, clock=clock)
    return enrol_device(uow, user, label, clock=clock)


def device_user(uow: UnitOfWork, token: str | None, *, clock: Callable[[], datetime] = utcnow) -> CurrentUser:
    """Who is behind a request's device token, with their current role; DeviceRefused (French) when the token is
    missing, unknown or revoked, or the account disabled. Stamps the device as seen (at most every few minutes)."""
    if not isinstance(token, str) or not token:
        raise DeviceRefused(NO_TOKEN)
    digest = token_hash(token)
    with uow:
        device = uow.session.scalars(select(Device).where(Device.token_hash == digest)).one_or_none()
        if device is None:
            raise DeviceRefused(UNKNOWN_TOKEN)
        if device.revoked_at is not None:
            raise DeviceRefused(REVOKED)
        account = device.user
        if not account.active:
            raise DeviceRefused(DISABLED)
        now = audit.as_utc(clock())
        if device.last_seen_at is None or now - audit.as_utc(device.last_seen_at) >= SEEN_PRECISION:
            device.last_seen_at = now
            uow.commit()
        return CurrentUser(account.id, account.key, account.name, account.role)


def list_devices(uow: UnitOfWork, user: CurrentUser) -> tuple[DeviceInfo, ...]:
    """Every device, those still enrolled first, by user name then date of enrolment."""
    with uow:
        require(user, "device.manage", session=uow.session)
        devices = uow.session.scalars(select(Device).join(User, User.id == Device.user_id).order_by(
            Device.revoked_at.is_not(None), User.name, Device.created_at, Device.key))
        return tuple(_info(d) for d in devices)


def revoke_device(uow: UnitOfWork, user: CurrentUser, device_key: str, *,
                  clock: Callable[[], datetime] = utcnow) -> DeviceInfo:
    """Withdraw a device's access (a laptop lost, a desk given to someone else): its token is refused from now on.
    Revoking a revoked device changes nothing."""
    with uow:
        require(user, "device.manage", session=uow.session)
        device = uow.session.scalars(select(Device).where(Device.key == device_key)).one_or_none() \
            if isinstance(device_key, str) else None
        if device is None:
            raise NotFound(f"Aucun poste « {text_rules.visible(str(device_key))} ».", field="key")
        if device.revoked_at is None:
            device.revoked_at = audit.as_utc(clock())
            audit.record(uow.session, user.key, "revoke", "device", device.key, ("revoked_at",))
            uow.commit()
        return _info(device)
