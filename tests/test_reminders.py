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
from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
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


def test_outcomes_or_recommendations_not_recorded_14_days_after_the_activity(
    app, client, people, factory, smtp, login_as
):
    from kpplan.meetings.kinds import ActivityKind

    turn_off_other_rules(app, "outcomes_missing")
    missing = factory.activity(start=date(2026, 11, 10), days=2, status=Status.HELD)
    recorded = factory.activity(start=date(2026, 11, 10), status=Status.HELD)
    no_recommendations = factory.activity(start=date(2026, 11, 10), status=Status.HELD)
    webinar = factory.activity(
        start=date(2026, 11, 10), status=Status.HELD, kind=ActivityKind.WEBINAR
    )
    factory.activity(start=date(2026, 11, 10), status=Status.CANCELLED)
    factory.activity(start=date(2026, 11, 10), status=Status.DRAFT)
    factory.recommendation(recorded.id)
    with app.app_context():
        for done in (recorded, no_recommendations, webinar):
            db.session.get(Activity, done.id).outcome_summary = "Agreed a work plan."
        db.session.commit()

    run(app, at("2026-11-24T23:00"))  # 13 days after the end on 11 November
    assert smtp.messages == []
    for day in range(25, 31):
        run(app, at(f"2026-11-{day}T10:00"))
    assert sorted(smtp.keys()) == sorted(
        [
            f"outcomes_missing activity:{missing.id} ended:2026-11-11",
            f"outcomes_missing activity:{no_recommendations.id} ended:2026-11-11",
        ]
    )
    assert all("secretariat@kpplan.example" in str(m["To"]) for m in smtp.messages)
    by_subject = {str(m["X-Kpplan-Reminder"]).split()[1]: m for m in smtp.messages}
    both = by_subject[f"activity:{missing.id}"].get_body(("plain",)).get_content()
    assert "its outcomes and its recommendations are not recorded" in both
    only = by_subject[f"activity:{no_recommendations.id}"]
    assert only["Subject"].startswith("Recommendations to record")
    login_as(people["secretariat"])
    for message in smtp.messages:
        assert client.get(link_path(message)).status_code == 200
    assert link_path(only) == f"/activities/{no_recommendations.id}/recommendations/new"


def _follow_up(app, factory, target: date | None, state="Kenya", created: str = "2026-11-01T09:00"):
    """A recommendation to one state, recorded at ``created`` (Brussels time)."""
    from kpplan.recommendations.models import FollowUp

    activity = factory.activity(start=date(2026, 6, 1), status=Status.HELD)
    recommendation = factory.recommendation(activity.id, states=(state,), target=target)
    with app.app_context():
        follow_up = db.session.scalar(
            sa.select(FollowUp).where(FollowUp.recommendation_id == recommendation.id)
        )
        follow_up.created_at = at(created)
        db.session.commit()
        return follow_up.id, recommendation.code


def _report(app, follow_up_id: int, when: datetime, review: date | None = None, status=None):
    """A status update as posted at ``when``."""
    from kpplan.recommendations.models import FollowUp, FollowUpStatus, StatusUpdate

    with app.app_context():
        follow_up = db.session.get(FollowUp, follow_up_id)
        new = status or FollowUpStatus.IN_PROGRESS
        db.session.add(
            StatusUpdate(
                follow_up=follow_up,
                status_before=follow_up.status,
                status=new,
                narrative="Working on it.",
                posted_at=when,
                next_review_date=review,
            )
        )
        follow_up.status = new
        follow_up.last_update_at = when
        if review is not None:
            follow_up.next_review_date = review
        db.session.commit()


def test_a_follow_up_due_soon_reaches_the_focal_points_once(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "follow_up_due")
    alternate = factory.user(Role.FOCAL_POINT, state="Kenya", is_alternate=True)
    follow_up_id, code = _follow_up(app, factory, date(2026, 12, 31))
    run(app, at("2026-11-30T12:00"))  # 31 days before
    assert smtp.messages == []
    moment = at("2026-12-01T00:30")
    while moment < at("2027-01-03T00:00"):
        run(app, moment)
        moment += timedelta(hours=7)
    assert sorted(smtp.keys()) == [f"follow_up_due follow_up:{follow_up_id} due:2026-12-31"] * 2
    assert {m["To"].addresses[0].addr_spec for m in smtp.messages} == {
        people["fp_a"].email,
        alternate.email,
    }
    message = smtp.to(people["fp_a"].email)[0]
    assert code in message["Subject"] and "Kenya" in message["Subject"]
    login_as(people["fp_a"])
    assert link_path(message) == f"/follow-ups/{follow_up_id}"
    page = client.get(link_path(message))
    assert page.status_code == 200 and "Post an update" in page.text
    # Another state's focal point gets nothing, and the link is not theirs.
    assert smtp.to(people["fp_b"].email) == []
    login_as(people["fp_b"])
    assert client.get(link_path(message)).status_code == 404


