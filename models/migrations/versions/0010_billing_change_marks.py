"""billing change marks: the months a draft must re-bill (issue 12)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

`billing_change_mark` (convention, month, onward, changes): the months of a convention whose data changed since its
last statement was issued (models.billing_marks). A draft re-bills only those issued months instead of the whole
history; issuing settles them.

An existing database may hold changes made since its last statement and never marked: every convention that has a
statement is marked from the beginning, so the first draft re-bills every issued month once, as before.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'billing_change_mark',
        sa.Column('convention_id', sa.String(length=36), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('onward', sa.Boolean(), nullable=False),
        sa.Column('changes', sa.Integer(), server_default='1', nullable=False),
        sa.ForeignKeyConstraint(['convention_id'], ['convention.id'],
                                name=op.f('fk_billing_change_mark_convention_id_convention'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('convention_id', 'month', 'onward', name=op.f('pk_billing_change_mark')),
    )
    op.execute("INSERT INTO billing_change_mark (convention_id, month, onward, changes) "
               "SELECT DISTINCT convention_id, '0000-01', true, 1 FROM statement")


def downgrade() -> None:
    op.drop_table('billing_change_mark')
