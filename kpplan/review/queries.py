"""Read paths of the Chair's review: each runs a fixed number of queries, whatever the
number of items, follow-ups or activities, and counts in SQL where it can.

Follow-up figures take a ``Scope``: a focal point sees only their own state's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.orm import aliased, joinedload

from kpplan.chair.models import HELD_STATUSES, Chairmanship, ItemStatus, WorkPlanItem
from kpplan.core.cache import memoised
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Status
from kpplan.recommendations import figures, follow_up_queries
from kpplan.recommendations import queries as rec_queries
from kpplan.recommendations.models import (
    OPEN_STATUSES,
    FollowUp,
    FollowUpStatus,
    Recommendation,
    StatusUpdate,
)
from kpplan.recommendations.queries import Scope
from kpplan.review.models import ReviewSnapshot, SnapshotEntry

OVERDUE_SHOWN = 10
# The most rows a list of the handover page shows; its workbook holds up to LIST_LIMIT.
PAGE_ROWS = 100
LIST_LIMIT = 5000

# --- The term ------------------------------------------------------------------------


def term_end(chairmanship: Chairmanship, today: date) -> date | None:
    """The last day of the term for the review: its end, or today while it runs."""
    if chairmanship.start_date is None:
        return None
    return chairmanship.end_date or max(today, chairmanship.start_date)


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


# --- Work-plan progress --------------------------------------------------------------

# The order of the stacked bar: delivered first, then what may still come, then the rest.
PROGRESS_ORDER = ("held_on_time", "held_late", "scheduled", "not_scheduled", "late", "dropped")
PROGRESS_LABELS = {
    "held_on_time": "Held by the target",
    "held_late": "Held after the target",
    "scheduled": "Scheduled",
    "not_scheduled": "Not scheduled",
    "late": "Late, not held",
    "dropped": "Dropped",
}


@dataclass
class ItemProgress:
    item: WorkPlanItem
    status: ItemStatus
    held_on: date | None = None

    @property
    def category(self) -> str:
        if self.status is ItemStatus.HELD:
            on_time = self.held_on is not None and self.held_on <= self.item.due_by
            return "held_on_time" if on_time else "held_late"
        return self.status.value

    @property
    def on_time(self) -> bool | None:
        """For a held item: was it held by its target? None for the others."""
        if self.status is not ItemStatus.HELD:
            return None
        return self.category == "held_on_time"

    @property
    def delivered(self) -> bool:
        return self.status in (ItemStatus.HELD, ItemStatus.DROPPED)


@dataclass
class WorkPlanProgress:
    items: list[ItemProgress] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(PROGRESS_ORDER, 0)
        for entry in self.items:
            counts[entry.category] += 1
        return counts

    @property
    def planned(self) -> int:
        return len(self.items)

    @property
    def held(self) -> int:
        counts = self.counts
        return counts["held_on_time"] + counts["held_late"]

    @property
    def not_delivered(self) -> list[ItemProgress]:
        """Items neither held nor dropped: what the incoming Chair inherits."""
        return [e for e in self.items if not e.delivered]


def work_plan_progress(chairmanship: Chairmanship, today: date) -> WorkPlanProgress:
    """Each item of the Chair's work plan with its status on ``today`` and, once held, the
    day its first held delivering activity began (to tell on time from late). The plan,
    items and activities must be loaded (``chair.queries.chairmanship_page``)."""
    plan = chairmanship.work_plan
    if plan is None:
        return WorkPlanProgress()
    entries = []
    for item in plan.items:
        held = [a.start_date for a in item.activities if a.status in HELD_STATUSES]
        entries.append(ItemProgress(item, item.status_on(today), min(held) if held else None))
    return WorkPlanProgress(entries)


# --- Activities ----------------------------------------------------------------------


def activities_between(start: date, end: date) -> list[Activity]:
    """The activities that begin between ``start`` and ``end``, cancelled ones included
    (the page marks them), by date."""
    return db.session.scalars(
        select(Activity)
        .where(Activity.start_date.between(start, end))
        .order_by(Activity.start_date, Activity.id)
        .limit(LIST_LIMIT)
    ).all()


def upcoming_activities(today: date, limit: int = LIST_LIMIT) -> list[Activity]:
    """Activities from today on that are not cancelled, soonest first."""
    return db.session.scalars(
        select(Activity)
        .where(Activity.start_date >= today, Activity.status != Status.CANCELLED)
        .order_by(Activity.start_date, Activity.id)
        .limit(limit)
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
    longest overdue first, with their recommendation and addressee.

    One short query per open status walks the (status, review date) index in order and
    stops at ``limit``; sorting every overdue follow-up (100,000 at scale) is avoided.
    """
    candidates = []
    for status in OPEN_STATUSES:
        candidates += db.session.execute(
            select(FollowUp.next_review_date, FollowUp.id)
            .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
            .where(
                Recommendation.withdrawn_at.is_(None),
                FollowUp.status == status,
                FollowUp.next_review_date < today,
                scope.where(),
            )
            .order_by(FollowUp.next_review_date, FollowUp.id)
            .limit(limit)
        ).all()
    ids = [row.id for row in sorted(candidates)[:limit]]
    if not ids:
        return []
    return db.session.scalars(
        select(FollowUp)
        .where(FollowUp.id.in_(ids))
        .options(
            joinedload(FollowUp.recommendation).joinedload(Recommendation.activity),
            joinedload(FollowUp.state),
            joinedload(FollowUp.organisation),
        )
        .order_by(FollowUp.next_review_date, FollowUp.id)
    ).all()


