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


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite ≥ 3.35 and PostgreSQL): a batch copy would drop and recreate `family`,
# which the foreign keys of its children, guardians and sessions forbid while the migration runs with them on.
def upgrade() -> None:
    op.add_column('family', sa.Column('closed_on', sa.Date(), nullable=True))
    op.add_column('family', sa.Column('closed_reason', sa.Text(), nullable=True))
    op.add_column('parcours', sa.Column('actions', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('parcours', 'actions')
    op.drop_column('family', 'closed_reason')
    op.drop_column('family', 'closed_on')