def test_an_overdue_follow_up_weekly_until_updated_then_escalated(app, people, factory, smtp):
    turn_off_other_rules(app, "follow_up_overdue", "follow_up_escalated")
    follow_up_id, _ = _follow_up(app, factory, date(2026, 12, 1))
    day = date(2026, 12, 1)
    while day <= date(2027, 1, 10):
        run(app, at(f"{day.isoformat()}T09:00"))
        if day == date(2026, 12, 20):
            # An update without a new review date: it still stops the weekly reminders.
            _report(app, follow_up_id, at("2026-12-20T15:00"))
        day += timedelta(days=1)
    assert smtp.keys() == [
        f"follow_up_overdue follow_up:{follow_up_id} late:2026-12-01:0",
        f"follow_up_overdue follow_up:{follow_up_id} late:2026-12-01:1",
        f"follow_up_overdue follow_up:{follow_up_id} late:2026-12-01:2",
    ]
    assert all(people["fp_a"].email in str(m["To"]) for m in smtp.messages)

    # Never updated: after 28 days the secretariat is told, once; they cannot turn it off.
    other_id, _ = _follow_up(app, factory, date(2027, 1, 1), state="Italy")
    set_preference(app, people["secretariat"], "follow_up_escalated", Delivery.OFF)
    smtp.messages.clear()
    day = date(2027, 1, 1)
    while day <= date(2027, 2, 15):
        run(app, at(f"{day.isoformat()}T09:00"))
        day += timedelta(days=1)
    escalations = [m for m in smtp.messages if "escalated" in str(m["X-Kpplan-Reminder"])]
    assert [str(m["X-Kpplan-Reminder"]) for m in escalations] == [
        f"follow_up_escalated follow_up:{other_id} escalated:2027-01-01"
    ]
    assert people["secretariat"].email in str(escalations[0]["To"])
    weekly = [m for m in smtp.messages if "overdue" in str(m["X-Kpplan-Reminder"])]
    assert len(weekly) == 7 and all(people["fp_b"].email in str(m["To"]) for m in weekly)


def test_stale_follow_ups_and_waiting_validations(app, people, factory, smtp):
    from kpplan.recommendations.models import FollowUpStatus, StatusUpdate, Validation

    turn_off_other_rules(app, "follow_up_stale", "validation_waiting")
    stale_id, _ = _follow_up(app, factory, None, created="2026-09-01T10:00")
    fresh_id, _ = _follow_up(app, factory, None, created="2026-09-01T10:00", state="Italy")
    _report(app, fresh_id, at("2026-11-15T10:00"))
    waiting_id, _ = _follow_up(app, factory, None, state="Italy")
    with app.app_context():
        from kpplan.recommendations.models import FollowUp

        follow_up = db.session.get(FollowUp, waiting_id)
        update = StatusUpdate(
            follow_up=follow_up,
            status_before=FollowUpStatus.IN_PROGRESS,
            status=FollowUpStatus.IMPLEMENTED,
            narrative="Done.",
            posted_at=at("2026-11-20T10:00"),
            validation=Validation.PENDING,
        )
        db.session.add(update)
        db.session.flush()
        follow_up.pending_update_id = update.id
        follow_up.last_update_at = at("2026-11-20T10:00")
        db.session.commit()
        update_id = update.id
    for day in range(25, 31):
        run(app, at(f"2026-11-{day}T09:00"))
    for day in range(1, 31):
        run(app, at(f"2026-12-{day:02d}T09:00"))
    assert sorted(smtp.keys()) == sorted(
        [
            f"follow_up_stale follow_up:{stale_id} since:2026-09-01",
            f"validation_waiting status_update:{update_id} posted:2026-11-20",
        ]
    )
    stale = next(m for m in smtp.messages if "stale" in str(m["X-Kpplan-Reminder"]))
    assert people["fp_a"].email in str(stale["To"])
    assert (
        "has had no update since it was recorded on 1 September 2026"
        in stale.get_body(("plain",)).get_content()
    )
    waiting = next(m for m in smtp.messages if "validation" in str(m["X-Kpplan-Reminder"]))
    assert people["secretariat"].email in str(waiting["To"])


def test_a_slipping_work_plan_item_reaches_the_chair_and_the_secretariat(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "work_plan_item_late")
    chairmanship = factory.chairmanship("South Sudan", date(2026, 3, 1), None)
    plan = factory.work_plan(chairmanship.id)
    item = factory.work_plan_item(plan.id, target=date(2026, 12, 15), quarter=False)
    run(app, at("2026-12-15T20:00"))
    assert smtp.messages == []
    for day in range(16, 31):
        run(app, at(f"2026-12-{day}T09:00"))
    assert smtp.keys() == [f"work_plan_item_late work_plan_item:{item.id} due:2026-12-15"] * 2
    assert {m["To"].addresses[0].addr_spec for m in smtp.messages} == {
        people["chair"].email,
        people["secretariat"].email,
    }
    login_as(people["chair"])
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


def test_recipient_helpers_for_rules(app, people, factory):
    from kpplan.reminders.rules import focal_point_ids, secretariat_ids

    alternate = factory.user(Role.FOCAL_POINT, state="Kenya", is_alternate=True)
    factory.user(Role.FOCAL_POINT, state="Kenya", active=False)
    with app.app_context():
        kenya = db.session.scalar(sa.select(User.state_id).where(User.id == people["fp_a"].id))
        assert focal_point_ids(db.session, kenya) == [people["fp_a"].id, alternate.id]
        assert secretariat_ids(db.session) == [people["secretariat"].id]
        db.session.get(User, people["secretariat"].id).active = False
        db.session.flush()
        assert secretariat_ids(db.session) == [people["admin"].id]  # nobody else to tell
        db.session.rollback()


