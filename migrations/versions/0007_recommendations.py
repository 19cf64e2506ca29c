"""Recommendations and their follow-up.

A recommendation belongs to an activity, has a code built from it (TM-2022-07/R3),
thematic tags, a priority, a target date and an optional predecessor that it supersedes
or re-endorses. Each addressee (a state, an organisation or the secretariat) follows it
up in its own versioned follow-up; status updates form an append-only timeline with
evidence (links and files), and a move to "implemented" waits for validation.

Revision ID: 0007_recommendations
Revises: 0006_documents
Create Date: 2026-11-23 14:30:09.583162

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_recommendations'
down_revision = '0006_documents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('priority', sa.Enum('high', 'medium', 'low', name='priority', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('to_all_members', sa.Boolean(), nullable=False),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=True),
    sa.Column('lineage', sa.Enum('supersedes', 're_endorses', name='lineage', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(predecessor_id IS NULL) = (lineage IS NULL)', name=op.f('ck_recommendations_lineage_with_predecessor')),
    sa.CheckConstraint('predecessor_id <> id', name=op.f('ck_recommendations_not_its_own_predecessor')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_recommendations_activity_id_activities')),
    sa.ForeignKeyConstraint(['predecessor_id'], ['recommendations.id'], name=op.f('fk_recommendations_predecessor_id_recommendations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendations')),
    sa.UniqueConstraint('activity_id', 'number', name=op.f('uq_recommendations_activity_id_number')),
    sa.UniqueConstraint('code', name=op.f('uq_recommendations_code'))
    )
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.create_index('ix_recommendations_predecessor_id', ['predecessor_id'], unique=False)
        batch_op.create_index('ix_recommendations_target_date', ['target_date'], unique=False)

    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('for_secretariat', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'partially_implemented', 'implemented', 'not_applicable', name='follow_up_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=True),
    sa.Column('last_update_at', sa.DateTime(), nullable=True),
    sa.Column('next_review_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('pending_update_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('(CASE WHEN state_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN for_secretariat THEN 1 ELSE 0 END) = 1', name=op.f('ck_follow_ups_one_addressee')),
    sa.CheckConstraint('progress IS NULL OR progress BETWEEN 0 AND 100', name=op.f('ck_follow_ups_progress_range')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_follow_ups_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_follow_ups_recommendation_id_recommendations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_follow_ups_state_id_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    sa.UniqueConstraint('recommendation_id', 'organisation_id', name=op.f('uq_follow_ups_recommendation_id_organisation_id')),
    sa.UniqueConstraint('recommendation_id', 'state_id', name=op.f('uq_follow_ups_recommendation_id_state_id'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_follow_ups_organisation_id', ['organisation_id'], unique=False)
        batch_op.create_index('ix_follow_ups_state_id_status_next_review_date', ['state_id', 'status', 'next_review_date'], unique=False)
        batch_op.create_index('ix_follow_ups_status_next_review_date', ['status', 'next_review_date'], unique=False)
        batch_op.create_index('ix_follow_ups_status_recommendation_id', ['status', 'recommendation_id'], unique=False)
        batch_op.create_index('ix_follow_ups_state_id_recommendation_id', ['state_id', 'recommendation_id'], unique=False)

    op.create_table('recommendation_themes',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_recommendation_themes_recommendation_id_recommendations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recommendation_id', 'code', name=op.f('pk_recommendation_themes'))
    )
    with op.batch_alter_table('recommendation_themes', schema=None) as batch_op:
        batch_op.create_index('ix_recommendation_themes_code', ['code'], unique=False)

    op.create_table('wording_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_wording_revisions_recommendation_id_recommendations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['users.id'], name=op.f('fk_wording_revisions_replaced_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wording_revisions'))
    )
    with op.batch_alter_table('wording_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_wording_revisions_recommendation_id', ['recommendation_id'], unique=False)

    op.create_table('status_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.Column('status_before', sa.Enum('not_started', 'in_progress', 'partially_implemented', 'implemented', 'not_applicable', name='status_before', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'partially_implemented', 'implemented', 'not_applicable', name='new_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=True),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('next_review_date', sa.Date(), nullable=True),
    sa.Column('validation', sa.Enum('pending', 'accepted', 'returned', name='validation', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('validated_by_id', sa.Integer(), nullable=True),
    sa.Column('validated_at', sa.DateTime(), nullable=True),
    sa.Column('validation_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_status_updates_author_id_users')),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_status_updates_follow_up_id_follow_ups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['validated_by_id'], ['users.id'], name=op.f('fk_status_updates_validated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_updates'))
    )
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.create_index('ix_status_updates_follow_up_id', ['follow_up_id'], unique=False)
        batch_op.create_index('ix_status_updates_validation_posted_at', ['validation', 'posted_at'], unique=False)

    # follow_ups and status_updates point at each other: this key comes once both exist.
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f('fk_follow_ups_pending_update_id_status_updates'),
            'status_updates', ['pending_update_id'], ['id'],
        )

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status_update_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('original_name', sa.String(length=200), nullable=True),
    sa.Column('stored_name', sa.String(length=80), nullable=True),
    sa.Column('content_type', sa.String(length=120), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.CheckConstraint('(url IS NULL) <> (stored_name IS NULL)', name=op.f('ck_evidence_link_or_file')),
    sa.ForeignKeyConstraint(['status_update_id'], ['status_updates.id'], name=op.f('fk_evidence_status_update_id_status_updates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_evidence_stored_name'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_status_update_id', ['status_update_id'], unique=False)



def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('fk_follow_ups_pending_update_id_status_updates'), type_='foreignkey'
        )

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_status_update_id')

    op.drop_table('evidence')
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_status_updates_validation_posted_at')
        batch_op.drop_index('ix_status_updates_follow_up_id')

    op.drop_table('status_updates')
    with op.batch_alter_table('wording_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_wording_revisions_recommendation_id')

    op.drop_table('wording_revisions')
    with op.batch_alter_table('recommendation_themes', schema=None) as batch_op:
        batch_op.drop_index('ix_recommendation_themes_code')

    op.drop_table('recommendation_themes')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_state_id_recommendation_id')
        batch_op.drop_index('ix_follow_ups_status_recommendation_id')
        batch_op.drop_index('ix_follow_ups_status_next_review_date')
        batch_op.drop_index('ix_follow_ups_state_id_status_next_review_date')
        batch_op.drop_index('ix_follow_ups_organisation_id')

    op.drop_table('follow_ups')
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_recommendations_target_date')
        batch_op.drop_index('ix_recommendations_predecessor_id')

    op.drop_table('recommendations')
