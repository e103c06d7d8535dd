"""devices: the computers enrolled on the team server, each with a revocable token (issue 10)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

`device` (key, label, user, token_hash, created_at, last_seen_at, revoked_at): a computer enrolled by a user's login
(services.devices). Only the SHA-256 of its token is stored, unique, so a request's token is found by its hash.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'device',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_device_user_id_app_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
        sa.UniqueConstraint('key', name=op.f('uq_device_key')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_device_token_hash')),
    )
    op.create_index(op.f('ix_device_user_id'), 'device', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_device_user_id'), table_name='device')
    op.drop_table('device')
