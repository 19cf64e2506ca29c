"""The figures of the day kept on write: per addressee state, the open follow-ups in force
overdue, due soon, not updated for long and awaiting validation; and the basis (the day and
the days of "due soon" and "not updated") they are counted for.

Fills nothing: without a basis the pages count live until the reminder scheduler's next
tick (or ``flask kpplan recount``) counts the day.

Revision ID: 0023_follow_up_day_figures
Revises: 0022_follow_up_glance_indexes
Create Date: 2026-11-26 15:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_follow_up_day_figures"
down_revision = "0022_follow_up_glance_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "follow_up_day_figures",
        sa.Column("state_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("state_id", "kind", name=op.f("pk_follow_up_day_figures")),
    )
    op.create_table(
        "follow_up_day_basis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_soon_days", sa.Integer(), nullable=False),
        sa.Column("stale_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_day_basis")),
    )


def downgrade():
    op.drop_table("follow_up_day_basis")
    op.drop_table("follow_up_day_figures")
