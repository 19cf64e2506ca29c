"""The reminder rules' watermarks: the day, inputs and next moment each rule last planned
for in full, so that a tick skips a rule with nothing new to find.

Fills nothing: without a mark a rule runs, and the next tick marks it.

Revision ID: 0025_reminder_rule_marks
Revises: 0024_directory_history_order
Create Date: 2026-11-27 02:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_reminder_rule_marks"
down_revision = "0024_directory_history_order"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_rule_marks",
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("inputs", sa.String(length=1000), nullable=False),
        sa.Column("wake_at", sa.DateTime(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("run_started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_reminder_rule_marks")),
    )


def downgrade():
    op.drop_table("reminder_rule_marks")
