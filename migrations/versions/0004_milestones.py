"""Preparation milestones of each activity.

Each activity gets its own copy of its kind's timeline (concept note, invitations,
agenda, report...): a due date, an owner and the day it was done. Indexed by due date
and done date, which is how the reminders look for them.

Revision ID: 0004_milestones
Revises: 0003_calendar_token
Create Date: 2026-11-22 14:14:14.388644

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004_milestones'
down_revision = '0003_calendar_token'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_milestones_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_milestones_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestones'))
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index('ix_milestones_activity_id', ['activity_id'], unique=False)
        batch_op.create_index('ix_milestones_due_date_done_on', ['due_date', 'done_on'], unique=False)



def downgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_milestones_due_date_done_on')
        batch_op.drop_index('ix_milestones_activity_id')

    op.drop_table('milestones')
