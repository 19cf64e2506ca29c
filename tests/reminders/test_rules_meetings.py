"""The rules of the activities: milestones due and overdue, outcomes not recorded."""

from __future__ import annotations

from datetime import date, timedelta

from kpplan.core.extensions import db
from kpplan.meetings.models import Activity, Milestone, Status
from tests.reminders.helpers import (
    BRUSSELS,
    add_milestone,
    at,
    link_path,
    run,
    turn_off_other_rules,
)

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
