"""Planning: what the rules find goes into the outbox in batches, each reminder once.

The outbox's unique key (subject, rule, period, recipient) lets each reminder in once,
however many ticks (or schedulers) find it; the rules' queries already leave out what it
holds, so a tick reads only what is new. The tick (``planner``) decides which rules run.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import column, table
from sqlalchemy.sql.expression import TableClause

from kpplan.core.db import insert_ignoring_conflicts
from kpplan.core.extensions import db
from kpplan.reminders.mail import message_id_domain, message_id_for
from kpplan.reminders.models import Delivery, Reminder, ReminderKind, ReminderStatus
from kpplan.reminders.rules import PlannedReminder
from kpplan.reminders.rules.registry import Rule, RuleSettings
from kpplan.reminders.sender import SendReport
from kpplan.reminders.settings import effective_delivery

UNIQUE_KEY = ["subject_key", "rule", "period_key", "user_id"]
_STATUS_FOR = {
    Delivery.IMMEDIATELY: ReminderStatus.PENDING,
    Delivery.DAILY: ReminderStatus.WAITING,
    Delivery.WEEKLY: ReminderStatus.WAITING,
    Delivery.OFF: ReminderStatus.OFF,
}

#: What the outbox stores of each delivery and status (read once: an enum's ``value`` is
#: a property, looked up anew each time).
_VALUE = {member: member.value for member in (*Delivery, *ReminderStatus)}

#: Reminders inserted at a time (then committed, with the run's count): the first tick of
#: a large installation plans hundreds of thousands without holding them all.
PLAN_BATCH = 5000
#: Of what a tick planned, the report keeps this many to show (and counts them all).
REPORT_PLANNED = 10_000


class Preferences:
    """Everybody's choices of delivery, read on the first look (a tick that plans nothing
    does not read the thousands of them)."""

    def __init__(self, load: Callable[[], dict]) -> None:
        self.load = load
        self.loaded: dict | None = None

    def get(self, key: tuple[int, str]) -> Delivery | None:
        if self.loaded is None:
            self.loaded = self.load()
        return self.loaded.get(key)


@dataclass
class TickReport:
    """What one tick did, for the command line and the tests."""

    now: datetime
    # The first ``REPORT_PLANNED`` reminders planned; ``planned_count`` counts them all.
    planned: list[PlannedReminder] = field(default_factory=list)
    planned_count: int = 0
    # Per person, how many of the reminders planned (and not turned off) were already late
    # before today: a first start's summary is made of them (``summarise_backlog``).
    late_by_user: Counter = field(default_factory=Counter)
    digests: list[tuple[int, str]] = field(default_factory=list)  # (user id, period)
    # The rules skipped: nothing they read changed since they last planned, that day.
    skipped: list[str] = field(default_factory=list)
    send: SendReport = field(default_factory=SendReport)
    errors: list[str] = field(default_factory=list)


@functools.cache
def _outbox_columns(dialect) -> tuple[TableClause, Callable]:
    """The outbox as the planner writes it: its columns untyped but for ``link_values``
    (JSON), the values given as stored, so that a batch of thousands is not converted
    column by column, row by row; and the conversion of a moment as stored (``UTCDateTime``
    on this database), done once a batch."""
    columns = Reminder.__table__.c
    outbox = table(
        "reminders",
        *(
            column(c.name, c.type if c.name == "link_values" else None)
            for c in columns
            if c.name != "id"
        ),
    )
    moment = columns.planned_at.type.bind_processor(dialect) or (lambda value: value)
    return outbox, moment


def _insert(
    batch: list[PlannedReminder],
    now: datetime,
    run_id: int | None,
    preferences: Preferences | dict,
    report: TickReport,
    today: date,
) -> None:
    """Put ``batch`` into the outbox in one statement; what an earlier tick (or another
    scheduler) planned meanwhile is left out by the unique key, and not counted.

    The rows go in as stored (enums by value, the moment converted once): the outbox's
    typed table, or the ORM, would convert and check every value of every row on its own."""
    outbox, moment = _outbox_columns(db.session.get_bind().dialect)
    planned_at = moment(now)
    domain = message_id_domain()
    kind = ReminderKind.REMINDER.value
    rows = []
    statuses = []
    for planned in batch:
        key = planned.rule
        delivery = effective_delivery(key, preferences.get((planned.user_id, key)))
        status = _STATUS_FOR[delivery]
        statuses.append(status)
        rows.append(
            {
                "kind": kind,
                "rule": planned.rule,
                "subject_key": planned.subject_key,
                "period_key": planned.period_key,
                "user_id": planned.user_id,
                "delivery": _VALUE[delivery],
                "status": _VALUE[status],
                "title": planned.title[:300],
                "message": planned.message,
                "link_endpoint": planned.link_endpoint,
                "link_values": planned.link_values,
                "link_label": planned.link_label,
                "run_id": run_id,
                "planned_at": planned_at,
                "next_attempt_at": planned_at,
                "attempts": 0,
                "message_id": message_id_for(
                    planned.rule, planned.subject_key, planned.period_key, planned.user_id, domain
                ),
            }
        )
    # RETURNING names the rows that went in (rowcount is -1 on PostgreSQL here).
    inserted = {
        tuple(row)
        for row in db.session.execute(
            insert_ignoring_conflicts(outbox, UNIQUE_KEY).returning(
                outbox.c.rule, outbox.c.subject_key, outbox.c.period_key, outbox.c.user_id
            ),
            rows,
        )
    }
    for planned, status in zip(batch, statuses, strict=True):
        key = (planned.rule, planned.subject_key, planned.period_key, planned.user_id)
        if key not in inserted:
            continue
        inserted.discard(key)  # a reminder found twice went in once
        report.planned_count += 1
        if len(report.planned) < REPORT_PLANNED:
            report.planned.append(planned)
        late = planned.due_since is not None and planned.due_since < today
        if late and status is not ReminderStatus.OFF:
            report.late_by_user[planned.user_id] += 1


def plan_rule(
    rule: Rule,
    local_now: datetime,
    settings: RuleSettings,
    now: datetime,
    run_id: int | None,
    preferences: Preferences | dict,
    report: TickReport,
    checkpoint: Callable[[], None] | None = None,
) -> None:
    """Run ``rule`` at ``local_now`` with ``settings`` and put what it finds into the outbox,
    ``PLAN_BATCH`` at a time, each batch followed by ``checkpoint`` (the tick commits there,
    so that a first tick planning hundreds of thousands holds one batch at a time). What
    the rule raises is left to the caller, with the batch under way not inserted."""
    today = local_now.date()
    batch: list[PlannedReminder] = []
    for planned in rule.find(db.session, local_now, settings):
        batch.append(planned)
        if len(batch) >= PLAN_BATCH:
            _insert(batch, now, run_id, preferences, report, today)
            batch = []
            if checkpoint is not None:
                checkpoint()
    if batch:
        _insert(batch, now, run_id, preferences, report, today)
