"""Activities, with the roles of states and organisations in them.

The calendar of the Process: kind, dates, place, format, status, figures and outcomes
of each activity; which member state hosts, co-hosts, chairs or co-chairs it; which
organisations organise, partner, speak or implement.

Revision ID: 0002_activities
Revises: 0001_directory
Create Date: 2026-11-22 14:03:37.660122

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002_activities'
down_revision = '0001_directory'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('steering_committee', 'senior_officials', 'ministerial', 'thematic_meeting', 'thematic_workshop', 'training', 'webinar', 'virtual_roundtable', 'working_group', name='activity_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('theme', sa.String(length=300), nullable=True),
    sa.Column('objectives', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('country_id', sa.Integer(), nullable=True),
    sa.Column('venue', sa.String(length=200), nullable=True),
    sa.Column('format', sa.Enum('in_person', 'virtual', 'hybrid', name='activity_format', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('languages', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('draft', 'planned', 'confirmed', 'held', 'closed', 'postponed', 'cancelled', name='activity_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('countries_represented', sa.Integer(), nullable=True),
    sa.Column('organisations_represented', sa.Integer(), nullable=True),
    sa.Column('outcome_summary', sa.Text(), nullable=True),
    sa.Column('conclusions', sa.Text(), nullable=True),
    sa.Column('action_points', sa.Text(), nullable=True),
    sa.Column('record_note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['country_id'], ['states.id'], name=op.f('fk_activities_country_id_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_kind_start_date', ['kind', 'start_date'], unique=False)
        batch_op.create_index('ix_activities_start_date', ['start_date'], unique=False)
        batch_op.create_index('ix_activities_status_start_date', ['status', 'start_date'], unique=False)

    op.create_table('activity_organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('organiser', 'partner', 'speaker', 'implementing', name='org_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_organisations_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_activity_organisations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_organisations')),
    sa.UniqueConstraint('activity_id', 'organisation_id', 'role', name=op.f('uq_activity_organisations_activity_id_organisation_id_role'))
    )
    with op.batch_alter_table('activity_organisations', schema=None) as batch_op:
        batch_op.create_index('ix_activity_organisations_organisation_id', ['organisation_id'], unique=False)

    op.create_table('activity_state_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('host', 'co_host', 'chair', 'co_chair', name='state_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_state_roles_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_activity_state_roles_state_id_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_state_roles')),
    sa.UniqueConstraint('activity_id', 'state_id', 'role', name=op.f('uq_activity_state_roles_activity_id_state_id_role'))
    )
    with op.batch_alter_table('activity_state_roles', schema=None) as batch_op:
        batch_op.create_index('ix_activity_state_roles_state_id_role', ['state_id', 'role'], unique=False)



def downgrade():
    with op.batch_alter_table('activity_state_roles', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_state_roles_state_id_role')

    op.drop_table('activity_state_roles')
    with op.batch_alter_table('activity_organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_organisations_organisation_id')

    op.drop_table('activity_organisations')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_status_start_date')
        batch_op.drop_index('ix_activities_start_date')
        batch_op.drop_index('ix_activities_kind_start_date')

    op.drop_table('activities')
