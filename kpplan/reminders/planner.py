"""The tick: plan reminders, gather summaries, send what is due — all from a given ``now``.

Every decision comes from the database and ``now``, never from the clock, so a tick that
is missed is made up by the next one and a tick that runs twice does nothing new: the
outbox's unique key (subject, rule, period, recipient) lets each reminder in once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, and_, cast, delete, func, literal, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from kpplan.core.cache import ChangeCounter
from kpplan.core.db import insert_ignoring_conflicts, utcnow
from kpplan.core.extensions import db
from kpplan.recommendations import day_figures, deadlines
from kpplan.reminders.mail import message_id_for
from kpplan.reminders.models import (
    Delivery,
    Reminder,
    ReminderKind,
    ReminderRuleMark,
    ReminderRun,
    ReminderStatus,
)
from kpplan.reminders.rules import RULES, PlannedReminder
from kpplan.reminders.rules.registry import Rule, RuleSettings
from kpplan.reminders.sender import SendReport, send_due
from kpplan.reminders.settings import (
    all_preferences,
    effective_delivery,
    process_timezone,
    rule_settings,
)

log = logging.getLogger(__name__)

UNIQUE_KEY = ["subject_key", "rule", "period_key", "user_id"]
_STATUS_FOR = {
    Delivery.IMMEDIATELY: ReminderStatus.PENDING,
    Delivery.DAILY: ReminderStatus.WAITING,
    Delivery.WEEKLY: ReminderStatus.WAITING,
    Delivery.OFF: ReminderStatus.OFF,
}


#: Reminders inserted at a time (then committed, with the run's count): the first tick of
#: a large installation plans hundreds of thousands without holding them all.
PLAN_BATCH = 5000
#: Of what a tick planned, the report keeps this many to show (and counts them all).
REPORT_PLANNED = 10_000


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


def _insert(
    batch: list[PlannedReminder],
    now: datetime,
    run_id: int | None,
    preferences: dict,
    report: TickReport,
    today: date,
) -> None:
    """Put ``batch`` into the outbox in one statement; what an earlier tick (or another
    scheduler) planned meanwhile is left out by the unique key, and not counted."""
    rows = []
    for planned in batch:
        key = planned.rule
        delivery = effective_delivery(key, preferences.get((planned.user_id, key)))
        rows.append(
            {
                "kind": ReminderKind.REMINDER,
                "rule": planned.rule,
                "subject_key": planned.subject_key,
                "period_key": planned.period_key,
                "user_id": planned.user_id,
                "delivery": delivery,
                "status": _STATUS_FOR[delivery],
                "title": planned.title[:300],
                "message": planned.message,
                "link_endpoint": planned.link_endpoint,
                "link_values": planned.link_values,
                "link_label": planned.link_label,
                "run_id": run_id,
                "planned_at": now,
                "next_attempt_at": now,
                "attempts": 0,
                "message_id": message_id_for(
                    planned.rule, planned.subject_key, planned.period_key, planned.user_id
                ),
            }
        )
    # RETURNING names the rows that went in (rowcount is -1 on PostgreSQL here).
    inserted = set(
        tuple(row)
        for row in db.session.execute(
            insert_ignoring_conflicts(Reminder, UNIQUE_KEY).returning(
                Reminder.rule, Reminder.subject_key, Reminder.period_key, Reminder.user_id
            ),
            rows,
        )
    )
    for planned, row in zip(batch, rows, strict=True):
        if (planned.rule, planned.subject_key, planned.period_key, planned.user_id) in inserted:
            report.planned_count += 1
            if len(report.planned) < REPORT_PLANNED:
                report.planned.append(planned)
            late = planned.due_since is not None and planned.due_since < today
            if late and row["status"] is not ReminderStatus.OFF:
                report.late_by_user[planned.user_id] += 1


def plan(
    now: datetime,
    run_id: int | None,
    report: TickReport,
    checkpoint: Callable[[], None] | None = None,
) -> None:
    """Run every enabled rule at ``now`` and put what is new into the outbox.

    Rules return only what the outbox does not hold yet; it goes in ``PLAN_BATCH`` at a
    time, each batch followed by ``checkpoint`` (the tick commits there, with the run's
    count, so that a first tick planning hundreds of thousands holds one batch at a time).
    Without a checkpoint nothing is committed. A rule that fails is reported and skipped,
    losing only its batch under way; the others still run.
    """
    tz = process_timezone()
    local_now = now.astimezone(tz)
    settings = rule_settings()
    preferences = all_preferences()
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
        if key in on_record and _nothing_new(marks[key], inputs, local_now):
            report.skipped.append(key)
            continue
        batch: list[PlannedReminder] = []
        given = settings[key]
        mark = marks.get(key)
        if key in on_record and mark.inputs == inputs and mark.day < local_now.date():
            given = replace(given, since=mark.day)
        try:
            for planned in rule.find(db.session, local_now, given):
                batch.append(planned)
                if len(batch) >= PLAN_BATCH:
                    _insert(batch, now, run_id, preferences, report, local_now.date())
                    batch = []
                    if checkpoint is not None:
                        checkpoint()
            if batch:
                _insert(batch, now, run_id, preferences, report, local_now.date())
            if rule.reads and run_id is not None:
                _mark(rule, settings[key], inputs, local_now, run_id, marks.get(key))
        except Exception as error:
            log.exception("reminder rule %s failed", key)
            db.session.rollback()
            report.errors.append(f"{rule.label}: {type(error).__name__}: {error}")
        if checkpoint is not None:
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


def _nothing_new(mark: ReminderRuleMark | None, inputs: str, local_now: datetime) -> bool:
    """Whether a rule last planned in full for the same day, with the same inputs, and
    before the first moment something more falls due: it would find nothing new."""
    return (
        mark is not None
        and mark.day == local_now.date()
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


# Summaries a tick makes of what it planned itself (besides the daily and weekly ones).
BACKLOG_SUMMARY = "backlog_summary"
ESCALATION_SUMMARY = "escalation_summary"
#: The escalations that reach the secretariat as one mail when several come in one tick.
ESCALATIONS = ("follow_up_escalated",)
#: Mails in their own right, never folded into a summary of a first start.
OWN_MAILS = ("invitation",)


def _of_this_run(run_id: int | None, now: datetime):
    """The outbox rows the tick under way planned (a dry run's have no run)."""
    if run_id is None:
        return (Reminder.run_id.is_(None), Reminder.planned_at == now)
    return (Reminder.run_id == run_id,)


def _of_unfinished_runs(run_id: int | None):
    """The outbox rows of earlier runs that never finished (a tick killed after committing
    some of its planning): a first start's summary takes them in, rather than letting them
    go one by one."""
    unfinished = select(ReminderRun.id).where(ReminderRun.finished_at.is_(None))
    if run_id is not None:
        unfinished = unfinished.where(ReminderRun.id != run_id)
    return Reminder.run_id.in_(unfinished)


def _open_summary(
    rule: str,
    subject: str,
    period: str,
    user_id: int,
    delivery: Delivery,
    title: str,
    message: str,
    now: datetime,
    run_id: int | None,
) -> int | None:
    """Open the summary mail of ``rule`` for one person and ``period`` (no commit): its id,
    or None when the outbox holds it already (the unique key lets each in once)."""
    return db.session.execute(
        insert_ignoring_conflicts(
            Reminder,
            UNIQUE_KEY,
            kind=ReminderKind.DIGEST,
            rule=rule,
            subject_key=subject,
            period_key=period,
            user_id=user_id,
            delivery=delivery,
            status=ReminderStatus.PENDING,
            title=title[:300],
            message=message,
            run_id=run_id,
            planned_at=now,
            next_attempt_at=now,
            attempts=0,
            message_id=message_id_for(rule, subject, period, user_id),
        ).returning(Reminder.id)
    ).scalar()


def _move_into(digest_id: int, *where) -> None:
    """Put the reminders matching ``where`` into the summary ``digest_id`` (no commit)."""
    db.session.execute(
        update(Reminder)
        .where(*where)
        .values(digest_id=digest_id, status=ReminderStatus.IN_DIGEST)
        .execution_options(synchronize_session=False)
    )


def _summary_period(run_id: int | None, now: datetime) -> str:
    """The period key of a summary a tick makes of what it planned: the run, so that a tick
    done again makes no second one."""
    return f"run:{run_id}" if run_id is not None else f"at:{now:%Y-%m-%dT%H:%M:%S}"


def _summarise(
    now: datetime,
    run_id: int | None,
    report: TickReport,
    user_id: int,
    item_ids: list[int],
    rule: str,
    title: str,
    intro: str,
) -> None:
    """Put the reminders ``item_ids`` of one person into one summary mail sent at once
    (no commit). ``intro`` opens the mail; the summary's key is the run, so a tick done
    again makes no second one."""
    period = _summary_period(run_id, now)
    digest_id = _open_summary(
        rule, f"user:{user_id}", period, user_id, Delivery.IMMEDIATELY, title, intro, now, run_id
    )
    if digest_id is None:
        return
    _move_into(digest_id, Reminder.id.in_(item_ids))
    report.digests.append((user_id, period))


def last_finished_run(run_id: int | None) -> datetime | None:
    """The moment of the latest run that finished, other than the one under way."""
    query = select(func.max(ReminderRun.now)).where(ReminderRun.finished_at.is_not(None))
    if run_id is not None:
        query = query.where(ReminderRun.id != run_id)
    return db.session.scalar(query)


def summarise_backlog(now: datetime, run_id: int | None, report: TickReport) -> None:
    """On an installation's first tick, or the first after reminders stopped for more than
    ``REMINDER_CATCH_UP_HOURS``, give each person who has something already late before today
    and more than one reminder one summary instead of one mail each (no commit).

    The summary takes the person's other reminders of this tick too (an invitation excepted:
    it is a mail of its own), so that they get one mail. What this tick planned stays in the
    outbox, so later ticks do not send those items again one by one and go on as usual.
    """
    hours = current_app.config["REMINDER_CATCH_UP_HOURS"]
    if not hours:
        return
    last = last_finished_run(run_id)
    if last is not None and now - last <= timedelta(hours=hours):
        return
    tz = process_timezone()
    today = now.astimezone(tz).date()
    late_users = [user_id for user_id, count in report.late_by_user.items() if count > 0]
    if not late_users:
        return
    backlog = (
        or_(and_(*_of_this_run(run_id, now)), _of_unfinished_runs(run_id)),
        Reminder.kind == ReminderKind.REMINDER,
        Reminder.rule.not_in(OWN_MAILS),
        Reminder.status.in_((ReminderStatus.PENDING, ReminderStatus.WAITING)),
        Reminder.digest_id.is_(None),
    )
    # Counted for everyone at once: one read of the tick's rows, not one per person (a first
    # tick of a large installation plans hundreds of thousands for a few hundred people).
    counts = dict(
        db.session.execute(
            select(Reminder.user_id, func.count()).where(*backlog).group_by(Reminder.user_id)
        ).all()
    )
    if last is None:
        opening = "kpplan has started sending reminders."
    else:
        stopped = last.astimezone(tz).date()
        opening = (
            f"kpplan's reminders did not run from {_when(stopped, Delivery.DAILY)} to "
            f"{_when(today, Delivery.DAILY)}."
        )
    period = _summary_period(run_id, now)
    summarised = []
    for user_id in sorted(late_users):
        total, late = counts.get(user_id, 0), report.late_by_user[user_id]
        if total < 2:
            continue
        intro = (
            f"{opening} Rather than one e-mail for each, here is what needs your attention "
            f"on {_when(today, Delivery.DAILY)}: {total} reminders, {late} of them "
            "already late. From now on, new reminders come as you chose on your reminder "
            "settings."
        )
        digest_id = _open_summary(
            BACKLOG_SUMMARY,
            f"user:{user_id}",
            period,
            user_id,
            Delivery.IMMEDIATELY,
            f"kpplan: {total} reminders, {late} of them late",
            intro,
            now,
            run_id,
        )
        if digest_id is not None:
            summarised.append(user_id)
            report.digests.append((user_id, period))
    # Each person's reminders into their summary in one statement for all: the summary is
    # found by its key (the outbox's unique index) from each row's person.
    for start in range(0, len(summarised), 500):
        summary = aliased(Reminder)
        db.session.execute(
            update(Reminder)
            .where(*backlog, Reminder.user_id.in_(summarised[start : start + 500]))
            .values(
                digest_id=select(summary.id)
                .where(
                    summary.subject_key == literal("user:") + cast(Reminder.user_id, String),
                    summary.rule == BACKLOG_SUMMARY,
                    summary.period_key == period,
                    summary.user_id == Reminder.user_id,
                )
                .scalar_subquery(),
                status=ReminderStatus.IN_DIGEST,
            )
            .execution_options(synchronize_session=False)
        )


def bundle_escalations(now: datetime, run_id: int | None, report: TickReport) -> None:
    """Send the escalations one tick makes for one person as one mail listing them, instead
    of one per follow-up (no commit). Escalations a person gets in a daily or weekly
    summary are left to it."""
    rows = db.session.execute(
        select(Reminder.id, Reminder.user_id)
        .where(
            *_of_this_run(run_id, now),
            Reminder.rule.in_(ESCALATIONS),
            Reminder.status == ReminderStatus.PENDING,
            Reminder.digest_id.is_(None),
        )
        .order_by(Reminder.id)
    ).all()
    by_user: dict[int, list[int]] = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row.id)
    for user_id, item_ids in sorted(by_user.items()):
        if len(item_ids) < 2:
            continue
        _summarise(
            now,
            run_id,
            report,
            user_id,
            item_ids,
            ESCALATION_SUMMARY,
            f"kpplan: {len(item_ids)} follow-ups long overdue",
            f"{len(item_ids)} follow-ups have been overdue for long without an update, although "
            "their addressees were reminded. Consider contacting them directly.",
        )


