"""Every route, every role: who gets what.

The table below is the expected answer for each (method, endpoint) and each role. A route
added to the app without a row here fails ``test_every_route_is_in_the_table``.

Codes: a number is the HTTP status; ``L`` is a redirect to the sign-in page (not signed in).
A POST is sent empty (CSRF is checked in test_csrf.py), so an allowed form answers 200 with
its messages and an allowed action redirects (302).
"""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.routing import Rule

from kpplan.directory.models import Role
from kpplan.meetings.kinds import ActivityKind

ROLES = ("anonymous", "admin", "secretariat", "chair", "fp_a", "fp_b", "observer")


def row(codes: str) -> dict[str, str]:
    values = codes.split()
    assert len(values) == len(ROLES), codes
    return dict(zip(ROLES, values, strict=True))


#                                              anon adm  sec  chair fpA fpB  obs
EVERYONE = row("L 200 200 200 200 200 200")
STAFF_ONLY = row("L 200 200 403 403 403 403")
STAFF_ACTION = row("L 302 302 403 403 403 403")
# The work plan of the sample chairmanship (South Sudan's): staff, and the Chair's delegate.
CHAIR_EDITS = row("L 200 200 200 403 403 403")
CHAIR_ACTION = row("L 302 302 302 403 403 403")


ADMIN_ONLY = row("L 200 403 403 403 403 403")
ADMIN_ACTION = row("L 302 403 403 403 403 403")

EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "static"): row("200 200 200 200 200 200 200"),
    ("GET", "home.healthz"): row("200 200 200 200 200 200 200"),
    ("GET", "home.home"): EVERYONE,
    ("GET", "auth.login"): row("200 302 302 302 302 302 302"),
    ("POST", "auth.login"): row("200 302 302 302 302 302 302"),
    ("POST", "auth.logout"): row("L 302 302 302 302 302 302"),
    ("GET", "auth.account"): EVERYONE,
    ("POST", "auth.account"): EVERYONE,
    ("GET", "directory.states"): EVERYONE,
    ("GET", "directory.state"): EVERYONE,
    ("GET", "directory.new_state"): STAFF_ONLY,
    ("POST", "directory.new_state"): STAFF_ONLY,
    ("GET", "directory.edit_state"): STAFF_ONLY,
    ("POST", "directory.edit_state"): STAFF_ONLY,
    ("GET", "directory.organisations"): EVERYONE,
    ("GET", "directory.new_organisation"): STAFF_ONLY,
    ("POST", "directory.new_organisation"): STAFF_ONLY,
    ("GET", "directory.edit_organisation"): STAFF_ONLY,
    ("POST", "directory.edit_organisation"): STAFF_ONLY,
    ("GET", "directory.users"): STAFF_ONLY,
    ("GET", "directory.new_user"): STAFF_ONLY,
    ("POST", "directory.new_user"): STAFF_ONLY,
    ("GET", "directory.user"): STAFF_ONLY,
    ("POST", "directory.user"): STAFF_ONLY,
    ("POST", "directory.deactivate_user"): STAFF_ACTION,
    ("POST", "directory.reactivate_user"): STAFF_ACTION,
    ("POST", "directory.reset_password"): STAFF_ONLY,
    ("GET", "audit.history"): STAFF_ONLY,
    ("GET", "meetings.upcoming"): EVERYONE,
    ("GET", "meetings.archive"): EVERYONE,
    ("GET", "meetings.activity"): EVERYONE,
    ("GET", "meetings.month"): EVERYONE,
    ("GET", "meetings.hosting"): EVERYONE,
    ("GET", "meetings.activity_ics"): EVERYONE,
    # Without a token, only a signed-in person gets the feed (tests in test_meetings.py).
    ("GET", "feeds.feed"): row("404 200 200 200 200 200 200"),
    ("POST", "auth.reset_calendar_link"): row("L 302 302 302 302 302 302"),
    ("GET", "meetings.new_activity"): STAFF_ONLY,
    ("POST", "meetings.new_activity"): STAFF_ONLY,
    ("GET", "meetings.edit_activity"): STAFF_ONLY,
    ("POST", "meetings.edit_activity"): STAFF_ONLY,
    ("POST", "meetings.move"): STAFF_ACTION,
    ("POST", "meetings.add_milestone"): STAFF_ACTION,
    ("POST", "meetings.add_link"): STAFF_ACTION,
    ("POST", "meetings.add_document"): STAFF_ACTION,
    ("GET", "meetings.document"): EVERYONE,
    ("POST", "meetings.remove_document"): row("L 302 404 403 403 403 403"),
    ("POST", "meetings.remove_link"): row("L 302 404 403 403 403 403"),
    ("POST", "meetings.update_milestone"): STAFF_ACTION,
    ("GET", "recommendations.index"): EVERYONE,
    ("GET", "recommendations.export"): EVERYONE,
    ("GET", "recommendations.shares"): EVERYONE,
    ("GET", "recommendations.recommendation"): EVERYONE,
    ("GET", "recommendations.edit"): STAFF_ONLY,
    ("POST", "recommendations.edit"): STAFF_ONLY,
    ("POST", "recommendations.withdraw"): STAFF_ACTION,
    ("GET", "recommendations.activity_matrix"): EVERYONE,
    # The sample activity is planned: staff are sent to its page to record it as held first
    # (recording for a held one: tests/recommendations/test_record_and_edit.py).
    ("GET", "recommendations.record"): STAFF_ACTION,
    ("POST", "recommendations.record"): STAFF_ACTION,
    ("GET", "recommendations.import_recommendations"): STAFF_ONLY,
    ("POST", "recommendations.import_recommendations"): STAFF_ONLY,
    ("POST", "recommendations.confirm_recommendations"): STAFF_ACTION,
    # Focal points report for their own state; the Chair and observers only read.
    ("GET", "recommendations.import_follow_ups"): row("L 200 200 403 200 200 403"),
    ("POST", "recommendations.import_follow_ups"): row("L 200 200 403 200 200 403"),
    ("POST", "recommendations.confirm_follow_ups"): row("L 302 302 403 302 302 403"),
    ("GET", "recommendations.follow_ups"): EVERYONE,
    ("GET", "recommendations.export_follow_ups"): EVERYONE,
    ("GET", "recommendations.validation_queue"): STAFF_ONLY,
    # The sample follow-up is Kenya's (focal point A): Italy's focal point finds nothing.
    ("GET", "recommendations.follow_up"): row("L 200 200 200 200 404 200"),
    ("POST", "recommendations.follow_up"): row("L 200 200 403 200 404 403"),
    ("GET", "recommendations.evidence"): row("L 200 200 200 200 404 200"),
    ("GET", "recommendations.validate"): STAFF_ONLY,
    ("POST", "recommendations.validate"): STAFF_ONLY,
    ("GET", "chair.chairmanships"): EVERYONE,
    ("GET", "chair.chairmanship"): EVERYONE,
    ("GET", "chair.new_chairmanship"): STAFF_ONLY,
    ("POST", "chair.new_chairmanship"): STAFF_ONLY,
    ("GET", "chair.edit_chairmanship"): STAFF_ONLY,
    ("POST", "chair.edit_chairmanship"): STAFF_ONLY,
    ("GET", "chair.new_work_plan"): CHAIR_EDITS,
    ("POST", "chair.new_work_plan"): CHAIR_EDITS,
    ("GET", "chair.edit_work_plan"): CHAIR_EDITS,
    ("POST", "chair.edit_work_plan"): CHAIR_EDITS,
    ("GET", "chair.new_item"): CHAIR_EDITS,
    ("POST", "chair.new_item"): CHAIR_EDITS,
    ("GET", "chair.item"): EVERYONE,
    ("GET", "chair.edit_item"): CHAIR_EDITS,
    ("POST", "chair.edit_item"): CHAIR_EDITS,
    ("POST", "chair.link_activity"): CHAIR_ACTION,
    # The first allowed request unlinks the activity; later ones find no such link.
    ("POST", "chair.unlink_activity"): row("L 302 404 404 403 403 403"),
    ("POST", "chair.drop_item"): CHAIR_EDITS,
    ("POST", "chair.reinstate_item"): CHAIR_ACTION,
    # The review: everyone signed in reads it (focal points their own state's rows).
    ("GET", "review.current_review"): row("L 302 302 302 302 302 302"),
    ("GET", "review.dashboard"): EVERYONE,
    ("GET", "review.dashboard_xlsx"): EVERYONE,
    ("GET", "review.dashboard_csv"): EVERYONE,
    ("GET", "review.handover"): EVERYONE,
    ("GET", "review.handover_xlsx"): EVERYONE,
    ("GET", "review.snapshot"): EVERYONE,
    # The sample activity is a thematic meeting: the staff are told so (and redirected).
    ("POST", "review.take_snapshot"): STAFF_ACTION,
    # Invitations: everyone reads the answers in figures; delegates (people) are for the
    # staff and their own state's focal points. The sample delegation is Kenya's (focal
    # point A): Italy's focal point finds nothing.
    ("GET", "participants.overview"): EVERYONE,
    ("GET", "participants.export"): STAFF_ONLY,
    ("GET", "participants.printable"): STAFF_ONLY,
    ("GET", "participants.edit_invitations"): STAFF_ONLY,
    ("POST", "participants.edit_invitations"): STAFF_ONLY,
    ("POST", "participants.send_invitations"): STAFF_ACTION,
    ("GET", "participants.delegation"): row("L 200 200 403 200 404 403"),
    ("POST", "participants.delegation"): row("L 200 200 403 200 404 403"),
    ("POST", "participants.decline"): row("L 302 302 403 302 404 403"),
    ("GET", "participants.edit_participant"): row("L 200 200 403 200 404 403"),
    ("POST", "participants.edit_participant"): row("L 200 200 403 200 404 403"),
    ("POST", "participants.withdraw"): row("L 302 302 403 302 404 403"),
    ("POST", "participants.decide"): STAFF_ACTION,
    ("GET", "participants.attendance"): STAFF_ONLY,
    ("POST", "participants.attendance"): STAFF_ACTION,
    ("GET", "participants.import_participants"): STAFF_ONLY,
    ("POST", "participants.import_participants"): STAFF_ONLY,
    ("POST", "participants.confirm_import"): STAFF_ACTION,
    ("GET", "reports.statistics"): EVERYONE,
    ("GET", "reports.statistics_csv"): EVERYONE,
    ("GET", "reports.timeline_page"): EVERYONE,
    ("GET", "reports.activities_csv"): EVERYONE,
    ("GET", "reports.activities_xlsx"): EVERYONE,
    ("GET", "reminders.notifications"): EVERYONE,
    # The sample notification is the administrator's: anyone else's is not found.
    ("POST", "reminders.mark_read"): row("L 302 404 404 404 404 404"),
    ("POST", "reminders.mark_all_read"): row("L 302 302 302 302 302 302"),
    ("GET", "reminders.preferences"): EVERYONE,
    ("POST", "reminders.preferences"): EVERYONE,
    ("GET", "reminders.outbox"): STAFF_ONLY,
    ("POST", "reminders.resend"): ADMIN_ACTION,
    ("GET", "reminders.settings"): ADMIN_ONLY,
    ("POST", "reminders.settings"): ADMIN_ONLY,
}


