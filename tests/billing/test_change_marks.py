"""Drafts re-bill only the issued months marked as changed (models.billing_marks, issue 12): the same statement as a
re-bill of every issued month, over random histories of issues and late corrections."""
from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from models import BillingChangeMark, Convention, Family, HomeSession, Intervenant, Meeting, Orientation, User
from models.billing_marks import BEGINNING
from models.db import make_engine, migrate
from services.billing import get_statement, issue_statement, list_issued
from services.billing.statements import Marks, _marks, compute_draft, list_issued_summaries
from services.permissions import SYSTEM, CurrentUser
from services.session_exceptions import approve_exceptions, refuse_exceptions
from tests.billing.migration_steps import downgrade_to
from tests.billing.test_properties import (DAYS, FAMILIES, _fake_pdf, _late_change, change_strategy,  # noqa: F401
                                           dated_change_strategy, programme_strategy, store, template_db)

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
EVERY_MONTH = Marks(frozenset(), BEGINNING, ())  # as if every issued month were marked: the full re-bill

more_change_strategy = st.one_of(
    st.tuples(st.just("move"), st.integers(0, 99), st.sampled_from(DAYS)),
    st.tuples(st.just("orientation"), st.sampled_from(FAMILIES), st.sampled_from(DAYS[:90] + [None]),
              st.sampled_from(DAYS[30:] + [None])),
    st.tuples(st.just("meeting"), st.sampled_from(("launch", "period_end")), st.sampled_from(DAYS)),
    st.tuples(st.just("attendee_removed"), st.integers(0, 99)),
    st.tuples(st.just("exception_decision"), st.integers(0, 99)),
)


def _full_redraft(uow, month: str):
    with uow() as u:
        convention = u.session.scalars(select(Convention).where(Convention.key == "AP")).one()
        return compute_draft(u.session, convention, month, EVERY_MONTH)


def _other_change(uow, change, serial: int) -> None:
    """Corrections the billing-properties tests do not make: a session moved to another day, an orientation decided
    or ended on another day, a meeting added, an attendee removed, a dérogation approved through the service."""
    if change[0] == "exception_decision":
        _decide(uow, change[1])
        return
    with uow() as u:
        sessions = u.session.scalars(select(HomeSession).order_by(HomeSession.key)).all()
        if change[0] == "move" and sessions:
            sessions[change[1] % len(sessions)].date = change[2]
        elif change[0] == "orientation":
            family = u.session.scalars(select(Family).where(Family.key == change[1])).one()
            orientation = u.session.scalars(select(Orientation).where(Orientation.family_id == family.id)).first()
            if orientation is not None:
                orientation.decided_on, orientation.end_date = change[2], None
                if change[2] is not None and change[3] is not None and change[3] >= change[2]:
                    orientation.status, orientation.end_date = "ended", change[3]
                elif change[2] is not None:
                    orientation.status = "validated"
        elif change[0] == "meeting":
            convention = u.session.scalars(select(Convention)).one()
            u.session.add(Meeting(key=f"late-meeting-{serial}", convention=convention, kind=change[1], date=change[2],
                                  intervenants=list(u.session.scalars(select(Intervenant)))))
        elif change[0] == "attendee_removed":
            meetings = [m for m in u.session.scalars(select(Meeting).order_by(Meeting.key)) if m.intervenants]
            if meetings:
                meetings[change[1] % len(meetings)].intervenants.pop()
        u.commit()


def _decide(uow, pick: int) -> None:
    """The coordinator approves a held session's dérogation, or refuses an approved one's."""
    with uow() as u:
        held = u.session.execute(select(HomeSession.id, HomeSession.approved_exception)
                                 .where(HomeSession.status == "held").order_by(HomeSession.key)).all()
        coordinator = u.session.scalars(select(User).where(User.key == "coord")).one()
        coordinator = CurrentUser(coordinator.id, coordinator.key, coordinator.name, coordinator.role)
    if not held:
        return
    picked, approved = held[pick % len(held)]
    if approved:
        refuse_exceptions(uow(), coordinator, [picked], "Hors convention", date(2025, 6, 1))
    else:
        approve_exceptions(uow(), coordinator, [picked])


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(generated=programme_strategy,
       changes=st.lists(st.one_of(change_strategy, dated_change_strategy, more_change_strategy), min_size=1,
                        max_size=12))
