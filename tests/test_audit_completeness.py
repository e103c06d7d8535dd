"""Audit completeness: every writing service call leaves exactly one audit entry per record it changes — who, what,
which record, which field names — in the same transaction as the change; opening a family file leaves an « open »
entry; reading leaves nothing; a refused or failed call leaves nothing.

The calls are those of tests/service_cases.py (every public service function), made by every actor allowed to.
"""
from __future__ import annotations

import json
import re

import pytest

from services import audit, families, session_exceptions
from services.errors import PermissionDenied, ValidationError
from services.orientations import reject_orientation
from tests.service_cases import ACTORS, CASES, PASSWORD, TODAY, actor, allowed_pairs
from tests.both_stores import env, template  # noqa: F401 (fixtures, on both stores)

# The text typed into the sample calls: none of it may reach the audit log.
SAMPLE_VALUES = ("Séance calme", "Ordre du jour", "Soutien scolaire", "Atout Plus renforcé", "Hors critères", "Lecture",
                 "Objectifs atteints", "Pas de motif", "PEP 01", "Adom de l'Ain", "Inès Roux", "Nadia Benali-Roux",
                 "Nouvelle Référente", PASSWORD)
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,39}")


ALLOWED_CALLS = allowed_pairs()


def new_rows(env, call) -> list[tuple]:
    before = {row[0] for row in env.audit_rows()}
    call()
    return [row for row in env.audit_rows() if row[0] not in before]


@pytest.mark.parametrize("case, who", ALLOWED_CALLS, ids=lambda x: x.id if hasattr(x, "id") else x)
def test_one_audit_entry_per_audited_call_and_none_for_a_read(env, case, who):
    user = actor(env, who)
    case.prepare(env)
    before = env.dump()
    rows = new_rows(env, lambda: case.call(env, user))
    if case.audit_for(who) is None:  # a read: nothing at all is written, audit log included
        assert rows == [] and env.dump() == before, f"{case.id} is a read: it must write nothing"
        return
    action, record_type, record_key = case.audit_for(who)
    assert len(rows) == 1, f"{case.id}: {len(rows)} audit entries"
    _id, actor_key, got_action, got_type, got_key, changed = rows[0]
    assert (actor_key, got_action, got_type) == (user.key, action, record_type)
    if record_key == "<own>":
        record_key = user.key
    if record_key is not None:
        assert got_key == record_key
    names = json.loads(changed)
    assert all(IDENTIFIER.fullmatch(name) for name in names)
    assert not any(value in repr(rows[0]) for value in SAMPLE_VALUES)


def test_opening_a_family_file_twice_writes_two_open_entries(env):
    coordinator = actor(env, "coordinator")
    family = env.id("family", "F3")
    rows = new_rows(env, lambda: [families.family_file(env.uow(), coordinator, family, TODAY) for _ in range(2)])
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [("coord-durand", "open", "family", "F3", "[]")] * 2


def test_a_decision_on_several_sessions_writes_one_entry_per_session(env):
    coordinator = actor(env, "coordinator")
    ids = [env.id("session", "S1"), env.id("session", "S6")]
    rows = new_rows(env, lambda: session_exceptions.refuse_exceptions(env.uow(), coordinator, ids, "Non", TODAY))
    assert sorted((r[2], r[4]) for r in rows) == [("refuse_exception", "S1"), ("refuse_exception", "S6")]
    assert {tuple(json.loads(r[5])) for r in rows} == {
        ("exception_decided_by_id", "exception_reason", "exception_refused")}


def test_a_refused_or_failed_write_leaves_no_entry(env):
    coordinator, referent = actor(env, "coordinator"), actor(env, "referent")
    pending = env.id("orientation", "O-prop")
    before = env.dump()
    with pytest.raises(ValidationError):
        reject_orientation(env.uow(), coordinator, pending, "   ", TODAY)
    with pytest.raises(PermissionDenied):
        session_exceptions.approve_exceptions(env.uow(), referent, [env.id("session", "S1")])
    assert env.dump() == before


WRITES = [case for case in CASES if case.audit is not None and case.audit[0] != "open"]


@pytest.mark.parametrize("case", WRITES, ids=lambda c: c.id)
def test_the_entry_is_written_in_the_same_transaction_as_the_change(env, monkeypatch, case):
    """If the audit entry cannot be written, the change is not written either."""
    who = next(w for w in ACTORS if (case, w) in ALLOWED_CALLS and case.audit_for(w) is not None)
    user = actor(env, who)
    case.prepare(env)
    before = env.dump()

    def broken(*_args, **_kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "_append", broken)  # every entry goes through it (record, and the purge's own)
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        case.call(env, user)
    assert env.dump() == before
