"""Figures of the whole Process kept on write: how many recommendations are open.

process_tallies holds, by name, figures of the Process that are no sum of follow-ups:
``open_recommendations``, how many recommendations in force an addressee still follows up
(an open status, or a move to "implemented" awaiting validation). The handover pack showed
"more than 1,000" rather than add them up after every write; it now reads the exact number
from one row. kpplan keeps it on every change, like the other tallies (`flask kpplan
recount --check` compares). Filled here from the follow-ups.

Revision ID: 0032_process_tallies
Revises: 0031_withdrawn_index
Create Date: 2026-11-27 11:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0032_process_tallies"
down_revision = "0031_withdrawn_index"
branch_labels = None
depends_on = None


# The statuses a follow-up is still followed up at (FollowUpStatus not closed) when this
# revision was written; a migration does not read the application's code.
OPEN = "'not_started', 'in_progress', 'partially_implemented'"

FILL = f"""
INSERT INTO process_tallies (name, n)
SELECT 'open_recommendations', count(*)
FROM recommendations r
WHERE r.withdrawn_at IS NULL AND EXISTS (
    SELECT 1 FROM follow_ups f
    WHERE f.recommendation_id = r.id
    AND (f.status IN ({OPEN}) OR f.pending_update_id IS NOT NULL)
)
"""


def upgrade():
    op.create_table(
        "process_tallies",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_process_tallies")),
    )
    op.execute(FILL)


def downgrade():
    op.drop_table("process_tallies")