# Delivery -------------------------------------------------------------------------------


def test_smtp_down_then_up_delivers_once(app, people, factory, smtp_port):
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20))
    for name in ("Agenda", "Venue", "Invitations"):
        add_milestone(app, activity.id, date(2026, 12, 5), people["secretariat"], name=name)
    first = at("2026-12-01T09:00")

    run(app, first)  # nobody listens on the port
    down = rows(app)
    assert len(down) == 3
    for row in down:
        assert row.status is ReminderStatus.PENDING and row.attempts == 1
        assert f"127.0.0.1:{smtp_port} could not be reached" in row.last_error
        assert row.next_attempt_at == first + timedelta(minutes=5)
    message_ids = sorted(row.message_id for row in down)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        run(app, first + timedelta(minutes=2))  # before the back-off ends: not yet
        assert inbox.messages == []
        for minutes in (5, 10, 15, 60, 600):
            run(app, first + timedelta(minutes=minutes))
    finally:
        controller.stop()
    assert len(inbox.messages) == 3
    assert sorted(m["Message-ID"] for m in inbox.messages) == message_ids
    for row in rows(app):
        assert row.status is ReminderStatus.SENT and row.attempts == 2


def test_gives_up_after_the_last_attempt_and_an_admin_sends_it_again(
    app, client, people, factory, smtp_port, login_as
):
    turn_off_other_rules(app, "milestone_due")
    app.config["REMINDER_MAX_ATTEMPTS"] = 3
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 5), people["secretariat"])
    moment = at("2026-12-01T09:00")
    for _ in range(10):
        run(app, moment)
        moment += timedelta(hours=1)
    (row,) = rows(app)
    assert row.status is ReminderStatus.FAILED and row.attempts == 3
    assert row.last_error

    login_as(people["secretariat"])  # sees, cannot resend
    page = client.get("/reminders/outbox?status=failed")
    assert page.status_code == 200 and "Failed" in page.text and row.last_error[:20] in page.text
    assert "Send again" not in page.text
    assert client.post(f"/reminders/outbox/{row.id}/resend").status_code == 403

    login_as(people["admin"])
    assert "Send again" in client.get("/reminders/outbox?status=failed").text
    response = client.post(f"/reminders/outbox/{row.id}/resend")
    assert response.status_code == 302
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=app.config["MAIL_PORT"])
    controller.start()
    try:
        run(app, moment)
        run(app, moment + timedelta(hours=1))
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert rows(app)[0].status is ReminderStatus.SENT
    # A mail that did not fail cannot be "sent again".
    client.post(f"/reminders/outbox/{row.id}/resend")
    assert rows(app)[0].status is ReminderStatus.SENT


class SenderKilled(BaseException):
    """Stands for the process dying mid-send: not an Exception, nothing catches it."""


class DyingTransport:
    def send(self, message, reminder):
        raise SenderKilled

    def close(self):
        pass


def test_a_sender_killed_between_claiming_and_sending_is_retried_not_lost(
    app, people, factory, smtp
):
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 5), people["secretariat"])
    first = at("2026-12-01T09:00")
    with pytest.raises(SenderKilled):
        run(app, first, transport=DyingTransport())
    with app.app_context():
        db.session.remove()  # the dead process's session goes with it
    (row,) = rows(app)
    assert row.status is ReminderStatus.PENDING and row.claimed_at == first

    run(app, first + timedelta(minutes=5))  # its lease still holds: nobody sends it
    assert smtp.messages == []
    run(app, first + timedelta(minutes=10))  # the lease ran out: sent, once
    run(app, first + timedelta(minutes=15))
    assert smtp.keys() == ["milestone_due milestone:1 due:2026-12-05"]
    (row,) = rows(app)
    assert row.status is ReminderStatus.SENT and row.attempts == 2


def test_without_smtp_server_mails_are_written_as_eml_files(app, people, factory, tmp_path):
    turn_off_other_rules(app, "milestone_due")
    app.config["MAIL_SERVER"] = ""
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 5), people["secretariat"])
    run(app, at("2026-12-01T09:00"))
    run(app, at("2026-12-01T10:00"))
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert [f.name for f in files] == ["000001-milestone_due.eml"]
    message = email.message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert message["To"].addresses[0].addr_spec == "secretariat@kpplan.example"
    assert rows(app)[0].status is ReminderStatus.SENT


# Preferences and summaries ----------------------------------------------------------------


