"""Partners, intervenants and conventions as the administrator manages them.

Reading is open to every role; writing is reserved to the administrator (`PermissionDenied` otherwise, see
services.permissions) and leaves one audit entry naming the fields that changed.
Amounts are Decimal with at most two decimals, never negative; a text amount may use the French comma
("56,13") or the dot. Every write validates all the fields at once: `InvalidFields.problems` maps each field
at fault to its French message (`tariffs.<QUALIFICATION>.<kind>` for a cell of the tariff table).

Once one month of a convention is issued, its billing terms (partner, action, period, period-end months,
tariffs) are frozen: the issued statements were computed with them, and a change would silently turn into
regularisations. `ConventionLocked` says so and points to the way out: a new convention, or an amendment
(avenant) that starts at a date. The indicative maximum of families, the budget cap and the budget
imputation stay editable: they only inform the statements still to come.

New tariffs from a date come as an avenant (`add_amendment`): a whole tariff table in force from its start, inside
the convention's period; the month rules run across it as one convention. An avenant whose start falls in an
issued month (or before one) is locked like the first table.

An intervenant's qualification and partner are facts in force from a date (`IntervenantInput.from_date`): a
change keeps the earlier ones, so issued months keep their prices. A date inside an issued month is allowed (the
correction is real) and brings régularisations: `regularisation_warning` says so before saving.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, null, select

from models import (Action, Convention, Intervenant, IntervenantHistory, Partner, Statement as StoredStatement, Tariff,
                    TariffAmendment)
from models.enums import FLAT_KIND, FLAT_QUALIFICATION, HOME_UNITS, MAX_QUALIFICATION, QUALIFICATIONS, TARIFF_KINDS
from services import audit, text_rules
from services.billing.loading import convention_by_key
from services.errors import DomainError, InvalidFields, NotFound, ValidationError  # noqa: F401 - callers import InvalidFields from here
from services.money_text import MAX_INTEGER_DIGITS, parse_amount_text
from services.formatting import format_date, month_in_words, of_month
from services.permissions import CurrentUser, require
from services.date_bounds import EVENT, out_of_bounds
from services.uow import UnitOfWork, unstorable

MAX_NAME = 200
_KEY = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_INTEGER = re.compile(r"\A[0-9]{1,6}\Z")
# The terms the issued statements were computed with; they cannot move once a month is issued.
# The billing model of the convention (migration 0007; the defaults are Atout Plus's): billing terms too.
RULE_FIELDS = ("sessions_per_week", "holidays_need_exception", "referent_at_first_session", "home_unit", "hour_rounding_minutes")
LOCKED_FIELDS = ("partner", "action", "start", "end", "period_end_months", "tariffs", *RULE_FIELDS)
# Field names written in the audit log (names only, never values).
INTERVENANT_FIELDS = ("name", "qualification", "partner_id")
SUMMARY_FIELDS = ("partner", "action", "start", "end", "max_families", "budget_cap", "budget_imputation",
                  "period_end_months", "tariffs", *RULE_FIELDS, "qualifications")
# The monthly flat per family followed (migration 0008) is one cell of the tariff table, under a reserved label.
FLAT = (FLAT_QUALIFICATION, FLAT_KIND)


class ConventionLocked(DomainError):
    """The convention has issued statements: its billing terms can no longer change."""



def tariff_field(qualification: str, kind: str) -> str:
    """The field name of one cell of the tariff table, as `InvalidFields.problems` names it."""
    return f"tariffs.{qualification}.{kind}"


def qualification_problem(label: str | None) -> str | None:
    """Why `label` cannot be a qualification (None when it can): trimmed, 1 to 20 characters, not the reserved label
    of the monthly flat."""
    text = (label or "").strip()
    if not text:
        return "La qualification est obligatoire (par exemple AES, TISF, Éducateur)."
    if len(text) > MAX_QUALIFICATION:
        return f"La qualification dépasse {MAX_QUALIFICATION} caractères."
    if unstorable(text):
        return "La qualification contient un caractère invalide (caractère nul ou Unicode mal formé)."
    problem = text_rules.character_problem(text)
    if problem:
        return f"La qualification {problem}."
    if text.casefold() == FLAT_QUALIFICATION.casefold():
        return f"« {FLAT_QUALIFICATION} » est réservé au forfait mensuel par famille suivie."
    return None


# ------------------------------------------------------------------------------------------------- read side

@dataclass(frozen=True)
class PartnerSummary:
    key: str
    name: str
    intervenants: int
    conventions: int


@dataclass(frozen=True)
class IntervenantSummary:
    key: str
    name: str
    qualification: str
    partner: str  # the partner's key
    partner_name: str
    history: tuple[IntervenantPeriod, ...] = ()  # by start; the last one is `qualification` and `partner`


@dataclass(frozen=True)
class TariffAmount:
    qualification: str
    kind: str
    unit_price: Decimal


@dataclass(frozen=True)
class TariffVersionSummary:
    """« Tarifs en vigueur à partir du … »: the convention's first table (`amendment` False) or an avenant's."""

    start: date
    tariffs: tuple[TariffAmount, ...]
    amendment: bool
    locked: bool  # its start falls in an issued month, or before one

    def tariff(self, qualification: str, kind: str) -> Decimal | None:
        return next((t.unit_price for t in self.tariffs if (t.qualification, t.kind) == (qualification, kind)), None)


@dataclass(frozen=True)
class IntervenantPeriod:
    start: date | None  # None: from the beginning
    qualification: str
    partner: str  # the partner's key
    partner_name: str


@dataclass(frozen=True)
class ConventionSummary:
    key: str
    partner: str  # the partner's key
    partner_name: str
    action: str
    start: date
    end: date | None
    max_families: int | None
    budget_cap: Decimal | None
    budget_imputation: str | None
    period_end_months: tuple[int, ...]
    tariffs: tuple[TariffAmount, ...]  # the first table, from the convention's start
    issued_months: tuple[str, ...]  # YYYY-MM, in order
    tariff_versions: tuple[TariffVersionSummary, ...] = ()  # the first table, then the avenants, by start
    sessions_per_week: int | None = 1  # billed home interventions per family and ISO week; None: no limit
    holidays_need_exception: bool = True  # a school-holiday session needs a dérogation
    referent_at_first_session: bool = True  # a first session without the référent is flagged
    home_unit: str = "session"  # session: flat per intervention | hour: per hour delivered
    hour_rounding_minutes: int = 15  # an hourly convention rounds each session's duration up to this
    qualifications: tuple[str, ...] = QUALIFICATIONS  # the columns of its tariff table, in order

    @property
    def hourly(self) -> bool:
        return self.home_unit == "hour"

    @property
    def monthly_family_flat(self) -> Decimal | None:
        """« Forfait mensuel par famille suivie » of the first table, or None."""
        return self.tariff(*FLAT)

    @property
    def locked(self) -> bool:
        return bool(self.issued_months)

    def tariff(self, qualification: str, kind: str) -> Decimal | None:
        return next((t.unit_price for t in self.tariffs if (t.qualification, t.kind) == (qualification, kind)), None)

    def months(self, today: date) -> tuple[str, ...]:
        """The months a statement can be drawn for: the period, or up to `today` when it has no end."""
        last = self.end or max(today, self.start)
        return months_between(month_of(self.start), max((month_of(last), *self.issued_months)))

    def next_to_issue(self, today: date) -> str | None:
        """The first month still a draft (months are issued in order), or None when all are issued."""
        return next((m for m in self.months(today) if m not in self.issued_months), None)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_between(first: str, last: str) -> tuple[str, ...]:
    """'2025-11', '2026-02' -> ('2025-11', '2025-12', '2026-01', '2026-02')."""
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def list_partners(uow: UnitOfWork, user: CurrentUser) -> tuple[PartnerSummary, ...]:
    with uow:
        require(user, "convention.read", session=uow.session)
        s = uow.session
        count = lambda model: dict(s.execute(  # noqa: E731
            select(model.partner_id, func.count()).group_by(model.partner_id)).all())
        intervenants, conventions = count(Intervenant), count(Convention)
        return tuple(PartnerSummary(p.key, p.name, intervenants.get(p.id, 0), conventions.get(p.id, 0))
                     for p in s.scalars(select(Partner).order_by(Partner.name, Partner.key)))


def list_intervenants(uow: UnitOfWork, user: CurrentUser, partner: str | None = None) -> tuple[IntervenantSummary, ...]:
    with uow:
        require(user, "convention.read", session=uow.session)
        query = select(Intervenant, Partner).join(Partner, Partner.id == Intervenant.partner_id)
        if partner is not None:
            query = query.where(Partner.key == partner)
        rows = uow.session.execute(query.order_by(Intervenant.name, Intervenant.key))
        return tuple(_intervenant_summary(i, p) for i, p in rows)


def list_conventions(uow: UnitOfWork, user: CurrentUser) -> tuple[ConventionSummary, ...]:
    with uow:
        require(user, "convention.read", session=uow.session)
        s = uow.session
        issued = _issued_months(s)
        return tuple(_convention_summary(c, issued.get(c.id, ()))
                     for c in s.scalars(select(Convention).order_by(Convention.start_date.desc(), Convention.key)))


def get_convention(uow: UnitOfWork, user: CurrentUser, key: str) -> ConventionSummary:
    with uow:
        require(user, "convention.read", session=uow.session)
        convention = convention_by_key(uow.session, key)
        return _convention_summary(convention, _issued_months(uow.session, convention.id).get(convention.id, ()))


def known_qualifications(uow: UnitOfWork, user: CurrentUser) -> tuple[str, ...]:
    """The qualifications the programme's conventions pay (in the order of their tables, newest convention first),
    then those intervenants already carry: what the intervenant form offers, besides free entry."""
    with uow:
        require(user, "convention.read", session=uow.session)
        s = uow.session
        found: list[str] = []
        for labels in s.scalars(select(Convention.qualifications).order_by(Convention.start_date.desc(),
                                                                            Convention.key)):
            found.extend(q for q in (labels or QUALIFICATIONS) if q not in found)
        found.extend(q for q in sorted(set(s.scalars(select(Intervenant.qualification)))) if q not in found)
        return tuple(found)


def list_actions(uow: UnitOfWork, user: CurrentUser) -> tuple[str, ...]:
    """The names of the catalogue's actions, for the convention editor."""
    with uow:
        require(user, "convention.read", session=uow.session)
        return tuple(uow.session.scalars(select(Action.name).order_by(Action.name)))