def digest_period(now: datetime, tz: ZoneInfo, delivery: Delivery, hour: int):
    """The latest summary moment at or before ``now``: its key and the moment in UTC.

    Daily summaries go at ``hour`` o'clock in the Process's timezone, weekly ones at that hour
    on Mondays, whatever the daylight-saving time.
    """
    local = now.astimezone(tz)
    day = local.date()
    if delivery is Delivery.WEEKLY:
        day -= timedelta(days=day.weekday())
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    moment = datetime.combine(day, time(hour), tzinfo=tz)
    if local < moment:
        day -= step
        moment = datetime.combine(day, time(hour), tzinfo=tz)
    if delivery is Delivery.WEEKLY:
        year, week, _ = day.isocalendar()
        key = f"week:{year}-W{week:02d}"
    else:
        key = f"day:{day.isoformat()}"
    return key, moment.astimezone(UTC), day


def _when(day: date, delivery: Delivery) -> str:
    if delivery is Delivery.WEEKLY:
        return f"the week of {day.day} {day:%B %Y}"
    return f"{day.day} {day:%B %Y}"


def gather_digests(now: datetime, run_id: int | None, report: TickReport) -> None:
    """Make a summary for each person whose daily or weekly summary is due and who has
    reminders waiting for it (no commit). Nobody gets an empty summary."""
    tz = process_timezone()
    hour = current_app.config["REMINDER_DIGEST_HOUR"]
    for delivery in (Delivery.DAILY, Delivery.WEEKLY):
        period, moment, day = digest_period(now, tz, delivery, hour)
        waiting = (
            Reminder.status == ReminderStatus.WAITING,
            Reminder.delivery == delivery,
            Reminder.planned_at <= moment,
        )
        user_ids = db.session.scalars(
            select(Reminder.user_id).where(*waiting).distinct().order_by(Reminder.user_id)
        ).all()
        for user_id in user_ids:
            digest_id = _open_summary(
                f"{delivery.value}_digest",
                f"user:{user_id}",
                period,
                user_id,
                delivery,
                f"kpplan: your reminders for {_when(day, delivery)}",
                "",
                now,
                run_id,
            )
            if digest_id is None:
                # This period's summary exists already: what waits now goes in the next one.
                continue
            _move_into(digest_id, *waiting, Reminder.user_id == user_id)
            count = db.session.scalar(select(func.count()).where(Reminder.digest_id == digest_id))
            db.session.execute(
                update(Reminder)
                .where(Reminder.id == digest_id)
                .values(
                    title=f"kpplan: {count} reminder{'s' if count != 1 else ''} for "
                    f"{_when(day, delivery)}",
                    message=f"{count}",
                )
                .execution_options(synchronize_session=False)
            )
            report.digests.append((user_id, period))


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

    plan(
        now,
        run_id,
        report,
        checkpoint=None
        if dry_run
        else lambda: phase_done(
            planned=report.planned_count, errors="\n".join(report.errors) or None
        ),
    )
    # Committed with the planning's last count: a tick killed before leaves the items of
    # its unfinished run, which the next tick's backlog summary takes in.
    summarise_backlog(now, run_id, report)
    bundle_escalations(now, run_id, report)
    phase_done(planned=report.planned_count, errors="\n".join(report.errors) or None)
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