def test_a_draft_that_re_bills_only_the_marked_months_equals_a_re_bill_of_every_issued_month(store, generated,
                                                                                               changes):
    """Late, moved and deleted sessions, changes of status, approvals (the column and the service), an avenant, a
    qualification changed from a day inside an issued month, orientations decided or ended on another day, meetings
    and attendees: after each step the draft is the one a re-bill of the whole history gives."""
    uow = store.new(generated)
    for serial, change in enumerate(changes):
        issued = len(list_issued_summaries(uow(), SYSTEM, "AP"))
        if change[0] == "issue":
            if issued < len(MONTHS) - 1:
                issue_statement(uow(), SYSTEM, "AP", MONTHS[issued], render_pdf=_fake_pdf)
        elif change[0] in ("move", "orientation", "meeting", "attendee_removed", "exception_decision"):
            _other_change(uow, change, serial)
        else:
            _late_change(uow, change, serial)
        month = MONTHS[len(list_issued_summaries(uow(), SYSTEM, "AP"))]
        assert get_statement(uow(), SYSTEM, "AP", month) == _full_redraft(uow, month), (serial, change)


def _marked(uow) -> set[tuple[str, bool]]:
    with uow() as u:
        return {(m.month, m.onward) for m in u.session.scalars(select(BillingChangeMark))}


def _one_session(store):
    return store.new({"sessions": [{"family": "F1", "intervenant": "A1", "day": date(2025, 2, 3), "status": "held",
                                    "referent": True, "approved": False, "start": "14:00"}],
                      "decisions": [date(2025, 1, 6)] * 3, "meetings": []})


def test_a_change_is_marked_in_its_own_transaction_and_a_rolled_back_one_leaves_no_mark(store):
    uow = _one_session(store)
    issue_statement(uow(), SYSTEM, "AP", "2025-01", render_pdf=_fake_pdf)
    assert _marked(uow) == set()
    with uow() as u:  # a Monday: its week runs into April
        u.session.scalars(select(HomeSession)).one().date = date(2025, 3, 31)
        u.session.flush()
        assert {(m.month, m.onward) for m in u.session.scalars(select(BillingChangeMark))} == {
            ("2025-02", False), ("2025-03", False), ("2025-04", False)}
    assert _marked(uow) == set()  # rolled back with the change
    with uow() as u:
        u.session.scalars(select(HomeSession)).one().notes = "Séance reportée"  # read by no rule: nothing marked
        u.commit()
    assert _marked(uow) == set()


def test_issuing_settles_every_mark_and_a_later_draft_re_bills_no_month(store):
    uow = _one_session(store)
    for month in MONTHS[:3]:
        issue_statement(uow(), SYSTEM, "AP", month, render_pdf=_fake_pdf)
    with uow() as u:
        u.session.scalars(select(HomeSession)).one().status = "cancelled"
        u.commit()
    with uow() as u:
        convention = u.session.scalars(select(Convention)).one()
        assert _marks(u.session, convention).changed(MONTHS[:3]) == ["2025-02"]
    assert [(l.month, l.quantity) for l in get_statement(uow(), SYSTEM, "AP", "2025-04").regularisation_lines] == [
        ("2025-02", -1), ("2025-02", -1)]  # the session and its weekly preparation
    issue_statement(uow(), SYSTEM, "AP", "2025-04", render_pdf=_fake_pdf)
    assert _marked(uow) == set()
    with uow() as u:
        convention = u.session.scalars(select(Convention)).one()
        assert _marks(u.session, convention).changed(MONTHS[:4]) == []
    assert get_statement(uow(), SYSTEM, "AP", "2025-05").regularisation_lines == ()