def lock_message(convention: ConventionSummary) -> str | None:
    """Why the billing terms of this convention can no longer change, or None while nothing is issued."""
    if not convention.issued_months:
        return None
    first, count = convention.issued_months[0], len(convention.issued_months)
    issued = (f"l'état {of_month(first)} est émis" if count == 1 else
              f"{count} états mensuels sont émis (depuis {month_in_words(first)})")
    return (f"La convention {convention.key} ne peut plus changer de tarifs ni de période : {issued}, et ils ont "
            "été calculés avec ces conditions. Pour appliquer de nouvelles conditions, créez une nouvelle "
            "convention ou un avenant avec sa date de début (« Nouvel avenant… », sous les tarifs). Le nombre "
            "maximal de familles, le plafond et l'imputation budgétaire restent modifiables.")


# ------------------------------------------------------------------------------------------------ write side

@dataclass(frozen=True)
class IntervenantInput:
    key: str
    name: str
    qualification: str
    partner: str  # the partner's key
    # « À partir de quelle date ? »: when the qualification or the partner changes, the day the new ones hold from
    # (None: today). Earlier days keep the earlier ones; changes recorded from this day on are replaced.
    from_date: date | None = None


@dataclass(frozen=True)
class ConventionInput:
    """What the editor submits. Amounts may be Decimal or text as typed ("56,13"); blank means none.
    `tariffs` maps (qualification, kind) to an amount; a missing or blank cell means no tariff; the monthly flat per
    family followed is the cell `FLAT`. `qualifications` are the table's columns, in order: a tariff names one of
    them; a column can go only when no tariff of the convention (nor of an avenant) names it."""

    key: str
    partner: str
    action: str
    start: date | None
    end: date | None
    max_families: int | str | None = None
    budget_cap: Decimal | str | None = None
    budget_imputation: str | None = None
    period_end_months: tuple[int, ...] = ()
    tariffs: Mapping[tuple[str, str], Decimal | str | None] = field(default_factory=dict)
    # The billing model; the defaults are Atout Plus's (see ConventionSummary).
    sessions_per_week: int | None = 1
    holidays_need_exception: bool = True
    referent_at_first_session: bool = True
    home_unit: str = "session"
    hour_rounding_minutes: int = 15
    qualifications: tuple[str, ...] = QUALIFICATIONS


