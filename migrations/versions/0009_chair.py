"""Chairmanships of the Process and their work plans.

A chairmanship is a member state's term as Chair (start, end, the Senior Officials'
Meeting at which it took over); its work plan holds items (a kind of activity on a theme,
by a target day or quarter, with lead and host states), and the activities that deliver
each item.

Revision ID: 0009_chair
Revises: 0007_recommendations
Create Date: 2026-11-23 14:30:26.407758

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009_chair'
down_revision = '0007_recommendations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chairmanships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('handover_activity_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR (start_date IS NOT NULL AND end_date >= start_date)', name=op.f('ck_chairmanships_period_in_order')),
    sa.ForeignKeyConstraint(['handover_activity_id'], ['activities.id'], name=op.f('fk_chairmanships_handover_activity_id_activities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_chairmanships_state_id_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chairmanships'))
    )
    with op.batch_alter_table('chairmanships', schema=None) as batch_op:
        batch_op.create_index('ix_chairmanships_start_date', ['start_date'], unique=False)
        batch_op.create_index('ix_chairmanships_state_id', ['state_id'], unique=False)

    op.create_table('work_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chairmanship_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['chairmanship_id'], ['chairmanships.id'], name=op.f('fk_work_plans_chairmanship_id_chairmanships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_plans')),
    sa.UniqueConstraint('chairmanship_id', name=op.f('uq_work_plans_chairmanship_id'))
    )
    op.create_table('work_plan_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('steering_committee', 'senior_officials', 'ministerial', 'thematic_meeting', 'thematic_workshop', 'training', 'webinar', 'virtual_roundtable', 'working_group', name='activity_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('theme', sa.String(length=300), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('target_precision', sa.Enum('day', 'quarter', name='target_precision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('lead_state_id', sa.Integer(), nullable=True),
    sa.Column('host_state_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('dropped_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("dropped_reason IS NULL OR dropped_reason <> ''", name=op.f('ck_work_plan_items_dropped_with_reason')),
    sa.ForeignKeyConstraint(['host_state_id'], ['states.id'], name=op.f('fk_work_plan_items_host_state_id_states')),
    sa.ForeignKeyConstraint(['lead_state_id'], ['states.id'], name=op.f('fk_work_plan_items_lead_state_id_states')),
    sa.ForeignKeyConstraint(['work_plan_id'], ['work_plans.id'], name=op.f('fk_work_plan_items_work_plan_id_work_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_plan_items'))
    )
    with op.batch_alter_table('work_plan_items', schema=None) as batch_op:
        batch_op.create_index('ix_work_plan_items_work_plan_id', ['work_plan_id'], unique=False)

    op.create_table('work_plan_item_activities',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_work_plan_item_activities_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['work_plan_items.id'], name=op.f('fk_work_plan_item_activities_item_id_work_plan_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'activity_id', name=op.f('pk_work_plan_item_activities'))
    )
    with op.batch_alter_table('work_plan_item_activities', schema=None) as batch_op:
        batch_op.create_index('ix_work_plan_item_activities_activity_id', ['activity_id'], unique=False)



def downgrade():
    with op.batch_alter_table('work_plan_item_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_work_plan_item_activities_activity_id')

    op.drop_table('work_plan_item_activities')
    with op.batch_alter_table('work_plan_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_plan_items_work_plan_id')

    op.drop_table('work_plan_items')
    op.drop_table('work_plans')
    with op.batch_alter_table('chairmanships', schema=None) as batch_op:
        batch_op.drop_index('ix_chairmanships_state_id')
        batch_op.drop_index('ix_chairmanships_start_date')

    op.drop_table('chairmanships')
