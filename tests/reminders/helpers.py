"""What the reminder tests share: a real SMTP server's inbox, moments in Brussels time, a
tick, the outbox's rows, and shortcuts to set the data up."""

from __future__ import annotations

import email
import socket
from datetime import UTC, date, datetime
from email.policy import default as default_policy
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
from kpplan.meetings.models import Milestone
from kpplan.reminders.models import Delivery, Reminder, ReminderPreference
from kpplan.reminders.planner import tick

BRUSSELS = ZoneInfo("Europe/Brussels")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def keys(self) -> list[str]:
        return [str(m["X-Kpplan-Reminder"]) for m in self.messages]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in str(m["To"])]


def at(text: str) -> datetime:
    """A moment written in Brussels time, as the secretariat reads it."""
    return datetime.fromisoformat(text).replace(tzinfo=BRUSSELS).astimezone(UTC)


def run(app, when: datetime, **kwargs):
    with app.app_context():
        return tick(when, **kwargs)


def rows(app, **where) -> list[Reminder]:
    with app.app_context():
        query = sa.select(Reminder).order_by(Reminder.id)
        for name, value in where.items():
            query = query.where(getattr(Reminder, name) == value)
        found = db.session.scalars(query).all()
        db.session.expunge_all()
        return found


def add_milestone(app, activity_id: int, due: date, owner: User | None, name="Agenda") -> int:
    with app.app_context():
        milestone = Milestone(
            activity_id=activity_id, name=name, due_date=due, owner_id=owner.id if owner else None
        )
        db.session.add(milestone)
        db.session.commit()
        return milestone.id


def set_preference(app, user: User, rule: str, delivery: Delivery) -> None:
    with app.app_context():
        db.session.add(ReminderPreference(user_id=user.id, rule=rule, delivery=delivery))
        db.session.commit()


def turn_off_other_rules(app, *keep: str) -> None:
    from kpplan.reminders import services
    from kpplan.reminders.rules import RULES

    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN))
        for key, rule in RULES.items():
            services.save_rule_setting(admin, key, key in keep, rule.default_days)
        db.session.commit()


def link_path(message) -> str:
    """The first link to kpplan in the mail's text part, as a path for the test client."""
    text = message.get_body(("plain",)).get_content()
    url = next(w for w in text.split() if w.startswith("https://kpplan.example/app/"))
    return urlsplit(url).path.removeprefix("/app")
