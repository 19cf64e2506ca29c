"""Preparation steps already past when planned are not tracked; mails' sender is the
secretariat's.

``milestones.tracked``: a step whose due date had passed when its activity was recorded is
not chased. Existing steps keep being tracked, except those of activities recorded after
the step was due (their due date is before the day the activity was added), which were
born overdue; and the steps that recorded data has completed already ("Recommendations
recorded" for an activity with recommendations, "Report" for one with a report) are
ticked as done on the day that data was recorded.

``reminder_mail_sender``: the name and address reminder mails come from, as the
secretariat sets them on the reminder settings page (one row; none means the
configuration's ``MAIL_FROM``).

Revision ID: 0021_reminder_truth
Revises: 0020_reminder_indexes
Create Date: 2026-11-26 14:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0021_reminder_truth"
down_revision = "0020_reminder_indexes"
branch_labels = None
depends_on = None

milestones = sa.table(
    'milestones',
    sa.column('id', sa.Integer()),
    sa.column('activity_id', sa.Integer()),
    sa.column('name', sa.String(200)),
    sa.column('due_date', sa.Date()),
    sa.column('done_on', sa.Date()),
    sa.column('tracked', sa.Boolean()),
)
activities = sa.table(
    'activities',
    sa.column('id', sa.Integer()),
    sa.column('created_at', sa.DateTime()),
)
recommendations = sa.table(
    'recommendations',
    sa.column('activity_id', sa.Integer()),
    sa.column('created_at', sa.DateTime()),
)
documents = sa.table(
    'documents',
    sa.column('activity_id', sa.Integer()),
    sa.column('kind', sa.String(40)),
    sa.column('uploaded_at', sa.DateTime()),
)



def upgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('tracked', sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            milestones.c.id,
            milestones.c.activity_id,
            milestones.c.name,
            milestones.c.due_date,
            activities.c.created_at,
        )
        .join(activities, activities.c.id == milestones.c.activity_id)
        .where(milestones.c.done_on.is_(None))
    ).all()
    first_recommendation = dict(
        connection.execute(
            sa.select(recommendations.c.activity_id, sa.func.min(recommendations.c.created_at))
            .group_by(recommendations.c.activity_id)
        ).all()
    )
    first_report = dict(
        connection.execute(
            sa.select(documents.c.activity_id, sa.func.min(documents.c.uploaded_at))
            .where(documents.c.kind == 'report')
            .group_by(documents.c.activity_id)
        ).all()
    )
    for milestone_id, activity_id, name, due_date, created_at in rows:
        done = None
        if name == 'Recommendations recorded':
            done = first_recommendation.get(activity_id)
        elif name == 'Report':
            done = first_report.get(activity_id)
        values = {}
        if done is not None:
            values['done_on'] = _day(done)
        elif created_at is not None and due_date < _day(created_at):
            values['tracked'] = False
        if values:
            connection.execute(
                milestones.update().where(milestones.c.id == milestone_id).values(**values)
            )

    op.create_table(
        'reminder_mail_sender',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_mail_sender')),
    )


def _day(value):
    """A stored moment or date as a date (SQLite hands back strings)."""
    if isinstance(value, str):
        from datetime import date

        return date.fromisoformat(value[:10])
    return value.date() if hasattr(value, 'hour') else value


def downgrade():
    op.drop_table('reminder_mail_sender')
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_column('tracked')