def test_daily_and_weekly_summaries_and_off(app, people, factory, smtp):
    turn_off_other_rules(app, "milestone_due", "milestone_overdue")
    owner = people["admin"]
    activity = factory.activity(start=date(2027, 1, 20))
    add_milestone(app, activity.id, date(2026, 12, 4), owner, name="Concept note")
    add_milestone(app, activity.id, date(2026, 12, 5), owner, name="Agenda")
    set_preference(app, owner, "milestone_due", Delivery.DAILY)
    set_preference(app, owner, "milestone_overdue", Delivery.WEEKLY)

    run(app, at("2026-12-01T09:00"))  # Tuesday: both due soon; waiting for tomorrow's summary
    run(app, at("2026-12-01T20:00"))
    assert smtp.messages == []
    run(app, at("2026-12-02T07:55"))
    assert smtp.messages == []
    run(app, at("2026-12-02T08:01"))  # the daily summary, once, listing both
    run(app, at("2026-12-02T12:00"))
    assert smtp.keys() == [f"daily_digest user:{owner.id} day:2026-12-02"]
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert "Concept note" in text and "Agenda" in text and "2 reminders" in text
    assert smtp.messages[0]["Subject"] == "kpplan: 2 reminders for 2 December 2026"

    # Overdue from 5 and 6 December: in the weekly summary on Monday 7 December at 08:00.
    for moment in ("2026-12-05T09:00", "2026-12-06T09:00", "2026-12-07T07:30"):
        run(app, at(moment))
    assert len(smtp.messages) == 1
    run(app, at("2026-12-07T08:30"))
    assert smtp.keys()[1] == f"weekly_digest user:{owner.id} week:2026-W50"
    weekly = smtp.messages[1].get_body(("html",)).get_content()
    assert "Overdue: Concept note" in weekly and "Overdue: Agenda" in weekly
    # Nothing waiting: no summary the next day.
    run(app, at("2026-12-08T09:00"))
    assert len(smtp.messages) == 2

    # Turned off: planned (once, for the record), never mailed, not in the notifications.
    with app.app_context():
        pref = db.session.scalar(
            sa.select(ReminderPreference).where(ReminderPreference.rule == "milestone_overdue")
        )
        pref.delivery = Delivery.OFF
        db.session.commit()
    run(app, at("2026-12-14T09:00"))
    run(app, at("2026-12-21T09:00"))
    assert len(smtp.messages) == 2
    off = rows(app, status=ReminderStatus.OFF)
    assert sorted(r.period_key for r in off) == [
        "late:2026-12-04:1",
        "late:2026-12-04:2",
        "late:2026-12-05:1",
        "late:2026-12-05:2",
    ]


def test_what_waits_after_its_summary_went_out_goes_in_the_next_one(app, people, factory, smtp):
    turn_off_other_rules(app, "milestone_due")
    owner = people["admin"]
    set_preference(app, owner, "milestone_due", Delivery.DAILY)
    activity = factory.activity(start=date(2027, 1, 20))
    add_milestone(app, activity.id, date(2026, 12, 5), owner, name="Concept note")
    run(app, at("2026-12-01T07:00"))
    run(app, at("2026-12-01T08:30"))  # today's summary, with the concept note
    add_milestone(app, activity.id, date(2026, 12, 6), owner, name="Agenda")
    # A tick for an earlier moment, run late (as `remind --now` may be): the agenda is
    # planned before 08:00 but today's summary has gone.
    run(app, at("2026-12-01T07:30"))
    run(app, at("2026-12-01T09:00"))
    assert smtp.keys() == [f"daily_digest user:{owner.id} day:2026-12-01"]
    run(app, at("2026-12-02T08:10"))
    assert smtp.keys()[1:] == [f"daily_digest user:{owner.id} day:2026-12-02"]
    first, second = (m.get_body(("plain",)).get_content() for m in smtp.messages)
    assert "Concept note" in first and "Agenda" not in first
    assert "Agenda" in second and "Concept note" not in second


def test_escalations_cannot_be_turned_off(app, client, people, factory, smtp, login_as):
    from kpplan.reminders.rules import RULES, PlannedReminder, rule

    @rule("test_escalation", "Escalated", "To the secretariat, always.", can_turn_off=False)
    def escalation(session, now, settings):
        yield PlannedReminder(
            "test_escalation",
            "x:1",
            f"day:{now.date()}",
            people["admin"].id,
            "Escalated",
            "Look at this.",
            "home.home",
        )

    try:
        turn_off_other_rules(app, "test_escalation")
        login_as(people["admin"])
        page = client.get("/reminders/preferences")
        assert "This one cannot be turned off." in page.text
        data = {key: "immediately" for key in RULES}
        data["test_escalation"] = "off"
        response = client.post("/reminders/preferences", data=data)
        assert "Not a valid choice" in response.text
        set_preference(app, people["admin"], "test_escalation", Delivery.OFF)  # as if stored
        run(app, at("2026-12-01T09:00"))
        assert smtp.keys() == ["test_escalation x:1 day:2026-12-01"]
    finally:
        del RULES["test_escalation"]


def test_preferences_page_saves_each_choice(app, client, people, login_as):
    from kpplan.reminders.rules import RULES

    login_as(people["fp_a"])
    page = client.get("/reminders/preferences")
    assert page.status_code == 200 and "A preparation milestone is due soon" in page.text
    data = {key: "immediately" for key in RULES}
    data["milestone_due"] = "weekly"
    data["outcomes_missing"] = "off"
    response = client.post("/reminders/preferences", data=data)
    assert response.status_code == 302
    with app.app_context():
        from kpplan.reminders.settings import preferences_of

        chosen = preferences_of(people["fp_a"].id)
    assert chosen["milestone_due"] is Delivery.WEEKLY
    assert chosen["outcomes_missing"] is Delivery.OFF
    assert chosen["milestone_overdue"] is Delivery.IMMEDIATELY
    assert '<option selected value="weekly">' in client.get("/reminders/preferences").text


