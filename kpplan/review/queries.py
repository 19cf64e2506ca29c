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

from kpplan.chair.models import HELD_STATUSES, Chairmanship
from kpplan.core.cache import memoised, watch
from kpplan.core.dates import day_range
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity
from kpplan.meetings.models import Status as ActivityStatus
from kpplan.participants.models import InvitationList
from kpplan.participants.queries import Figures, figures_for
from kpplan.recommendations import figures, follow_up_queries
from kpplan.recommendations.addressees import addressee_columns, addressee_joins, addressee_of
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.recommendations.statuses import OPEN_STATUSES, FollowUpStatus
from kpplan.recommendations.tallies import FollowUpTally
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


@dataclass(frozen=True)
class ActivityRow:
    """An activity as the dashboard, the handover pack and their exports list it: the
    columns they read, its dates in words, and (an activity of the term) its participant
    figures (``figures_for``)."""

    id: int
    kind: ActivityKind
    title: str
    status: ActivityStatus
    start_date: date
    end_date: date | None
    city: str | None
    dates: str
    first_day: str
    figures: Figures | None = None


# A status update changes none of them: the lists of activities are kept until an activity
# (or, for the term's figures, an invitation list) changes.
TERM_ACTIVITIES_READ = watch(Activity, InvitationList)
ACTIVITIES_READ = watch(Activity)

_ACTIVITY_COLUMNS = (
    Activity.id,
    Activity.kind,
    Activity.title,
    Activity.status,
    Activity.start_date,
    Activity.end_date,
    Activity.date_precision,
    Activity.city,
)


def activity_row(row, figures: Figures | None = None) -> ActivityRow:
    """An ``ActivityRow`` from a row of ``activity_columns()``."""
    return ActivityRow(
        id=row.id,
        kind=row.kind,
        title=row.title,
        status=row.status,
        start_date=row.start_date,
        end_date=row.end_date,
        city=row.city,
        dates=day_range(row.start_date, row.end_date, row.date_precision),
        first_day=day_range(row.start_date, row.start_date, row.date_precision),
        figures=figures,
    )


def activity_columns() -> tuple:
    """The columns an ``ActivityRow`` is made of, for a select."""
    return _ACTIVITY_COLUMNS


def activities_between(start: date, end: date) -> list[ActivityRow]:
    """The activities that begin between ``start`` and ``end``, cancelled ones included
    (the page marks them), by date, with their participant figures: two queries, kept
    until an activity or an invitation list changes."""
    return memoised(
        "term_activities", (start, end), TERM_ACTIVITIES_READ, lambda: _term_activities(start, end)
    )


def _term_activities(start: date, end: date) -> list[ActivityRow]:
    rows = db.session.execute(
        select(
            *activity_columns(),
            # What ``figures_for`` reads when no attendance list was ticked.
            Activity.participants,
            Activity.countries_represented,
            Activity.organisations_represented,
        )
        .where(Activity.start_date.between(start, end))
        .order_by(Activity.start_date, Activity.id)
        .limit(LIST_LIMIT)
    ).all()
    figures = figures_for(rows)
    return [activity_row(r, figures[r.id]) for r in rows]


def kind_counts(activities: list[ActivityRow]) -> list[tuple[ActivityKind, int, int]]:
    """(kind, activities, of which held or closed) in the order of the kinds."""
    rows = []
    for kind in ActivityKind:
        of_kind = [a for a in activities if a.kind is kind]
        if of_kind:
            held = sum(1 for a in of_kind if a.status in HELD_STATUSES)
            rows.append((kind, len(of_kind), held))
    return rows


# --- Overdue follow-ups --------------------------------------------------------------


@dataclass(frozen=True)
class RecommendationRef:
    """What a list of follow-ups shows of their recommendation."""

    code: str
    text: str
    illustrative: bool


@dataclass(frozen=True)
class OverdueFollowUp:
    """An overdue follow-up as the dashboard, the handover pack and their exports show it:
    the columns they read, with its recommendation's and its addressee's names."""

    id: int
    recommendation_id: int
    recommendation: RecommendationRef
    addressee: str
    status: FollowUpStatus
    pending_update_id: int | None
    next_review_date: date


# What an overdue follow-up's row reads: kept for the day until one of them changes.
_OVERDUE_READS = watch(FollowUp, Recommendation, State, Organisation)


def overdue_follow_ups(
    scope: Scope, today: date, limit: int = OVERDUE_SHOWN
) -> list[OverdueFollowUp]:
    """Follow-ups of recommendations in force waiting for their addressee (open, no
    implementation awaiting validation) whose review date has passed, the
    longest overdue first, with their recommendation and addressee: one query, of the
    columns shown, kept for the day until a follow-up, a recommendation or an addressee's
    name changes.

    For each open status a subquery walks an index of the follow-ups by status and review
    date (by state, status and review date within a state's scope) in order and stops at
    ``limit``; the follow-ups are read from the few ids they give. Sorting every overdue
    follow-up (100,000 at scale) is avoided. Ties (hundreds of follow-ups share a review
    date at scale) are broken in the order of the index that serves the walk: by
    follow-up, or within a state's scope by recommendation, then follow-up.
    """
    return memoised(
        "overdue_follow_ups",
        (scope, today, limit),
        _OVERDUE_READS,
        lambda: _overdue_follow_ups(scope, today, limit),
    )


