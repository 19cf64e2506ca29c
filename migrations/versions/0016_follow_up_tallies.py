"""Follow-up figures kept on write; snapshot differences counted when taken; change counters.

- recommendation_tallies and follow_up_tallies hold how many follow-ups stand at each
  status (and with a move to implemented awaiting validation), per recommendation, and
  over the recommendations in force per addressee state (0: organisations and the
  secretariat) and per theme ("": every recommendation). They are filled here from the
  follow-ups; kpplan keeps them on every change (`flask kpplan recount --check` compares).
- snapshot_differences and snapshot_changes hold what changed between each snapshot and
  the one before it; filled by kpplan the first time a snapshot's page is read after this
  upgrade (and when each new snapshot is taken).
- change_counters counts the changes of the tables kept figures read, so that a figure is
  kept until one of them changes (in every worker).

Statuses are stored by their values without CHECK constraints: a new follow-up status
needs no migration of these tables.

Revision ID: 0016_follow_up_tallies
Revises: 0015_superseded_status
Create Date: 2026-11-26 14:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0016_follow_up_tallies"
down_revision = "0015_superseded_status"
branch_labels = None
depends_on = None


FILL_RECOMMENDATIONS = """
INSERT INTO recommendation_tallies (recommendation_id, status, pending, n)
SELECT recommendation_id, status, pending_update_id IS NOT NULL, count(*)
FROM follow_ups
GROUP BY recommendation_id, status, pending_update_id IS NOT NULL
"""

FILL_STATES = """
INSERT INTO follow_up_tallies (theme, state_id, status, pending, n)
SELECT '', coalesce(f.state_id, 0), f.status, f.pending_update_id IS NOT NULL, count(*)
FROM follow_ups f JOIN recommendations r ON r.id = f.recommendation_id
WHERE r.withdrawn_at IS NULL
GROUP BY coalesce(f.state_id, 0), f.status, f.pending_update_id IS NOT NULL
"""

FILL_THEMES = """
INSERT INTO follow_up_tallies (theme, state_id, status, pending, n)
SELECT t.code, coalesce(f.state_id, 0), f.status, f.pending_update_id IS NOT NULL, count(*)
FROM follow_ups f
JOIN recommendations r ON r.id = f.recommendation_id
JOIN recommendation_themes t ON t.recommendation_id = f.recommendation_id
WHERE r.withdrawn_at IS NULL
GROUP BY t.code, coalesce(f.state_id, 0), f.status, f.pending_update_id IS NOT NULL
"""


def upgrade():
    op.create_table('recommendation_tallies',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_recommendation_tallies_recommendation_id_recommendations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recommendation_id', 'status', 'pending', name=op.f('pk_recommendation_tallies'))
    )
    op.create_table('follow_up_tallies',
    sa.Column('theme', sa.String(length=20), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('theme', 'state_id', 'status', 'pending', name=op.f('pk_follow_up_tallies'))
    )
    op.create_table('snapshot_differences',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('follow_ups', sa.Integer(), nullable=False),
    sa.Column('implemented', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('to_implemented', sa.Integer(), nullable=False),
    sa.Column('other_changes', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('gone', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['review_snapshots.id'], name=op.f('fk_snapshot_differences_snapshot_id_review_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'state_id', name=op.f('pk_snapshot_differences'))
    )
    op.create_table('snapshot_changes',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=True),
    sa.Column('status_before', sa.String(length=32), nullable=True),
    sa.Column('pending_before', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_snapshot_changes_follow_up_id_follow_ups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snapshot_id'], ['review_snapshots.id'], name=op.f('fk_snapshot_changes_snapshot_id_review_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_snapshot_changes_state_id_states')),
    sa.PrimaryKeyConstraint('snapshot_id', 'follow_up_id', name=op.f('pk_snapshot_changes'))
    )
    with op.batch_alter_table('snapshot_changes', schema=None) as batch_op:
        batch_op.create_index('ix_snapshot_changes_follow_up_id', ['follow_up_id'], unique=False)
        batch_op.create_index('ix_snapshot_changes_snapshot_id_state_id', ['snapshot_id', 'state_id'], unique=False)
    op.create_table('change_counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_change_counters'))
    )

    for statement in (FILL_RECOMMENDATIONS, FILL_STATES, FILL_THEMES):
        op.execute(statement)


def downgrade():
    op.drop_table('change_counters')
    with op.batch_alter_table('snapshot_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshot_changes_snapshot_id_state_id')
        batch_op.drop_index('ix_snapshot_changes_follow_up_id')
    op.drop_table('snapshot_changes')
    op.drop_table('snapshot_differences')
    op.drop_table('follow_up_tallies')
    op.drop_table('recommendation_tallies')
