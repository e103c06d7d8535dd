"""The laptop's side of the sync: connect a copy to the team server, push its outbox, pull the changes of its user's
scope, and show and resolve conflicts.

The server's certificate is pinned by its SHA-256 fingerprint: before each exchange the certificate the server
presents is read and compared with the fingerprint stored at connection; the requests themselves then trust that
certificate only. The device token, the laptop's credential, is stored in the copy (sync_state), as protected as the
data it gives access to.

A sync pushes first, in sequence order: each answer is recorded as it comes (applied, conflict — kept in
sync_conflict for a person to resolve —, or refused with the server's French reason, the local change kept for
correction); a network failure leaves every unanswered operation pending, and sending them again is harmless (the
server answers a replay with the stored result). It then pulls the changes after its cursor, in the server's commit
order, every page first, then all applied in one local transaction with the cursor after them (a pull cut short
applies nothing and is asked again). A record that still has unsettled
operations is never overwritten: the pulled row becomes its new base and the local values stay on top. Families
that left the user's scope are deleted, audited. A revoked device erases the copy at once.

On a copy encrypted here (services.local_crypto), the account's password is the copy's: the lock screen checks it
against the key file (unlock_screen), a password changed elsewhere rewraps the key once the server confirms it
(confirm_new_password), and one changed from this computer is changed on the server first (change_own_password).
Conflicts and refusals name their record as a person knows it (record_label) and their fields in French.
"""
from __future__ import annotations

import base64
import hashlib
import json
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Boolean, Date, DateTime, LargeBinary, Time, delete, func, select, text, update

from models.base import Base, Cents, utcnow
from services import audit
from services.errors import DomainError, NotFound, ValidationError
from services.permissions import CurrentUser, require
from services.sync import local, outbox
from services.sync.changes import FAMILY_COLUMN
from services.sync.operations import FIELD_NAMES
from services.uow import UnitOfWork

SCHEMA_HEADER = "X-Parcours-Schema"  # api.app's, which a service does not import
PUSH_BATCH = 100  # operations per request: far below the server's 1 MiB limit
PULL_PAGE = 1000
TIMEOUT_S = 30
REVOKED_CODE = "device_revoked"


class SyncError(DomainError):
    """The sync could not be done; the message says why and what to do, in French."""


class ServerUnreachable(SyncError):
    """No answer from the server: everything pending is kept."""


class ServerFault(SyncError):
    """The server answered with an error of its own (500, or its store unavailable): everything pending is kept."""


class FingerprintMismatch(SyncError):
    """The server presents another certificate than the one pinned: nothing was sent."""


class DeviceRevoked(SyncError):
    """The administration withdrew this device: its local copy has been erased."""


class NotConnected(SyncError):
    pass


@dataclass(frozen=True)
class SyncReport:
    pushed: int
    applied: int
    conflicts: int
    refused: int
    pulled: int


@dataclass(frozen=True)
class Connection:
    server: str
    fingerprint: str
    device_key: str
    user_key: str
    pulled: int


@dataclass(frozen=True)
class SyncStatus:
    connected: bool
    server: str | None
    pending: int
    refused: int
    open_conflicts: int
    last_sync: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class ConflictField:
    name: str
    base: object
    local: object
    server: object


@dataclass(frozen=True)
class Conflict:
    key: str
    operation: str  # its name, e.g. "session.update"
    record_table: str
    record_key: str
    fields: tuple[ConflictField, ...]
    detected_at: datetime
    resolved_at: datetime | None
    label: str = ""  # what the record is, from this copy: « Séance du 14/03/2026 — famille Dupont (F-0012) »


@dataclass(frozen=True)
class Refusal:
    operation_id: str
    operation: str
    record_table: str
    record_key: str
    reason: str
    label: str = ""  # as Conflict.label


# -- the wire ---------------------------------------------------------------------------------------------------

