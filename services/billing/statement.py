"""The monthly statement as the rest of the application sees it: plain frozen data, JSON in and out.

An issued statement is stored as this JSON (its payload) and read back from it, never recomputed.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

KIND_ORDER = ("home_intervention", "home_hours", "weekly_preparation", "launch_meeting", "period_end_meeting",
              "monthly_family_flat")

# What a statement is. A monthly statement bills its month (and carries the régularisations of issued months);
# a closing statement (« état complémentaire de clôture ») comes after the period, once every month of it is issued,
# and carries only régularisations of the period's months. It is stored under a month after the period's end (the
# month after the convention's last statement), which keeps (convention, month) unique and the numbering continuous.
MONTHLY, CLOSING = "monthly", "closing"


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
    # The cap and the indicative maximum of families hold over the convention's period (Dijon: « du 1er septembre
    # 2016 au 31 août 2017 … ne peut excéder 49 975 € »): both counts run from `cumulative_since`, the period's start.
    # Statements issued before that rule counted from 1 January: their payload has no `cumulative_since` (None).
    period_to_date: Decimal  # every statement of the convention up to this one, this one included
    budget_cap: Decimal | None
    families_in_period: int
    max_families: int | None
    pdf_sha256: str | None = None
    cumulative_since: str | None = None
    kind: str = MONTHLY  # MONTHLY | CLOSING; payloads issued before closing statements existed have none: monthly

    @property
    def closing(self) -> bool:
        return self.kind == CLOSING

    @property
    def budget_left(self) -> Decimal | None:
        return None if self.budget_cap is None else self.budget_cap - self.period_to_date

    @property
    def regularisation_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.month != self.month)

    @property
    def current_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.month == self.month)

    @property
    def over_budget(self) -> bool:
        return self.budget_cap is not None and self.period_to_date > self.budget_cap

    @property
    def over_capacity(self) -> bool:
        return self.max_families is not None and self.families_in_period > self.max_families

    @property
    def cumulative_label(self) -> str:
        """« depuis le début de la convention (du 01/09/2025 au 31/08/2026) », or the calendar year of an old one."""
        if self.cumulative_since is None:
            return f"de l'année {self.month[:4]}"
        since = _french_day(self.cumulative_since)
        until = f" au {_french_day(self.period_end)}" if self.period_end else ""
        return f"depuis le début de la convention (du {since}{until})"


def _french_day(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def money_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def to_public_json(statement: Statement) -> dict[str, Any]:
    """The `statement --json` output: money as strings with two decimals."""
    return {
        "convention": statement.convention,
        "kind": statement.kind,
        "month": statement.month,
        "status": statement.status,
        "number": statement.number,
        "lines": [{"kind": l.kind, "qualification": l.qualification, "quantity": l.quantity,
                   "unit_price": money_text(l.unit_price), "amount": money_text(l.amount), "month": l.month}
                  for l in statement.lines],
        "total": money_text(statement.total),
        "flags": [_flag_json(f) for f in statement.flags],
        "cumulative_since": statement.cumulative_since,
        "period_to_date": money_text(statement.period_to_date),
        "budget_cap": money_text(statement.budget_cap),
        "budget_left": money_text(statement.budget_left),
        "over_cap": statement.over_budget,
        "families_in_period": statement.families_in_period,
        "max_families": statement.max_families,
        "over_max_families": statement.over_capacity,
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
    data = asdict(statement)
    if statement.kind == MONTHLY:  # a monthly statement's payload keeps the shape it always had
        del data["kind"]
    return json.dumps(data, default=_encode, ensure_ascii=False, sort_keys=True)


def from_payload(payload: str, **overrides) -> Statement:
    data = json.loads(payload)
    data.update(overrides)
    # payloads issued before the period rule: same numbers, their old names (see Statement.cumulative_since)
    if "year_to_date" in data:
        data["period_to_date"] = data.pop("year_to_date")
    if "families_this_year" in data:
        data["families_in_period"] = data.pop("families_this_year")
    money = lambda v: None if v is None else Decimal(v)  # noqa: E731
    return Statement(**{
        **data,
        "lines": tuple(StatementLine(**{**l, "unit_price": Decimal(l["unit_price"]), "amount": Decimal(l["amount"])})
                       for l in data["lines"]),
        "flags": tuple(StatementFlag(**f) for f in data["flags"]),
        "families": tuple(FamilyDetail(**{**f, "amount": Decimal(f["amount"])}) for f in data["families"]),
        "intervenants": tuple(IntervenantDetail(**{**i, "amount": Decimal(i["amount"])}) for i in data["intervenants"]),
        "total": Decimal(data["total"]), "period_to_date": Decimal(data["period_to_date"]),
        "budget_cap": money(data["budget_cap"]),
    })


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    raise TypeError(type(value))


