"""Properties of the billing rules over many generated programmes (hypothesis)."""
from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models import Child, Convention, Family, HomeSession, Intervenant, IntervenantHistory, TariffAmendment
from models.db import make_engine, migrate
from services.billing import get_statement, issue_statement, list_issued, recomputed_lines
from services.dataset import import_dataset
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory
from tests.billing.builders import dataset, family, meeting, session

FAMILIES = ("F1", "F2", "F3")
DAYS = [date(2025, 1, 1) + timedelta(days=i) for i in range(120)]  # January to April, holidays included

session_strategy = st.fixed_dictionaries({
    "family": st.sampled_from(FAMILIES),
    "intervenant": st.sampled_from(("A1", "T1")),
    "day": st.sampled_from(DAYS),
    "status": st.sampled_from(("held", "held", "held", "cancelled", "family_absent")),
    "referent": st.booleans(),
    "approved": st.booleans(),
    "start": st.sampled_from(("09:00", "14:00", None)),
})
programme_strategy = st.fixed_dictionaries({
    "sessions": st.lists(session_strategy, max_size=25),
    "decisions": st.lists(st.sampled_from(DAYS[:60] + [None]), min_size=3, max_size=3),
    "meetings": st.lists(st.tuples(st.sampled_from(("launch", "period_end")), st.sampled_from(DAYS),
                                   st.lists(st.sampled_from(("A1", "T1")), min_size=1, max_size=2, unique=True)),
                         max_size=4),
})
# On PostgreSQL a third of the examples: the rules are decided in Python, the SQL that reads and writes the store is
# the same whatever the example (a few examples run it there), and each PostgreSQL example costs a new database.
POSTGRESQL_SHARE = 3


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(str(path))
    migrate(engine)
    engine.dispose()
    return path


