"""Reading review snapshots: those taken at Senior Officials' Meetings, and what changed
from one to the next, state by state and follow-up by follow-up. What changed is read from
the rows kept when a snapshot is taken (``services.store_comparison``), or counted here in
SQL over the two snapshots' entries when none is kept against the snapshot before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import g
from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.orm import aliased, joinedload

from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State
from kpplan.meetings.models import Activity
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.review.models import (
    ReviewSnapshot,
    SnapshotChange,
    SnapshotDifference,
    SnapshotEntry,
)


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
    return _neighbour(snapshot, later=False)


def next_snapshot(snapshot: ReviewSnapshot) -> ReviewSnapshot | None:
    """The snapshot of the meeting after this one (by the meetings' dates)."""
    return _neighbour(snapshot, later=True)


def _neighbour(snapshot: ReviewSnapshot, later: bool) -> ReviewSnapshot | None:
    """The nearest snapshot after (or before) this one, by the meetings' dates, then by
    the order they were taken in for meetings on the same day."""
    day = snapshot.activity.start_date
    if later:
        beyond = or_(
            Activity.start_date > day,
            and_(Activity.start_date == day, ReviewSnapshot.id > snapshot.id),
        )
        order = (Activity.start_date, ReviewSnapshot.id)
    else:
        beyond = or_(
            Activity.start_date < day,
            and_(Activity.start_date == day, ReviewSnapshot.id < snapshot.id),
        )
        order = (Activity.start_date.desc(), ReviewSnapshot.id.desc())
    return db.session.scalar(
        select(ReviewSnapshot)
        .join(Activity, ReviewSnapshot.activity_id == Activity.id)
        .where(beyond)
        .options(joinedload(ReviewSnapshot.activity))
        .order_by(*order)
        .limit(1)
    )


# --- Comparison -----------------------------------------------------------------------


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


def pair_entries(snapshot: ReviewSnapshot, previous: ReviewSnapshot | None):
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
    """Per state (within the scope), how its follow-ups stood at ``snapshot`` and what
    changed since ``previous``: read from the rows counted when the snapshot was taken
    (``services.store_comparison``), or counted now if they compare with another snapshot than
    ``previous`` (one taken since at an earlier meeting, before ``kpplan recount``)."""
    if not stored_against(snapshot, previous):
        return count_differences(snapshot, previous, scope)
    query = (
        select(SnapshotDifference, State.name)
        .outerjoin(State, State.id == SnapshotDifference.state_id)
        .where(SnapshotDifference.snapshot_id == snapshot.id)
    )
    if not scope.everything:
        query = query.where(SnapshotDifference.state_id == scope.state_id)
    found = [
        StateDifference(
            row.state_id or None,
            name or OTHERS,
            row.follow_ups,
            row.implemented,
            row.pending,
            row.to_implemented,
            row.other_changes,
            row.new,
            row.gone,
        )
        for row, name in db.session.execute(query)
    ]
    return sorted(found, key=lambda d: (d.state_id is None, d.name))


def stored_against(snapshot: ReviewSnapshot, previous: ReviewSnapshot | None) -> bool:
    """Whether the comparison kept for ``snapshot`` is with ``previous`` (read once per
    request)."""
    key = (snapshot.id, previous.id if previous else None)
    asked = g.setdefault("kept_comparisons", {})
    if key not in asked:
        asked[key] = _readstored_against(snapshot, previous)
    return asked[key]


def _readstored_against(snapshot: ReviewSnapshot, previous: ReviewSnapshot | None) -> bool:
    stored = db.session.execute(
        select(SnapshotDifference.previous_id)
        .where(SnapshotDifference.snapshot_id == snapshot.id)
        .limit(1)
    ).first()
    return stored is not None and stored[0] == (previous.id if previous else None)


def forget_kept_comparisons() -> None:
    """Forget what this request read of the kept comparisons (they are being counted
    again)."""
    g.pop("kept_comparisons", None)


def count_differences(
    snapshot: ReviewSnapshot, previous: ReviewSnapshot | None, scope: Scope
) -> list[StateDifference]:
    """Per state, how its follow-ups stood at ``snapshot`` and what changed since
    ``previous``: moves to implemented, other changes of status (or of a pending
    validation), new follow-ups, and follow-ups no longer in force. Two grouped queries
    that join the two snapshots' entries."""
    cur, prev, joined, moved, other, new = pair_entries(snapshot, previous)

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
    """The follow-ups that moved since ``previous`` (or are new), by state and code, read
    from those found when the snapshot was taken (or found now, as ``differences``)."""
    if previous is None:
        return []
    if not stored_against(snapshot, previous):
        return count_changes(snapshot, previous, scope, state_id, limit)
    kept = SnapshotChange
    query = select().select_from(kept).where(kept.snapshot_id == snapshot.id)
    if not scope.everything:
        query = query.where(kept.state_id == scope.state_id)
    return _read_changes(
        query,
        (kept.follow_up_id, kept.state_id, kept.status_before, kept.pending_before),
        (kept.status, kept.pending),
        state_id,
        limit,
    )


def count_changes(
    snapshot: ReviewSnapshot,
    previous: ReviewSnapshot | None,
    scope: Scope,
    state_id: int | None = None,
    limit: int = 500,
) -> list[Change]:
    """The follow-ups that moved since ``previous`` (or are new), by state and code,
    found now over the two snapshots' entries: one query. Empty without an earlier
    snapshot."""
    if previous is None:
        return []
    cur, prev, joined, moved, other, new = pair_entries(snapshot, previous)
    return _read_changes(
        joined.where(or_(moved, other, new), _entry_scope(cur, scope)),
        (cur.follow_up_id, cur.state_id, prev.status, prev.pending),
        (cur.status, cur.pending),
        state_id,
        limit,
    )


def _read_changes(query, before, after, state_id: int | None, limit: int) -> list[Change]:
    """The changes ``query`` selects from, by state and code, with each one's
    recommendation and addressee. ``before`` is (follow-up, state, status, pending) of the
    earlier snapshot's side, ``after`` (status, pending) of the later one's."""
    follow_up_id, entry_state_id, status_before, pending_before = before
    query = (
        query.add_columns(
            follow_up_id,
            Recommendation.id,
            Recommendation.code,
            State.name,
            Organisation.name,
            Organisation.acronym,
            entry_state_id,
            status_before,
            pending_before,
            *after,
        )
        .join(FollowUp, FollowUp.id == follow_up_id)
        .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .outerjoin(State, State.id == entry_state_id)
        .outerjoin(Organisation, Organisation.id == FollowUp.organisation_id)
        .order_by(State.name.is_(None), State.name, Recommendation.code, follow_up_id)
        .limit(limit)
    )
    if state_id is not None:
        query = query.where(entry_state_id == state_id)
    found = []
    for row in db.session.execute(query):
        (fid, rid, code, state, org, acronym, sid, was, was_pending, now, now_pending) = row
        addressee = state or (f"{org} ({acronym})" if acronym else org) or "Secretariat"
        # Kept rows hold statuses by value; the entries, as members.
        found.append(
            Change(
                fid,
                rid,
                code,
                addressee,
                sid,
                FollowUpStatus(was) if was else None,
                bool(was_pending),
                FollowUpStatus(now),
                bool(now_pending),
            )
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
