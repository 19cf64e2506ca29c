"""Chairmanships of the Process, their work plans and the items of those plans."""

from __future__ import annotations

import enum
from datetime import date, timedelta

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Mapped, aliased, column_property, mapped_column, relationship

from kpplan.core.dates import day
from kpplan.core.db import Base, LabelledEnum, Timestamped, Versioned, enum_column
from kpplan.core.names import in_sentence
from kpplan.directory.models import State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Status


class Chairmanship(Versioned, Timestamped, Base):
    """A member state's term as Chair of the Process.

    ``start_date`` is empty for a Chair designated but not yet dated (an upcoming Chair);
    ``end_date`` is empty until the Chair hands over. A chairmanship covers its first and
    last day; on a handover day shared by two chairmanships, the incoming one counts.
    """

    __tablename__ = "chairmanships"
    __audit_label__ = "Chairmanships"
    __audit_noun__ = "chairmanship"
    __audit_link__ = "chair.chairmanship", "chairmanship_id"
    __audit_eager__ = ("state",)

    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("states.id"))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # The Senior Officials' Meeting at which this Chair took over.
    handover_activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)

    state: Mapped[State] = relationship()
    handover_activity: Mapped[Activity | None] = relationship()
    work_plan: Mapped[WorkPlan | None] = relationship(back_populates="chairmanship")

    __table_args__ = (
        CheckConstraint(
            "end_date IS NULL OR (start_date IS NOT NULL AND end_date >= start_date)",
            name="period_in_order",
        ),
        Index("ix_chairmanships_start_date", "start_date"),
        Index("ix_chairmanships_state_id", "state_id"),
    )

    def __repr__(self) -> str:
        return f"<Chairmanship {self.id} {self.start_date}>"

    @property
    def audit_phrase(self) -> str:
        return f"the {self.title}"

    @property
    def title(self) -> str:
        """How the texts name it: "the Chairmanship of South Sudan"."""
        return f"Chairmanship of {in_sentence(self.state.name)}"

    @property
    def ends_on(self) -> date | None:
        """The last day of the term: its end date, or else, for a term left open, the day
        the next Chair took over (the handover day both share); empty while it runs."""
        return self.end_date or self.next_start

    def phase_on(self, day: date) -> str:
        """Where the term stands on ``day``: "upcoming" (not started, or not yet dated),
        "current" or "past"."""
        if self.start_date is None or self.start_date > day:
            return "upcoming"
        if self.ends_on is not None and self.ends_on < day:
            return "past"
        return "current"

    def covers(self, day: date) -> bool:
        return (
            self.start_date is not None
            and self.start_date <= day
            and (self.end_date is None or day <= self.end_date)
        )


def in_order(chairmanships: list[Chairmanship]) -> list[Chairmanship]:
    """Chairmanships in the order they follow each other: by start, the undated last."""
    return sorted(
        chairmanships, key=lambda c: (c.start_date is None, c.start_date or date.max, c.id or 0)
    )