# Notifications, pages, settings -------------------------------------------------------------


def _bell(text: str) -> str:
    start = text.index('class="bell')
    return text[start : text.index("</a>", start)]


def test_the_bell_counts_unread_notifications_and_marking_read_clears_them(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20), title="Workshop on border management")
    add_milestone(app, activity.id, date(2026, 12, 3), people["secretariat"], name="Agenda")
    add_milestone(app, activity.id, date(2026, 12, 4), people["secretariat"], name="Venue")
    add_milestone(app, activity.id, date(2026, 12, 4), people["admin"], name="Budget")
    run(app, at("2026-12-01T09:00"))

    login_as(people["secretariat"])
    home = client.get("/")
    assert "Notifications: 2 unread" in _bell(home.text)
    page = client.get("/reminders/")
    assert "Due on 3 December 2026: Agenda" in page.text and "Budget" not in page.text
    assert f'href="/activities/{activity.id}"' in page.text

    mine = [r.id for r in rows(app, user_id=people["secretariat"].id)]
    theirs = rows(app, user_id=people["admin"].id)[0].id
    assert client.post(f"/reminders/{theirs}/read").status_code == 404
    assert client.post("/reminders/999999/read").status_code == 404
    assert client.post(f"/reminders/{mine[0]}/read").status_code == 302
    assert "Notifications: 1 unread" in _bell(client.get("/").text)
    client.post("/reminders/read")
    assert "Notifications: 0 unread" in _bell(client.get("/").text)
    assert rows(app, id=theirs)[0].read_at is None  # someone else's stays unread


def test_the_bell_adds_no_query_to_a_page(app, client, people, factory, login_as, count_queries):
    login_as(people["secretariat"])
    client.get("/states/")
    with count_queries() as counter:
        client.get("/states/")
    assert counter.count <= 4  # as test_directory pins for this page, bell included


def test_list_pages_query_counts_do_not_grow(
    app, client, people, factory, smtp, login_as, count_queries
):
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 3), people["secretariat"])
    run(app, at("2026-12-01T09:00"))
    pages = ("/reminders/", "/reminders/outbox", "/reminders/outbox?status=sent&rule=milestone_due")
    login_as(people["admin"])
    with count_queries() as few:
        for page in pages:
            assert client.get(page).status_code == 200
    for n in range(30):
        add_milestone(app, activity.id, date(2026, 12, 4), people["secretariat"], name=f"Step {n}")
        add_milestone(app, activity.id, date(2026, 12, 4), people["admin"], name=f"Step {n}")
    run(app, at("2026-12-02T09:00"))
    run(app, at("2026-12-02T10:00"))
    login_as(people["secretariat"])
    with count_queries() as many:
        for page in pages:
            assert client.get(page).status_code == 200
    assert len(rows(app)) == 61
    assert many.count == few.count


def test_admin_page_shows_runs_and_outbox(app, client, people, factory, smtp, login_as):
    login_as(people["secretariat"])
    assert "The reminder job has never run" in client.get("/reminders/outbox").text
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 3), people["secretariat"])
    run(app, at("2026-12-01T09:00"), runner="scheduler 1@test", next_run_at=at("2026-12-01T09:05"))
    page = client.get("/reminders/outbox").text
    assert "scheduler 1@test" in page
    assert "01 Dec 2026 08:05 UTC" in page  # the next run
    assert "Due on 3 December 2026: Agenda" in page and "Sent" in page
    assert "Reminder settings" not in page  # for administrators
    assert "Due on" not in client.get("/reminders/outbox?status=failed").text
    assert "seems to have stopped" not in page
    (run_id,) = {r.run_id for r in rows(app)}
    assert f'href="/reminders/outbox?run={run_id}"' in page
    assert "Due on 3 December" in client.get(f"/reminders/outbox?run={run_id}").text
    assert "Due on 3 December" not in client.get(f"/reminders/outbox?run={run_id + 1}").text

    # Runs that did nothing are forgotten after 30 days; those that planned stay.
    run(app, at("2026-12-02T09:00"))
    run(app, at("2027-01-05T09:00"))
    with app.app_context():
        kept = db.session.scalars(sa.select(ReminderRun.now).order_by(ReminderRun.id)).all()
    assert kept == [at("2026-12-01T09:00"), at("2027-01-05T09:00")]

    # A scheduler that stopped shows: its next run is long past.
    from kpplan.core.db import utcnow

    run(
        app,
        utcnow() - timedelta(hours=2),
        runner="scheduler 2@test",
        next_run_at=utcnow() - timedelta(hours=1),
    )
    assert "seems to have stopped" in client.get("/reminders/outbox").text
    assert client.get("/reminders/outbox?status=nonsense&rule=x&page=-3").status_code == 200