def zero_amounts(data: ConventionInput) -> tuple[str, ...]:
    """The French names of the amounts typed as 0,00 (a free tariff, a cap of nothing): legal, but more often a slip
    than a decision, so the window asks before saving them."""
    from services.billing.labels import KIND_LABELS

    def is_zero(value) -> bool:
        return parse_amount(value, "_", {}) == Decimal("0.00")

    named = [("le plafond budgétaire", data.budget_cap)] + [
        (f"le tarif « {KIND_LABELS.get(kind, kind)} »" + ("" if (qualification, kind) == FLAT else f" {qualification}"),
         amount)
        for (qualification, kind), amount in sorted(data.tariffs.items())]
    return tuple(name for name, value in named if is_zero(value))


def create_partner(uow: UnitOfWork, user: CurrentUser, key: str, name: str) -> PartnerSummary:
    with uow:
        require(user, "convention.manage", session=uow.session)
        s = uow.session
        problems = {}
        key = _new_key(s, Partner, key, "Un partenaire", problems)
        name = _check_name(name, "name", problems)
        _raise_if(problems)
        s.add(Partner(key=key, name=name))
        audit.record(s, user.key, "create", "partner", key, ["name"])
        uow.commit()
        return PartnerSummary(key, name, 0, 0)


def rename_partner(uow: UnitOfWork, user: CurrentUser, key: str, name: str) -> PartnerSummary:
    with uow:
        require(user, "convention.manage", session=uow.session)
        s = uow.session
        partner = _partner(s, key)
        problems = {}
        name = _check_name(name, "name", problems)
        _raise_if(problems)
        audit.record(s, user.key, "update", "partner", key, ["name"] if name != partner.name else [])
        partner.name = name
        uow.commit()
    return next(p for p in list_partners(uow, user) if p.key == key)


