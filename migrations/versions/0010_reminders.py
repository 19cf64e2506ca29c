"""Reminders.

The outbox of reminders (one row per subject, rule, period and recipient, which makes a
reminder planned once however many runs see it; summaries are rows too), the runs of the
reminder job, each rule's settings, the Process's timezone for reminders, and each person's
choice of how to receive each kind of reminder.

Revision ID: 0010_reminders
Revises: 0009_chair
Create Date: 2026-11-23 14:29:06.878125

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_reminders'
down_revision = '0009_chair'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reminder_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_clock'))
    )
    op.create_table('reminder_rule_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_rule_settings')),
    sa.UniqueConstraint('rule', name=op.f('uq_reminder_rule_settings_rule'))
    )
    op.create_table('reminder_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('now', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('next_run_at', sa.DateTime(), nullable=True),
    sa.Column('runner', sa.String(length=120), nullable=False),
    sa.Column('planned', sa.Integer(), nullable=False),
    sa.Column('digests', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_runs'))
    )
    with op.batch_alter_table('reminder_runs', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_runs_started_at', ['started_at'], unique=False)

    op.create_table('reminder_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('delivery', sa.Enum('immediately', 'daily', 'weekly', 'off', name='reminder_delivery', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_preferences')),
    sa.UniqueConstraint('user_id', 'rule', name=op.f('uq_reminder_preferences_user_id_rule'))
    )
    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'digest', name='reminder_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('subject_key', sa.String(length=80), nullable=False),
    sa.Column('period_key', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('delivery', sa.Enum('immediately', 'daily', 'weekly', 'off', name='reminder_delivery', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'pending', 'sent', 'in_digest', 'failed', 'off', name='reminder_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('link_endpoint', sa.String(length=80), nullable=True),
    sa.Column('link_values', sa.JSON(), nullable=True),
    sa.Column('link_label', sa.String(length=120), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('planned_at', sa.DateTime(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['reminders.id'], name=op.f('fk_reminders_digest_id_reminders')),
    sa.ForeignKeyConstraint(['run_id'], ['reminder_runs.id'], name=op.f('fk_reminders_run_id_reminder_runs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminders_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('subject_key', 'rule', 'period_key', 'user_id', name=op.f('uq_reminders_subject_key_rule_period_key_user_id'))
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index('ix_reminders_digest_id', ['digest_id'], unique=False)
        batch_op.create_index('ix_reminders_run_id', ['run_id'], unique=False)
        batch_op.create_index('ix_reminders_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_reminders_user_id_read_at', ['user_id', 'read_at'], unique=False)



def downgrade():
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_user_id_read_at')
        batch_op.drop_index('ix_reminders_status_next_attempt_at')
        batch_op.drop_index('ix_reminders_run_id')
        batch_op.drop_index('ix_reminders_digest_id')

    op.drop_table('reminders')
    op.drop_table('reminder_preferences')
    with op.batch_alter_table('reminder_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_runs_started_at')

    op.drop_table('reminder_runs')
    op.drop_table('reminder_rule_settings')
    op.drop_table('reminder_clock')
