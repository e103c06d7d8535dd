"""The team server's side of the sync: apply the operations a laptop pushes, hand out the changes it pulls.

Push: each operation in its own transaction, through the service the window calls (services.sync.operations), as
the device's user. `sync_applied` is written in the transaction of the apply (or of the refusal): an operation sent
again (its answer was lost) gets the stored answer as « duplicate », never a second apply. Conflict rule: each field
whose server value still equals the operation's base, or already equals its new value, merges (audited
« sync_merge » when the record changed since the laptop read it); a field the server changed since to something
else is a conflict: nothing of the operation is applied, the laptop shows base, local and server values.
Nothing is decided by a clock.

Pull: the changes after the laptop's cursor, by change number (commit order, services.sync.changes), limited to what
the user may read; once the log is read to its end, the families that left a référent's scope since the cursor
(`removed_families`), and the whole file of those that entered it.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event, or_, select
from sqlalchemy.exc import IntegrityError

from models import Device, SyncApplied, SyncAudit, SyncChange, SyncClock, SyncScope
from models.base import utcnow
from services import audit
from services.devices import REVOKED, DeviceRefused
from services.errors import DomainError, NotFound, StaleEdit, ValidationError
from services.permissions import CurrentUser, followed_family_ids, require
from services.sync import changes
from services.sync.changes import RULES, canonical, family_of, from_json, install_change_log, row_json, to_json
from services.sync.operations import AUDIT_APPEND, BY_NAME, CHILD_FIELDS, CREATE, DELETE, Applying, Verb
from services.uow import UnitOfWork

__all__ = ["ChangesPage", "OperationResult", "SyncDevice", "apply_operations", "changes_after", "install_change_log",
           "pushing_device"]

MAX_OPERATIONS = 500  # per push: the laptop sends its outbox in batches
MAX_PAGE = 5000
STALE_ATTEMPTS = 3  # a write between the merge's read and the service's own check: read and merge again
APPLIED, CONFLICT, REFUSED, DUPLICATE = "applied", "conflict", "refused", "duplicate"

NOT_THIS_DEVICE = "Ce poste n'est pas l'un des vôtres : l'envoi est refusé. Reconnectez ce poste au serveur."
OTHER_ACTOR = ("Cette modification a été faite sous un autre compte que celui de ce poste : le serveur ne l'applique "
               "pas. Reconnectez-vous sous ce compte pour l'envoyer.")
GONE = ("Cet enregistrement a été supprimé sur le serveur entre-temps : votre modification n'a pas pu être "
        "appliquée.")
CLASH = ("Cette modification n'a pas pu être enregistrée sur le serveur : elle en contredit une autre (un code déjà "
         "utilisé). Vérifiez-la et refaites-la.")


@dataclass(frozen=True)
class SyncDevice:
    id: str
    key: str
    user: CurrentUser


@dataclass(frozen=True)
class OperationResult:
    id: str
    outcome: str  # applied | conflict | refused | duplicate
    reason: str | None = None  # French, for a refusal
    conflict: dict | None = None  # {"fields": {field: {"base", "local", "server"}}}
    version: int | None = None  # the record's version on the server after the operation
    original: str | None = None  # for a duplicate: the outcome first given

    def as_json(self) -> dict:
        return {"id": self.id, "outcome": self.outcome, "reason": self.reason, "conflict": self.conflict,
                "version": self.version, **({"original": self.original} if self.original else {})}


@dataclass(frozen=True)
class Change:
    number: int
    table: str
    key: str  # the record's id
    deleted: bool
    row: dict | None


@dataclass(frozen=True)
class ChangesPage:
    changes: tuple[Change, ...]
    removed_families: tuple[str, ...]
    next: int
    more: bool

    def as_json(self) -> dict:
        return {"changes": [{"number": c.number, "table": c.table, "key": c.key, "deleted": c.deleted, "row": c.row}
                            for c in self.changes],
                "removed_families": list(self.removed_families), "next": self.next, "more": self.more}


# -- push -------------------------------------------------------------------------------------------------------

def pushing_device(uow: UnitOfWork, user: CurrentUser, device_key: str) -> SyncDevice:
    """The device a push comes from: one of `user`'s, not revoked (DeviceRefused otherwise: 401)."""
    with uow:
        require(user, "sync.push", session=uow.session)
        device = uow.session.scalars(select(Device).where(Device.key == device_key)).one_or_none() \
            if isinstance(device_key, str) else None
        if device is None or device.user_id != user.id:
            raise DeviceRefused(NOT_THIS_DEVICE)
        if device.revoked_at is not None:
            raise DeviceRefused(REVOKED)
        return SyncDevice(device.id, device.key, user)


