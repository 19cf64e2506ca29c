"""Activities, the states and organisations that take part, and their roles."""

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
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpplan.core.dates import DatePrecision, day_range
from kpplan.core.db import (
    Base,
    LabelledEnum,
    Timestamped,
    UTCDateTime,
    Versioned,
    enum_column,
    utcnow,
)
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.kinds import ActivityKind


class Status(LabelledEnum):
    DRAFT = "draft", "Draft"
    PLANNED = "planned", "Planned"
    CONFIRMED = "confirmed", "Confirmed"
    HELD = "held", "Held"
    CLOSED = "closed", "Closed"
    POSTPONED = "postponed", "Postponed"
    CANCELLED = "cancelled", "Cancelled"


# The activity took place: its outcomes and recommendations can be recorded.
TOOK_PLACE = frozenset({Status.HELD, Status.CLOSED})


class Format(LabelledEnum):
    IN_PERSON = "in_person", "In person"
    VIRTUAL = "virtual", "Virtual"
    HYBRID = "hybrid", "Hybrid"


class StateRole(LabelledEnum):
    HOST = "host", "Host"
    CO_HOST = "co_host", "Co-host"
    CHAIR = "chair", "Chair"
    CO_CHAIR = "co_chair", "Co-chair"


class OrganisationRole(LabelledEnum):
    ORGANISER = "organiser", "Organiser"
    PARTNER = "partner", "Partner"
    SPEAKER = "speaker", "Speaker"
    IMPLEMENTING = "implementing", "Implementing organisation"


class Activity(Versioned, Timestamped, Base):
    """A meeting, workshop, training, webinar or roundtable of the Process."""

    __tablename__ = "activities"
    __audit_label__ = "Activities"
    __audit_noun__ = "activity"
    __audit_link__ = "meetings.activity", "activity_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind, "activity_kind"))
    title: Mapped[str] = mapped_column(String(300))
    theme: Mapped[str | None] = mapped_column(String(300))
    objectives: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # How much of the dates is known: an activity of 2016 whose day the texts do not give
    # keeps a date (the 1st of its month or year, for sorting) and reads "June 2016" or "2016".
    date_precision: Mapped[DatePrecision] = mapped_column(
        enum_column(DatePrecision, "date_precision"),
        default=DatePrecision.DAY,
        server_default=DatePrecision.DAY.value,
    )
    city: Mapped[str | None] = mapped_column(String(120))
    country_id: Mapped[int | None] = mapped_column(ForeignKey("states.id"))
    venue: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[Format] = mapped_column(enum_column(Format, "activity_format"))
    languages: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[Status] = mapped_column(enum_column(Status, "activity_status"))
    status_reason: Mapped[str | None] = mapped_column(Text)

    participants: Mapped[int | None] = mapped_column(Integer)
    countries_represented: Mapped[int | None] = mapped_column(Integer)
    organisations_represented: Mapped[int | None] = mapped_column(Integer)

    outcome_summary: Mapped[str | None] = mapped_column(Text)
    conclusions: Mapped[str | None] = mapped_column(Text)
    action_points: Mapped[str | None] = mapped_column(Text)

    # A series such as the 4-module webinar series: its title, and this module's place in it.
    series_title: Mapped[str | None] = mapped_column(String(300))
    series_position: Mapped[int | None] = mapped_column(Integer)
    series_size: Mapped[int | None] = mapped_column(Integer)

    # Where the Process's own texts disagree, the value kept and the other one noted here.
    record_note: Mapped[str | None] = mapped_column(Text)
    # A meeting of another process the record keeps (e.g. "Joint Valletta Action Plan
    # (JVAP)"): the statistics leave it out of the Process's own figures and show it apart.
    other_process: Mapped[str | None] = mapped_column(String(120))

    country: Mapped[State | None] = relationship()
    state_roles: Mapped[list[ActivityStateRole]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityStateRole.id"
    )
    organisations: Mapped[list[ActivityOrganisation]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityOrganisation.id"
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Document.id"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        order_by="(Milestone.due_date, Milestone.id)",
    )

    __table_args__ = (
        Index("ix_activities_start_date", "start_date"),
        Index("ix_activities_status_start_date", "status", "start_date"),
        Index("ix_activities_kind_start_date", "kind", "start_date"),
        Index("ix_activities_series_title", "series_title"),
    )

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.title!r}>"

    @property
    def took_place(self) -> bool:
        """Held or closed: what it agreed can be recorded."""
        return self.status in TOOK_PLACE

    @property
    def audit_name(self) -> str:
        """How the history names it: "‘Thematic Meeting on …’ in Khartoum"."""
        return f"‘{self.title}’ in {self.city}" if self.city else f"‘{self.title}’"

    @property
    def is_one_day(self) -> bool:
        return self.start_date == self.end_date

    @property
    def dates(self) -> str:
        """Its dates as people read them, at their precision: "12–13 Jul 2022", "2016"."""
        return day_range(self.start_date, self.end_date, self.date_precision)

    @property
    def first_day(self) -> str:
        """Its start date alone, at its precision: "12 Jul 2022", "June 2016"."""
        return day_range(self.start_date, self.start_date, self.date_precision)

    def states_with(self, role: StateRole) -> list[State]:
        return [r.state for r in self.state_roles if r.role is role]

    @property
    def host(self) -> State | None:
        hosts = self.states_with(StateRole.HOST)
        return hosts[0] if hosts else None

    @property
    def where(self) -> str:
        return place(self.format, self.city, self.country.name if self.country else None)