# --- Open recommendations for the handover -------------------------------------------


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


def open_recommendations(scope: Scope, today: date, limit: int = LIST_LIMIT):
    """``_open_recommendations``, kept until the data changes or the day does."""
    return memoised(
        "open_recommendations",
        (scope, today, limit),
        (FollowUp, StatusUpdate, Recommendation, Activity),
        lambda: _open_recommendations(scope, today, limit),
    )


def _open_recommendations(scope: Scope, today: date, limit: int = LIST_LIMIT):
    """Recommendations in force that an addressee (within the scope) still follows up,
    oldest meeting first, with how many addressees stand at each status: one query."""
    open_ = or_(FollowUp.status.in_(OPEN_STATUSES), FollowUp.pending_update_id.is_not(None))
    overdue = rec_queries.overdue(today)

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        select(
            Recommendation.id,
            Recommendation.code,
            Recommendation.text,
            Recommendation.target_date,
            Activity.title,
            Activity.start_date,
            func.count(FollowUp.id),
            *(count_if(FollowUp.status == s) for s in FollowUpStatus),
            count_if(FollowUp.pending_update_id.is_not(None)),
            count_if(overdue),
        )
        .join(FollowUp, FollowUp.recommendation_id == Recommendation.id)
        .join(Activity, Recommendation.activity_id == Activity.id)
        .where(Recommendation.withdrawn_at.is_(None), scope.where())
        .group_by(
            Recommendation.id,
            Recommendation.code,
            Recommendation.text,
            Recommendation.target_date,
            Recommendation.number,
            Activity.title,
            Activity.start_date,
        )
        .having(func.sum(case((open_, 1), else_=0)) > 0)
        .order_by(Activity.start_date, Recommendation.code)
        .limit(limit)
    ).all()
    statuses = list(FollowUpStatus)
    found = []
    for row in rows:
        counts = [int(v or 0) for v in row[6:]]
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
                pending=counts[-2],
                overdue=counts[-1],
            )
        )
    return found


# --- Snapshots -----------------------------------------------------------------------


def snapshot_of(activity_id: int) -> ReviewSnapshot | None:
    """The snapshot taken at an activity (a Senior Officials' Meeting), if any."""
    return db.session.scalar(
        select(ReviewSnapshot).where(ReviewSnapshot.activity_id == activity_id)
    )


def snapshots_between(start: date, end: date) -> list[ReviewSnapshot]:
    """Snapshots taken at meetings that began between ``start`` and ``end``, by date."""
    return db.session.scalars(
        select(ReviewSnapshot)
        .join(Activity, ReviewSnapshot.activity_id == Activity.id)
        .where(Activity.start_date.between(start, end))
        .options(joinedload(ReviewSnapshot.activity))
        .order_by(Activity.start_date, ReviewSnapshot.id)
    ).all()


def snapshot_page(snapshot_id: int) -> ReviewSnapshot | None:
    """One snapshot with its meeting and who took it."""
    return db.session.scalar(
        select(ReviewSnapshot)
        .where(ReviewSnapshot.id == snapshot_id)
        .options(joinedload(ReviewSnapshot.activity), joinedload(ReviewSnapshot.taken_by))
    )