def apply_operations(uow_factory: Callable[[], UnitOfWork], device: SyncDevice, operations: list,
                     clock: Callable[[], datetime] = utcnow) -> list[OperationResult]:
    """Apply `operations` (in the device's sequence order), each in its own transaction; one result each."""
    if not isinstance(operations, list):
        raise ValidationError("« operations » doit être une liste d'opérations.", field="operations")
    if len(operations) > MAX_OPERATIONS:
        raise ValidationError(f"Au plus {MAX_OPERATIONS} opérations par envoi : envoyez le reste ensuite.",
                              field="operations")
    today = clock().astimezone().date()
    return [_apply_one(uow_factory, device, operation, today) for operation in operations]


@dataclass
class _Parsed:
    id: str
    sequence: int
    name: str
    record: str
    base_version: int | None
    fields: dict  # column -> (base JSON, value JSON)


def _parse(operation, device: SyncDevice) -> tuple[_Parsed | None, str | None]:
    """The operation read, or the French reason it cannot be."""
    if not isinstance(operation, dict):
        return None, "Une opération doit être un objet JSON."
    op_id = operation.get("id")
    if not isinstance(op_id, str) or not 0 < len(op_id) <= 36:
        return None, "L'opération n'a pas d'identifiant lisible (« id »)."
    parsed = _Parsed(op_id, 0, "", "", None, {})
    sequence, name, record = operation.get("sequence"), operation.get("name"), operation.get("record")
    base_version, given = operation.get("base_version"), operation.get("fields", {})
    if operation.get("device") != device.key:
        return parsed, NOT_THIS_DEVICE
    if operation.get("actor") != device.user.key:
        return parsed, OTHER_ACTOR
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        return parsed, "Le numéro d'ordre de l'opération (« sequence ») doit être un entier positif."
    if not isinstance(name, str) or (name not in BY_NAME and name != AUDIT_APPEND):
        return parsed, (f"Le serveur ne sait pas appliquer l'opération « {str(name)[:40]} » : mettez Parcours à "
                        "jour, ou refaites cette modification sur le serveur.")
    if not isinstance(record, str) or not 0 < len(record) <= 36:
        return parsed, "L'opération ne désigne pas son enregistrement (« record »)."
    if base_version is not None and (not isinstance(base_version, int) or isinstance(base_version, bool)):
        return parsed, "La version de référence (« base_version ») doit être un entier."
    if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
        return parsed, "Les champs de l'opération (« fields ») doivent être {champ: {\"base\", \"value\"}}."
    parsed.sequence, parsed.name, parsed.record, parsed.base_version = sequence, name, record, base_version
    parsed.fields = {column: (value.get("base"), value.get("value")) for column, value in given.items()}
    return parsed, None


def _apply_one(uow_factory, device: SyncDevice, operation, today) -> OperationResult:
    parsed, problem = _parse(operation, device)
    if parsed is None:
        return OperationResult(str(operation.get("id")) if isinstance(operation, dict) else "", REFUSED, problem)
    stored = _stored(uow_factory(), device.user, parsed.id)
    if stored is not None:
        return stored
    if problem is not None:
        return _store_refusal(uow_factory, device, parsed, problem)
    if parsed.name == AUDIT_APPEND:
        return _append_audit(uow_factory, device, parsed)
    verb = BY_NAME[parsed.name]
    for _attempt in range(STALE_ATTEMPTS):
        try:
            return _apply_verb(uow_factory, device, parsed, verb, today)
        except StaleEdit:
            continue  # written by someone else between the merge's read and the service: merge again
        except DomainError as exc:
            return _store_refusal(uow_factory, device, parsed, exc.message)
        except IntegrityError:
            stored = _stored(uow_factory(), device.user, parsed.id)  # the same operation, applied at once by another
            return stored if stored is not None else _store_refusal(uow_factory, device, parsed, CLASH)
    return _store_refusal(uow_factory, device, parsed, "Le serveur a été modifié plusieurs fois pendant l'envoi : "
                                                       "renvoyez cette modification.")


