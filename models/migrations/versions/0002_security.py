"""security: passwords and lockout on app_user, append-only audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Why the purge goes through a permit row rather than dropping the trigger for a while
-----------------------------------------------------------------------------------
`audit_log` refuses every UPDATE and every DELETE through triggers. Retention still requires deleting old
entries, so the DELETE trigger lets a row go only when `audit_purge_permit` (one row at most, `id = 1`) holds a
cutoff later than the row's `at`. The purge inserts the permit, deletes, removes the permit and writes its own
audit row, all in one transaction: other connections never see the permit, and a crash or a rollback takes it
away with everything else.

We preferred this to dropping and recreating the trigger inside the purge transaction because:
- the application never runs DDL at run time: the trigger text lives in this migration only, so it cannot
  drift from a copy kept in the purge code, and a future PostgreSQL role can own no table;
- the protection is never off: even while the permit exists, only rows older than its cutoff can be deleted,
  and a trigger refuses a permit whose cutoff is less than 180 days old (CNIL: keep traceability logs 6 months
  to 1 year), so the permit cannot be used to erase recent entries — the ones worth erasing to hide something;
- a bug that left the permit committed would still only expose entries past retention, whereas a bug between
  a DROP and a CREATE TRIGGER would leave the whole log unprotected.

`INSERT OR REPLACE` deletes the conflicting row without firing DELETE triggers (recursive_triggers is off), so
a third trigger refuses an INSERT whose id already exists. None of this stops someone able to run DDL on the
file (DROP TRIGGER): the triggers protect against the application and against mistakes, not against the
owner of the file; tamper evidence (hash chaining, off-machine copies) is for later.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'journal d''audit : modification interdite'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permit WHERE id = 1 AND OLD.at < cutoff)
       BEGIN SELECT RAISE(ABORT, 'journal d''audit : suppression interdite hors purge de conservation'); END""",
    """CREATE TRIGGER audit_log_no_overwrite BEFORE INSERT ON audit_log
       WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
       BEGIN SELECT RAISE(ABORT, 'journal d''audit : identifiant déjà utilisé'); END""",
    """CREATE TRIGGER audit_purge_permit_floor BEFORE INSERT ON audit_purge_permit
       WHEN NEW.cutoff > datetime('now', '-180 days')
       BEGIN SELECT RAISE(ABORT, 'journal d''audit : conservation minimale de 180 jours'); END""",
    """CREATE TRIGGER audit_purge_permit_no_update BEFORE UPDATE ON audit_purge_permit
       BEGIN SELECT RAISE(ABORT, 'journal d''audit : autorisation de purge non modifiable'); END""",
)
TRIGGER_NAMES = ("audit_log_no_update", "audit_log_no_delete", "audit_log_no_overwrite",
                 "audit_purge_permit_floor", "audit_purge_permit_no_update")

# The same rules for PostgreSQL (no INSERT OR REPLACE there; TRUNCATE, which skips row triggers, is refused).
POSTGRES_DDL = (
    """CREATE FUNCTION audit_log_guard() RETURNS trigger AS $$ BEGIN
         IF TG_OP = 'DELETE' THEN
           IF EXISTS (SELECT 1 FROM audit_purge_permit WHERE id = 1 AND OLD.at < cutoff) THEN RETURN OLD; END IF;
           RAISE EXCEPTION 'journal d''audit : suppression interdite hors purge de conservation';
         END IF;
         RAISE EXCEPTION 'journal d''audit : modification interdite';
       END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard()",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log EXECUTE FUNCTION audit_log_guard()",
    """CREATE FUNCTION audit_purge_permit_guard() RETURNS trigger AS $$ BEGIN
         IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'journal d''audit : autorisation de purge non modifiable'; END IF;
         IF NEW.cutoff > now() - interval '180 days' THEN
           RAISE EXCEPTION 'journal d''audit : conservation minimale de 180 jours';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER audit_purge_permit_floor BEFORE INSERT OR UPDATE ON audit_purge_permit "
    "FOR EACH ROW EXECUTE FUNCTION audit_purge_permit_guard()",
)


def upgrade() -> None:
    op.add_column('app_user', sa.Column('password_hash', sa.Text(), nullable=True))
    op.add_column('app_user', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('app_user', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.create_table('audit_log',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_key', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('record_type', sa.String(length=40), nullable=False),
    sa.Column('record_key', sa.String(length=64), nullable=True),
    sa.Column('changed_fields', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_table('audit_purge_permit',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('cutoff', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_purge_permit_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_purge_permit'))
    )
    dialect = op.get_bind().dialect.name
    for ddl in TRIGGERS if dialect == 'sqlite' else POSTGRES_DDL if dialect == 'postgresql' else ():
        op.execute(ddl)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for name in TRIGGER_NAMES:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    elif dialect == 'postgresql':  # dropping the tables drops their triggers
        op.execute('DROP FUNCTION IF EXISTS audit_log_guard, audit_purge_permit_guard CASCADE')
    op.drop_table('audit_purge_permit')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    for column in ('locked_until', 'failed_logins', 'password_hash'):
        op.drop_column('app_user', column)
