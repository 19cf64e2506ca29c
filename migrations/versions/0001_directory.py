"""Directory, sign-in throttling and audit trail.

The foundation: states (the 40 member states and other countries), organisations, user
accounts with their roles, the counters that slow down repeated failed sign-ins, and the
audit trail of every change. Moments are stored as naive UTC (kpplan.db.UTCDateTime);
enums as VARCHAR with named CHECK constraints, so the same schema runs on SQLite and
PostgreSQL.

Revision ID: 0001_directory
Revises: 
Create Date: 2026-11-22 13:38:57.015152

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0001_directory'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('acronym', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.Enum('international', 'eu_institution', 'regional', 'ngo', 'academia', name='org_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_acronym', ['acronym'], unique=False)

    op.create_table('sign_in_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=254), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', sa.DateTime(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_throttles')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_sign_in_throttles_scope_key'))
    )
    op.create_table('states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('iso_code', sa.String(length=2), nullable=True),
    sa.Column('region', sa.Enum('africa', 'europe', 'other', name='region', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_member', sa.Boolean(), nullable=False),
    sa.Column('on_steering_committee', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('on_steering_committee = false OR is_member = true', name=op.f('ck_states_committee_members_only')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_states')),
    sa.UniqueConstraint('iso_code', name=op.f('uq_states_iso_code')),
    sa.UniqueConstraint('name', name=op.f('uq_states_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'secretariat', 'chair', 'focal_point', 'observer', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=True),
    sa.Column('is_alternate', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(role IN ('chair', 'focal_point')) = (state_id IS NOT NULL)", name=op.f('ck_users_state_matches_role')),
    sa.CheckConstraint("is_alternate = false OR role = 'focal_point'", name=op.f('ck_users_alternate_is_focal_point')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lower_case')),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_users_state_id_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_state_id_role', ['state_id', 'role'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_actor_id', ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_object', ['object_type', 'object_id', 'at'], unique=False)



def downgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_object')
        batch_op.drop_index('ix_audit_entries_at')
        batch_op.drop_index('ix_audit_entries_actor_id')

    op.drop_table('audit_entries')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_state_id_role')

    op.drop_table('users')
    op.drop_table('states')
    op.drop_table('sign_in_throttles')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_acronym')

    op.drop_table('organisations')
