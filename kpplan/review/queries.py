"""Read paths of the dashboard of a Chair's term: each runs a fixed number of queries,
whatever the number of items, follow-ups or activities, and counts in SQL where it can.

Follow-up figures take a ``Scope``: a focal point sees only their own state's rows. The
work-plan progress is in ``progress``, the handover pack in ``handover``, the review
snapshots in ``snapshots``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, union_all
from sqlalchemy.orm import joinedload

from kpplan.chair.models import HELD_STATUSES, Chairmanship
from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity
from kpplan.recommendations import figures, follow_up_queries
from kpplan.recommendations.models import OPEN_STATUSES, FollowUp, Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.review.models import ReviewSnapshot
from kpplan.review.progress import WorkPlanProgress, work_plan_progress
from kpplan.review.snapshots import snapshots_between

OVERDUE_SHOWN = 10
# The most rows a list of the dashboard or the handover pack's workbook holds.
LIST_LIMIT = 5000

# --- The term -------------------------------------------------------------------------


def term_end(chairmanship: Chairmanship, today: date) -> date | None:
    """The last day of the term for the review: its end, or today while it runs."""
    if chairmanship.start_date is None:
        return None
    return chairmanship.end_date or max(today, chairmanship.start_date)


# --- Activities -----------------------------------------------------------------------


def activities_between(start: date, end: date) -> list[Activity]:
    """The activities that begin between ``start`` and ``end``, cancelled ones included
    (the page marks them), by date."""
    return db.session.scalars(
        select(Activity)
        .where(Activity.start_date.between(start, end))
        .order_by(Activity.start_date, Activity.id)
        .limit(LIST_LIMIT)
    ).all()


def kind_counts(activities: list[Activity]) -> list[tuple[ActivityKind, int, int]]:
    """(kind, activities, of which held or closed) in the order of the kinds."""
    rows = []
    for kind in ActivityKind:
        of_kind = [a for a in activities if a.kind is kind]
        if of_kind:
            held = sum(1 for a in of_kind if a.status in HELD_STATUSES)
            rows.append((kind, len(of_kind), held))
    return rows


# --- Overdue follow-ups --------------------------------------------------------------


def overdue_follow_ups(scope: Scope, today: date, limit: int = OVERDUE_SHOWN) -> list[FollowUp]:
    """Open follow-ups of recommendations in force whose review date has passed, the
    longest overdue first, with their recommendation and addressee: one query.

    For each open status a subquery walks an index of the follow-ups by status and review
    date (by state, status and review date within a state's scope) in order and stops at
    ``limit``; the follow-ups are loaded from the few ids they give. Sorting every overdue
    follow-up (100,000 at scale) is avoided. Ties (hundreds of follow-ups share a review
    date at scale) are broken in the order of the index that serves the walk: by
    follow-up, or within a state's scope by recommendation, then follow-up.
    """
    if scope.everything:
        order: tuple = (FollowUp.next_review_date, FollowUp.id)
    else:
        order = (FollowUp.next_review_date, FollowUp.recommendation_id, FollowUp.id)
    firsts = [
        select(FollowUp.id)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .where(
            Recommendation.withdrawn_at.is_(None),
            FollowUp.status == status,
            FollowUp.next_review_date < today,
            scope.where(),
        )
        .order_by(*order)
        .limit(limit)
        .subquery()
        for status in OPEN_STATUSES
    ]
    # Each limited walk is a subquery of its own: SQLite allows no LIMIT on the members of
    # a UNION themselves.
    candidates = union_all(*(select(first.c.id) for first in firsts))
    return db.session.scalars(
        select(FollowUp)
        .where(FollowUp.id.in_(candidates))
        .options(
            joinedload(FollowUp.recommendation).joinedload(Recommendation.activity),
            joinedload(FollowUp.state),
            joinedload(FollowUp.organisation),
        )
        .order_by(*order)
        .limit(limit)
    ).all()


# --- The dashboard --------------------------------------------------------------------


@dataclass
class TermReview:
    chairmanship: Chairmanship
    end: date | None
    progress: WorkPlanProgress
    activities: list[Activity]
    by_state: list
    by_theme: list
    overdue: int
    overdue_list: list[FollowUp]
    snapshots: list[ReviewSnapshot]


def term_review(
    chairmanship: Chairmanship, scope: Scope, today: date, overdue_limit: int = OVERDUE_SHOWN
) -> TermReview:
    """Everything the dashboard of a term shows, in a fixed number of queries.

    Follow-up figures are as they stand today, over every recommendation in force;
    activities and snapshots are those of the term (from its start to its end, or to
    today while it runs).
    """
    end = term_end(chairmanship, today)
    start = chairmanship.start_date
    dated = start is not None and end is not None
    return TermReview(
        chairmanship=chairmanship,
        end=end,
        progress=work_plan_progress(chairmanship, today),
        activities=activities_between(start, end) if dated else [],
        by_state=figures.shares_by_state(scope),
        by_theme=figures.shares_by_theme(scope),
        overdue=follow_up_queries.follow_up_summary(scope, today).overdue,
        overdue_list=overdue_follow_ups(scope, today, overdue_limit),
        snapshots=snapshots_between(start, end) if dated else [],
    )
