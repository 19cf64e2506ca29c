"""A follow-up whose "implemented" awaits the secretariat's validation is no longer counted
as overdue, due soon or not updated for long: it waits for the secretariat, not for its
addressee (as its reminders already said). The figures of the day kept on write
(``follow_up_day_figures``, 0023) were counted the old way: their basis is dropped, so that
pages count live until the reminder scheduler's next tick (or ``flask kpplan recount``)
counts the day again the new way. Nothing else is stored by that definition.

Downgrade drops the basis the same way, for the old definition to be counted again.

Revision ID: 0030_waiting_for_addressee
Revises: 0029_reminder_partial_indexes
Create Date: 2026-11-27 08:40:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0030_waiting_for_addressee"
down_revision = "0029_reminder_partial_indexes"
branch_labels = None
depends_on = None


def _count_again():
    op.execute("DELETE FROM follow_up_day_figures")
    op.execute("DELETE FROM follow_up_day_basis")


def upgrade():
    _count_again()


def downgrade():
    _count_again()
