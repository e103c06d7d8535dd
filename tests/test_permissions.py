"""Roles enforced in the services, deny by default, from one permission table (services.permissions).

The matrix: every actor (référent, coordination, administration, the command line's SYSTEM operator, nobody)
against every public service function (tests/service_cases.py, one sample call each): a refused pair raises
PermissionDenied and writes nothing at all (every row of every table, audit log included, compared before and
after); an allowed pair succeeds. The list of functions is checked against the service modules themselves, so a
new public function without a check — or without a case here — makes this file fail.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from datetime import date

import pytest
from sqlalchemy import select

import services
from models import Family
from models.db import make_engine, migrate
from services import activity, families, home_sessions, permissions
from services.dataset import import_dataset
from services.directory import CurrentUser
from services.errors import PermissionDenied, ValidationError
from services.permissions import INSIDE_CHECKED_WORK, PERMISSIONS, PRE_LOGIN, SYSTEM, allowed, require
from services.consent import families_without_consent, record_consent
from services.session_exceptions import flagged_sessions
from services.uow import unit_of_work_factory
from services.users import add_user, create_first_administrator, needs_first_administrator
from tests.service_cases import (ACTORS, BOOTSTRAP_ONLY, CASES, F1_NOTE, F3_NOTE, PASSWORD, TODAY, Case, actor,
                                 allowed_pairs)
from tests.both_stores import env, template  # noqa: F401 (fixtures, on both stores)

REAL_ROLES = ("referent", "coordinator", "administrator")


class Requested(dict):
    """PERMISSIONS that remembers which operations were asked for, in order."""

    def __init__(self, table):
        super().__init__(table)
        self.asked: list[str] = []

    def get(self, key, default=None):
        self.asked.append(key)
        return super().get(key, default)


@pytest.fixture
def requested(monkeypatch) -> Requested:
    table = Requested(PERMISSIONS)
    monkeypatch.setattr(permissions, "PERMISSIONS", table)
    return table


# -- every public service function is checked ----------------------------------------------------------------

def public_uow_functions() -> dict[str, object]:
    """Every public function of services/ whose first parameter is the unit of work: the service entry points."""
    found = {}
    for info in pkgutil.walk_packages(services.__path__, "services."):
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != info.name or name.startswith("_"):
                continue
            parameters = list(inspect.signature(function).parameters)
            if parameters and parameters[0] == "uow":
                found[f"{info.name}.{name}"] = function
    return found


def _body(function) -> list[ast.stmt]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


def _is_require(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name) and statement.value.func.id == "require")


def _opens_uow(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.With) and any(
        isinstance(item.context_expr, ast.Name) and item.context_expr.id == "uow" for item in statement.items)


CHECKED = {case.name for case in CASES} | BOOTSTRAP_ONLY


def test_every_public_service_function_is_checked_or_listed_as_an_exception():
    functions = set(public_uow_functions())
    unaccounted = functions - CHECKED - set(PRE_LOGIN) - INSIDE_CHECKED_WORK
    assert not unaccounted, (f"public service functions with no permission case: {sorted(unaccounted)} — call "
                             "services.permissions.require first and add a case to tests/service_cases.py")
    assert not (CHECKED | set(PRE_LOGIN) | INSIDE_CHECKED_WORK) - functions  # no stale name
    assert not CHECKED & (set(PRE_LOGIN) | INSIDE_CHECKED_WORK)


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_each_checked_function_calls_require_before_anything_else(name):
    """Its first statement opens the unit of work and the first statement inside is `require(...)` (or it starts
    with `require(...)`): nothing is read or written before the check."""
    body = _body(public_uow_functions()[name])
    first = body[0]
    assert _is_require(first) or (_opens_uow(first) and _is_require(first.body[0])), name


@pytest.mark.parametrize("name", sorted(INSIDE_CHECKED_WORK))
def test_helpers_listed_as_inside_checked_work_never_open_a_unit_of_work(name):
    tree = ast.parse(textwrap.dedent(inspect.getsource(public_uow_functions()[name])))
    assert not any(_opens_uow(node) for node in ast.walk(tree)), name


def test_every_operation_of_the_table_is_exercised_and_every_case_names_one():
    assert {case.operation for case in CASES} <= set(PERMISSIONS)
    exercised = {case.operation for case in CASES} | {"session.read_notes", "user.first_administrator"}
    assert exercised == set(PERMISSIONS)


# -- the matrix: every actor × every service function ----------------------------------------------------------

def _expected(user, case: Case) -> bool:
    return allowed(user, case.operation)


@pytest.mark.one_store("a refusal comes from require(), before any SQL of the function (checked above); the allowed "
                       "calls run on PostgreSQL in tests/test_audit_completeness.py, the same cases by the same actors")
@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_actor_on_service_function(env, requested, case, who):
    user = actor(env, who)
    case.prepare(env)
    if _expected(user, case):
        case.call(env, user)
    else:
        before = env.dump()
        requested.asked.clear()
        with pytest.raises(PermissionDenied) as refused:
            case.call(env, user)
        assert refused.value.message  # a French sentence for the window
        assert env.dump() == before
    if user is not None:  # nobody has no account of their own: the « own » cases ask for another's
        assert case.operation in requested.asked, f"{case.id} did not check {case.operation}"


@pytest.mark.one_store("require() refuses a disabled account before the function runs; its read of the account runs "
                       "on PostgreSQL in test_a_disabled_account_is_refused_on_either_store")
@pytest.mark.parametrize("case, who", allowed_pairs(REAL_ROLES), ids=lambda x: getattr(x, "id", x))
def test_a_disabled_account_is_refused_everywhere(env, case, who):
    """Every call a role may make is refused once its account is disabled (the window may still be open)."""
    _refused_once_disabled(env, case, who)


@pytest.mark.parametrize("who", REAL_ROLES)
def test_a_disabled_account_is_refused_on_either_store(env, who):
    """A write of each role, on each store: the account is read there as it is on SQLite."""
    _refused_once_disabled(env, next(case for case, role in allowed_pairs(REAL_ROLES)
                                     if role == who and case.audit_for(who) is not None), who)


def _refused_once_disabled(env, case, who) -> None:
    user = actor(env, who)
    case.prepare(env)
    env.set_account(user.key, active=False)
    before = env.dump()
    with pytest.raises(PermissionDenied, match="désactivé"):
        case.call(env, user)
    assert env.dump() == before


def test_an_account_whose_role_changed_since_login_is_refused(env):
    coordinator = actor(env, "coordinator")
    env.set_account(coordinator.key, role="referent")
    with pytest.raises(PermissionDenied, match="droits ont changé"):
        families.list_families(env.uow(), coordinator, TODAY)


@pytest.mark.one_store("the table is Python; require()'s reads run on PostgreSQL in tests/test_audit_completeness.py")
@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("operation", sorted(PERMISSIONS))
def test_the_table_itself_role_by_operation(env, operation, who):
    """require() on a family the référent follows: allowed exactly for the roles of the rule (SYSTEM: `system`)."""
    user = actor(env, who)
    rule = PERMISSIONS[operation]
    with env.uow() as w:
        family_id = env.id("family", "F1") if rule.followed else None
        if who == "system":
            expected = rule.system
        elif who == "nobody":
            expected = False  # someone can log in: no bootstrap
        else:
            expected = user.role in rule.roles
        if expected:
            require(user, operation, family_id=family_id, session=w.session)
        else:
            with pytest.raises(PermissionDenied):
                require(user, operation, family_id=family_id, session=w.session)


@pytest.mark.parametrize("who", ACTORS)
def test_an_operation_missing_from_the_table_is_refused(env, who):
    with env.uow() as w, pytest.raises(PermissionDenied, match="table des permissions"):
        require(actor(env, who), "family.delete", session=w.session)


def test_a_lookalike_of_the_system_actor_is_an_unknown_account(env):
    lookalike = CurrentUser(SYSTEM.id, SYSTEM.key, SYSTEM.name, SYSTEM.role)
    assert lookalike == SYSTEM and lookalike is not SYSTEM
    with pytest.raises(PermissionDenied, match="désactivé"):
        home_sessions.list_sessions(env.uow(), lookalike)


def test_the_system_key_is_reserved(env):
    with pytest.raises(ValidationError, match="réservé"):
        add_user(env.uow(), SYSTEM, "System", "administrator", PASSWORD)
    with pytest.raises(Exception, match="réservé"):
        import_dataset(env.uow(), {"format": "parcours-dataset/1",
                                   "users": [{"key": "system", "name": "X", "role": "administrator"}]}, SYSTEM)


# -- a référent: only the families they follow ---------------------------------------------------------------

def test_a_referent_cannot_read_or_write_a_family_they_do_not_follow(env):
    referent, f3 = actor(env, "referent"), env.id("family", "F3")
    draft = home_sessions.SessionDraft(f3, env.id("intervenant", "i-aes"), date(2025, 3, 18), 60)
    refused = [
        lambda: families.family_file(env.uow(), referent, f3, TODAY),
        lambda: activity.family_hours(env.uow(), referent, f3),
        lambda: home_sessions.usual_intervenant(env.uow(), referent, f3),
        lambda: home_sessions.check_session(env.uow(), referent, draft, TODAY),
        lambda: home_sessions.record_session(env.uow(), referent, draft, TODAY),
        lambda: home_sessions.get_session(env.uow(), referent, env.id("session", "S5")),
        lambda: record_consent(env.uow(), referent, "F3", date(2025, 3, 1), "Atout Plus", today=TODAY),
    ]
    before = env.dump()
    for call in refused:
        with pytest.raises(PermissionDenied, match="pas suivie par vous"):
            call()
    assert env.dump() == before


def test_a_referent_follows_a_family_through_the_parcours_of_one_of_its_children(env):
    referent, f4 = actor(env, "referent"), env.id("family", "F4")
    assert families.family_file(env.uow(), referent, f4, TODAY).key == "F4"  # family référent: ref-other
    other = env.users["ref-other"]
    assert families.family_file(env.uow(), other, f4, TODAY).key == "F4"
    with pytest.raises(PermissionDenied):
        families.family_file(env.uow(), other, env.id("family", "F1"), TODAY)


def test_a_referents_lists_hold_only_the_families_they_follow(env):
    referent = actor(env, "referent")
    assert {f.key for f in families.list_families(env.uow(), referent, TODAY)} == {"F1", "F2", "F4"}
    assert {f.key for f in families.family_choices(env.uow(), referent)} == {"F1", "F2", "F4"}
    sessions = home_sessions.list_sessions(env.uow(), referent)
    assert "S5" not in {s.key for s in sessions} and {"S1", "S6"} <= {s.key for s in sessions}
    assert home_sessions.count_sessions(env.uow(), referent) == len(sessions)
    week = home_sessions.week_sessions(env.uow(), referent, date(2025, 3, 4))
    assert "S5" not in {s.key for s in week.sessions}
    month = activity.monthly_activity(env.uow(), referent, "2025-03")
    assert "F3" not in {line.family_key for line in month.lines}
    coordinator = actor(env, "coordinator")
    assert {f.key for f in families.list_families(env.uow(), coordinator, TODAY)} == {"F1", "F2", "F3", "F4", "F5"}
    assert "F3" in {line.family_key for line in activity.monthly_activity(env.uow(), coordinator, "2025-03").lines}
    assert all(f.session.family_id != env.id("family", "F3") for f in flagged_sessions(env.uow(), referent))
    assert {f.key for f in families_without_consent(env.uow(), referent)} == {"F2", "F4"}
    assert {f.key for f in families_without_consent(env.uow(), coordinator)} == {"F2", "F3", "F4"}


# -- notes: the family's référent and the coordination only ------------------------------------------------------

def test_session_notes_are_hidden_from_administrators(env):
    admin = actor(env, "administrator")
    rows = home_sessions.list_sessions(env.uow(), admin)
    assert {"S5", "S6"} <= {r.key for r in rows}  # the administration sees the sessions…
    assert all(r.notes is None for r in rows)  # …never their notes
    assert home_sessions.get_session(env.uow(), admin, env.id("session", "S6")).notes is None
    assert all(s.notes is None for s in home_sessions.week_sessions(env.uow(), admin, date(2025, 3, 4)).sessions)
    notes = {r.key: r.notes for r in home_sessions.list_sessions(env.uow(), actor(env, "coordinator"))}
    assert (notes["S5"], notes["S6"]) == (F3_NOTE, F1_NOTE)
    notes = {r.key: r.notes for r in home_sessions.list_sessions(env.uow(), actor(env, "referent"))}
    assert notes["S6"] == F1_NOTE and "S5" not in notes


def test_administrators_cannot_open_family_files(env):
    admin = actor(env, "administrator")
    before = env.dump()
    for family in ("F1", "F3"):
        with pytest.raises(PermissionDenied, match="Administration.*ouvrir le dossier d'une famille"):
            families.family_file(env.uow(), admin, env.id("family", family), TODAY)
    with pytest.raises(PermissionDenied):
        families.list_families(env.uow(), admin, TODAY)
    with pytest.raises(PermissionDenied):
        activity.family_hours(env.uow(), admin, env.id("family", "F1"))
    assert env.dump() == before


def test_the_family_file_shows_notes_to_whom_may_read_them(env):
    assert families.family_file(env.uow(), actor(env, "coordinator"), env.id("family", "F3"), TODAY).notes == (
        "Dossier suivi par Paul Autre")
    file = families.family_file(env.uow(), actor(env, "referent"), env.id("family", "F1"), TODAY)
    assert F1_NOTE in {s.notes for s in file.sessions}


# -- first start: no user at all ---------------------------------------------------------------------------------

def test_without_a_user_only_the_first_start_is_allowed(tmp_path, env):
    engine = make_engine(str(tmp_path / "empty.sqlite"))
    migrate(engine)
    uow = unit_of_work_factory(engine)
    import_dataset(uow(), {"format": "parcours-dataset/1", "partners": [{"key": "pep", "name": "PEP 01"}]})
    assert needs_first_administrator(uow())
    first = create_first_administrator(uow(), "admin", PASSWORD)
    assert first.role == "administrator"
    with pytest.raises(PermissionDenied, match="connectez-vous"):
        create_first_administrator(uow(), "intrus", PASSWORD)
    with pytest.raises(PermissionDenied, match="connectez-vous"):
        import_dataset(uow(), {"format": "parcours-dataset/1", "partners": [{"key": "x", "name": "X"}]})
    with uow() as w:
        assert [f for f in w.session.scalars(select(Family))] == []
    engine.dispose()
    before = env.dump()  # the shared programme: admin-petit has a password
    with pytest.raises(PermissionDenied):
        create_first_administrator(env.uow(), "intrus", PASSWORD)
    assert env.dump() == before


def test_pair_count(capsys):
    """How many (actor × operation) pairs this file tries; quoted in the README."""
    matrix = len(CASES) * len(ACTORS)
    table = len(PERMISSIONS) * len(ACTORS)
    print(f"\n{matrix} actor × service-function pairs ({len(CASES)} cases × {len(ACTORS)} actors), "
          f"{table} actor × table-operation pairs ({len(PERMISSIONS)} operations)")
    assert matrix and table
