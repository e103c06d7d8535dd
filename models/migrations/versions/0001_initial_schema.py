"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('action',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action')),
    sa.UniqueConstraint('name', name=op.f('uq_action_name'))
    )
    op.create_table('app_user',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('referent', 'coordinator', 'administrator')", name=op.f('ck_app_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('key', name=op.f('uq_app_user_key'))
    )
    op.create_table('eps_meeting',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eps_meeting')),
    sa.UniqueConstraint('key', name=op.f('uq_eps_meeting_key'))
    )
    op.create_table('partner',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner')),
    sa.UniqueConstraint('key', name=op.f('uq_partner_key'))
    )
    op.create_table('programme',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('holiday_zone', sa.String(length=1), nullable=False),
    sa.Column('eligible_communes', sa.JSON(), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("holiday_zone IN ('A', 'B', 'C')", name=op.f('ck_programme_holiday_zone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme'))
    )
    op.create_table('convention',
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('action_id', sa.String(length=36), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('max_families', sa.Integer(), nullable=True),
    sa.Column('budget_cap', sa.Integer(), nullable=True),
    sa.Column('period_end_months', sa.JSON(), nullable=False),
    sa.Column('budget_imputation', sa.Text(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('budget_cap IS NULL OR budget_cap >= 0', name=op.f('ck_convention_budget_cap')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_convention_period')),
    sa.CheckConstraint('max_families IS NULL OR max_families >= 0', name=op.f('ck_convention_max_families')),
    sa.ForeignKeyConstraint(['action_id'], ['action.id'], name=op.f('fk_convention_action_id_action')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_convention_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convention')),
    sa.UniqueConstraint('key', name=op.f('uq_convention_key'))
    )
    op.create_table('family',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('commune', sa.String(length=120), nullable=False),
    sa.Column('priority_neighbourhood', sa.Boolean(), nullable=False),
    sa.Column('referent_id', sa.String(length=36), nullable=True),
    sa.Column('consent_date', sa.Date(), nullable=True),
    sa.Column('consent_scope', sa.String(length=300), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referent_id'], ['app_user.id'], name=op.f('fk_family_referent_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family')),
    sa.UniqueConstraint('key', name=op.f('uq_family_key'))
    )
    with op.batch_alter_table('family', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_referent_id'), ['referent_id'], unique=False)

    op.create_table('intervenant',
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('qualification', sa.String(length=4), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("qualification IN ('AES', 'TISF')", name=op.f('ck_intervenant_qualification')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_intervenant_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervenant')),
    sa.UniqueConstraint('key', name=op.f('uq_intervenant_key'))
    )
    with op.batch_alter_table('intervenant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intervenant_partner_id'), ['partner_id'], unique=False)

    op.create_table('child',
    sa.Column('family_id', sa.String(length=36), nullable=False),
    sa.Column('first_name', sa.String(length=120), nullable=False),
    sa.Column('last_name', sa.String(length=120), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('school', sa.String(length=200), nullable=True),
    sa.Column('school_class', sa.String(length=40), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sex IS NULL OR sex IN ('F', 'M')", name=op.f('ck_child_sex')),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_child_family_id_family'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_child')),
    sa.UniqueConstraint('key', name=op.f('uq_child_key'))
    )
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_child_family_id'), ['family_id'], unique=False)

    op.create_table('eps_situation',
    sa.Column('eps_meeting_id', sa.String(length=36), nullable=False),
    sa.Column('family_id', sa.String(length=36), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['eps_meeting_id'], ['eps_meeting.id'], name=op.f('fk_eps_situation_eps_meeting_id_eps_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_eps_situation_family_id_family')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eps_situation'))
    )
    with op.batch_alter_table('eps_situation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eps_situation_eps_meeting_id'), ['eps_meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_eps_situation_family_id'), ['family_id'], unique=False)

    op.create_table('guardian',
    sa.Column('family_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('relationship_to_child', sa.String(length=60), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_guardian_family_id_family'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardian'))
    )
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_family_id'), ['family_id'], unique=False)

    op.create_table('home_session',
    sa.Column('family_id', sa.String(length=36), nullable=False),
    sa.Column('intervenant_id', sa.String(length=36), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('referent_present', sa.Boolean(), nullable=False),
    sa.Column('children_present', sa.Integer(), nullable=True),
    sa.Column('approved_exception', sa.Boolean(), nullable=False),
    sa.Column('approved_by_id', sa.String(length=36), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('held', 'cancelled', 'family_absent')", name=op.f('ck_home_session_status')),
    sa.CheckConstraint('children_present IS NULL OR children_present >= 0', name=op.f('ck_home_session_children_present')),
    sa.CheckConstraint('duration_minutes > 0 AND duration_minutes <= 1440', name=op.f('ck_home_session_duration')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['app_user.id'], name=op.f('fk_home_session_approved_by_id_app_user')),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_home_session_family_id_family')),
    sa.ForeignKeyConstraint(['intervenant_id'], ['intervenant.id'], name=op.f('fk_home_session_intervenant_id_intervenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_session')),
    sa.UniqueConstraint('key', name=op.f('uq_home_session_key'))
    )
    with op.batch_alter_table('home_session', schema=None) as batch_op:
        batch_op.create_index('ix_home_session_date', ['date'], unique=False)
        batch_op.create_index('ix_home_session_family_date', ['family_id', 'date'], unique=False)
        batch_op.create_index('ix_home_session_intervenant_date', ['intervenant_id', 'date'], unique=False)

    op.create_table('meeting',
    sa.Column('convention_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('launch', 'period_end')", name=op.f('ck_meeting_kind')),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], name=op.f('fk_meeting_convention_id_convention')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting')),
    sa.UniqueConstraint('key', name=op.f('uq_meeting_key'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_convention_id'), ['convention_id'], unique=False)

    op.create_table('orientation',
    sa.Column('family_id', sa.String(length=36), nullable=False),
    sa.Column('convention_id', sa.String(length=36), nullable=False),
    sa.Column('eps_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decided_by_id', sa.String(length=36), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('proposed', 'validated', 'rejected', 'ended')", name=op.f('ck_orientation_status')),
    sa.CheckConstraint('decided_on IS NULL OR decided_on >= eps_date', name=op.f('ck_orientation_decided_after_eps')),
    sa.CheckConstraint('end_date IS NULL OR decided_on IS NULL OR end_date >= decided_on', name=op.f('ck_orientation_end_after_decision')),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], name=op.f('fk_orientation_convention_id_convention')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_orientation_decided_by_id_app_user')),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_orientation_family_id_family')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orientation')),
    sa.UniqueConstraint('key', name=op.f('uq_orientation_key'))
    )
    with op.batch_alter_table('orientation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orientation_convention_id'), ['convention_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orientation_family_id'), ['family_id'], unique=False)

    op.create_table('statement',
    sa.Column('convention_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=80), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.String(length=36), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('sequence >= 1', name=op.f('ck_statement_sequence')),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], name=op.f('fk_statement_convention_id_convention')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['app_user.id'], name=op.f('fk_statement_issued_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement')),
    sa.UniqueConstraint('convention_id', 'month', name='uq_statement_month'),
    sa.UniqueConstraint('convention_id', 'sequence', name='uq_statement_sequence'),
    sa.UniqueConstraint('number', name=op.f('uq_statement_number'))
    )
    op.create_table('tariff',
    sa.Column('convention_id', sa.String(length=36), nullable=False),
    sa.Column('qualification', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('home_intervention', 'weekly_preparation', 'launch_meeting', 'period_end_meeting')", name=op.f('ck_tariff_kind')),
    sa.CheckConstraint("qualification IN ('AES', 'TISF')", name=op.f('ck_tariff_qualification')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_tariff_unit_price')),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'], name=op.f('fk_tariff_convention_id_convention'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff')),
    sa.UniqueConstraint('convention_id', 'qualification', 'kind', name='uq_tariff_line')
    )
    op.create_table('meeting_attendance',
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('intervenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['intervenant_id'], ['intervenant.id'], name=op.f('fk_meeting_attendance_intervenant_id_intervenant')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_attendance_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'intervenant_id', name=op.f('pk_meeting_attendance'))
    )
    op.create_table('parcours',
    sa.Column('child_id', sa.String(length=36), nullable=False),
    sa.Column('referent_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('objectives', sa.Text(), nullable=True),
    sa.Column('exit_reason', sa.Text(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('proposed', 'open', 'suspended', 'closed')", name=op.f('ck_parcours_status')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_parcours_period')),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], name=op.f('fk_parcours_child_id_child'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['referent_id'], ['app_user.id'], name=op.f('fk_parcours_referent_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcours')),
    sa.UniqueConstraint('key', name=op.f('uq_parcours_key'))
    )
    with op.batch_alter_table('parcours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parcours_child_id'), ['child_id'], unique=False)

    op.create_table('statement_line',
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('qualification', sa.String(length=4), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('home_intervention', 'weekly_preparation', 'launch_meeting', 'period_end_meeting')", name=op.f('ck_statement_line_kind')),
    sa.CheckConstraint("qualification IN ('AES', 'TISF')", name=op.f('ck_statement_line_qualification')),
    sa.ForeignKeyConstraint(['statement_id'], ['statement.id'], name=op.f('fk_statement_line_statement_id_statement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_line'))
    )
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_line_statement_id'), ['statement_id'], unique=False)

    

    # Issued statements are frozen: the database itself refuses to change them, even from raw SQL.
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE FUNCTION refuse_frozen() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'issued statements are frozen'; END $$ LANGUAGE plpgsql")
    for table in ("statement", "statement_line"):
        for verb in ("UPDATE", "DELETE"):
            if postgres:
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           "FOR EACH ROW EXECUTE FUNCTION refuse_frozen()")
            else:
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           "BEGIN SELECT RAISE(ABORT, 'issued statements are frozen'); END")


def downgrade() -> None:
    for table in ("statement", "statement_line"):
        for verb in ("update", "delete"):
            on_table = f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}{on_table}")
    if op.get_bind().dialect.name == "postgresql":  # else the next upgrade's CREATE FUNCTION finds it there
        op.execute("DROP FUNCTION IF EXISTS refuse_frozen()")
    
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_line_statement_id'))

    op.drop_table('statement_line')
    with op.batch_alter_table('parcours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parcours_child_id'))

    op.drop_table('parcours')
    op.drop_table('meeting_attendance')
    op.drop_table('tariff')
    op.drop_table('statement')
    with op.batch_alter_table('orientation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orientation_family_id'))
        batch_op.drop_index(batch_op.f('ix_orientation_convention_id'))

    op.drop_table('orientation')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_convention_id'))

    op.drop_table('meeting')
    with op.batch_alter_table('home_session', schema=None) as batch_op:
        batch_op.drop_index('ix_home_session_intervenant_date')
        batch_op.drop_index('ix_home_session_family_date')
        batch_op.drop_index('ix_home_session_date')

    op.drop_table('home_session')
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_family_id'))

    op.drop_table('guardian')
    with op.batch_alter_table('eps_situation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eps_situation_family_id'))
        batch_op.drop_index(batch_op.f('ix_eps_situation_eps_meeting_id'))

    op.drop_table('eps_situation')
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_child_family_id'))

    op.drop_table('child')
    with op.batch_alter_table('intervenant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intervenant_partner_id'))

    op.drop_table('intervenant')
    with op.batch_alter_table('family', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_referent_id'))

    op.drop_table('family')
    op.drop_table('convention')
    op.drop_table('programme')
    op.drop_table('partner')
    op.drop_table('eps_meeting')
    op.drop_table('app_user')
    op.drop_table('action')
    