def create_intervenant(uow: UnitOfWork, user: CurrentUser, data: IntervenantInput) -> IntervenantSummary:
    with uow:
        require(user, "convention.manage", session=uow.session)
        s = uow.session
        problems = {}
        key = _new_key(s, Intervenant, data.key, "Un intervenant", problems)
        intervenant = Intervenant(key=key)
        _fill_intervenant(s, intervenant, data, problems)
        # From the beginning: whatever day their first session is, it is billed at these.
        intervenant.history.append(IntervenantHistory(starts_on=None, qualification=intervenant.qualification,
                                                      partner=intervenant.partner))
        s.add(intervenant)
        audit.record(s, user.key, "create", "intervenant", key, INTERVENANT_FIELDS)
        uow.commit()
        return _intervenant_summary(intervenant, intervenant.partner)


def update_intervenant(uow: UnitOfWork, user: CurrentUser, key: str, data: IntervenantInput) -> IntervenantSummary:
    """Change the name, qualification or partner of an intervenant; the key stays."""
    with uow:
        require(user, "convention.manage", session=uow.session)
        s = uow.session
        intervenant = _by_key(s, Intervenant, key)
        if intervenant is None:
            raise NotFound(f"Aucun intervenant de clé « {key} ».", field="key")
        before = {name: getattr(intervenant, name) for name in INTERVENANT_FIELDS}
        _fill_intervenant(s, intervenant, data, {})
        # partner.id, not partner_id: the relationship is set, the column follows only at the flush.
        if (intervenant.qualification, intervenant.partner.id) != (before["qualification"], before["partner_id"]):
            _record_change(s, intervenant, before, data.from_date or date.today())
        s.flush()
        audit.record(s, user.key, "update", "intervenant", key, _changed(before, intervenant, INTERVENANT_FIELDS))
        uow.commit()
        return _intervenant_summary(intervenant, intervenant.partner)


def regularisation_warning(uow: UnitOfWork, user: CurrentUser, key: str | None, data: IntervenantInput) -> str | None:
    """What the editor says before saving a change of qualification or partner from `data.from_date`: None when
    no issued month is touched, otherwise that the next statements will carry régularisations for those months."""
    with uow:
        require(user, "convention.read", session=uow.session)
        s = uow.session
        intervenant = _by_key(s, Intervenant, key) if key else None
        partner = _by_key(s, Partner, data.partner or "")
        if intervenant is None or partner is None:
            return None
        if (data.qualification, partner.id) == (intervenant.qualification, intervenant.partner_id):
            return None
        day = data.from_date or date.today()
        months = sorted(set(s.scalars(
            select(StoredStatement.month).join(Convention, Convention.id == StoredStatement.convention_id)
            .where(Convention.partner_id.in_({partner.id, intervenant.partner_id}),
                   StoredStatement.month >= month_of(day)))))
        if not months:
            return None
        which = (f"l'état {of_month(months[0])} est émis" if len(months) == 1 else
                 f"les états de {month_in_words(months[0])} à {month_in_words(months[-1])} sont émis")
        return (f"À partir du {format_date(day)}, {which} : leurs séances seront recalculées avec la nouvelle "
                "qualification ou le nouveau partenaire, et la différence viendra en régularisation sur le prochain "
                "état.")


def create_convention(uow: UnitOfWork, user: CurrentUser, data: ConventionInput) -> ConventionSummary:
    with uow:
        require(user, "convention.manage", session=uow.session)
        s = uow.session
        problems = {}
        key = _new_key(s, Convention, data.key, "Une convention", problems)
        terms = _check_terms(s, data, problems)
        _raise_if(problems)
        convention = Convention(key=key)
        _apply_terms(s, convention, terms)
        s.add(convention)
        s.flush()
        summary = _convention_summary(convention, ())
        audit.record(s, user.key, "create", "convention", key,
                     [name for name in SUMMARY_FIELDS if getattr(summary, name) not in (None, ())])
        uow.commit()
    return get_convention(uow, user, key)


def update_convention(uow: UnitOfWork, user: CurrentUser, key: str, data: ConventionInput) -> ConventionSummary:
    """Replace the convention's terms with `data` (its key stays). Refused with ConventionLocked when a month is
    issued and a billing term (partner, action, period, period-end months, tariffs) differs."""
    with uow:
        require(user, "convention.manage", session=uow.session)
        s = uow.session
        convention = convention_by_key(s, key)
        problems = {}
        terms = _check_terms(s, data, problems)
        starts = sorted({row.starts_on for row in convention.amendments})
        if starts and terms["start"] is not None and starts[0] <= terms["start"]:
            problems["start"] = (f"Un avenant commence le {format_date(starts[0])} : la convention doit commencer "
                                 "avant lui.")
        if starts and terms["end"] is not None and starts[-1] > terms["end"]:
            problems["end"] = f"Un avenant commence le {format_date(starts[-1])} : la convention doit durer jusque-là."
        used = {row.qualification for row in convention.amendments}
        dropped = sorted(used - set(terms["qualifications"]) - {FLAT_QUALIFICATION})
        if dropped and "qualifications" not in problems:
            problems["qualifications"] = (f"Un avenant a des tarifs {dropped[0]} : la qualification « {dropped[0]} » "
                                          "reste dans le tableau.")
        _raise_if(problems)
        issued = _issued_months(s, convention.id).get(convention.id, ())
        current = _convention_summary(convention, issued)
        if issued:
            wanted = {**terms, "partner": terms["partner"].key}
            changed = [name for name in LOCKED_FIELDS if wanted[name] != _locked_value(current, name)]
            if changed:
                raise ConventionLocked(lock_message(current), field=changed[0])
        _apply_terms(s, convention, terms)
        s.flush()
        before = {name: getattr(current, name) for name in SUMMARY_FIELDS}
        audit.record(s, user.key, "update", "convention", key,
                     _changed(before, _convention_summary(convention, issued), SUMMARY_FIELDS))
        uow.commit()
    return get_convention(uow, user, key)