def previous_snapshot(snapshot: ReviewSnapshot) -> ReviewSnapshot | None:
    """The snapshot of the meeting before this one (by the meetings' dates)."""
    day = snapshot.activity.start_date
    return db.session.scalar(
        select(ReviewSnapshot)
        .join(Activity, ReviewSnapshot.activity_id == Activity.id)
        .where(
            or_(
                Activity.start_date < day,
                and_(Activity.start_date == day, ReviewSnapshot.id < snapshot.id),
            )
        )
        .options(joinedload(ReviewSnapshot.activity))
        .order_by(Activity.start_date.desc(), ReviewSnapshot.id.desc())
        .limit(1)
    )


@dataclass
class StateDifference:
    """What changed for one state (or, with ``state_id`` None, for the organisations and
    the secretariat) between two snapshots."""

    state_id: int | None
    name: str
    follow_ups: int
    implemented: int
    pending: int
    to_implemented: int = 0
    other_changes: int = 0
    new: int = 0
    gone: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.to_implemented or self.other_changes or self.new or self.gone)


@dataclass
class Change:
    follow_up_id: int
    recommendation_id: int
    code: str
    addressee: str
    state_id: int | None
    before: FollowUpStatus | None
    before_pending: bool
    after: FollowUpStatus
    after_pending: bool

    @property
    def kind(self) -> str:
        if self.before is None:
            return "new"
        if self.after is FollowUpStatus.IMPLEMENTED and self.before is not self.after:
            return "implemented"
        return "changed"


CHANGE_LABELS = {
    "implemented": "Moved to implemented",
    "changed": "Other change",
    "new": "New follow-up",
}
OTHERS = "Organisations and the secretariat"


def _entry_scope(entry, scope: Scope):
    return entry.state_id == scope.state_id if scope.state_id else True


def _pair(snapshot: ReviewSnapshot, previous: ReviewSnapshot | None):
    """The entries of ``snapshot`` with, beside each, the same follow-up's entry in
    ``previous`` (if any)."""
    cur = aliased(SnapshotEntry, name="cur")
    prev = aliased(SnapshotEntry, name="prev")
    previous_id = previous.id if previous is not None else None
    joined = (
        select()
        .select_from(cur)
        .outerjoin(
            prev,
            and_(prev.follow_up_id == cur.follow_up_id, prev.snapshot_id == previous_id),
        )
        .where(cur.snapshot_id == snapshot.id)
    )
    moved = and_(
        prev.follow_up_id.is_not(None),
        cur.status == FollowUpStatus.IMPLEMENTED,
        prev.status != FollowUpStatus.IMPLEMENTED,
    )
    other = and_(
        prev.follow_up_id.is_not(None),
        not_(moved),
        or_(cur.status != prev.status, cur.pending != prev.pending),
    )
    new = prev.follow_up_id.is_(None) if previous is not None else False
    return cur, prev, joined, moved, other, new


def differences(
    snapshot: ReviewSnapshot, previous: ReviewSnapshot | None, scope: Scope
) -> list[StateDifference]:
    """``_differences``, kept until the data changes (snapshots themselves never do)."""
    return memoised(
        "snapshot_differences",
        (snapshot.id, previous.id if previous else None, scope),
        (ReviewSnapshot, FollowUp, Recommendation),
        lambda: _differences(snapshot, previous, scope),
    )


def _differences(
    snapshot: ReviewSnapshot, previous: ReviewSnapshot | None, scope: Scope
) -> list[StateDifference]:
    """Per state, how its follow-ups stood at ``snapshot`` and what changed since
    ``previous``: moves to implemented, other changes of status (or of a pending
    validation), new follow-ups, and follow-ups no longer in force. Two grouped queries
    that join the two snapshots' entries."""
    cur, prev, joined, moved, other, new = _pair(snapshot, previous)

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        joined.add_columns(
            cur.state_id,
            State.name,
            func.count(),
            count_if(cur.status == FollowUpStatus.IMPLEMENTED),
            count_if(cur.pending),
            count_if(moved),
            count_if(other),
            count_if(new) if previous is not None else func.sum(0),
        )
        .outerjoin(State, State.id == cur.state_id)
        .where(_entry_scope(cur, scope))
        .group_by(cur.state_id, State.name)
    ).all()
    found = {
        state_id: StateDifference(state_id, name or OTHERS, *(int(v or 0) for v in rest))
        for state_id, name, *rest in rows
    }
    if previous is not None:
        # Follow-ups in the earlier snapshot and not in this one: withdrawn meanwhile.
        old = aliased(SnapshotEntry, name="old")
        later = aliased(SnapshotEntry, name="later")
        gone_rows = db.session.execute(
            select(old.state_id, State.name, func.count())
            .select_from(old)
            .outerjoin(
                later,
                and_(later.follow_up_id == old.follow_up_id, later.snapshot_id == snapshot.id),
            )
            .outerjoin(State, State.id == old.state_id)
            .where(old.snapshot_id == previous.id, later.follow_up_id.is_(None))
            .where(_entry_scope(old, scope))
            .group_by(old.state_id, State.name)
        ).all()
        for state_id, name, count in gone_rows:
            row = found.setdefault(state_id, StateDifference(state_id, name or OTHERS, 0, 0, 0))
            row.gone = int(count)
    return sorted(found.values(), key=lambda d: (d.state_id is None, d.name))


