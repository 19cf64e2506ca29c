"""Calendar links kept as digests: users.calendar_token becomes calendar_token_hash.

The secret of a person's calendar address is kept as its SHA-256 only, so that a copy of
the database opens nobody's calendar. Existing secrets are hashed here, so the addresses
that calendar programs already subscribe to keep working; the account page can no longer
show them (it shows a new address once, when it is made).

Downgrading cannot recover a secret from its digest: the links made meanwhile are
dropped, and their owners make new ones.

Revision ID: 0014_calendar_token_hashes
Revises: 0013_signed_in_sessions
Create Date: 2026-11-26 12:05:10.000000

"""
import hashlib

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_calendar_token_hashes'
down_revision = '0013_signed_in_sessions'
branch_labels = None
depends_on = None

users = sa.table(
    'users',
    sa.column('id', sa.Integer()),
    sa.column('calendar_token', sa.String(64)),
    sa.column('calendar_token_hash', sa.String(64)),
)


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(users.c.id, users.c.calendar_token).where(users.c.calendar_token.is_not(None))
    ).all()
    for user_id, token in rows:
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(calendar_token_hash=hashlib.sha256(token.encode()).hexdigest())
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_calendar_token'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_users_calendar_token_hash'), ['calendar_token_hash'])
        batch_op.drop_column('calendar_token')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.VARCHAR(length=64), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_users_calendar_token_hash'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_users_calendar_token'), ['calendar_token'])
        batch_op.drop_column('calendar_token_hash')
