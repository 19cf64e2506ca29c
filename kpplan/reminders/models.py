"""The reminder outbox, the runs of the scheduler and each person's preferences.

The administrator's settings of each rule are kept in ``kpplan.core.rule_settings``:
pages below the reminders read two of them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpplan.core.db import Base, LabelledEnum, UTCDateTime, enum_column, utcnow
from kpplan.directory.models import User


class Delivery(LabelledEnum):
    """How a person wants to hear of one kind of reminder."""

    IMMEDIATELY = "immediately", "At once, one e-mail each"
    DAILY = "daily", "In a daily summary"
    WEEKLY = "weekly", "In a weekly summary (Mondays)"
    OFF = "off", "Not at all"


class ReminderKind(enum.Enum):
    REMINDER = "reminder"
    DIGEST = "digest"


class ReminderStatus(LabelledEnum):
    """Where a reminder stands in the outbox."""

    WAITING = "waiting", "Waiting for the summary"  # for the person's daily or weekly summary
    PENDING = "pending", "To be sent"  # to be sent, now or after a failed attempt
    SENT = "sent", "Sent"
    IN_DIGEST = "in_digest", "Sent in a summary"  # went out in a summary
    FAILED = "failed", "Failed"  # gave up after the last attempt
    OFF = "off", "Not mailed"  # not mailed: the person turned this reminder off


#: The reminders waiting for their person's summary, written as the partial index of them
#: says it: SQLite and PostgreSQL use such an index only for a query that says the same,
#: not for a bound value.
WAITING_FOR_SUMMARY = text(f"status = '{ReminderStatus.WAITING.value}'")


class ReminderRun(Base):
    """One run of the reminder job: when, for which moment, what it planned and sent."""

    __tablename__ = "reminder_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The moment the run decided for (``--now`` or the clock); rules see only this.
    now: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its planning (with a first start's summaries) was over: set by the run itself, or
    # by the next run that finished planning after it was killed, taking its reminders in.
    # A first start killed part way is not over until then (``summaries.summarise_backlog``).
    planning_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Per person (id as text), how many of the reminders it planned were already late: what a
    # first start's summary says, should the run be killed and the next one finish it.
    late_by_user: Mapped[dict | None] = mapped_column(JSON)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who ran it: "scheduler 1234@host" or "command".
    runner: Mapped[str] = mapped_column(String(120))
    planned: Mapped[int] = mapped_column(Integer, default=0)
    digests: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_reminder_runs_started_at", "started_at"),)


class Reminder(Base):
    """A reminder for one person, planned once per (subject, rule, period, recipient).

    A summary (digest) is a row too, keyed by (person, summary period); the reminders it
    lists point to it. The same rows are the person's in-app notifications.
    """

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReminderKind] = mapped_column(enum_column(ReminderKind, "reminder_kind"))
    rule: Mapped[str] = mapped_column(String(40))
    subject_key: Mapped[str] = mapped_column(String(80))
    period_key: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    delivery: Mapped[Delivery] = mapped_column(enum_column(Delivery, "reminder_delivery"))
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus, "reminder_status"))
    # What the mail and the notification say, fixed when planned.
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    link_endpoint: Mapped[str | None] = mapped_column(String(80))
    link_values: Mapped[dict | None] = mapped_column(JSON)
    link_label: Mapped[str | None] = mapped_column(String(120))

    run_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_runs.id"))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"))
    # Sending: the next attempt, the sender's lease on the row, attempts so far.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    digest: Mapped[Reminder | None] = relationship(remote_side=[id])

    __table_args__ = (
        UniqueConstraint("subject_key", "rule", "period_key", "user_id"),
        Index("ix_reminders_status_next_attempt_at", "status", "next_attempt_at"),
        # The summaries: who has reminders waiting since before the summary's moment. Without
        # it, every tick reads the whole outbox of a large installation to find nobody. Only
        # the rows waiting are in it (the queries say ``WAITING_FOR_SUMMARY`` word for word,
        # so that both databases use it): a reminder planned to go at once, sent or summed
        # up costs it nothing, and it stays as small as what waits.
        Index(
            "ix_reminders_waiting_delivery_planned_at",
            "delivery",
            "planned_at",
            sqlite_where=WAITING_FOR_SUMMARY,
            postgresql_where=WAITING_FOR_SUMMARY,
        ),
        Index("ix_reminders_user_id_read_at", "user_id", "read_at"),
        # The items of each summary: a reminder is planned outside any, so planning one
        # costs this index nothing.
        Index(
            "ix_reminders_digest_id",
            "digest_id",
            sqlite_where=text("digest_id IS NOT NULL"),
            postgresql_where=text("digest_id IS NOT NULL"),
        ),
        Index("ix_reminders_run_id", "run_id"),
    )

    @property
    def is_digest(self) -> bool:
        return self.kind is ReminderKind.DIGEST


class ReminderPreference(Base):
    """How one person wants to receive one kind of reminder (default: at once)."""

    __tablename__ = "reminder_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(40))
    delivery: Mapped[Delivery] = mapped_column(enum_column(Delivery, "reminder_delivery"))

    __table_args__ = (UniqueConstraint("user_id", "rule"),)


class ReminderRuleMark(Base):
    """What a rule last planned for, in full: the Process's day, its inputs (its settings and
    the change counters of the tables it reads) and, for a rule whose reminders fall due at
    a moment rather than a day, the first moment something more falls due. A tick skips the
    rule while all three still hold (such a rule: the last two, whatever the day) and the run
    that marked it is on record (deleting the runs, as when the outbox is emptied to start
    over, plans everything again): it would find nothing new (the tick's watermark)."""

    __tablename__ = "reminder_rule_marks"

    rule: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    inputs: Mapped[str] = mapped_column(String(1000))
    wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The run that marked it, by id and start (an id may come again once runs are deleted).
    run_id: Mapped[int] = mapped_column(Integer)
    run_started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MailSender(Base):
    """The one row that says whom reminder mails come from, as the secretariat set it on
    the reminder settings page; without it, the configuration's ``MAIL_FROM``."""

    __tablename__ = "reminder_mail_sender"
    __audit_label__ = "Reminder mail sender"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(254))
