"""The interchange form of each stored record: what export writes and what a re-import is compared with."""
from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from models import (Child, Convention, EpsMeeting, Family, HomeSession, Intervenant, Meeting, Orientation,
                    Parcours, Partner, Programme, User)
from models.enums import FLAT_QUALIFICATION, PRICED_KINDS, QUALIFICATIONS, REFERRAL_REASONS

FORMAT = "parcours-dataset/1"


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def key_of(record) -> str | None:
    return record.key if record is not None else None


def programme(p: Programme) -> dict:
    data = {"name": p.name, "holiday_zone": p.holiday_zone, "eligible_communes": list(p.eligible_communes or []),
            "city": p.city}
    if p.qpv_names:  # migration 0012, written only when the list is kept
        data["qpv_names"] = list(p.qpv_names)
    return data


def with_set(data: dict, optional: dict) -> dict:
    """`data` and the optional fields that hold something (migration 0012 and `actions`): the files of records
    without them stay as they were, and an older reader is not handed fields it does not know."""
    data.update({name: value for name, value in optional.items() if value not in (None, [], "")})
    return data


def user(u: User) -> dict:
    return {"key": u.key, "name": u.name, "role": u.role, "active": u.active}


def partner(p: Partner) -> dict:
    return {"key": p.key, "name": p.name}


def tariff_table(rows, qualifications=QUALIFICATIONS) -> dict[str, dict[str, str]]:
    """{"AES": {kind: "30.00", …}, "TISF": {…}}: the convention's first table or an avenant's, in the order of its
    qualifications, the monthly flat (« forfait ») last."""
    order = [*qualifications, FLAT_QUALIFICATION]
    table: dict[str, dict[str, str]] = {}
    rank = lambda q: order.index(q) if q in order else len(order)  # noqa: E731
    for t in sorted(rows, key=lambda t: (rank(t.qualification), t.qualification, PRICED_KINDS.index(t.kind))):
        table.setdefault(t.qualification, {})[t.kind] = money(t.unit_price)
    return table


# A convention's billing model (migration 0007), written only when it differs from these, Atout Plus's: the files of
# conventions billed as before stay as they were. `sessions_per_week` null: no weekly limit.
RULE_DEFAULTS = {"sessions_per_week": 1, "holidays_need_exception": True, "referent_at_first_session": True,
                 "home_unit": "session", "hour_rounding_minutes": 15}
# What an omitted field means, when the stored form is compared with a file's record.
OMITTED_DEFAULTS = {**RULE_DEFAULTS, "qualifications": list(QUALIFICATIONS)}


def convention(c: Convention) -> dict:
    data = {
        "key": c.key, "partner": c.partner.key, "action": c.action.name, "start": iso(c.start_date),
        "end": iso(c.end_date), "max_families": c.max_families, "budget_cap": money(c.budget_cap),
        "period_end_months": sorted(c.period_end_months or []),
        "tariffs": tariff_table(c.tariffs, c.qualifications or QUALIFICATIONS),
        "budget_imputation": c.budget_imputation,
    }
    for field, default in RULE_DEFAULTS.items():
        value = getattr(c, field)
        if value != default:
            data[field] = value
    if list(c.qualifications or QUALIFICATIONS) != list(QUALIFICATIONS):  # migration 0008; AES, TISF files unchanged
        data["qualifications"] = list(c.qualifications)
    by_start: dict[date, list] = {}
    for row in c.amendments:
        by_start.setdefault(row.starts_on, []).append(row)
    if by_start:  # written only when there are avenants: files of conventions without any stay as they were
        data["amendments"] = [{"start": iso(day), "tariffs": tariff_table(rows, c.qualifications or QUALIFICATIONS)} for day, rows in sorted(by_start.items())]
    return data


def history_order(start: date | None) -> tuple:
    """The rows of an intervenant's history by start, the one from the beginning (None) first."""
    return (start is not None, start or date.min)


def intervenant_history(rows: list[dict], qualification: str, partner_key: str) -> list[dict] | None:
    """The `history` field of an intervenant: None when it only says « these, from the beginning »."""
    if not rows or rows == [{"from": None, "qualification": qualification, "partner": partner_key}]:
        return None
    return rows


def intervenant(i: Intervenant) -> dict:
    data = {"key": i.key, "partner": i.partner.key, "name": i.name, "qualification": i.qualification}
    rows = [{"from": iso(h.starts_on), "qualification": h.qualification, "partner": h.partner.key}
            for h in sorted(i.history, key=lambda h: history_order(h.starts_on))]
    history = intervenant_history(rows, i.qualification, i.partner.key)
    if history is not None:
        data["history"] = history
    return data


