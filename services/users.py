"""The people who use Parcours: accounts, passwords and logging in.

Passwords are hashed with argon2id (argon2-cffi). Parameters are above the OWASP minimum (19 MiB, 2 passes,
1 lane): 46 MiB and 2 passes take well under a tenth of a second on a laptop, and an outdated hash is replaced
at the next successful login. After 5 consecutive failures each new failure imposes a growing delay
(30 s, 1 min, 2 min… up to one hour) before the next attempt is even checked.

The login does not tell which accounts exist: a name that is no account is throttled the same way, with the same
messages, and its password is verified against a dummy hash so that the answer takes as long. Its failures are
counted from the audit log (entries « login_failed » on record type `login_name`, keyed by a slow hash of the typed
name — never the name itself, which may be a password typed in the wrong field): they survive a restart and need
no table of their own; the audit purge (at least 180 days) eventually forgets them.

A new password has at least 12 characters and must not be guessable: zxcvbn (offline, its own dictionaries of common
passwords, words, names, keyboard patterns) must rate it at least 3 out of 4, with the account's identifier and name
counted as known words; its English feedback is replaced by French sentences.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from models.base import utcnow
from models.enums import ROLES
from services import text_rules
from services.errors import NotFound, PermissionDenied, ValidationError
from services.permissions import SYSTEM, CurrentUser, require, someone_can_log_in
from services.uow import UnitOfWork

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from models import User

# The mapped classes (models) and services.audit, which needs them, are imported in the functions that use them:
# the window's start (needs_first_administrator, the login dialog) reaches its login without mapping any table.

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work an attacker can ask for
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 = « safely unguessable » (about 10^8 guesses and more), 4 = very strong
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; a strong prefix makes a strong password
FREE_ATTEMPTS = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)  # beyond, the delay would lock the real user out more than it slows a guesser


@cache
def hasher() -> PasswordHasher:
    """The argon2id hasher, made (and argon2's C library loaded) at the first password checked or set: the window's
    start does not wait for it."""
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=2, memory_cost=47104, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)


def __getattr__(name: str):
    if name == "HASHER":  # the module attribute it used to be
        return hasher()
    if name in ("User", "AuditEntry"):  # the module's names when it imported the models at its top
        import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


# zxcvbn's warnings (English, stable strings) in French; any other weakness gets the general sentence.
_WEAKNESS = {
    "Straight rows of keys are easy to guess.": "une rangée de touches du clavier se devine facilement",
    "Short keyboard patterns are easy to guess.": "un motif du clavier se devine facilement",
    'Repeats like "aaa" are easy to guess.': "un caractère répété se devine facilement",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "un groupe de caractères répété se devine facilement",
    'Sequences like "abc" or "6543" are easy to guess.': "une suite comme « abc » ou « 6543 » se devine facilement",
    "Recent years are easy to guess.": "une année récente se devine facilement",
    "Dates are often easy to guess.": "une date se devine facilement",
    "This is a top-10 common password.": "c'est l'un des mots de passe les plus utilisés",
    "This is a top-100 common password.": "c'est l'un des mots de passe les plus utilisés",
    "This is a very common password.": "c'est un mot de passe très courant",
    "This is similar to a commonly used password.": "il ressemble à un mot de passe très courant",
    "A word by itself is easy to guess.": "un mot seul se devine facilement",
    "Names and surnames by themselves are easy to guess.": "un nom ou un prénom seul se devine facilement",
    "Common names and surnames are easy to guess.": "les noms et prénoms courants se devinent facilement",
}
_ADVICE = "Choisissez par exemple trois ou quatre mots sans rapport entre eux, séparés par des tirets."


def _plain(text: str) -> str:
    """Without accents: « Agnès » and « Agnes » are the same name to a guesser."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _letters(text: str) -> str:
    return "".join(ch for ch in _plain(text).casefold() if ch.isalnum())


def check_password_policy(password: str, key: str | None = None, name: str | None = None) -> None:
    """Refuse (ValidationError on field « password », in French) a password shorter than 12 characters, longer than
    1024, equal to the account's identifier or name, or that zxcvbn rates below MIN_PASSWORD_SCORE."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.",
                              field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"Le mot de passe ne peut pas dépasser {MAX_PASSWORD_LENGTH} caractères.",
                              field="password")
    own = [text for text in (key, name) if isinstance(text, str) and text.strip()]
    typed = _letters(password)
    for text in own:
        if typed == _letters(text) or password.strip().casefold() == text.strip().casefold():
            what = "l'identifiant" if text == key else "le nom de la personne"
            raise ValidationError(f"Le mot de passe ne peut pas être {what}.", field="password")
    known = [variant for text in own for variant in (text, _plain(text))]
    known += [part for text in known for part in re.split(r"[\W_]+", text) if len(part) > 2]
    from zxcvbn import zxcvbn  # loading its dictionaries is not for every start: only when a password is set

    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=known)
    if result["score"] < MIN_PASSWORD_SCORE:
        weakness = _WEAKNESS.get(result["feedback"].get("warning") or "")
        if weakness is None and any(m.get("dictionary_name") == "user_inputs" for m in result.get("sequence", ())):
            weakness = "il reprend l'identifiant ou le nom de la personne"
        reason = f" : {weakness}" if weakness else ""
        raise ValidationError(f"Ce mot de passe est trop facile à deviner{reason}. {_ADVICE}", field="password")


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
    from models import User

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
    from models import User
    from services import audit

    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValidationError("L'identifiant doit faire de 1 à 64 caractères : lettres sans accent, chiffres, "
                              "point, tiret, arobase ou souligné, en commençant par une lettre ou un chiffre.",
                              field="key")
    if text_rules.is_reserved(key):  # any case: the command line's actor in the audit log
        raise ValidationError(f"L'identifiant « {key} » est réservé à la ligne de commande.", field="key")
    if role not in ROLES:
        raise ValidationError(f"Rôle inconnu « {role} » : choisissez parmi {', '.join(ROLES)}.", field="role")
    name = (name or key).strip()
    problem = text_rules.character_problem(name)
    if problem:
        raise ValidationError(f"Le nom {problem}.", field="name")
    name = text_rules.normalise(name)
    if not name or len(name) > 200:
        raise ValidationError("Le nom doit faire de 1 à 200 caractères.", field="name")
    check_password_policy(password, key, name)
    if s.scalars(select(User.id).where(func.lower(User.key) == key.lower())).first() is not None:
        raise ValidationError(f"Un utilisateur « {key} » existe déjà.", field="key")
    # An imported account may hold look-alike letters (« аdmin » in Cyrillic): its twin would be read as it.
    twin = text_rules.KeyIndex(s.scalars(select(User.key))).look_alike(key)
    if twin is not None:
        raise ValidationError(f"L'identifiant « {key} » se confond avec le compte « {text_rules.visible(twin)} » déjà présent : "
                              "choisissez un identifiant vraiment différent.", field="key")
    account = User(key=key, name=name, role=role, active=True, password_hash=hasher().hash(password), failed_logins=0)
    s.add(account)
    audit.record(s, actor_key, "create", "user", key, ("name", "role", "active", "password_hash"))
    return account


def change_password(uow: UnitOfWork, user: CurrentUser, key: str, new_password: str) -> UserInfo:
    """Set a new password (one's own, or anyone's for the administration); also lifts the login delay, since
    whoever sets it knows the new one."""
    with uow:
        require(user, "user.self" if key == getattr(user, "key", None) else "user.manage", session=uow.session)
        from services import audit

        s = uow.session
        account = _get(s, key)
        check_password_policy(new_password, key, account.name)
        account.password_hash = hasher().hash(new_password)
        account.failed_logins, account.locked_until = 0, None
        audit.record(s, user.key, "change_password", "user", key, ("password_hash", "failed_logins",
                                                                   "locked_until"))
        uow.commit()
        return _info(account)


def disable_user(uow: UnitOfWork, user: CurrentUser, key: str) -> UserInfo:
    with uow:
        require(user, "user.manage", session=uow.session)
        from models import User
        from services import audit

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
        from models import User

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

    The answer does not say whether the login exists: an unknown name (or an account without a password) gets the
    same messages, the same growing delay after 5 failures and an argon2 verification as long. Failures are counted
    and committed even though the call raises; the delay is checked before the password, so guesses made during it
    are not even tried."""
    from models import User
    from services import audit

    now = audit.as_utc(clock())
    name_key = typed_name_key(key)  # for every name, so that its cost does not tell an unknown one
    with uow:
        s = uow.session
        user = s.scalars(select(User).where(User.key == key)).one_or_none() if isinstance(key, str) else None
        if user is None:
            failure = _unknown_name(s, name_key, password, now)
            uow.commit()  # the failure is counted (its audit entry) although the call raises
            raise failure
        if user.locked_until is not None and audit.as_utc(user.locked_until) > now:
            raise _too_many(audit.as_utc(user.locked_until) - now)
        if user.password_hash is None or not _verify(user.password_hash, password):
            if user.password_hash is None:
                _verify(_dummy_hash(), password)
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
        if hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hasher().hash(password)
            changed.append("password_hash")
        if user.failed_logins or user.locked_until is not None:
            user.failed_logins, user.locked_until = 0, None
            changed += ["failed_logins", "locked_until"]
        audit.record(s, user.key, "login", "user", user.key, changed, at=now)
        uow.commit()
        return CurrentUser(user.id, user.key, user.name, user.role)


UNKNOWN_NAME = "login_name"  # the audit's record type of a name that is no account


def typed_name_key(key: object) -> str:
    """The audit's record key for a typed name that is no account: a slow, salted hash (argon2id, 8 MiB), so that a
    password typed in the identifier field is neither written down nor cheap to recover from the log."""
    typed = key if isinstance(key, str) else ""
    from argon2 import Type
    from argon2.low_level import hash_secret_raw

    digest = hash_secret_raw(typed.encode("utf-8", "surrogatepass"), b"parcours/login-name/1", time_cost=1,
                             memory_cost=8192, parallelism=1, hash_len=16, type=Type.ID)
    return "h-" + digest.hex()


def _unknown_name(s, record_key: str, password: str, now: datetime) -> AuthenticationFailed:
    """A name that is no account: throttled like an account (its failures and their last moment read from the audit
    log), verified against the dummy hash, its failure written down (actor None: « Avant connexion »). Returns the
    refusal to raise once the caller has committed."""
    from models import AuditEntry
    from services import audit

    failures, last = s.execute(select(func.count(), func.max(AuditEntry.at)).where(
        AuditEntry.action == "login_failed", AuditEntry.record_type == UNKNOWN_NAME,
        AuditEntry.record_key == record_key)).one()
    if last is not None:
        locked_until = audit.as_utc(last) + delay_after(failures)
        if locked_until > now:
            return _too_many(locked_until - now)
    _verify(_dummy_hash(), password)
    wait = delay_after(failures + 1)
    audit.record(s, None, "login_failed", UNKNOWN_NAME, record_key, (), at=now)
    return _too_many(wait, first=True) if wait else AuthenticationFailed(_WRONG)


@cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist or has no password, so that the answer takes as long."""
    return hasher().hash("parcours: no such account")


def _verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher().verify(password_hash, password if isinstance(password, str) else "")
    except (VerificationError, InvalidHashError):
        return False


def _too_many(wait: timedelta, first: bool = False) -> TooManyAttempts:
    prefix = _WRONG + " " if first else ""
    return TooManyAttempts(f"{prefix}Trop d'essais : réessayez dans {format_wait(wait)}.", wait)

