"""The follow-up status "superseded": set when a later recommendation supersedes.

The four columns that hold a follow-up status (the follow-up's, a status update's before
and after, a review snapshot entry's) are VARCHARs with a named CHECK constraint listing
the values; each constraint is dropped and created again with "superseded" added (batch
mode, so SQLite copies the table).

Downgrading cannot keep a status the older schema does not know: a superseded follow-up
goes back to the status it had before (read from the update that superseded it), those
updates are deleted (an update that reopened it starts from that status), and snapshot entries at "superseded" become "not applicable".

Revision ID: 0015_superseded_status
Revises: 0014_calendar_token_hashes
Create Date: 2026-11-26 14:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0015_superseded_status"
down_revision = "0014_calendar_token_hashes"
branch_labels = None
depends_on = None

BEFORE = ('not_started', 'in_progress', 'partially_implemented', 'implemented', 'not_applicable')
AFTER = (*BEFORE, 'superseded')

# (table, column, constraint name as the naming convention makes it)
STATUS_COLUMNS = (
    ('follow_ups', 'status', 'ck_follow_ups_follow_up_status'),
    ('status_updates', 'status_before', 'ck_status_updates_status_before'),
    ('status_updates', 'status', 'ck_status_updates_new_status'),
    ('snapshot_entries', 'status', 'ck_snapshot_entries_follow_up_status'),
)

follow_ups = sa.table('follow_ups', sa.column('id', sa.Integer()), sa.column('status', sa.String(32)))
status_updates = sa.table(
    'status_updates',
    sa.column('id', sa.Integer()),
    sa.column('follow_up_id', sa.Integer()),
    sa.column('status_before', sa.String(32)),
    sa.column('status', sa.String(32)),
)
snapshot_entries = sa.table('snapshot_entries', sa.column('status', sa.String(32)))


def _allow(values):
    for table in ('follow_ups', 'status_updates', 'snapshot_entries'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, constraint in STATUS_COLUMNS:
                if name != table:
                    continue
                batch_op.drop_constraint(batch_op.f(constraint), type_='check')
                batch_op.create_check_constraint(
                    batch_op.f(constraint), sa.column(column).in_(values)
                )


def upgrade():
    _allow(AFTER)


def downgrade():
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(status_updates.c.follow_up_id, status_updates.c.status_before)
        .where(status_updates.c.status == 'superseded')
        .order_by(status_updates.c.id)
    ).all()
    # The last update that superseded each follow-up says what it was before.
    earlier = {follow_up_id: before for follow_up_id, before in rows}
    for follow_up_id, before in earlier.items():
        connection.execute(
            follow_ups.update()
            .where(follow_ups.c.id == follow_up_id, follow_ups.c.status == 'superseded')
            .values(status=before if before != 'superseded' else 'not_started')
        )
    # An update posted after (reopening it) started from the status it had before.
    for follow_up_id, before in earlier.items():
        connection.execute(
            status_updates.update()
            .where(
                status_updates.c.follow_up_id == follow_up_id,
                status_updates.c.status_before == 'superseded',
            )
            .values(status_before=before if before != 'superseded' else 'not_started')
        )
    connection.execute(status_updates.delete().where(status_updates.c.status == 'superseded'))
    connection.execute(
        follow_ups.update().where(follow_ups.c.status == 'superseded').values(status='not_started')
    )
    connection.execute(
        snapshot_entries.update()
        .where(snapshot_entries.c.status == 'superseded')
        .values(status='not_applicable')
    )
    _allow(BEFORE)
