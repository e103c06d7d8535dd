"""Issue 15: issued statements, their lines and the audit log refuse every write (migration 0005's triggers, from
any connection — here a bare sqlite3 one, like the sqlite3 shell, without the application's pragmas); once the
triggers are dropped, every forgery is named by `check` (services.integrity), exit 2."""
import hashlib
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

import main
from models.chain import audit_hash
from services import audit
from services.billing import issue_statement
from services.integrity import verify
from services.permissions import SYSTEM
from tests.billing.test_worked_example import worked  # noqa: F401  (fixture)
from tests.stores import execute, rows

STATEMENT_COLUMNS = ("id, created_at, updated_at, convention_id, month, sequence, number, issued_at, issued_by_id, "
                     "total, payload, pdf, pdf_sha256, line_count, chain_hash")
LINE_COLUMNS = "id, created_at, updated_at, statement_id, position, kind, qualification, quantity, unit_price, amount, month"
AUDIT_COLUMNS = "id, at, actor_key, action, record_type, record_key, changed_fields, seq, entry_hash, anchor"
OF = "(SELECT id FROM statement WHERE number = '{}')"


def line_of(number: str, **changed) -> str:
    """A SELECT giving one existing line of statement `number`, with some columns replaced."""
    values = [changed.get(c.strip(), c.strip()) for c in LINE_COLUMNS.split(",")]
    return f"SELECT {', '.join(map(str, values))} FROM statement_line WHERE statement_id = {OF.format(number)} " \
           "ORDER BY position LIMIT 1"


def statement_of(of: str, **changed) -> str:
    values = [changed.get(c.strip(), c.strip()) for c in STATEMENT_COLUMNS.split(",")]
    return f"SELECT {', '.join(map(str, values))} FROM statement WHERE number = '{of}'"


FORGERIES = {  # the red team's and their cousins: name → SQL
    "extra line on an issued statement": f"INSERT INTO statement_line ({LINE_COLUMNS}) "
    + line_of("AP-001", id="'forged'", position="(SELECT line_count FROM statement WHERE number = 'AP-001')",
              quantity=1000, amount="unit_price * 1000"),
    "line at a negative position": f"INSERT INTO statement_line ({LINE_COLUMNS}) "
    + line_of("AP-001", id="'forged'", position=-1, quantity=1000),
    "insert or replace of a statement": f"INSERT OR REPLACE INTO statement ({STATEMENT_COLUMNS}) "
    + statement_of("AP-002", total=100),
    "replace of a statement under a new id": f"REPLACE INTO statement ({STATEMENT_COLUMNS}) "
    + statement_of("AP-002", id="'other'", total=100),
    "insert or replace of a line": f"INSERT OR REPLACE INTO statement_line ({LINE_COLUMNS}) "
    + line_of("AP-002", quantity=1000),
    "upsert of a statement": f"INSERT INTO statement ({STATEMENT_COLUMNS}) " + statement_of("AP-002")
    + " ON CONFLICT (id) DO UPDATE SET total = 100",
    "upsert of a line": f"INSERT INTO statement_line ({LINE_COLUMNS}) " + line_of("AP-002")
    + " ON CONFLICT (id) DO UPDATE SET quantity = 1000",
    "update of a total": "UPDATE statement SET total = 100 WHERE number = 'AP-002'",
    "update of a line": "UPDATE statement_line SET quantity = 1000",
    "delete of a statement": "DELETE FROM statement WHERE number = 'AP-003'",
    "delete of a line": "DELETE FROM statement_line",
    "statement without its hash": f"INSERT INTO statement ({STATEMENT_COLUMNS}) "
    + statement_of("AP-003", id="'x'", month="'2025-09'", sequence=9, number="'AP-009'", chain_hash="NULL"),
    "audit insert or replace": f"INSERT OR REPLACE INTO audit_log ({AUDIT_COLUMNS}) SELECT id, at, actor_key, "
    "'nothing', record_type, record_key, changed_fields, seq, entry_hash, anchor FROM audit_log WHERE seq = 2",
    "audit replace of a place in the chain": f"INSERT OR REPLACE INTO audit_log ({AUDIT_COLUMNS}) SELECT 'new', at, "
    "actor_key, 'nothing', record_type, record_key, changed_fields, seq, entry_hash, anchor FROM audit_log WHERE seq = 2",
    "audit entry outside the chain": "INSERT INTO audit_log (id, at, action, record_type, changed_fields) "
    "VALUES ('raw', '2024-01-01 00:00:00.000000', 'update', 'family', '[]')",
    "audit update": "UPDATE audit_log SET action = 'nothing' WHERE seq = 2",
    "audit delete": "DELETE FROM audit_log WHERE seq = 2",
}


