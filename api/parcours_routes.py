"""The API's parcours endpoints: opened, planned, resumed, suspended, closed, completed once closed, and the children
about to leave the programme. Thin handlers as in api.routes.

A parcours's referral and support profile (services' ParcoursDetails: referral_source, referral_reasons…) come in
the same body as the other fields. When a body gives none of them, the service receives none (None) and leaves
them as they are: a client that does not know them yet erases nothing.
"""
from __future__ import annotations

from collections.abc import Mapping

from services import family_records, parcours
from services.family_records import ParcoursDetails

from api.endpoints import BASED_ON, Call, Endpoint, body_endpoint
from api.json_io import input_spec, read_input, read_query

DETAIL_FIELDS = tuple(input_spec(ParcoursDetails)[0])


def _with_details(body: Mapping, extra: Mapping[str, str]) -> tuple[ParcoursDetails | None, dict]:
    """(the details, or None when the body gives none of them; the `extra` fields), every wrong field named at once."""
    details, given = read_input(ParcoursDetails, body, extra)
    return (details if any(name in body for name in DETAIL_FIELDS) else None), given


def _open_parcours(call: Call):
    details, given = _with_details(call.body, {"start": "date", "objectives": "text"})
    return parcours.open_parcours(call.uow(), call.user, call.params["child_id"], given["start"],
                                  given["objectives"], details=details)


def _update_plan(call: Call):
    details, given = _with_details(call.body, {"objectives": "text", "actions": "text", **BASED_ON})
    return family_records.update_parcours_plan(call.uow(), call.user, call.params["parcours_id"],
                                               given["objectives"], given["actions"], given["based_on"],
                                               details=details)


def _correct_closed(call: Call):
    """A closed parcours completed for the reports: its details (all of them: those left out are emptied), and
    exit_reason_code (models.enums.EXIT_REASONS) with exit_reason_text for « autre »."""
    details, given = read_input(ParcoursDetails, call.body, {"exit_reason_code": "text", "exit_reason_text": "text",
                                                              **BASED_ON})
    return family_records.correct_closed_parcours(call.uow(), call.user, call.params["parcours_id"], details,
                                                  given["exit_reason_code"], given["exit_reason_text"],
                                                  given["based_on"])


def _turning_17(call: Call):
    given = read_query(call.query, {"within_months": "integer"})
    return parcours.children_turning_17(call.uow(), call.user, call.today,
                                        3 if given["within_months"] is None else given["within_months"])


PARCOURS_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("PUT", "/api/parcours/{parcours_id}/plan", family_records.update_parcours_plan, "parcours.edit",
             _update_plan, body=True),
    Endpoint("POST", "/api/children/{child_id}/parcours", parcours.open_parcours, "parcours.change", _open_parcours,
             status=201, body=True),
    body_endpoint("POST", "/api/parcours/{parcours_id}/resume", parcours.resume_parcours, "parcours.change",
                  "parcours_id", {"start": "date"}),
    Endpoint("POST", "/api/parcours/{parcours_id}/suspend", parcours.suspend_parcours, "parcours.change",
             lambda c: parcours.suspend_parcours(c.uow(), c.user, c.params["parcours_id"])),
    # exit_reason: the text (« autre »'s precision, or the reason typed before the list); exit_reason_code: its code
    body_endpoint("POST", "/api/parcours/{parcours_id}/close", parcours.close_parcours, "parcours.change",
                  "parcours_id", {"end": "date", "exit_reason": "text", "exit_reason_code": "text"}),
    Endpoint("PUT", "/api/parcours/{parcours_id}/closed-details", family_records.correct_closed_parcours,
             "parcours.edit", _correct_closed, body=True),
    Endpoint("GET", "/api/parcours/turning-17", parcours.children_turning_17, "parcours.read", _turning_17),
)