def fingerprint_of(pem: str) -> str:
    """« AB:CD:… », as `openssl x509 -fingerprint -sha256` and `serve --init` print it."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest())


def normalised_fingerprint(value: str) -> str:
    hexa = "".join(c for c in value.upper() if c in "0123456789ABCDEF")
    if len(hexa) != 64:
        raise ValidationError("L'empreinte SHA-256 du certificat doit compter 64 chiffres hexadécimaux "
                              "(par exemple « AB:CD:… », telle que `serve --init` l'affiche).", field="fingerprint")
    return ":".join(hexa[i:i + 2] for i in range(0, 64, 2))


def server_address(url: str) -> tuple[str, int, str]:
    """(host, port, base URL) of `https://HOST:PORT`; ValidationError in French for anything else."""
    parts = urlsplit(url.strip() if isinstance(url, str) else "")
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError("L'adresse du serveur doit être de la forme https://HÔTE:PORT (la connexion est "
                              "toujours chiffrée).", field="url")
    try:
        port = parts.port or 443
    except ValueError:
        raise ValidationError("Le port de l'adresse du serveur n'est pas un nombre valide.", field="url") from None
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    return host, port, f"https://{shown}:{port}"


def _kept(pending: int) -> str:
    return ("aucune modification n'était en attente" if pending == 0 else
            "votre modification reste en attente sur ce poste" if pending == 1 else
            f"vos {pending} modifications restent en attente sur ce poste")


def _unreachable(detail: str, pending: int) -> ServerUnreachable:
    return ServerUnreachable(f"Serveur injoignable : {detail} ; {_kept(pending)}. La synchronisation reprendra "
                             "quand le serveur répondra.")


def _network_detail(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException) or isinstance(exc, TimeoutError):
        return "pas de réponse dans le délai"
    if isinstance(exc, (httpx.ConnectError, ConnectionRefusedError)):
        return "connexion impossible (serveur arrêté, adresse erronée ou réseau absent)"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, ConnectionError)):
        return "la connexion a été interrompue"
    return "le réseau ne répond pas"


def presented_certificate(host: str, port: int) -> str:
    """The PEM certificate the server presents (not verified: it is compared with the pinned fingerprint)."""
    return ssl.get_server_certificate((host, port), timeout=TIMEOUT_S)


def pinned_context(pem: str) -> ssl.SSLContext:
    """Trusts this very certificate and nothing else; the name in the address is not what is checked, the key is."""
    context = ssl.create_default_context(cadata=pem)
    context.check_hostname = False
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a CA-issued certificate pinned as its own anchor
    return context


class _Server:
    """One exchange with the team server, over the pinned certificate."""

    def __init__(self, url: str, fingerprint: str | None, token: str | None, schema: str, pending: int,
                 wrap: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None):
        host, port, self.url = server_address(url)
        self.pending = pending
        try:
            pem = presented_certificate(host, port)
        except (OSError, ssl.SSLError) as exc:
            raise _unreachable(_network_detail(exc), pending) from None
        self.fingerprint = fingerprint_of(pem)
        if fingerprint is not None and self.fingerprint != fingerprint:
            raise FingerprintMismatch(
                f"Le serveur {self.url} présente un autre certificat que celui enregistré (empreinte attendue "
                f"{fingerprint}, reçue {self.fingerprint}) : rien n'a été envoyé. Ne continuez pas : prévenez le "
                "service informatique, qui vérifiera le serveur.")
        transport = httpx.HTTPTransport(verify=pinned_context(pem))
        headers = {SCHEMA_HEADER: schema}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.Client(base_url=self.url, transport=wrap(transport) if wrap else transport,
                                   headers=headers, timeout=TIMEOUT_S)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.client.close()

    def call(self, method: str, path: str, **kw) -> dict:
        try:
            response = self.client.request(method, path, **kw)
        except (httpx.TransportError, OSError) as exc:
            raise _unreachable(_network_detail(exc), self.pending) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 401 and (body.get("code") == REVOKED_CODE or _revoked_message(body)):
            raise _Revoked()
        if response.status_code >= 500:
            said = (body.get("message") or "Le serveur a rencontré une erreur inattendue.").rstrip(" .")
            raise ServerFault(f"{said} ; {_kept(self.pending)}.")
        if response.status_code >= 400:
            raise SyncError(body.get("message") or f"Le serveur a refusé la demande (code {response.status_code}).")
        return body


def _revoked_message(body: dict) -> bool:
    from services.devices import REVOKED

    return body.get("message") == REVOKED


class _Revoked(Exception):
    """The server said this device is revoked (turned into DeviceRevoked once the copy is erased)."""


# -- values -----------------------------------------------------------------------------------------------------

def from_json(column, value):
    """A value as the wire carries it, back into the column's Python type (see outbox.as_json)."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Cents):
        return (Decimal(value) / 100).quantize(Decimal("0.01")) if isinstance(value, int) else Decimal(str(value))
    if isinstance(kind, DateTime):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Time):
        return time.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, LargeBinary) and isinstance(value, str):  # an issued statement's PDF, as base64 text
        return base64.b64decode(value)
    return value


def _row(table, values: Mapping) -> dict:
    return {name: from_json(table.c[name], value) for name, value in values.items() if name in table.c}


# -- connection -------------------------------------------------------------------------------------------------

def _engine(uow_factory: Callable[[], UnitOfWork]):
    with uow_factory() as w:
        bind = w.session.get_bind()
        return getattr(bind, "engine", bind)


def _schema(uow_factory) -> str:
    from models.db import current_revision

    return current_revision(_engine(uow_factory))


def connect(uow_factory: Callable[[], UnitOfWork], url: str, user_key: str, password: str,
            fingerprint: str | None = None, *, label: str | None = None, clock: Callable[[], datetime] = utcnow,
            wrap: Callable | None = None) -> Connection:
    """Enrol this copy with the server as `user_key` (their login, checked by the server) and pull their scope.
    Without `fingerprint`, the certificate presented now is pinned (the result says which, to be compared with
    the one the IT gives). The copy must not hold any family yet: a laptop copy is the server's, not a merge."""
    pinned = normalised_fingerprint(fingerprint) if fingerprint else None
    server_address(url)
    engine = _engine(uow_factory)
    with engine.connect() as conn:
        state = local.read_state(conn)
        if state is not None:
            raise SyncError(f"Ce poste est déjà connecté au serveur {state['server_url']} (compte "
                            f"{state['user_key']}).")
        if conn.execute(text("SELECT count(*) FROM family")).scalar_one():
            raise SyncError("Cette base contient déjà des familles : un poste se connecte sur une base neuve, qui "
                            "reçoit du serveur les dossiers de son utilisateur. Donnez un autre fichier (--db).")
    with _Server(url, pinned, None, _schema(uow_factory), 0, wrap) as server:
        enrolled = server.call("POST", "/api/enrol", json={
            "user": user_key, "password": password, "device_label": label or f"Poste de {user_key}"})
        token, device = enrolled["token"], enrolled["device"]
        server.client.headers["Authorization"] = f"Bearer {token}"
        with engine.begin() as conn:
            local.write_state(conn, server_url=server.url, fingerprint=server.fingerprint, device_key=device["key"],
                              device_token=token, user_key=device["user_key"], user_id="", cursor=0,
                              next_sequence=1, enrolled_at=audit.as_utc(clock()))
        outbox.attach(engine)
        pulled = _pull(uow_factory, server, clock)
    return Connection(server.url, server.fingerprint, device["key"], device["user_key"], pulled)


