"""The outbox of a laptop copy: every local write appends its operations in the same transaction.

The services stay as they are. A copy that is connected to a team server has its engine attached here (`attach`);
from then on, every unit of work on it is watched by three session events:
  * after each flush, the records the flush created, changed or deleted are noted with their base values (the
    values before this transaction, from SQLAlchemy's attribute history) and the version they were based on;
  * just before the commit, each noted record becomes one operation — its new values read from the object itself,
    so defaults and later changes in the same transaction are included — numbered in the device's sequence and
    inserted into `sync_outbox` in the same transaction: the write and its operation are committed together, or
    neither is (a crash in between rolls both back);
  * the audit entries of the transaction follow as « audit.append » operations: the trail travels unchanged.
A unit of work that applies what the server sent (`applying`) is not watched: it must not be sent back.

A child table without records of its own goes as one field of its parent (services.sync.operations.CHILD_FIELDS:
a parcours' referral reasons are its field « referral_reasons »), its base read from the collection's history.
Rows inserted by an ORM statement (`session.execute(insert(HomeSession), rows)`, the dataset import's bulk path)
skip the flush: they are noted by their ids when the statement runs and become creations read back at the commit.
An UPDATE or DELETE statement on a table that travels would change rows no operation could name: it is refused
on a connected copy (no service does it; the ORM's objects are the way).

Operation names are "<type>.<verb>", one per table and kind of change (NAMES); the server applies each through the
service that owns the change, as the operation's actor.
"""
from __future__ import annotations

import base64
import json
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal

from sqlalchemy import Engine, event, inspect, insert
from sqlalchemy.orm import Session

from models.base import Cents
from services.errors import ValidationError
from services.sync import local

# The records a laptop writes and the server receives, by table: (type of the operation names, verb of a creation).
NAMES: dict[str, tuple[str, str]] = {
    "home_session": ("session", "record"),
    "family": ("family", "create"),
    "guardian": ("guardian", "create"),
    "child": ("child", "create"),
    "parcours": ("parcours", "create"),
    "orientation": ("orientation", "create"),
    "eps_meeting": ("eps_meeting", "create"),
    "eps_situation": ("eps_situation", "create"),
    "meeting": ("meeting", "create"),
}
AUDIT_OPERATION = "audit.append"
AUDIT_COLUMNS = ("id", "at", "actor_key", "action", "record_type", "record_key", "changed_fields", "seq",
                 "entry_hash", "anchor")
# Written on the server only, received read-only: statements (issued there), and the reference data (conventions,
# partners, intervenants, the programme's settings), which no operation carries.
STATEMENTS = {"statement", "statement_line"}
SERVER_ONLY = STATEMENTS | {"programme", "partner", "action", "convention", "tariff", "tariff_amendment",
                            "intervenant", "intervenant_history"}
SERVER_ONLY_MESSAGE = ("Les états mensuels s'émettent sur le serveur de l'équipe, pas sur un poste connecté : "
                       "émettez-le depuis le serveur ; ce poste le recevra à la prochaine synchronisation.")
REFERENCE_MESSAGE = ("Les conventions, partenaires, intervenant·es et réglages du programme se modifient sur le "
                     "serveur de l'équipe, pas sur un poste connecté : rien n'a été enregistré ; ce poste recevra la "
                     "modification à la prochaine synchronisation.")
# Accounts are the server's (their passwords open every device): a copy holds them without their hashes, to name
# people, and refuses to change them rather than keep a change that would never reach the server.
ACCOUNTS = "app_user"
ACCOUNTS_MESSAGE = ("Les comptes et leurs mots de passe se gèrent sur le serveur de l'équipe, pas sur un poste "
                    "connecté : rien n'a été enregistré. Votre propre mot de passe : Fichier › Changer mon mot de "
                    "passe…")


def server_only_refusal(table: str) -> ValidationError:
    """The French refusal of a local write to a table only the server writes."""
    if table == ACCOUNTS:
        return ValidationError(ACCOUNTS_MESSAGE)
    return ValidationError(SERVER_ONLY_MESSAGE if table in STATEMENTS else REFERENCE_MESSAGE)


# Kept by each side for itself: never part of an operation.
UNSENT_COLUMNS = {"created_at", "updated_at", "version"}

APPLYING = "parcours_sync_applying"
_NOTED = "parcours_sync_noted"
_AUDIT = "parcours_sync_audit"
_VERSIONS = "parcours_sync_versions"
_ATTACHED: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def operation_name(table: str, kind: str) -> str:
    """`kind`: "create", "update" or "delete". The server's name (services.sync.operations) when it applies that
    change; otherwise the same form, which it refuses with its reason: kept here for correction, never dropped."""
    from services.sync.operations import TABLE_OPERATIONS

    known = TABLE_OPERATIONS.get(table, {}).get(kind)
    if known:
        return known
    type_, creation = NAMES[table]
    return f"{type_}.{creation if kind == 'create' else kind}"


