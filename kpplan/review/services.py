"""Taking review snapshots: validate, insert, audit; and counting once, when a snapshot is
taken, what changed since the one before, kept beside it. The caller commits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from kpplan.audit import services as audit
from kpplan.core import clock, dates
from kpplan.core.db import taken_meanwhile
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.directory.models import User
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Status
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.review import snapshots
from kpplan.review.models import (
    ReviewSnapshot,
    SnapshotChange,
    SnapshotDifference,
    SnapshotEntry,
)


def _refuse_a_second(activity: Activity) -> None:
    existing = db.session.scalar(
        select(ReviewSnapshot).where(ReviewSnapshot.activity_id == activity.id)
    )
    if existing is not None:
        raise DomainError(
            f"A snapshot was already taken at {activity.title}, on "
            f"{dates.moment(existing.taken_at, clock.timezone())}. It stays as it was taken."
        )


def take_snapshot(actor: User | None, activity: Activity, today: date) -> ReviewSnapshot:
    """Freeze the follow-up of every recommendation in force at a Senior Officials' Meeting.

    The entries are written by one ``INSERT … SELECT`` from the follow-ups, so that the
    database copies them however many there are; what changed since the snapshot before is
    counted and kept with it. Raises ``DomainError`` for an activity
    that is not a Senior Officials' Meeting, a cancelled one, one that has not begun yet,
    or one that already has its snapshot (a snapshot is never taken twice or replaced:
    the record of what stood at a meeting does not change afterwards).
    """
    if activity.kind is not ActivityKind.SENIOR_OFFICIALS:
        raise DomainError(
            f"{activity.title} is a {activity.kind.label.lower()}: review snapshots are taken "
            "at Senior Officials' Meetings only."
        )
    if activity.status is Status.CANCELLED:
        raise DomainError(f"{activity.title} was cancelled: no snapshot can be taken at it.")
    if activity.start_date > today:
        raise DomainError(
            f"{activity.title} begins on {activity.first_day}: take its snapshot "
            "from the first day of the meeting."
        )
    _refuse_a_second(activity)
    snapshot = ReviewSnapshot(activity_id=activity.id, taken_by_id=actor.id if actor else None)
    try:
        with db.session.begin_nested():
            db.session.add(snapshot)
            db.session.flush()
    except IntegrityError as error:
        # Taken by someone else at the same moment: refused as any second attempt is.
        if not taken_meanwhile(error, ReviewSnapshot.__tablename__):
            raise
        _refuse_a_second(activity)
        raise
    db.session.execute(
        insert(SnapshotEntry).from_select(
            ["snapshot_id", "follow_up_id", "state_id", "status", "pending"],
            select(
                literal(snapshot.id),
                FollowUp.id,
                FollowUp.state_id,
                FollowUp.status,
                FollowUp.pending_update_id.is_not(None),
            )
            .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
            .where(Recommendation.withdrawn_at.is_(None)),
        )
    )
    # Counted rather than read from the cursor: not every driver reports the rows an
    # INSERT … SELECT wrote (psycopg through SQLAlchemy gives -1).
    snapshot.entry_count = db.session.scalar(
        select(func.count())
        .select_from(SnapshotEntry)
        .where(SnapshotEntry.snapshot_id == snapshot.id)
    )
    # What changed since the snapshot before, counted once; and for the one after, if this
    # meeting comes between two that have theirs already.
    store_comparison(snapshot)
    following = snapshots.next_snapshot(snapshot)
    if following is not None:
        store_comparison(following)
    audit.record(
        actor,
        "created",
        snapshot,
        f"Review snapshot taken at {activity.title}: {snapshot.entry_count} follow-ups.",
        after={"activity_id": activity.id, "entry_count": snapshot.entry_count},
    )
    return snapshot


def store_comparison(snapshot: ReviewSnapshot) -> None:
    """Count once what changed between ``snapshot`` and the one before it, per state and
    follow-up by follow-up, and keep it (replacing an earlier comparison of it)."""
    previous = snapshots.previous_snapshot(snapshot)
    snapshots.forget_kept_comparisons()
    db.session.execute(
        delete(SnapshotDifference).where(SnapshotDifference.snapshot_id == snapshot.id)
    )
    db.session.execute(delete(SnapshotChange).where(SnapshotChange.snapshot_id == snapshot.id))
    rows = snapshots.count_differences(snapshot, previous, Scope())
    if not rows:
        # An empty snapshot still says what it was compared with.
        rows = [snapshots.StateDifference(None, snapshots.OTHERS, 0, 0, 0)]
    db.session.execute(
        insert(SnapshotDifference),
        [
            {
                "snapshot_id": snapshot.id,
                "state_id": row.state_id or 0,
                "previous_id": previous.id if previous else None,
                "follow_ups": row.follow_ups,
                "implemented": row.implemented,
                "pending": row.pending,
                "to_implemented": row.to_implemented,
                "other_changes": row.other_changes,
                "new": row.new,
                "gone": row.gone,
            }
            for row in rows
        ],
    )
    if previous is None:
        return
    cur, prev, joined, moved, other, new = snapshots.pair_entries(snapshot, previous)
    db.session.execute(
        insert(SnapshotChange).from_select(
            [
                "snapshot_id",
                "follow_up_id",
                "state_id",
                "status_before",
                "pending_before",
                "status",
                "pending",
            ],
            joined.add_columns(
                literal(snapshot.id),
                cur.follow_up_id,
                cur.state_id,
                prev.status,
                func.coalesce(prev.pending, False),
                cur.status,
                cur.pending,
            ).where(or_(moved, other, new)),
        )
    )


def compare_all() -> int:
    """Count again the comparison of every snapshot whose kept one is missing or made
    with another snapshot than the one before it; how many were counted."""
    counted = 0
    for snapshot in db.session.scalars(
        select(ReviewSnapshot).options(joinedload(ReviewSnapshot.activity))
    ).all():
        if not snapshots.stored_against(snapshot, snapshots.previous_snapshot(snapshot)):
            store_comparison(snapshot)
            counted += 1
    return counted