def _stored(uow: UnitOfWork, user: CurrentUser, op_id: str) -> OperationResult | None:
    with uow:
        require(user, "sync.push", session=uow.session)
        row = uow.session.get(SyncApplied, op_id)
        if row is None:
            return None
        result = json.loads(row.result)
        return OperationResult(op_id, DUPLICATE, result.get("reason"), result.get("conflict"), result.get("version"),
                               original=row.outcome)


def _applied_row(device: SyncDevice, parsed: _Parsed, result: OperationResult) -> SyncApplied:
    return SyncApplied(operation_id=parsed.id, device_id=device.id, sequence=parsed.sequence, outcome=result.outcome,
                       result=json.dumps(result.as_json(), ensure_ascii=False))


def _store(uow_factory, device: SyncDevice, parsed: _Parsed, result: OperationResult) -> OperationResult:
    """Record an answer that wrote nothing else (a conflict, a refusal, an operation already in effect)."""
    try:
        with uow_factory() as uow:
            require(device.user, "sync.push", session=uow.session)
            uow.session.add(_applied_row(device, parsed, result))
            uow.commit()
    except IntegrityError:
        return _stored(uow_factory(), device.user, parsed.id) or result
    return result


def _store_refusal(uow_factory, device, parsed: _Parsed, reason: str) -> OperationResult:
    return _store(uow_factory, device, parsed, OperationResult(parsed.id, REFUSED, reason))


def _append_audit(uow_factory, device: SyncDevice, parsed: _Parsed) -> OperationResult:
    """A laptop's audit entry, stored as it was written there, with its receipt time."""
    values = {column: value for column, (_base, value) in parsed.fields.items()}
    table = SyncAudit.__table__
    kept = {}
    try:
        for name in ("at", "actor_key", "action", "record_type", "record_key", "changed_fields", "seq", "entry_hash",
                     "anchor"):
            value = values.get(name)
            if name == "changed_fields" and not isinstance(value, (str, type(None))):
                value = json.dumps(value, ensure_ascii=False)
            kept[name] = from_json(table.c[name], value)
        if kept["at"] is None or not kept["action"] or not kept["record_type"]:
            raise ValueError("incomplete")
    except ValueError:
        return _store_refusal(uow_factory, device, parsed, "L'entrée du journal d'audit envoyée est illisible : elle "
                                                           "n'a pas été enregistrée.")
    result = OperationResult(parsed.id, APPLIED)
    try:
        with uow_factory() as uow:
            require(device.user, "sync.push", session=uow.session)
            if uow.session.get(SyncAudit, parsed.record) is None:
                kept["changed_fields"] = kept["changed_fields"] or "[]"
                uow.session.add(SyncAudit(id=parsed.record, device_id=device.id, received_at=utcnow(), **kept))
            uow.session.add(_applied_row(device, parsed, result))
            uow.commit()
    except IntegrityError:
        return _stored(uow_factory(), device.user, parsed.id) or result
    return result


class _ApplyingWork:
    """The unit of work handed to the service: the same transaction, with the answer (`sync_applied`) and the
    merge's audit entry added just before the service commits. A creation gets the laptop's id (and key)."""

    def __init__(self, inner: UnitOfWork, on_commit: Callable, creation: tuple | None):
        self.inner, self.on_commit, self.creation = inner, on_commit, creation
        self.session = None
        self.done = False

    def __enter__(self):
        self.inner.__enter__()
        self.session = self.inner.session
        if self.creation is not None:
            event.listen(self.session, "before_flush", self._assign)
        return self

    def __exit__(self, *exc_info):
        try:
            return self.inner.__exit__(*exc_info)
        finally:
            self.session = None

    def _assign(self, session, _context, _instances) -> None:
        if self.creation is None:
            return
        model, record_id, key = self.creation
        for record in session.new:
            if type(record) is model and record.id is None:
                record.id = record_id
                if key and hasattr(record, "key"):
                    record.key = key
                self.creation = None  # the first such record only: the one the operation creates
                return

    def commit(self) -> None:
        if not self.done:
            self.on_commit(self.session)
            self.done = True
        self.inner.commit()

    def rollback(self) -> None:
        self.inner.rollback()


