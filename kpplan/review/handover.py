"""The handover pack: what the outgoing Chair hands over to the incoming one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import joinedload

from kpplan.chair.models import Chairmanship
from kpplan.core.cache import memoised, watch
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity, Status
from kpplan.recommendations import follow_up_queries, tallies
from kpplan.recommendations import queries as rec_queries
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.recommendations.statuses import OPEN_STATUSES, FollowUpStatus
from kpplan.recommendations.tallies import EVERY_THEME, FollowUpTally, RecommendationTally
from kpplan.review.progress import ItemProgress, work_plan_progress
from kpplan.review.queries import (
    ACTIVITIES_READ,
    LIST_LIMIT,
    ActivityRow,
    OverdueFollowUp,
    activity_columns,
    activity_row,
    overdue_follow_ups,
)

# The most rows a list of the handover page shows; its workbook holds up to LIST_LIMIT.
PAGE_ROWS = 100


def successor_of(chairmanship: Chairmanship) -> Chairmanship | None:
    """The Chair that follows: the first to start after this one began, or else a Chair
    designated without a date. None for an undated Chair."""
    if chairmanship.start_date is None:
        return None
    return db.session.scalar(
        select(Chairmanship)
        .where(
            Chairmanship.id != chairmanship.id,
            or_(
                Chairmanship.start_date > chairmanship.start_date,
                Chairmanship.start_date.is_(None),
            ),
        )
        .options(joinedload(Chairmanship.state))
        .order_by(Chairmanship.start_date.is_(None), Chairmanship.start_date, Chairmanship.id)
        .limit(1)
    )


def upcoming_activities(today: date, limit: int = LIST_LIMIT) -> tuple[list[ActivityRow], int]:
    """The first ``limit`` activities from today on that are not cancelled, soonest first,
    and how many there are in all (counted in the same query); kept until an activity
    changes (a status update leaves them)."""
    return memoised(
        "upcoming_activities", (today, limit), ACTIVITIES_READ, lambda: _upcoming(today, limit)
    )


def _upcoming(today: date, limit: int) -> tuple[list[ActivityRow], int]:
    rows = db.session.execute(
        select(*activity_columns(), func.count().over().label("total"))
        .where(Activity.start_date >= today, Activity.status != Status.CANCELLED)
        .order_by(Activity.start_date, Activity.id)
        .limit(limit)
    ).all()
    return [activity_row(r) for r in rows], rows[0].total if rows else 0


# --- Open recommendations -------------------------------------------------------------


@dataclass
class OpenRecommendation:
    id: int
    code: str
    text: str
    target_date: date | None
    activity_title: str
    activity_date: date
    addressees: int
    by_status: dict[FollowUpStatus, int]
    pending: int
    overdue: int


def open_recommendations(
    scope: Scope, today: date, limit: int = LIST_LIMIT, detailed: int | None = None
) -> list[OpenRecommendation]:
    """Recommendations in force that an addressee (within the scope) still follows up,
    oldest meeting first, with how many addressees stand at each status (from the figures
    kept on write) and, for the first ``detailed`` of them (all when None), how many are
    overdue. The list is kept until the follow-ups or the activities change; the overdue
    counts are read each time (they depend on the day)."""
    found = memoised(
        "open_recommendations",
        (scope, limit),
        _OPEN_READS,
        lambda: _open_recommendations(scope, limit),
    )
    shown = found if detailed is None else found[:detailed]
    overdue = _overdue_counts([r.id for r in shown], scope, today)
    # Copies: the kept list is shared by every request.
    return [replace(r, overdue=overdue.get(r.id, 0)) for r in shown] + found[len(shown) :]


_OPEN_READS = watch(FollowUp, StatusUpdate, Recommendation, Activity, tallies.ProcessTally)


def first_open_recommendations(
    scope: Scope, today: date, rows: int
) -> tuple[list[OpenRecommendation], int]:
    """The first ``rows`` of ``open_recommendations`` (the same order and counts, with
    their overdue counts), and how many there are in all: for the page, which shows no
    more. Read from the recommendations in their meeting order, each asked whether one of
    its addressees still follows it up (the figures kept on write; a focal point's: their
    follow-up); how many there are is kept on write too (``tallies.open_recommendations``;
    a focal point's: their state's open follow-ups), so that the page adds up no open
    recommendation after a write."""

    def compute() -> tuple[list[OpenRecommendation], int]:
        if scope.everything:
            total = tallies.open_recommendations(db.session.connection())
        else:
            # A state follows each recommendation up once: its open follow-ups, read from
            # the figures kept on write.
            total = db.session.scalar(
                select(func.coalesce(func.sum(FollowUpTally.n), 0)).where(
                    FollowUpTally.theme == EVERY_THEME,
                    FollowUpTally.state_id == scope.state_id,
                    or_(
                        FollowUpTally.status.in_([s.value for s in OPEN_STATUSES]),
                        FollowUpTally.pending.is_(True),
                    ),
                )
            )
        if not total:
            return [], 0
        # The first ones as a subquery of the grouped one that reads their counts, and
        # how many of their addressees are overdue today.
        first = _still_open(scope).order_by(Recommendation.meeting_date, Recommendation.code)
        first = first.limit(rows)
        return _open_recommendations(scope, rows, first, overdue_on=today), total

    # Kept for the day: only a follow-up's change (or an activity's, a recommendation's)
    # changes the rows, and the overdue counts besides them only with the day.
    return memoised("first_open_recommendations", (scope, rows, today), _OPEN_READS, compute)


def _still_open(scope: Scope):
    """The ids of the recommendations in force that an addressee (within the scope) still
    follows up: open, or with a move to "implemented" awaiting validation."""
    open_values = [s.value for s in OPEN_STATUSES]
    if scope.everything:
        tally = RecommendationTally
        followed = (
            select(tally.recommendation_id)
            .where(
                tally.recommendation_id == Recommendation.id,
                tally.n > 0,
                or_(tally.status.in_(open_values), tally.pending.is_(True)),
            )
            .exists()
        )
    else:
        followed = (
            select(FollowUp.id)
            .where(
                FollowUp.recommendation_id == Recommendation.id,
                scope.where(),
                or_(FollowUp.status.in_(OPEN_STATUSES), FollowUp.pending_update_id.is_not(None)),
            )
            .exists()
        )
    return select(Recommendation.id).where(Recommendation.withdrawn_at.is_(None), followed)


def _open_recommendations(
    scope: Scope, limit: int, ids=None, overdue_on: date | None = None
) -> list[OpenRecommendation]:
    """``ids``: the recommendations to read (a list, or a select of their ids), or None
    for every open one (up to ``limit``). ``overdue_on``: a day to count the overdue
    addressees (within the scope) of each at, in the same statement, for a few
    recommendations (the page's first ones)."""
    if scope.everything:
        source = select(
            RecommendationTally.recommendation_id.label("rid"),
            RecommendationTally.status.label("status"),
            RecommendationTally.pending.label("pending"),
            RecommendationTally.n.label("n"),
        ).subquery()
    else:
        # A focal point's: their state's follow-up of each recommendation (one row each).
        source = (
            select(
                FollowUp.recommendation_id.label("rid"),
                FollowUp.status.label("status"),
                FollowUp.pending_update_id.is_not(None).label("pending"),
                literal(1).label("n"),
            )
            .where(scope.where())
            .subquery()
        )
    open_values = [s.value for s in OPEN_STATUSES]

    def count_if(condition):
        return func.sum(case((condition, source.c.n), else_=0))

    statuses = list(FollowUpStatus)
    query = (
        select(
            Recommendation.id,
            Recommendation.code,
            Recommendation.text,
            Recommendation.target_date,
            Activity.title,
            Activity.start_date,
            func.sum(source.c.n),
            *(count_if(source.c.status == s.value) for s in statuses),
            count_if(source.c.pending),
        )
        .select_from(source)
        .join(Recommendation, Recommendation.id == source.c.rid)
        .join(Activity, Recommendation.activity_id == Activity.id)
        .where(Recommendation.withdrawn_at.is_(None))
        .group_by(
            Recommendation.id,
            Recommendation.code,
            Recommendation.text,
            Recommendation.target_date,
            Activity.title,
            Activity.start_date,
        )
        .having(
            func.sum(
                case(
                    (or_(source.c.status.in_(open_values), source.c.pending), source.c.n),
                    else_=0,
                )
            )
            > 0
        )
        .order_by(Activity.start_date, Recommendation.code)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(Recommendation.id.in_(ids))
    if overdue_on is not None:
        # Counted in the column, not filtered, as ``_overdue_counts`` does: filtered, a
        # database without statistics (SQLite is never analysed) walks the review dates'
        # index instead, every overdue follow-up of the Process for each recommendation
        # (18 s for the first 100 at 100x, against a few ms through each one's follow-ups).
        overdue = (
            select(func.coalesce(func.sum(case((rec_queries.overdue(overdue_on), 1), else_=0)), 0))
            .where(FollowUp.recommendation_id == Recommendation.id, scope.where())
            .scalar_subquery()
        )
        query = query.add_columns(overdue)
    rows = db.session.execute(query).all()
    found = []
    for row in rows:
        counts = [int(v or 0) for v in row[6 : 6 + len(statuses) + 2]]
        found.append(
            OpenRecommendation(
                id=row[0],
                code=row[1],
                text=row[2],
                target_date=row[3],
                activity_title=row[4],
                activity_date=row[5],
                addressees=counts[0],
                by_status=dict(zip(statuses, counts[1 : 1 + len(statuses)], strict=True)),
                pending=counts[-1],
                overdue=row[-1] if overdue_on is not None else 0,
            )
        )
    return found


def _overdue_counts(ids: list[int], scope: Scope, today: date) -> dict[int, int]:
    """How many addressees (within the scope) of each of ``ids`` are overdue."""
    found: dict[int, int] = {}
    for start in range(0, len(ids), 2000):
        found.update(
            db.session.execute(
                # Overdue counted in the columns, not filtered: the recommendations' ids
                # then choose the index (the review dates' index would read every overdue
                # follow-up of the Process).
                select(
                    FollowUp.recommendation_id,
                    func.sum(case((rec_queries.overdue(today), 1), else_=0)),
                )
                .where(FollowUp.recommendation_id.in_(ids[start : start + 2000]), scope.where())
                .group_by(FollowUp.recommendation_id)
            ).all()
        )
    return found


# --- The pack -------------------------------------------------------------------------


@dataclass
class HandoverLists:
    """The follow-up and activity lists of a handover pack: the same for every Chair."""

    open_recommendations: list[OpenRecommendation]
    # How many there are in all (the page lists the first ``PAGE_ROWS`` only).
    open_total: int
    overdue: list[OverdueFollowUp]
    overdue_total: int
    upcoming: list[ActivityRow]
    # How many there are in all (the page reads the first ``PAGE_ROWS`` only).
    upcoming_total: int


@dataclass
class HandoverPack(HandoverLists):
    chairmanship: Chairmanship
    successor: Chairmanship | None
    not_delivered: list[ItemProgress]


def handover_lists(
    scope: Scope, today: date, overdue_limit: int = LIST_LIMIT, open_rows: int | None = None
) -> HandoverLists:
    """The open and overdue recommendations and the upcoming activities of a handover
    pack. The page asks for fewer overdue follow-ups than the workbook
    (``overdue_limit``), for the first ``open_rows`` open recommendations and as many
    upcoming activities only, and says how many there are of each."""
    if open_rows is None:
        found = open_recommendations(scope, today)
        total = len(found)
    else:
        found, total = first_open_recommendations(scope, today, open_rows)
    upcoming, upcoming_total = upcoming_activities(today, open_rows or LIST_LIMIT)
    return HandoverLists(
        open_recommendations=found,
        open_total=total,
        overdue=overdue_follow_ups(scope, today, overdue_limit),
        overdue_total=follow_up_queries.follow_up_summary(scope, today).overdue,
        upcoming=upcoming,
        upcoming_total=upcoming_total,
    )


def handover_pack(chairmanship: Chairmanship, scope: Scope, today: date) -> HandoverPack:
    """What the outgoing Chair hands over, as the workbook holds it: open and overdue
    recommendations, upcoming activities (``handover_lists``, up to ``LIST_LIMIT`` each)
    and the items of its work plan neither held nor dropped."""
    lists = handover_lists(scope, today)
    return HandoverPack(
        **vars(lists),
        chairmanship=chairmanship,
        successor=successor_of(chairmanship),
        not_delivered=work_plan_progress(chairmanship, today).not_delivered,
    )
