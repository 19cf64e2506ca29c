"""Recommendations of a meeting: their wording, themes, lineage and earlier wordings, and
their meeting date kept in step with the activity.

How each addressee follows one up, and the status updates, are in ``follow_up_models``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from kpplan.core.db import (
    Base,
    LabelledEnum,
    Timestamped,
    UTCDateTime,
    Versioned,
    enum_column,
    utcnow,
)
from kpplan.directory.models import User
from kpplan.meetings.models import Activity

# Imported, not only named: whoever loads the recommendations loads their follow-ups, so the
# mappers configure (some modules do it as they load, with ``aliased``).
from kpplan.recommendations.follow_up_models import FollowUp


class Priority(LabelledEnum):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Lineage(LabelledEnum):
    """How a recommendation relates to its predecessor; ``inverse_label`` reads it from there."""

    SUPERSEDES = "supersedes", "Supersedes", "Superseded by"
    RE_ENDORSES = "re_endorses", "Re-endorses", "Re-endorsed by"

    def __init__(self, value: str, label: str, inverse_label: str) -> None:
        self.inverse_label = inverse_label


class Recommendation(Versioned, Timestamped, Base):
    """A recommendation agreed at an activity, addressed to states, organisations or the
    secretariat; each addressee follows it up in its own ``FollowUp``."""

    __tablename__ = "recommendations"
    __audit_label__ = "Recommendations"
    __audit_noun__ = "recommendation"
    __audit_link__ = "recommendations.recommendation", "recommendation_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    number: Mapped[int] = mapped_column(Integer)
    # The activity's start date, kept here so that lists sort and page by meeting date on
    # one index (``ix_recommendations_list_order``); kept in step by ``_keep_meeting_dates``.
    meeting_date: Mapped[date] = mapped_column(Date)
    # Built from the activity when recorded, e.g. TM-2022-07/R3; kept if the activity moves.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    text: Mapped[str] = mapped_column(Text)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "priority"))
    target_date: Mapped[date | None] = mapped_column(Date)
    # Addressed to every member state (one follow-up each) rather than chosen ones.
    to_all_members: Mapped[bool] = mapped_column(Boolean, default=False)
    # Demo data says so wherever it appears.
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    predecessor_id: Mapped[int | None] = mapped_column(ForeignKey("recommendations.id"))
    lineage: Mapped[Lineage | None] = mapped_column(enum_column(Lineage, "lineage"))

    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    activity: Mapped[Activity] = relationship()
    predecessor: Mapped[Recommendation | None] = relationship(remote_side=[id])
    themes: Mapped[list[RecommendationTheme]] = relationship(
        back_populates="recommendation",
        cascade="all, delete-orphan",
        order_by="RecommendationTheme.code",
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="recommendation", cascade="all, delete-orphan", order_by="FollowUp.id"
    )
    revisions: Mapped[list[WordingRevision]] = relationship(
        back_populates="recommendation",
        cascade="all, delete-orphan",
        order_by="WordingRevision.id",
    )

    __table_args__ = (
        UniqueConstraint("activity_id", "number"),
        CheckConstraint(
            "(predecessor_id IS NULL) = (lineage IS NULL)", name="lineage_with_predecessor"
        ),
        CheckConstraint("predecessor_id <> id", name="not_its_own_predecessor"),
        Index("ix_recommendations_predecessor_id", "predecessor_id"),
        Index("ix_recommendations_target_date", "target_date"),
        # The lists' order, newest meeting first, then by activity and number: pages are
        # read from this index (backwards, each meeting's few rows sorted on the way) by
        # their last row's key (``core.paging``).
        Index("ix_recommendations_list_order", "meeting_date", "activity_id", "number"),
        # The few withdrawn ones, so that a count of a state's follow-ups leaves out those of
        # withdrawn recommendations without reading every recommendation (``lists``).
        Index(
            "ix_recommendations_withdrawn",
            "id",
            sqlite_where=sql_text("withdrawn_at IS NOT NULL"),
            postgresql_where=sql_text("withdrawn_at IS NOT NULL"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Recommendation {self.code}>"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def theme_codes(self) -> list[str]:
        return [t.code for t in self.themes]


class RecommendationTheme(Base):
    """A thematic tag of a recommendation (a code of ``themes.THEMES``)."""

    __tablename__ = "recommendation_themes"

    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(20), primary_key=True)

    recommendation: Mapped[Recommendation] = relationship(back_populates="themes")

    __table_args__ = (Index("ix_recommendation_themes_code", "code"),)


class WordingRevision(Base):
    """The earlier wording of a recommendation changed after follow-up had begun."""

    __tablename__ = "wording_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE")
    )
    text: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)

    recommendation: Mapped[Recommendation] = relationship(back_populates="revisions")
    replaced_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_wording_revisions_recommendation_id", "recommendation_id"),)


@event.listens_for(Session, "before_flush")
def _keep_meeting_dates(session: Session, _context: object, _instances: object) -> None:
    """A recommendation's ``meeting_date`` is its activity's start date: set when it is
    recorded (by any door: the form, an import, the demo) and moved with the activity
    when its dates change (an edit, a postponement), in the same flush."""
    for item in list(session.new) + list(session.dirty):
        if isinstance(item, Recommendation):
            changed = inspect(item).attrs.activity_id.history.has_changes()
            if item.meeting_date is None or changed:
                activity = item.activity or session.get(Activity, item.activity_id)
                if activity is not None:
                    item.meeting_date = activity.start_date
        elif (
            isinstance(item, Activity)
            and item.id is not None
            and inspect(item).attrs.start_date.history.has_changes()
        ):
            session.execute(
                update(Recommendation)
                .where(Recommendation.activity_id == item.id)
                .values(meeting_date=item.start_date),
                execution_options={"synchronize_session": "evaluate"},
            )
