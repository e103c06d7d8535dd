"""sync: record versions, the server's change log and the laptops' outbox (issue 11)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

- `version` (1, +1 at each update: the ORM's version counter) on every table of a record (models.base.Record);
- server: `sync_clock` (one row, the last change number, 0), `sync_change` (the latest committed change of each
  synced record, by number), `sync_scope` (the families each device was sent), `sync_applied` (each pushed
  operation and its answer), `sync_audit` (the laptops' audit entries, stored unchanged with their receipt time,
  append-only as `audit_log` is);
- laptop: `sync_state`, `sync_outbox`, `sync_conflict` (models.sync says what each holds).

Plain ALTER TABLE ADD COLUMN with a server default (existing rows are at version 1): a batch copy would drop the
triggers of `statement` and `audit_log` and cannot run under the foreign keys (see 0004, 0012).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The tables of a models.base.Record as of this revision.
VERSIONED = ("action", "app_user", "child", "convention", "eps_meeting", "eps_situation", "family", "guardian",
             "home_session", "intervenant", "intervenant_history", "meeting", "orientation", "parcours", "partner",
             "programme", "statement", "statement_line", "tariff", "tariff_amendment")

SQLITE_TRIGGERS = (
    """CREATE TRIGGER sync_audit_no_update BEFORE UPDATE ON sync_audit
       BEGIN SELECT RAISE(ABORT, 'journal d''audit des portables : modification interdite'); END""",
    """CREATE TRIGGER sync_audit_no_delete BEFORE DELETE ON sync_audit
       BEGIN SELECT RAISE(ABORT, 'journal d''audit des portables : suppression interdite'); END""",
)
SQLITE_TRIGGER_NAMES = ("sync_audit_no_update", "sync_audit_no_delete")
POSTGRES_DDL = (
    """CREATE FUNCTION sync_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'journal d''audit des portables : modification interdite'; END IF;
         RAISE EXCEPTION 'journal d''audit des portables : suppression interdite';
       END $$""",
    "CREATE TRIGGER sync_audit_no_change BEFORE UPDATE OR DELETE ON sync_audit FOR EACH ROW "
    "EXECUTE FUNCTION sync_audit_guard()",
    "CREATE TRIGGER sync_audit_no_truncate BEFORE TRUNCATE ON sync_audit EXECUTE FUNCTION sync_audit_guard()",
)


def _moment(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(table, sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    op.create_table(
        'sync_clock',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_sync_clock_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_clock')),
    )
    op.execute("INSERT INTO sync_clock (id, last) VALUES (1, 0)")
    op.create_table(
        'sync_change',
        sa.Column('table_name', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('family_id', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('table_name', 'record_id', name=op.f('pk_sync_change')),
    )
    op.create_index('ix_sync_change_number', 'sync_change', ['number'], unique=True)
    op.create_index('ix_sync_change_family_id', 'sync_change', ['family_id'], unique=False)
    op.create_table(
        'sync_scope',
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('family_id', sa.String(length=36), nullable=False),
        sa.Column('family_key', sa.String(length=64), nullable=False),
        sa.Column('entered_at', sa.Integer(), nullable=False),
        sa.Column('left_at', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_sync_scope_user_id_app_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'family_id', name=op.f('pk_sync_scope')),
    )
    op.create_table(
        'sync_applied',
        sa.Column('operation_id', sa.String(length=36), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        _moment('applied_at'),
        sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_sync_applied_device_id_device'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('operation_id', name=op.f('pk_sync_applied')),
    )
    op.create_index('ix_sync_applied_device_sequence', 'sync_applied', ['device_id', 'sequence'], unique=False)
    op.create_table(
        'sync_audit',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        _moment('at'),
        sa.Column('actor_key', sa.String(length=64), nullable=True),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('record_type', sa.String(length=40), nullable=False),
        sa.Column('record_key', sa.String(length=64), nullable=True),
        sa.Column('changed_fields', sa.Text(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=True),
        sa.Column('entry_hash', sa.String(length=64), nullable=True),
        sa.Column('anchor', sa.String(length=64), nullable=True),
        _moment('received_at'),
        sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_sync_audit_device_id_device')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_audit')),
    )
    op.create_index('ix_sync_audit_device_seq', 'sync_audit', ['device_id', 'seq'], unique=False)

    op.create_table(
        'sync_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('server_url', sa.String(length=300), nullable=False),
        sa.Column('fingerprint', sa.String(length=100), nullable=True),
        sa.Column('device_key', sa.String(length=64), nullable=False),
        sa.Column('device_token', sa.Text(), nullable=False),
        sa.Column('user_key', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('cursor', sa.Integer(), nullable=False),
        sa.Column('next_sequence', sa.Integer(), nullable=False),
        _moment('enrolled_at'),
        _moment('last_sync_at', nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.CheckConstraint('id = 1', name=op.f('ck_sync_state_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_state')),
    )
    op.create_table(
        'sync_outbox',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('record_table', sa.String(length=40), nullable=False),
        sa.Column('record_key', sa.String(length=64), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=True),
        sa.Column('fields', sa.Text(), nullable=False),
        sa.Column('actor_key', sa.String(length=64), nullable=False),
        sa.Column('local_time', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('server_version', sa.Integer(), nullable=True),
        _moment('answered_at', nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_outbox')),
    )
    op.create_index('ix_sync_outbox_sequence', 'sync_outbox', ['sequence'], unique=True)
    op.create_index('ix_sync_outbox_status', 'sync_outbox', ['status'], unique=False)
    op.create_table(
        'sync_conflict',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('operation_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('record_table', sa.String(length=40), nullable=False),
        sa.Column('record_key', sa.String(length=64), nullable=False),
        sa.Column('fields', sa.Text(), nullable=False),
        sa.Column('server_version', sa.Integer(), nullable=True),
        sa.Column('operation', sa.Text(), nullable=False),
        _moment('detected_at'),
        _moment('resolved_at', nullable=True),
        sa.Column('resolved_by_key', sa.String(length=64), nullable=True),
        sa.Column('resolution', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflict')),
        sa.UniqueConstraint('operation_id', name=op.f('uq_sync_conflict_operation_id')),
    )

    dialect = op.get_bind().dialect.name
    for ddl in SQLITE_TRIGGERS if dialect == 'sqlite' else POSTGRES_DDL if dialect == 'postgresql' else ():
        op.execute(ddl)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    for table in ('sync_conflict', 'sync_outbox', 'sync_state', 'sync_audit', 'sync_applied', 'sync_scope',
                  'sync_change', 'sync_clock'):
        op.drop_table(table)
    if dialect == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS sync_audit_guard()')
    for table in VERSIONED:
        op.drop_column(table, 'version')
