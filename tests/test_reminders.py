"""Reminders through the doors people and operators use: the tick (as the scheduler and
``flask kpplan remind`` run it), a real SMTP server, the pages, and real scheduler processes."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from email.policy import default as default_policy
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from kpplan import PROJECT_ROOT
from kpplan.directory.models import Role, User
from kpplan.extensions import db
from kpplan.meetings.models import Activity, Milestone, Status
from kpplan.reminders.models import (
    Delivery,
    Reminder,
    ReminderKind,
    ReminderPreference,
    ReminderRun,
    ReminderStatus,
)
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

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port, tmp_path):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_TIMEOUT": 5,
        "MAIL_FROM": "Khartoum Process secretariat <secretariat@kpplan.example>",
        "BASE_URL": "https://kpplan.example/app",
    }


@pytest.fixture
def smtp(smtp_port):
    """A real SMTP server on the loopback address, started for the test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


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


# Milestones ---------------------------------------------------------------------------


def test_a_milestone_due_soon_is_reminded_once_over_many_ticks(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "milestone_due", "milestone_overdue")
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 8), people["secretariat"])

    # Not yet: 8 days before the due date.
    run(app, at("2026-11-30T09:00"))
    assert smtp.messages == []
    # From 7 days before, every tick sees it; it goes out once.
    moment = at("2026-12-01T00:10")
    while moment < at("2026-12-08T23:00"):
        run(app, moment)
        moment += timedelta(hours=5)
    assert smtp.keys() == ["milestone_due milestone:1 due:2026-12-08"]
    message = smtp.messages[0]
    assert str(message["To"]) == f"{people['secretariat'].name} <secretariat@kpplan.example>"
    assert message["Subject"].startswith("Due on 8 December 2026: Agenda")
    assert message["Message-ID"].startswith("<reminder-milestone-due-")
    assert message["Message-ID"].endswith("@kpplan.example>")
    html = message.get_body(("html",)).get_content()
    assert f'href="https://kpplan.example/app/activities/{activity.id}"' in html
    assert "Dear " in message.get_body(("plain",)).get_content()

    # The link in the mail opens the page that needs action.
    login_as(people["secretariat"])
    path = link_path(message)
    assert path == f"/activities/{activity.id}"
    assert client.get(path).status_code == 200


def test_an_overdue_milestone_is_reminded_weekly_until_done(app, people, factory, smtp):
    turn_off_other_rules(app, "milestone_overdue")
    activity = factory.activity(start=date(2027, 1, 20))
    milestone_id = add_milestone(app, activity.id, date(2026, 12, 8), people["secretariat"])

    moment = at("2026-12-08T12:00")
    while moment < at("2026-12-29T12:00"):
        run(app, moment)
        moment += timedelta(hours=7)
    assert smtp.keys() == [
        "milestone_overdue milestone:1 late:2026-12-08:0",  # from 9 December
        "milestone_overdue milestone:1 late:2026-12-08:1",  # from 16 December
        "milestone_overdue milestone:1 late:2026-12-08:2",  # from 23 December
    ]
    assert [m["Date"].datetime.astimezone(BRUSSELS).date() for m in smtp.messages] == [
        date(2026, 12, 9),
        date(2026, 12, 16),
        date(2026, 12, 23),
    ]
    with app.app_context():
        db.session.get(Milestone, milestone_id).done_on = date(2026, 12, 29)
        db.session.commit()
    run(app, at("2027-01-10T12:00"))
    assert len(smtp.messages) == 3


def test_a_milestone_without_owner_goes_to_the_secretariat_and_not_for_cancelled(
    app, people, factory, smtp
):
    turn_off_other_rules(app, "milestone_due")
    held = factory.activity(start=date(2026, 12, 20))
    cancelled = factory.activity(start=date(2026, 12, 20), status=Status.CANCELLED)
    add_milestone(app, held.id, date(2026, 12, 3), None, name="Invitations")
    add_milestone(app, cancelled.id, date(2026, 12, 3), people["admin"], name="Venue")
    run(app, at("2026-12-01T09:00"))
    assert [str(m["To"]) for m in smtp.messages] == [
        f"{people['secretariat'].name} <secretariat@kpplan.example>"
    ]
    assert "Invitations" in smtp.messages[0]["Subject"]


# Activities and states ------------------------------------------------------------------


def test_outcomes_not_recorded_14_days_after_the_activity(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "outcomes_missing")
    missing = factory.activity(start=date(2026, 11, 10), days=2, status=Status.HELD)
    recorded = factory.activity(start=date(2026, 11, 10), status=Status.HELD)
    factory.activity(start=date(2026, 11, 10), status=Status.CANCELLED)
    factory.activity(start=date(2026, 11, 10), status=Status.DRAFT)
    with app.app_context():
        db.session.get(Activity, recorded.id).outcome_summary = "Agreed a work plan."
        db.session.commit()

    run(app, at("2026-11-24T23:00"))  # 13 days after the end on 11 November
    assert smtp.messages == []
    for day in range(25, 31):
        run(app, at(f"2026-11-{day}T10:00"))
    assert smtp.keys() == [f"outcomes_missing activity:{missing.id} ended:2026-11-11"]
    assert "secretariat@kpplan.example" in str(smtp.messages[0]["To"])
    login_as(people["secretariat"])
    assert client.get(link_path(smtp.messages[0])).status_code == 200


def test_member_states_without_focal_point_once_a_month(app, client, people, smtp, login_as):
    turn_off_other_rules(app, "state_without_focal_point")
    for moment in ("2026-12-01T00:30", "2026-12-15T12:00", "2026-12-31T23:50", "2027-01-01T00:05"):
        run(app, at(moment))
    assert smtp.keys() == [
        "state_without_focal_point member-states month:2026-12",
        "state_without_focal_point member-states month:2027-01",
    ]
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert "Austria" in text and "Kenya" not in text  # Kenya has fp_a
    login_as(people["secretariat"])
    assert client.get(link_path(smtp.messages[0])).status_code == 200
