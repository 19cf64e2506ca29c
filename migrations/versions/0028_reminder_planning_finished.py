"""The reminder runs record when their planning was over, and how many late reminders each
person got from them: a first start killed part way through its planning is then finished
as a first start by the next tick (one summary a person), instead of its reminders going
one by one.

Fills ``planning_finished_at`` with ``finished_at`` for the runs that finished; those that
never did stay open, as the former code held them (their reminders go into the next
first-start or catch-up summary).

Revision ID: 0028_reminder_planning_finished
Revises: 0027_search_words_column
Create Date: 2026-11-27 08:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_reminder_planning_finished"
down_revision = "0027_search_words_column"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reminder_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planning_finished_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("late_by_user", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE reminder_runs SET planning_finished_at = finished_at WHERE finished_at IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("reminder_runs", schema=None) as batch_op:
        batch_op.drop_column("late_by_user")
        batch_op.drop_column("planning_finished_at")