@pytest.fixture
def issued(worked, db_path):
    """The worked example with January, February and March issued (AP-001…003), as a file path."""
    for month in ("2025-01", "2025-02", "2025-03"):
        issue_statement(worked(), SYSTEM, "AP", month)
    return db_path


def shell(db_path: str, *sql: str) -> None:
    """What someone with the file and the sqlite3 shell does: no pragma of the application (foreign keys and
    recursive triggers off)."""
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        for statement in sql:
            conn.execute(statement)


def snapshot(db_path: str) -> tuple:
    with closing(sqlite3.connect(db_path)) as conn:
        return tuple(conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                     for table in ("statement", "statement_line", "audit_log"))


def drop_triggers(db_path: str) -> None:
    with closing(sqlite3.connect(db_path)) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name IN ('statement', 'statement_line', 'audit_log')")]
    assert len(names) >= 9
    shell(db_path, *(f"DROP TRIGGER {name}" for name in names))


def check(db_path: str, capsys) -> tuple[int, str]:
    code = main.main(["--db", db_path, "check"])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


@pytest.mark.sqlite_only("SQLite's triggers (PostgreSQL's: test_each_forged_write_is_refused_by_postgresqls_triggers)")
@pytest.mark.parametrize("forgery", FORGERIES)
def test_each_forged_write_is_refused_by_the_triggers_of_a_bare_sqlite_connection(issued, forgery):
    before = snapshot(issued)
    with pytest.raises(sqlite3.DatabaseError, match="frozen|journal d'audit"):
        shell(issued, FORGERIES[forgery])
    assert snapshot(issued) == before
    assert verify_file(issued).ok


@pytest.mark.sqlite_only("INSERT OR REPLACE is SQLite's")
@pytest.mark.parametrize("forgery", ["insert or replace of a statement", "insert or replace of a line",
                                     "audit insert or replace"])
def test_replace_is_refused_through_the_applications_engine_too(issued, engine, forgery):
    before = snapshot(issued)
    with pytest.raises(Exception, match="frozen|journal d'audit"):
        with engine.begin() as conn:
            conn.execute(text(FORGERIES[forgery]))
    assert snapshot(issued) == before


def verify_file(db_path: str):
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{db_path}")
    try:
        return verify(engine)
    finally:
        engine.dispose()


TAMPERING = {  # with the triggers dropped: SQL → what `check` must name
    "the red team's forged line of 1,000 sessions": (
        [f"INSERT INTO statement_line ({LINE_COLUMNS}) "
         + line_of("AP-001", id="'forged'", position=2, quantity=1000, amount="unit_price * 1000"),
         "UPDATE statement SET line_count = 3 WHERE number = 'AP-001'"], "L'état AP-001"),
    "the red team's total set to 1": (
        [f"INSERT OR REPLACE INTO statement ({STATEMENT_COLUMNS}) " + statement_of("AP-002", total=1)],
        "L'état AP-002"),
    "a line's quantity": (["UPDATE statement_line SET quantity = 7 WHERE statement_id = "
                           + OF.format("AP-002") + " AND position = 0"], "L'état AP-002"),
    "a line removed": (["DELETE FROM statement_line WHERE statement_id = " + OF.format("AP-002")
                        + " AND position = 0"], "L'état AP-002"),
    "the payload": (["UPDATE statement SET payload = replace(payload, '\"total\": \"', '\"total\": \"1') "
                     "WHERE number = 'AP-001'"], "L'état AP-001"),
    "the PDF replaced": (["UPDATE statement SET pdf = X'255044462D66616B65' WHERE number = 'AP-002'"],
                         "L'état AP-002"),
    "a statement removed from the middle": (
        ["DELETE FROM statement_line WHERE statement_id = " + OF.format("AP-002"),
         "DELETE FROM statement WHERE number = 'AP-002'"], "L'état AP-003"),
    "the last statement removed": (
        ["DELETE FROM statement_line WHERE statement_id = " + OF.format("AP-003"),
         "DELETE FROM statement WHERE number = 'AP-003'"], "(issue statement AP-003"),
    "an audit entry changed": (["UPDATE audit_log SET actor_key = 'someone-else' WHERE seq = 3"], "L'entrée n° 3 "),
    "an audit entry removed": (["DELETE FROM audit_log WHERE seq = 3"], "L'entrée n° 4 "),
    "the oldest audit entries removed outside a purge": (["DELETE FROM audit_log WHERE seq <= 2"], "L'entrée n° 3 "),
}


@pytest.mark.sqlite_only("drops SQLite's triggers (PostgreSQL's: test_with_postgresqls_triggers_disabled_…)")
@pytest.mark.parametrize("tampering", TAMPERING)
def test_with_the_triggers_dropped_check_names_the_forged_statement_or_entry(issued, tampering, capsys):
    assert check(issued, capsys)[0] == 0
    drop_triggers(issued)
    sql, named = TAMPERING[tampering]
    shell(issued, *sql)
    code, said = check(issued, capsys)
    assert code == 2
    first = said.splitlines()[1]  # the line after « La base … a des problèmes : »
    assert named in first, said


