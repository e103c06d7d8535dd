"""The monthly statement as the rest of the application sees it: plain frozen data, JSON in and out.

An issued statement is stored as this JSON (its payload) and read back from it, never recomputed.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

KIND_ORDER = ("home_intervention", "weekly_preparation", "launch_meeting", "period_end_meeting")


@dataclass(frozen=True)
class StatementLine:
    kind: str
    qualification: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    month: str  # the statement's month, or the corrected month of a regularisation


@dataclass(frozen=True)
class StatementFlag:
    kind: str
    date: str
    session: str | None
    meeting: str | None
    family: str | None  # pseudonymous code
    intervenant: str | None
    approved: bool
    billed: bool


@dataclass(frozen=True)
class FamilyDetail:
    code: str
    name: str
    sessions_billed: int
    preparations_billed: int
    minutes_delivered: int
    amount: Decimal


@dataclass(frozen=True)
class IntervenantDetail:
    code: str
    name: str
    qualification: str
    sessions_billed: int
    preparations_billed: int
    meetings_billed: int
    minutes_delivered: int
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    convention: str
    month: str
    status: str  # draft | issued
    number: str | None
    issued_at: str | None
    programme: str
    city: str | None
    partner: str
    action: str
    budget_imputation: str | None
    period_start: str
    period_end: str | None
    lines: tuple[StatementLine, ...]
    total: Decimal
    flags: tuple[StatementFlag, ...]
    families: tuple[FamilyDetail, ...]
    intervenants: tuple[IntervenantDetail, ...]
    year_to_date: Decimal
    budget_cap: Decimal | None
    families_this_year: int
    max_families: int | None
    pdf_sha256: str | None = None

    @property
    def regularisation_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.month != self.month)

    @property
    def current_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.month == self.month)

    @property
    def over_budget(self) -> bool:
        return self.budget_cap is not None and self.year_to_date > self.budget_cap

    @property
    def over_capacity(self) -> bool:
        return self.max_families is not None and self.families_this_year > self.max_families


def money_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def to_public_json(statement: Statement) -> dict[str, Any]:
    """The `statement --json` output: money as strings with two decimals."""
    return {
        "convention": statement.convention,
        "month": statement.month,
        "status": statement.status,
        "number": statement.number,
        "lines": [{"kind": l.kind, "qualification": l.qualification, "quantity": l.quantity,
                   "unit_price": money_text(l.unit_price), "amount": money_text(l.amount), "month": l.month}
                  for l in statement.lines],
        "total": money_text(statement.total),
        "flags": [_flag_json(f) for f in statement.flags],
        "year_to_date": money_text(statement.year_to_date),
        "budget_cap": money_text(statement.budget_cap),
        "families_this_year": statement.families_this_year,
        "max_families": statement.max_families,
    }


def _flag_json(flag: StatementFlag) -> dict[str, Any]:
    data = {"kind": flag.kind}
    if flag.session is not None:
        data["session"] = flag.session
    if flag.meeting is not None:
        data["meeting"] = flag.meeting
    data.update({"date": flag.date, "family": flag.family, "intervenant": flag.intervenant,
                 "approved": flag.approved, "billed": flag.billed})
    return data


def to_payload(statement: Statement) -> str:
    return json.dumps(asdict(statement), default=_encode, ensure_ascii=False, sort_keys=True)


def from_payload(payload: str, **overrides) -> Statement:
    data = json.loads(payload)
    data.update(overrides)
    money = lambda v: None if v is None else Decimal(v)  # noqa: E731
    return Statement(**{
        **data,
        "lines": tuple(StatementLine(**{**l, "unit_price": Decimal(l["unit_price"]), "amount": Decimal(l["amount"])})
                       for l in data["lines"]),
        "flags": tuple(StatementFlag(**f) for f in data["flags"]),
        "families": tuple(FamilyDetail(**{**f, "amount": Decimal(f["amount"])}) for f in data["families"]),
        "intervenants": tuple(IntervenantDetail(**{**i, "amount": Decimal(i["amount"])}) for i in data["intervenants"]),
        "total": Decimal(data["total"]), "year_to_date": Decimal(data["year_to_date"]),
        "budget_cap": money(data["budget_cap"]),
    })


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    raise TypeError(type(value))


