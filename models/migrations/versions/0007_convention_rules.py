"""convention rules: the billing model of a convention is data (issue 9, conventions other than Atout Plus)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12

Four columns on `convention`, each with a server default equal to what billing did until now (Atout Plus), so
every existing convention, and every statement issued from it, reads the same:
- `sessions_per_week` (1): at most N billed home interventions per family and ISO week; NULL: no limit;
- `holidays_need_exception` (true): a session in the school holidays needs a coordinator's dérogation;
- `referent_at_first_session` (true): a first session without the référent is flagged;
- `home_unit` ('session'): a flat price per intervention; 'hour': per hour delivered, durations rounded up to
  `hour_rounding_minutes` (15) per session.

An hourly convention bills a new line kind, `home_hours` (quantity: the billed minutes). `statement_line`'s CHECK
on `kind` is widened to accept it. Only widened: every existing row satisfies the new constraint, no row is copied
or rewritten. On PostgreSQL the constraint is dropped and added again; on SQLite, which cannot alter a constraint,
the table's stored CREATE statement is edited in place (the procedure SQLite documents for a change that does not
touch what is on disk: https://www.sqlite.org/lang_altertable.html#otheralter) — no batch copy, the frozen
statements, their triggers and their hash chain are untouched.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('home_intervention', 'weekly_preparation', 'launch_meeting', 'period_end_meeting')"
NEW_KINDS = ("kind IN ('home_intervention', 'weekly_preparation', 'launch_meeting', 'period_end_meeting', "
             "'home_hours')")


def upgrade() -> None:
    op.add_column('convention', sa.Column('sessions_per_week', sa.Integer(), nullable=True, server_default='1'))
    op.add_column('convention', sa.Column('holidays_need_exception', sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    op.add_column('convention', sa.Column('referent_at_first_session', sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    op.add_column('convention', sa.Column('home_unit', sa.String(length=16), nullable=False,
                                          server_default='session'))
    op.add_column('convention', sa.Column('hour_rounding_minutes', sa.Integer(), nullable=False,
                                          server_default='15'))
    _statement_line_kinds(OLD_KINDS, NEW_KINDS)


def downgrade() -> None:
    _statement_line_kinds(NEW_KINDS, OLD_KINDS)
    for column in ('hour_rounding_minutes', 'home_unit', 'referent_at_first_session', 'holidays_need_exception',
                   'sessions_per_week'):
        op.drop_column('convention', column)


def _statement_line_kinds(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE statement_line DROP CONSTRAINT ck_statement_line_kind")
        op.execute(f"ALTER TABLE statement_line ADD CONSTRAINT ck_statement_line_kind CHECK ({new})")
        return
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'statement_line'"
                               ).scalar_one()
    if old not in sql:
        raise RuntimeError("statement_line: the CHECK on kind is not the expected one")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'statement_line'",
                             (sql.replace(old, new),))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
