"""A meeting of another process (the JVAP's Senior Officials' Meeting of Addis Ababa, 2018):
the secretariat marks it on the activity's form, the change is traced, and the statistics
name it apart instead of counting it among the Process's own meetings."""

from __future__ import annotations

import html
from datetime import date

from sqlalchemy import select

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Status

JVAP = "Joint Valletta Action Plan (JVAP)"


def _edit(client, activity: Activity, **overrides):
    data = {
        "kind": "senior_officials",
        "title": activity.title,
        "start_date": activity.start_date.isoformat(),
        "end_date": activity.end_date.isoformat(),
        "format": "in_person",
        "country": "0",
        "host": "0",
        "chair": "0",
        "version": str(activity.version),
    }
    data.update(overrides)
    return client.post(f"/activities/{activity.id}/edit", data=data)


def test_a_meeting_of_another_process_is_traced_and_counted_apart(
    app, client, people, login_as, factory
):
    som = ActivityKind.SENIOR_OFFICIALS
    factory.activity(
        title="Senior Officials' Meeting",
        kind=som,
        start=date(2018, 3, 7),
        days=1,
        status=Status.HELD,
    )
    addis = factory.activity(
        title="JVAP Senior Officials' Meeting",
        kind=som,
        start=date(2018, 11, 14),
        status=Status.HELD,
    )
    login_as(people["secretariat"])
    period = "/reports/statistics?from=2018-01-01&to=2018-12-31"
    assert "2 Senior Officials' Meetings" in html.unescape(client.get(period).text)

    assert _edit(client, addis, other_process=f"  {JVAP} ").status_code == 302
    with app.app_context():
        assert db.session.get(Activity, addis.id).other_process == JVAP
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "activities", AuditEntry.object_id == addis.id)
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.before["other_process"] is None and entry.after["other_process"] == JVAP

    page = html.unescape(client.get(period).text)
    assert "1 Senior Officials' Meeting" in page and "2 Senior Officials'" not in page
    assert "Kept apart, as meetings of another process" in page
    assert f'href="/activities/{addis.id}">JVAP Senior Officials\' Meeting</a> ({JVAP}' in page
    activity_page = html.unescape(client.get(f"/activities/{addis.id}").text)
    assert f"Not a Khartoum Process meeting:</strong> a meeting of the {JVAP}" in activity_page


def test_a_too_long_process_name_is_refused_next_to_the_field(
    app, client, people, login_as, factory
):
    addis = factory.activity(kind=ActivityKind.SENIOR_OFFICIALS, status=Status.HELD)
    login_as(people["secretariat"])
    response = _edit(client, addis, other_process="J" * 121)
    assert response.status_code == 200  # the form again, with the message
    assert "Field cannot be longer than 120 characters." in html.unescape(response.text)
    with app.app_context():
        assert db.session.get(Activity, addis.id).other_process is None
