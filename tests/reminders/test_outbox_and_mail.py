"""Delivery: the outbox through a real SMTP server that is down, fails or dies mid-send, and
.eml files without a server."""

from __future__ import annotations

import email
from datetime import date, timedelta
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from kpplan.core.extensions import db
from kpplan.reminders.models import ReminderStatus
from tests.reminders.helpers import Inbox, add_milestone, at, rows, run, turn_off_other_rules

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
