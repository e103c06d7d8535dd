"""tamper evidence: issued statements and the audit log refuse every write, and are hash-chained

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09

What 0001 and 0002 left open
----------------------------
Their triggers refuse UPDATE and DELETE, not INSERT: a line could be added to an issued statement, and SQLite's
`INSERT OR REPLACE` (a delete then an insert, which fires no DELETE trigger unless `recursive_triggers` is on)
rewrote a statement's total. Now:
- a statement carries its `line_count`; a BEFORE INSERT trigger on `statement_line` refuses a line whose
  position is outside 0…line_count−1 or already taken, so the lines of an issued statement are complete once
  `issue_statement` has inserted them (in the same transaction as the statement);
- BEFORE INSERT triggers refuse an INSERT that would collide with an existing statement, line or audit entry
  (REPLACE and UPSERT both start as an INSERT, whatever connection runs them, with or without the pragma that
  models.db now sets), and an audit entry or a statement without its hash;
- on PostgreSQL, TRUNCATE of statement and statement_line is refused too (audit_log's was, since 0002).

Triggers protect against the application and against mistakes, not against the owner of the file, who can drop
them. So each issued statement is chained to the previous one of its convention and each audit entry to the
previous entry (models.chain: a SHA-256 over the row's content and the previous hash); `check`
(services.integrity) recomputes the chains and names the first row that does not match. Existing rows get their
hashes here, in order (statements by convention and sequence, entries by time); the first existing entry starts
the chain.

Filling the new columns needs an UPDATE that 0001/0002's triggers refuse: on SQLite they are dropped and created
again, identical, inside this migration's transaction; on PostgreSQL they are disabled and enabled again.
Columns are added with plain ALTER TABLE (no batch copy: other tables reference `statement`).
"""
from alembic import op
import sqlalchemy as sa

from models.chain import GENESIS, audit_hash, statement_hash


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The UPDATE triggers of 0001 and 0002, as they were written there (SQLite has no ALTER TRIGGER … DISABLE).
SQLITE_UPDATE_TRIGGERS = {
    "statement_no_update": "CREATE TRIGGER statement_no_update BEFORE UPDATE ON statement "
                           "BEGIN SELECT RAISE(ABORT, 'issued statements are frozen'); END",
    "audit_log_no_update": """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'journal d''audit : modification interdite'); END""",
}
POSTGRES_UPDATE_TRIGGERS = {"statement_no_update": "statement", "audit_log_no_update": "audit_log"}

_STATEMENT_EXISTS = ("EXISTS (SELECT 1 FROM statement WHERE id = NEW.id OR number = NEW.number "
                     "OR (convention_id = NEW.convention_id AND (month = NEW.month OR sequence = NEW.sequence)))")
_LINE_EXISTS = ("EXISTS (SELECT 1 FROM statement_line WHERE id = NEW.id "
                "OR (statement_id = NEW.statement_id AND position = NEW.position))")

SQLITE_TRIGGERS = {
    "statement_no_overwrite": f"""CREATE TRIGGER statement_no_overwrite BEFORE INSERT ON statement
       WHEN NEW.chain_hash IS NULL OR {_STATEMENT_EXISTS}
       BEGIN SELECT RAISE(ABORT, 'issued statements are frozen: no overwrite, no statement without its hash'); END""",
    "statement_line_no_extra": f"""CREATE TRIGGER statement_line_no_extra BEFORE INSERT ON statement_line
       WHEN NEW.position < 0
         OR NEW.position >= COALESCE((SELECT line_count FROM statement WHERE id = NEW.statement_id), 0)
         OR {_LINE_EXISTS}
       BEGIN SELECT RAISE(ABORT, 'issued statements are frozen: their lines are complete'); END""",
    # A reused id is audit_log_no_overwrite's (0002) to refuse, with its own message.
    "audit_log_chained": """CREATE TRIGGER audit_log_chained BEFORE INSERT ON audit_log
       WHEN NOT EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
         AND (NEW.seq IS NULL OR NEW.entry_hash IS NULL OR EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq))
       BEGIN SELECT RAISE(ABORT, 'journal d''audit : entrée hors de la chaîne ou place déjà prise'); END""",
}

