"""The API's endpoints, one row each: method, path, the service function it calls and the permission operation that
function checks (services.permissions), for tests/api to walk every (role × endpoint) pair.

A handler only turns the request into the service's arguments: every check, rule and audit row is the service's.
ENDPOINTS also lists the rows of api.parcours_routes, api.billing_routes, api.admin_routes, api.report_routes,
api.sheet_routes and api.sync_routes; a row's shape and the helpers that make one are in api.endpoints. Starlette answers with the
first row whose method and path match: a literal path (/api/sessions/count) comes before a parametrised one
(/api/sessions/{session_id}).
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from services import (activity, audit, consent, conventions_admin, devices, directory, families, family_records,
                      home_sessions, orientations, session_exceptions, users)
from services.billing import get_statement, issue_statement, issued_pdf
from services.dataset import import_dataset
from services.dataset.exporter import stream_dataset
from services.errors import InvalidFields, NotFound

from starlette.responses import Response, StreamingResponse

from api.admin_routes import ADMIN_ENDPOINTS
from api.billing_routes import BILLING_ENDPOINTS
from api.endpoints import BASED_ON, Call, Endpoint, based_on_query, body_endpoint, input_endpoint
from api.json_io import read_fields, read_query
from api.parcours_routes import PARCOURS_ENDPOINTS
from api.report_routes import REPORT_ENDPOINTS
from api.sheet_routes import SHEET_ENDPOINTS
from api.sync_routes import SYNC_ENDPOINTS


def _health(call: Call) -> dict:
    return {"status": "ok", "application": "Parcours", "schema": call.schema}


def _enrol(call: Call):
    given = read_fields(call.body, {"user": "text", "password": "text", "device_label": "text"})
    return devices.enrol_with_password(call.uow(), given["user"], given["password"], given["device_label"],
                                       clock=call.clock)


SESSION_FIELDS = {"family_id": "text", "intervenant_id": "text", "date": "date", "duration_minutes": "integer",
                  "status": "text", "start_time": "time", "referent_present": "boolean",
                  "children_present": "integer", "notes": "text"}


def _session_draft(given: dict) -> home_sessions.SessionDraft:
    defaults = {"status": "held", "referent_present": False}  # SessionDraft's, for a field left out
    return home_sessions.SessionDraft(**{name: defaults.get(name) if given[name] is None else given[name]
                                         for name in SESSION_FIELDS})


def _record_session(call: Call):
    return home_sessions.record_session(call.uow(), call.user, _session_draft(read_fields(call.body, SESSION_FIELDS)),
                                        call.today)


def _update_session(call: Call):
    """The whole corrected session (as the form sends it), and `based_on`: the `updated_at` the client read, so
    that a correction made on an older version is refused (StaleEdit, 409)."""
    given = read_fields(call.body, {**SESSION_FIELDS, "based_on": "datetime"})
    return home_sessions.update_session(call.uow(), call.user, call.params["session_id"], _session_draft(given),
                                        call.today, based_on=given["based_on"])


def _delete_session(call: Call):
    based_on = read_query(call.query, {"based_on": "datetime"})["based_on"]
    return home_sessions.delete_session(call.uow(), call.user, call.params["session_id"], based_on=based_on)


QUERY_FIELDS = {"text": "text", "family_id": "text", "month": "text", "status": "text", "decision": "text",
                "sort": "text", "descending": "boolean"}


def _session_query(given: dict) -> home_sessions.SessionQuery:
    defaults = home_sessions.SessionQuery()
    return home_sessions.SessionQuery(**{name: getattr(defaults, name) if given[name] is None else given[name]
                                         for name in QUERY_FIELDS})


def _list_sessions(call: Call):
    """?text=…&family_id=…&month=YYYY-MM&status=…&decision=…&sort=…&descending=true&offset=0&limit=500"""
    given = read_query(call.query, {**QUERY_FIELDS, "offset": "integer", "limit": "integer"})
    return home_sessions.list_sessions(call.uow(), call.user, _session_query(given), given["offset"] or 0,
                                       500 if given["limit"] is None else given["limit"])


ROW_FIELDS = {"id": "text", "key": "text", "family_id": "text", "family_name": "text", "intervenant_id": "text",
              "intervenant_name": "text", "date": "date", "start_time": "time", "duration_minutes": "integer",
              "status": "text"}


def _sessions_page(call: Call):
    """The big list by keyset: {"query": {…}, "after": <a row of the last page> | "before": <its first row>,
    "skip": 0, "limit": 200, "count": false}; the cursor is the row the client was given (its order's columns)."""
    body = call.body
    query = body.get("query") or {}
    if not isinstance(query, dict):
        raise InvalidFields({"query": "Le champ « query » doit être un objet JSON ({…})."})
    given = read_fields(body, {"skip": "integer", "limit": "integer", "count": "boolean"})
    cursor_row, backward = None, False
    for name in ("after", "before"):
        if isinstance(body.get(name), dict):
            row = read_fields(body[name], ROW_FIELDS, required=("id", "key", "date"))
            cursor_row = home_sessions.SessionRow(**row, qualification="", referent_present=False,
                                                  children_present=None, approved_exception=False, notes=None)
            backward = name == "before"
    cursor = home_sessions.SessionCursor(cursor_row, backward, given["skip"] or 0)
    return home_sessions.sessions_page(call.uow(), call.user, _session_query(read_fields(query, QUERY_FIELDS)),
                                       cursor, 200 if given["limit"] is None else given["limit"],
                                       bool(given["count"]))


def _count_sessions(call: Call):
    """?text=…&family_id=…&month=YYYY-MM&status=…&decision=… as GET /api/sessions reads them"""
    return {"count": home_sessions.count_sessions(call.uow(), call.user,
                                                  _session_query(read_query(call.query, QUERY_FIELDS)))}


def _latest_session_date(call: Call):
    """?not_after=YYYY-MM-DD (default: the server's day): the week view's « last week with sessions »."""
    not_after = read_query(call.query, {"not_after": "date"})["not_after"]
    return {"date": home_sessions.latest_session_date(call.uow(), call.user, not_after or call.today)}


def _check_session(call: Call):
    """The form's errors and warnings for a draft (the fields of POST /api/sessions), and `exclude_id`: the
    session being corrected, which is not compared with itself."""
    given = read_fields(call.body, {**SESSION_FIELDS, "exclude_id": "text"})
    return home_sessions.check_session(call.uow(), call.user, _session_draft(given), call.today,
                                       given["exclude_id"])


def _week_sessions(call: Call):
    day = read_fields(call.params, {"day": "date"}, required=("day",))["day"]
    return home_sessions.week_sessions(call.uow(), call.user, day)


# -- dérogations, EPS and orientations ------------------------------------------------------------------------

def _approve_exceptions(call: Call):
    given = read_fields(call.body, {"session_ids": "texts"}, required=("session_ids",))
    return {"approved": session_exceptions.approve_exceptions(call.uow(), call.user, given["session_ids"])}


def _refuse_exceptions(call: Call):
    given = read_fields(call.body, {"session_ids": "texts", "reason": "text"}, required=("session_ids",))
    return {"refused": session_exceptions.refuse_exceptions(call.uow(), call.user, given["session_ids"],
                                                            given["reason"], call.today)}


def _create_eps_meeting(call: Call):
    given = read_fields(call.body, {"date": "date", "notes": "text"})
    return orientations.create_eps_meeting(call.uow(), call.user, given["date"], given["notes"])


def _list_orientations(call: Call):
    given = read_query(call.query, {"status": "text", "family_id": "text"})
    return orientations.list_orientations(call.uow(), call.user, given["status"], given["family_id"])


def _import(call: Call):
    """The request's body is the dataset itself (format parcours-dataset/1), within the app's body limit: all or
    nothing, as from a file; ImportRejected (422) names the record and the field at fault."""
    return import_dataset(call.uow(), call.body, call.user)


# -- hours, conventions, accounts, audit, statement files -----------------------------------------------------

def _audit_entries(call: Call):
    """?actor_key=…&action=…&record_type=…&record_key=…&since=<ISO>&until=<ISO>&limit=1000"""
    given = read_query(call.query, {"actor_key": "text", "action": "text", "record_type": "text",
                                    "record_key": "text", "since": "datetime", "until": "datetime",
                                    "limit": "integer"})
    limit = given.pop("limit")
    return audit.list_entries(call.uow(), call.user, **given, **({} if limit is None else {"limit": limit}))


NOT_ISSUED = "Ce relevé n'a pas encore été émis : il n'a pas de PDF."


def _statement_pdf(call: Call) -> Response:
    pdf = issued_pdf(call.uow(), call.user, call.params["convention"], call.params["month"])
    if pdf is None:
        raise NotFound(NOT_ISSUED)
    name = f'releve-{call.params["convention"]}-{call.params["month"]}.pdf'
    return Response(pdf, media_type="application/pdf",
                    headers={"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{name}"'})


_DONE = object()
EXPORT_STALL_S = 120  # a client that stops reading for this long: the export is given up (rolled back, unaudited)


def _export(call: Call) -> StreamingResponse:
    """The dataset as stream_dataset writes it, chunk by chunk from a thread through a bounded queue: the store is
    never held whole in memory. Its first item is awaited before answering, so that a refusal (403) is an
    ordinary JSON refusal; the service commits its audit entry once every chunk is handed over."""
    chunks: queue.Queue = queue.Queue(maxsize=64)

    def deliver(text: Iterator[str]) -> None:
        for chunk in text:
            chunks.put(chunk.encode("utf-8"), timeout=EXPORT_STALL_S)

    def produce() -> None:
        try:
            stream_dataset(call.uow(), call.user, deliver)
        except BaseException as exc:  # handed to the reader: a refusal before the first chunk, else the end
            chunks.put(exc)
        else:
            chunks.put(_DONE)

    threading.Thread(target=produce, name="parcours-export", daemon=True).start()
    first = chunks.get()
    if isinstance(first, BaseException):
        raise first

    def body() -> Iterator[bytes]:
        item = first
        while item is not _DONE:
            if isinstance(item, BaseException):
                raise item  # the answer is under way: the connection is cut, the client sees a broken file
            yield item
            item = chunks.get()

    return StreamingResponse(body(), media_type="application/json", headers={
        "Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="parcours-export.json"'})

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
    Endpoint("GET", "/api/families/{family_id}/record", family_records.family_record, "family.read",
             lambda c: family_records.family_record(c.uow(), c.user, c.params["family_id"])),
    input_endpoint("POST", "/api/families", family_records.create_family, "family.create",
                   family_records.HouseholdInput, status=201),
    input_endpoint("PUT", "/api/families/{family_id}", family_records.update_family, "family.edit",
                   family_records.HouseholdInput, "family_id", versioned=True),
    body_endpoint("POST", "/api/families/{family_id}/close", family_records.close_family, "family.close",
                  "family_id", {"closed_on": "date", "reason": "text", **BASED_ON}, today=True),
    Endpoint("DELETE", "/api/families/{family_id}", family_records.delete_family, "family.remove",
             lambda c: family_records.delete_family(c.uow(), c.user, c.params["family_id"], based_on_query(c))),
    input_endpoint("POST", "/api/families/{family_id}/guardians", family_records.add_guardian, "family.edit",
                   family_records.GuardianInput, "family_id", status=201),
    input_endpoint("PUT", "/api/guardians/{guardian_id}", family_records.update_guardian, "family.edit",
                   family_records.GuardianInput, "guardian_id", versioned=True),
    Endpoint("DELETE", "/api/guardians/{guardian_id}", family_records.remove_guardian, "family.edit",
             lambda c: family_records.remove_guardian(c.uow(), c.user, c.params["guardian_id"], based_on_query(c))),
    input_endpoint("POST", "/api/families/{family_id}/children", family_records.add_child, "family.edit",
                   family_records.ChildInput, "family_id", today=True, status=201),
    input_endpoint("PUT", "/api/children/{child_id}", family_records.update_child, "family.edit",
                   family_records.ChildInput, "child_id", versioned=True, today=True),
    Endpoint("GET", "/api/consent/missing", consent.families_without_consent, "family.list",
             lambda c: consent.families_without_consent(c.uow(), c.user)),
    body_endpoint("PUT", "/api/consent/{family_key}", consent.record_consent, "consent.record", "family_key",
                  {"consent_date": "date", "scope": "text"}, required=("consent_date",), today=True),
    *PARCOURS_ENDPOINTS,
    Endpoint("POST", "/api/sessions", home_sessions.record_session, "session.record", _record_session, status=201,
             body=True),
    Endpoint("GET", "/api/sessions", home_sessions.list_sessions, "session.read", _list_sessions),
    Endpoint("POST", "/api/sessions/page", home_sessions.sessions_page, "session.read", _sessions_page, body=True),
    Endpoint("GET", "/api/sessions/week/{day}", home_sessions.week_sessions, "session.read", _week_sessions),
    # before /api/sessions/{session_id}: the first route whose path matches answers
    Endpoint("GET", "/api/sessions/count", home_sessions.count_sessions, "session.read", _count_sessions),
    Endpoint("GET", "/api/sessions/latest", home_sessions.latest_session_date, "session.read",
             _latest_session_date),
    Endpoint("POST", "/api/sessions/check", home_sessions.check_session, "session.record", _check_session,
             body=True),
    Endpoint("GET", "/api/sessions/{session_id}", home_sessions.get_session, "session.read",
             lambda c: home_sessions.get_session(c.uow(), c.user, c.params["session_id"])),
    Endpoint("PUT", "/api/sessions/{session_id}", home_sessions.update_session, "session.update", _update_session,
             body=True),
    Endpoint("DELETE", "/api/sessions/{session_id}", home_sessions.delete_session, "session.delete",
             _delete_session),
    Endpoint("GET", "/api/exceptions", session_exceptions.flagged_sessions, "exception.read",
             lambda c: session_exceptions.flagged_sessions(c.uow(), c.user)),
    Endpoint("POST", "/api/exceptions/approve", session_exceptions.approve_exceptions, "exception.approve",
             _approve_exceptions, body=True),
    Endpoint("POST", "/api/exceptions/refuse", session_exceptions.refuse_exceptions, "exception.approve",
             _refuse_exceptions, body=True),
    Endpoint("GET", "/api/eps", orientations.list_eps_meetings, "eps.read",
             lambda c: orientations.list_eps_meetings(c.uow(), c.user)),
    Endpoint("POST", "/api/eps", orientations.create_eps_meeting, "eps.manage", _create_eps_meeting, status=201,
             body=True),
    Endpoint("GET", "/api/eps/{meeting_id}", orientations.eps_meeting_detail, "eps.read",
             lambda c: orientations.eps_meeting_detail(c.uow(), c.user, c.params["meeting_id"])),
    body_endpoint("POST", "/api/eps/{meeting_id}/situations", orientations.add_situation, "eps.manage",
                  "meeting_id", {"family_id": "text", "recommendation": "text"}, required=("family_id",),
                  status=201),
    body_endpoint("PUT", "/api/situations/{situation_id}/recommendation", orientations.record_recommendation,
                  "eps.manage", "situation_id", {"recommendation": "text"}),
    body_endpoint("POST", "/api/situations/{situation_id}/orientations", orientations.propose_orientation,
                  "eps.manage", "situation_id", {"convention_id": "text"}, required=("convention_id",), status=201),
    Endpoint("GET", "/api/orientations", orientations.list_orientations, "orientation.read", _list_orientations),
    body_endpoint("POST", "/api/orientations/{orientation_id}/validate", orientations.validate_orientation,
                  "orientation.validate", "orientation_id", {"decided_on": "date"}),
    body_endpoint("POST", "/api/orientations/{orientation_id}/reject", orientations.reject_orientation,
                  "orientation.validate", "orientation_id", {"reason": "text", "decided_on": "date"}),
    body_endpoint("POST", "/api/orientations/{orientation_id}/end", orientations.end_orientation, "orientation.end",
                  "orientation_id", {"end": "date", "reason": "text"}),
    Endpoint("GET", "/api/capacity", orientations.convention_capacity, "convention.read",
             lambda c: orientations.convention_capacity(c.uow(), c.user, c.today)),
    Endpoint("GET", "/api/statements/{convention}/{month}", get_statement, "statement.read",
             lambda c: get_statement(c.uow(), c.user, c.params["convention"], c.params["month"])),
    Endpoint("GET", "/api/statements/{convention}/{month}/pdf", issued_pdf, "statement.read", _statement_pdf),
    Endpoint("GET", "/api/activity/months", activity.months_with_activity, "activity.read",
             lambda c: activity.months_with_activity(c.uow(), c.user)),
    Endpoint("GET", "/api/activity/{month}", activity.monthly_activity, "activity.read",
             lambda c: activity.monthly_activity(c.uow(), c.user, c.params["month"])),
    Endpoint("GET", "/api/families/{family_id}/hours", activity.family_hours, "family.read",
             lambda c: activity.family_hours(c.uow(), c.user, c.params["family_id"])),
    Endpoint("GET", "/api/families/{family_id}/usual-intervenant", home_sessions.usual_intervenant,
             "session.record", lambda c: {"intervenant_id": home_sessions.usual_intervenant(
                 c.uow(), c.user, c.params["family_id"])}),
    # what a form's pickers offer: open families (and ?keep=<the family of the session corrected>), the
    # intervenants and conventions by name
    Endpoint("GET", "/api/choices/families", families.family_choices, "family.list",
             lambda c: families.family_choices(c.uow(), c.user, read_query(c.query, {"keep": "text"})["keep"])),
    Endpoint("GET", "/api/choices/intervenants", directory.list_intervenants, "convention.read",
             lambda c: directory.list_intervenants(c.uow(), c.user)),
    Endpoint("GET", "/api/choices/conventions", directory.list_conventions, "convention.read",
             lambda c: directory.list_conventions(c.uow(), c.user)),
    Endpoint("GET", "/api/partners", conventions_admin.list_partners, "convention.read",
             lambda c: conventions_admin.list_partners(c.uow(), c.user)),
    body_endpoint("POST", "/api/partners/{key}", conventions_admin.create_partner, "convention.manage", "key",
                  {"name": "text"}, status=201),
    body_endpoint("PUT", "/api/partners/{key}", conventions_admin.rename_partner, "convention.manage", "key",
                  {"name": "text"}),
    Endpoint("GET", "/api/intervenants", conventions_admin.list_intervenants, "convention.read",
             lambda c: conventions_admin.list_intervenants(c.uow(), c.user, read_query(c.query, {
                 "partner": "text"})["partner"])),
    input_endpoint("POST", "/api/intervenants", conventions_admin.create_intervenant, "convention.manage",
                   conventions_admin.IntervenantInput, status=201),
    input_endpoint("PUT", "/api/intervenants/{key}", conventions_admin.update_intervenant, "convention.manage",
                   conventions_admin.IntervenantInput, "key"),
    Endpoint("GET", "/api/conventions", conventions_admin.list_conventions, "convention.read",
             lambda c: conventions_admin.list_conventions(c.uow(), c.user)),
    Endpoint("GET", "/api/conventions/{key}", conventions_admin.get_convention, "convention.read",
             lambda c: conventions_admin.get_convention(c.uow(), c.user, c.params["key"])),
    Endpoint("GET", "/api/actions", conventions_admin.list_actions, "convention.read",
             lambda c: conventions_admin.list_actions(c.uow(), c.user)),
    Endpoint("GET", "/api/qualifications", conventions_admin.known_qualifications, "convention.read",
             lambda c: conventions_admin.known_qualifications(c.uow(), c.user)),
    Endpoint("GET", "/api/accounts", users.list_accounts, "user.manage",
             lambda c: users.list_accounts(c.uow(), c.user)),  # UserInfo: has_password, never the hash
    Endpoint("POST", "/api/accounts/{key}/disable", users.disable_user, "user.manage",
             lambda c: users.disable_user(c.uow(), c.user, c.params["key"])),
    Endpoint("GET", "/api/audit", audit.list_entries, "audit.read", _audit_entries),
    Endpoint("POST", "/api/statements/{convention}/{month}/issue", issue_statement, "statement.issue",
             lambda c: issue_statement(c.uow(), c.user, c.params["convention"], c.params["month"]), status=201),
    Endpoint("GET", "/api/dataset/export", stream_dataset, "dataset.export", _export),
    Endpoint("POST", "/api/dataset/import", import_dataset, "dataset.import", _import, status=201, body=True),
    *BILLING_ENDPOINTS,
    *ADMIN_ENDPOINTS,
    *REPORT_ENDPOINTS,
    *SHEET_ENDPOINTS,
    *SYNC_ENDPOINTS,
)