def last_entry(db_path: str) -> tuple[int, str, datetime]:
    [(seq, digest, at)] = rows(db_path, "SELECT seq, entry_hash, at FROM audit_log ORDER BY seq DESC LIMIT 1")
    return seq, digest, at if isinstance(at, datetime) else datetime.fromisoformat(at)


def test_a_back_dated_raw_entry_is_named_even_with_the_triggers_on(issued, capsys):
    seq, _, _ = last_entry(issued)
    execute(issued, f"INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ('raw', '2024-03-01 09:00:00.000000', "
                  f"'coord', 'delete', 'family', 'F9', '[]', {seq + 1}, '{'0' * 64}', NULL)")
    code, said = check(issued, capsys)
    assert code == 2 and f"L'entrée n° {seq + 1} (delete family F9, du 01/03/2024" in said.splitlines()[1]


def test_a_back_dated_entry_with_a_correct_hash_is_named_by_its_date(issued, capsys):
    """Someone who knows models.chain computes the hash: the entry still claims a moment before the one it
    follows."""
    seq, previous, _ = last_entry(issued)
    at = "2024-03-01 09:00:00.000000"
    digest = audit_hash(previous, seq=seq + 1, id="raw", at=at, actor_key="coord", action="delete",
                        record_type="family", record_key="F9", changed_fields="[]", anchor=None)
    execute(issued, f"INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ('raw', '{at}', 'coord', 'delete', 'family', "
                  f"'F9', '[]', {seq + 1}, '{digest}', NULL)")
    code, said = check(issued, capsys)
    assert code == 2 and f"L'entrée n° {seq + 1} " in said.splitlines()[1] and "antidatée" in said


def test_the_normal_path_issue_three_months_and_purge_the_audit_log_passes_check(uow, request, capsys):
    old = datetime.now(timezone.utc) - timedelta(days=800)
    for days in range(3):  # the oldest entries come first in the chain, as they did when they were written
        with uow() as u:
            audit.record(u.session, "coord", "update", "family", f"F{days}", ["address"], at=old + timedelta(days=days))
            u.commit()
    request.getfixturevalue("worked")  # imports the worked example after them
    db_path = request.getfixturevalue("issued")
    assert audit.purge_older_than(uow(), SYSTEM) == 3
    issue_statement(uow(), SYSTEM, "AP", "2025-04")  # appends after the purge
    code, said = check(db_path, capsys)
    assert code == 0, said
    assert "4 état(s) émis" in said
    [(first,)] = rows(db_path, "SELECT min(seq) FROM audit_log")
    assert first == 4  # the three old entries went, the chain goes on from the purge's anchor
    assert audit.purge_older_than(uow(), SYSTEM) == 0  # a purge with nothing to remove keeps the anchor
    assert check(db_path, capsys)[0] == 0


def test_the_migration_chains_rows_written_before_it(tmp_path, capsys):
    """A base issued and audited at 0004 is chained by 0005 in order, and then passes check."""
    from alembic import command
    from alembic.config import Config

    from models.db import MIGRATIONS_DIR, head_revision, make_engine, migrate

    db = str(tmp_path / "old.sqlite")
    engine = make_engine(db)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    pdf = b"%PDF-old"
    payload = ('{"lines": [{"amount": "30.00", "kind": "home_intervention", "month": "2025-01", "quantity": 1, '
               '"qualification": "AES", "unit_price": "30.00"}], "month": "2025-01", "number": "OLD-001", '
               '"total": "30.00"}')
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        for sql in (
            "INSERT INTO partner (id, created_at, updated_at, key, name) VALUES ('p', '2025-01-01', '2025-01-01', 'p', 'P')",
            "INSERT INTO action (id, created_at, updated_at, name) VALUES ('ac', '2025-01-01', '2025-01-01', 'A')",
            "INSERT INTO convention (id, created_at, updated_at, key, partner_id, action_id, start_date, "
            "period_end_months) VALUES ('c', '2025-01-01', '2025-01-01', 'OLD', 'p', 'ac', '2025-01-01', '[]')",
            "INSERT INTO statement (id, created_at, updated_at, convention_id, month, sequence, number, issued_at, "
            f"total, payload, pdf, pdf_sha256) VALUES ('s', '2025-02-01', '2025-02-01', 'c', '2025-01', 1, 'OLD-001', "
            f"'2025-02-01 10:00:00.000000', 3000, :payload, :pdf, '{hashlib.sha256(pdf).hexdigest()}')",
            "INSERT INTO statement_line (id, created_at, updated_at, statement_id, position, kind, qualification, "
            "quantity, unit_price, amount, month) VALUES ('l', '2025-02-01', '2025-02-01', 's', 0, "
            "'home_intervention', 'AES', 1, 3000, 3000, '2025-01')",
            "INSERT INTO audit_log (id, at, action, record_type, record_key, changed_fields) VALUES "
            "('a2', '2025-02-01 10:00:00.000000', 'issue', 'statement', 'OLD-001', '[]')",
            "INSERT INTO audit_log (id, at, action, record_type, record_key, changed_fields) VALUES "
            "('a1', '2025-01-05 10:00:00.000000', 'create', 'family', 'F1', '[]')",
        ):
            conn.execute(text(sql), {"payload": payload, "pdf": pdf})
    assert migrate(engine) == head_revision()  # 0005 chained them; later revisions keep them
    engine.dispose()
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT id, seq FROM audit_log ORDER BY seq").fetchall() == [("a1", 1), ("a2", 2)]
        assert conn.execute("SELECT line_count FROM statement").fetchone() == (1,)
    code, said = check(db, capsys)
    assert code == 0, said
    assert "1 état(s) émis, 2 entrée(s)" in said


