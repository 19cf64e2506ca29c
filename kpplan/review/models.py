"""Review snapshots: every follow-up's status frozen at a Senior Officials' Meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpplan.core.db import Base, UTCDateTime, enum_column, utcnow
from kpplan.directory.models import User
from kpplan.meetings.models import Activity
from kpplan.recommendations.models import FollowUpStatus


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