def disconnect_locally(engine) -> None:
    outbox.detach(engine)


def attach_if_connected(engine) -> bool:
    """At the start of a copy: a connected copy's writes go through the outbox. Returns whether it is connected."""
    with engine.connect() as conn:
        connected = local.read_state(conn) is not None
    if connected:
        outbox.attach(engine)
    return connected


def acting_user(uow_factory: Callable[[], UnitOfWork]) -> CurrentUser | None:
    """The enrolled user of a connected copy (who every local write acts as), or None for a standalone copy."""
    from models import User

    with uow_factory() as w:
        state = local.read_state(w.session.connection())
        if state is None:
            return None
        account = w.session.scalars(select(User).where(User.key == state["user_key"])).one_or_none()
        if account is None:
            raise SyncError("Le compte de ce poste n'a pas encore été reçu du serveur : synchronisez d'abord.")
        return CurrentUser(account.id, account.key, account.name, account.role)


# -- sync -------------------------------------------------------------------------------------------------------

def sync_once(uow_factory: Callable[[], UnitOfWork], *, clock: Callable[[], datetime] = utcnow,
              wrap: Callable | None = None, push_batch: int = PUSH_BATCH) -> SyncReport:
    """Push every pending operation, then pull what changed on the server; see the module's docstring."""
    engine = _engine(uow_factory)
    with engine.connect() as conn:
        state = local.read_state(conn)
        pending = _count(conn, "pending")
    if state is None:
        raise NotConnected("Ce poste n'est pas connecté à un serveur d'équipe : connectez-le d'abord "
                           "(commande connect, ou « Se connecter au serveur du programme »).")
    outbox.attach(engine)
    try:
        with _Server(state["server_url"], state["fingerprint"], state["device_token"], _schema(uow_factory),
                     pending, wrap) as server:
            pushed = _push(engine, server, state, push_batch, clock)
            pulled = _pull(uow_factory, server, clock)
    except _Revoked:
        return _erase(engine)
    except SyncError as exc:
        with engine.begin() as conn:
            local.write_state(conn, last_error=exc.message)
        raise
    with engine.begin() as conn:
        local.write_state(conn, last_sync_at=audit.as_utc(clock()), last_error=None)
    return SyncReport(pushed["pushed"], pushed["applied"], pushed["conflict"], pushed["refused"], pulled)


def _count(conn, status: str) -> int:
    return conn.execute(select(func.count()).select_from(local.OUTBOX)
                        .where(local.OUTBOX.c.status == status)).scalar_one()


def _erase(engine) -> SyncReport:
    path = engine.url.database
    outbox.detach(engine)
    engine.dispose()  # every connection closed before its files go
    from services.local_crypto import erase_copy

    erased = erase_copy(path) if path and path != ":memory:" else ()
    raise DeviceRevoked("Ce poste a été retiré par l'administration : sa copie locale des dossiers a été effacée "
                        f"({len(erased)} fichier(s)). Pour travailler à nouveau, reconnectez-le avec votre "
                        "identifiant, ou adressez-vous à un administrateur.")


def _wire(op: Mapping, device: str) -> dict:
    return {"id": op["id"], "device": device, "sequence": op["sequence"], "name": op["name"],
            "record": op["record_key"], "record_table": op["record_table"], "base_version": op["base_version"],
            "fields": json.loads(op["fields"]), "actor": op["actor_key"], "local_time": op["local_time"]}


def _push(engine, server: _Server, state, batch: int, clock) -> dict[str, int]:
    counts = {"pushed": 0, "applied": 0, "conflict": 0, "refused": 0}
    while True:
        with engine.connect() as conn:
            ops = conn.execute(select(local.OUTBOX).where(local.OUTBOX.c.status == "pending")
                               .order_by(local.OUTBOX.c.sequence).limit(batch)).mappings().all()
        if not ops:
            return counts
        wire = [_wire(op, state["device_key"]) for op in ops]
        answer = server.call("POST", "/api/sync/push", json={"operations": wire})
        results = {r.get("id"): r for r in answer.get("results", [])}
        with engine.begin() as conn:  # the answers of a batch recorded together
            for op, sent in zip(ops, wire):
                result = results.get(op["id"])
                if result is None:  # not answered (the server stopped early): sent again next time
                    continue
                outcome = _record_answer(conn, op, sent, result, clock)
                counts["pushed"] += 1
                counts[outcome] += 1
            server.pending = _count(conn, "pending")
        if len(results) < len(ops):
            return counts


def _record_answer(conn, op, sent: dict, result: dict, clock) -> str:
    outcome = result.get("outcome")
    if outcome == "duplicate":  # a replay: the server gives the first answer again
        outcome = result.get("original") or "applied"
    if outcome not in ("applied", "conflict", "refused"):
        outcome = "refused"
        result = {**result, "reason": result.get("reason") or "Réponse du serveur illisible pour cette "
                  "modification : elle est gardée sur ce poste."}
    now = audit.as_utc(clock())
    conn.execute(update(local.OUTBOX).where(local.OUTBOX.c.id == op["id"]).values(
        status=outcome, reason=result.get("reason") if outcome == "refused" else None, result=json.dumps(result),
        server_version=result.get("version"), answered_at=now))
    if outcome == "conflict" and conn.execute(select(local.CONFLICT.c.id).where(
            local.CONFLICT.c.operation_id == op["id"])).first() is None:
        fields = (result.get("conflict") or {}).get("fields") or {}
        conn.execute(local.CONFLICT.insert().values(
            id=op["id"], operation_id=op["id"], name=op["name"], record_table=op["record_table"],
            record_key=op["record_key"], fields=json.dumps(fields), server_version=result.get("version"),
            operation=json.dumps(sent), detected_at=now))
    return outcome


