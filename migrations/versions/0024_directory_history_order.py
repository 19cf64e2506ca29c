"""Indexes in the order of the states page and of the history filtered by kind of record.

- ``users``: a state's active focal points, alternate last, by name
  (``ix_users_state_id_role`` widened to ``ix_users_state_focal_points``): the states page
  reads each state's first three and its count from the index alone, however many accounts
  a state has.
- ``audit_entries``: the entries about one kind of record, newest first
  (``ix_audit_entries_object_type_id``): the history filtered by kind reads its page from
  the top of the index instead of sorting every entry of that kind (100,000 at 100x).

Revision ID: 0024_directory_history_order
Revises: 0023_follow_up_day_figures
Create Date: 2026-11-27 02:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_directory_history_order"
down_revision = "0023_follow_up_day_figures"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_index("ix_users_state_id_role")
        batch_op.create_index(
            "ix_users_state_focal_points",
            ["state_id", "role", "active", "is_alternate", "name", "id"],
        )
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.create_index("ix_audit_entries_object_type_id", ["object_type", "id"])


def downgrade():
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_index("ix_audit_entries_object_type_id")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_index("ix_users_state_focal_points")
        batch_op.create_index("ix_users_state_id_role", ["state_id", "role"])