def attach(engine: Engine) -> None:
    """Watch every unit of work on this (connected) copy; idempotent."""
    _listen_once()
    _ATTACHED.add(engine)


def detach(engine: Engine) -> None:
    _ATTACHED.discard(engine)


def attached(engine: Engine) -> bool:
    return engine in _ATTACHED


def applying(session: Session) -> None:
    """Mark a session as applying the server's changes: nothing it writes goes to the outbox."""
    session.info[APPLYING] = True


def as_json(value, column_type=None):
    """A column's value as the operation (and a pull) carries it: ISO-8601 moments, money in integer cents as
    stored."""
    if isinstance(column_type, Cents) and value is not None:
        return Cents().process_bind_param(value, None)
    if isinstance(value, datetime):
        if value.tzinfo is None:  # SQLite gives back naive UTC
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


@dataclass
class _Noted:
    table: str
    record: str
    kind: str  # create | update | delete
    obj: object
    base_version: int | None
    bases: dict = field(default_factory=dict)  # column -> value before this transaction


def _watched(session: Session) -> bool:
    if session.info.get(APPLYING):
        return False
    bind = session.get_bind()
    return getattr(bind, "engine", bind) in _ATTACHED


def _before_flush(session: Session, _context, _instances) -> None:
    """Refuse what only the server does; note the version each changed record had before its first flush here (the
    flush itself moves it on)."""
    if not _watched(session):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = inspect(obj).mapper.local_table.name
        if (table in SERVER_ONLY or table == ACCOUNTS) and (obj not in session.dirty or session.is_modified(obj)):
            if table == ACCOUNTS and obj in session.dirty and _only_login_counters(obj):
                continue
            raise server_only_refusal(table)
    versions: dict = session.info.setdefault(_VERSIONS, {})
    for obj in (*session.dirty, *session.deleted):
        state = inspect(obj)
        if "version" in state.mapper.column_attrs and state.identity:
            versions.setdefault((state.mapper.local_table.name, record_key(obj)), state.dict.get("version"))


LOGIN_COUNTERS = frozenset({"failed_logins", "locked_until"})  # never sent, never pulled (services.sync.changes)


def _only_login_counters(account) -> bool:
    """A login on a copy that still checks passwords itself (plain or PostgreSQL, no key file) resets its count of
    failures: that is not an account change. A password (or a rehash of it) is."""
    return {attr.key for attr in inspect(account).attrs if attr.history.has_changes()} <= LOGIN_COUNTERS


def _note_flush(session: Session, _context) -> None:
    """After a flush (history still readable): which records changed, and their values before this transaction."""
    if not _watched(session):
        return
    noted: dict = session.info.setdefault(_NOTED, {})
    audit: list = session.info.setdefault(_AUDIT, [])
    from services.sync.operations import CHILD_FIELDS

    changes = [("create", o) for o in session.new] + [("update", o) for o in session.dirty] + \
        [("delete", o) for o in session.deleted]
    for kind, obj in changes:
        state = inspect(obj)
        table = state.mapper.local_table.name
        if table == "audit_log" and kind == "create":
            audit.append(obj)
            continue
        if table not in NAMES:
            continue
        record = record_key(obj)
        entry = noted.get((table, record))
        if entry is None:
            entry = noted[(table, record)] = _Noted(table, record, kind, obj, None if kind == "create" else
                                                    session.info.get(_VERSIONS, {}).get((table, record)))
        elif kind == "delete":
            entry.kind = "gone" if entry.kind == "create" else "delete"  # created and deleted here: nothing to send
        if kind == "update" and entry.kind == "update":
            for attribute in state.mapper.column_attrs:
                if attribute.key in UNSENT_COLUMNS or attribute.key in entry.bases:
                    continue
                history = state.attrs[attribute.key].history
                if history.has_changes():
                    entry.bases[attribute.key] = history.deleted[0] if history.deleted else None
            for name, child in CHILD_FIELDS.get(table, {}).items():
                before = child.before(state) if name not in entry.bases else None
                if before is not None:
                    entry.bases[name] = before


def record_key(obj) -> str:
    """What an operation names a record by: its `id`, a uuid (made on the laptop for a creation)."""
    return str(obj.id)


def _columns(obj) -> dict:
    """{field: column type} of what an operation carries (a child table's field: type None)."""
    from services.sync.operations import CHILD_FIELDS

    mapper = inspect(obj).mapper
    return {**{a.key: a.columns[0].type for a in mapper.column_attrs if a.key not in UNSENT_COLUMNS},
            **dict.fromkeys(CHILD_FIELDS.get(mapper.local_table.name, {}))}


def _value(obj, name: str):
    from services.sync.operations import CHILD_FIELDS

    child = CHILD_FIELDS.get(inspect(obj).mapper.local_table.name, {}).get(name)
    return child.read(obj) if child is not None else getattr(obj, name)


