"""family records: a family file can be closed (date and reason), a parcours records its planned actions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Families, guardians, children and parcours are now created and edited in the window (services.family_records), not
only imported. Closing a family keeps its file (retention anonymises it once its period is over); `actions` holds
the actions planned in a child's parcours next to its objectives. Only nullable columns: existing rows are unchanged.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('family', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('closed_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('parcours', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actions', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('parcours', schema=None) as batch_op:
        batch_op.drop_column('actions')
    with op.batch_alter_table('family', schema=None) as batch_op:
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('closed_on')