POSTGRES_DDL = (
    f"""CREATE FUNCTION statement_insert_guard() RETURNS trigger AS $$ BEGIN
         IF NEW.chain_hash IS NULL OR {_STATEMENT_EXISTS} THEN
           RAISE EXCEPTION 'issued statements are frozen: no overwrite, no statement without its hash';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER statement_no_overwrite BEFORE INSERT ON statement "
    "FOR EACH ROW EXECUTE FUNCTION statement_insert_guard()",
    f"""CREATE FUNCTION statement_line_insert_guard() RETURNS trigger AS $$
       DECLARE expected integer;
       BEGIN
         SELECT line_count INTO expected FROM statement WHERE id = NEW.statement_id;
         IF expected IS NULL OR NEW.position < 0 OR NEW.position >= expected OR {_LINE_EXISTS} THEN
           RAISE EXCEPTION 'issued statements are frozen: their lines are complete';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER statement_line_no_extra BEFORE INSERT ON statement_line "
    "FOR EACH ROW EXECUTE FUNCTION statement_line_insert_guard()",
    "CREATE TRIGGER statement_no_truncate BEFORE TRUNCATE ON statement EXECUTE FUNCTION refuse_frozen()",
    "CREATE TRIGGER statement_line_no_truncate BEFORE TRUNCATE ON statement_line EXECUTE FUNCTION refuse_frozen()",
    """CREATE FUNCTION audit_log_insert_guard() RETURNS trigger AS $$ BEGIN
         IF NEW.seq IS NULL OR NEW.entry_hash IS NULL THEN
           RAISE EXCEPTION 'journal d''audit : entrée hors de la chaîne ou place déjà prise';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER audit_log_chained BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_insert_guard()",
)
POSTGRES_TRIGGERS = {"statement_no_overwrite": "statement", "statement_line_no_extra": "statement_line",
                     "statement_no_truncate": "statement", "statement_line_no_truncate": "statement_line",
                     "audit_log_chained": "audit_log"}
POSTGRES_FUNCTIONS = ("statement_insert_guard", "statement_line_insert_guard", "audit_log_insert_guard")


def upgrade() -> None:
    op.add_column('statement', sa.Column('line_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('statement', sa.Column('chain_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('seq', sa.Integer(), nullable=True))
    op.add_column('audit_log', sa.Column('entry_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('anchor', sa.String(length=64), nullable=True))
    op.create_index('ix_statement_line_position', 'statement_line', ['statement_id', 'position'], unique=True)
    op.create_index('ix_audit_log_seq', 'audit_log', ['seq'], unique=True)
    postgres = op.get_bind().dialect.name == 'postgresql'
    _set_update_triggers(postgres, on=False)
    _chain_statements()
    _chain_audit_log()
    _set_update_triggers(postgres, on=True)
    if postgres:
        for ddl in POSTGRES_DDL:
            op.execute(ddl)
    else:
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)


def _set_update_triggers(postgres: bool, *, on: bool) -> None:
    if postgres:
        for name, table in POSTGRES_UPDATE_TRIGGERS.items():
            op.execute(f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} TRIGGER {name}")
        return
    for name, ddl in SQLITE_UPDATE_TRIGGERS.items():
        op.execute(ddl if on else f"DROP TRIGGER {name}")


def _chain_statements() -> None:
    bind = op.get_bind()
    previous: dict[str, str] = {}
    rows = bind.execute(sa.text(
        "SELECT id, convention_id, number, month, sequence, issued_at, total, payload, pdf_sha256 FROM statement "
        "ORDER BY convention_id, sequence")).all()
    for row in rows:
        lines = bind.execute(sa.text(
            "SELECT position, kind, qualification, quantity, unit_price, amount, month FROM statement_line "
            "WHERE statement_id = :id ORDER BY position"), {"id": row.id}).all()
        digest = statement_hash(
            previous.get(row.convention_id, GENESIS), convention_id=row.convention_id, number=row.number,
            month=row.month, sequence=row.sequence, issued_at=row.issued_at, total_cents=row.total,
            payload=row.payload, pdf_sha256=row.pdf_sha256, line_count=len(lines), lines=[tuple(l) for l in lines])
        bind.execute(sa.text("UPDATE statement SET line_count = :n, chain_hash = :h WHERE id = :id"),
                     {"n": len(lines), "h": digest, "id": row.id})
        previous[row.convention_id] = digest


def _chain_audit_log() -> None:
    bind = op.get_bind()
    previous = GENESIS
    rows = bind.execute(sa.text(
        "SELECT id, at, actor_key, action, record_type, record_key, changed_fields FROM audit_log "
        "ORDER BY at, id")).all()
    for seq, row in enumerate(rows, start=1):
        previous = audit_hash(previous, seq=seq, id=row.id, at=row.at, actor_key=row.actor_key, action=row.action,
                              record_type=row.record_type, record_key=row.record_key,
                              changed_fields=row.changed_fields, anchor=None)
        bind.execute(sa.text("UPDATE audit_log SET seq = :seq, entry_hash = :h WHERE id = :id"),
                     {"seq": seq, "h": previous, "id": row.id})


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, table in POSTGRES_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_audit_log_seq', table_name='audit_log')
    op.drop_index('ix_statement_line_position', table_name='statement_line')
    for column in ('anchor', 'entry_hash', 'seq'):
        op.drop_column('audit_log', column)
    for column in ('chain_hash', 'line_count'):
        op.drop_column('statement', column)
