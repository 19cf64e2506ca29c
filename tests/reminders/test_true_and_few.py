"""Reminders that are true and few: a first start or a restart after a long stop sends one
summary per person, one tick's escalations come as one mail, an escalation says only what
the outbox shows, the validation mail leads to validation, and mails come from the
secretariat's sender."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.directory.models import Role, State, User
from kpplan.reminders.models import Reminder, ReminderStatus
from kpplan.reminders.rules import RULES
from tests.reminders.helpers import at, link_path, run, turn_off_other_rules
from tests.reminders.test_rules_follow_ups import _follow_up


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_first_start_gives_each_person_one_summary_of_what_was_late(app, people, factory, smtp):
    turn_off_other_rules(app, "follow_up_overdue", "follow_up_due")
    late = [
        _follow_up(app, factory, date(2026, 9, 1), created="2026-08-01T09:00")[0],
        _follow_up(app, factory, date(2026, 10, 1), created="2026-08-01T09:00")[0],
        _follow_up(app, factory, date(2026, 11, 2), created="2026-08-01T09:00")[0],
    ]
    due_soon, _ = _follow_up(app, factory, date(2026, 12, 20))

    run(app, at("2026-12-01T09:00"))
    (summary,) = smtp.to(people["fp_a"].email)
    assert "backlog_summary" in str(summary["X-Kpplan-Reminder"])
    assert summary["Subject"] == "kpplan: 4 reminders, 3 of them late"
    text = _text(summary)
    assert "kpplan has started sending reminders" in text
    assert (
        "what needs your attention on 1 December 2026: 4 reminders, 3 of them already late" in text
    )
    assert text.count("* Overdue: Kenya's follow-up of") == 3
    # What is due soon comes in the same mail.
    assert text.count("* Due on 20 December 2026: Kenya's follow-up of") == 1
    # Its items are in the outbox as sent in the summary: no tick sends them one by one.
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(Reminder.status).where(
                Reminder.subject_key.in_([f"follow_up:{i}" for i in late])
            )
        ).all()
    assert statuses == [ReminderStatus.IN_DIGEST] * 3
    for minutes in (5, 10, 60):
        run(app, at("2026-12-01T09:00") + timedelta(minutes=minutes))
    assert len(smtp.to(people["fp_a"].email)) == 1
    with app.app_context():
        due = db.session.scalar(
            sa.select(Reminder.status).where(Reminder.subject_key == f"follow_up:{due_soon}")
        )
    assert due is ReminderStatus.IN_DIGEST

    # Later ticks go on as usual: each follow-up is reminded once a week, one mail each.
    smtp.messages.clear()
    day = date(2026, 12, 2)
    while day <= date(2026, 12, 8):
        run(app, at(f"{day.isoformat()}T09:00"))
        day += timedelta(days=1)
    keys = smtp.keys()
    assert len(keys) == 3 and all(k.startswith("follow_up_overdue ") for k in keys)
    assert sorted(k.split()[1] for k in keys) == sorted(f"follow_up:{i}" for i in late)


def test_after_a_long_stop_what_is_late_comes_as_one_summary(app, people, factory, smtp):
    turn_off_other_rules(app, "follow_up_overdue")
    run(app, at("2026-11-01T09:00"))  # the installation ran, with nothing to say
    for target in (date(2026, 11, 5), date(2026, 11, 10)):
        _follow_up(app, factory, target, created="2026-10-01T09:00")
    run(app, at("2026-11-20T09:00"))  # 19 days later
    assert len(smtp.messages) == 1
    text = _text(smtp.messages[0])
    assert "did not run from 1 November 2026 to 20 November 2026" in text
    assert smtp.messages[0]["Subject"] == "kpplan: 2 reminders, 2 of them late"
    assert text.count("* Overdue:") == 2

    # Running every day, the same situation is mailed as it comes: no summary.
    _follow_up(app, factory, date(2026, 11, 19), created="2026-10-01T09:00")
    _follow_up(app, factory, date(2026, 11, 19), created="2026-10-01T09:00")
    smtp.messages.clear()
    run(app, at("2026-11-21T09:00"))
    sent = smtp.keys()
    assert [k.split()[0] for k in sent] == ["follow_up_overdue", "follow_up_overdue"]


def test_a_ticks_escalations_come_as_one_mail_that_says_only_what_is_true(
    app, people, factory, smtp
):
    turn_off_other_rules(app, "follow_up_overdue", "follow_up_escalated")
    with app.app_context():
        # Eritrea has no focal point in kpplan.
        assert not db.session.scalar(
            sa.select(User.id).join(State, User.state_id == State.id).where(State.name == "Eritrea")
        )
    kenya, _ = _follow_up(app, factory, date(2026, 12, 1))
    eritrea, _ = _follow_up(app, factory, date(2026, 12, 1), state="Eritrea")
    italy, _ = _follow_up(app, factory, date(2026, 12, 1), state="Italy")
    day = date(2026, 12, 2)
    while day <= date(2026, 12, 29):
        run(app, at(f"{day.isoformat()}T09:00"))
        day += timedelta(days=1)
    to_secretariat = smtp.to(people["secretariat"].email)
    assert len(to_secretariat) == 1
    mail = to_secretariat[0]
    assert "escalation_summary" in str(mail["X-Kpplan-Reminder"])
    assert mail["Subject"] == "kpplan: 3 follow-ups long overdue"
    text = _text(mail)
    # Kenya's focal point had the weekly reminders of 2, 9, 16 and 23 December.
    assert len([m for m in smtp.to(people["fp_a"].email)]) == 4
    assert "Kenya's focal points were reminded 4 times since it fell due" in text
    assert "Eritrea has no focal point in kpplan, so nobody there has been reminded" in text
    assert "Italy's focal points were reminded 4 times" in text
    assert "although its addressee has been reminded every week" not in text
    with app.app_context():
        escalations = db.session.scalars(
            sa.select(Reminder).where(Reminder.rule == "follow_up_escalated")
        ).all()
        assert {r.subject_key for r in escalations} == {
            f"follow_up:{i}" for i in (kenya, eritrea, italy)
        }
        assert {r.status for r in escalations} == {ReminderStatus.IN_DIGEST}


def test_an_escalation_counts_only_the_reminders_actually_sent(app, people, factory, smtp):
    turn_off_other_rules(app, "follow_up_overdue", "follow_up_escalated")
    follow_up_id, _ = _follow_up(app, factory, date(2026, 12, 1))
    # Kenya's focal point is deactivated after the first two weekly reminders.
    day = date(2026, 12, 2)
    while day <= date(2026, 12, 29):
        if day == date(2026, 12, 10):
            with app.app_context():
                db.session.get(User, people["fp_a"].id).active = False
                db.session.commit()
        run(app, at(f"{day.isoformat()}T09:00"))
        day += timedelta(days=1)
    escalation = smtp.to(people["secretariat"].email)
    assert len(escalation) == 1
    assert "Kenya has no focal point in kpplan, so nobody there has been reminded" in _text(
        escalation[0]
    )
    with app.app_context():
        db.session.get(User, people["fp_a"].id).active = True
        db.session.commit()
    other, _ = _follow_up(app, factory, date(2027, 1, 4))
    day = date(2027, 1, 5)
    while day <= date(2027, 2, 1):
        run(app, at(f"{day.isoformat()}T09:00"))
        day += timedelta(days=1)
    latest = smtp.to(people["secretariat"].email)[-1]
    assert f"follow_up:{other}" in str(latest["X-Kpplan-Reminder"])
    assert "Kenya's focal points were reminded 4 times since it fell due" in _text(latest)


def test_on_a_first_start_an_escalation_says_the_focal_points_hear_of_it_now(
    app, people, factory, smtp
):
    # Long overdue when kpplan starts: the focal point and the secretariat hear of it in
    # the same tick. The escalation must not say the focal points may have turned their
    # reminders off: their first reminder is in the mail they get that morning.
    turn_off_other_rules(app, "follow_up_overdue", "follow_up_escalated")
    follow_up_id, _ = _follow_up(app, factory, date(2026, 10, 18), created="2026-08-01T09:00")
    run(app, at("2026-11-27T09:00"))
    (to_focal_point,) = smtp.to(people["fp_a"].email)
    assert f"/follow-ups/{follow_up_id}" in _text(to_focal_point)
    (escalation,) = smtp.to(people["secretariat"].email)
    text = _text(escalation)
    assert "was due for review on 18 October 2026 and is still not updated, 40 days later" in text
    assert "A first reminder of it is on its way to Kenya's focal points; none was sent" in text
    assert "may have chosen" not in text

    # A week later, that reminder counts as sent; nothing is escalated twice.
    smtp.messages.clear()
    day = date(2026, 11, 28)
    while day <= date(2026, 12, 4):
        run(app, at(f"{day.isoformat()}T09:00"))
        day += timedelta(days=1)
    assert smtp.to(people["secretariat"].email) == []
    assert len(smtp.to(people["fp_a"].email)) == 1


def test_the_validation_mail_leads_to_validation(app, client, people, factory, smtp, login_as):
    from kpplan.recommendations.follow_up_models import StatusUpdate
    from kpplan.recommendations.statuses import FollowUpStatus, Validation

    turn_off_other_rules(app, "validation_waiting")
    follow_up_id, code = _follow_up(app, factory, date(2027, 6, 1))
    with app.app_context():
        from kpplan.recommendations.follow_up_models import FollowUp

        follow_up = db.session.get(FollowUp, follow_up_id)
        update = StatusUpdate(
            follow_up=follow_up,
            status_before=FollowUpStatus.NOT_STARTED,
            status=FollowUpStatus.IMPLEMENTED,
            narrative="Done: the law was passed.",
            posted_at=at("2026-11-20T10:00"),
            validation=Validation.PENDING,
        )
        db.session.add(update)
        db.session.flush()
        follow_up.pending_update_id = update.id
        db.session.commit()
        update_id = update.id
    run(app, at("2026-12-01T09:00"))
    (mail,) = smtp.messages
    text = _text(mail)
    assert (
        "Review and validate: "
        f"https://kpplan.example/app/follow-ups/updates/{update_id}/validate" in text
    )
    assert "Post an update" not in text
    login_as(people["secretariat"])
    page = client.get(link_path(mail))
    assert page.status_code == 200 and code in page.text


def _settings_data(**extra) -> dict:
    """The settings form with only the reminder "due soon" on."""
    data = {"timezone_field": "Europe/Brussels"}
    for key, rule in RULES.items():
        if key == "follow_up_due":
            data[f"{key}_enabled"] = "y"
        if rule.days_label:
            data[f"{key}_days"] = str(rule.default_days)
    data.update(extra)
    return data


def test_mails_come_from_the_sender_the_secretariat_sets(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "follow_up_due")
    _follow_up(app, factory, date(2026, 12, 20))
    login_as(people["admin"])
    page = client.post(
        "/reminders/settings",
        data=_settings_data(sender_name="Khartoum Process secretariat", sender_address="nope"),
    )
    assert page.status_code == 200
    assert "Give an e-mail address such as secretariat@khartoumprocess.net." in page.text
    page = client.post(
        "/reminders/settings",
        data=_settings_data(
            sender_name="Khartoum Process secretariat",
            sender_address="secretariat@khartoumprocess.net",
        ),
    )
    assert page.status_code == 302
    run(app, at("2026-12-01T09:00"))
    (mail,) = smtp.messages
    assert str(mail["From"]) == "Khartoum Process secretariat <secretariat@khartoumprocess.net>"
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.object_type == "reminder_mail_sender")
        ).one()
        assert entry.actor_id == people["admin"].id
        assert entry.after == {
            "name": "Khartoum Process secretariat",
            "address": "secretariat@khartoumprocess.net",
        }
    # Emptied, mails come from the configuration's MAIL_FROM again.
    assert client.post("/reminders/settings", data=_settings_data()).status_code == 302
    _follow_up(app, factory, date(2026, 12, 21))
    smtp.messages.clear()
    run(app, at("2026-12-01T10:00"))
    assert str(smtp.messages[0]["From"]) == (
        "Khartoum Process secretariat <secretariat@kpplan.example>"
    )


def test_reminders_name_the_states_as_a_sentence_does(app, people, factory, smtp):
    # The Netherlands' follow-up and the Czech Republic's (which has no focal point in
    # kpplan), long overdue when kpplan starts: the names read as running English does.
    turn_off_other_rules(app, "follow_up_overdue", "follow_up_escalated")
    dutch = factory.user(Role.FOCAL_POINT, state="The Netherlands", email="fp.nl@kpplan.example")
    _, code = _follow_up(
        app, factory, date(2026, 10, 18), state="The Netherlands", created="2026-08-01T09:00"
    )
    _, czech = _follow_up(
        app, factory, date(2026, 10, 18), state="Czech Republic", created="2026-08-01T09:00"
    )
    run(app, at("2026-11-27T09:00"))
    (to_focal_point,) = smtp.to(dutch.email)
    assert to_focal_point["Subject"] == f"Overdue: the Netherlands' follow-up of {code}"
    assert _text(to_focal_point).startswith(
        f"Dear {dutch.name},\r\n\r\nThe Netherlands' follow-up of {code} was due for review"
    )
    (escalation,) = smtp.to(people["secretariat"].email)
    text = " ".join(_text(escalation).split())
    assert f"The Netherlands' follow-up of {code} was due for review on 18 October" in text
    assert "on its way to the Netherlands' focal points" in text
    assert "Consider contacting the Netherlands directly." in text
    assert (
        "The Czech Republic has no focal point in kpplan, so nobody there has been reminded. "
        "Ask the Czech Republic to name one, or contact the Czech Republic directly."
    ) in text
    assert f"The Czech Republic's follow-up of {czech} was due for review" in text
    assert "Netherlands's" not in text
    assert text.count("Czech Republic") == text.count("he Czech Republic")
