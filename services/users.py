"""The people who use Parcours: accounts, passwords and logging in.

Passwords are hashed with argon2id (argon2-cffi). Parameters are above the OWASP minimum (19 MiB, 2 passes,
1 lane): 46 MiB and 2 passes take well under a tenth of a second on a laptop, and an outdated hash is replaced
at the next successful login. After 5 consecutive failures each new failure imposes a growing delay
(30 s, 1 min, 2 min… up to one hour) before the next attempt is even checked.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from models import User
from models.base import utcnow
from models.enums import ROLES
from services import audit
from services.errors import NotFound, PermissionDenied, ValidationError
from services.permissions import SYSTEM, CurrentUser, require, someone_can_log_in
from services.uow import UnitOfWork

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work an attacker can ask for
FREE_ATTEMPTS = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)  # beyond, the delay would lock the real user out more than it slows a guesser

HASHER = PasswordHasher(time_cost=2, memory_cost=47104, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
WRONG_CREDENTIALS = _WRONG = "Identifiant ou mot de passe incorrect."


class AuthenticationFailed(PermissionDenied):
    """Wrong login or password, disabled account, or too many attempts; `message` is for the user."""


class TooManyAttempts(AuthenticationFailed):
    def __init__(self, message: str, retry_after: timedelta):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class UserInfo:
    key: str
    name: str
    role: str
    active: bool
    has_password: bool


def _info(user: User) -> UserInfo:
    return UserInfo(user.key, user.name, user.role, user.active, user.password_hash is not None)


def check_password_policy(password: str, key: str | None = None) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.",
                              field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"Le mot de passe ne peut pas dépasser {MAX_PASSWORD_LENGTH} caractères.",
                              field="password")
    if key is not None and password.strip().casefold() == key.casefold():
        raise ValidationError("Le mot de passe ne peut pas être l'identifiant.", field="password")


def delay_after(failures: int) -> timedelta:
    """The wait imposed after `failures` consecutive failed logins: none up to 4, then 30 s × 2^(n−5)."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    exponent = min(failures - FREE_ATTEMPTS, 16)  # 2^16 × 30 s is already far beyond MAX_DELAY
    return min(FIRST_DELAY * 2 ** exponent, MAX_DELAY)


