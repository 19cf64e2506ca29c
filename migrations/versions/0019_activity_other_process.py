"""An activity of another process: activities.other_process.

The record of the Process holds a few meetings that were not its own: the Senior Officials'
Meeting of the Joint Valletta Action Plan (Addis Ababa, 2018), which the Khartoum and Rabat
Processes share, or the African Union conference that preceded the Process. The column names
that other process; the statistics leave such meetings out of the Process's own figures and
show them apart. Empty for the Process's own activities (every existing one).

Revision ID: 0019_activity_other_process
Revises: 0018_date_precision
Create Date: 2026-11-26 14:50:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0019_activity_other_process"
down_revision = "0018_date_precision"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("other_process", sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("other_process")