def _routes(app) -> list[tuple[str, str, Rule]]:
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.endpoint, rule))
    return routes


def test_every_route_is_in_the_table(app):
    found = {(method, endpoint) for method, endpoint, _ in _routes(app)}
    assert found - EXPECTED.keys() == set(), "routes without an entry in the permission table"
    assert EXPECTED.keys() - found == set(), "entries for routes that no longer exist"


def _url_values(rule: Rule, objects: dict[str, int | str]) -> dict:
    missing = rule.arguments - objects.keys()
    assert not missing, f"no sample value for {missing} of {rule.rule}: add one to objects"
    return {name: objects[name] for name in rule.arguments}


def _notification_for(user) -> int:
    from datetime import UTC, datetime

    from kpplan.core.extensions import db
    from kpplan.reminders.models import Delivery, Reminder, ReminderKind, ReminderStatus

    moment = datetime(2026, 12, 1, tzinfo=UTC)
    reminder = Reminder(
        kind=ReminderKind.REMINDER,
        rule="milestone_due",
        subject_key="milestone:1",
        period_key="due:2026-12-03",
        user_id=user.id,
        delivery=Delivery.IMMEDIATELY,
        status=ReminderStatus.SENT,
        title="Due on 3 December 2026: Agenda",
        planned_at=moment,
        message_id="<reminder-test@kpplan.example>",
    )
    db.session.add(reminder)
    db.session.commit()
    return reminder.id