def format_wait(wait: timedelta) -> str:
    seconds = max(1, int(-(-wait.total_seconds() // 1)))  # rounded up: never tell the user to retry too early
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def _get(session, key: str) -> User:
    user = session.scalars(select(User).where(User.key == key)).one_or_none()
    if user is None:
        raise NotFound(f"Aucun utilisateur « {key} ».", field="key")
    return user


def add_user(uow: UnitOfWork, user: CurrentUser, key: str, role: str, password: str, *,
             name: str | None = None) -> UserInfo:
    """A new account, created by an administrator or at the command line."""
    with uow:
        require(user, "user.manage", session=uow.session)
        account = _create_account(uow.session, user.key, key, role, password, name)
        uow.commit()
        return _info(account)


def _create_account(s, actor_key: str | None, key: str, role: str, password: str, name: str | None) -> User:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValidationError("L'identifiant doit faire de 1 à 64 caractères : lettres sans accent, chiffres, "
                              "point, tiret, arobase ou souligné, en commençant par une lettre ou un chiffre.",
                              field="key")
    if key.lower() == SYSTEM.key:
        raise ValidationError(f"L'identifiant « {key} » est réservé à la ligne de commande.", field="key")
    if role not in ROLES:
        raise ValidationError(f"Rôle inconnu « {role} » : choisissez parmi {', '.join(ROLES)}.", field="role")
    name = (name or key).strip()
    if not name or len(name) > 200:
        raise ValidationError("Le nom doit faire de 1 à 200 caractères.", field="name")
    check_password_policy(password, key)
    if s.scalars(select(User.id).where(func.lower(User.key) == key.lower())).first() is not None:
        raise ValidationError(f"Un utilisateur « {key} » existe déjà.", field="key")
    account = User(key=key, name=name, role=role, active=True, password_hash=HASHER.hash(password), failed_logins=0)
    s.add(account)
    audit.record(s, actor_key, "create", "user", key, ("name", "role", "active", "password_hash"))
    return account


def change_password(uow: UnitOfWork, user: CurrentUser, key: str, new_password: str) -> UserInfo:
    """Set a new password (one's own, or anyone's for the administration); also lifts the login delay, since
    whoever sets it knows the new one."""
    with uow:
        require(user, "user.self" if key == getattr(user, "key", None) else "user.manage", session=uow.session)
        check_password_policy(new_password, key)
        s = uow.session
        account = _get(s, key)
        account.password_hash = HASHER.hash(new_password)
        account.failed_logins, account.locked_until = 0, None
        audit.record(s, user.key, "change_password", "user", key, ("password_hash", "failed_logins",
                                                                   "locked_until"))
        uow.commit()
        return _info(account)


def disable_user(uow: UnitOfWork, user: CurrentUser, key: str) -> UserInfo:
    with uow:
        require(user, "user.manage", session=uow.session)
        s = uow.session
        account = _get(s, key)
        if not account.active:
            return _info(account)
        if account.role == "administrator":
            others = s.scalar(select(func.count()).select_from(User).where(
                User.role == "administrator", User.active.is_(True), User.id != account.id,
                User.password_hash.is_not(None)))
            if not others:
                raise ValidationError("Impossible de désactiver le dernier administrateur actif : "
                                      "créez d'abord un autre compte administrateur.", field="key")
        account.active = False
        audit.record(s, user.key, "disable", "user", key, ("active",))
        uow.commit()
        return _info(account)


def list_accounts(uow: UnitOfWork, user: CurrentUser) -> tuple[UserInfo, ...]:
    """Every account, the active ones first, by name: what the accounts dialog shows (the administration's; nothing
    lists the accounts before the login)."""
    with uow:
        require(user, "user.manage", session=uow.session)
        users = uow.session.scalars(select(User).order_by(User.active.desc(), User.name, User.key))
        return tuple(_info(u) for u in users)


def needs_first_administrator(uow: UnitOfWork) -> bool:
    """True while no active account has a password: nobody can log in, so the window asks for a first
    administrator (an empty store, an imported dataset, the demo programme)."""
    with uow:
        return not someone_can_log_in(uow.session)


def create_first_administrator(uow: UnitOfWork, key: str, password: str, *, name: str | None = None) -> UserInfo:
    """The administrator account of a store where nobody can log in yet; refused as soon as someone can (from
    then on, accounts are created by an administrator). The check and the creation are one transaction."""
    with uow:
        require(None, "user.first_administrator", session=uow.session)
        account = _create_account(uow.session, None, key, "administrator", password, name)
        uow.commit()
        return _info(account)


def authenticate(uow: UnitOfWork, key: str, password: str, *,
                 clock: Callable[[], datetime] = utcnow) -> CurrentUser:
    """The user behind `key` if `password` is theirs and the account may log in; raises AuthenticationFailed.

    The answer does not say whether the login exists. Failures are counted and committed even though the call
    raises; the delay is checked before the password, so guesses made during it are not even tried."""
    now = audit.as_utc(clock())
    with uow:
        s = uow.session
        user = s.scalars(select(User).where(User.key == key)).one_or_none() if isinstance(key, str) else None
        if user is None or user.password_hash is None:
            _verify(_dummy_hash(), password)
            if user is not None:
                audit.record(s, None, "login_failed", "user", user.key, (), at=now)
                uow.commit()
            # An unknown login is not written down: it may be a password typed in the wrong field.
            raise AuthenticationFailed(_WRONG)
        if user.locked_until is not None and audit.as_utc(user.locked_until) > now:
            raise _too_many(audit.as_utc(user.locked_until) - now)
        if not _verify(user.password_hash, password):
            failures = s.execute(update(User).where(User.id == user.id)
                                 .values(failed_logins=User.failed_logins + 1)
                                 .returning(User.failed_logins)).scalar_one()
            wait = delay_after(failures)
            changed = ["failed_logins"]
            if wait:
                s.execute(update(User).where(User.id == user.id).values(locked_until=now + wait))
                changed.append("locked_until")
            audit.record(s, None, "login_failed", "user", user.key, changed, at=now)
            uow.commit()
            raise _too_many(wait, first=True) if wait else AuthenticationFailed(_WRONG)
        if not user.active:
            audit.record(s, None, "login_refused", "user", user.key, (), at=now)
            uow.commit()
            raise AuthenticationFailed("Ce compte est désactivé. Adressez-vous à un administrateur.")
        changed = []
        if HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = HASHER.hash(password)
            changed.append("password_hash")
        if user.failed_logins or user.locked_until is not None:
            user.failed_logins, user.locked_until = 0, None
            changed += ["failed_logins", "locked_until"]
        audit.record(s, user.key, "login", "user", user.key, changed, at=now)
        uow.commit()
        return CurrentUser(user.id, user.key, user.name, user.role)


@cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist or has no password, so that the answer takes as long."""
    return HASHER.hash("parcours: no such account")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password if isinstance(password, str) else "")
    except (VerificationError, InvalidHashError):
        return False


def _too_many(wait: timedelta, first: bool = False) -> TooManyAttempts:
    prefix = _WRONG + " " if first else ""
    return TooManyAttempts(f"{prefix}Trop d'essais : réessayez dans {format_wait(wait)}.", wait)

