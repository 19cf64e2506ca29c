"""Follow-up figures kept per activity: the statistics of a period add up its activities.

activity_tallies holds, over the recommendations in force, how many addressees of the
recommendations made at each activity stand at each status. A period's statistics add up
the rows of its activities (a few each) instead of every recommendation's figures; kpplan
keeps them on every change, like the other tallies (`flask kpplan recount --check`
compares). Filled here from the follow-ups. activity_id is no foreign key: a deleted
activity's counts go to zero with its follow-ups, in the flush that deletes them.

Revision ID: 0026_activity_tallies
Revises: 0025_reminder_rule_marks
Create Date: 2026-11-27 05:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0026_activity_tallies"
down_revision = "0025_reminder_rule_marks"
branch_labels = None
depends_on = None


FILL = """
INSERT INTO activity_tallies (activity_id, status, n)
SELECT r.activity_id, f.status, count(*)
FROM follow_ups f JOIN recommendations r ON r.id = f.recommendation_id
WHERE r.withdrawn_at IS NULL
GROUP BY r.activity_id, f.status
"""


def upgrade():
    op.create_table(
        "activity_tallies",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("activity_id", "status", name=op.f("pk_activity_tallies")),
    )
    op.execute(FILL)


def downgrade():
    op.drop_table("activity_tallies")
