"""Review snapshots: every follow-up's status frozen at a Senior Officials' Meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpplan.core.db import Base, UTCDateTime, enum_column, utcnow
from kpplan.directory.models import User
from kpplan.meetings.models import Activity
from kpplan.recommendations.statuses import FollowUpStatus


class ReviewSnapshot(Base):
    """The follow-up of every recommendation in force, as it stood when the secretariat
    took the snapshot at a Senior Officials' Meeting (one per meeting). Never edited."""

    __tablename__ = "review_snapshots"
    __audit_label__ = "Review snapshots"
    __audit_noun__ = "review snapshot"
    __audit_link__ = "review.snapshot", "snapshot_id"
    __audit_eager__ = ("activity",)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), unique=True
    )
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # How many follow-ups it froze; written once, right after the entries.
    entry_count: Mapped[int] = mapped_column(Integer, default=0)

    activity: Mapped[Activity] = relationship()
    taken_by: Mapped[User | None] = relationship()

    @property
    def audit_name(self) -> str:
        return f"taken at ‘{self.activity.title}’"

    def __repr__(self) -> str:
        return f"<ReviewSnapshot {self.id} at activity {self.activity_id}>"


class SnapshotEntry(Base):
    """One follow-up in a snapshot: its addressee state (empty for an organisation or the
    secretariat), its counted status, and whether a move to implemented awaited validation."""

    __tablename__ = "snapshot_entries"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("review_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="CASCADE"), primary_key=True
    )
    state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    status: Mapped[FollowUpStatus] = mapped_column(enum_column(FollowUpStatus, "follow_up_status"))
    pending: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # The page of a snapshot reads its entries by state; a follow-up's own rows by id.
        Index("ix_snapshot_entries_snapshot_id_state_id", "snapshot_id", "state_id"),
        Index("ix_snapshot_entries_follow_up_id", "follow_up_id"),
    )


class SnapshotDifference(Base):
    """What changed for one state between a snapshot and the one before it, counted once
    when the snapshot is taken (and again for the next one if a snapshot is taken at an
    earlier meeting afterwards): snapshots never change, so neither do these rows.

    ``state_id`` 0 stands for the organisations and the secretariat.
    """

    __tablename__ = "snapshot_differences"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("review_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    # Not a foreign key: 0 is no state.
    state_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The snapshot compared with (None: the first one); a row whose earlier snapshot is no
    # longer the one before is counted again.
    previous_id: Mapped[int | None] = mapped_column(Integer)
    follow_ups: Mapped[int] = mapped_column(Integer, default=0)
    implemented: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    to_implemented: Mapped[int] = mapped_column(Integer, default=0)
    other_changes: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    gone: Mapped[int] = mapped_column(Integer, default=0)


class SnapshotChange(Base):
    """A follow-up that moved (or appeared) between a snapshot and the one before it,
    found once when the snapshot is taken. Statuses by their values, without a CHECK
    constraint: a new follow-up status needs no migration here."""

    __tablename__ = "snapshot_changes"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("review_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="CASCADE"), primary_key=True
    )
    state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    status_before: Mapped[str | None] = mapped_column(String(32))
    pending_before: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(32))
    pending: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_snapshot_changes_snapshot_id_state_id", "snapshot_id", "state_id"),
        Index("ix_snapshot_changes_follow_up_id", "follow_up_id"),
    )
