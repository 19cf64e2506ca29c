"""A state's follow-ups, most urgent first; the urgency levels; the validation queue;
the follow-up export; what needs attention (the home page's figures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.core.cache import memoised
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity
from kpplan.recommendations.models import (
    OPEN_STATUSES,
    FollowUp,
    Recommendation,
    StatusUpdate,
    Validation,
)
from kpplan.recommendations.queries import _STAMPED, Scope, _in_force, overdue

DUE_SOON_DAYS = 30


STALE_DAYS = 90


# The urgency levels of a state's open follow-ups, most urgent first.
URGENCY_LABELS = {
    "overdue": "Overdue",
    "due_soon": f"Due within {DUE_SOON_DAYS} days",
    "stale": f"Not updated for {STALE_DAYS} days",
    "open": "Open",
}


def _stale_before(today: date) -> datetime:
    return datetime.combine(today - timedelta(days=STALE_DAYS), time.min, tzinfo=UTC)


def _urgency_expression(today: date):
    last = func.coalesce(FollowUp.last_update_at, FollowUp.created_at)
    return case(
        (FollowUp.next_review_date < today, 0),
        (FollowUp.next_review_date <= today + timedelta(days=DUE_SOON_DAYS), 1),
        (last < _stale_before(today), 2),
        else_=3,
    )


URGENCIES = tuple(URGENCY_LABELS)


def urgency_of(follow_up: FollowUp, today: date) -> str:
    """The urgency level of one follow-up, as ``_urgency_expression`` gives it in SQL."""
    review = follow_up.next_review_date
    if review is not None and review < today:
        return URGENCIES[0]
    if review is not None and review <= today + timedelta(days=DUE_SOON_DAYS):
        return URGENCIES[1]
    last = follow_up.last_update_at or follow_up.created_at
    return URGENCIES[2] if last < _stale_before(today) else URGENCIES[3]


@dataclass
class StateFollowUps:
    pagination: Pagination
    counts: dict[str, int] = field(default_factory=dict)


def state_follow_ups(
    state_id: int, today: date, page: int, per_page: int, only: str | None = None
) -> StateFollowUps:
    """A state's open follow-ups of recommendations in force: overdue first, then due
    within 30 days, then not updated for 90 days, then the rest; with the count of each."""
    urgency = _urgency_expression(today)
    base = (
        select(FollowUp)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .where(
            FollowUp.state_id == state_id,
            Recommendation.withdrawn_at.is_(None),
            or_(FollowUp.status.in_(OPEN_STATUSES), FollowUp.pending_update_id.is_not(None)),
        )
    )

    def count_levels() -> dict[str, int]:
        counts = dict.fromkeys(URGENCY_LABELS, 0)
        # Grouped over a subquery: PostgreSQL sees the urgency's dates as separate
        # parameters in SELECT and GROUP BY otherwise.
        levels = base.with_only_columns(urgency.label("level")).subquery()
        for level, n in db.session.execute(
            select(levels.c.level, func.count()).group_by(levels.c.level)
        ):
            counts[URGENCIES[level]] = n
        return counts

    counts = memoised("state_follow_up_counts", (state_id, today), _STAMPED, count_levels)
    query = base
    if only in URGENCIES:
        query = query.where(urgency == URGENCIES.index(only))
        total = counts[only]
    else:
        total = sum(counts.values())
    query = query.options(
        joinedload(FollowUp.recommendation).joinedload(Recommendation.activity),
        joinedload(FollowUp.state),
    ).order_by(urgency, FollowUp.next_review_date.is_(None), FollowUp.next_review_date, FollowUp.id)
    # The counts above give the total: no second count over the same rows.
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False, count=False)
    pagination.total = total
    return StateFollowUps(pagination, counts)


def validation_queue(page: int, per_page: int) -> Pagination:
    """Updates to "implemented" waiting for the secretariat, oldest first."""
    query = (
        select(StatusUpdate)
        .where(StatusUpdate.validation == Validation.PENDING)
        .options(
            joinedload(StatusUpdate.author),
            joinedload(StatusUpdate.follow_up).options(
                joinedload(FollowUp.state),
                joinedload(FollowUp.organisation),
                joinedload(FollowUp.recommendation),
            ),
            selectinload(StatusUpdate.evidence),
        )
        .order_by(StatusUpdate.posted_at, StatusUpdate.id)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def follow_up_export_rows(state_id: int | None, limit: int = 50000) -> list[FollowUp]:
    """The open and closed follow-ups of a state (or of every state), for the export."""
    query = (
        select(FollowUp)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .join(Activity, Recommendation.activity_id == Activity.id)
        .where(Recommendation.withdrawn_at.is_(None), FollowUp.state_id.is_not(None))
        .options(joinedload(FollowUp.state), joinedload(FollowUp.recommendation))
        .order_by(Activity.start_date, Recommendation.number, FollowUp.state_id)
        .limit(limit)
    )
    if state_id is not None:
        query = query.where(FollowUp.state_id == state_id)
    return db.session.scalars(query).all()


@dataclass
class Summary:
    overdue: int = 0
    due_soon: int = 0
    stale: int = 0
    pending: int = 0


def follow_up_summary(scope: Scope, today: date) -> Summary:
    """Open follow-ups of recommendations in force that need attention, in one query
    (kept until the data changes or the day does)."""
    return memoised(
        "follow_up_summary", (scope, today), _STAMPED, lambda: _follow_up_summary(scope, today)
    )


def _follow_up_summary(scope: Scope, today: date) -> Summary:
    last = func.coalesce(FollowUp.last_update_at, FollowUp.created_at)
    open_ = FollowUp.status.in_(OPEN_STATUSES)
    row = db.session.execute(
        _in_force()
        .where(scope.where())
        .with_only_columns(
            func.sum(case((overdue(today), 1), else_=0)),
            func.sum(
                case(
                    (
                        and_(
                            open_,
                            FollowUp.next_review_date >= today,
                            FollowUp.next_review_date <= today + timedelta(days=DUE_SOON_DAYS),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
            func.sum(case((and_(open_, last < _stale_before(today)), 1), else_=0)),
            func.sum(case((FollowUp.pending_update_id.is_not(None), 1), else_=0)),
        )
    ).one()
    return Summary(*(int(v or 0) for v in row))
