"""Preparation steps that are true: a step already past when it was planned is not chased,
and the actions that complete a step tick it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity, Milestone, Status
from kpplan.reminders.models import Reminder
from kpplan.reminders.planner import tick
from tests.meetings.test_meetings import PDF, _form, _today
from tests.participants import helpers as participants


def _plan(client, start, end):
    response = client.post(
        "/activities/new", data=_form(start_date=start.isoformat(), end_date=end.isoformat())
    )
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _steps(app, activity_id) -> dict[str, Milestone]:
    with app.app_context():
        steps = db.session.get(Activity, activity_id).milestones
        for step in steps:
            db.session.expunge(step)
        return {m.name: m for m in steps}


def _milestone_reminders(app, today) -> list[str]:
    """Run the reminder job at 9 o'clock today and return the milestone reminders' titles."""
    with app.app_context():
        tick(datetime.combine(today, time(9), tzinfo=UTC), transport=_Nowhere())
        return db.session.scalars(
            sa.select(Reminder.title).where(Reminder.rule.like("milestone%"))
        ).all()


class _Nowhere:
    def send(self, message, reminder):
        pass

    def close(self):
        pass


def test_a_meeting_recorded_after_it_took_place_is_born_with_nothing_overdue(
    app, client, people, login_as
):
    today = _today(app)
    login_as(people["secretariat"])
    activity_id = _plan(client, today - timedelta(days=200), today - timedelta(days=199))
    steps = _steps(app, activity_id)
    assert len(steps) == 5
    assert not any(step.tracked for step in steps.values())
    page = client.get(f"/activities/{activity_id}").text
    assert "Overdue" not in page
    assert page.count(">Not tracked<") == 5
    assert "already past its due date when it was planned" in page
    assert _milestone_reminders(app, today) == []


def test_a_meeting_planned_closer_than_its_lead_times_chases_only_what_is_ahead(
    app, client, people, login_as
):
    today = _today(app)
    login_as(people["secretariat"])
    # Starts in 20 days: the concept note (-90), invitations (-60) and agenda (-30) are past.
    activity_id = _plan(client, today + timedelta(days=20), today + timedelta(days=21))
    tracked = {name: step.tracked for name, step in _steps(app, activity_id).items()}
    assert tracked == {
        "Concept note": False,
        "Invitations sent": False,
        "Agenda": False,
        "Recommendations recorded": True,
        "Report": True,
    }
    # Weeks later, nothing was mailed about the three steps that were never chased.
    assert _milestone_reminders(app, today + timedelta(days=10)) == []


def test_a_new_due_date_tracks_a_step_again_and_a_past_one_is_not_chased(
    app, client, people, login_as
):
    today = _today(app)
    login_as(people["secretariat"])
    activity_id = _plan(client, today + timedelta(days=20), today + timedelta(days=21))
    agenda = _steps(app, activity_id)["Agenda"]
    response = client.post(
        f"/activities/{activity_id}/milestones/{agenda.id}",
        data={"due_date": (today + timedelta(days=5)).isoformat(), "owner": "0"},
        follow_redirects=True,
    )
    assert "Agenda has been saved." in response.text
    assert _steps(app, activity_id)["Agenda"].tracked
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.object_type == "milestones", AuditEntry.object_id == agenda.id)
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.before["tracked"] is False and entry.after["tracked"] is True
    # A step added with a date already past is shown, not chased.
    client.post(
        f"/activities/{activity_id}/milestones",
        data={
            "name": "Visa letters",
            "due_date": (today - timedelta(days=3)).isoformat(),
            "owner": "0",
        },
    )
    assert not _steps(app, activity_id)["Visa letters"].tracked
    # Postponed by three months, the steps not done move ahead of today and are chased.
    with app.app_context():
        db.session.get(Activity, activity_id).status = Status.PLANNED
        db.session.commit()
    client.post(
        f"/activities/{activity_id}/status",
        data={
            "to": "postponed",
            "new_start": (today + timedelta(days=120)).isoformat(),
            "new_end": (today + timedelta(days=121)).isoformat(),
        },
    )
    steps = _steps(app, activity_id)
    assert steps["Concept note"].due_date == today + timedelta(days=30)
    assert steps["Concept note"].tracked


def test_recording_recommendations_ticks_its_step(app, client, people, login_as):
    today = _today(app)
    login_as(people["secretariat"])
    activity_id = _plan(client, today + timedelta(days=100), today + timedelta(days=101))
    with app.app_context():
        db.session.get(Activity, activity_id).status = Status.HELD
        db.session.commit()
    response = client.post(
        f"/activities/{activity_id}/recommendations/new",
        data={
            "entries-0-text": "Share data on smuggling routes.",
            "entries-0-priority": "high",
            "entries-0-to_all_members": "y",
            "entries-0-lineage": "",
        },
    )
    assert response.status_code == 302, response.text
    steps = _steps(app, activity_id)
    assert steps["Recommendations recorded"].done_on == today
    assert steps["Report"].done_on is None
    with app.app_context():
        summaries = db.session.scalars(
            sa.select(AuditEntry.summary).where(AuditEntry.object_type == "milestones")
        ).all()
    assert any(s.endswith("Recommendations recorded done") for s in summaries)


def test_uploading_a_report_or_an_agenda_ticks_its_step(app, client, people, login_as):
    today = _today(app)
    login_as(people["secretariat"])
    activity_id = _plan(client, today + timedelta(days=100), today + timedelta(days=101))
    for kind in ("report", "agenda"):
        response = client.post(
            f"/activities/{activity_id}/documents",
            data={"file": (io.BytesIO(PDF), f"{kind}.pdf"), "kind": kind},
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        assert response.status_code == 200
    steps = _steps(app, activity_id)
    assert steps["Report"].done_on == today and steps["Agenda"].done_on == today
    assert steps["Concept note"].done_on is None


def test_sending_the_invitations_ticks_its_step(app, client, people, login_as):
    today = _today(app)
    login_as(people["secretariat"])
    activity_id = _plan(client, today + timedelta(days=100), today + timedelta(days=101))
    with app.app_context():
        db.session.get(Activity, activity_id).status = Status.PLANNED
        db.session.commit()
    ids = participants.draw_up(app, activity_id, sent=False)
    version = participants.invitation_list(app, ids["list"]).version
    response = client.post(
        f"/activities/{activity_id}/invitations/send", data={"version": str(version)}
    )
    assert response.status_code == 302, response.text
    assert _steps(app, activity_id)["Invitations sent"].done_on == today
