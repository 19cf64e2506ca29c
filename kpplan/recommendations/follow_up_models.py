"""How each addressee follows a recommendation up: its ``FollowUp``, with the one
definition of "overdue", "due soon", "not updated" and the urgency made of them, and the
status updates that change it, with their evidence.

The recommendations themselves are in ``models``; the statuses in ``statuses``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpplan.core.db import Base, UTCDateTime, Versioned, enum_column, utcnow
from kpplan.core.names import possessive
from kpplan.directory.models import Organisation, State, User
from kpplan.recommendations.deadlines import Deadlines, start_of
from kpplan.recommendations.statuses import OPEN_STATUSES, FollowUpStatus, Validation

if TYPE_CHECKING:  # ``models`` imports this module; the mappers find it by name
    from kpplan.recommendations.models import Recommendation


def addressee_name(state: str | None, organisation: str | None) -> str:
    """Whom a follow-up is addressed to, by name: its state, else its organisation (display
    name), else the secretariat (for rows read without the objects)."""
    if state is not None:
        return state
    if organisation is not None:
        return organisation
    return "Secretariat"


class FollowUp(Versioned, Base):
    """How one addressee (a state, an organisation or the secretariat) follows a
    recommendation up. Changed only by status updates; versioned against lost updates."""

    __tablename__ = "follow_ups"
    __audit_label__ = "Follow-ups"
    __audit_noun__ = "follow-up"
    __audit_link__ = "recommendations.follow_up", "follow_up_id"
    __audit_eager__ = ("recommendation", "state", "organisation")

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE")
    )
    state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    for_secretariat: Mapped[bool] = mapped_column(Boolean, default=False)

    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus, "follow_up_status"), default=FollowUpStatus.NOT_STARTED
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    # None: the progress the status implies.
    progress: Mapped[int | None] = mapped_column(Integer)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the addressee next reports; starts at the recommendation's target date.
    next_review_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A move to "implemented" waiting for the secretariat; the status counts only once accepted.
    pending_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_updates.id", use_alter=True)
    )

    recommendation: Mapped[Recommendation] = relationship(back_populates="follow_ups")
    state: Mapped[State | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    pending_update: Mapped[StatusUpdate | None] = relationship(
        foreign_keys=[pending_update_id], post_update=True
    )
    updates: Mapped[list[StatusUpdate]] = relationship(
        back_populates="follow_up",
        foreign_keys="StatusUpdate.follow_up_id",
        cascade="all, delete-orphan",
        order_by="StatusUpdate.id",
    )

    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN state_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN for_secretariat THEN 1 ELSE 0 END) = 1",
            name="one_addressee",
        ),
        CheckConstraint("progress IS NULL OR progress BETWEEN 0 AND 100", name="progress_range"),
        UniqueConstraint("recommendation_id", "state_id"),
        UniqueConstraint("recommendation_id", "organisation_id"),
        # "My state's follow-ups" and the reminders look for a state's open ones by date;
        # the follow-ups at a glance count a state's overdue ones in force from it alone.
        Index(
            "ix_follow_ups_state_id_status_next_review_date",
            "state_id",
            "status",
            "next_review_date",
            "recommendation_id",
        ),
        # A state's last update (the follow-ups at a glance).
        Index("ix_follow_ups_state_id_last_update_at", "state_id", "last_update_at"),
        Index("ix_follow_ups_status_next_review_date", "status", "next_review_date"),
        Index("ix_follow_ups_organisation_id", "organisation_id"),
        # A focal point's lists: the recommendations addressed to their state.
        Index("ix_follow_ups_state_id_recommendation_id", "state_id", "recommendation_id"),
        # Lists of recommendations filtered by follow-up status.
        Index("ix_follow_ups_status_recommendation_id", "status", "recommendation_id"),
    )

    def __repr__(self) -> str:
        return f"<FollowUp {self.id} of recommendation {self.recommendation_id}>"

    @property
    def audit_phrase(self) -> str:
        """How the history names it: "Kenya's follow-up of KP-2022/R3"."""
        return f"{possessive(self.addressee)} follow-up of {self.recommendation.code}"

    @property
    def addressee(self) -> str:
        return addressee_name(
            self.state.name if self.state is not None else None,
            self.organisation.display_name if self.organisation is not None else None,
        )

    @property
    def effective_progress(self) -> int | None:
        if self.progress is not None:
            return self.progress
        return self.status.implied_progress

    # "Overdue", "due soon", "not updated" and the urgency made of them: one definition
    # each, in Python for a loaded follow-up and in SQL for queries. The days come from
    # ``deadlines`` (the pages) or the reminder settings (the rules). Each asks first whether
    # the follow-up waits for its addressee: open, and no implementation it reported awaiting
    # the secretariat's validation (then it waits for the secretariat, as the validation
    # queue and its reminder say, and is none of the three).

    @hybrid_property
    def waits_for_addressee(self) -> bool:
        """Open (not implemented, not applicable, not superseded) and no implementation
        awaiting the secretariat's validation."""
        return not self.status.is_closed and self.pending_update_id is None

    @waits_for_addressee.inplace.expression
    @classmethod
    def _waits_for_addressee_expression(cls) -> ColumnElement[bool]:
        return and_(cls.status.in_(OPEN_STATUSES), cls.pending_update_id.is_(None))

    @hybrid_method
    def is_overdue(self, today: date) -> bool:
        """It waits for its addressee and its next review date has passed."""
        return (
            self.waits_for_addressee
            and self.next_review_date is not None
            and self.next_review_date < today
        )

    @is_overdue.inplace.expression
    @classmethod
    def _is_overdue_expression(cls, today: date) -> ColumnElement[bool]:
        return and_(cls.waits_for_addressee, cls.next_review_date < today)

    @hybrid_method
    def is_due_soon(self, today: date, days: int) -> bool:
        """It waits for its addressee and its next review date is today or within ``days``."""
        return (
            self.waits_for_addressee
            and self.next_review_date is not None
            and today <= self.next_review_date <= today + timedelta(days=days)
        )

    @is_due_soon.inplace.expression
    @classmethod
    def _is_due_soon_expression(cls, today: date, days: int) -> ColumnElement[bool]:
        return and_(
            cls.waits_for_addressee,
            cls.next_review_date >= today,
            cls.next_review_date <= today + timedelta(days=days),
        )

    @hybrid_method
    def is_stale(self, moment: datetime, days: int) -> bool:
        """It waits for its addressee and had no update (never updated: was recorded)
        more than ``days`` before ``moment``."""
        last = self.last_update_at or self.created_at
        return self.waits_for_addressee and last < moment - timedelta(days=days)

    @is_stale.inplace.expression
    @classmethod
    def _is_stale_expression(cls, moment: datetime, days: int) -> ColumnElement[bool]:
        last = func.coalesce(cls.last_update_at, cls.created_at)
        return and_(cls.waits_for_addressee, last < moment - timedelta(days=days))

    @hybrid_method
    def urgency(self, today: date, limits: Deadlines) -> int:
        """How urgent it is, as an index into ``deadlines.URGENCIES``: overdue, else due
        soon, else not updated (counted from the start of today), else open."""
        if self.is_overdue(today):
            return 0
        if self.is_due_soon(today, limits.due_soon_days):
            return 1
        if self.is_stale(start_of(today), limits.stale_days):
            return 2
        return 3

    @urgency.inplace.expression
    @classmethod
    def _urgency_expression(cls, today: date, limits: Deadlines) -> ColumnElement[int]:
        return case(
            (cls.is_overdue(today), 0),
            (cls.is_due_soon(today, limits.due_soon_days), 1),
            (cls.is_stale(start_of(today), limits.stale_days), 2),
            else_=3,
        )