def _overdue_follow_ups(scope: Scope, today: date, limit: int) -> list[OverdueFollowUp]:
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
            FollowUp.pending_update_id.is_(None),
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
    rows = db.session.execute(
        addressee_joins(
            select(
                FollowUp.id,
                FollowUp.recommendation_id,
                FollowUp.status,
                FollowUp.pending_update_id,
                FollowUp.next_review_date,
                Recommendation.code,
                Recommendation.text,
                Recommendation.illustrative,
                *addressee_columns(),
            )
        )
        .where(FollowUp.id.in_(candidates))
        .order_by(*order)
        .limit(limit)
    ).all()
    return [
        OverdueFollowUp(
            id=r.id,
            recommendation_id=r.recommendation_id,
            recommendation=RecommendationRef(r.code, r.text, r.illustrative),
            addressee=addressee_of(r),
            status=r.status,
            pending_update_id=r.pending_update_id,
            next_review_date=r.next_review_date,
        )
        for r in rows
    ]


# --- The dashboard --------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotRow:
    """A review snapshot as the dashboard lists it: its meeting's title and first day."""

    id: int
    activity_id: int
    title: str
    first_day: str
    entry_count: int


# Taking a snapshot or changing an activity changes them; a status update does not.
_SNAPSHOTS_READ = watch(ReviewSnapshot, Activity)


def term_snapshots(start: date, end: date) -> list[SnapshotRow]:
    """The snapshots taken at meetings that began between ``start`` and ``end``, by date
    (``snapshots.snapshots_between``), as rows kept until a snapshot or an activity changes."""

    def read() -> list[SnapshotRow]:
        return [
            SnapshotRow(
                id=s.id,
                activity_id=s.activity_id,
                title=s.activity.title,
                first_day=s.activity.first_day,
                entry_count=s.entry_count,
            )
            for s in snapshots_between(start, end)
        ]

    return memoised("term_snapshots", (start, end), _SNAPSHOTS_READ, read)


# The shares are read from the figures kept on write (and the states' names): kept until a
# follow-up changes status, or a state is renamed.
_SHARES_READ = watch(FollowUpTally, State)


def shares(scope: Scope) -> tuple[list, list]:
    """The implemented share per state and per theme within the scope
    (``figures.shares_by_state_and_theme``: one statement), kept until the kept figures or
    the states change."""
    return memoised(
        "review_shares", scope, _SHARES_READ, lambda: figures.shares_by_state_and_theme(scope)
    )


@dataclass
class TermFigures:
    """What the dashboard of a term shows besides the Chair's own work plan."""

    end: date | None
    activities: list[ActivityRow]
    by_state: list
    by_theme: list
    overdue: int
    overdue_list: list[OverdueFollowUp]
    snapshots: list[SnapshotRow]

    @property
    def without_snapshot(self) -> list[ActivityRow]:
        """The term's Senior Officials' Meetings, not cancelled, where no snapshot was taken."""
        taken = {s.activity_id for s in self.snapshots}
        return [
            a
            for a in self.activities
            if a.kind is ActivityKind.SENIOR_OFFICIALS
            and a.status is not ActivityStatus.CANCELLED
            and a.id not in taken
        ]


@dataclass
class TermReview(TermFigures):
    chairmanship: Chairmanship
    progress: WorkPlanProgress


def term_figures(
    start: date | None,
    end: date | None,
    scope: Scope,
    today: date,
    overdue_limit: int = OVERDUE_SHOWN,
) -> TermFigures:
    """The follow-up figures, activities and snapshots of the term from ``start`` to
    ``end`` (``term_end``), in a fixed number of queries.

    Follow-up figures are as they stand today, over every recommendation in force;
    activities and snapshots are those of the term (from its start to its end, or to
    today while it runs)."""
    dated = start is not None and end is not None
    by_state, by_theme = shares(scope)
    return TermFigures(
        end=end,
        activities=activities_between(start, end) if dated else [],
        by_state=by_state,
        by_theme=by_theme,
        overdue=follow_up_queries.follow_up_summary(scope, today).overdue,
        overdue_list=overdue_follow_ups(scope, today, overdue_limit),
        snapshots=term_snapshots(start, end) if dated else [],
    )


def term_review(
    chairmanship: Chairmanship, scope: Scope, today: date, overdue_limit: int = OVERDUE_SHOWN
) -> TermReview:
    """Everything the dashboard of a term shows (``term_figures``) with the progress of
    the Chair's work plan, in a fixed number of queries."""
    end = term_end(chairmanship, today)
    figures = term_figures(chairmanship.start_date, end, scope, today, overdue_limit)
    return TermReview(
        **vars(figures),
        chairmanship=chairmanship,
        progress=work_plan_progress(chairmanship, today),
    )