def _outcome(response) -> str:
    if response.status_code == 302 and "/login?next=" in response.headers["Location"]:
        return "L"
    return str(response.status_code)


@pytest.mark.parametrize("method,endpoint", sorted(EXPECTED))
def test_route_answers_each_role_as_expected(
    app, client, people, factory, login_as, method, endpoint
):
    from kpplan.core.extensions import db
    from kpplan.directory.models import Organisation, State
    from tests.conftest import STATE_A, STATE_B
    from tests.participants.helpers import draw_up, name

    target = factory.user(Role.OBSERVER, email="target@kpplan.example")
    activity = factory.activity(milestones=True)
    invitations = draw_up(app, activity.id)
    delegate_id = name(app, invitations[STATE_A], "Sample Delegate")
    link_id = factory.link(factory.activity().id, activity.id).id
    recommendation = factory.recommendation(activity.id, states=(STATE_A, STATE_B))
    follow_up_a = factory.follow_up_of(recommendation, STATE_A)
    update = factory.update(follow_up_a.id, with_file=b"%PDF-1.4\n%ev\n", pending=True)
    chairmanship = factory.chairmanship("South Sudan")
    work_plan = factory.work_plan(chairmanship.id)
    item = factory.work_plan_item(work_plan.id, activity_ids=(activity.id,))
    som = factory.activity(kind=ActivityKind.SENIOR_OFFICIALS, start=date(2024, 11, 14))
    with app.app_context():
        from kpplan.meetings.models import Activity
        from kpplan.review.services import take_snapshot

        snapshot_id = take_snapshot(None, db.session.get(Activity, som.id), date(2025, 1, 1)).id
        db.session.commit()
        objects = {
            "state_id": db.session.scalar(db.select(State.id).where(State.name == STATE_A)),
            "organisation_id": db.session.scalar(db.select(Organisation.id).limit(1)),
            "user_id": target.id,
            "activity_id": activity.id,
            "milestone_id": activity.milestones[0].id,
            "link_id": link_id,
            "document_id": factory.document(activity.id).id,
            "filename": "kpplan.css",
            "recommendation_id": recommendation.id,
            "follow_up_id": follow_up_a.id,
            "update_id": update.id,
            "evidence_id": update.evidence[0].id,
            "fmt": "csv",
            "chairmanship_id": chairmanship.id,
            "work_plan_id": work_plan.id,
            "item_id": item.id,
            "reminder_id": _notification_for(people["admin"]),
            "snapshot_id": snapshot_id,
            "section": "states",
            "invitation_id": invitations[STATE_A],
            "participant_id": delegate_id,
        }
    rule = next(r for m, e, r in _routes(app) if (m, e) == (method, endpoint))
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **_url_values(rule, objects))

    got = {}
    for role in ROLES:
        login_as(people.get(role))
        response = client.open(url, method=method, data={})
        got[role] = _outcome(response)
        response.close()
    assert got == EXPECTED[(method, endpoint)]
