"""The escalation of a long-overdue follow-up to the secretariat: what it says of the
reminders before it is only what the outbox shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from kpplan.core.names import in_sentence, possessive
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.reminders.models import Reminder, ReminderStatus
from kpplan.reminders.rules.follow_up_scans import FollowUpRow, reminders_of, whose
from kpplan.reminders.rules.recipients import Recipients
from kpplan.reminders.rules.registry import PlannedReminder, long_date


@dataclass(frozen=True)
class Reminded:
    """What the outbox shows of a follow-up's overdue reminders since its review date."""

    times: int = 0  # sent, alone or in a summary that was sent
    on_the_way: bool = False  # planned and not sent yet (this tick's, or a summary's)


def escalations(
    follow_up: FollowUpRow,
    user_ids: list[int],
    today: date,
    after: int,
    recipients: Recipients,
    reminded: dict[int, Reminded],
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
        f"{whose(follow_up, start=True)} was due for review on {long_date(due)} and is still "
        f"not updated, {late} days later. "
        + who_was_reminded(follow_up, recipients, reminded.get(follow_up.id, Reminded())),
        due_since=due + timedelta(days=after),
    )


def times_reminded(session: Session, follow_ups: list[FollowUp]) -> dict[int, Reminded]:
    """How many times each follow-up's addressee was actually reminded that it is overdue
    since its current review date: the weekly reminders the outbox sent, alone or in a
    summary that was sent (failed ones do not count), once per week whatever the number of
    focal points; and whether one is on its way (planned, by this tick or an earlier one,
    and not sent yet), as on a first start, when the focal points hear of it in the same
    tick as the secretariat."""
    if not follow_ups:
        return {}
    by_key = {f"follow_up:{f.id}": f for f in follow_ups}
    summary = aliased(Reminder)
    sent = or_(
        Reminder.status == ReminderStatus.SENT,
        and_(Reminder.status == ReminderStatus.IN_DIGEST, summary.status == ReminderStatus.SENT),
    )
    on_the_way = or_(
        Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.WAITING]),
        and_(
            Reminder.status == ReminderStatus.IN_DIGEST,
            summary.status.in_([ReminderStatus.PENDING, ReminderStatus.WAITING]),
        ),
    )
    rows = session.execute(
        select(Reminder.subject_key, Reminder.period_key, sent, on_the_way)
        .outerjoin(summary, Reminder.digest_id == summary.id)
        .where(
            Reminder.rule == "follow_up_overdue",
            Reminder.subject_key.in_(list(by_key)),
            or_(sent, on_the_way),
        )
        .distinct()
    ).all()
    weeks: dict[int, set[str]] = {}
    coming: set[int] = set()
    for subject_key, period_key, was_sent, is_coming in rows:
        follow_up = by_key[subject_key]
        # Only the reminders of its current review date.
        if not period_key.startswith(f"late:{follow_up.next_review_date.isoformat()}:"):
            continue
        if was_sent:
            weeks.setdefault(follow_up.id, set()).add(period_key)
        elif is_coming:
            coming.add(follow_up.id)
    return {
        f.id: Reminded(len(weeks.get(f.id, ())), f.id in coming)
        for f in follow_ups
        if f.id in weeks or f.id in coming
    }


def who_was_reminded(follow_up: FollowUp, recipients: Recipients, reminded: Reminded) -> str:
    """What an escalation says of the reminders before it: only what the outbox shows."""
    times = reminded.times
    if follow_up.state_id is not None and not recipients.of(follow_up):
        state = in_sentence(follow_up.addressee)
        return (
            f"{in_sentence(follow_up.addressee, start=True)} has no focal point in kpplan, so "
            f"nobody there has been reminded. Ask {state} to name one, or contact {state} "
            "directly."
        )
    addressee = in_sentence(follow_up.addressee)
    who = (
        f"{possessive(follow_up.addressee)} focal points"
        if follow_up.state_id
        else "the secretariat"
    )
    if times == 0 and reminded.on_the_way:
        return (
            f"A first reminder of it is on its way to {who}; none was sent before. Consider "
            f"contacting {addressee} directly."
        )
    if times == 0:
        return (
            f"No reminder of it has been sent to {who} (they may have chosen not to receive "
            f"them). Consider contacting {addressee} directly."
        )
    verb = "was" if who == "the secretariat" else "were"
    return (
        f"{who[0].upper()}{who[1:]} {verb} reminded "
        f"{'once' if times == 1 else f'{times} times'} since it fell due. Consider "
        f"contacting {addressee} directly."
    )
