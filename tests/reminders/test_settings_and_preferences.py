"""Each person's choices (at once, daily or weekly summaries, off) and the administrator's
settings (rules on or off, their days, the timezone)."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.reminders.models import Delivery, ReminderPreference, ReminderStatus
from tests.reminders.helpers import (
    add_milestone,
    at,
    rows,
    run,
    set_preference,
    turn_off_other_rules,
)

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
    history = html.unescape(client.get("/history/").text)
    assert "set the Process's timezone to Africa/Nairobi" in history
