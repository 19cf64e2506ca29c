"""Review snapshots of follow-up at Senior Officials' Meetings.

A snapshot freezes, at one Senior Officials' Meeting (one snapshot per meeting), the
status of every follow-up of the recommendations in force: one entry per follow-up with
its addressee state, its counted status and whether a move to implemented awaited
validation. The Chair's review compares two snapshots state by state.

Revision ID: 0011_review
Revises: 0010_reminders
Create Date: 2026-11-23 14:46:36.076017

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_review'
down_revision = '0010_reminders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=True),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_review_snapshots_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], name=op.f('fk_review_snapshots_taken_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_snapshots')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_review_snapshots_activity_id'))
    )
    op.create_table('snapshot_entries',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'partially_implemented', 'implemented', 'not_applicable', name='follow_up_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_snapshot_entries_follow_up_id_follow_ups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snapshot_id'], ['review_snapshots.id'], name=op.f('fk_snapshot_entries_snapshot_id_review_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_snapshot_entries_state_id_states')),
    sa.PrimaryKeyConstraint('snapshot_id', 'follow_up_id', name=op.f('pk_snapshot_entries'))
    )
    with op.batch_alter_table('snapshot_entries', schema=None) as batch_op:
        batch_op.create_index('ix_snapshot_entries_follow_up_id', ['follow_up_id'], unique=False)
        batch_op.create_index('ix_snapshot_entries_snapshot_id_state_id', ['snapshot_id', 'state_id'], unique=False)


def downgrade():
    with op.batch_alter_table('snapshot_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshot_entries_snapshot_id_state_id')
        batch_op.drop_index('ix_snapshot_entries_follow_up_id')

    op.drop_table('snapshot_entries')
    op.drop_table('review_snapshots')