def _pull(uow_factory, server: _Server, clock) -> int:
    """Every page after the cursor, then all of them applied in one local transaction: the log keeps each record at
    its latest change number, so a child may come a page before its parent (foreign keys are checked at the commit),
    and a pull cut short applies nothing (the cursor stays; the next one asks again)."""
    with uow_factory() as w:
        start = local.read_state(w.session.connection())["cursor"]
    pages, after = [], start
    while True:
        page = server.call("GET", "/api/sync/pull", params={"after": after, "limit": PULL_PAGE})
        pages.append(page)
        after = max(int(page.get("next", after)), after)
        if not page.get("more"):
            break
    return _apply_pages(uow_factory, start, pages)


def _apply_pages(uow_factory, start: int, pages: list[dict]) -> int:
    with uow_factory() as w:
        outbox.applying(w.session)
        conn = w.session.connection()
        state = local.read_state(conn)
        if state["cursor"] != start:
            return 0  # another sync of this copy applied them meanwhile
        if conn.dialect.name == "sqlite":  # checked at the commit: rows come by latest change, not parents first
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        unsettled = local.unsettled_records(conn)
        deleted_here = _families_deleted_here(conn, unsettled)
        families_of_children = {change.get("key"): (change.get("row") or {}).get("family_id")
                                for page in pages for change in page.get("changes", [])
                                if change.get("table") == "child"} if deleted_here else {}
        applied, cursor = 0, start
        for page in pages:
            for change in page.get("changes", []):
                table = Base.metadata.tables.get(change.get("table"))
                if table is None or table.name in local.NOT_PULLED:
                    continue
                key = change.get("key")
                if deleted_here and _family_of_change(conn, table.name, change, families_of_children) in deleted_here:
                    continue  # a file this copy deleted, the deletion not settled: it comes back whole if withdrawn
                if (table.name, key) in unsettled:
                    _rebase(conn, table, key, change)
                elif change.get("deleted"):
                    conn.execute(delete(table).where(table.c.id == key))
                else:
                    _upsert(conn, table, _row(table, change.get("row") or {}))
                    local.write_child_fields(conn, table.name, key, change.get("row") or {})
                applied += 1
            for family in page.get("removed_families", []):
                _remove_family(w.session, state["user_key"], family)
            cursor = max(int(page.get("next", cursor)), cursor)
        values = {"cursor": cursor}
        if not state["user_id"]:
            from models import User

            user_id = w.session.scalar(select(User.id).where(User.key == state["user_key"]))
            if user_id:
                values["user_id"] = user_id
        local.write_state(conn, **values)
        w.commit()
    return applied


def _families_deleted_here(conn, unsettled: set[tuple[str, str]]) -> set[str]:
    """The families this copy deleted whose deletion the server has not settled (pending, refused, in conflict): the
    deletion took the whole file along (family_records.delete_family), so what the server sends of it meanwhile
    (a session recorded there, a child corrected) has nowhere to go on this copy."""
    from models import Family

    ids = {key for table, key in unsettled if table == "family"}
    if not ids:
        return set()
    return ids - set(conn.execute(select(Family.id).where(Family.id.in_(ids))).scalars())


def _family_of_change(conn, table: str, change: dict, families_of_children: dict) -> str | None:
    row = change.get("row") or {}
    if table == "family":
        return change.get("key")
    if table in FAMILY_COLUMN:
        return row.get("family_id")
    if table == "parcours" and row.get("child_id"):
        from models import Child

        child = row["child_id"]
        return families_of_children.get(child) or conn.execute(
            select(Child.family_id).where(Child.id == child)).scalar()
    return None


def _unstamped(table) -> dict:
    """Keeps `updated_at` as it is in a Core UPDATE (its onupdate would stamp the laptop's clock on a row that
    is meant to be the server's, or go back to it)."""
    return {"updated_at": table.c.updated_at} if "updated_at" in table.c else {}


def _upsert(conn, table, row: dict) -> None:
    if not row:
        return
    key_columns = [c.name for c in table.primary_key.columns]
    where = [table.c[name] == row[name] for name in key_columns]
    if conn.execute(select(*[table.c[n] for n in key_columns]).where(*where)).first() is None:
        conn.execute(table.insert().values(**row))
    else:
        conn.execute(update(table).where(*where).values(**row))


def _rebase(conn, table, key: str, change: dict) -> None:
    """A pulled change of a record that has unsettled local operations: the server's row becomes the base and the
    local values of those operations stay on top (they are the ones the person typed, still to be sent)."""
    row = None if change.get("deleted") else _row(table, change.get("row") or {})
    children = dict(change.get("row") or {})  # the child tables carried as fields (local.write_child_fields)
    ops = conn.execute(select(local.OUTBOX.c.id, local.OUTBOX.c.name, local.OUTBOX.c.fields, local.OUTBOX.c.result)
                       .where(local.OUTBOX.c.record_table == table.name, local.OUTBOX.c.record_key == key,
                              local.OUTBOX.c.status.in_(local.UNSETTLED)).order_by(local.OUTBOX.c.sequence)).all()
    for op_id, _name, _fields, result in ops:  # the server's row kept: what a withdrawn change goes back to
        kept = {**(json.loads(result) if result else {}), "server_row": None if row is None else change.get("row")}
        conn.execute(update(local.OUTBOX).where(local.OUTBOX.c.id == op_id).values(result=json.dumps(kept)))
    for _id, name, fields, _result in ops:
        if name.endswith(".delete"):
            row = None
            continue
        if row is None:
            continue  # deleted on the server: the local change waits for its answer (refused or conflict)
        row.update(_row(table, {f: v.get("value") for f, v in json.loads(fields).items()}))
        children.update({f: v.get("value") for f, v in json.loads(fields).items()})
    if row is None:
        return  # nothing to show on top of a deletion; a local deletion stays done
    _upsert(conn, table, row)
    local.write_child_fields(conn, table.name, key, children)


