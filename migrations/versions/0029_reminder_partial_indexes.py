"""Two indexes of the reminder outbox hold only the rows their queries look for: the
summaries' items (``digest_id`` set) and the reminders waiting for a summary. Planning a
reminder then writes five or six index entries instead of seven, and the index of what
waits stays as small as what waits, however long the outbox's history.

Fills nothing: the indexes are built again from the rows.

Revision ID: 0029_reminder_partial_indexes
Revises: 0028_reminder_planning_finished
Create Date: 2026-11-27 08:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029_reminder_partial_indexes"
down_revision = "0028_reminder_planning_finished"
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'waiting'")
IN_A_SUMMARY = sa.text("digest_id IS NOT NULL")


def upgrade():
    op.drop_index("ix_reminders_status_delivery_planned_at", table_name="reminders")
    op.create_index(
        "ix_reminders_waiting_delivery_planned_at",
        "reminders",
        ["delivery", "planned_at"],
        sqlite_where=WAITING,
        postgresql_where=WAITING,
    )
    op.drop_index("ix_reminders_digest_id", table_name="reminders")
    op.create_index(
        "ix_reminders_digest_id",
        "reminders",
        ["digest_id"],
        sqlite_where=IN_A_SUMMARY,
        postgresql_where=IN_A_SUMMARY,
    )


def downgrade():
    op.drop_index("ix_reminders_digest_id", table_name="reminders")
    op.create_index("ix_reminders_digest_id", "reminders", ["digest_id"])
    op.drop_index("ix_reminders_waiting_delivery_planned_at", table_name="reminders")
    op.create_index(
        "ix_reminders_status_delivery_planned_at",
        "reminders",
        ["status", "delivery", "planned_at"],
    )
