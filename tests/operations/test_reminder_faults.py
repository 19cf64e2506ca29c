"""The reminder job under faults: a tick killed after planning, a database held by another
writer, a sender that dies with a mail in flight, and a lease that runs out mid-batch."""

from __future__ import annotations

import email
import socket
from datetime import UTC, date, datetime, timedelta
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
from kpplan.meetings.models import Milestone
from kpplan.reminders.models import Reminder, ReminderRun, ReminderStatus
from kpplan.reminders.planner import tick

BRUSSELS = ZoneInfo("Europe/Brussels")


# Small helpers, as in tests/test_reminders.py (copied: that module is moving) -------------


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

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_TIMEOUT": 5}


@pytest.fixture
def smtp(smtp_port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BRUSSELS).astimezone(UTC)


def run(app, when: datetime, **kwargs):
    with app.app_context():
        return tick(when, **kwargs)


def rows(app) -> list[Reminder]:
    with app.app_context():
        found = db.session.scalars(sa.select(Reminder).order_by(Reminder.id)).all()
        db.session.expunge_all()
        return found


def runs(app) -> list[ReminderRun]:
    with app.app_context():
        found = db.session.scalars(sa.select(ReminderRun).order_by(ReminderRun.id)).all()
        db.session.expunge_all()
        return found


def only_milestones_due(app) -> None:
    from kpplan.reminders import services
    from kpplan.reminders.rules import RULES

    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN))
        for key, rule in RULES.items():
            services.save_rule_setting(admin, key, key == "milestone_due", rule.default_days)
        db.session.commit()


def milestones_due(app, factory, owner: User, count: int, due=date(2026, 12, 5)) -> None:
    activity = factory.activity(start=due + timedelta(days=15))
    with app.app_context():
        for number in range(count):
            db.session.add(
                Milestone(
                    activity_id=activity.id,
                    name=f"Step {number + 1}",
                    due_date=due,
                    owner_id=owner.id,
                )
            )
        db.session.commit()


class SenderKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


class DyingTransport:
    def send(self, message, reminder):
        raise SenderKilled

    def close(self):
        pass


def forget_session(app) -> None:
    """The dead process's session (and any transaction it had open) goes with it."""
    with app.app_context():
        db.session.rollback()
        db.session.remove()


# A tick killed after its planning commit --------------------------------------------------


def test_a_tick_killed_after_planning_then_31_days_of_ticks(app, people, factory, smtp):
    only_milestones_due(app)
    milestones_due(app, factory, people["secretariat"], 2)
    quiet = at("2026-11-20T09:00")
    run(app, quiet)  # plans nothing: forgotten once old
    killed_at = at("2026-12-01T09:00")
    with pytest.raises(SenderKilled):
        run(app, killed_at, transport=DyingTransport())
    forget_session(app)

    (_, killed) = runs(app)
    assert killed.finished_at is None
    assert killed.planned == 2  # counted with the planning, not at the end

    # A month of ticks, six hours apart: each one finishes, the old run the reminders point to
    # stays, the quiet one goes.
    moment = killed_at + timedelta(minutes=30)
    while moment < killed_at + timedelta(days=31, hours=1):
        report = run(app, moment)
        assert report.errors == []
        moment += timedelta(hours=6)
    kept = {r.id: r for r in runs(app)}
    assert killed.id in kept and quiet not in [r.now for r in kept.values()]
    assert all(r.finished_at is not None for r in kept.values() if r.id != killed.id)
    reminders = rows(app)
    assert [r.run_id for r in reminders] == [killed.id, killed.id]
    assert [r.status for r in reminders] == [ReminderStatus.SENT] * 2
    assert len(smtp.messages) == 2
