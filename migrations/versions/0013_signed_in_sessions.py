"""Signed-in sessions kept on the server, so that signing out ends the session.

Each sign-in records a row with the SHA-256 of a random secret that the session cookie
carries; signing out deletes it, and a copy of the cookie then signs nobody in. Sessions
opened before this revision have no such secret: everyone signs in once more after it.

Revision ID: 0013_signed_in_sessions
Revises: 0012_participants
Create Date: 2026-11-26 11:52:51.385590

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013_signed_in_sessions'
down_revision = '0012_participants'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signed_in_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_in_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signed_in_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signed_in_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_signed_in_sessions_key_hash'))
    )
    with op.batch_alter_table('signed_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signed_in_sessions_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_signed_in_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('signed_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signed_in_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_signed_in_sessions_last_seen_at'))

    op.drop_table('signed_in_sessions')
