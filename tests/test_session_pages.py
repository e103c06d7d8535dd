"""sessions_page, the big list's keyset pages: walked forward, backward or jumped into, in every order and with
the filters, they give exactly the rows the OFFSET listing gives, ties and sessions without a start time included;
the count with a search is the number of rows found."""
import re

import pytest
from sqlalchemy import event

from models.db import make_engine, migrate
from services import home_sessions
from services.home_sessions import (SORTABLE, SessionCursor, SessionQuery, count_sessions, list_sessions,
                                    sessions_page)
from services.uow import unit_of_work_factory
from tests.programme_fixture import load_example, programme  # noqa: F401 - fixture
from tests.session_rows import add_sessions

QUERIES = [SessionQuery(sort=sort, descending=descending) for sort in SORTABLE for descending in (True, False)] + [
    SessionQuery(text="diallo"), SessionQuery(text="BENALI", sort="family", descending=False),
    SessionQuery(text="p-01"), SessionQuery(status="held", sort="duration"), SessionQuery(month="2024-03"),
    SessionQuery(decision="approved"), SessionQuery(text="morel", month="2024-02", sort="intervenant")]


@pytest.fixture
def many(programme, engine):
    add_sessions(programme, engine)
    return programme


@pytest.mark.parametrize("q", QUERIES, ids=repr)
def test_keyset_pages_give_the_rows_of_the_offset_listing(many, q):
    _pages_match_the_offset_listing(many, q)


@pytest.mark.parametrize("q", [SessionQuery(text=text, sort=sort, descending=sort == "date")
                               for text in ("benali", "p-01", "famille") for sort in SORTABLE], ids=repr)
def test_a_search_read_through_the_sessions_it_finds_pages_the_same(many, engine, q, monkeypatch):
    monkeypatch.setattr(home_sessions, "NARROW", 2.0)  # every search counts as narrow (few sessions found)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda _c, _k, statement, *_a: statements.append(statement))
    _pages_match_the_offset_listing(many, q)
    flat = [" ".join(s.split()) for s in statements]
    # SQLite quotes the column (KEY is one of its keywords), PostgreSQL does not
    assert any(re.search(r'home_session\.("key"|key) IN \(SELECT', s) and " ORDER BY " in s for s in flat)


@pytest.mark.parametrize("narrow", (0.0, 2.0))
@pytest.mark.parametrize("sort", SORTABLE)
def test_a_search_matching_more_keys_than_listed_pages_the_same(many, monkeypatch, sort, narrow):
    monkeypatch.setattr(home_sessions, "KEY_LIST", 0)  # the keys stay a LIKE, not the list of those found
    monkeypatch.setattr(home_sessions, "NARROW", narrow)
    _pages_match_the_offset_listing(many, SessionQuery(text="p-0", sort=sort))


def _pages_match_the_offset_listing(many, q):
    expected = [r.id for r in list_sessions(many.uow(), many.coordinator, q, 0, 1000)]
    first = sessions_page(many.uow(), many.coordinator, q, limit=3, count=True)
    assert first.total == len(expected) == count_sessions(many.uow(), many.coordinator, q)
    forward, page = list(first.rows), first
    while page.rows:
        page = sessions_page(many.uow(), many.coordinator, q, SessionCursor(page.rows[-1]), limit=3)
        forward += page.rows
    assert [r.id for r in forward] == expected
    backward, page = [], sessions_page(many.uow(), many.coordinator, q, SessionCursor(None, backward=True), limit=4)
    while page.rows:
        backward = list(page.rows) + backward
        page = sessions_page(many.uow(), many.coordinator, q, SessionCursor(page.rows[0], backward=True), limit=4)
    assert [r.id for r in backward] == expected


@pytest.mark.parametrize("q", QUERIES[:10], ids=repr)
def test_a_jump_skips_exactly_the_rows_asked_from_either_end_or_from_a_row(many, q):
    expected = [r.id for r in list_sessions(many.uow(), many.coordinator, q, 0, 1000)]
    read = lambda cursor: [r.id for r in sessions_page(many.uow(), many.coordinator, q, cursor, limit=5).rows]
    assert read(SessionCursor(None, False, 30)) == expected[30:35]
    assert read(SessionCursor(None, True, 10)) == expected[-15:-10]
    anchor = list_sessions(many.uow(), many.coordinator, q, 12, 1)[0]
    assert read(SessionCursor(anchor, False, 7)) == expected[20:25]
    assert read(SessionCursor(anchor, True, 2)) == expected[5:10]


def test_a_referent_pages_through_the_sessions_of_the_families_they_follow_only(many):
    everything = [r.id for r in list_sessions(many.uow(), many.referent, SessionQuery(), 0, 1000)]
    page = sessions_page(many.uow(), many.referent, SessionQuery(), limit=1000, count=True)
    assert [r.id for r in page.rows] == everything and page.total == len(everything)
    assert {r.family_id for r in page.rows} <= set(many.family.values())


@pytest.mark.parametrize("q", [SessionQuery(), SessionQuery(sort="family", descending=False),
                               SessionQuery(text="diallo", sort="intervenant")], ids=repr)
def test_the_same_pages_on_postgresql(postgres_url, q, monkeypatch):
    """PostgreSQL puts NULL last ascending unless told: the pages (sessions without a start time among them) and
    their order must be the same as on SQLite."""
    engine = make_engine(postgres_url)
    try:
        migrate(engine)
        programme = load_example(unit_of_work_factory(engine))
        add_sessions(programme, engine)
        _pages_match_the_offset_listing(programme, q)
        monkeypatch.setattr(home_sessions, "NARROW", 2.0)
        _pages_match_the_offset_listing(programme, q)
    finally:
        engine.dispose()
