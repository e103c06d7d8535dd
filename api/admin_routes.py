"""The API's endpoints for the administration and the coordination's programme-wide acts: conventions written
(terms, avenants), accounts (created, passwords), the programme's settings and QPV, the audit log's purge, the RGPD
routines (retention, right of access). Thin handlers as in api.routes: every rule and audit row is the service's.
"""
from __future__ import annotations

from collections.abc import Mapping

from services import access_export, audit, conventions_admin, directory, programme_settings, retention, users
from services.errors import InvalidFields

from api.endpoints import BASED_ON, Call, Endpoint
from api.json_io import read_fields, read_input

# -- conventions --------------------------------------------------------------------------------------------------

# ConventionInput's fields of two types (a number or the text typed): the amount stays text, parsed by the service
CONVENTION_EXTRA = {"max_families": "integer", "budget_cap": "text"}
TARIFF_SHAPE = ("doit être une liste d'objets {\"qualification\", \"kind\", \"unit_price\"} (le montant écrit "
                "comme un texte, par exemple « 31.50 », ou null)")


def read_tariffs(raw, name: str = "tariffs") -> dict[tuple[str, str], str | None]:
    """A tariff table as the API writes it (ConventionSummary.tariffs: a list of {qualification, kind,
    unit_price}) into the services' mapping {(qualification, kind): amount}; the amounts are checked by the
    service, with its French messages."""
    if raw is None:
        return {}
    ok = isinstance(raw, list) and all(
        isinstance(t, Mapping) and isinstance(t.get("qualification"), str) and isinstance(t.get("kind"), str)
        and (t.get("unit_price") is None or isinstance(t.get("unit_price"), str)) for t in raw)
    if not ok:
        raise InvalidFields({name: f"Le champ « {name} » {TARIFF_SHAPE}."})
    tariffs: dict[tuple[str, str], str | None] = {}
    for t in raw:
        cell = (t["qualification"], t["kind"])
        if cell in tariffs:
            raise InvalidFields({name: f"Le champ « {name} » donne deux fois le tarif {cell[1]} {cell[0]}."})
        tariffs[cell] = t.get("unit_price")
    return tariffs


def _collect(problems: dict, read, *args, default=None):
    """read(*args), its InvalidFields' problems added to `problems` (so that every wrong field is named at once)."""
    try:
        return read(*args)
    except InvalidFields as exc:
        problems.update(exc.problems)
        return default


def _convention_input(body: Mapping) -> conventions_admin.ConventionInput:
    problems: dict[str, str] = {}
    extra = _collect(problems, read_fields, body, CONVENTION_EXTRA, default={})
    tariffs = _collect(problems, read_tariffs, body.get("tariffs"), default={})
    given = {name: value for name, value in {**extra, "tariffs": tariffs}.items() if value is not None}
    data = _collect(problems, lambda: read_input(conventions_admin.ConventionInput, body, **given)[0])
    if problems:
        raise InvalidFields(problems)
    return data


def _create_convention(call: Call):
    return conventions_admin.create_convention(call.uow(), call.user, _convention_input(call.body))


def _update_convention(call: Call):
    return conventions_admin.update_convention(call.uow(), call.user, call.params["key"],
                                               _convention_input(call.body))


def _add_amendment(call: Call):
    """{"start": "2025-09-01", "tariffs": [{qualification, kind, unit_price}…], "replacing": <an avenant's start>}"""
    problems: dict[str, str] = {}
    given = _collect(problems, read_fields, call.body, {"start": "date", "replacing": "date"}, default={})
    tariffs = _collect(problems, read_tariffs, call.body.get("tariffs"), default={})
    if problems:
        raise InvalidFields(problems)
    return conventions_admin.add_amendment(call.uow(), call.user, call.params["key"], given["start"], tariffs,
                                           given["replacing"])


def _remove_amendment(call: Call):
    start = read_fields(call.params, {"start": "date"}, required=("start",))["start"]
    return conventions_admin.remove_amendment(call.uow(), call.user, call.params["key"], start)


def _regularisation_warning(call: Call):
    """The sentence the editor shows before saving an intervenant's change (null: nothing to say)."""
    data, _ = read_input(conventions_admin.IntervenantInput, call.body)
    return {"warning": conventions_admin.regularisation_warning(call.uow(), call.user, call.params["key"], data)}


# -- accounts, programme, audit log, RGPD ---------------------------------------------------------------------------

def _add_user(call: Call):
    given = read_fields(call.body, {"key": "text", "role": "text", "password": "text", "name": "text"},
                        required=("key", "role", "password"))
    return users.add_user(call.uow(), call.user, given["key"], given["role"], given["password"], name=given["name"])


def _change_password(call: Call):
    """An administrator sets another account's password (its holder changes it at the next login)."""
    password = read_fields(call.body, {"password": "text"}, required=("password",))["password"]
    return users.change_password(call.uow(), call.user, call.params["key"], password)


