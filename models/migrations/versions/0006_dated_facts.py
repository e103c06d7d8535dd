"""dated facts: tariff avenants and the history of an intervenant's qualification and employer

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10

Billing read an intervenant's current qualification and partner and a convention's one tariff table, so a change
re-priced months already issued (issue 9, defects B and D). Two new tables, nothing rewritten:
- `tariff_amendment`: the tables of the convention's avenants, each in force from its `starts_on`. The existing
  `tariff` rows stay as they are and remain the first table, in force from the convention's start: every issued
  statement was computed with them and is recomputed with them.
- `intervenant_history`: (intervenant, from, qualification, partner). Each existing intervenant gets one row from
  the beginning (`starts_on` NULL) with its current qualification and partner: what billing read until now.

Only CREATE TABLE and INSERT: no batch copy (other tables reference `intervenant`), and the frozen statements and
their triggers are not touched.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tariff_amendment',
    sa.Column('convention_id', sa.String(length=36), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('qualification', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('home_intervention', 'weekly_preparation', 'launch_meeting', 'period_end_meeting')",
                       name=op.f('ck_tariff_amendment_kind')),
    sa.CheckConstraint("qualification IN ('AES', 'TISF')", name=op.f('ck_tariff_amendment_qualification')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_tariff_amendment_unit_price')),
    sa.ForeignKeyConstraint(['convention_id'], ['convention.id'],
                            name=op.f('fk_tariff_amendment_convention_id_convention'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_amendment')),
    sa.UniqueConstraint('convention_id', 'starts_on', 'qualification', 'kind', name='uq_tariff_amendment_line')
    )
    op.create_table('intervenant_history',
    sa.Column('intervenant_id', sa.String(length=36), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('qualification', sa.String(length=4), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("qualification IN ('AES', 'TISF')", name=op.f('ck_intervenant_history_qualification')),
    sa.ForeignKeyConstraint(['intervenant_id'], ['intervenant.id'],
                            name=op.f('fk_intervenant_history_intervenant_id_intervenant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_intervenant_history_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervenant_history')),
    sa.UniqueConstraint('intervenant_id', 'starts_on', name='uq_intervenant_history_start')
    )
    op.create_index(op.f('ix_intervenant_history_intervenant_id'), 'intervenant_history', ['intervenant_id'],
                    unique=False)
    # One row from the beginning per intervenant, with what billing read until now. The intervenant's id serves as
    # the row's id: unique, and the same on every machine that runs this migration.
    op.execute("INSERT INTO intervenant_history (id, created_at, updated_at, intervenant_id, starts_on, "
               "qualification, partner_id) SELECT id, created_at, updated_at, id, NULL, qualification, partner_id "
               "FROM intervenant")


def downgrade() -> None:
    op.drop_index(op.f('ix_intervenant_history_intervenant_id'), table_name='intervenant_history')
    op.drop_table('intervenant_history')
    op.drop_table('tariff_amendment')
