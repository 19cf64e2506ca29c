"""The escalation of a long-overdue follow-up to the secretariat: what it says of the
reminders before it is only what the outbox shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from kpplan.recommendations.models import FollowUp
from kpplan.reminders.models import Reminder, ReminderStatus
from kpplan.reminders.rules.follow_up_scans import FollowUpRow, reminders_of, whose
from kpplan.reminders.rules.recipients import Recipients
from kpplan.reminders.rules.registry import PlannedReminder, long_date


def escalations(
    follow_up: FollowUpRow,
    user_ids: list[int],
    today: date,
    after: int,
    recipients: Recipients,
    reminded: dict[int, int],
) -> Iterator[PlannedReminder]:
    """The escalation of one follow-up to each of ``user_ids``."""
    due = follow_up.next_review_date
    late = (today - due).days
    return reminders_of(
        "follow_up_escalated",
        follow_up,
        user_ids,
        f"escalated:{due.isoformat()}",
        f"Overdue for {late} days: {whose(follow_up)}",
        f"{whose(follow_up)} was due for review on {long_date(due)} and is still not updated, "
        f"{late} days later. "
        + who_was_reminded(follow_up, recipients, reminded.get(follow_up.id, 0)),
        due_since=due + timedelta(days=after),
    )


def times_reminded(session: Session, follow_ups: list[FollowUp]) -> dict[int, int]:
    """How many times each follow-up's addressee was actually reminded that it is overdue
    since its current review date: the weekly reminders the outbox sent, alone or in a
    summary that was sent (planned or failed ones do not count), once per week whatever the
    number of focal points."""
    if not follow_ups:
        return {}
    by_key = {f"follow_up:{f.id}": f for f in follow_ups}
    summary = aliased(Reminder)
    rows = session.execute(
        select(Reminder.subject_key, Reminder.period_key)
        .outerjoin(summary, Reminder.digest_id == summary.id)
        .where(
            Reminder.rule == "follow_up_overdue",
            Reminder.subject_key.in_(list(by_key)),
            or_(
                Reminder.status == ReminderStatus.SENT,
                and_(
                    Reminder.status == ReminderStatus.IN_DIGEST,
                    summary.status == ReminderStatus.SENT,
                ),
            ),
        )
        .distinct()
    ).all()
    counts: dict[int, int] = {}
    for subject_key, period_key in rows:
        follow_up = by_key[subject_key]
        # Only the reminders of its current review date.
        if period_key.startswith(f"late:{follow_up.next_review_date.isoformat()}:"):
            counts[follow_up.id] = counts.get(follow_up.id, 0) + 1
    return counts


def who_was_reminded(follow_up: FollowUp, recipients: Recipients, times: int) -> str:
    """What an escalation says of the reminders before it: only what the outbox shows."""
    if follow_up.state_id is not None and not recipients.of(follow_up):
        state = follow_up.addressee
        return (
            f"{state} has no focal point in kpplan, so nobody there has been reminded. Ask "
            f"{state} to name one, or contact {state} directly."
        )
    who = f"{follow_up.addressee}'s focal points" if follow_up.state_id else "the secretariat"
    if times == 0:
        return (
            f"No reminder of it has been sent to {who} (they may have chosen not to receive "
            f"them). Consider contacting {follow_up.addressee} directly."
        )
    verb = "was" if who == "the secretariat" else "were"
    return (
        f"{who[0].upper()}{who[1:]} {verb} reminded "
        f"{'once' if times == 1 else f'{times} times'} since it fell due. Consider "
        f"contacting {follow_up.addressee} directly."
    )