def _change_own_password(call: Call):
    """{"current_password", "password"}: the current password is asked again, as a login (throttled), so that a
    device left open, or stolen, cannot take the account over (its new password would enrol other devices)."""
    given = read_fields(call.body, {"current_password": "text", "password": "text"},
                        required=("current_password", "password"))
    users.authenticate(call.uow(), call.user.key, given["current_password"], clock=call.clock)
    return users.change_password(call.uow(), call.user, call.user.key, given["password"])


def _check_own_password(call: Call):
    """{"password"}: a laptop confirms that a password changed elsewhere is the account's before it wraps its copy's
    key with it (services.sync.client.confirm_new_password): a login check, throttled like one, that changes
    nothing (no new hash, no « password changed » entry in the audit trail)."""
    given = read_fields(call.body, {"password": "text"}, required=("password",))
    users.authenticate(call.uow(), call.user.key, given["password"], clock=call.clock)
    return directory.get_user(call.uow(), call.user, call.user.id)


def _save_programme(call: Call):
    given = read_fields(call.body, {"name": "text", "city": "text", "holiday_zone": "text", **BASED_ON})
    return programme_settings.save_programme(call.uow(), call.user, given["name"], given["city"],
                                             given["holiday_zone"], based_on=given["based_on"])


def _save_qpv_names(call: Call):
    """{"names": ["Croix-Blanche", …], "based_on": <the programme's updated_at>}: the whole list, in its order."""
    given = read_fields(call.body, {"names": "texts", **BASED_ON}, required=("names",))
    return programme_settings.save_qpv_names(call.uow(), call.user, given["names"], based_on=given["based_on"])


def _purge_audit(call: Call):
    days = read_fields(call.body, {"days": "integer"})["days"]
    purged = audit.purge_older_than(call.uow(), call.user, **({} if days is None else {"days": days}),
                                    clock=call.clock)
    return {"purged": purged}


def _run_retention(call: Call):
    """{"years": 2, "dry_run": true}: the report of what is (or, in a dry run, would be) anonymised."""
    given = read_fields(call.body, {"years": "integer", "dry_run": "boolean"})
    return retention.anonymise_expired_families(call.uow(), call.user,
                                                **({} if given["years"] is None else {"years": given["years"]}),
                                                today=call.today, dry_run=bool(given["dry_run"]))


ADMIN_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/api/conventions", conventions_admin.create_convention, "convention.manage",
             _create_convention, status=201, body=True),
    Endpoint("PUT", "/api/conventions/{key}", conventions_admin.update_convention, "convention.manage",
             _update_convention, body=True),
    Endpoint("POST", "/api/conventions/{key}/amendments", conventions_admin.add_amendment, "convention.manage",
             _add_amendment, status=201, body=True),
    Endpoint("DELETE", "/api/conventions/{key}/amendments/{start}", conventions_admin.remove_amendment,
             "convention.manage", _remove_amendment),
    Endpoint("POST", "/api/intervenants/{key}/regularisation-warning", conventions_admin.regularisation_warning,
             "convention.read", _regularisation_warning, body=True),
    Endpoint("GET", "/api/me", directory.get_user, "user.self",
             lambda c: directory.get_user(c.uow(), c.user, c.user.id)),
    Endpoint("PUT", "/api/me/password", users.change_password, "user.self", _change_own_password, body=True),
    Endpoint("POST", "/api/me/password-check", users.authenticate, "user.self", _check_own_password, body=True),
    Endpoint("POST", "/api/accounts", users.add_user, "user.manage", _add_user, status=201, body=True),
    Endpoint("PUT", "/api/accounts/{key}/password", users.change_password, "user.manage",
             _change_password, body=True),
    Endpoint("GET", "/api/programme", programme_settings.get_programme, "programme.read",
             lambda c: programme_settings.get_programme(c.uow(), c.user)),  # null until the administrator fills it
    Endpoint("PUT", "/api/programme", programme_settings.save_programme, "programme.manage", _save_programme,
             body=True),
    Endpoint("GET", "/api/programme/qpv", programme_settings.qpv_names, "programme.read",
             lambda c: programme_settings.qpv_names(c.uow(), c.user)),
    Endpoint("PUT", "/api/programme/qpv", programme_settings.save_qpv_names, "programme.manage", _save_qpv_names,
             body=True),
    Endpoint("POST", "/api/audit/purge", audit.purge_older_than, "audit.purge", _purge_audit, body=True),
    Endpoint("POST", "/api/retention/run", retention.anonymise_expired_families, "retention.run", _run_retention,
             body=True),
    Endpoint("GET", "/api/access-export/{family_key}", access_export.export_family, "access_export.run",
             lambda c: access_export.export_family(c.uow(), c.user, c.params["family_key"], today=c.today)),
)
