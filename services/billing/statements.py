"""Monthly statements: drafts computed on demand, issued statements numbered, stored and frozen.

Regularisation: when the data of an issued month changes, that statement stays as issued; the next draft
carries, for that month, recomputed − issued − regularisations already issued, per (kind, qualification,
unit price). Only the issued months marked as changed since the convention's last statement are re-billed
(models.billing_marks): each statement brings every issued month to its recomputation, so an unmarked month has
nothing to carry. After the period's last month there is no next month: a closing statement (« état complémentaire de
clôture », `issue_closing_statement`), numbered in the same series, carries those régularisations, as many times as
corrections keep coming.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import defer

from models import Convention, Family, HomeSession, Programme, Statement as StoredStatement, StatementLine as StoredLine, User
from models.billing_marks import BillingChangeMark
from services.billing.loading import convention_by_key, convention_terms, families_under_orientation, load_facts
from services.billing.rules import MonthBilling, bill_month, billing_window, month_bounds
from services.billing.statement import (CLOSING, KIND_ORDER, MONTHLY, FamilyDetail, IntervenantDetail, Statement,
                                        StatementFlag, StatementLine, from_payload, to_payload)
from models.base import new_id
from models.chain import GENESIS
from services import audit
from services.integrity import hash_of_statement
from services.errors import StatementError
from services.formatting import month_in_words, of_month
from services.programme_settings import MISSING as PROGRAMME_MISSING
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork

CENT = Decimal("0.01")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

LineKey = tuple[str, str, Decimal]  # (kind, qualification, unit price)
HOME_KINDS = ("home_intervention", "home_hours")


def get_statement(uow: UnitOfWork, user: CurrentUser, convention_key: str, month: str) -> Statement:
    """The stored statement of an issued month, or the draft computed now."""
    with uow:
        require(user, "statement.read", session=uow.session)
        convention = convention_by_key(uow.session, convention_key)
        stored = _stored(uow.session, convention, month) if isinstance(month, str) else None
        if stored is not None:  # a month of the period, or a closing statement stored after it
            return _read_stored(uow.session, stored)
        _check_month(convention, month)
        return compute_draft(uow.session, convention, month)


def get_closing_statement(uow: UnitOfWork, user: CurrentUser, convention_key: str) -> Statement:
    """The draft of the next closing statement (« état complémentaire de clôture »), computed now: the
    régularisations of the period's months that no issued statement carries yet (maybe none). Refused while a
    month of the period is still a draft, and for a convention without an end."""
    with uow:
        require(user, "statement.read", session=uow.session)
        return compute_closing_draft(uow.session, convention_by_key(uow.session, convention_key))


def issue_closing_statement(uow: UnitOfWork, user: CurrentUser, convention_key: str, render_pdf=None) -> Statement:
    """Number, store and freeze a closing statement, next in the convention's series; refused when it would carry
    nothing. It can be issued again later: each one carries what the previous ones did not."""
    with uow:
        require(user, "statement.issue", session=uow.session)
        if render_pdf is None:
            from services.billing.pdf import render_statement_pdf as render_pdf
        session = uow.session
        convention = convention_by_key(session, convention_key)
        _lock_series(session, convention)
        marks = _marks(session, convention, lock=True)
        draft = compute_closing_draft(session, convention, marks)
        if not draft.lines:
            raise StatementError(
                f"Aucune régularisation à reporter : les états émis de la convention {convention.key} "
                "correspondent aux données d'aujourd'hui. L'état complémentaire de clôture ne s'émet que s'il "
                "porte une correction.")
        count = session.scalar(select(func.count()).select_from(StoredStatement)
                               .where(StoredStatement.convention_id == convention.id))
        statement = _store(session, user, convention, draft, count + 1, render_pdf)
        _settle(session, convention, marks)
        uow.commit()
        return statement


def issued_pdf(uow: UnitOfWork, user: CurrentUser, convention_key: str, month: str) -> bytes | None:
    with uow:
        require(user, "statement.read", session=uow.session)
        convention = convention_by_key(uow.session, convention_key)
        stored = _stored(uow.session, convention, month)
        return stored.pdf if stored is not None else None


def list_issued(uow: UnitOfWork, user: CurrentUser, convention_key: str) -> tuple[Statement, ...]:
    with uow:
        require(user, "statement.read", session=uow.session)
        convention = convention_by_key(uow.session, convention_key)
        rows = uow.session.scalars(select(StoredStatement).where(StoredStatement.convention_id == convention.id)
                                   .options(defer(StoredStatement.pdf)).order_by(StoredStatement.sequence))
        return tuple(_read_stored(uow.session, r) for r in rows)


@dataclass(frozen=True)
class IssuedSummary:
    """A row of the list of issued statements: what the list shows, without decoding each statement."""

    convention: str
    month: str
    number: str
    total: Decimal
    issued_at: str
    pdf_sha256: str | None
    kind: str  # MONTHLY | CLOSING

    @property
    def closing(self) -> bool:
        return self.kind == CLOSING


def list_issued_summaries(uow: UnitOfWork, user: CurrentUser, convention_key: str) -> tuple[IssuedSummary, ...]:
    """The convention's issued statements in order, read from their columns only (no payload, no PDF)."""
    with uow:
        require(user, "statement.read", session=uow.session)
        convention = convention_by_key(uow.session, convention_key)
        s = StoredStatement
        rows = uow.session.execute(select(s.month, s.number, s.total, s.issued_at, s.pdf_sha256)
                                   .where(s.convention_id == convention.id).order_by(s.sequence))
        return tuple(IssuedSummary(convention.key, r.month, r.number, r.total, _issued_at(r.issued_at),
                                   r.pdf_sha256, CLOSING if _after_period(convention, r.month) else MONTHLY)
                     for r in rows)


