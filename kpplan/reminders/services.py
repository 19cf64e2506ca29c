"""Changing reminder settings and preferences, reading notifications, resending mail.

Services flush and write the audit trail; the view commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from kpplan.audit.services import record, snapshot
from kpplan.core import clock as process_clock
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.rule_settings import ReminderRuleSetting
from kpplan.directory.models import User
from kpplan.reminders.models import (
    Delivery,
    Reminder,
    ReminderKind,
    ReminderPreference,
    ReminderStatus,
)
from kpplan.reminders.rules import RULES
from kpplan.reminders.settings import MAX_DAYS, MIN_DAYS


def save_rule_setting(actor: User, key: str, enabled: bool, days: int | None) -> None:
    """Turn a rule on or off and set its days.

    Raises ``DomainError`` for an unknown rule or days outside 1 to 365.
    """
    rule = RULES.get(key)
    if rule is None:
        raise DomainError("There is no such reminder.")
    if rule.days_label is None:
        days = None
    elif days is None or not MIN_DAYS <= days <= MAX_DAYS:
        raise DomainError(f"{rule.days_label}: give a number from 1 to 365.", field=key)
    setting = db.session.scalar(select(ReminderRuleSetting).where(ReminderRuleSetting.rule == key))
    if setting is None:
        setting = ReminderRuleSetting(rule=key, enabled=True, days=rule.default_days)
        db.session.add(setting)
        db.session.flush()
    before = snapshot(setting, ("enabled", "days"))
    if (setting.enabled, setting.days) == (enabled, days):
        return
    setting.enabled, setting.days = enabled, days
    record(
        actor,
        "update",
        setting,
        f"Reminder “{rule.label}”: {'on' if enabled else 'off'}"
        + (f", {days} days" if days is not None else ""),
        before=before,
        after=snapshot(setting, ("enabled", "days")),
    )


def save_timezone(actor: User, name: str) -> None:
    """Set the timezone in which reminders count days and summaries go out.

    Raises ``DomainError`` when ``name`` is not a timezone such as Europe/Brussels.
    """
    name = name.strip()
    if not process_clock.is_timezone(name):
        raise DomainError(
            "Give a timezone by its name, such as Europe/Brussels or Africa/Nairobi.",
            field="timezone",
        )
    clock = db.session.get(process_clock.ProcessClock, 1)
    if clock is None:
        clock = process_clock.ProcessClock(id=1, timezone=name)
        db.session.add(clock)
        record(actor, "create", clock, f"Reminder timezone: {name}", after={"timezone": name})
    elif clock.timezone != name:
        before = {"timezone": clock.timezone}
        clock.timezone = name
        record(actor, "update", clock, f"Reminder timezone: {name}", before, {"timezone": name})
    process_clock.forget()


def save_preferences(user: User, choices: dict[str, Delivery]) -> None:
    """Keep how ``user`` wants to receive each kind of reminder.

    Raises ``DomainError`` when asked to turn off a reminder that cannot be turned off.
    """
    saved = {
        p.rule: p
        for p in db.session.scalars(
            select(ReminderPreference).where(ReminderPreference.user_id == user.id)
        )
    }
    for key, delivery in choices.items():
        rule = RULES.get(key)
        if rule is None:
            continue
        if delivery is Delivery.OFF and not rule.can_turn_off:
            raise DomainError(f"“{rule.label}” cannot be turned off.", field=key)
        if key in saved:
            saved[key].delivery = delivery
        else:
            db.session.add(ReminderPreference(user_id=user.id, rule=key, delivery=delivery))
    db.session.flush()


def mark_read(user: User, now: datetime, reminder_id: int | None = None) -> int:
    """Mark one of ``user``'s notifications as read, or all of them; returns how many."""
    query = (
        update(Reminder)
        .where(
            Reminder.user_id == user.id,
            Reminder.kind == ReminderKind.REMINDER,
            Reminder.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    if reminder_id is not None:
        query = query.where(Reminder.id == reminder_id)
    return db.session.execute(query).rowcount


def resend(actor: User, reminder: Reminder, now: datetime) -> None:
    """Put a failed mail back in the outbox, to be sent at the next run with fresh attempts.

    Raises ``DomainError`` unless the mail failed.
    """
    if reminder.status is not ReminderStatus.FAILED:
        raise DomainError("Only a mail that failed can be sent again.")
    reminder.status = ReminderStatus.PENDING
    reminder.attempts = 0
    reminder.next_attempt_at = now
    reminder.claimed_at = reminder.claim_token = None
    reminder.last_error = f"Sent again by {actor.name}; last error: {reminder.last_error or '—'}"
    db.session.flush()