def _operation(entry: _Noted) -> tuple[str, dict] | None:
    if entry.kind == "gone":
        return None
    if entry.kind == "delete":
        return operation_name(entry.table, "delete"), {}
    if entry.kind == "create":
        fields = {c: {"base": None, "value": as_json(_value(entry.obj, c), t)}
                  for c, t in _columns(entry.obj).items()}
        return operation_name(entry.table, "create"), fields
    fields, types = {}, _columns(entry.obj)
    for column, base in entry.bases.items():
        value = _value(entry.obj, column)
        if value != base:  # changed and changed back in one transaction: nothing to send
            fields[column] = {"base": as_json(base, types[column]), "value": as_json(value, types[column])}
    return (operation_name(entry.table, "update"), fields) if fields else None


def _without_a_files_parts(entries: list[_Noted]) -> list[_Noted]:
    """A family's deletion takes its guardians, children and parcours along (delete_family, on the server too): their
    own deletions in the same commit are not sent — alone, the server refuses them."""
    gone = {(entry.table, entry.record) for entry in entries if entry.kind == "delete"}
    families = {record for table, record in gone if table == "family"}
    children = {entry.record for entry in entries
                if entry.kind == "delete" and entry.table == "child" and entry.obj.family_id in families}

    def part(entry: _Noted) -> bool:
        if entry.kind != "delete":
            return False
        if entry.table in ("guardian", "child"):
            return entry.obj.family_id in families
        return entry.table == "parcours" and entry.obj.child_id in children

    return [entry for entry in entries if not part(entry)]


def _write_operations(session: Session) -> None:
    """Just before the commit: the noted changes become operations, inserted in this very transaction."""
    if not _watched(session):
        return
    session.flush()  # the last changes, noted by _note_flush; defaults (ids, keys) are now set
    noted: dict = session.info.pop(_NOTED, {})
    audit: list = session.info.pop(_AUDIT, [])
    session.info.pop(_VERSIONS, None)
    for entry in noted.values():
        if entry.obj is None:  # inserted by a statement: the row as stored, defaults included
            entry.obj = session.get(_model(entry.table), entry.record)
            if entry.obj is None:
                entry.kind = "gone"
    from services.sync.changes import table_rank

    ordered = sorted(noted.values(), key=lambda entry: table_rank(entry.table))  # parents first (table_rank)
    built = [(entry.table, entry.record, entry.base_version, *op) for entry in _without_a_files_parts(ordered)
             if (op := _operation(entry)) is not None]
    built += [("audit_log", entry.id, None, AUDIT_OPERATION,
               {c: {"base": None, "value": as_json(getattr(entry, c))} for c in AUDIT_COLUMNS}) for entry in audit]
    if built:
        append(session.connection(), built)


def append(connection, built: list[tuple]) -> None:
    """Insert operations (table, record, base version, name, fields) in the connection's transaction, numbered in
    the device's sequence, as the enrolled user."""
    state = local.read_state(connection)
    if state is None:  # attached, but the connection was never completed: nothing to send to
        return
    now = datetime.now(timezone.utc).astimezone().isoformat()
    first = local.take_sequences(connection, len(built))
    connection.execute(insert(local.OUTBOX), [
        dict(id=str(uuid.uuid4()), sequence=first + offset, name=name, record_table=table, record_key=record,
             base_version=base_version, fields=json.dumps(fields), actor_key=state["user_key"], local_time=now,
             status="pending")
        for offset, (table, record, base_version, name, fields) in enumerate(built)])


def _model(table: str):
    from services.sync.changes import models_by_table

    return models_by_table()[table]


def _statement(state) -> None:
    """ORM INSERT/UPDATE/DELETE statements skip the flush: an insert's rows are noted as creations by their ids."""
    if not (state.is_insert or state.is_update or state.is_delete) or not _watched(state.session):
        return
    mapper = state.bind_mapper
    table = mapper.local_table.name if mapper is not None else None
    if table in SERVER_ONLY:
        raise server_only_refusal(table)
    if table not in NAMES:
        return
    rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
    if not state.is_insert or not all(isinstance(row, dict) and row.get("id") for row in rows):
        raise ValidationError("Cette écriture ne peut pas être envoyée au serveur de l'équipe depuis un poste "
                              "connecté : rien n'a été enregistré ; faites-la sur le serveur.")
    noted: dict = state.session.info.setdefault(_NOTED, {})
    for row in rows:
        record = str(row["id"])
        noted.setdefault((table, record), _Noted(table, record, "create", None, None))


def _forget(session: Session, *_args) -> None:
    for name in (_NOTED, _AUDIT, _VERSIONS):
        session.info.pop(name, None)


_listening = False


def _listen_once() -> None:
    global _listening
    if _listening:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _note_flush)
    event.listen(Session, "before_commit", _write_operations)
    event.listen(Session, "after_rollback", _forget)
    event.listen(Session, "do_orm_execute", _statement)
    _listening = True
