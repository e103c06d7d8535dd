"""The team server's HTTPS API: an ASGI app (Starlette) in front of the services, JSON in and out.

Every request but the health check and the enrolment carries `Authorization: Bearer <device token>`
(services.devices) and `X-Parcours-Schema: <revision>`; a client of another schema revision is refused before
anything is read, with which side to update. Each refusal is JSON `{"code", "message" (French), "field"}` with its
HTTP status: the services' DomainErrors by class (ERROR_STATUS), and the API's own (not JSON, too large, unknown
address). An unexpected error answers 500 with a calm sentence; its traceback goes to the server's log only, through
the `parcours.api` logger, whose records carry no request body nor exception message (main.py's CodeOnlyFormatter
writes exceptions without their message).
"""
from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.base import utcnow
from services import devices
from services.conventions_admin import ConventionLocked
from services.errors import (DatabaseVersionError, DomainError, InvalidFields, NotFound, PermissionDenied,
                             StaleEdit, StatementError, ValidationError)
from services.store_faults import StoreFault, store_fault
from services.uow import UnitOfWork
from services.users import AuthenticationFailed, TooManyAttempts

from api.json_io import BadJson, dumps, parse_object
from api.routes import ENDPOINTS, Call, Endpoint

log = logging.getLogger("parcours.api")

MAX_BODY_BYTES = 1 << 20  # 1 MiB: a session or an enrolment is a few hundred bytes
SCHEMA_HEADER = "X-Parcours-Schema"

TOO_LARGE = "La requête dépasse la taille permise (1 Mio) : elle n'a pas été lue et rien n'a été enregistré."
UNEXPECTED = ("Le serveur a rencontré une erreur inattendue : rien n'a été enregistré. L'incident est consigné dans le "
              "journal du serveur ; réessayez, et signalez-le à l'administrateur s'il se reproduit.")
NO_SUCH_ADDRESS = ("Cette adresse n'existe pas sur le serveur Parcours : vérifiez l'adresse du serveur et que "
                   "Parcours est à jour sur ce poste.")
SCHEMA_MISSING = (f"La requête n'indique pas sa version de schéma (en-tête {SCHEMA_HEADER}) : ce client n'est pas un "
                  "poste Parcours, ou pas une version qui sait parler à ce serveur.")

# The HTTP status of each DomainError, the most specific class first (the first match of the exception's MRO).
ERROR_STATUS: dict[type, int] = {
    TooManyAttempts: 429,
    AuthenticationFailed: 401,  # devices.DeviceRefused too
    PermissionDenied: 403,
    NotFound: 404,
    InvalidFields: 422,
    ValidationError: 422,
    StaleEdit: 409,
    DatabaseVersionError: 409,
    StatementError: 409,  # already issued, an earlier month still a draft; with a field (the month): 422
    ConventionLocked: 409,  # its issued statements forbid the change
    StoreFault: 503,  # busy, full, read-only, damaged: the server's condition, not the request's
}


