"""Read paths of the reminders pages, each loading what its page shows."""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from kpplan.core.extensions import db
from kpplan.reminders.models import Reminder, ReminderKind, ReminderRun, ReminderStatus


def unread_of(user_id_column):
    """The count of a person's unread notifications, as a scalar subquery (the bell)."""
    return (
        select(func.count(Reminder.id))
        .where(
            Reminder.user_id == user_id_column,
            Reminder.kind == ReminderKind.REMINDER,
            Reminder.status != ReminderStatus.OFF,
            Reminder.read_at.is_(None),
        )
        .scalar_subquery()
    )


def notifications_page(user_id: int, page: int, per_page: int) -> Pagination:
    """A person's notifications, newest first (reminders they turned off are left out)."""
    query = (
        select(Reminder)
        .where(
            Reminder.user_id == user_id,
            Reminder.kind == ReminderKind.REMINDER,
            Reminder.status != ReminderStatus.OFF,
        )
        .order_by(Reminder.planned_at.desc(), Reminder.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def summary_of(user_id: int, summary_id: int) -> Reminder | None:
    """A summary mail sent to ``user_id``, or None (none such, or someone else's)."""
    return db.session.scalar(
        select(Reminder).where(
            Reminder.id == summary_id,
            Reminder.user_id == user_id,
            Reminder.kind == ReminderKind.DIGEST,
        )
    )


def summary_items_page(summary_id: int, page: int, per_page: int) -> Pagination:
    """The reminders one summary holds, in the order its mail lists them (by rule, then as
    planned): the mail shows the first ones and leads here for the others."""
    query = (
        select(Reminder)
        .where(Reminder.digest_id == summary_id)
        .order_by(Reminder.rule, Reminder.id)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class OutboxFilters:
    status: ReminderStatus | None = None
    rule: str | None = None
    run_id: int | None = None


def outbox_page(filters: OutboxFilters, page: int, per_page: int) -> Pagination:
    """The outbox, newest first, with each recipient (joined: one per row)."""
    query = select(Reminder).options(joinedload(Reminder.user)).order_by(Reminder.id.desc())
    if filters.status is not None:
        query = query.where(Reminder.status == filters.status)
    if filters.rule:
        query = query.where(Reminder.rule == filters.rule)
    if filters.run_id:
        query = query.where(Reminder.run_id == filters.run_id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def status_counts() -> dict[ReminderStatus, int]:
    """How many rows of the outbox stand in each status, in one query."""
    rows = db.session.execute(
        select(Reminder.status, func.count(Reminder.id)).group_by(Reminder.status)
    ).all()
    return dict(rows)


def recent_runs(limit: int = 15) -> list[ReminderRun]:
    """The latest runs of the reminder job, newest first."""
    return db.session.scalars(
        select(ReminderRun).order_by(ReminderRun.id.desc()).limit(limit)
    ).all()
