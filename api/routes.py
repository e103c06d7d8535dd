"""The API's endpoints, one row each: method, path, the service function it calls and the permission operation that
function checks (services.permissions), for tests/api to walk every (role × endpoint) pair.

A handler only turns the request into the service's arguments: every check, rule and audit row is the service's.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from services import devices, families, home_sessions
from services.billing import get_statement, issue_statement
from services.dataset import import_dataset
from services.permissions import CurrentUser
from services.uow import UnitOfWork

from api.json_io import read_fields


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


def _health(call: Call) -> dict:
    return {"status": "ok", "application": "Parcours", "schema": call.schema}


def _enrol(call: Call):
    given = read_fields(call.body, {"user": "text", "password": "text", "device_label": "text"})
    return devices.enrol_with_password(call.uow(), given["user"], given["password"], given["device_label"],
                                       clock=call.clock)


SESSION_FIELDS = {"family_id": "text", "intervenant_id": "text", "date": "date", "duration_minutes": "integer",
                  "status": "text", "start_time": "time", "referent_present": "boolean",
                  "children_present": "integer", "notes": "text"}


def _record_session(call: Call):
    given = read_fields(call.body, SESSION_FIELDS)
    defaults = {"status": "held", "referent_present": False}  # SessionDraft's, for a field left out
    draft = home_sessions.SessionDraft(**{name: defaults.get(name) if value is None else value
                                          for name, value in given.items()})
    return home_sessions.record_session(call.uow(), call.user, draft, call.today)


def _import(call: Call):
    """The request's body is the dataset itself (format parcours-dataset/1), within the app's body limit: all or
    nothing, as from a file; ImportRejected (422) names the record and the field at fault."""
    return import_dataset(call.uow(), call.body, call.user)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/api/health", None, None, _health, device=False),
    Endpoint("POST", "/api/enrol", devices.enrol_with_password, "device.enrol", _enrol, status=201, device=False,
             body=True),
    Endpoint("GET", "/api/devices", devices.list_devices, "device.manage",
             lambda c: devices.list_devices(c.uow(), c.user)),
    Endpoint("POST", "/api/devices/{key}/revoke", devices.revoke_device, "device.manage",
             lambda c: devices.revoke_device(c.uow(), c.user, c.params["key"], clock=c.clock)),
    Endpoint("GET", "/api/families", families.list_families, "family.list",
             lambda c: families.list_families(c.uow(), c.user, c.today)),
    Endpoint("GET", "/api/families/{family_id}", families.family_file, "family.read",
             lambda c: families.family_file(c.uow(), c.user, c.params["family_id"], c.today)),
    Endpoint("POST", "/api/sessions", home_sessions.record_session, "session.record", _record_session, status=201,
             body=True),
    Endpoint("GET", "/api/statements/{convention}/{month}", get_statement, "statement.read",
             lambda c: get_statement(c.uow(), c.user, c.params["convention"], c.params["month"])),
    Endpoint("POST", "/api/statements/{convention}/{month}/issue", issue_statement, "statement.issue",
             lambda c: issue_statement(c.uow(), c.user, c.params["convention"], c.params["month"]), status=201),
    Endpoint("POST", "/api/dataset/import", import_dataset, "dataset.import", _import, status=201, body=True),
)
