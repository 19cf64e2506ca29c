"""An index of the withdrawn recommendations (a partial index: only their ids).

The recommendation list's total, when one state's follow-ups narrow it (a state's filter, a
focal point's own list, "overdue"), is counted from the index of that state's follow-ups,
leaving out the follow-ups of withdrawn recommendations. Without this index, finding the
withdrawn ones read every recommendation (a hash join over the whole table on PostgreSQL,
14 ms at 100x); with it, the few withdrawn ids are read from a tiny index (0.5 ms).

Revision ID: 0031_withdrawn_index
Revises: 0030_waiting_for_addressee
Create Date: 2026-11-27 08:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0031_withdrawn_index"
down_revision = "0030_waiting_for_addressee"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_recommendations_withdrawn",
        "recommendations",
        ["id"],
        sqlite_where=sa.text("withdrawn_at IS NOT NULL"),
        postgresql_where=sa.text("withdrawn_at IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_recommendations_withdrawn", table_name="recommendations")