def conflicting_fields(given: dict, current: dict) -> dict:
    """The conflict rule: a field whose server value is neither the operation's base (untouched since the laptop
    read it) nor its new value (the same change made on both sides) was changed on the server to something else.
    `given`: {column: (base, value)}, `current`: the server's {column: value}, all in their wire form."""
    return {column: {"base": base, "local": value, "server": current.get(column)}
            for column, (base, value) in given.items() if current.get(column) not in (base, value)}


def _apply_verb(uow_factory, device: SyncDevice, parsed: _Parsed, verb: Verb, today) -> OperationResult:
    user = device.user
    model = changes.models_by_table()[verb.table]
    table = model.__table__
    extra = CHILD_FIELDS.get(verb.table, {})  # a child table sent as one field of its parent
    try:
        given = {column: (canonical(table.c[column], base), canonical(table.c[column], value))
                 for column, (base, value) in parsed.fields.items() if column in table.c}
        given.update({name: (None if base is None else extra[name].wire(base), extra[name].wire(value))
                      for name, (base, value) in parsed.fields.items() if name in extra})
    except ValueError:
        raise ValidationError("Une valeur de cette modification est illisible pour le serveur : refaites-la.")
    unknown = sorted(set(parsed.fields) - set(table.c.keys()) - set(extra))
    if unknown:
        raise ValidationError(f"Le serveur ne connaît pas le champ « {unknown[0][:40]} » : mettez Parcours à jour.")

    settled = None  # an answer known from the read alone, stored once the read's unit of work is left: on SQLite
    # each unit of work holds the write lock, a second one opened inside it would wait for it (« database is locked »)
    with uow_factory() as read:
        require(user, "sync.push", session=read.session)
        record = read.session.get(model, parsed.record)
        if record is None and verb.kind == DELETE:
            settled = OperationResult(parsed.id, APPLIED)  # already gone
        elif record is None and verb.kind != CREATE:
            raise NotFound(GONE)
        elif record is not None and verb.kind == CREATE:  # the creation is already in effect
            settled = OperationResult(parsed.id, APPLIED, version=record.version)
        current = {}
        if record is not None and settled is None:
            require(user, verb.operation, family_id=family_of(read.session, record), session=read.session)
            current = {column.name: to_json(column, getattr(record, column.key)) for column in table.columns}
            current.update({name: child.read(record) for name, child in extra.items()})
            based_on, version = record.updated_at, record.version
        else:
            based_on, version = None, None
    if settled is not None:
        return _store(uow_factory, device, parsed, settled)

    if verb.kind == DELETE:
        if parsed.base_version is not None and parsed.base_version != version:
            return _store(uow_factory, device, parsed, OperationResult(parsed.id, CONFLICT, conflict={"fields": {
                "version": {"base": parsed.base_version, "local": None, "server": version}}}, version=version))
        changed, merged = frozenset(), False
    else:
        clashes = conflicting_fields(given, current) if verb.kind != CREATE else {}
        if clashes:
            return _store(uow_factory, device, parsed, OperationResult(parsed.id, CONFLICT,
                                                                       conflict={"fields": clashes}, version=version))
        changed = frozenset(c for c, (_b, value) in given.items() if verb.kind == CREATE or current.get(c) != value)
        if not changed:  # already as the laptop wants it
            return _store(uow_factory, device, parsed, OperationResult(parsed.id, APPLIED, version=version))
        merged = verb.kind != CREATE and parsed.base_version is not None and parsed.base_version != version

    values = {column.name: from_json(column, current.get(column.name)) for column in table.columns} \
        if current else {}
    values.update({name: current[name] for name in extra if name in current})
    values.update({column: value if column in extra else from_json(table.c[column], value)
                   for column, (_base, value) in given.items()})
    answer: list[OperationResult] = []

    def on_commit(session) -> None:
        session.flush()
        stored = session.get(model, parsed.record)
        result = OperationResult(parsed.id, APPLIED, version=stored.version if stored is not None else None)
        if merged:
            audit.record(session, user.key, "sync_merge", verb.table, getattr(stored, "key", parsed.record),
                         sorted(changed))
        session.add(_applied_row(device, parsed, result))
        answer.append(result)

    creation = (model, parsed.record, values.get("key")) if verb.kind == CREATE else None
    work = _ApplyingWork(uow_factory(), on_commit, creation)
    verb.apply(Applying(work, user, parsed.record, values, changed, based_on, today))
    if not answer:  # the service wrote nothing (it had nothing to do): the answer is still kept
        return _store(uow_factory, device, parsed, OperationResult(parsed.id, APPLIED, version=version))
    return answer[0]