def place(format: Format, city: str | None, country: str | None) -> str:
    """Where an activity is held, as lists show it: "Online", "Nairobi, Kenya"."""
    if format is Format.VIRTUAL and not city:
        return "Online"
    return ", ".join(p for p in (city, country) if p)


class ActivityStateRole(Base):
    """A member state's role in an activity: host, co-host, chair or co-chair."""

    __tablename__ = "activity_state_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    state_id: Mapped[int] = mapped_column(ForeignKey("states.id"))
    role: Mapped[StateRole] = mapped_column(enum_column(StateRole, "state_role"))

    activity: Mapped[Activity] = relationship(back_populates="state_roles")
    state: Mapped[State] = relationship()

    @property
    def state_name(self) -> str:
        return self.state.name

    __table_args__ = (
        UniqueConstraint("activity_id", "state_id", "role"),
        Index("ix_activity_state_roles_state_id_role", "state_id", "role"),
    )


class ActivityOrganisation(Base):
    """An organisation involved in an activity, with its role."""

    __tablename__ = "activity_organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[OrganisationRole] = mapped_column(enum_column(OrganisationRole, "org_role"))

    activity: Mapped[Activity] = relationship(back_populates="organisations")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        UniqueConstraint("activity_id", "organisation_id", "role"),
        Index("ix_activity_organisations_organisation_id", "organisation_id"),
    )


class Relation(LabelledEnum):
    """How ``source`` relates to ``target``; ``inverse_label`` reads it from the other side."""

    PREPARES = "prepares", "Prepares", "Prepared by"
    FOLLOWS_UP_ON = "follows_up_on", "Follows up on", "Followed up by"
    BUILDS_ON = "builds_on", "Builds on", "Built on by"

    def __init__(self, value: str, label: str, inverse_label: str) -> None:
        self.inverse_label = inverse_label


class ActivityLink(Base):
    """``source`` prepares, follows up on or builds on ``target``; shown on both pages."""

    __tablename__ = "activity_links"
    __audit_label__ = "Links between activities"
    __audit_noun__ = "link between activities"
    __audit_eager__ = ("source", "target")

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    relation: Mapped[Relation] = mapped_column(enum_column(Relation, "activity_relation"))

    source: Mapped[Activity] = relationship(foreign_keys=[source_id])
    target: Mapped[Activity] = relationship(foreign_keys=[target_id])

    @property
    def audit_phrase(self) -> str:
        """How the history names it: "the link ‘A’ builds on ‘B’"."""
        return f"the link ‘{self.source.title}’ {self.relation.label.lower()} ‘{self.target.title}’"

    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "relation"),
        CheckConstraint("source_id <> target_id", name="not_to_itself"),
        Index("ix_activity_links_target_id", "target_id"),
    )


class Milestone(Base):
    """A step of an activity's preparation or follow-up: due when, whose, done when."""

    __tablename__ = "milestones"
    __audit_label__ = "Preparation milestones"
    __audit_noun__ = "preparation step"
    __audit_eager__ = ("activity",)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_on: Mapped[date | None] = mapped_column(Date)
    # False for a step whose due date had already passed when it was planned (an activity
    # recorded after it took place, or planned closer than its lead times): nobody is
    # chased for it and it is never shown as overdue. A new due date tracks it again.
    tracked: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    activity: Mapped[Activity] = relationship(back_populates="milestones")

    @property
    def audit_name(self) -> str:
        return f"“{self.name}” of ‘{self.activity.title}’"

    owner: Mapped[User | None] = relationship()

    __table_args__ = (
        # The reminders look for what is due and not done.
        Index("ix_milestones_due_date_done_on", "due_date", "done_on"),
        Index("ix_milestones_activity_id", "activity_id"),
    )

    def is_overdue(self, today: date) -> bool:
        return self.tracked and self.done_on is None and self.due_date < today


class DocumentKind(LabelledEnum):
    AGENDA = "agenda", "Agenda"
    CONCEPT_NOTE = "concept_note", "Concept note"
    BACKGROUND_NOTE = "background_note", "Background note"
    REPORT = "report", "Report"
    READER = "reader", "Reader"
    PRESENTATION = "presentation", "Presentation"


class Document(Base):
    """A file of an activity, kept under ``instance/uploads`` with a generated name."""

    __tablename__ = "documents"
    __audit_label__ = "Documents"
    __audit_noun__ = "document"
    __audit_eager__ = ("activity",)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "document_kind"))
    title: Mapped[str] = mapped_column(String(200))
    # The name the file had on the uploader's computer, cleaned; only for downloads.
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="documents")

    @property
    def audit_name(self) -> str:
        return f"“{self.title}” of ‘{self.activity.title}’"

    uploaded_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_documents_activity_id", "activity_id"),)
