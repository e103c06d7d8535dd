"""exception decision: a refused dérogation is recorded on the home session, no longer in its notes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Until now a refusal was appended to the session's notes as a line of text that the queue searched for. Sessions
refused that way keep that line in their notes; we do not parse it back (the text was free, the author a name),
so they would reappear in the queue: the upgrade marks as refused every session whose notes carry the old marker
« Dérogation refusée » and is not approved, without author (unknown) and with the reason left in the notes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD_MARK = "Dérogation refusée"


def upgrade() -> None:
    with op.batch_alter_table('home_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exception_refused', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('exception_decided_by_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('exception_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_home_session_exception_decided_by_id_app_user'), 'app_user',
                                    ['exception_decided_by_id'], ['id'])
    op.get_bind().execute(sa.text("UPDATE home_session SET exception_refused = TRUE "
                                  "WHERE approved_exception = FALSE AND notes LIKE :marked"),
                          {"marked": f"%{OLD_MARK}%"})


def downgrade() -> None:
    # Back to the old way: a refusal made since this revision becomes a line of the notes again.
    op.get_bind().execute(sa.text(
        "UPDATE home_session SET notes = CASE WHEN notes IS NULL THEN :line ELSE notes || :newline || :line END "
        "|| COALESCE(exception_reason, '') "
        "WHERE exception_refused = TRUE AND (notes IS NULL OR notes NOT LIKE :marked)"),
        {"line": f"{OLD_MARK} : ", "newline": "\n", "marked": f"%{OLD_MARK}%"})
    with op.batch_alter_table('home_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_home_session_exception_decided_by_id_app_user'), type_='foreignkey')
        batch_op.drop_column('exception_reason')
        batch_op.drop_column('exception_decided_by_id')
        batch_op.drop_column('exception_refused')