def changes(
    snapshot: ReviewSnapshot,
    previous: ReviewSnapshot | None,
    scope: Scope,
    state_id: int | None = None,
    limit: int = 500,
) -> list[Change]:
    """``_changes``, kept until the data changes."""
    return memoised(
        "snapshot_changes",
        (snapshot.id, previous.id if previous else None, scope, state_id, limit),
        (ReviewSnapshot, FollowUp, Recommendation),
        lambda: _changes(snapshot, previous, scope, state_id, limit),
    )


def _changes(
    snapshot: ReviewSnapshot,
    previous: ReviewSnapshot | None,
    scope: Scope,
    state_id: int | None = None,
    limit: int = 500,
) -> list[Change]:
    """The follow-ups that moved since ``previous`` (or are new), by state and code: one
    query. Empty without an earlier snapshot."""
    if previous is None:
        return []
    cur, prev, joined, moved, other, new = _pair(snapshot, previous)
    query = (
        joined.add_columns(
            cur.follow_up_id,
            Recommendation.id,
            Recommendation.code,
            State.name,
            Organisation.name,
            Organisation.acronym,
            cur.state_id,
            prev.status,
            prev.pending,
            cur.status,
            cur.pending,
        )
        .join(FollowUp, FollowUp.id == cur.follow_up_id)
        .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .outerjoin(State, State.id == cur.state_id)
        .outerjoin(Organisation, Organisation.id == FollowUp.organisation_id)
        .where(or_(moved, other, new), _entry_scope(cur, scope))
        .order_by(State.name.is_(None), State.name, Recommendation.code, cur.follow_up_id)
        .limit(limit)
    )
    if state_id is not None:
        query = query.where(cur.state_id == state_id)
    found = []
    for row in db.session.execute(query):
        (fid, rid, code, state, org, acronym, sid, before, before_p, after, after_p) = row
        addressee = state or (f"{org} ({acronym})" if acronym else org) or "Secretariat"
        found.append(
            Change(fid, rid, code, addressee, sid, before, bool(before_p), after, bool(after_p))
        )
    return found


def totals(rows: list[StateDifference]) -> StateDifference:
    """The sum of the rows, as a row of its own."""
    total = StateDifference(None, "All", 0, 0, 0)
    for row in rows:
        for name in (
            "follow_ups",
            "implemented",
            "pending",
            "to_implemented",
            "other_changes",
            "new",
            "gone",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


# --- The pages -----------------------------------------------------------------------


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


@dataclass
class HandoverPack:
    chairmanship: Chairmanship
    successor: Chairmanship | None
    open_recommendations: list[OpenRecommendation]
    overdue: list[FollowUp]
    overdue_total: int
    upcoming: list[Activity]
    not_delivered: list[ItemProgress]


def handover_pack(
    chairmanship: Chairmanship, scope: Scope, today: date, overdue_limit: int = LIST_LIMIT
) -> HandoverPack:
    """What the outgoing Chair hands over: open and overdue recommendations, upcoming
    activities and the items of its work plan neither held nor dropped. The page asks for
    fewer overdue follow-ups than the workbook (``overdue_limit``), and says how many."""
    return HandoverPack(
        chairmanship=chairmanship,
        successor=successor_of(chairmanship),
        open_recommendations=open_recommendations(scope, today),
        overdue=overdue_follow_ups(scope, today, overdue_limit),
        overdue_total=follow_up_queries.follow_up_summary(scope, today).overdue,
        upcoming=upcoming_activities(today),
        not_delivered=work_plan_progress(chairmanship, today).not_delivered,
    )