# -- pull -------------------------------------------------------------------------------------------------------

def changes_after(uow: UnitOfWork, user: CurrentUser, after: int, limit: int = 1000) -> ChangesPage:
    """The changes numbered after `after` that `user` may read, at most `limit`, in commit order."""
    with uow:
        require(user, "sync.pull", session=uow.session)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ValidationError("Le curseur « after » doit être un entier positif ou nul.", field="after")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_PAGE:
            raise ValidationError(f"« limit » doit être un entier de 1 à {MAX_PAGE}.", field="limit")
        s = uow.session
        upto = s.scalar(select(SyncClock.last).where(SyncClock.id == 1)) or 0
        readable = [name for name, rule in RULES.items() if user.role in rule.readers]
        query = select(SyncChange).where(SyncChange.number > after, SyncChange.number <= upto,
                                         SyncChange.table_name.in_(readable))
        if user.is_referent:
            scoped = [name for name in readable if RULES[name].scoped]
            query = query.where(or_(SyncChange.table_name.not_in(scoped), SyncChange.deleted.is_(True),
                                    SyncChange.family_id.in_(followed_family_ids(user.id))))
        query = query.with_only_columns(SyncChange.number, SyncChange.table_name, SyncChange.record_id,
                                        SyncChange.deleted)  # tuples: no object per change
        found = s.execute(query.order_by(SyncChange.number).limit(limit + 1)).all()
        more = len(found) > limit
        found = found[:limit]
        rows = _rows(s, user, {(c.table_name, c.record_id) for c in found if not c.deleted})
        page = [Change(c.number, c.table_name, c.record_id, c.deleted,
                       None if c.deleted else rows.get((c.table_name, c.record_id)))
                for c in found if c.deleted or (c.table_name, c.record_id) in rows]
        if more:
            return ChangesPage(tuple(page), (), found[-1].number, True)
        removed: tuple[str, ...] = ()
        if user.is_referent:
            removed = tuple(s.scalars(select(SyncScope.family_key).where(
                SyncScope.user_id == user.id, SyncScope.left_at > after, SyncScope.left_at <= upto)
                .order_by(SyncScope.left_at, SyncScope.family_key)))
            if after > 0:  # a family that entered the scope since: its whole file (its rows were numbered before)
                entered = dict(s.execute(select(SyncScope.family_id, SyncScope.entered_at).where(
                    SyncScope.user_id == user.id, SyncScope.left_at.is_(None), SyncScope.entered_at > after,
                    SyncScope.entered_at <= upto)).all())
                page += _family_files(s, user, entered)
        return ChangesPage(tuple(page), removed, max(after, upto), False)


def _rows(session, user: CurrentUser, wanted: set) -> dict:
    """{(table, id): row as JSON} of the records still there."""
    models = changes.models_by_table()
    found = {}
    for name in sorted({t for t, _ in wanted}):
        table = models[name].__table__
        ids = sorted(i for t, i in wanted if t == name)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            extra = changes.child_fields_json(session, name, chunk)
            for row in session.execute(select(table).where(table.c.id.in_(chunk))).mappings():
                found[(name, row["id"])] = {**row_json(table, row, user.role), **extra.get(row["id"], {})}
    return found


def _family_files(session, user: CurrentUser, entered: dict) -> list[Change]:
    """Every row of the families in `entered` ({family id: number it entered at}) that the user may read."""
    if not entered:
        return []
    from models import Child

    models = changes.models_by_table()
    ids = list(entered)
    result = []
    for name, rule in RULES.items():
        if not rule.scoped or user.role not in rule.readers:
            continue
        table = models[name].__table__
        if name == "family":
            family = table.c.id
        elif name == "parcours":
            family = select(Child.family_id).where(Child.id == table.c.child_id).scalar_subquery()
        else:
            family = table.c.family_id
        query = select(table, family.label("sync_family_id")).where(family.in_(ids)).order_by(table.c.id)
        rows = session.execute(query).mappings().all()
        extra = changes.child_fields_json(session, name, [row["id"] for row in rows])
        for row in rows:
            result.append(Change(entered[row["sync_family_id"]], name, row["id"], False,
                                 {**row_json(table, row, user.role), **extra.get(row["id"], {})}))
    result.sort(key=lambda c: c.number)
    return result
