"""The shape of the API's endpoints: a request as a handler sees it (Call), one row of api.routes.ENDPOINTS
(Endpoint), and the handlers made from a row's description (a service taking path and body fields, or its input
dataclass): shared by every module of endpoints.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from services.permissions import CurrentUser
from services.uow import UnitOfWork

from api.json_io import read_fields, read_input, read_query


@dataclass(frozen=True)
class Call:
    """One request, as a handler sees it."""

    uow: Callable[[], UnitOfWork]
    user: CurrentUser | None  # None on the endpoints without a device
    params: Mapping[str, str]  # from the path
    body: dict | None  # the JSON object, on the endpoints that take one
    today: date
    clock: Callable[[], datetime]
    schema: str  # the server's schema revision
    query: Mapping[str, str] = field(default_factory=dict)  # the URL's query string


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    service: Callable | None  # the service function called
    operation: str | None  # what it checks (PERMISSIONS); None: nothing (the health check)
    handle: Callable[[Call], object]
    status: int = 200  # on success
    device: bool = True  # needs `Authorization: Bearer <device token>` and `X-Parcours-Schema`
    body: bool = False  # reads a JSON object


def body_call(service: Callable, param: str, spec: dict[str, str], required: tuple[str, ...] = (),
              today: bool = False) -> Callable[[Call], object]:
    """The handler of an endpoint whose service takes (uow, user, <the path's `param`>, <the body's fields, in
    `spec`'s order>), and the request's day as `today` when asked: the fields read as read_fields does."""
    def handle(call: Call):
        given = read_fields(call.body, spec, required)
        return service(call.uow(), call.user, call.params[param], *given.values(),
                       **({"today": call.today} if today else {}))

    return handle


def body_endpoint(method: str, path: str, service: Callable, operation: str, param: str, spec: dict[str, str],
                  required: tuple[str, ...] = (), today: bool = False, status: int = 200) -> Endpoint:
    """The row of such an endpoint (body_call): it reads a JSON object."""
    return Endpoint(method, path, service, operation, body_call(service, param, spec, required, today), status,
                    body=True)


BASED_ON = {"based_on": "datetime"}  # the `updated_at` the client read: a save on an older version is refused


def input_endpoint(method: str, path: str, service: Callable, operation: str, input_type: type,
                   param: str | None = None, versioned: bool = False, today: bool = False,
                   status: int = 200) -> Endpoint:
    """The row of an endpoint that reads a service's input dataclass (input_call)."""
    return Endpoint(method, path, service, operation, input_call(service, input_type, param, versioned, today),
                    status, body=True)


def based_on_query(call: Call):
    """A DELETE's version, from its query string (?based_on=…): a DELETE carries no body."""
    return read_query(call.query, BASED_ON)["based_on"]


def input_call(service: Callable, input_type: type, param: str | None = None, versioned: bool = False,
               today: bool = False) -> Callable[[Call], object]:
    """The handler of an endpoint whose service takes (uow, user[, the path's `param`], <its input dataclass read
    from the body (read_input)>[, based_on when `versioned`]), and the request's day as `today` when asked."""
    def handle(call: Call):
        given, extra = read_input(input_type, call.body, BASED_ON if versioned else None)
        args = ([call.params[param]] if param else []) + [given] + ([extra["based_on"]] if versioned else [])
        return service(call.uow(), call.user, *args, **({"today": call.today} if today else {}))

    return handle

