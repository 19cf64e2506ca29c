"""Changing reminder settings and preferences, reading notifications, resending mail.

Services flush and write the audit trail; the view commits.
"""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update

from kpplan.audit.services import record, snapshot
from kpplan.core import clock as process_clock
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.rule_settings import ReminderRuleSetting
from kpplan.directory.models import User
from kpplan.reminders.models import (
    Delivery,
    MailSender,
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


def save_mail_sender(actor: User, name: str, address: str) -> None:
    """Set the name and address reminder mails come from; both empty go back to the
    configuration's ``MAIL_FROM``. Raises ``DomainError`` for a missing name or address,
    or an address that is not one."""
    name, address = (name or "").strip(), (address or "").strip()
    row = db.session.get(MailSender, 1)
    before = {"name": row.name, "address": row.address} if row else None
    if not name and not address:
        if row is not None:
            record(actor, "delete", row, "Reminder mails: back to the configured sender", before)
            db.session.delete(row)
        return
    if not name:
        raise DomainError(
            "Give the name mails come from, such as Khartoum Process secretariat.", "sender_name"
        )
    if "\n" in name or "\r" in name or len(name) > 120:
        raise DomainError("Give a name of one line, at most 120 characters.", "sender_name")
    try:
        address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(
            "Give an e-mail address such as secretariat@khartoumprocess.net.", "sender_address"
        ) from None
    after = {"name": name, "address": address}
    if row is None:
        row = MailSender(id=1, **after)
        db.session.add(row)
        record(actor, "create", row, f"Reminder mails come from {name} <{address}>", None, after)
    elif before != after:
        row.name, row.address = name, address
        record(actor, "update", row, f"Reminder mails come from {name} <{address}>", before, after)


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
