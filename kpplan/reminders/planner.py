"""The tick: plan reminders, gather summaries, send what is due — all from a given ``now``.

Every decision comes from the database and ``now``, never from the clock, so a tick that
is missed is made up by the next one and a tick that runs twice does nothing new: the
outbox's unique key (subject, rule, period, recipient) lets each reminder in once.
Each rule's watermark (``ReminderRuleMark``) lets a tick skip a rule that would find
nothing new. Planning itself is in ``planning``, the summaries in ``summaries``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import OperationalError

from kpplan.core.cache import ChangeCounter
from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.recommendations import day_figures, deadlines
from kpplan.reminders.models import (
    Reminder,
    ReminderRuleMark,
    ReminderRun,
    ReminderStatus,
)
from kpplan.reminders.planning import Preferences, TickReport, plan_rule
from kpplan.reminders.rules import RULES
from kpplan.reminders.rules.registry import Rule, RuleSettings
from kpplan.reminders.sender import send_due
from kpplan.reminders.settings import process_timezone, rule_preferences, rule_settings
from kpplan.reminders.summaries import (
    bundle_escalations,
    digest_period,
    finish_planning,
    gather_digests,
    last_finished_run,
    summarise_backlog,
)

log = logging.getLogger(__name__)

__all__ = [
    "TickReport",
    "bundle_escalations",
    "count_the_day",
    "digest_period",
    "gather_digests",
    "last_finished_run",
    "plan",
    "send_due",
    "summarise_backlog",
    "tick",
]


def plan(
    now: datetime,
    run_id: int | None,
    report: TickReport,
    checkpoint: Callable[[], None] | None = None,
) -> None:
    """Run every enabled rule at ``now`` and put what is new into the outbox.

    Rules return only what the outbox does not hold yet; it goes in ``planning.PLAN_BATCH``
    at a time, each batch followed by ``checkpoint`` (the tick commits there, with the run's
    count, so that a first tick planning hundreds of thousands holds one batch at a time).
    Without a checkpoint nothing is committed. A rule that fails is reported and skipped,
    losing only its batch under way (and the marks of the rules before it that found
    nothing, which run again next time); the others still run.
    """
    tz = process_timezone()
    local_now = now.astimezone(tz)
    settings = rule_settings()
    # Everybody's choices for a rule, read once and only if that rule finds something.
    preferences = Preferences(rule_preferences)
    # Read before any rule looks: a change committed meanwhile is seen by the next tick.
    counters = dict(db.session.execute(select(ChangeCounter.name, ChangeCounter.n)).all())
    marks, on_record = {}, set()
    for mark, run_on_record in db.session.execute(
        select(ReminderRuleMark, ReminderRun.id).outerjoin(
            ReminderRun,
            and_(
                ReminderRun.id == ReminderRuleMark.run_id,
                ReminderRun.started_at == ReminderRuleMark.run_started_at,
            ),
        )
    ):
        marks[mark.rule] = mark
        if run_on_record is not None:
            on_record.add(mark.rule)
    for key, rule in RULES.items():
        if not settings[key].enabled:
            continue
        inputs = _inputs(rule, settings[key], counters)
        if key in on_record and _nothing_new(rule, marks[key], inputs, local_now):
            report.skipped.append(key)
            continue
        given = settings[key]
        mark = marks.get(key)
        if key in on_record and mark.inputs == inputs and mark.day < local_now.date():
            given = replace(given, since=mark.day)
        planned_before = report.planned_count
        try:
            plan_rule(rule, local_now, given, now, run_id, preferences, report, checkpoint)
            if rule.reads and run_id is not None:
                _mark(rule, settings[key], inputs, local_now, run_id, marks.get(key))
        except Exception as error:
            log.exception("reminder rule %s failed", key)
            db.session.rollback()
            report.errors.append(f"{rule.label}: {type(error).__name__}: {error}")
            continue
        # A rule that found nothing leaves only its mark, committed with what comes next
        # (a commit is a write to disk; a mark lost with a later failure costs a look).
        if checkpoint is not None and report.planned_count > planned_before:
            checkpoint()


def _inputs(rule: Rule, settings: RuleSettings, counters: dict[str, int]) -> str:
    """What a rule's findings depend on besides the day: its settings and the change
    counters of the tables it reads."""
    return ";".join(
        [
            f"enabled={settings.enabled}",
            f"days={settings.days}",
            *(f"{table}={counters.get(table, 0)}" for table in rule.reads),
        ]
    )


def _nothing_new(
    rule: Rule, mark: ReminderRuleMark | None, inputs: str, local_now: datetime
) -> bool:
    """Whether a rule last planned in full with the same inputs, and before the first moment
    something more falls due: it would find nothing new. For a rule whose reminders fall due
    on a day, on the same day; one whose reminders fall due at a moment (``wakes``) knows
    that moment whatever the day, so a new day alone gives it nothing to look for."""
    return (
        mark is not None
        and (mark.day == local_now.date() or rule.wakes is not None)
        and mark.inputs == inputs
        and (mark.wake_at is None or local_now < mark.wake_at)
    )


def _mark(
    rule: Rule,
    settings: RuleSettings,
    inputs: str,
    local_now: datetime,
    run_id: int,
    mark: ReminderRuleMark | None,
) -> None:
    """Record that ``rule`` planned everything it finds at ``local_now`` (no commit: it goes
    in with the rule's last batch)."""
    wake_at = rule.wakes(db.session, local_now, settings) if rule.wakes else None
    if mark is None:
        mark = ReminderRuleMark(rule=rule.key)
        db.session.add(mark)
    mark.day = local_now.date()
    mark.inputs = inputs
    mark.wake_at = wake_at
    mark.run_id = run_id
    mark.run_started_at = (
        select(ReminderRun.started_at).where(ReminderRun.id == run_id).scalar_subquery()
    )
    db.session.flush()


def count_the_day(now: datetime) -> bool:
    """Count the follow-up figures of the day (overdue, due soon, not updated, awaiting
    validation) for the Process's date at ``now`` and the days in force, unless they are
    already (one read); in its own commit, so that a failure later in the tick keeps it.
    Until then the pages count them live. Returns whether it counted."""
    today = now.astimezone(process_timezone()).date()
    counted = day_figures.count_the_day(
        db.session.connection(), today, deadlines.current(), wait=False
    )
    db.session.commit()
    return counted


def tick(
    now: datetime,
    runner: str = "command",
    dry_run: bool = False,
    transport=None,
    next_run_at: datetime | None = None,
) -> TickReport:
    """One run of the reminder job at ``now``: plan, gather summaries, send, record.

    Commits after each phase (and after each mail sent), so that a crash loses at most the
    phase under way, which the next tick does again. With ``dry_run`` nothing is sent and
    everything is rolled back; the report says what would have been planned and sent.
    """
    if now.tzinfo is None:
        raise ValueError("tick needs a timezone-aware now")
    if not dry_run:
        try:
            count_the_day(now)
        except OperationalError:
            # A follow-up being written holds the day's figures (PostgreSQL): the next tick
            # counts them; the reminders go out all the same.
            db.session.rollback()
            log.warning("The follow-up figures of the day are being written; counted next tick")
        except Exception:
            # The reminders go out all the same; the pages count live until a tick counts.
            db.session.rollback()
            log.exception("The follow-up figures of the day could not be counted")
    report = TickReport(now=now)
    run_id = None
    if not dry_run:
        run = ReminderRun(
            now=now, started_at=utcnow(), runner=runner[:120], next_run_at=next_run_at
        )
        db.session.add(run)
        db.session.commit()
        run_id = run.id

    def phase_done(**counts: int | str | None) -> None:
        if dry_run:
            db.session.flush()
            return
        # The run's counts go in with what they count: a tick killed later still says
        # what it planned, and the purge below can tell it from an empty one.
        db.session.execute(
            update(ReminderRun)
            .where(ReminderRun.id == run_id)
            .values(**counts)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def planned() -> dict:
        # With each batch, who got how many late reminders: should the tick be killed before
        # its planning is over, the next one finishes a first start with them.
        late = {str(user_id): n for user_id, n in report.late_by_user.items() if n}
        return {
            "planned": report.planned_count,
            "errors": "\n".join(report.errors) or None,
            "late_by_user": late or None,
        }

    plan(now, run_id, report, checkpoint=None if dry_run else lambda: phase_done(**planned()))
    # Committed with the planning's last count and the mark that it is over: a tick killed
    # before leaves its run unfinished, and the next tick takes its reminders in (as a first
    # start's summary, when this was one).
    summarise_backlog(now, run_id, report)
    bundle_escalations(now, run_id, report)
    if not dry_run:
        finish_planning(run_id, utcnow())
    phase_done(**planned())
    gather_digests(now, run_id, report)
    phase_done(digests=len(report.digests))
    if dry_run:
        report.send.sent = db.session.scalars(
            select(Reminder)
            .where(Reminder.status == ReminderStatus.PENDING, Reminder.next_attempt_at <= now)
            .order_by(Reminder.id)
        ).all()
        # Keep what the report shows out of the rollback.
        for row in report.send.sent:
            _ = (row.title, row.user.email)
        db.session.expunge_all()
        db.session.rollback()
        return report
    report.send = send_due(now, transport)

    run = db.session.get(ReminderRun, run_id)
    run.finished_at = utcnow()
    run.sent = len(report.send.sent)
    run.failed = len(report.send.failed) + len(report.send.retried)
    db.session.commit()
    forget_old_runs(now, report)
    return report


def forget_old_runs(now: datetime, report: TickReport) -> None:
    """Delete the runs older than ``REMINDER_KEEP_RUNS_DAYS`` that no reminder points to and
    that met no error (commits).

    A tick every few minutes makes 100,000 runs a year. What the outbox points to stays,
    whatever the run's counts say (a run killed mid-way never wrote its last ones). This is
    housekeeping: should it fail, the tick is still done, and the next one tries again.
    """
    keep = timedelta(days=current_app.config["REMINDER_KEEP_RUNS_DAYS"])
    try:
        db.session.execute(
            delete(ReminderRun)
            .where(
                ReminderRun.now < now - keep,
                ReminderRun.errors.is_(None),
                ~select(Reminder.id).where(Reminder.run_id == ReminderRun.id).exists(),
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except Exception as error:
        log.exception("forgetting old reminder runs failed")
        db.session.rollback()
        report.errors.append(f"Forgetting old runs: {type(error).__name__}: {error}")