def add_amendment(uow: UnitOfWork, user: CurrentUser, key: str, start: date | None,
                  tariffs: Mapping[tuple[str, str], Decimal | str | None],
                  replacing: date | None = None) -> ConventionSummary:
    """« Nouvel avenant… »: the whole tariff table in force from `start` (inside the convention's period, after its
    first day), until the next avenant. With `replacing`, the avenant of that start is replaced. Refused when the
    avenant would start (or the replaced one started) in an issued month, or before one: those months were billed
    with the tariffs of their days."""
    with uow:
        require(user, "convention.manage", session=uow.session)
        s = uow.session
        convention = convention_by_key(s, key)
        issued = _issued_months(s, convention.id).get(convention.id, ())
        existing = {row.starts_on for row in convention.amendments}
        if replacing is not None and replacing not in existing:
            raise NotFound(f"Aucun avenant de la convention {key} ne commence le {format_date(replacing)}.",
                           field="start")
        problems: dict[str, str] = {}
        if start is None:
            problems["start"] = "La date de début de l'avenant est obligatoire."
        elif start <= convention.start_date:
            problems["start"] = (f"Un avenant commence après le début de la convention ({format_date(convention.start_date)}"
                                 ") : ses premiers tarifs sont ceux de la convention elle-même.")
        elif convention.end_date is not None and start > convention.end_date:
            problems["start"] = f"La convention se termine le {format_date(convention.end_date)}."
        elif start in existing and start != replacing:
            problems["start"] = f"Un avenant commence déjà le {format_date(start)}."
        for day in (start, replacing):
            if day is not None and "start" not in problems and _starts_in_issued_month(day, issued):
                problems["start"] = (f"L'état {of_month(issued[-1])} est émis : un avenant qui commence le "
                                     f"{format_date(day)} changerait des mois déjà payés. Choisissez une date "
                                     f"après {month_in_words(issued[-1])}.")
        amounts = _check_tariffs(tariffs, problems, tuple(convention.qualifications or QUALIFICATIONS))
        if not amounts and not any(name.startswith("tariffs") for name in problems):
            problems["tariffs"] = "Un avenant donne au moins un tarif."
        _raise_if(problems)
        for row in list(convention.amendments):
            if row.starts_on == replacing:
                convention.amendments.remove(row)
        s.flush()  # the replaced rows go before the new ones, which may reuse their start
        for (qualification, kind), amount in amounts.items():
            convention.amendments.append(TariffAmendment(starts_on=start, qualification=qualification, kind=kind,
                                                         unit_price=amount))
        s.flush()
        audit.record(s, user.key, "update", "convention", key, ["tariff_amendments"])
        uow.commit()
    return get_convention(uow, user, key)


def remove_amendment(uow: UnitOfWork, user: CurrentUser, key: str, start: date) -> ConventionSummary:
    """Withdraw the avenant starting on `start` (typed by mistake, or not signed after all): the tariffs in force before
    it run on. Refused when it starts in an issued month, or before one: those months were billed with it."""
    with uow:
        require(user, "convention.manage", session=uow.session)
        s = uow.session
        convention = convention_by_key(s, key)
        rows = [row for row in convention.amendments if row.starts_on == start]
        if not rows:
            raise NotFound(f"Aucun avenant de la convention {key} ne commence le {format_date(start)}.", field="start")
        issued = _issued_months(s, convention.id).get(convention.id, ())
        if _starts_in_issued_month(start, issued):
            raise ConventionLocked(f"L'avenant du {format_date(start)} a servi à l'état {of_month(issued[-1])}, déjà "
                                   "émis : il ne peut plus être retiré. Pour changer les tarifs à venir, ajoutez un "
                                   "nouvel avenant après ce mois.")
        for row in rows:
            convention.amendments.remove(row)
        s.flush()
        audit.record(s, user.key, "update", "convention", key, ["tariff_amendments"])
        uow.commit()
    return get_convention(uow, user, key)


# ---------------------------------------------------------------------------------------------- validation