def _remove_family(session, actor_key: str, family: str) -> None:
    """A family that left the user's scope: it and every record that depends on it leave the copy, audited."""
    from models import Family

    found = session.execute(select(Family.id, Family.key).where(
        (Family.id == family) | (Family.key == family))).first()
    if found is None:
        return
    doomed: dict[str, set] = {"family": {found.id}}
    tables = [t for t in Base.metadata.sorted_tables if t.name not in local.NOT_PULLED]
    for table in tables:  # parents before children: a row depending on a doomed row is doomed
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent in doomed and parent != table.name and "id" in table.c:
                ids = session.connection().execute(select(table.c.id).where(
                    fk.parent.in_(doomed[parent]))).scalars().all()
                doomed.setdefault(table.name, set()).update(ids)
    for table in reversed(tables):
        for fk in table.foreign_keys:  # association rows (no id of their own) first
            parent = fk.column.table.name
            if parent in doomed and "id" not in table.c:
                session.connection().execute(delete(table).where(fk.parent.in_(doomed[parent])))
        if table.name in doomed and doomed[table.name]:
            session.connection().execute(delete(table).where(table.c.id.in_(doomed[table.name])))
    audit.record(session, actor_key, "leave_scope", "family", found.key)


# -- status and conflicts (the window's status bar and « Conflits à résoudre ») -------------------------------

def sync_status(uow: UnitOfWork, user: CurrentUser) -> SyncStatus:
    with uow:
        require(user, "sync.status", session=uow.session)
        conn = uow.session.connection()
        state = local.read_state(conn)
        if state is None:
            return SyncStatus(False, None, 0, 0, 0, None, None)
        conflicts = conn.execute(select(func.count()).select_from(local.CONFLICT)
                                 .where(local.CONFLICT.c.resolved_at.is_(None))).scalar_one()
        last = state["last_sync_at"]
        return SyncStatus(True, state["server_url"], _count(conn, "pending"), _count(conn, "refused"), conflicts,
                          audit.as_utc(last) if last else None, state["last_error"])


OPERATION_LABELS = {
    "session.record": "Séance enregistrée", "session.update": "Séance modifiée", "session.delete": "Séance supprimée",
    "family.create": "Famille créée", "family.update": "Famille modifiée", "family.delete": "Famille supprimée",
    "guardian.create": "Responsable ajouté", "guardian.update": "Responsable modifié",
    "guardian.delete": "Responsable retiré", "child.create": "Enfant ajouté", "child.update": "Enfant modifié",
    "parcours.create": "Parcours ouvert", "parcours.update": "Parcours modifié",
    "orientation.create": "Orientation proposée", "orientation.update": "Orientation modifiée",
    "eps_meeting.create": "Séance d'EPS créée", "eps_situation.create": "Situation inscrite à l'EPS",
    "eps_situation.update": "Situation EPS modifiée", "child.delete": "Enfant supprimé",
    "parcours.delete": "Parcours supprimé",
}


def operation_label(name: str) -> str:
    return OPERATION_LABELS.get(name, name)


# The records a conflict or a refusal names, as a person knows them (read from this copy), and their fields in French.
TABLE_LABELS = {"home_session": "Séance", "family": "Famille", "guardian": "Responsable légal", "child": "Enfant",
                "parcours": "Parcours", "orientation": "Orientation", "eps_meeting": "Séance d'EPS",
                "eps_situation": "Situation EPS"}
SESSION_FIELD_LABELS = {
    "date": "Date", "start_time": "Heure de début", "duration_minutes": "Durée (minutes)", "status": "Statut",
    "notes": "Notes", "family_id": "Famille", "intervenant_id": "Intervenant·e",
    "referent_present": "Référent·e présent·e", "children_present": "Enfants présents",
}
ORIENTATION_FIELD_LABELS = {"eps_date": "Date de l'EPS", "status": "Statut", "decided_on": "Décidée le",
                            "end_date": "Fin", "reason": "Motif", "convention_id": "Convention"}
EPS_FIELD_LABELS = {"date": "Date de la réunion", "notes": "Notes", "recommendation": "Préconisation",
                    "family_id": "Famille", "eps_meeting_id": "Séance d'EPS"}


def field_label(name: str, table: str | None = None) -> str:
    """A field as the window's forms name it (services.family_records' labels for the family file)."""
    from services.family_records import GUARDIAN_LABELS, LABELS

    labels = {"home_session": SESSION_FIELD_LABELS, "orientation": ORIENTATION_FIELD_LABELS,
              "guardian": GUARDIAN_LABELS, "eps_meeting": EPS_FIELD_LABELS,
              "eps_situation": EPS_FIELD_LABELS}.get(table) or {**SESSION_FIELD_LABELS, **LABELS}
    return (labels.get(name) or LABELS.get(name) or FIELD_NAMES.get(name) or OTHER_FIELD_LABELS.get(name)
            or name.replace("_", " ").capitalize())


