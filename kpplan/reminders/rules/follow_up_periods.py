"""The periods and "since" filters of the follow-up rules: what is overdue and not updated
since, what comes within a rule's days anew after the day it last looked, and the first
moment something more falls due (a rule's ``wakes``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.statuses import OPEN_STATUSES, Validation
from kpplan.reminders.rules.follow_up_scans import open_follow_ups


def next_stale(session: Session, now: datetime, days: int) -> datetime | None:
    """The first moment after ``now`` at which one more open follow-up has gone ``days``
    days without an update (None: none will before something changes)."""
    since = func.coalesce(FollowUp.last_update_at, FollowUp.created_at)
    first = session.scalar(
        open_follow_ups(since >= now - timedelta(days=days)).with_only_columns(func.min(since))
    )
    return first_after(first, now, days)


def next_waiting(session: Session, now: datetime, days: int) -> datetime | None:
    """The first moment after ``now`` at which one more update has waited ``days`` days for
    validation (None: none will before something changes)."""
    first = session.scalar(
        select(func.min(StatusUpdate.posted_at)).where(
            StatusUpdate.validation == Validation.PENDING,
            StatusUpdate.posted_at >= now - timedelta(days=days),
        )
    )
    return first_after(first, now, days)


def first_due(session: Session) -> date | None:
    """The earliest next review date of an open follow-up (None: none has one): where the
    overdue ones begin (one step of the index of statuses and dates per status)."""
    first = session.scalar(
        select(func.min(FollowUp.next_review_date)).where(FollowUp.status.in_(OPEN_STATUSES))
    )
    # An aggregate comes back as the database gives it (text on SQLite).
    return date.fromisoformat(first) if isinstance(first, str) else first


def first_after(first, now: datetime, days: int) -> datetime | None:
    """``days`` days after the moment ``first`` (None: None), at the earliest: counted in
    the Process's clock time, as the rules' ``now - days`` is, or in elapsed time (a day
    of daylight saving between them makes them an hour apart)."""
    if first is None:
        return None
    # An aggregate comes back as the database gives it: naive UTC (or text on SQLite).
    if isinstance(first, str):
        first = datetime.fromisoformat(first)
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return min(first + timedelta(days=days), first.astimezone(now.tzinfo) + timedelta(days=days))


def after_day(due_date, since: date | None, days: int) -> list:
    """``due_date`` (a date column) after ``days`` days from ``since``, if any: what a rule
    triggered ``days`` days before a date finds anew after that day."""
    return [] if since is None else [due_date > since + timedelta(days=days)]


def overdue_not_updated(today: date, on_days: list[date] | None = None) -> list:
    """Open follow-ups that are overdue and not updated since their review date: an update,
    even one that gives no new date, stops the reminders (the lists still say overdue).
    ``on_days``: only those due on these days, all before ``today`` (``crossing_days``),
    asked as such so that the index of the due dates finds them day by day."""
    overdue = (
        FollowUp.is_overdue(today)
        if on_days is None
        else and_(FollowUp.waits_for_addressee, FollowUp.next_review_date.in_(on_days))
    )
    return [
        overdue,
        # The day of the (UTC) update before the review date; both databases compare a
        # moment with a day as that day's midnight.
        or_(
            FollowUp.last_update_at.is_(None),
            FollowUp.last_update_at < FollowUp.next_review_date,
        ),
    ]


def stale_since(since: date | None, now: datetime, days: int) -> list:
    """Of the follow-ups not updated for ``days`` days, those that may have crossed that line
    after the day ``since`` on which the rule last looked at them all (nothing they read
    changed since): updated (or recorded) at most ``days`` days before that day began, a
    day more for the daylight saving. All when ``since`` is None."""
    if since is None:
        return []
    start = datetime.combine(since, time(0), tzinfo=now.tzinfo)
    last = func.coalesce(FollowUp.last_update_at, FollowUp.created_at)
    return [last >= start - timedelta(days=days + 1)]
