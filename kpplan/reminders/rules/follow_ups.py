"""The rules of the follow-up of recommendations: due soon, overdue (weekly, then escalated
to the secretariat), not updated for long, and implementations awaiting validation.

Which follow-ups are overdue, due soon or not updated is asked of the hybrids on
``FollowUp``, as the pages ask it; the days are the administrator's for each rule, and
the pages use the same days (``kpplan.recommendations.deadlines``).

The scans are in ``follow_up_scans``, the periods and "since" filters in
``follow_up_periods``, the wording of escalations in ``escalations``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import exists, literal, select, tuple_
from sqlalchemy.orm import Session

from kpplan.core.names import in_sentence, possessive
from kpplan.directory.models import User
from kpplan.recommendations import deadlines
from kpplan.recommendations.addressees import addressee_columns, addressee_joins
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import Validation
from kpplan.reminders.models import Reminder
from kpplan.reminders.rules import follow_up_scans as scans
from kpplan.reminders.rules.escalations import escalations, times_reminded
from kpplan.reminders.rules.follow_up_periods import (
    after_day,
    first_due,
    next_stale,
    next_waiting,
    overdue_not_updated,
    stale_since,
)
from kpplan.reminders.rules.follow_up_scans import (
    FOLLOW_UPS_READ,
    addressee_of,
    not_reminded,
    reminders_of,
    whose,
    wording,
)
from kpplan.reminders.rules.recipients import Recipients, secretariat_ids
from kpplan.reminders.rules.registry import PlannedReminder, RuleSettings, long_date, rule
from kpplan.reminders.rules.sql import (
    crossing_days,
    iso_date,
    iso_day_of,
    late_crossed,
    late_key,
    late_period,
    text_of,
)


@rule(
    # The pages' "due within N days" uses this rule's days.
    deadlines.DUE_SOON_RULE,
    "A follow-up is due soon",
    "To the state's focal points (the secretariat for an organisation or itself), once for "
    "each next review date.",
    default_days=deadlines.DUE_SOON_DAYS,
    days_label="Days before the next review date",
    reads=FOLLOW_UPS_READ,
)
def follow_up_due(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    for follow_up, user_ids in not_reminded(
        session,
        "follow_up_due",
        [
            FollowUp.is_due_soon(today, settings.days or 0),
            # Since the day it last looked, only those come within its days anew.
            *after_day(FollowUp.next_review_date, settings.since, settings.days or 0),
        ],
        literal("due:") + iso_date(FollowUp.next_review_date),
    ):
        due = follow_up.next_review_date
        when = "today" if due == today else f"on {long_date(due)}"
        yield from reminders_of(
            "follow_up_due",
            follow_up,
            user_ids,
            f"due:{due.isoformat()}",
            f"Due {when}: {whose(follow_up)}",
            f"{whose(follow_up, start=True)} is due for review {when}. The recommendation reads: "
            f"“{wording(follow_up)}” Its status is “{follow_up.status.label.lower()}”: "
            "post an update with what has been done and the evidence.",
        )


@rule(
    "follow_up_overdue",
    "A follow-up is overdue",
    "To the state's focal points (the secretariat for an organisation or itself), every "
    "week until it is updated.",
    default_days=7,
    days_label="Days between reminders",
    reads=FOLLOW_UPS_READ,
)
def follow_up_overdue(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    every = max(settings.days or 7, 1)
    period = late_period(today, FollowUp.next_review_date, every)
    # Since the day it last looked, only the due dates whose period turned: a few days of
    # each week, found in the index of the due dates.
    first = first_due(session) if settings.since is not None else None
    days = crossing_days(today, settings.since, every, first)
    if days is None:
        crossed = late_crossed(today, settings.since, FollowUp.next_review_date, every)
        where = [*overdue_not_updated(today), *crossed]
    else:
        where = overdue_not_updated(today, on_days=days)
    for follow_up, user_ids in not_reminded(session, "follow_up_overdue", where, period):
        due = follow_up.next_review_date
        yield from reminders_of(
            "follow_up_overdue",
            follow_up,
            user_ids,
            late_key(today, due, every),
            f"Overdue: {whose(follow_up)}",
            f"{whose(follow_up, start=True)} was due for review on {long_date(due)}, "
            f"{(today - due).days} days ago, and has not been updated since. The recommendation "
            f"reads: “{wording(follow_up)}” Post an update, even to say that work is still in "
            "progress, with a new review date.",
            due_since=due + timedelta(days=1),
        )


@rule(
    "follow_up_escalated",
    "A follow-up is long overdue (escalation)",
    "To the secretariat, once, when a follow-up has been overdue this many days without an "
    "update. It cannot be turned off.",
    default_days=28,
    days_label="Days overdue before the secretariat is told",
    can_turn_off=False,
    reads=FOLLOW_UPS_READ,
)
def follow_up_escalated(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    after = settings.days or 0
    recipients = Recipients(session)
    found = not_reminded(
        session,
        "follow_up_escalated",
        [
            *overdue_not_updated(today),
            FollowUp.next_review_date <= today - timedelta(days=after),
            *after_day(FollowUp.next_review_date, settings.since, -after),
        ],
        literal("escalated:") + iso_date(FollowUp.next_review_date),
        staff_only=True,
    )
    # What the outbox sent before, read for a thousand follow-ups at a time.
    while chunk := list(islice(found, 1000)):
        reminded = times_reminded(session, [follow_up for follow_up, _ in chunk])
        for follow_up, user_ids in chunk:
            yield from escalations(follow_up, user_ids, today, after, recipients, reminded)


@rule(
    # The pages' "not updated for N days" uses this rule's days.
    deadlines.STALE_RULE,
    "A follow-up has not been updated for a long time",
    "To the state's focal points (the secretariat for an organisation or itself), once "
    "after this many days without an update.",
    default_days=deadlines.STALE_DAYS,
    days_label="Days without an update",
    reads=FOLLOW_UPS_READ,
    wakes=lambda session, now, settings: next_stale(session, now, settings.days or 0),
)
def follow_up_stale(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    days = settings.days or 0
    # Counted from the tick's moment (the pages count from the start of their day): a
    # day's difference at the edges does not matter here.
    for follow_up, user_ids in not_reminded(
        session,
        "follow_up_stale",
        [FollowUp.is_stale(now, days), *stale_since(settings.since, now, days)],
        None,
        stale=True,
    ):
        since = (follow_up.last_update_at or follow_up.created_at).astimezone(now.tzinfo).date()
        never = follow_up.last_update_at is None
        yield from reminders_of(
            "follow_up_stale",
            follow_up,
            user_ids,
            f"since:{since.isoformat()}",
            f"No update for {days} days: {whose(follow_up)}",
            f"{whose(follow_up, start=True)} "
            + (
                f"has had no update since it was recorded on {long_date(since)}. "
                if never
                else f"was last updated on {long_date(since)}. "
            )
            + f"The recommendation reads: “{wording(follow_up)}” Tell the Process where it "
            "stands.",
            due_since=since + timedelta(days=days),
        )


@rule(
    "validation_waiting",
    "An implementation waits for validation",
    "To the secretariat, once, when a move to “implemented” has waited this many days.",
    default_days=7,
    days_label="Days waiting",
    reads=FOLLOW_UPS_READ,
    wakes=lambda session, now, settings: next_waiting(session, now, settings.days or 0),
)
def validation_waiting(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    before = now - timedelta(days=settings.days or 0)
    staff = secretariat_ids(session)
    if not staff:
        return
    subject = literal("status_update:") + text_of(StatusUpdate.id)
    # Read as rows (not objects), a batch at a time: a first tick finds tens of thousands.
    found = (
        addressee_joins(
            select(
                StatusUpdate.id.label("update_id"),
                StatusUpdate.posted_at,
                User.id.label("user_id"),
                Recommendation.code,
                *addressee_columns(),
            ).join(FollowUp, FollowUp.id == StatusUpdate.follow_up_id)
        )
        .join(User, User.id.in_(staff))
        .where(
            StatusUpdate.validation == Validation.PENDING,
            StatusUpdate.posted_at < before,
            # An update is never edited, so its reminder's period (the day it was posted) is
            # fixed: one of this rule for the update and the person is the one. Its key is
            # that day in the Process's timezone, which SQLite cannot tell: any of the day
            # before, the day and the day after (in UTC), which lets the outbox's unique
            # index find it (not the person's every reminder).
            ~exists().where(
                Reminder.subject_key == subject,
                Reminder.rule == "validation_waiting",
                Reminder.period_key.between(
                    literal("posted:") + iso_day_of(StatusUpdate.posted_at, -1),
                    literal("posted:") + iso_day_of(StatusUpdate.posted_at, 1),
                ),
                Reminder.user_id == User.id,
            ),
        )
    )
    after = (0, 0)
    while True:
        rows = session.execute(
            found.where(
                StatusUpdate.id >= after[0],
                tuple_(StatusUpdate.id, User.id) > tuple_(*after),
            )
            .order_by(StatusUpdate.id, User.id)
            .limit(scans.BATCH)
        ).all()
        for row in rows:
            posted = row.posted_at.astimezone(now.tzinfo).date()
            addressee = addressee_of(row)
            yield PlannedReminder(
                rule="validation_waiting",
                subject_key=f"status_update:{row.update_id}",
                period_key=f"posted:{posted.isoformat()}",
                user_id=row.user_id,
                title=(
                    f"To validate: {possessive(addressee)} follow-up of {row.code} reported as "
                    "implemented"
                ),
                message=(
                    f"On {long_date(posted)}, {in_sentence(addressee)} reported {row.code} as "
                    "implemented. It counts once the secretariat accepts it; accept it, or return "
                    "it with a comment."
                ),
                due_since=posted + timedelta(days=settings.days or 0),
                # To the page where the secretariat accepts or returns this update, not to
                # the form that posts an update.
                link_endpoint="recommendations.validate",
                link_values={"update_id": row.update_id},
                link_label="Review and validate",
            )
        if len(rows) < scans.BATCH:
            return
        after = (rows[-1].update_id, rows[-1].user_id)
