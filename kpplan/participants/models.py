"""An activity's invitation list, its invitations (one per delegation) and the delegates."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpplan.core.db import Base, Timestamped, UTCDateTime, Versioned, enum_column
from kpplan.core.names import in_sentence
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.models import Activity


class Answer(enum.Enum):
    """A delegation's answer to its invitation. Naming a delegate accepts it."""

    AWAITING = "awaiting"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {"awaiting": "No answer yet", "accepted": "Accepted", "declined": "Declined"}[
            self.value
        ]


class Gender(enum.Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    NOT_GIVEN = "not_given"

    @property
    def label(self) -> str:
        return {
            "female": "Woman",
            "male": "Man",
            "other": "Another gender",
            "not_given": "Not given",
        }[self.value]


class ParticipantStatus(enum.Enum):
    """Where a delegate stands: named by the focal point, then decided by the secretariat."""

    NOMINATED = "nominated"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {
            "nominated": "Nominated",
            "confirmed": "Confirmed",
            "waitlisted": "On the waiting list",
            "refused": "Refused",
            "withdrawn": "Withdrawn",
        }[self.value]

    @property
    def takes_a_seat(self) -> bool:
        """Counted against the delegation's quota: everyone not refused or withdrawn."""
        return self in SEATED


SEATED = (ParticipantStatus.NOMINATED, ParticipantStatus.CONFIRMED, ParticipantStatus.WAITLISTED)
# What the secretariat decides on a nomination.
DECISIONS = (ParticipantStatus.CONFIRMED, ParticipantStatus.WAITLISTED, ParticipantStatus.REFUSED)


class InvitationList(Versioned, Timestamped, Base):
    """Who an activity invites, with how many seats each and until when they may nominate.

    Once attendance has been ticked, the activity's figures are computed from the list and
    kept here (they stay when the delegates' details are erased).
    """

    __tablename__ = "invitation_lists"
    __audit_label__ = "Invitation lists"
    __audit_noun__ = "invitation list"
    __audit_eager__ = ("activity",)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), unique=True
    )
    # Seats per delegation (empty: as many as the delegation names).
    seats_per_delegation: Mapped[int | None] = mapped_column(Integer)
    # Focal points name and change their delegates until the end of this day.
    nomination_deadline: Mapped[date | None] = mapped_column(Date)
    # When the secretariat sent the invitations; the reminder tick mails each focal point.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Figures from the attendance, from the first time it was ticked.
    attendance_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[int | None] = mapped_column(Integer)
    countries: Mapped[int | None] = mapped_column(Integer)
    organisations: Mapped[int | None] = mapped_column(Integer)
    women: Mapped[int | None] = mapped_column(Integer)
    # When the delegates' personal details were erased (only the counts remain).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    activity: Mapped[Activity] = relationship()
    sent_by: Mapped[User | None] = relationship()

    @property
    def audit_name(self) -> str:
        return f"for ‘{self.activity.title}’"

    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="invitation_list", cascade="all, delete-orphan", order_by="Invitation.id"
    )

    __table_args__ = (
        CheckConstraint(
            "seats_per_delegation IS NULL OR seats_per_delegation > 0", name="seats_positive"
        ),
    )

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def has_figures(self) -> bool:
        return self.attendance_taken_at is not None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def women_share(self) -> int | None:
        """The share of women among those who came, in whole per cent."""
        if not self.attended or self.women is None:
            return None
        return round(100 * self.women / self.attended)

    def open_for_nominations(self, today: date) -> bool:
        """True until the end of the deadline day (always, without a deadline)."""
        return self.nomination_deadline is None or today <= self.nomination_deadline


class Invitation(Versioned, Timestamped, Base):
    """One delegation invited to an activity: a state (through its focal points) or an
    organisation (whose participants the secretariat enters)."""

    __tablename__ = "invitations"
    __audit_label__ = "Invitations"
    __audit_noun__ = "invitation"
    __audit_eager__ = ("state", "organisation", "invitation_list.activity")

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("invitation_lists.id", ondelete="CASCADE"))
    state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    answer: Mapped[Answer] = mapped_column(enum_column(Answer, "invitation_answer"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(300))
    # How many of the delegation came, kept with the figures (and after the erasure).
    attended: Mapped[int | None] = mapped_column(Integer)

    invitation_list: Mapped[InvitationList] = relationship(back_populates="invitations")
    state: Mapped[State | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", order_by="Participant.id"
    )

    __table_args__ = (
        UniqueConstraint("list_id", "state_id"),
        UniqueConstraint("list_id", "organisation_id"),
        CheckConstraint(
            "(state_id IS NULL) <> (organisation_id IS NULL)", name="state_or_organisation"
        ),
        Index("ix_invitations_state_id", "state_id"),
        Index("ix_invitations_organisation_id", "organisation_id"),
    )

    @property
    def audit_phrase(self) -> str:
        title = self.invitation_list.activity.title
        return f"the invitation of {in_sentence(self.delegation)} to ‘{title}’"

    @property
    def audit_link(self) -> tuple[str, dict[str, int]]:
        """The delegation's page, where the history links the invitation."""
        values = {"activity_id": self.invitation_list.activity_id, "invitation_id": self.id}
        return "participants.delegation", values

    @property
    def delegation(self) -> str:
        """The delegation's name: the state's, or the organisation's acronym or name."""
        if self.state is not None:
            return self.state.name
        return self.organisation.acronym or self.organisation.name

    @property
    def is_state(self) -> bool:
        return self.state_id is not None

    @property
    def seated(self) -> list[Participant]:
        return [p for p in self.participants if p.status.takes_a_seat]

    def count(self, status: ParticipantStatus) -> int:
        return sum(1 for p in self.participants if p.status is status)


class Participant(Versioned, Timestamped, Base):
    """A delegate named for an invitation. A person, not an account: erased after the
    retention period, when only the list's counts remain."""

    __tablename__ = "participants"
    __audit_label__ = "Participants"
    __audit_noun__ = "delegate"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    function: Mapped[str | None] = mapped_column(String(200))
    institution: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender, "participant_gender"))
    visa_letter: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language the delegate needs interpretation into, if any.
    interpretation: Mapped[str | None] = mapped_column(String(100))
    other_needs: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ParticipantStatus] = mapped_column(
        enum_column(ParticipantStatus, "participant_status")
    )
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    invitation: Mapped[Invitation] = relationship(back_populates="participants")

    __table_args__ = (Index("ix_participants_invitation_id_status", "invitation_id", "status"),)

    @property
    def needs(self) -> list[str]:
        """What the delegate needs, in words, for the lists."""
        found = []
        if self.visa_letter:
            found.append("visa letter")
        if self.interpretation:
            found.append(f"interpretation ({self.interpretation})")
        if self.other_needs:
            found.append(self.other_needs)
        return found