def _issued_at(value: datetime) -> str:
    """As the payload writes it (UTC, to the second): SQLite hands the column back without its zone."""
    return (value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def recomputed_lines(uow: UnitOfWork, user: CurrentUser, convention_key: str, month: str
                     ) -> tuple[StatementLine, ...]:
    """What the month would bill today from the current data, whether or not it was issued."""
    with uow:
        require(user, "statement.read", session=uow.session)
        convention = convention_by_key(uow.session, convention_key)
        _check_month(convention, month)
        window_start, window_end = billing_window(month)
        return tuple(_lines(bill_month(load_facts(uow.session, convention, window_start, window_end), month), month))


@dataclass(frozen=True)
class IssuedMonthChanges:
    """How an issued month's data differs today from its statement. A session is paid per unit, so a corrected
    duration changes the hours the statement reports without changing any amount: both are told."""

    lines: tuple[StatementLine, ...]  # what the next draft will carry for the month (régularisation)
    minutes_issued: int  # hours delivered, as printed on the issued statement
    minutes_now: int

    @property
    def difference(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def changed(self) -> bool:
        return bool(self.lines) or self.minutes_issued != self.minutes_now


def issued_month_changes(uow: UnitOfWork, user: CurrentUser, convention_key: str, month: str
                         ) -> IssuedMonthChanges | None:
    """For an issued month, what changed since it was issued (None for a month not issued)."""
    with uow:
        require(user, "statement.read", session=uow.session)
        convention = convention_by_key(uow.session, convention_key)
        stored = _stored(uow.session, convention, month) if isinstance(month, str) else None
        if stored is not None and _after_period(convention, month):
            return None  # a closing statement: the months it corrects are told on their own statements
        _check_month(convention, month)
        if stored is None:
            return None
        issued = _read_stored(uow.session, stored)
        window_start, window_end = billing_window(month)
        facts = load_facts(uow.session, convention, window_start, window_end)
        billing = bill_month(facts, month)
        return IssuedMonthChanges(tuple(_regularisations(uow.session, convention, {month: group_units(billing)})),
                                  sum(f.minutes_delivered for f in issued.families),
                                  sum(billing.minutes_by_family.values()))


EXCEPTION_FLAGS = ("extra_session_in_week", "school_holiday")


def undecided_exceptions(uow: UnitOfWork, user: CurrentUser, convention_key: str, month: str) -> tuple[str, ...]:
    """Keys of the month's sessions that wait for a coordinator's decision: issuing now leaves them unpaid (an
    approval after the issue comes as a régularisation)."""
    with uow:
        require(user, "statement.read", session=uow.session)
        convention = convention_by_key(uow.session, convention_key)
        _check_month(convention, month)
        window_start, window_end = billing_window(month)
        billing = bill_month(load_facts(uow.session, convention, window_start, window_end), month)
        flagged = sorted({f.session_key for f in billing.flags
                          if f.kind in EXCEPTION_FLAGS and not f.approved and f.session_key})
        if not flagged:
            return ()
        refused = set(uow.session.scalars(select(HomeSession.key).where(HomeSession.key.in_(flagged),
                                                                        HomeSession.exception_refused.is_(True))))
        return tuple(k for k in flagged if k not in refused)


def issue_statement(uow: UnitOfWork, user: CurrentUser, convention_key: str, month: str,
                    render_pdf=None) -> Statement:
    """Number, store and freeze the month, with its PDF (`render_pdf(statement) -> bytes`, reportlab by default).
    The statement names `user` as its issuer (nobody for the command line's SYSTEM operator, who has no account)."""
    with uow:
        require(user, "statement.issue", session=uow.session)
        if render_pdf is None:
            from services.billing.pdf import render_statement_pdf as render_pdf
        session = uow.session
        convention = convention_by_key(session, convention_key)
        _check_month(convention, month)
        _lock_series(session, convention)
        marks = _marks(session, convention, lock=True)  # first: a change made after this read stays marked
        issued = set(session.scalars(select(StoredStatement.month)
                                     .where(StoredStatement.convention_id == convention.id)))
        if month in issued:
            raise StatementError(f"L'état {of_month(month)} est déjà émis ; il ne peut plus changer.")
        for earlier in _months_between(_month_of(convention.start_date), month)[:-1]:
            if earlier not in issued:
                raise StatementError(
                    f"L'état {of_month(earlier)} est encore un projet : les mois s'émettent dans l'ordre. "
                    f"Émettez d'abord {month_in_words(earlier)}.")
        statement = _store(session, user, convention, compute_draft(session, convention, month, marks),
                           len(issued) + 1, render_pdf)
        _settle(session, convention, marks)
        uow.commit()
        return statement


def _lock_series(session, convention: Convention) -> None:
    """Take the convention's row as the counter of its numbered series, until the commit: a second issue of the same
    convention (another administrator, on the team server's PostgreSQL) waits here, then reads the statements this
    one stored — no duplicate, no gap, and no UNIQUE violation to explain. A sequence would leave gaps on rollback.
    On SQLite the unit of work's BEGIN IMMEDIATE already holds the file's write lock; FOR UPDATE is left out there."""
    # NO KEY UPDATE: a writer inserting a change mark (its foreign key takes KEY SHARE on this row) is not held
    # behind the issue, which would wait in turn for the mark rows that writer holds (a deadlock, seen at 8 clients).
    session.execute(select(Convention.id).where(Convention.id == convention.id).with_for_update(key_share=True))
    session.expire(convention)  # read again after the wait: what the other issue committed counts


def _store(session, user: CurrentUser, convention: Convention, draft: Statement, sequence: int, render_pdf
           ) -> Statement:
    """Number `draft` as the convention's statement n° `sequence`, render its PDF, store, freeze and chain it."""
    issuer = session.get(User, user.id)  # None for SYSTEM, which has no account
    issued_at = datetime.now(timezone.utc).replace(microsecond=0)
    statement = replace(draft, status="issued", number=f"{convention.key}-{sequence:03d}",
                        issued_at=issued_at.isoformat())
    pdf = render_pdf(statement)
    digest = hashlib.sha256(pdf).hexdigest()
    statement = replace(statement, pdf_sha256=digest)
    # Families are stored by code only: the frozen record must not hold names that the retention job
    # will later have to erase. Names are looked up when a partner's copy is printed.
    anonymous = replace(statement, families=tuple(replace(f, name="") for f in statement.families))
    stored = StoredStatement(
        id=new_id(), convention_id=convention.id, month=draft.month, sequence=sequence, number=statement.number,
        issued_at=issued_at, issued_by_id=issuer.id if issuer else None, total=statement.total,
        payload=to_payload(anonymous), pdf=pdf, pdf_sha256=digest, line_count=len(statement.lines))
    lines = [StoredLine(statement_id=stored.id, position=i, kind=l.kind, qualification=l.qualification,
                        quantity=l.quantity, unit_price=l.unit_price, amount=l.amount, month=l.month)
             for i, l in enumerate(statement.lines)]
    # Chained to the previous statement of the convention: the database refuses a statement without its hash,
    # and `check` recomputes the chain (services.integrity).
    previous = session.scalar(select(StoredStatement.chain_hash).where(
        StoredStatement.convention_id == convention.id, StoredStatement.sequence == sequence - 1))
    stored.chain_hash = hash_of_statement(stored, lines, previous or GENESIS)
    session.add(stored)
    session.flush()  # the statement first: its lines are accepted only up to its line_count
    session.add_all(lines)
    number = statement.number if len(statement.number) <= 64 else stored.id  # the audit key holds 64
    audit.record(session, user.key, "issue", "statement", number,
                 ["convention_id", "month", "sequence", "number", "total", "payload", "pdf"])
    return statement


def compute_draft(session, convention: Convention, month: str, marks: "Marks | None" = None) -> Statement:
    """The month billed from its own weeks, and the régularisations of the issued months marked as changed."""
    issued_months = sorted(m for m in session.scalars(
        select(StoredStatement.month).where(StoredStatement.convention_id == convention.id)) if m < month)
    facts = load_facts(session, convention, *billing_window(month))
    billing = bill_month(facts, month)

    lines = _lines(billing, month)
    if issued_months:
        changed = (marks if marks is not None else _marks(session, convention)).changed(issued_months)
        lines += _regularisations(session, convention, _recomputed(session, convention, changed))

    previous_total = session.scalar(select(func.sum(StoredStatement.total)).where(  # typed: Cents → Decimal
        StoredStatement.convention_id == convention.id, StoredStatement.month < month)) or Decimal("0.00")
    return _statement(session, convention, facts.terms, month, lines, previous_total,
                      flags=tuple(_flag(facts, f) for f in billing.flags),
                      families=_family_details(facts, billing), intervenants=_intervenant_details(facts, billing))


def compute_closing_draft(session, convention: Convention, marks: "Marks | None" = None) -> Statement:
    """The closing statement as it would be issued now: for each month of the period, recomputed − issued −
    régularisations already issued (monthly or closing statements), and nothing else."""
    if convention.end_date is None:
        raise StatementError(
            f"La convention {convention.key} n'a pas de date de fin : elle n'a pas d'état de clôture. Une "
            "correction d'un mois émis vient en régularisation sur l'état du mois suivant.")
    months = _months_between(_month_of(convention.start_date), _month_of(convention.end_date))
    stored = sorted(session.scalars(select(StoredStatement.month)
                                    .where(StoredStatement.convention_id == convention.id)))
    missing = next((m for m in months if m not in stored), None)
    if missing is not None:
        then = "" if missing == months[-1] else f", puis les mois suivants jusqu'à {month_in_words(months[-1])}"
        raise StatementError(
            f"L'état complémentaire de clôture vient après le dernier mois de la convention {convention.key} : "
            f"l'état {of_month(missing)} n'est pas encore émis. Émettez d'abord {month_in_words(missing)}{then}.",
            field="month")
    changed = (marks if marks is not None else _marks(session, convention)).changed(months)
    lines = _regularisations(session, convention, _recomputed(session, convention, changed))
    previous_total = session.scalar(select(func.sum(StoredStatement.total)).where(
        StoredStatement.convention_id == convention.id)) or Decimal("0.00")
    # Stored under the month after the convention's last statement: after the period, unique, in order.
    return _statement(session, convention, convention_terms(session, convention), _months_after(stored[-1]), lines,
                      previous_total,
                      kind=CLOSING, last_month=months[-1])


def _statement(session, convention: Convention, terms, month: str, lines: list[StatementLine],
               previous_total: Decimal, *, flags=(), families=(), intervenants=(), kind: str = MONTHLY,
               last_month: str | None = None) -> Statement:
    """A draft with the programme's and the convention's fields; the follow-up counts up to `last_month`."""
    programme = session.scalars(select(Programme)).first()
    if programme is None:
        raise StatementError(PROGRAMME_MISSING)
    total = sum((l.amount for l in lines), Decimal("0.00"))
    return Statement(
        convention=convention.key, month=month, status="draft", number=None, issued_at=None,
        programme=programme.name, city=programme.city, partner=terms.partner_name, action=terms.action,
        budget_imputation=terms.budget_imputation, period_start=terms.start.isoformat(),
        period_end=terms.end.isoformat() if terms.end else None, lines=tuple(lines), total=total,
        flags=flags, families=families, intervenants=intervenants,
        period_to_date=previous_total + total, budget_cap=terms.budget_cap,
        families_in_period=families_under_orientation(session, convention, convention.start_date,
                                                      month_bounds(last_month or month)[1]),
        max_families=terms.max_families, cumulative_since=convention.start_date.isoformat(), kind=kind,
    )

def group_units(billing: MonthBilling) -> Counter[LineKey]:
    counts: Counter[LineKey] = Counter()
    for u in billing.units:
        counts[(u.kind, u.qualification, u.unit_price)] += u.quantity  # 1, or the minutes of home_hours
    return counts


def _line(key: LineKey, quantity: int, month: str) -> StatementLine:
    kind, qualification, price = key
    exact = price * quantity / 60 if kind == "home_hours" else price * quantity  # home_hours: rate × minutes / 60
    amount = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    return StatementLine(kind, qualification, quantity, price, amount, month)


def _sort_key(key: LineKey) -> tuple:
    return (KIND_ORDER.index(key[0]), key[1], key[2])


def _lines(billing: MonthBilling, month: str) -> list[StatementLine]:
    counts = group_units(billing)
    return [_line(key, counts[key], month) for key in sorted(counts, key=_sort_key)]


@dataclass(frozen=True)
class Marks:
    """The convention's change marks as read (models.billing_marks): which issued months may bill differently."""

    months: frozenset[str]  # one month each
    onward: str | None  # the earliest month from which every month is marked
    keys: tuple[tuple[str, bool], ...]  # (month, onward) of each row read: what issuing settles

    def changed(self, months: list[str]) -> list[str]:
        return [m for m in months if m in self.months or (self.onward is not None and m >= self.onward)]


def _marks(session, convention, lock: bool = False) -> Marks:
    """`lock` (issuing): the rows read are locked until the commit (PostgreSQL; SQLite's writer holds the file), so a
    change committed meanwhile waits and marks again after the issue's settlement instead of being settled unseen."""
    m = BillingChangeMark
    # In the order models.billing_marks.mark upserts them: two lockers of the same rows wait, never cross.
    query = select(m.month, m.onward).where(m.convention_id == convention.id).order_by(m.month, m.onward)
    rows = session.execute(query.with_for_update() if lock else query).all()
    return Marks(frozenset(r.month for r in rows if not r.onward), min((r.month for r in rows if r.onward), default=None),
                 tuple((r.month, r.onward) for r in rows))


def _settle(session, convention, marks: Marks) -> None:
    """The statement just stored brings every issued month to its recomputation: the marks read are settled."""
    if marks.keys:
        m = BillingChangeMark
        session.execute(delete(m).where(m.convention_id == convention.id,
                                        tuple_(m.month, m.onward).in_(marks.keys)))


RUN = 12  # months billed from one load: bounds the memory of a re-bill of a whole history


def _recomputed(session, convention, months: list[str]) -> dict[str, Counter]:
    """Each month's units as billed today, loading the facts once per run of consecutive months."""
    runs: list[list[str]] = []
    for month in months:
        if runs and len(runs[-1]) < RUN and _months_after(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    recomputed = {}
    for run in runs:
        facts = load_facts(session, convention, billing_window(run[0])[0], billing_window(run[-1])[1])
        for month in run:
            recomputed[month] = group_units(bill_month(facts.cut(*billing_window(month)) if len(run) > 1 else facts,
                                                       month))
    return recomputed


def _regularisations(session, convention, recomputed: dict[str, Counter]) -> list[StatementLine]:
    """For each month of `recomputed`: its units today − its issued lines − the régularisations already carried."""
    if not recomputed:
        return []
    stored: dict[str, Counter] = defaultdict(Counter)
    rows = session.execute(
        select(StoredLine.month, StoredLine.kind, StoredLine.qualification, StoredLine.unit_price, StoredLine.quantity)
        .join(StoredStatement, StoredStatement.id == StoredLine.statement_id)
        .where(StoredStatement.convention_id == convention.id, StoredLine.month.in_(sorted(recomputed))))
    for month, kind, qualification, price, quantity in rows:
        stored[month][(kind, qualification, price)] += quantity
    lines = []
    for month in sorted(recomputed):
        for key in sorted(set(recomputed[month]) | set(stored[month]), key=_sort_key):
            difference = recomputed[month][key] - stored[month][key]
            if difference:
                lines.append(_line(key, difference, month))
    return lines


def _flag(facts, flag) -> StatementFlag:
    family = facts.families.get(flag.family_id) if flag.family_id else None
    intervenant = facts.intervenants.get(flag.intervenant_id) if flag.intervenant_id else None
    return StatementFlag(flag.kind, flag.date.isoformat(), flag.session_key, flag.meeting_key,
                         family.code if family else None, intervenant.code if intervenant else None,
                         flag.approved, flag.billed)


def _family_details(facts, billing: MonthBilling) -> tuple[FamilyDetail, ...]:
    sessions, preparations, amounts = Counter(), Counter(), defaultdict(Decimal)
    for u in billing.units:
        if u.family_id is None:
            continue
        if u.kind in HOME_KINDS:
            sessions[u.family_id] += 1
        elif u.kind == "weekly_preparation":
            preparations[u.family_id] += 1
        amounts[u.family_id] += u.amount
    ids = set(amounts) | set(billing.minutes_by_family)
    details = [FamilyDetail(facts.families[i].code, facts.families[i].name, sessions[i], preparations[i],
                            billing.minutes_by_family.get(i, 0), amounts[i].quantize(CENT, rounding=ROUND_HALF_UP)) for i in ids]
    return tuple(sorted(details, key=lambda d: d.code))


def _intervenant_details(facts, billing: MonthBilling) -> tuple[IntervenantDetail, ...]:
    counts: dict[str, Counter] = defaultdict(Counter)
    amounts = defaultdict(Decimal)
    billed_as: dict[str, dict[str, None]] = defaultdict(dict)  # the qualifications paid this month, by date
    for u in sorted(billing.units, key=lambda u: u.date):
        if u.intervenant_id is None:  # a family's monthly flat: nobody's work
            continue
        counts[u.intervenant_id]["home_intervention" if u.kind in HOME_KINDS else u.kind] += 1
        amounts[u.intervenant_id] += u.amount
        billed_as[u.intervenant_id][u.qualification] = None
    ids = set(amounts) | set(billing.minutes_by_intervenant)
    details = []
    for i in ids:
        person, c = facts.intervenants[i], counts[i]
        details.append(IntervenantDetail(
            # An AES who becomes TISF on the 15th was paid as both: « AES puis TISF », not the later one alone.
            person.code, person.name, " puis ".join(billed_as[i]) or person.qualification or "", c["home_intervention"], c["weekly_preparation"],
            c["launch_meeting"] + c["period_end_meeting"], billing.minutes_by_intervenant.get(i, 0),
            amounts[i].quantize(CENT, rounding=ROUND_HALF_UP)))
    return tuple(sorted(details, key=lambda d: d.name))


def _read_stored(session, stored: StoredStatement) -> Statement:
    statement = from_payload(stored.payload, pdf_sha256=stored.pdf_sha256)
    codes = [f.code for f in statement.families]
    names = dict(session.execute(select(Family.key, Family.name).where(Family.key.in_(codes))).all())
    return replace(statement, families=tuple(replace(f, name=names.get(f.code, "")) for f in statement.families))


def _stored(session, convention, month) -> StoredStatement | None:
    return session.scalars(select(StoredStatement).where(
        StoredStatement.convention_id == convention.id, StoredStatement.month == month)).first()


def _month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months_after(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


def _after_period(convention: Convention, month: str) -> bool:
    return convention.end_date is not None and month > _month_of(convention.end_date)


def _months_between(first: str, last: str) -> list[str]:
    months, (year, month) = [], (int(first[:4]), int(first[5:]))
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _check_month(convention: Convention, month: str) -> None:
    if not isinstance(month, str) or not _MONTH.match(month):
        raise StatementError(f"Mois invalide « {month} » : attendu AAAA-MM, par exemple 2025-03.", field="month")
    first, last = month_bounds(month)
    if last < convention.start_date or (convention.end_date and first > convention.end_date):
        period = f"du {convention.start_date:%d/%m/%Y}" + (
            f" au {convention.end_date:%d/%m/%Y}" if convention.end_date else "")
        closing = (" Une correction des mois de la convention, une fois tous émis, se reporte sur l'état "
                   "complémentaire de clôture.") if convention.end_date and first > convention.end_date else ""
        raise StatementError(
            f"{month_in_words(month).capitalize()} est hors de la période de la convention {convention.key} "
            f"({period}).{closing}", field="month")