# Fields no form of the file names (the consent is given in its own dialog, attendance in the meeting's list).
OTHER_FIELD_LABELS = {"consent_date": "Date du consentement", "consent_scope": "Portée du consentement",
                      "intervenant_ids": "Intervenant·es présent·es", "version": "Version de la fiche"}


def record_label(session, table: str, key: str) -> str:
    """« Séance du 14/03/2026 — famille Dupont (F-0012) », « Famille Dupont (F-0012) », « Enfant Léa Dupont »,
    « Parcours de Léa Dupont »…; the short id when the record is no longer on this copy."""
    from models import Child, EpsMeeting, EpsSituation, Family, Guardian, HomeSession, Orientation, Parcours
    from services.formatting import format_date

    def family_of(family_id) -> str | None:
        found = session.execute(select(Family.name, Family.key).where(Family.id == family_id)).first()
        return f"{found.name} ({found.key})" if found else None

    def child_of(child_id) -> str | None:
        found = session.execute(select(Child.first_name, Child.last_name).where(Child.id == child_id)).first()
        return f"{found.first_name} {found.last_name}" if found else None

    def meeting_of(meeting_id) -> str:
        when = session.scalar(select(EpsMeeting.date).where(EpsMeeting.id == meeting_id))
        return f"Situation de l'EPS du {format_date(when)}" if when else "Situation EPS"

    def of_family(text: str, family_id) -> str:
        family = family_of(family_id)
        return text + (f" — famille {family}" if family else "")

    # (the record's columns, how they read) for the records named with their family
    with_family = {"home_session": (HomeSession, HomeSession.date, lambda d: f"Séance du {format_date(d)}"),
                   "guardian": (Guardian, Guardian.name, lambda name: f"Responsable {name}"),
                   "orientation": (Orientation, Orientation.eps_date,
                                   lambda d: f"Orientation de l'EPS du {format_date(d)}"),
                   "eps_situation": (EpsSituation, EpsSituation.eps_meeting_id, meeting_of)}
    shown = None
    if table == "family":
        family = family_of(key)
        shown = family and f"Famille {family}"
    elif table in with_family:
        model, column, text = with_family[table]
        found = session.execute(select(column, model.family_id).where(model.id == key)).first()
        shown = found and of_family(text(found[0]), found[1])
    elif table == "eps_meeting":
        when = session.scalar(select(EpsMeeting.date).where(EpsMeeting.id == key))
        shown = when and f"Séance d'EPS du {format_date(when)}"
    elif table == "child":
        child = child_of(key)
        shown = child and f"Enfant {child}"
    elif table == "parcours":
        child_id = session.scalar(select(Parcours.child_id).where(Parcours.id == key))
        child = child_id and child_of(child_id)
        shown = child and f"Parcours de {child}"
    return shown or f"{TABLE_LABELS.get(table, table)} {str(key)[:8]}"


def _conflict(row, session=None) -> Conflict:
    fields = tuple(ConflictField(name, v.get("base"), v.get("local"), v.get("server"))
                   for name, v in sorted(json.loads(row["fields"]).items()))
    resolved = row["resolved_at"]
    label = record_label(session, row["record_table"], row["record_key"]) if session is not None else ""
    return Conflict(row["id"], row["name"], row["record_table"], row["record_key"], fields,
                    audit.as_utc(row["detected_at"]), audit.as_utc(resolved) if resolved else None, label)


def list_conflicts(uow: UnitOfWork, user: CurrentUser, *, include_resolved: bool = False) -> tuple[Conflict, ...]:
    """The conflicts to resolve (oldest first): for each field, the value it was based on, the local one and the
    server's."""
    with uow:
        require(user, "sync.conflicts", session=uow.session)
        query = select(local.CONFLICT).order_by(local.CONFLICT.c.detected_at, local.CONFLICT.c.id)
        if not include_resolved:
            query = query.where(local.CONFLICT.c.resolved_at.is_(None))
        return tuple(_conflict(row, uow.session) for row in uow.session.connection().execute(query).mappings())


def list_refused(uow: UnitOfWork, user: CurrentUser) -> tuple[Refusal, ...]:
    """The local changes the server refused, each with its French reason: kept here for correction."""
    with uow:
        require(user, "sync.conflicts", session=uow.session)
        rows = uow.session.connection().execute(select(local.OUTBOX).where(local.OUTBOX.c.status == "refused")
                                                .order_by(local.OUTBOX.c.sequence)).mappings()
        return tuple(Refusal(r["id"], r["name"], r["record_table"], r["record_key"], r["reason"] or "",
                             record_label(uow.session, r["record_table"], r["record_key"])) for r in rows)