def parse_amount(value: Decimal | str | None, field_name: str, problems: dict[str, str]) -> Decimal | None:
    """A money amount ≥ 0 with at most two decimals, or None when blank. Records a French problem on failure."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            return parse_amount_text(value, field_name)
        except ValidationError as exc:
            problems[field_name] = exc.message
            return None
    if isinstance(value, Decimal) and value.is_finite():
        if value < 0:
            problems[field_name] = "Le montant ne peut pas être négatif."
        elif value != value.quantize(Decimal("0.01")):
            problems[field_name] = "Le montant a plus de deux décimales."
        elif value >= Decimal(10) ** MAX_INTEGER_DIGITS:
            problems[field_name] = "Le montant est trop grand."
        else:
            return value.quantize(Decimal("0.01"))
        return None
    problems[field_name] = "Montant invalide : un nombre décimal est attendu."  # a float has already lost cents
    return None


def _check_key(key: str, problems: dict[str, str]) -> str:
    key = key or ""
    if key != key.strip() and key.strip():  # keys are compared exactly: « AP-2026 » and « AP-2026 » would be two
        problems["key"] = f"La clé {text_rules.key_problem(key)}."
        return key
    key = key.strip()
    if not key:
        problems["key"] = "La clé est obligatoire : un identifiant court, sans espace (par exemple AP-2026)."
    elif not _KEY.match(key):
        problems["key"] = ("La clé ne peut contenir que des lettres sans accent, des chiffres et « - », « _ » ou "
                           "« . » (64 caractères au plus).")
    return key


def _new_key(s, model, key: str, what: str, problems: dict[str, str]) -> str:
    """A well-formed key that no record of `model` holds yet."""
    key = _check_key(key, problems)
    if "key" not in problems and s.scalar(select(model.id).where(model.key == key)):
        problems["key"] = f"{what} de clé « {key} » existe déjà."
    elif "key" not in problems:
        # case or look-alike letters (an imported « аdom » in Cyrillic): two keys a person reads as one
        twin = text_rules.KeyIndex(s.scalars(select(model.key))).look_alike(key)
        if twin is not None:
            problems["key"] = (f"La clé « {key} » se confond avec « {text_rules.visible(twin)} », déjà prise "
                               "(majuscules et minuscules ou caractères qui se ressemblent).")
    return key


def _check_name(name: str | None, field_name: str, problems: dict[str, str]) -> str:
    name = (name or "").strip()
    problem = text_rules.character_problem(name) if name else None
    name = text_rules.normalise(name)
    if not name:
        problems[field_name] = "Ce champ est obligatoire."
    elif unstorable(name):
        problems[field_name] = "Le texte contient un caractère invalide (caractère nul ou Unicode mal formé)."
    elif problem:
        problems[field_name] = f"Le texte {problem}."
    elif len(name) > MAX_NAME:
        problems[field_name] = f"Le texte dépasse {MAX_NAME} caractères."
    return name


def _check_terms(s, data: ConventionInput, problems: dict[str, str]) -> dict:
    partner = _by_key(s, Partner, data.partner or "")
    if partner is None:
        problems["partner"] = "Choisissez le partenaire." if not data.partner else (
            f"Aucun partenaire de clé « {data.partner} ».")
    action = _check_name(data.action, "action", problems)
    for name in ("start", "end"):
        day = getattr(data, name)
        problem = out_of_bounds(day, EVENT) if day is not None else None
        if problem:  # a typing slip (« 20205 »): the statements of its months could not be drawn
            problems[name] = problem[0].upper() + problem[1:] + "."
    if data.start is None:
        problems["start"] = "La date de début est obligatoire."
    elif data.end is not None and data.end < data.start and not {"start", "end"} & problems.keys():
        problems["end"] = f"La fin ({format_date(data.end)}) précède le début ({format_date(data.start)})."
    months = tuple(data.period_end_months)
    if any(isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12 for m in months):
        problems["period_end_months"] = "Les mois de fin de période vont de 1 (janvier) à 12 (décembre)."
    elif len(set(months)) != len(months):
        problems["period_end_months"] = "Un mois de fin de période apparaît deux fois."
    qualifications = _check_qualifications(data.qualifications, problems)
    tariffs = _check_tariffs(data.tariffs, problems, qualifications)
    imputation = text_rules.normalise((data.budget_imputation or "").strip()) or None
    if imputation is not None and (len(imputation) > 2000 or unstorable(imputation)):
        problems["budget_imputation"] = "L'imputation budgétaire dépasse 2 000 caractères."
    elif imputation is not None and text_rules.character_problem(imputation):
        problems["budget_imputation"] = f"L'imputation budgétaire {text_rules.character_problem(imputation)}."
    return {"partner": partner, "action": action, "start": data.start, "end": data.end,
            "max_families": _check_count(data.max_families, problems),
            "budget_cap": parse_amount(data.budget_cap, "budget_cap", problems),
            "budget_imputation": imputation, "period_end_months": tuple(sorted(set(months))), "tariffs": tariffs,
            "qualifications": qualifications, **_check_rules(data, problems)}


def _check_qualifications(given, problems: dict[str, str]) -> tuple[str, ...]:
    labels = tuple((q or "").strip() if isinstance(q, str) else q for q in given)
    for label in labels:
        problem = qualification_problem(label) if isinstance(label, str) else "La qualification est un texte."
        if problem:
            problems["qualifications"] = problem
            return ()
    if len({q.casefold() for q in labels}) != len(labels):
        problems["qualifications"] = "Une qualification apparaît deux fois dans le tableau des tarifs."
    return labels


def _check_rules(data: ConventionInput, problems: dict[str, str]) -> dict:
    per_week = data.sessions_per_week
    if per_week is not None and (isinstance(per_week, bool) or not isinstance(per_week, int) or not 1 <= per_week <= 7):
        problems["sessions_per_week"] = "Séances facturées par semaine : de 1 à 7, ou sans limite."
    if data.home_unit not in HOME_UNITS:
        problems["home_unit"] = "Facturation : à la séance ou à l'heure."
    rounding = data.hour_rounding_minutes
    if isinstance(rounding, bool) or not isinstance(rounding, int) or not 1 <= rounding <= 60:
        problems["hour_rounding_minutes"] = "L'arrondi des durées va de 1 à 60 minutes."
    return {"sessions_per_week": per_week, "holidays_need_exception": bool(data.holidays_need_exception),
            "referent_at_first_session": bool(data.referent_at_first_session), "home_unit": data.home_unit,
            "hour_rounding_minutes": rounding}


def _check_tariffs(given: Mapping, problems: dict[str, str],
                   qualifications: tuple[str, ...]) -> dict[tuple[str, str], Decimal]:
    tariffs = {}
    for pair, value in given.items():
        if pair != FLAT and (pair[0] not in qualifications or pair[1] not in TARIFF_KINDS):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue  # a blank cell of a column being removed: no tariff
            if pair[1] in TARIFF_KINDS and "qualifications" not in problems:
                problems["tariffs"] = f"La qualification « {pair[0]} » n'est pas une colonne du tableau des tarifs."
                continue
            problems["tariffs"] = f"Ligne de tarif inconnue : {pair[0]} / {pair[1]}."
            continue
        amount = parse_amount(value, tariff_field(*pair), problems)
        if amount is not None:
            tariffs[pair] = amount
    return tariffs


def _check_count(value: int | str | None, problems: dict[str, str]) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            problems["max_families"] = "Le nombre maximal de familles ne peut pas être négatif."
            return None
        if not _INTEGER.match(text):
            problems["max_families"] = f"Nombre entier attendu, par exemple 18 (reçu « {text} »)."
            return None
        return int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 999_999:
        problems["max_families"] = "Le nombre maximal de familles est un entier positif ou nul."
        return None
    return value


def _raise_if(problems: dict[str, str]) -> None:
    if problems:
        raise InvalidFields(problems)


# -------------------------------------------------------------------------------------------------- helpers

def _by_key(s, model, key: str):
    """The record of `model` whose key is `key`, or None: callers word the refusal for their field."""
    return s.scalars(select(model).where(model.key == key)).first()


def _changed(before: dict, after, names) -> list[str]:
    """The audited field names whose value differs from `before` (the audit keeps names, never values)."""
    return [name for name in names if getattr(after, name) != before[name]]


def _partner(s, key: str) -> Partner:
    partner = _by_key(s, Partner, key)
    if partner is None:
        raise NotFound(f"Aucun partenaire de clé « {key} ».", field="partner")
    return partner


def _issued_months(s, convention_id: str | None = None) -> dict[str, tuple[str, ...]]:
    query = select(StoredStatement.convention_id, StoredStatement.month).order_by(StoredStatement.month)
    if convention_id is not None:
        query = query.where(StoredStatement.convention_id == convention_id)
    issued: dict[str, list[str]] = {}
    for convention, month in s.execute(query):
        issued.setdefault(convention, []).append(month)
    return {k: tuple(v) for k, v in issued.items()}


def _fill_intervenant(s, intervenant: Intervenant, data: IntervenantInput, problems: dict[str, str]) -> None:
    intervenant.name = _check_name(data.name, "name", problems)
    problem = qualification_problem(data.qualification) if isinstance(data.qualification, str) else (
        "La qualification est un texte.")
    if problem:
        problems["qualification"] = problem
    intervenant.qualification = data.qualification.strip() if isinstance(data.qualification, str) else ""
    partner = _by_key(s, Partner, data.partner or "")
    if partner is None:
        problems["partner"] = "Choisissez le partenaire."
    _raise_if(problems)
    intervenant.partner = partner


def _record_change(s, intervenant: Intervenant, before: dict, day: date) -> None:
    """The intervenant's new qualification and partner hold from `day` on: earlier days keep theirs (the issued
    months were billed with them); changes recorded from `day` on give way to this one."""
    if not intervenant.history:  # written before the history existed: what was true until now, from the beginning
        intervenant.history.append(IntervenantHistory(starts_on=None, qualification=before["qualification"],
                                                      partner_id=before["partner_id"]))
    same_day = None
    for row in list(intervenant.history):
        if row.starts_on is not None and row.starts_on > day:
            intervenant.history.remove(row)
        elif row.starts_on == day:
            same_day = row  # changed in place: a delete and an insert of the same day would collide on flush
    if same_day is None:
        intervenant.history.append(IntervenantHistory(starts_on=day, qualification=intervenant.qualification,
                                                      partner=intervenant.partner))
    else:
        same_day.qualification, same_day.partner = intervenant.qualification, intervenant.partner


def _apply_terms(s, convention: Convention, terms: dict) -> None:
    action = s.scalars(select(Action).where(Action.name == terms["action"])).first()
    if action is None:
        action = Action(name=terms["action"])
        s.add(action)
    convention.partner = terms["partner"]
    convention.action = action
    convention.start_date, convention.end_date = terms["start"], terms["end"]
    convention.max_families, convention.budget_cap = terms["max_families"], terms["budget_cap"]
    convention.budget_imputation = terms["budget_imputation"]
    convention.period_end_months = list(terms["period_end_months"])
    convention.qualifications = list(terms["qualifications"])
    for name in RULE_FIELDS:  # null(): a None would leave the column to its server default (1) on insert
        setattr(convention, name, null() if terms[name] is None else terms[name])
    existing = {(t.qualification, t.kind): t for t in convention.tariffs}
    for pair, tariff in existing.items():
        if pair not in terms["tariffs"]:
            convention.tariffs.remove(tariff)
    for pair, amount in terms["tariffs"].items():
        if pair in existing:
            existing[pair].unit_price = amount
        else:
            convention.tariffs.append(Tariff(qualification=pair[0], kind=pair[1], unit_price=amount))


def _locked_value(current: ConventionSummary, name: str):
    if name == "partner":
        return current.partner
    if name == "tariffs":
        return {(t.qualification, t.kind): t.unit_price for t in current.tariffs}
    if name in RULE_FIELDS or name == "qualifications":
        return getattr(current, name)
    return {"action": current.action, "start": current.start, "end": current.end,
            "period_end_months": current.period_end_months}[name]


def _intervenant_summary(intervenant: Intervenant, partner: Partner) -> IntervenantSummary:
    rows = sorted(intervenant.history, key=lambda h: (h.starts_on is not None, h.starts_on or date.min))
    history = tuple(IntervenantPeriod(h.starts_on, h.qualification, h.partner.key, h.partner.name) for h in rows)
    return IntervenantSummary(intervenant.key, intervenant.name, intervenant.qualification, partner.key, partner.name,
                              history)


def _table_order(qualifications) -> callable:
    """Tariffs in the order of the table: by column (the convention's qualifications), then by kind; the flat last."""
    columns = list(qualifications or QUALIFICATIONS)

    def key(t):
        if (t.qualification, t.kind) == FLAT:
            return (len(columns) + 1, 0, "")
        column = columns.index(t.qualification) if t.qualification in columns else len(columns)
        return (column, TARIFF_KINDS.index(t.kind) if t.kind in TARIFF_KINDS else len(TARIFF_KINDS), t.qualification)
    return key


def _amounts(rows, qualifications=QUALIFICATIONS) -> tuple[TariffAmount, ...]:
    rows = sorted(rows, key=_table_order(qualifications))
    return tuple(TariffAmount(t.qualification, t.kind, t.unit_price) for t in rows)


def _starts_in_issued_month(day: date, issued_months: tuple[str, ...]) -> bool:
    """An issued month on or after the day's month was billed with the tariffs in force before `day`."""
    return bool(issued_months) and month_of(day) <= issued_months[-1]


def _convention_summary(c: Convention, issued_months: tuple[str, ...]) -> ConventionSummary:
    qualifications = tuple(c.qualifications or QUALIFICATIONS)
    tariffs = sorted(c.tariffs, key=_table_order(qualifications))
    amended: dict[date, list] = {}
    for row in c.amendments:
        amended.setdefault(row.starts_on, []).append(row)
    versions = (TariffVersionSummary(c.start_date, _amounts(c.tariffs, qualifications), False, bool(issued_months)),
                *(TariffVersionSummary(day, _amounts(rows, qualifications), True, _starts_in_issued_month(day, issued_months))
                  for day, rows in sorted(amended.items())))
    return ConventionSummary(
        key=c.key, partner=c.partner.key, partner_name=c.partner.name, action=c.action.name, start=c.start_date,
        end=c.end_date, max_families=c.max_families, budget_cap=c.budget_cap, budget_imputation=c.budget_imputation,
        period_end_months=tuple(sorted(c.period_end_months or ())),
        tariffs=tuple(TariffAmount(t.qualification, t.kind, t.unit_price) for t in tariffs),
        issued_months=issued_months, tariff_versions=versions, qualifications=qualifications,
        **{name: getattr(c, name) for name in RULE_FIELDS})