class StatusUpdate(Base):
    """A report on a follow-up: never edited or deleted, so the updates form its timeline.

    Only the secretariat's validation of a move to "implemented" is written afterwards.
    """

    __tablename__ = "status_updates"
    __audit_label__ = "Status updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_before: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus, "status_before")
    )
    status: Mapped[FollowUpStatus] = mapped_column(enum_column(FollowUpStatus, "new_status"))
    progress: Mapped[int | None] = mapped_column(Integer)
    narrative: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    next_review_date: Mapped[date | None] = mapped_column(Date)

    validation: Mapped[Validation | None] = mapped_column(enum_column(Validation, "validation"))
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validation_comment: Mapped[str | None] = mapped_column(Text)

    follow_up: Mapped[FollowUp] = relationship(
        back_populates="updates", foreign_keys=[follow_up_id]
    )
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="status_update", cascade="all, delete-orphan", order_by="Evidence.id"
    )

    __table_args__ = (
        Index("ix_status_updates_follow_up_id", "follow_up_id"),
        # The validation queue and its reminder.
        Index("ix_status_updates_validation_posted_at", "validation", "posted_at"),
    )

    @property
    def shown_progress(self) -> int | None:
        return self.progress if self.progress is not None else self.status.implied_progress


class Evidence(Base):
    """A link or a file that supports a status update."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    status_update_id: Mapped[int] = mapped_column(
        ForeignKey("status_updates.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    original_name: Mapped[str | None] = mapped_column(String(200))
    stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(Integer)

    status_update: Mapped[StatusUpdate] = relationship(back_populates="evidence")

    __table_args__ = (
        CheckConstraint("(url IS NULL) <> (stored_name IS NULL)", name="link_or_file"),
        Index("ix_evidence_status_update_id", "status_update_id"),
    )

    @property
    def is_file(self) -> bool:
        return self.stored_name is not None
