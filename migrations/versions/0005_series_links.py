"""Series of activities and links between them.

An activity may be module n of m of a series (the 4-module webinar series), and may
prepare, follow up on or build on another activity; a link is shown on both pages.

Revision ID: 0005_series_links
Revises: 0004_milestones
Create Date: 2026-11-22 14:16:47.649274

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005_series_links'
down_revision = '0004_milestones'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activity_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.Enum('prepares', 'follows_up_on', 'builds_on', name='activity_relation', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.CheckConstraint('source_id <> target_id', name=op.f('ck_activity_links_not_to_itself')),
    sa.ForeignKeyConstraint(['source_id'], ['activities.id'], name=op.f('fk_activity_links_source_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['activities.id'], name=op.f('fk_activity_links_target_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_links')),
    sa.UniqueConstraint('source_id', 'target_id', 'relation', name=op.f('uq_activity_links_source_id_target_id_relation'))
    )
    with op.batch_alter_table('activity_links', schema=None) as batch_op:
        batch_op.create_index('ix_activity_links_target_id', ['target_id'], unique=False)

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_title', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('series_position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('series_size', sa.Integer(), nullable=True))
        batch_op.create_index('ix_activities_series_title', ['series_title'], unique=False)



def downgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_series_title')
        batch_op.drop_column('series_size')
        batch_op.drop_column('series_position')
        batch_op.drop_column('series_title')

    with op.batch_alter_table('activity_links', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_links_target_id')

    op.drop_table('activity_links')
