"""The sync endpoints of the team server (issue 11): a laptop pushes its outbox and pulls the changes after its
cursor. Thin faces over services.sync.server, like every endpoint: the rules, checks and audit rows are there.

POST /api/sync/push {"device": key?, "operations": [...]} → {"results": [{"id", "outcome", "reason", "conflict",
"version"}…]}; GET /api/sync/pull?after=N&limit=M → {"changes", "removed_families", "next", "more"}.
"""
from __future__ import annotations

import json

from starlette.responses import Response

from services.errors import InvalidFields
from services.sync.server import ChangesPage, apply_operations, changes_after, pushing_device

from api.endpoints import Call, Endpoint
from api.json_io import read_query


def _push(call: Call) -> dict:
    operations = call.body.get("operations")
    if not isinstance(operations, list):
        raise InvalidFields({"operations": "« operations » doit être une liste d'opérations."})
    if not operations:
        return {"results": []}
    device_key = call.body.get("device")
    if device_key is None and isinstance(operations[0], dict):
        device_key = operations[0].get("device")  # each operation names its device: the first one says it
    device = pushing_device(call.uow(), call.user, device_key)
    return {"results": [result.as_json() for result in apply_operations(call.uow, device, operations, call.clock)]}


def pull_body(page: ChangesPage) -> bytes:
    """The pull's answer as bytes: its rows already hold JSON values (services.sync.changes.row_json), so they are
    written at once instead of walked again value by value (api.json_io.dumps), the same compact UTF-8 text."""
    return json.dumps(page.as_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _pull(call: Call) -> Response:
    given = read_query(call.query, {"after": "integer", "limit": "integer"})
    page = changes_after(call.uow(), call.user, 0 if given["after"] is None else given["after"],
                         1000 if given["limit"] is None else given["limit"])
    # no-store, as every answer of the API: families' data that no proxy or disk cache should keep
    return Response(pull_body(page), media_type="application/json", headers={"Cache-Control": "no-store"})


SYNC_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/api/sync/push", apply_operations, "sync.push", _push, body=True),
    Endpoint("GET", "/api/sync/pull", changes_after, "sync.pull", _pull),
)