def test_settings_turn_rules_off_change_days_and_timezone(
    app, client, people, factory, smtp, login_as
):
    from kpplan.reminders.rules import RULES

    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 11), people["secretariat"])
    login_as(people["admin"])
    page = client.get("/reminders/settings")
    assert page.status_code == 200 and 'value="Europe/Brussels"' in page.text
    data = {"timezone_field": "Africa/Nairobi"}
    for key, rule in RULES.items():
        if key == "milestone_due":
            data[f"{key}_enabled"] = "y"
        if rule.days_label:
            data[f"{key}_days"] = str(rule.default_days)
    data["milestone_due_days"] = "10"
    assert client.post("/reminders/settings", data=data).status_code == 302

    # 10 days before in Nairobi (UTC+3): 1 December starts at 21:00 UTC on 30 November.
    run(app, datetime(2026, 11, 30, 20, 59, tzinfo=UTC))
    assert smtp.messages == []
    run(app, datetime(2026, 11, 30, 21, 1, tzinfo=UTC))
    assert smtp.keys() == ["milestone_due milestone:1 due:2026-12-11"]

    bad = client.post("/reminders/settings", data={**data, "timezone_field": "Mars/Olympus"})
    assert bad.status_code == 200 and "Give a timezone by its name" in bad.text
    bad = client.post("/reminders/settings", data={**data, "milestone_due_days": "0"})
    assert "Give a number from 1 to 365." in bad.text
    history = client.get("/history/").text
    assert "Reminder timezone: Africa/Nairobi" in history


def test_remind_command_runs_one_tick_and_dry_run_changes_nothing(
    app, runner, people, factory, smtp
):
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 3), people["secretariat"])

    result = runner.invoke(args=["kpplan", "remind", "--now", "2026-12-01T08:00", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing changed at 2026-12-01 07:00 UTC" in result.output
    assert "Planned 1:" in result.output and "Would send 1:" in result.output
    assert rows(app) == [] and smtp.messages == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReminderRun.id))) == 0

    result = runner.invoke(args=["kpplan", "remind", "--now", "2026-12-01T08:00"])
    assert "Planned 1:" in result.output and "Sent 1:" in result.output
    assert "milestone_due milestone:1 due:2026-12-03" in result.output
    result = runner.invoke(args=["kpplan", "remind", "--now", "2026-12-01T08:05+01:00"])
    assert "Planned 0:" in result.output and "Sent 0:" in result.output
    assert len(smtp.messages) == 1
    result = runner.invoke(args=["kpplan", "remind", "--now", "yesterday"])
    assert result.exit_code == 2 and "2026-12-01T08:00" in result.output


# The scheduler processes -----------------------------------------------------------------


def _start_scheduler(env: dict, log_path) -> subprocess.Popen:
    # The child keeps its own copy of the file; ours closes once it has started.
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "kpplan", "scheduler"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _runs_by(app, process: subprocess.Popen) -> int:
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count(ReminderRun.id)).where(
                ReminderRun.runner.like(f"scheduler {process.pid}@%"),
                ReminderRun.finished_at.is_not(None),
                ReminderRun.errors.is_(None),
            )
        )
        db.session.remove()
        return count


def _wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_two_scheduler_processes_only_one_ticks_and_the_other_takes_over(
    app, database_url, tmp_path
):
    env = {
        **os.environ,
        "KPPLAN_DATABASE_URL": database_url,
        "KPPLAN_SECRET_KEY": "test",
        "KPPLAN_REMINDER_TICK_MINUTES": "0.01",  # every 0.6 seconds
        "KPPLAN_SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock"),
        "KPPLAN_MAIL_FOLDER": str(tmp_path / "mail"),
    }
    first = _start_scheduler(env, tmp_path / "first.log")
    second = None
    try:
        assert _wait_for(lambda: _runs_by(app, first) >= 2), (tmp_path / "first.log").read_text()
        second = _start_scheduler(env, tmp_path / "second.log")
        assert _wait_for(lambda: "waiting to take over" in (tmp_path / "second.log").read_text())
        ticks_before = _runs_by(app, first)
        time.sleep(3)
        assert _runs_by(app, second) == 0
        assert _runs_by(app, first) > ticks_before  # the leader goes on ticking

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        stopped_at = _runs_by(app, first)
        assert _wait_for(lambda: _runs_by(app, second) >= 2), (tmp_path / "second.log").read_text()
        assert _runs_by(app, first) == stopped_at
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)


# A year of ticks -----------------------------------------------------------------------------


def state_named_id(name: str) -> int:
    from kpplan.directory.models import State

    return db.session.scalar(sa.select(State.id).where(State.name == name))


def _year_of_ticks() -> list[datetime]:
    """Irregular ticks through 2027 and both daylight-saving changes, with a four-day outage
    and some ticks run twice."""
    steps = [timedelta(hours=5, minutes=17), timedelta(hours=3, minutes=41), timedelta(hours=9)]
    moments, moment, n = [], datetime(2027, 1, 1, 0, 5, tzinfo=UTC), 0
    outage = (at("2027-07-20T10:00"), at("2027-07-24T10:00"))
    while moment < datetime(2028, 1, 1, tzinfo=UTC):
        if not outage[0] <= moment < outage[1]:
            moments.append(moment)
            if n % 40 == 0:
                moments.append(moment)  # a repeated tick
        moment += steps[n % len(steps)]
        n += 1
    # The very moments the clocks change.
    moments += [datetime(2027, 3, 28, 1, 0, tzinfo=UTC), datetime(2027, 10, 31, 1, 0, tzinfo=UTC)]
    return sorted(moments)