class Store:
    """A fresh migrated database per generated example (copied from a template: migrations run once): a SQLite
    file in `folder`, or, given `databases` (tests.postgres.Databases), a PostgreSQL database, a copy of the
    template database `template`; the previous example's database is closed (and dropped) then."""

    def __init__(self, template, folder, databases=None):
        self.counter = 0
        self.template, self.folder, self.databases = template, folder, databases
        self.engine, self.name = None, None

    def examples(self, count: int) -> settings:
        """The settings of a property run on this store: `count` examples on SQLite, a third on PostgreSQL."""
        return settings(max_examples=count if self.databases is None else max(5, count // POSTGRESQL_SHARE),
                        deadline=None, suppress_health_check=[HealthCheck.too_slow])

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
        if self.name is not None:
            self.databases.drop(self.name)
        self.engine, self.name = None, None

    def new(self, generated):
        self.close()
        self.counter += 1
        if self.databases is None:
            path = self.folder / f"example-{self.counter}.sqlite"
            shutil.copy(self.template, path)
            self.location = str(path)
        else:
            self.name = self.databases.copy(self.template)
            self.location = self.databases.url(self.name)
        engine = self.engine = make_engine(self.location)
        uow = unit_of_work_factory(engine)
        data = dataset()
        for key, decided in zip(FAMILIES, generated["decisions"]):
            family(data, key, decided_on=decided.isoformat() if decided else None)
        for i, s in enumerate(generated["sessions"]):
            session(data, f"S{i:03d}", s["family"], s["intervenant"], s["day"].isoformat(), status=s["status"],
                    referent=s["referent"], approved=s["approved"], start=s["start"])
        for i, (kind, day, who) in enumerate(generated["meetings"]):
            meeting(data, f"M{i}", kind, day.isoformat(), who)
        import_dataset(uow(), data)
        return uow


@pytest.fixture
def store(request, backend, tmp_path):
    if backend == "sqlite":
        store = Store(request.getfixturevalue("template_db"), tmp_path)
    else:
        databases = request.getfixturevalue("postgres_databases")
        store = Store(databases.template("migrated"), tmp_path, databases)
    yield store
    store.close()


def money(statement):
    return [(l.kind, l.qualification, l.quantity, l.unit_price, l.amount, l.month) for l in statement.lines], statement.total


def test_total_is_the_sum_of_the_lines_and_each_line_is_quantity_times_price(store):
    @store.examples(30)
    @given(generated=programme_strategy, month=st.sampled_from(("2025-01", "2025-02", "2025-03", "2025-04")))
    def check(generated, month):
        statement = get_statement(store.new(generated)(), SYSTEM, "AP", month)
        assert statement.total == sum((l.amount for l in statement.lines), Decimal("0.00"))
        for line in statement.lines:
            assert line.amount == line.unit_price * line.quantity
        billed_sessions = sum(l.quantity for l in statement.lines if l.kind == "home_intervention")
        assert billed_sessions == sum(f.sessions_billed for f in statement.families)

    check()


def test_adding_a_child_to_a_family_changes_nothing(store):
    @store.examples(30)
    @given(generated=programme_strategy, month=st.sampled_from(("2025-01", "2025-02", "2025-03")))
    def check(generated, month):
        uow = store.new(generated)
        before = get_statement(uow(), SYSTEM, "AP", month)
        with uow() as u:
            f1 = u.session.scalars(select(Family).where(Family.key == "F1")).one()
            u.session.add(Child(key="new-child", family=f1, first_name="Léa", last_name="F1",
                                birth_date=date(2019, 1, 1)))
            u.commit()
        assert get_statement(uow(), SYSTEM, "AP", month) == before

    check()


def test_removing_an_unbilled_session_changes_no_amount(store):
    @store.examples(30)
    @given(generated=programme_strategy, month=st.sampled_from(("2025-01", "2025-02", "2025-03")),
           pick=st.integers(0, 99))
    def check(generated, month, pick):
        uow = store.new(generated)
        before = get_statement(uow(), SYSTEM, "AP", month)
        unbilled = sorted({f.session for f in before.flags if f.session and not f.billed} | {
            f"S{i:03d}" for i, s in enumerate(generated["sessions"]) if s["status"] != "held"})
        if not unbilled:
            return
        victim = unbilled[pick % len(unbilled)]
        with uow() as u:
            u.session.delete(u.session.scalars(select(HomeSession).where(HomeSession.key == victim)).one())
            u.commit()
        assert money(get_statement(uow(), SYSTEM, "AP", month)) == money(before)

    check()


change_strategy = st.one_of(
    st.tuples(st.just("issue")),
    st.tuples(st.just("add"), session_strategy),
    st.tuples(st.just("delete"), st.integers(0, 99)),
    st.tuples(st.just("toggle_approval"), st.integers(0, 99)),
    st.tuples(st.just("status"), st.integers(0, 99), st.sampled_from(("held", "cancelled", "family_absent"))),
)
# Dated facts (issue 9, defects B and D): an avenant from a day, an intervenant's new qualification from a day (maybe
# inside an issued month: the months they re-price come as régularisations).
dated_change_strategy = st.one_of(
    st.tuples(st.just("avenant"), st.sampled_from(DAYS[1:]), st.sampled_from(("31.00", "0.00", "57.50"))),
    st.tuples(st.just("qualification"), st.sampled_from(("A1", "T1")), st.sampled_from(DAYS),
              st.sampled_from(("AES", "TISF"))),
)


def test_issued_totals_plus_regularisations_equal_the_recomputation_of_every_month(store):
    """Sessions corrected late, and avenants and changes of qualification from random days."""
    @store.examples(25)
    @given(generated=programme_strategy,
           changes=st.lists(st.one_of(change_strategy, dated_change_strategy), min_size=1, max_size=10))
    def check(generated, changes):
        uow = store.new(generated)
        months = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
        for serial, change in enumerate(changes):
            issued = len(list_issued(uow(), SYSTEM, "AP"))
            if change[0] == "issue":
                if issued < len(months) - 1:
                    issue_statement(uow(), SYSTEM, "AP", months[issued])
                continue
            _late_change(uow, change, serial)

        issued = list_issued(uow(), SYSTEM, "AP")
        draft = get_statement(uow(), SYSTEM, "AP", months[len(issued)])
        carried = defaultdict(Decimal)
        for statement in (*issued, draft):
            for line in statement.lines:
                carried[line.month] += line.amount
        for statement in issued:
            recomputed = sum((l.amount for l in recomputed_lines(uow(), SYSTEM, "AP", statement.month)),
                             Decimal("0.00"))
            assert carried[statement.month] == recomputed, statement.month

    check()


# -- closing statements (issue 9, defect C) -------------------------------------------------------------------

PERIOD = ["2025-01", "2025-02", "2025-03", "2025-04"]  # the generated programmes' convention, cut to end on 30 April


def _fake_pdf(statement) -> bytes:
    return f"%PDF-1.4 {statement.number}".encode()


def _closing_step(uow) -> None:
    """Issue what comes next: the next month of the period, else a closing statement when it carries something."""
    from services.billing import get_closing_statement, issue_closing_statement

    done = {s.month for s in list_issued(uow(), SYSTEM, "AP")}
    waiting = [m for m in PERIOD if m not in done]
    if waiting:
        issue_statement(uow(), SYSTEM, "AP", waiting[0], render_pdf=_fake_pdf)
    elif get_closing_statement(uow(), SYSTEM, "AP").lines:
        issue_closing_statement(uow(), SYSTEM, "AP", render_pdf=_fake_pdf)


def _late_change(uow, change, serial: int) -> None:
    """A correction logged after the fact: a session added, deleted, approved or not, its status changed; an avenant
    or a change of qualification from a day."""
    with uow() as u:
        known = u.session.scalars(select(HomeSession).order_by(HomeSession.key)).all()
        if change[0] in ("avenant", "qualification"):
            _dated_change(u.session, change)
        elif change[0] == "add":
            wanted = change[1]
            owner = {f.key: f for f in u.session.scalars(select(Family))}[wanted["family"]]
            if not known:
                return
            u.session.add(HomeSession(key=f"late-{serial}", family=owner, intervenant=known[0].intervenant,
                                      date=wanted["day"], duration_minutes=60, status=wanted["status"],
                                      approved_exception=wanted["approved"]))
        elif known:
            picked = known[change[1] % len(known)]
            if change[0] == "delete":
                u.session.delete(picked)
            elif change[0] == "toggle_approval":
                picked.approved_exception = not picked.approved_exception
            else:
                picked.status = change[2]
        u.commit()


def _dated_change(session, change) -> None:
    """As the conventions page writes them: a whole tariff table from the avenant's day, a history row from the day
    of the new qualification (the first row, from the beginning, holds what the import gave)."""
    if change[0] == "avenant":
        convention = session.scalars(select(Convention)).one()
        if all(a.starts_on != change[1] for a in convention.amendments):
            convention.amendments.extend(
                TariffAmendment(starts_on=change[1], qualification=q, kind=k, unit_price=Decimal(change[2]))
                for q in ("AES", "TISF")
                for k in ("home_intervention", "weekly_preparation", "launch_meeting", "period_end_meeting"))
        return
    _kind, key, day, qualification = change
    intervenant = session.scalars(select(Intervenant).where(Intervenant.key == key)).one()
    if not intervenant.history:
        intervenant.history.append(IntervenantHistory(starts_on=None, qualification=intervenant.qualification,
                                                      partner_id=intervenant.partner_id))
    same_day = next((h for h in intervenant.history if h.starts_on == day), None)
    if same_day is not None:
        same_day.qualification = qualification
    else:
        intervenant.history.append(IntervenantHistory(starts_on=day, qualification=qualification,
                                                      partner_id=intervenant.partner_id))


# after the period, mostly sessions logged late and closing statements issued, so that most examples issue some
after_strategy = st.one_of(change_strategy, st.tuples(st.just("add"), session_strategy.filter(
    lambda s: s["status"] == "held")), st.tuples(st.just("issue")))


def test_issued_plus_regularisations_equal_the_recomputation_with_closing_statements(store):
    """Changes `during` the period (some months issued), then every month issued, then changes `after` it: those
    can only go on closing statements, each issued (« issue ») when it carries something."""
    @store.examples(30)
    @given(generated=programme_strategy, during=st.lists(change_strategy, max_size=6),
           after=st.lists(after_strategy, min_size=1, max_size=10))
    def check(generated, during, after):
        from models import Convention
        from services.billing import get_closing_statement

        uow = store.new(generated)
        with uow() as u:
            u.session.scalars(select(Convention)).one().end_date = date(2025, 4, 30)
            u.commit()
        for serial, change in enumerate(during):
            if change[0] == "issue":
                _closing_step(uow)
            else:
                _late_change(uow, change, serial)
        for _ in PERIOD:  # every month issued: from now on a correction can only go on a closing statement
            _closing_step(uow)
        for serial, change in enumerate(after, start=len(during)):
            if change[0] == "issue":
                _closing_step(uow)
            else:
                _late_change(uow, change, serial)
        late = get_closing_statement(uow(), SYSTEM, "AP")  # what a closing statement would carry now

        issued = list_issued(uow(), SYSTEM, "AP")
        assert [s.number for s in issued] == [f"AP-{n:03d}" for n in range(1, len(issued) + 1)]  # one series, no gap
        assert [s.month for s in issued if not s.closing] == PERIOD
        assert all(l.month in PERIOD for s in (*issued, late) if s.closing for l in s.lines)  # régularisations only
        carried = defaultdict(Decimal)
        for statement in (*issued, late):
            for line in statement.lines:
                carried[line.month] += line.amount
        for month in PERIOD:
            recomputed = sum((l.amount for l in recomputed_lines(uow(), SYSTEM, "AP", month)), Decimal("0.00"))
            assert carried[month] == recomputed, month
        if late.lines:
            from services.billing import issue_closing_statement

            issue_closing_statement(uow(), SYSTEM, "AP", render_pdf=_fake_pdf)
        assert get_closing_statement(uow(), SYSTEM, "AP").lines == ()  # once carried, nothing is carried twice

    check()

