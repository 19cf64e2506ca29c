"""A state's follow-ups, most urgent first; the urgency levels; the validation queue;
the follow-up export; what needs attention (the home page's figures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.core.cache import memoised, watch
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.models import Activity
from kpplan.recommendations import deadlines, tallies
from kpplan.recommendations.deadlines import URGENCIES
from kpplan.recommendations.models import (
    OPEN_STATUSES,
    FollowUp,
    Recommendation,
    StatusUpdate,
    Validation,
)
from kpplan.recommendations.queries import _STAMPED, Scope, _in_force, overdue


def urgency_labels() -> dict[str, str]:
    """The urgency levels as the lists name them, with the days in force."""
    return deadlines.current().labels


def urgency_of(follow_up: FollowUp, today: date) -> str:
    """The urgency level of one follow-up (``FollowUp.urgency``), by name."""
    return URGENCIES[follow_up.urgency(today, deadlines.current())]


@dataclass
class StateFollowUps:
    pagination: Pagination
    counts: dict[str, int] = field(default_factory=dict)


def state_follow_ups(
    state_id: int, today: date, page: int, per_page: int, only: str | None = None
) -> StateFollowUps:
    """A state's open follow-ups of recommendations in force: overdue first, then due
    soon, then not updated for long (``deadlines``), then the rest; with the count of each."""
    limits = deadlines.current()
    urgency = FollowUp.urgency(today, limits)
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
        counts = dict.fromkeys(URGENCIES, 0)
        # Grouped over a subquery: PostgreSQL sees the urgency's dates as separate
        # parameters in SELECT and GROUP BY otherwise.
        levels = base.with_only_columns(urgency.label("level")).subquery()
        for level, n in db.session.execute(
            select(levels.c.level, func.count()).group_by(levels.c.level)
        ):
            counts[URGENCIES[level]] = n
        return counts

    counts = memoised("state_follow_up_counts", (state_id, today, limits), _STAMPED, count_levels)
    query = base
    if only in URGENCIES:
        query = query.where(urgency == URGENCIES.index(only))
        total = counts[only]
    else:
        total = sum(counts.values())
    # The order is sorted over the follow-ups' own columns (the state's thousands of open
    # ones at scale), then only the page's rows are loaded with what the list shows: the
    # joined recommendation and activity are read for 50 rows, not for every row sorted.
    ordered = query.with_only_columns(FollowUp.id).order_by(
        urgency, FollowUp.next_review_date.is_(None), FollowUp.next_review_date, FollowUp.id
    )
    # The counts above give the total: no second count over the same rows.
    pagination = db.paginate(ordered, page=page, per_page=per_page, error_out=False, count=False)
    pagination.total = total
    loaded = {
        f.id: f
        for f in db.session.scalars(
            select(FollowUp)
            .where(FollowUp.id.in_(pagination.items))
            .options(
                joinedload(FollowUp.recommendation).joinedload(Recommendation.activity),
                joinedload(FollowUp.state),
            )
        )
    }
    pagination.items = [loaded[i] for i in pagination.items if i in loaded]
    return StateFollowUps(pagination, counts)


@dataclass
class StateAtAGlance:
    """How one member state stands in its follow-ups of recommendations in force."""

    state_id: int
    name: str
    open: int = 0
    overdue: int = 0
    pending: int = 0
    last_update_at: datetime | None = None
    # The follow-up updated last, which the last update's date links to.
    last_follow_up_id: int | None = None


def states_at_a_glance(today: date) -> list[StateAtAGlance]:
    """Every member state with its open follow-ups (of recommendations in force), those
    overdue, those awaiting validation and its last update.

    One query however many states and follow-ups: the open and waiting counts come from the
    figures kept on write (``tallies``); the overdue ones are counted in the index of a
    state's follow-ups by status and review date (which holds the recommendation, so that
    withdrawn ones are left out without reading the rows); the last update is the top of
    the index of a state's follow-ups by update. Kept until the follow-ups change or the day
    does."""
    return memoised("states_at_a_glance", today, _GLANCE_READS, lambda: _states_at_a_glance(today))


_GLANCE_READS = watch(FollowUp, StatusUpdate, Recommendation, State)


def _states_at_a_glance(today: date) -> list[StateAtAGlance]:
    tally = tallies.FollowUpTally
    of_state = and_(tally.theme == tallies.EVERY_THEME, tally.state_id == State.id)
    open_values = [s.value for s in OPEN_STATUSES]
    withdrawn = select(Recommendation.id).where(Recommendation.withdrawn_at.is_not(None))
    state_follow_ups = and_(
        FollowUp.state_id == State.id, FollowUp.recommendation_id.not_in(withdrawn)
    )
    latest = (
        select(FollowUp.id, FollowUp.last_update_at)
        .where(state_follow_ups, FollowUp.last_update_at.is_not(None))
        .order_by(FollowUp.last_update_at.desc(), FollowUp.id.desc())
        .limit(1)
    )
    rows = db.session.execute(
        select(
            State.id,
            State.name,
            select(func.coalesce(func.sum(tally.n), 0))
            .where(of_state, or_(tally.status.in_(open_values), tally.pending.is_(True)))
            .scalar_subquery(),
            select(func.count())
            .select_from(FollowUp)
            .where(state_follow_ups, FollowUp.is_overdue(today))
            .scalar_subquery(),
            select(func.coalesce(func.sum(tally.n), 0))
            .where(of_state, tally.pending.is_(True))
            .scalar_subquery(),
            latest.with_only_columns(FollowUp.last_update_at).scalar_subquery(),
            latest.with_only_columns(FollowUp.id).scalar_subquery(),
        )
        .where(State.is_member.is_(True))
        .order_by(State.name)
    ).all()
    return [StateAtAGlance(*row) for row in rows]


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


def update_for_validation(update_id: int) -> StatusUpdate | None:
    """One status update with what its validation page shows: the follow-up, its
    recommendation and activity, the author, the evidence and who decided."""
    return db.session.scalar(
        select(StatusUpdate)
        .where(StatusUpdate.id == update_id)
        .options(
            joinedload(StatusUpdate.author),
            joinedload(StatusUpdate.validated_by),
            selectinload(StatusUpdate.evidence),
            joinedload(StatusUpdate.follow_up).options(
                joinedload(FollowUp.state),
                joinedload(FollowUp.organisation),
                joinedload(FollowUp.recommendation).joinedload(Recommendation.activity),
            ),
        )
    )


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
    (kept until the data, the day or the days of ``deadlines`` change).

    Read from the figures of the day kept on write (``tallies.day_figures``: the scope's
    rows summed) when they are counted for ``today`` and the days in force; else counted
    live over every follow-up of the scope, as they are right after midnight until the
    reminder scheduler's next tick counts the new day (a few minutes), and after the
    administrator changes the days until the next tick or ``flask kpplan recount``. A page
    never counts the day itself: a GET writes nothing."""
    limits = deadlines.current()
    return memoised(
        "follow_up_summary",
        (scope, today, limits),
        _STAMPED,
        lambda: _follow_up_summary(scope, today, limits),
    )


def _follow_up_summary(scope: Scope, today: date, limits: deadlines.Deadlines) -> Summary:
    kept = tallies.day_figures(db.session.connection(), scope.state_id, today, limits)
    if kept is not None:
        return Summary(**kept)
    return live_summary(scope, today, limits)


def live_summary(scope: Scope, today: date, limits: deadlines.Deadlines) -> Summary:
    """``follow_up_summary`` counted over every follow-up of the scope (one query)."""
    row = db.session.execute(
        _in_force()
        .where(scope.where())
        .with_only_columns(
            func.sum(case((overdue(today), 1), else_=0)),
            func.sum(case((FollowUp.is_due_soon(today, limits.due_soon_days), 1), else_=0)),
            func.sum(
                case(
                    (FollowUp.is_stale(deadlines.start_of(today), limits.stale_days), 1),
                    else_=0,
                )
            ),
            func.sum(case((FollowUp.pending_update_id.is_not(None), 1), else_=0)),
        )
    ).one()
    return Summary(*(int(v or 0) for v in row))