# -- PostgreSQL (tests/postgres.py: skipped with « PostgreSQL absent : … » when there is none) ----------------

PG_FORGERIES = {
    # March: the example's January and February may bill nothing, and a SELECT of no line would insert nothing.
    "extra line on an issued statement": f"INSERT INTO statement_line ({LINE_COLUMNS}) " + line_of(
        "ap-2025-003", id="'forged'", position="(SELECT line_count FROM statement WHERE number = 'ap-2025-003')",
        quantity=1000, amount="unit_price * 1000"),
    "upsert of a statement": f"INSERT INTO statement ({STATEMENT_COLUMNS}) " + statement_of("ap-2025-002")
    + " ON CONFLICT (id) DO UPDATE SET total = 100",
    "upsert of a line": f"INSERT INTO statement_line ({LINE_COLUMNS}) " + line_of("ap-2025-003")
    + " ON CONFLICT (id) DO UPDATE SET quantity = 1000",
    "statement without its hash": f"INSERT INTO statement ({STATEMENT_COLUMNS}) " + statement_of(
        "ap-2025-003", id="'x'", month="'2025-09'", sequence=9, number="'ap-2025-009'", chain_hash="NULL"),
    "update of a total": "UPDATE statement SET total = 100",
    "delete of a line": "DELETE FROM statement_line",
    "truncate of the statements": "TRUNCATE statement CASCADE",
    "truncate of the lines": "TRUNCATE statement_line",
    "audit upsert": f"INSERT INTO audit_log ({AUDIT_COLUMNS}) SELECT id, at, actor_key, 'nothing', record_type, "
    "record_key, changed_fields, seq, entry_hash, anchor FROM audit_log WHERE seq = 2 "
    "ON CONFLICT (id) DO UPDATE SET action = 'nothing'",
    "audit entry outside the chain": "INSERT INTO audit_log (id, at, action, record_type, changed_fields) "
    "VALUES ('raw', '2024-01-01 00:00:00+00', 'update', 'family', '[]')",
    "audit delete": "DELETE FROM audit_log WHERE seq = 2",
}


@pytest.fixture
def pg_issued(postgres_url):
    from models.db import make_engine, migrate
    from services.uow import unit_of_work_factory
    from tests.programme_fixture import load_example

    engine = make_engine(postgres_url)
    migrate(engine)
    programme = load_example(unit_of_work_factory(engine))
    for month in ("2025-01", "2025-02", "2025-03"):
        issue_statement(programme.uow(), programme.administrator, "ap-2025", month)
    yield engine
    engine.dispose()


def pg_snapshot(engine) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
                     for table in ("statement", "statement_line", "audit_log"))


@pytest.mark.parametrize("forgery", PG_FORGERIES)
def test_each_forged_write_is_refused_by_postgresqls_triggers(pg_issued, forgery):
    before = pg_snapshot(pg_issued)
    assert verify(pg_issued).ok and verify(pg_issued).statements == 3
    assert before[1]  # lines to forge from
    with pytest.raises(Exception, match="frozen|journal d'audit"):
        with pg_issued.begin() as conn:
            conn.execute(text(PG_FORGERIES[forgery]))
    assert pg_snapshot(pg_issued) == before


def test_with_postgresqls_triggers_disabled_a_changed_total_is_named(pg_issued):
    with pg_issued.begin() as conn:
        conn.execute(text("ALTER TABLE statement DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE statement SET total = 1 WHERE number = 'ap-2025-002'"))
        conn.execute(text("ALTER TABLE statement ENABLE TRIGGER USER"))
    report = verify(pg_issued)
    assert not report.ok and report.problems[0].startswith("L'état ap-2025-002 ")