def child(c: Child) -> dict:
    return with_set({"key": c.key, "first_name": c.first_name, "last_name": c.last_name,
                      "birth_date": iso(c.birth_date), "sex": c.sex, "school": c.school, "class": c.school_class},
                     {"school_level": c.school_level, "priority_education": c.priority_education})


def family(f: Family) -> dict:
    return {
        "key": f.key, "name": f.name, "address": f.address, "commune": f.commune,
        "priority_neighbourhood": f.priority_neighbourhood, "referent": key_of(f.referent),
        "consent_date": iso(f.consent_date), "consent_scope": f.consent_scope, "notes": f.notes,
        "guardians": [{"name": g.name, "relationship": g.relationship_to_child, "phone": g.phone} for g in f.guardians],
        "children": sorted((child(c) for c in f.children), key=lambda c: c["key"]),
        **({"qpv_name": f.qpv_name} if f.qpv_name else {}),
    }


def parcours(p: Parcours) -> dict:
    return with_set({"key": p.key, "child": p.child.key, "referent": key_of(p.referent), "status": p.status,
                      "start": iso(p.start_date), "end": iso(p.end_date), "objectives": p.objectives,
                      "exit_reason": p.exit_reason},
                     {"actions": p.actions, "referral_source": p.referral_source,
                      "referral_source_other": p.referral_source_other,
                      "referral_reasons": [c for c in REFERRAL_REASONS if c in {r.reason for r in p.reasons}],
                      "referral_reason_other": p.referral_reason_other, "support_profile": p.support_profile,
                      "support_profile_other": p.support_profile_other, "exit_reason_code": p.exit_reason_code})


def eps_meeting(m: EpsMeeting) -> dict:
    return {"key": m.key, "date": iso(m.date), "notes": m.notes,
            "situations": sorted(({"family": s.family.key, "recommendation": s.recommendation} for s in m.situations),
                                 key=lambda s: (s["family"], s["recommendation"] or ""))}


def orientation(o: Orientation) -> dict:
    return {"key": o.key, "family": o.family.key, "convention": o.convention.key, "eps_date": iso(o.eps_date),
            "status": o.status, "decided_on": iso(o.decided_on), "decided_by": key_of(o.decided_by),
            "end": iso(o.end_date), "reason": o.reason}


def session(s: HomeSession) -> dict:
    return session_form(s.key, s.family.key, s.intervenant.key, s.date, s.start_time, s.duration_minutes, s.status,
                        s.referent_present, s.children_present, s.approved_exception, key_of(s.approved_by), s.notes,
                        s.exception_refused, key_of(s.exception_decided_by), s.exception_reason)


def session_form(key, family_key, intervenant_key, day, start_time, duration_minutes, status, referent_present,
                 children_present, approved_exception, approved_by_key, notes, exception_refused,
                 exception_decided_by_key, exception_reason) -> dict:
    """A session's interchange form from its column values (SESSION_COLUMNS, references as keys): the export
    streams sessions as rows, without an ORM object each."""
    data = {"key": key, "family": family_key, "intervenant": intervenant_key, "date": iso(day),
            "start_time": hhmm(start_time), "duration_minutes": duration_minutes, "status": status,
            "referent_present": referent_present, "children_present": children_present,
            "approved_exception": approved_exception, "approved_by": approved_by_key, "notes": notes}
    # A refused dérogation (optional fields, written only when set: older files and readers do without them).
    if exception_refused:
        data["exception_refused"] = True
    if exception_decided_by_key is not None:
        data["exception_decided_by"] = exception_decided_by_key
    if exception_reason is not None:
        data["exception_reason"] = exception_reason
    return data


# The columns session_form takes, in its order (ids where it takes keys).
SESSION_COLUMNS = ("key", "family_id", "intervenant_id", "date", "start_time", "duration_minutes", "status",
                   "referent_present", "children_present", "approved_exception", "approved_by_id", "notes",
                   "exception_refused", "exception_decided_by_id", "exception_reason")


def meeting(m: Meeting) -> dict:
    return {"key": m.key, "convention": m.convention.key, "kind": m.kind, "date": iso(m.date),
            "intervenants": sorted(i.key for i in m.intervenants), "notes": m.notes}