class WorkPlan(Versioned, Timestamped, Base):
    """The plan a Chair presents for its term, such as "Work Plan 2022/23"."""

    __tablename__ = "work_plans"
    __audit_label__ = "Work plans"
    __audit_noun__ = "work plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    chairmanship_id: Mapped[int] = mapped_column(
        ForeignKey("chairmanships.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)

    chairmanship: Mapped[Chairmanship] = relationship(back_populates="work_plan")
    items: Mapped[list[WorkPlanItem]] = relationship(
        back_populates="work_plan",
        cascade="all, delete-orphan",
        order_by="(WorkPlanItem.target_date, WorkPlanItem.id)",
    )

    @property
    def audit_phrase(self) -> str:
        """How the history names it: "the Work Plan 2022/23"."""
        return (
            f"the {self.title}"
            if self.title.lower().startswith("work plan")
            else (f"the work plan ‘{self.title}’")
        )


class TargetPrecision(enum.Enum):
    """Whether an item's target is a day or a quarter (then ``target_date`` is its first day)."""

    DAY = "day"
    QUARTER = "quarter"


class ItemStatus(LabelledEnum):
    NOT_SCHEDULED = "not_scheduled", "Not scheduled"
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    LATE = "late", "Late"
    DROPPED = "dropped", "Dropped"


# Which activities deliver which items; an activity may deliver items of several plans.
work_plan_item_activities = Table(
    "work_plan_item_activities",
    Base.metadata,
    Column("item_id", ForeignKey("work_plan_items.id", ondelete="CASCADE"), primary_key=True),
    Column("activity_id", ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_work_plan_item_activities_activity_id", "activity_id"),
)

HELD_STATUSES = (Status.HELD, Status.CLOSED)


def quarter_end(first_day: date) -> date:
    """The last day of the quarter that starts on ``first_day``."""
    month = first_day.month + 3
    year = first_day.year + (month > 12)
    return date(year, (month - 1) % 12 + 1, 1) - timedelta(days=1)


class WorkPlanItem(Versioned, Timestamped, Base):
    """One thing a Chair plans for its term: a kind of activity on a theme, by a target."""

    __tablename__ = "work_plan_items"
    __audit_label__ = "Work plan items"
    __audit_noun__ = "work plan item"
    __audit_link__ = "chair.item", "item_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_plan_id: Mapped[int] = mapped_column(ForeignKey("work_plans.id", ondelete="CASCADE"))
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind, "activity_kind"))
    theme: Mapped[str] = mapped_column(String(300))
    target_date: Mapped[date] = mapped_column(Date)
    target_precision: Mapped[TargetPrecision] = mapped_column(
        enum_column(TargetPrecision, "target_precision")
    )
    lead_state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    host_state_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # Set when the Chair gives the item up; the reason says why.
    dropped_reason: Mapped[str | None] = mapped_column(Text)

    work_plan: Mapped[WorkPlan] = relationship(back_populates="items")
    lead_state: Mapped[State | None] = relationship(foreign_keys=[lead_state_id])
    host_state: Mapped[State | None] = relationship(foreign_keys=[host_state_id])
    activities: Mapped[list[Activity]] = relationship(
        secondary=work_plan_item_activities, order_by="(Activity.start_date, Activity.id)"
    )

    __table_args__ = (
        Index("ix_work_plan_items_work_plan_id", "work_plan_id"),
        CheckConstraint(
            "dropped_reason IS NULL OR dropped_reason <> ''",
            name="dropped_with_reason",
        ),
    )

    @property
    def audit_name(self) -> str:
        return f"‘{self.theme}’"

    @property
    def due_by(self) -> date:
        """The last day of the target: the target date, or the last day of the quarter."""
        if self.target_precision is TargetPrecision.QUARTER:
            return quarter_end(self.target_date)
        return self.target_date

    @property
    def target_label(self) -> str:
        if self.target_precision is TargetPrecision.QUARTER:
            return f"Q{(self.target_date.month - 1) // 3 + 1} {self.target_date.year}"
        return day(self.target_date)

    def status_on(self, today: date) -> ItemStatus:
        """The item's status on ``today``, from its delivering activities.

        - dropped: given up, with a reason (set by hand; nothing else overrides it);
        - held: a delivering activity is held or closed;
        - late: otherwise, when the target's last day (``due_by``) has passed, or when every
          delivering activity that is not cancelled starts after it;
        - scheduled: otherwise, when a delivering activity is not cancelled;
        - not scheduled: otherwise (none linked, or all cancelled).
        """
        if self.dropped_reason:
            return ItemStatus.DROPPED
        live = [a for a in self.activities if a.status is not Status.CANCELLED]
        if any(a.status in HELD_STATUSES for a in live):
            return ItemStatus.HELD
        due = self.due_by
        if today > due or (live and all(a.start_date > due for a in live)):
            return ItemStatus.LATE
        return ItemStatus.SCHEDULED if live else ItemStatus.NOT_SCHEDULED


_later = aliased(Chairmanship)
#: The start of the next dated chairmanship, loaded with every chairmanship (one subquery,
#: no query more), so that a term left open reads as over once the next Chair has taken over.
Chairmanship.next_start = column_property(
    select(func.min(_later.start_date))
    .where(_later.start_date > Chairmanship.start_date)
    .correlate_except(_later)
    .scalar_subquery()
)