def withdraw_refused(uow: UnitOfWork, user: CurrentUser, operation_id: str) -> Refusal:
    """Give up a change the server refused (« Abandonner cette modification »): the record goes back to the server's
    values as last received (or, never received since, to the values it had before the change; a creation is
    removed). Audited; the audit entry travels."""
    with uow:
        require(user, "sync.resolve", session=uow.session)
        conn = uow.session.connection()
        op = conn.execute(select(local.OUTBOX).where(local.OUTBOX.c.id == operation_id)).mappings().first() \
            if isinstance(operation_id, str) else None
        if op is None or op["status"] != "refused":
            raise NotFound("Cette modification refusée n'existe plus : actualisez la liste.")
        label = record_label(uow.session, op["record_table"], op["record_key"])  # before a creation is removed
        conn.execute(update(local.OUTBOX).where(local.OUTBOX.c.id == op["id"]).values(status="withdrawn"))
        table = Base.metadata.tables[op["record_table"]]
        others = (op["record_table"], op["record_key"]) in local.unsettled_records(conn)
        answer = json.loads(op["result"]) if op["result"] else {}
        fields = json.loads(op["fields"])
        if others:
            pass  # later changes of the record are still on their way: they carry it now
        elif op["name"].endswith(".delete"):
            # The deletion took the record off this copy (a family: its whole file) and the server still has it:
            # the next pull starts over and brings it back, with what the server changed meanwhile.
            local.write_state(conn, cursor=0)
        elif "server_row" in answer:
            if answer["server_row"] is None:
                conn.execute(delete(table).where(table.c.id == op["record_key"]))
            else:
                _upsert(conn, table, _row(table, answer["server_row"]))
                local.write_child_fields(conn, table.name, op["record_key"], answer["server_row"])
        elif op["base_version"] is None and not op["name"].endswith(".delete"):
            conn.execute(delete(table).where(table.c.id == op["record_key"]))
        elif fields:
            bases = {name: change.get("base") for name, change in fields.items()}
            if _row(table, bases):
                conn.execute(update(table).where(table.c.id == op["record_key"]).values(**_row(table, bases),
                                                                                        **_unstamped(table)))
            local.write_child_fields(conn, table.name, op["record_key"], bases)
        audit.record(uow.session, user.key, "withdraw", "sync_operation", op["record_key"],
                     [name for name in fields if name in table.c])
        refusal = Refusal(op["id"], op["name"], op["record_table"], op["record_key"], op["reason"] or "", label)
        uow.commit()
        return refusal


CHOICES = ("local", "server")


def resolve_conflict(uow: UnitOfWork, user: CurrentUser, conflict_key: str, choices: Mapping[str, str], *,
                     clock: Callable[[], datetime] = utcnow) -> Conflict:
    """Keep, field by field, the local value or the server's. The record takes the chosen values at once; the
    fields kept local (and those of the operation that did not conflict) go to the server as a new operation based
    on the server's version, pushed at the next sync. Audited; the audit entry travels too."""
    with uow:
        require(user, "sync.resolve", session=uow.session)
        conn = uow.session.connection()
        row = conn.execute(select(local.CONFLICT).where(local.CONFLICT.c.id == conflict_key)).mappings().first() \
            if isinstance(conflict_key, str) else None
        if row is None:
            raise NotFound("Ce conflit n'existe plus : actualisez la liste des conflits.")
        if row["resolved_at"] is not None:
            raise ValidationError("Ce conflit est déjà résolu.")
        conflicting = json.loads(row["fields"])
        missing = [name for name in conflicting if choices.get(name) not in CHOICES]
        if missing:
            raise ValidationError("Choisissez, pour chaque champ en conflit, la valeur à garder (celle de ce poste "
                                  f"ou celle du serveur) : il manque {', '.join(sorted(missing))}.",
                                  field=sorted(missing)[0])
        sent = json.loads(row["operation"])
        fields = {name: change for name, change in sent.get("fields", {}).items() if name not in conflicting}
        for name, values in conflicting.items():
            if choices[name] == "local" and values.get("local") != values.get("server"):
                fields[name] = {"base": values.get("server"), "value": values.get("local")}
        table = Base.metadata.tables[row["record_table"]]
        chosen = {name: values.get(choices[name]) for name, values in conflicting.items()}
        if _row(table, chosen):
            conn.execute(update(table).where(table.c.id == row["record_key"]).values(**_row(table, chosen),
                                                                                    **_unstamped(table)))
        local.write_child_fields(conn, row["record_table"], row["record_key"], chosen)
        if fields:
            outbox.append(conn, [(row["record_table"], row["record_key"], row["server_version"], row["name"],
                                  fields)])
        elif row["name"].endswith(".delete"):  # the server's record kept: as a withdrawn deletion, pulled again
            local.write_state(conn, cursor=0)
        now = audit.as_utc(clock())
        conn.execute(update(local.OUTBOX).where(local.OUTBOX.c.id == row["operation_id"]).values(status="resolved"))
        conn.execute(update(local.CONFLICT).where(local.CONFLICT.c.id == row["id"]).values(
            resolved_at=now, resolved_by_key=user.key, resolution=json.dumps(
                {name: choices[name] for name in conflicting}, sort_keys=True)))
        audit.record(uow.session, user.key, "resolve", "sync_conflict", row["record_key"],
                     list(conflicting))
        resolved = _conflict(conn.execute(select(local.CONFLICT).where(local.CONFLICT.c.id == row["id"]))
                             .mappings().first(), uow.session)
        uow.commit()
        return resolved


# -- the password of a connected copy: the lock screen, a password changed elsewhere or here ----------------------

class PasswordNotConfirmed(SyncError):
    """The server did not accept the new password: the copy's key stays wrapped by the old one."""


def copy_file(uow_factory: Callable[[], UnitOfWork]):
    """The file of a connected copy encrypted on this computer (its key file beside it: services.local_crypto), or
    None (a standalone copy, a plain or a PostgreSQL store)."""
    from pathlib import Path

    from services.local_crypto import key_file

    engine = _engine(uow_factory)
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or not key_file(path).exists():
        return None
    return Path(path)


# The lock screen's failed attempts on an encrypted copy, per file, in memory: the local accounts carry no password
# hash (nor the server's counter), and this process is the one the lock protects.
_SCREEN_FAILURES: dict[str, tuple[int, datetime | None]] = {}
_SCREEN_FAILURES_LOCK = threading.Lock()
WRONG_SCREEN_PASSWORD = "Mot de passe incorrect."


