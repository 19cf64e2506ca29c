"""Invitations, delegations and attendance.

An activity's invitation list (seats per delegation, nomination deadline, when it was sent,
and the figures counted from its attendance, kept after the delegates are erased); one
invitation per delegation, a member state or an organisation, with its answer; and the
delegates each delegation names, with their decision and whether they came.

Revision ID: 0012_participants
Revises: 0011_review
Create Date: 2026-11-26 11:39:41.465886

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012_participants'
down_revision = '0011_review'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('seats_per_delegation', sa.Integer(), nullable=True),
    sa.Column('nomination_deadline', sa.Date(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('attendance_taken_at', sa.DateTime(), nullable=True),
    sa.Column('attended', sa.Integer(), nullable=True),
    sa.Column('countries', sa.Integer(), nullable=True),
    sa.Column('organisations', sa.Integer(), nullable=True),
    sa.Column('women', sa.Integer(), nullable=True),
    sa.Column('erased_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('seats_per_delegation IS NULL OR seats_per_delegation > 0', name=op.f('ck_invitation_lists_seats_positive')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_invitation_lists_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_invitation_lists_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_lists')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_invitation_lists_activity_id'))
    )
    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Enum('awaiting', 'accepted', 'declined', name='invitation_answer', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('decline_reason', sa.String(length=300), nullable=True),
    sa.Column('attended', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(state_id IS NULL) <> (organisation_id IS NULL)', name=op.f('ck_invitations_state_or_organisation')),
    sa.ForeignKeyConstraint(['list_id'], ['invitation_lists.id'], name=op.f('fk_invitations_list_id_invitation_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_invitations_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_invitations_state_id_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('list_id', 'organisation_id', name=op.f('uq_invitations_list_id_organisation_id')),
    sa.UniqueConstraint('list_id', 'state_id', name=op.f('uq_invitations_list_id_state_id'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index('ix_invitations_organisation_id', ['organisation_id'], unique=False)
        batch_op.create_index('ix_invitations_state_id', ['state_id'], unique=False)

    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('function', sa.String(length=200), nullable=True),
    sa.Column('institution', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('gender', sa.Enum('female', 'male', 'other', 'not_given', name='participant_gender', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('visa_letter', sa.Boolean(), nullable=False),
    sa.Column('interpretation', sa.String(length=100), nullable=True),
    sa.Column('other_needs', sa.String(length=500), nullable=True),
    sa.Column('status', sa.Enum('nominated', 'confirmed', 'waitlisted', 'refused', 'withdrawn', name='participant_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=False),
    sa.Column('nominated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_participants_invitation_id_invitations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nominated_by_id'], ['users.id'], name=op.f('fk_participants_nominated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants'))
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index('ix_participants_invitation_id_status', ['invitation_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_invitation_id_status')

    op.drop_table('participants')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invitations_state_id')
        batch_op.drop_index('ix_invitations_organisation_id')

    op.drop_table('invitations')
    op.drop_table('invitation_lists')
