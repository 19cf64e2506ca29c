"""Planning: what the rules find goes into the outbox in batches, each reminder once.

The outbox's unique key (subject, rule, period, recipient) lets each reminder in once,
however many ticks (or schedulers) find it; the rules' queries already leave out what it
holds, so a tick reads only what is new. The tick (``planner``) decides which rules run.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import column, select, table

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
    """Everybody's choices of delivery for a rule, read on the rule's first look (a tick
    that plans nothing does not read the thousands of them, and one that plans for a few
    rules reads theirs only)."""

    def __init__(self, load: Callable[[str], dict[int, Delivery]]) -> None:
        self.load = load
        self.loaded: dict[str, dict[int, Delivery]] = {}

    def get(self, key: tuple[int, str]) -> Delivery | None:
        user_id, rule = key
        chosen = self.loaded.get(rule)
        if chosen is None:
            chosen = self.loaded[rule] = self.load(rule)
        return chosen.get(user_id)


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


#: The outbox's columns the planner writes, in the order of its rows (the others are null).
_COLUMNS = (
    "kind",
    "rule",
    "subject_key",
    "period_key",
    "user_id",
    "delivery",
    "status",
    "title",
    "message",
    "link_endpoint",
    "link_values",
    "link_label",
    "run_id",
    "planned_at",
    "next_attempt_at",
    "attempts",
    "message_id",
)


@functools.cache
def _outbox_insert(dialect) -> tuple[str, tuple[str, ...] | None, Callable]:
    """The outbox's ``INSERT … ON CONFLICT DO NOTHING`` as the driver takes it: its SQL, the
    order of its parameters (None: by name), and the conversion of a moment as stored
    (``UTCDateTime`` on this database). A batch of thousands then goes to the driver as it
    is, rather than each value of each row being converted and checked on its own."""
    outbox = table("reminders", *(column(name) for name in _COLUMNS))
    compiled = insert_ignoring_conflicts(outbox, UNIQUE_KEY).compile(
        dialect=dialect, column_keys=list(_COLUMNS)
    )
    order = tuple(compiled.positiontup) if compiled.positional else None
    stored = Reminder.__table__.c.planned_at.type.bind_processor(dialect) or (lambda value: value)
    if dialect.name == "sqlite":
        # As the driver would write it for each row (its adapter of datetimes), once.
        def moment(value):
            value = stored(value)
            return value.isoformat(" ") if isinstance(value, datetime) else value

    else:
        moment = stored
    return compiled.string, order, moment


def _insert(
    batch: list[PlannedReminder],
    now: datetime,
    run_id: int | None,
    preferences: Preferences | dict,
    report: TickReport,
    today: date,
) -> None:
    """Put ``batch`` (of one rule) into the outbox in one statement; what an earlier tick
    (or another scheduler) planned meanwhile is left out by the unique key, and not
    counted.

    The rows go to the driver as stored (enums by value, the moment converted once, the
    link as JSON text), in one ``executemany``. The rules leave out what the outbox holds,
    so every row normally goes in, which the count of rows written says; only when it does
    not are the rows this run wrote read back by their keys."""
    connection = db.session.connection()
    sql, order, moment = _outbox_insert(connection.dialect)
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
        # In the order of _COLUMNS.
        rows.append(
            (
                kind,
                planned.rule,
                planned.subject_key,
                planned.period_key,
                planned.user_id,
                _VALUE[delivery],
                _VALUE[status],
                planned.title[:300],
                planned.message,
                planned.link_endpoint,
                # As the outbox's JSON column writes it (``None`` too, as JSON's null).
                json.dumps(planned.link_values),
                planned.link_label,
                run_id,
                planned_at,
                planned_at,  # next_attempt_at
                0,  # attempts
                message_id_for(
                    planned.rule, planned.subject_key, planned.period_key, planned.user_id, domain
                ),
            )
        )
    if order is None:
        params = [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
    elif order == _COLUMNS:
        params = rows
    else:
        where = [_COLUMNS.index(name) for name in order]
        params = [tuple(row[i] for i in where) for row in rows]
    written = connection.exec_driver_sql(sql, params).rowcount
    # None: every one went in.
    inserted = None if written == len(batch) else _written_by(batch, run_id, now)
    for planned, status in zip(batch, statuses, strict=True):
        if inserted is not None:
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


def _written_by(batch: list[PlannedReminder], run_id: int | None, now: datetime) -> set[tuple]:
    """The keys of ``batch`` (of one rule) that this run (a dry run: this moment) put into
    the outbox: those another scheduler planned meanwhile are another run's."""
    this_run = (
        (Reminder.run_id == run_id,)
        if run_id is not None
        else (Reminder.run_id.is_(None), Reminder.planned_at == now)
    )
    subjects = sorted({planned.subject_key for planned in batch})
    found = set()
    for start in range(0, len(subjects), 1000):
        found.update(
            tuple(row)
            for row in db.session.execute(
                select(
                    Reminder.rule, Reminder.subject_key, Reminder.period_key, Reminder.user_id
                ).where(
                    Reminder.rule == batch[0].rule,
                    Reminder.subject_key.in_(subjects[start : start + 1000]),
                    *this_run,
                )
            )
        )
    return found


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