def test_a_year_of_ticks_across_daylight_saving_delivers_what_an_oracle_expects(
    app, people, factory, smtp
):
    app.config["REMINDER_SEND_BATCH"] = 500
    sec1, admin = people["secretariat"], people["admin"]
    sec2 = factory.user(Role.SECRETARIAT, email="digest@kpplan.example", name="Daily Reader")
    gone = factory.user(Role.SECRETARIAT, email="gone@kpplan.example", active=False)
    secretariat = [sec1.id, sec2.id]
    for key in (
        "milestone_due",
        "milestone_overdue",
        "outcomes_missing",
        "state_without_focal_point",
    ):
        set_preference(app, sec2, key, Delivery.DAILY)
    set_preference(app, admin, "milestone_overdue", Delivery.WEEKLY)

    future = factory.activity(start=date(2028, 6, 1), title="Senior Officials Meeting 2028")
    cancelled = factory.activity(start=date(2027, 6, 1), status=Status.CANCELLED)
    # The test's own record of the data: milestones (id, due, owner ids, done at) ...
    milestones = []
    for name, due, owner, done in (
        ("Concept note", date(2027, 3, 30), admin, at("2027-04-15T10:00")),
        ("Agenda", date(2027, 10, 30), sec1, None),
        ("Invitations", date(2027, 6, 10), None, at("2027-06-08T09:00")),
        ("Venue", date(2027, 2, 1), gone, at("2027-02-20T16:00")),
    ):
        milestone_id = add_milestone(app, future.id, due, owner, name=name)
        owners = [owner.id] if owner is not None and owner.active else secretariat
        milestones.append((milestone_id, due, owners, done))
    add_milestone(app, cancelled.id, date(2027, 5, 1), admin, name="Catering")
    # ... and activities (id, end, outcomes recorded at).
    activities = []
    for start, days, status, recorded in (
        (date(2027, 3, 25), 2, Status.HELD, None),
        (date(2027, 7, 1), 1, Status.HELD, at("2027-07-10T11:00")),
        (date(2027, 10, 19), 2, Status.CONFIRMED, None),
        (date(2027, 8, 1), 1, Status.CANCELLED, None),
    ):
        activity = factory.activity(start=start, days=days, status=status)
        if status is not Status.CANCELLED:
            activities.append((activity.id, activity.end_date, recorded))

    # ... and follow-ups: Kenya reports once (with a new review date), Italy never.
    from kpplan.recommendations.models import FollowUp, FollowUpStatus, Priority, Recommendation

    recommendation = factory.recommendation(
        future.id, states=("Kenya", "Italy"), target=date(2027, 5, 15)
    )
    created = at("2027-01-05T10:00")
    follow_ups = {}
    with app.app_context():
        for follow_up in db.session.scalars(
            sa.select(FollowUp).where(FollowUp.recommendation_id == recommendation.id)
        ):
            follow_up.created_at = created
            state = follow_up.state.name
            focal = people["fp_a"] if state == "Kenya" else people["fp_b"]
            follow_ups[follow_up.id] = {
                "review": date(2027, 5, 15),
                "last": None,
                "focal_points": [focal.id],
            }
            if state == "Kenya":
                kenya_id = follow_up.id
        db.session.commit()
    kenya_update = (at("2027-06-10T14:00"), date(2027, 12, 1))

    events = sorted(
        [(done, "milestone", mid) for mid, _, _, done in milestones if done]
        + [(recorded, "activity", aid) for aid, _, recorded in activities if recorded]
        + [(kenya_update[0], "follow_up", kenya_id)]
    )

    # The oracle: what should be planned, from the test's own record, tick by tick.
    ticks = _year_of_ticks()
    expected: set[tuple[str, str, str, int]] = set()
    for now in ticks:
        today = now.astimezone(BRUSSELS).date()
        for mid, due, owners, done in milestones:
            if done is not None and done <= now:
                continue
            for owner in owners:
                if today <= due <= today + timedelta(days=7):
                    expected.add(("milestone_due", f"milestone:{mid}", f"due:{due}", owner))
                if due < today:
                    week = ((today - due).days - 1) // 7
                    expected.add(
                        ("milestone_overdue", f"milestone:{mid}", f"late:{due}:{week}", owner)
                    )
        for aid, end, recorded in activities:
            if recorded is not None and recorded <= now:
                continue
            if end + timedelta(days=14) <= today < end + timedelta(days=14 + 90):
                for user_id in secretariat:
                    expected.add(("outcomes_missing", f"activity:{aid}", f"ended:{end}", user_id))
        for user_id in secretariat:
            expected.add(
                ("state_without_focal_point", "member-states", f"month:{today:%Y-%m}", user_id)
            )
        if kenya_update[0] <= now:
            follow_ups[kenya_id].update(last=kenya_update[0], review=kenya_update[1])
        for fid, known in follow_ups.items():
            review, last, subject = known["review"], known["last"], f"follow_up:{fid}"
            for user_id in known["focal_points"]:
                if today <= review <= today + timedelta(days=30):
                    expected.add(("follow_up_due", subject, f"due:{review}", user_id))
            if review < today and (last is None or last.date() < review):
                late = (today - review).days
                for user_id in known["focal_points"]:
                    period = f"late:{review}:{(late - 1) // 7}"
                    expected.add(("follow_up_overdue", subject, period, user_id))
                if late >= 28:
                    for user_id in secretariat:
                        expected.add(
                            ("follow_up_escalated", subject, f"escalated:{review}", user_id)
                        )
            since = last or created
            if since < now - timedelta(days=90):
                for user_id in known["focal_points"]:
                    period = f"since:{since.astimezone(BRUSSELS).date()}"
                    expected.add(("follow_up_stale", subject, period, user_id))

    # The app: the same ticks, with the changes made when they happen.
    for now in ticks:
        while events and events[0][0] <= now:
            _, kind, record_id = events.pop(0)
            with app.app_context():
                if kind == "milestone":
                    db.session.get(Milestone, record_id).done_on = now.astimezone(BRUSSELS).date()
                elif kind == "follow_up":
                    follow_up = db.session.get(FollowUp, record_id)
                    follow_up.status = FollowUpStatus.IN_PROGRESS
                    follow_up.last_update_at, follow_up.next_review_date = kenya_update
                else:
                    # Outcomes and recommendations recorded together; addressed to a state
                    # without focal point, they remind nobody.
                    activity = db.session.get(Activity, record_id)
                    activity.outcome_summary = "Outcomes recorded."
                    recorded = Recommendation(
                        activity=activity,
                        number=1,
                        code=f"TEST-{record_id}/R1",
                        text="Recorded at the meeting.",
                        priority=Priority.MEDIUM,
                    )
                    recorded.follow_ups.append(
                        FollowUp(state_id=state_named_id("Malta"), created_at=now)
                    )
                    db.session.add(recorded)
                db.session.commit()
        run(app, now)

    planned = rows(app, kind=ReminderKind.REMINDER)
    got = {(r.rule, r.subject_key, r.period_key, r.user_id) for r in planned}
    assert got == expected
    assert len(planned) == len(expected)
    assert len(expected) > 40  # the year is not empty

    # Each reminder arrives exactly once: alone, or in one summary.
    fp_a, fp_b = people["fp_a"], people["fp_b"]
    emails = {
        sec1.id: sec1.email,
        sec2.id: sec2.email,
        admin.id: admin.email,
        fp_a.id: fp_a.email,
        fp_b.id: fp_b.email,
    }
    alone = sorted(
        (r.rule, r.subject_key, r.period_key, emails[r.user_id])
        for r in planned
        if r.delivery is Delivery.IMMEDIATELY
    )
    mails = [
        (*str(m["X-Kpplan-Reminder"]).split(" "), m["To"].addresses[0].addr_spec)
        for m in smtp.messages
        if not str(m["X-Kpplan-Reminder"]).split(" ")[0].endswith("_digest")
    ]
    assert sorted(tuple(m) for m in mails) == alone
    # The daily reader chose summaries for the rules above, not for escalations.
    assert {r.user_id for r in planned if r.delivery is Delivery.IMMEDIATELY} == {
        sec1.id,
        sec2.id,
        admin.id,
        fp_a.id,
        fp_b.id,
    }
    assert {
        r.rule for r in planned if r.user_id == sec2.id and r.delivery is Delivery.IMMEDIATELY
    } == {"follow_up_escalated"}
    rules = {r.rule for r in planned}
    assert {"follow_up_due", "follow_up_overdue", "follow_up_escalated", "follow_up_stale"} <= rules

    digests = {r.id: r for r in rows(app, kind=ReminderKind.DIGEST)}
    assert digests and all(d.status is ReminderStatus.SENT for d in digests.values())
    by_message_id = {}
    for message in smtp.messages:
        if str(message["X-Kpplan-Reminder"]).split(" ")[0].endswith("_digest"):
            assert message["Message-ID"] not in by_message_id  # each summary once
            by_message_id[message["Message-ID"]] = message
    assert set(by_message_id) == {d.message_id for d in digests.values()}
    in_digests = [r for r in planned if r.delivery in (Delivery.DAILY, Delivery.WEEKLY)]
    assert in_digests and all(r.status is ReminderStatus.IN_DIGEST for r in in_digests)
    for item in in_digests:
        digest = digests[item.digest_id]
        assert digest.user_id == item.user_id
        assert digest.rule == f"{item.delivery.value}_digest"
        assert item.title in by_message_id[digest.message_id].get_body(("plain",)).get_content()

    # Summaries go out at the first tick after 08:00 in Brussels, summer and winter alike.
    tick_set = sorted(set(ticks))
    for digest in digests.values():
        sent = digest.sent_at.astimezone(BRUSSELS)
        day = (
            date.fromisoformat(digest.period_key.removeprefix("day:"))
            if (digest.rule == "daily_digest")
            else date.fromisocalendar(*map(int, digest.period_key[5:].split("-W")), 1)
        )
        moment = datetime(day.year, day.month, day.day, 8, tzinfo=BRUSSELS).astimezone(UTC)
        assert digest.sent_at >= moment
        assert not [t for t in tick_set if moment <= t < digest.sent_at], digest.period_key
        if digest.rule == "weekly_digest":
            assert sent.weekday() == 0
    summer = [d for d in digests.values() if d.sent_at.month == 7 and d.rule == "daily_digest"]
    winter = [d for d in digests.values() if d.sent_at.month == 12 and d.rule == "daily_digest"]
    assert summer and winter