class Refusal(Exception):
    """A refusal of the API itself (not of a service): status, code and French message."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _code(kind: type) -> str:
    """« PermissionDenied » → « permission_denied »: the JSON code of a service's error class."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    # no-store: answers carry families' data, which no proxy or disk cache should keep
    return Response(dumps(payload), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store", **(headers or {})})


def refusal(status: int, code: str, message: str, field: str | None = None, headers: dict | None = None,
            **extra) -> Response:
    return json_response({"code": code, "message": message, "field": field, **extra}, status, headers)


def status_of(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in ERROR_STATUS:
            if kind is StatementError and exc.field:
                return 422
            return ERROR_STATUS[kind]
    return 422  # a rule refused the request as it is (an import rejected…)


def _domain_error(_request: Request, exc: DomainError) -> Response:
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(max(1, int(-(-exc.retry_after.total_seconds() // 1))))
    elif isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="Parcours"'
    extra = {}
    if isinstance(exc, ValidationError):  # every field at fault, each with its sentence: one shape for clients
        extra["problems"] = exc.problems if isinstance(exc, InvalidFields) else (
            {exc.field: exc.message} if exc.field else {})
    return refusal(status_of(exc), _code(type(exc)), exc.message, exc.field, headers, **extra)


def _api_refusal(_request: Request, exc: Refusal) -> Response:
    return refusal(exc.status, exc.code, exc.message, **exc.extra)


def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 405:
        return refusal(405, "method_not_allowed",
                       f"Cette adresse n'accepte pas la méthode {request.method}.", headers=exc.headers)
    if exc.status_code == 404:
        return refusal(404, "no_such_address", NO_SUCH_ADDRESS)
    return refusal(exc.status_code, "http_error", "La requête a été refusée par le serveur.")


def _log_unexpected(method: str | None, path: str | None, exc: Exception) -> None:
    log.error("erreur inattendue pendant %s %s", method, path, exc_info=exc)
    exc.parcours_logged = True


def _unexpected(request: Request, exc: Exception) -> Response:
    _log_unexpected(request.method, request.url.path, exc)  # before the answer: once a client has it, it is logged
    fault = store_fault(exc)  # busy, full, read-only, damaged: said as such (the services' French sentence)
    if fault is not None:
        return refusal(503, "store_fault", fault.message)
    return refusal(500, "unexpected", UNEXPECTED)


def schema_refusal(server: str, client: str | None, known: Iterable[str]) -> Refusal | None:
    """None when the client speaks the server's schema, else the 409 that says which side to update: a revision
    the server knows is older than its own (update the desk), one it does not know is newer (update the server)."""
    if client == server:
        return None
    if not client:
        return Refusal(400, "schema_missing", SCHEMA_MISSING, server_schema=server)
    side = "sur ce poste" if client in set(known) else "sur le serveur"
    return Refusal(409, "schema_mismatch",
                   f"Le serveur est en version de schéma {server}, ce poste en {client} : "
                   f"mettez Parcours à jour {side}.", server_schema=server, client_schema=client)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk and given up as soon as it passes `limit` (a chunked upload has no length)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, "too_large", TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


RETRIED_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure: PostgreSQL rolled it all back
ATTEMPTS = 3


def _retried_fault(exc: BaseException) -> bool:
    """Whether `exc` (or an exception it was raised from) is PostgreSQL giving up a transaction to let another go."""
    seen = 0
    while exc is not None and seen < 10:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) in RETRIED_SQLSTATES or getattr(
                exc, "sqlstate", None) in RETRIED_SQLSTATES:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _retrying(handle: Callable, call):
    """Run an endpoint's service call; when PostgreSQL chose it as a deadlock's victim, run it again (its unit of
    work was rolled back whole, so nothing is done twice), at most ATTEMPTS times, after a short random pause."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return handle(call)
        except Exception as exc:
            if attempt == ATTEMPTS or not _retried_fault(exc):
                raise
            logging.getLogger(__name__).info("deadlock or serialization failure: attempt %d of %d", attempt + 1,
                                             ATTEMPTS)
            time.sleep(random.uniform(0.01, 0.05) * attempt)


def build_app(uow_factory: Callable[[], UnitOfWork], *, schema_version: str,
              known_schemas: Iterable[str] | None = None, today: Callable[[], date] = date.today,
              clock: Callable[[], datetime] = utcnow, max_body: int = MAX_BODY_BYTES) -> "GuardedApp":
    """The ASGI app. `schema_version` is the revision of the server's database; `known_schemas` every revision
    this version of Parcours knows (default: its migrations), to tell an older desk from a newer one."""
    if known_schemas is None:
        from models.db import known_revisions

        known_schemas = known_revisions()
    known = frozenset(known_schemas)

    def endpoint(row: Endpoint):
        async def run(request: Request) -> Response:
            client_schema = request.headers.get(SCHEMA_HEADER)
            if row.device or client_schema is not None:
                if (refused := schema_refusal(schema_version, client_schema, known)) is not None:
                    raise refused
            if row.body and (_declared_length(request) or 0) > max_body:
                raise Refusal(413, "too_large", TOO_LARGE)  # said before a byte of it is read
            user = None
            if row.device:
                user = await run_in_threadpool(devices.device_user, uow_factory(), _bearer(request), clock=clock)
            body = None
            if row.body:
                try:
                    body = parse_object(await _read_body(request, max_body))
                except BadJson as exc:
                    raise Refusal(400, "bad_json", str(exc)) from None
            call = Call(uow_factory, user, dict(request.path_params), body, today(), clock, schema_version,
                        dict(request.query_params))
            result = await run_in_threadpool(_retrying, row.handle, call)
            if isinstance(result, Response):  # a file (a statement's PDF): the handler made its answer
                return result
            return json_response(result, row.status)

        return run

    app = Starlette(
        routes=[Route(row.path, endpoint(row), methods=[row.method]) for row in ENDPOINTS],
        exception_handlers={DomainError: _domain_error, Refusal: _api_refusal, HTTPException: _http_error,
                            Exception: _unexpected})
    return GuardedApp(app)


class GuardedApp:
    """The outermost layer: Starlette has already answered (and _unexpected logged) an unexpected error, and raises
    it again for the server to log; it stops here, so that uvicorn never prints an exception's text. The log holds
    the request's method and path and the traceback: no message, no body."""

    def __init__(self, app: Starlette):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope.get("type") != "http":
                raise
            if not getattr(exc, "parcours_logged", False):
                _log_unexpected(scope.get("method"), scope.get("path"), exc)