def unlock_screen(uow_factory: Callable[[], UnitOfWork], user_key: str, password: str, *,
                  clock: Callable[[], datetime] = utcnow) -> CurrentUser:
    """The check of the window's lock screen (ui.lock). On a connected copy encrypted here, the password must unwrap
    the copy's key file, as at the start (the accounts pulled from the server carry no password hash), with the
    login's growing delay after 5 failures (services.users.delay_after); the user is the enrolled one, as the copy
    now says (their role may have changed meanwhile). Any other copy: services.users.authenticate, unchanged."""
    from services.local_crypto import WrongPassword, unlock
    from services.users import TooManyAttempts, authenticate, delay_after, format_wait

    path = copy_file(uow_factory)
    if path is None:
        return authenticate(uow_factory(), user_key, password, clock=clock)
    now, name = audit.as_utc(clock()), str(path)
    with _SCREEN_FAILURES_LOCK:
        failures, until = _SCREEN_FAILURES.get(name, (0, None))
    if until is not None and until > now:  # checked before the password: guesses made meanwhile are not tried
        raise TooManyAttempts(f"Trop d'essais : réessayez dans {format_wait(until - now)}.", until - now)
    try:
        unlock(path, password)
    except WrongPassword:
        with _SCREEN_FAILURES_LOCK:
            failures = _SCREEN_FAILURES.get(name, (0, None))[0] + 1
            wait = delay_after(failures)
            _SCREEN_FAILURES[name] = (failures, now + wait if wait else None)
        if wait:
            raise TooManyAttempts(f"{WRONG_SCREEN_PASSWORD} Trop d'essais : réessayez dans {format_wait(wait)}.",
                                  wait) from None
        raise WrongPassword(WRONG_SCREEN_PASSWORD, field="password") from None
    with _SCREEN_FAILURES_LOCK:
        _SCREEN_FAILURES.pop(name, None)
    user = acting_user(uow_factory)
    if user is None or user.key != user_key:  # cannot happen: the lock waits for the enrolled user
        raise SyncError("Cette copie appartient à un autre compte : fermez Parcours et rouvrez-le.")
    return user


def confirm_new_password(uow_factory: Callable[[], UnitOfWork], old_password: str, new_password: str, *,
                         wrap: Callable | None = None) -> None:
    """A password changed on the server or on another computer: the copy was opened with the old one, which still
    wraps its key. The server confirms the new one first (POST /api/me/password-check: a login check as the
    enrolled user, throttled like a login, that changes nothing on the server), then the key is
    wrapped by it (local_crypto.rewrap): a mistyped new password never locks the copy. ServerUnreachable: nothing
    changed, to be tried again at the next sync; PasswordNotConfirmed: the old password still opens the copy."""
    _password_on_server(uow_factory, old_password, None, new_password, wrap)


def change_own_password(uow_factory: Callable[[], UnitOfWork], current_password: str, new_password: str, *,
                        wrap: Callable | None = None) -> None:
    """The enrolled user changes their password from this computer: on the server (PUT /api/me/password, the
    current one asked again), then the copy's key is wrapped by the new one at once. Needs the server (the account
    is the server's): ServerUnreachable says so, nothing changed."""
    _password_on_server(uow_factory, current_password, current_password, new_password, wrap)


def _password_on_server(uow_factory, wrapping: str, current: str | None, new: str, wrap) -> None:
    from services.local_crypto import rewrap, unlock

    path = copy_file(uow_factory)
    if path is None:
        raise NotConnected("Cette copie n'est pas une copie chiffrée d'un poste connecté : son mot de passe se change "
                           "dans Administration › Utilisateurs.")
    unlock(path, wrapping)  # WrongPassword before anything is sent
    engine = _engine(uow_factory)
    with engine.connect() as conn:
        state = local.read_state(conn)
        pending = _count(conn, "pending")
    if state is None:  # a key file but no enrolment: a connection cut off before its end
        raise NotConnected("Ce poste n'est pas connecté au serveur du programme : connectez-le d'abord (« Se "
                           "connecter au serveur du programme »).")
    try:
        with _Server(state["server_url"], state["fingerprint"], state["device_token"], _schema(uow_factory),
                     pending, wrap) as server:
            if current is None:  # only a check: the server's password is already the new one
                server.call("POST", "/api/me/password-check", json={"password": new})
            else:
                server.call("PUT", "/api/me/password", json={"current_password": current, "password": new})
    except _Revoked:
        _erase(engine)
    except (ServerUnreachable, ServerFault, FingerprintMismatch):
        raise
    except SyncError as exc:  # the server's refusal, in French (wrong password, too many attempts, policy)
        raise PasswordNotConfirmed(f"Le serveur n'a pas accepté le nouveau mot de passe : {exc.message} La copie de "
                                   "ce poste s'ouvre toujours avec l'ancien.", field="password") from None
    try:
        rewrap(path, wrapping, new)
    except OSError as exc:  # the server has the new password; the key file could not be written again
        from services.file_faults import WRITE, describe_os_error

        done = "Mot de passe changé sur le serveur" if current is not None else "Nouveau mot de passe confirmé"
        raise SyncError(f"{done}, mais la clé de la copie de ce poste n'a pas pu être réécrite : la copie s'ouvre "
                        f"toujours avec l'ancien mot de passe. {describe_os_error(exc, action=WRITE)} Ensuite, "
                        "« Mot de passe modifié sur un autre poste ? » lui fera prendre le nouveau.") from None
