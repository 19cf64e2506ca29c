"""Activities keep the precision of their dates: activities.date_precision.

An activity of 2016 whose day the Process's texts do not give keeps a date (the first day of
its month or year, so that lists still sort by it) and a precision, "month" or "year", so that
pages read "June 2016" or "2016" rather than a day nobody knows. Every existing activity is
known to the day ("day", the default).

Revision ID: 0018_date_precision
Revises: 0017_list_indexes
Create Date: 2026-11-26 14:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0018_date_precision"
down_revision = "0017_list_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'date_precision',
                sa.Enum('day', 'month', 'year', name='date_precision', native_enum=False, create_constraint=True, length=32),
                server_default='day',
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_activities_date_precision'), type_='check')
        batch_op.drop_column('date_precision')
