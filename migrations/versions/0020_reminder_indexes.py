"""An index for the reminder summaries: waiting reminders by delivery and planning moment.

Each tick asks who has reminders waiting for a daily or weekly summary since before the
summary's moment; at 100 times the Process's volume the outbox holds hundreds of thousands
of rows, and without this index every tick read them all to find nobody.

Revision ID: 0020_reminder_indexes
Revises: 0019_activity_other_process
Create Date: 2026-11-26 15:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_reminder_indexes"
down_revision = "0019_activity_other_process"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reminders_status_delivery_planned_at",
            ["status", "delivery", "planned_at"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_status_delivery_planned_at")
