"""The summaries a tick makes: of what was late at a first start or after a long stop, of
one tick's escalations, and each person's daily and weekly ones. None is ever empty, and
what a summary holds is never sent again on its own.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, and_, cast, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from kpplan.core.db import insert_ignoring_conflicts
from kpplan.core.extensions import db
from kpplan.reminders.mail import message_id_for
from kpplan.reminders.models import (
    WAITING_FOR_SUMMARY,
    Delivery,
    Reminder,
    ReminderKind,
    ReminderRun,
    ReminderStatus,
)
from kpplan.reminders.planning import UNIQUE_KEY, TickReport
from kpplan.reminders.settings import process_timezone

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


def _unfinished_runs(run_id: int | None):
    """The earlier runs whose planning never finished (a tick killed after committing some
    of its batches) and that no later run took over."""
    unfinished = select(ReminderRun.id).where(ReminderRun.planning_finished_at.is_(None))
    if run_id is not None:
        unfinished = unfinished.where(ReminderRun.id != run_id)
    return unfinished


def _of_unfinished_runs(run_id: int | None):
    """The outbox rows of earlier runs whose planning never finished: a first start's
    summary takes them in, rather than letting them go one by one."""
    return Reminder.run_id.in_(_unfinished_runs(run_id))


def finish_planning(run_id: int, at: datetime) -> None:
    """Record that the planning of run ``run_id`` is over, and of the earlier runs killed
    during theirs, whose reminders this one took in (no commit: it goes in with the
    planning's last count and the first start's summaries)."""
    db.session.execute(
        update(ReminderRun)
        .where(
            or_(ReminderRun.id == run_id, ReminderRun.id.in_(_unfinished_runs(run_id))),
            ReminderRun.planning_finished_at.is_(None),
        )
        .values(planning_finished_at=at)
        .execution_options(synchronize_session=False)
    )


def late_by_user(report: TickReport, run_id: int | None) -> Counter:
    """Per person, how many reminders were already late, of this tick's and of those that
    earlier runs killed during their planning left (as they recorded them)."""
    late = Counter({u: n for u, n in report.late_by_user.items() if n > 0})
    for counts in db.session.scalars(
        select(ReminderRun.late_by_user).where(
            ReminderRun.id.in_(_unfinished_runs(run_id)), ReminderRun.late_by_user.is_not(None)
        )
    ):
        late.update({int(user_id): n for user_id, n in counts.items()})
    return late


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
    """The moment of the latest run whose planning finished, other than the one under way: a
    first start killed part way is not over, and the next tick finishes it as one."""
    query = select(func.max(ReminderRun.now)).where(ReminderRun.planning_finished_at.is_not(None))
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
    late_by = late_by_user(report, run_id)
    late_users = list(late_by)
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
        total, late = counts.get(user_id, 0), late_by[user_id]
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
    _fill_summaries(BACKLOG_SUMMARY, period, summarised, *backlog)


def _fill_summaries(rule: str, period: str, user_ids: list[int], *where) -> None:
    """Put the reminders matching ``where`` of each of ``user_ids`` into that person's
    summary of ``rule`` and ``period`` (no commit), in one statement for all (500 people at
    a time): the summary is found by its key (the outbox's unique index) from each row's
    person, rather than each person's reminders being looked for one after the other."""
    for start in range(0, len(user_ids), 500):
        summary = aliased(Reminder)
        db.session.execute(
            update(Reminder)
            .where(*where, Reminder.user_id.in_(user_ids[start : start + 500]))
            .values(
                digest_id=select(summary.id)
                .where(
                    summary.subject_key == literal("user:") + cast(Reminder.user_id, String),
                    summary.rule == rule,
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
            WAITING_FOR_SUMMARY,  # the index of what waits, rather than the whole outbox
            Reminder.delivery == delivery,
            Reminder.planned_at <= moment,
        )
        user_ids = db.session.scalars(
            select(Reminder.user_id).where(*waiting).distinct().order_by(Reminder.user_id)
        ).all()
        opened: dict[int, int] = {}
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
            opened[user_id] = digest_id
            report.digests.append((user_id, period))
        _fill_summaries(f"{delivery.value}_digest", period, list(opened), *waiting)
        digest_ids = list(opened.values())
        counts: dict[int, int] = {}
        for start in range(0, len(digest_ids), 500):
            counts.update(
                db.session.execute(
                    select(Reminder.digest_id, func.count())
                    .where(Reminder.digest_id.in_(digest_ids[start : start + 500]))
                    .group_by(Reminder.digest_id)
                ).all()
            )
        for digest_id in digest_ids:
            count = counts.get(digest_id, 0)
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