def test_a_qualification_changed_from_a_day_marks_every_month_from_that_day(store):
    uow = _one_session(store)
    issue_statement(uow(), SYSTEM, "AP", "2025-01", render_pdf=_fake_pdf)
    _late_change(uow, ("qualification", "A1", date(2025, 2, 10), "TISF"), 0)
    assert _marked(uow) == {("2025-02", True)}


def test_the_migration_marks_every_issued_convention_from_the_beginning(store):
    uow = _one_session(store)
    issue_statement(uow(), SYSTEM, "AP", "2025-01", render_pdf=_fake_pdf)
    engine = make_engine(store.location)
    downgrade_to(engine, "0009")
    with engine.begin() as conn:  # changed while no mark was kept
        conn.execute(text("UPDATE home_session SET date = '2025-01-27'"))
    migrate(engine)
    assert _marked(uow) == {(BEGINNING, True)}
    assert [(l.month, l.kind) for l in get_statement(uow(), SYSTEM, "AP", "2025-02").regularisation_lines] == [
        ("2025-01", "home_intervention"), ("2025-01", "weekly_preparation")]
    engine.dispose()


def test_the_list_of_issued_statements_reads_what_the_statements_say(store):
    uow = _one_session(store)
    for month in MONTHS[:2]:
        issue_statement(uow(), SYSTEM, "AP", month, render_pdf=_fake_pdf)
    full = list_issued(uow(), SYSTEM, "AP")
    assert [(s.convention, s.month, s.number, s.total, s.issued_at, s.pdf_sha256, s.closing) for s in full] == [
        (s.convention, s.month, s.number, s.total, s.issued_at, s.pdf_sha256, s.closing)
        for s in list_issued_summaries(uow(), SYSTEM, "AP")]


def test_a_session_changed_in_a_week_across_two_months_re_bills_both(store):
    """Week of 27 January to 2 February: deleting the Tuesday session lets Saturday's, the week's second, be billed
    in February; both months are issued, both come as régularisations."""
    held = {"family": "F1", "intervenant": "A1", "status": "held", "referent": True, "approved": False,
            "start": "14:00"}
    uow = store.new({"sessions": [{**held, "day": date(2025, 1, 28)}, {**held, "day": date(2025, 2, 1)}],
                     "decisions": [date(2025, 1, 6)] * 3, "meetings": []})
    for month in MONTHS[:2]:
        issue_statement(uow(), SYSTEM, "AP", month, render_pdf=_fake_pdf)
    _late_change(uow, ("delete", 0), 0)
    assert _marked(uow) == {("2025-01", False), ("2025-02", False)}
    assert [(l.month, l.kind, l.quantity) for l in get_statement(uow(), SYSTEM, "AP", "2025-03").lines] == [
        ("2025-01", "home_intervention", -1), ("2025-01", "weekly_preparation", -1),
        ("2025-02", "home_intervention", 1), ("2025-02", "weekly_preparation", 1)]


def test_an_avenant_or_a_qualification_taken_out_of_its_list_marks_from_its_day(store):
    """As the conventions page removes them (out of the convention's or the intervenant's list, deleted by the flush
    as orphans): the months from their day re-bill at the table or qualification now in force."""
    uow = _one_session(store)
    _late_change(uow, ("avenant", date(2025, 3, 3), "31.00"), 0)
    _late_change(uow, ("qualification", "A1", date(2025, 2, 10), "TISF"), 1)
    issue_statement(uow(), SYSTEM, "AP", "2025-01", render_pdf=_fake_pdf)
    assert _marked(uow) == set()
    with uow() as u:
        convention = u.session.scalars(select(Convention)).one()
        for row in [a for a in convention.amendments if a.starts_on == date(2025, 3, 3)]:
            convention.amendments.remove(row)
        u.commit()
    assert _marked(uow) == {("2025-03", True)}
    with uow() as u:
        intervenant = u.session.scalars(select(Intervenant).where(Intervenant.key == "A1")).one()
        intervenant.history.remove(next(h for h in intervenant.history if h.starts_on == date(2025, 2, 10)))
        u.commit()
    assert _marked(uow) == {("2025-03", True), ("2025-02", True)}
