"""Indexes for the follow-ups at a glance: a state's overdue follow-ups in force counted
from one index, and a state's last update read from the top of another.

The index of a state's follow-ups by status and review date now also holds the
recommendation, so that the follow-ups of withdrawn recommendations are left out without
reading the rows.

Revision ID: 0022_follow_up_glance_indexes
Revises: 0021_reminder_truth
Create Date: 2026-11-26 15:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0022_follow_up_glance_indexes"
down_revision = "0021_reminder_truth"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("follow_ups") as batch_op:
        batch_op.drop_index("ix_follow_ups_state_id_status_next_review_date")
        batch_op.create_index(
            "ix_follow_ups_state_id_status_next_review_date",
            ["state_id", "status", "next_review_date", "recommendation_id"],
        )
        batch_op.create_index(
            "ix_follow_ups_state_id_last_update_at", ["state_id", "last_update_at"]
        )


def downgrade():
    with op.batch_alter_table("follow_ups") as batch_op:
        batch_op.drop_index("ix_follow_ups_state_id_last_update_at")
        batch_op.drop_index("ix_follow_ups_state_id_status_next_review_date")
        batch_op.create_index(
            "ix_follow_ups_state_id_status_next_review_date",
            ["state_id", "status", "next_review_date"],
        )
