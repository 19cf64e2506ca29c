"""Invitation lists: prefilled from the kind, edited with a trace and refused when stale;
sent once per focal point through the outbox (and to a state added later); the chasing of
states that have not answered."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, Role, State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Status
from kpplan.participants import invitation_lists, nominations
from kpplan.participants.models import Answer, Invitation, InvitationList
from kpplan.reminders.models import Reminder, ReminderKind
from kpplan.reminders.planner import tick
from tests.participants.helpers import (
    draw_up,
    field_error,
    flashes,
    invitation_list,
    name,
    text,
)

BRUSSELS = ZoneInfo("Europe/Brussels")


def _today(app) -> date:
    from kpplan.core.clock import today

    with app.test_request_context():
        return today()


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BRUSSELS).astimezone(UTC)


class Collector:
    """A mail transport that keeps what it is given."""

    def __init__(self) -> None:
        self.messages = []

    def send(self, message, reminder) -> None:
        self.messages.append(message)

    def close(self) -> None:
        pass

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in str(m["To"])]


def run(app, when: datetime, transport: Collector):
    with app.app_context():
        return tick(when, transport=transport)


def reminders(app, rule: str) -> list[tuple[str, str, int]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(Reminder.subject_key, Reminder.period_key, Reminder.user_id)
                .where(Reminder.rule == rule)
                .order_by(Reminder.id)
            )
        ]


def turn_off_other_rules(app, *keep: str) -> None:
    from kpplan.reminders import services as reminder_services
    from kpplan.reminders.rules import RULES

    with app.app_context():
        for key, rule in RULES.items():
            reminder_services.save_rule_setting(None, key, key in keep, rule.default_days)
        db.session.commit()


# Prefilled from the kind ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,states,organisations,seats",
    [
        (ActivityKind.STEERING_COMMITTEE, "committee", "none", None),
        (ActivityKind.SENIOR_OFFICIALS, "members", "all", None),
        (ActivityKind.MINISTERIAL, "members", "all", None),
        (ActivityKind.THEMATIC_MEETING, "members", "partners", None),
        (ActivityKind.THEMATIC_WORKSHOP, "members", "partners", None),
        (ActivityKind.TRAINING, "members", "partners", 2),
    ],
)
def test_the_list_is_prefilled_from_the_kind(app, factory, kind, states, organisations, seats):
    today = _today(app)
    activity = factory.activity(kind=kind, start=today + timedelta(days=60))
    with app.app_context():
        kenya = db.session.scalar(sa.select(State).where(State.name == "Kenya"))
        kenya.on_steering_committee = True
        iom = db.session.scalar(sa.select(Organisation).where(Organisation.acronym == "IOM"))
        from kpplan.meetings.models import ActivityOrganisation, OrganisationRole

        db.session.add(
            ActivityOrganisation(
                activity_id=activity.id, organisation=iom, role=OrganisationRole.PARTNER
            )
        )
        db.session.commit()
        proposed = invitation_lists.prefill(db.session.get(Activity, activity.id), today)
        members = db.session.scalar(sa.select(sa.func.count(State.id)).where(State.is_member))
        everyone = db.session.scalar(sa.select(sa.func.count(Organisation.id)))
        committee = db.session.scalar(
            sa.select(sa.func.count(State.id)).where(State.on_steering_committee)
        )
    assert len(proposed.states) == {"committee": committee, "members": members}[states]
    assert "Kenya" in {s.name for s in proposed.states}
    assert [o.acronym for o in proposed.organisations] == {
        "none": [],
        "partners": ["IOM"],
        "all": [o.acronym for o in proposed.organisations],
    }[organisations]
    if organisations == "all":
        assert len(proposed.organisations) == everyone
    assert proposed.seats_per_delegation == seats
    assert proposed.nomination_deadline == today + timedelta(days=60 - 21)
    assert kind.label in proposed.reason


def test_a_deadline_already_past_is_not_proposed(app, factory):
    today = _today(app)
    activity = factory.activity(start=today + timedelta(days=10))
    with app.app_context():
        proposed = invitation_lists.prefill(db.session.get(Activity, activity.id), today)
    assert proposed.nomination_deadline is None


# Drawing up and changing the list ---------------------------------------------------------


def _form(ids_by_state: dict[str, int], version: int, **extra) -> dict:
    data = {"version": str(version), "states": [str(i) for i in ids_by_state.values()]}
    data.update(extra)
    return data


def _state_ids(app, *names: str) -> dict[str, int]:
    with app.app_context():
        return dict(
            db.session.execute(sa.select(State.name, State.id).where(State.name.in_(names))).all()
        )


def test_the_secretariat_draws_up_and_changes_the_list_with_a_trace(
    app, client, people, factory, login_as
):
    today = _today(app)
    activity = factory.activity(kind=ActivityKind.TRAINING, start=today + timedelta(days=60))
    login_as(people["secretariat"])
    page = client.get(f"/activities/{activity.id}/invitations")
    assert page.status_code == 200
    assert "Prefilled: A Training invites every member state" in text(page)
    assert text(page).count('type="checkbox"') >= 40 and 'value="2"' in text(page)

    states = _state_ids(app, "Kenya", "Italy", "Uganda")
    deadline = (today + timedelta(days=39)).isoformat()
    response = client.post(
        f"/activities/{activity.id}/invitations",
        data=_form(states, 0, seats_per_delegation="2", nomination_deadline=deadline),
    )
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.scalar(sa.select(InvitationList))
        assert sorted(i.delegation for i in saved.invitations) == ["Italy", "Kenya", "Uganda"]
        assert saved.seats_per_delegation == 2 and saved.sent_at is None
        version = saved.version

    # Uganda is dropped and Egypt added, with a trace naming both.
    states = _state_ids(app, "Kenya", "Italy", "Egypt")
    response = client.post(
        f"/activities/{activity.id}/invitations",
        data=_form(states, version, seats_per_delegation="2", nomination_deadline=deadline),
    )
    assert response.status_code == 302
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.object_type == "invitation_lists")
            .order_by(AuditEntry.id)
        ).all()
    assert [e.action for e in entries] == ["created", "updated"]
    assert entries[0].actor_id == people["secretariat"].id
    assert "invited Egypt; no longer invites Uganda" in entries[1].summary
    assert entries[1].before["invited"] == ["Italy", "Kenya", "Uganda"]
    assert entries[1].after["invited"] == ["Egypt", "Italy", "Kenya"]

    # A page drawn before that change is refused, with what changed, nothing overwritten.
    stale = client.post(
        f"/activities/{activity.id}/invitations",
        data=_form(_state_ids(app, "Kenya"), version, nomination_deadline=deadline),
    )
    assert stale.status_code == 409
    assert "Someone else changed this record" in text(stale)
    assert "invited (by " in text(stale)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 3


def test_the_list_form_says_what_is_wrong_next_to_each_field(
    app, client, people, factory, login_as
):
    today = _today(app)
    activity = factory.activity(start=today + timedelta(days=30), days=2)
    ids = draw_up(app, activity.id, states=("Kenya", "Italy"), sent=False)
    name(app, ids["Kenya"], "Achieng Otieno")
    version = invitation_list(app, ids["list"]).version
    login_as(people["secretariat"])
    url = f"/activities/{activity.id}/invitations"

    after = (today + timedelta(days=32)).isoformat()
    page = client.post(
        url, data=_form(_state_ids(app, "Kenya", "Italy"), version, nomination_deadline=after)
    )
    assert page.status_code == 200
    assert "The deadline falls after the activity ends" in field_error(
        text(page), "nomination_deadline"
    )
    page = client.post(
        url, data=_form(_state_ids(app, "Kenya"), version, nomination_deadline="31/12/2026")
    )
    assert "year-month-day" in field_error(text(page), "nomination_deadline")
    page = client.post(url, data=_form(_state_ids(app, "Kenya"), version, seats_per_delegation="0"))
    assert "A number from 1 to 500." in field_error(text(page), "seats_per_delegation")
    # Kenya has a delegate: it stays invited.
    page = client.post(url, data=_form(_state_ids(app, "Italy"), version))
    assert "Kenya has delegates on record, so it stays invited" in text(page)
    page = client.post(url, data={"version": str(version), "states": ["abc", "999999"]})
    assert page.status_code == 200 and field_error(text(page), "states")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 2


def test_only_the_staff_draw_up_lists(app, client, people, factory, login_as):
    activity = factory.activity(start=_today(app) + timedelta(days=30))
    for role in ("chair", "fp_a", "observer"):
        login_as(people[role])
        assert client.get(f"/activities/{activity.id}/invitations").status_code == 403
    login_as(people["fp_a"])
    page = client.get(f"/activities/{activity.id}/participants")
    assert page.status_code == 200 and "No invitations for this activity." in text(page)


# Sending ------------------------------------------------------------------------------


def test_invitations_go_once_to_each_focal_point_with_the_documents_and_a_notification(
    app, client, people, factory, login_as
):
    turn_off_other_rules(app, "invitation")
    today = _today(app)
    activity = factory.activity(
        title="TM on Legal Pathways", start=today + timedelta(days=60), days=2, host="Kenya"
    )
    concept_note = factory.document(activity.id)
    alternate = factory.user(Role.FOCAL_POINT, state="Kenya", email="alt.kenya@kpplan.example")
    ids = draw_up(app, activity.id, states=("Kenya", "Italy", "Uganda"), sent=False)
    login_as(people["secretariat"])

    # Not sent yet: nothing goes out, and a focal point does not see the delegation.
    transport = Collector()
    run(app, at(today), transport)
    assert transport.messages == []
    login_as(people["fp_a"])
    assert client.get(f"/activities/{activity.id}/delegations/{ids['Kenya']}").status_code == 404

    login_as(people["secretariat"])
    version = invitation_list(app, ids["list"]).version
    sent = client.post(
        f"/activities/{activity.id}/invitations/send",
        data={"version": str(version)},
        follow_redirects=True,
    )
    assert "The invitations are sent: the focal points of 3 states" in text(sent)
    # Uganda has no focal point: the secretariat is told.
    assert "No active focal point receives the invitation of: Uganda" in text(sent)

    for hours in range(0, 30, 5):
        run(app, at(today) + timedelta(hours=hours), transport)
    assert sorted(reminders(app, "invitation")) == sorted(
        [
            (f"invitation:{ids['Kenya']}", "sent", people["fp_a"].id),
            (f"invitation:{ids['Kenya']}", "sent", alternate.id),
            (f"invitation:{ids['Italy']}", "sent", people["fp_b"].id),
        ]
    )
    assert len(transport.messages) == 3
    mail = transport.to("fp.a@kpplan.example")[0]
    assert mail["Subject"].startswith("Invitation: TM on Legal Pathways")
    body = mail.get_body(("plain",)).get_content()
    assert "Kenya is invited to TM on Legal Pathways" in body
    link = f"/activities/{activity.id}/delegations/{ids['Kenya']}"
    assert link in body
    document = f"/activities/{activity.id}/documents/{concept_note.id}"
    assert document in body
    html = mail.get_body(("html",)).get_content()
    assert f'href="http://127.0.0.1:5000{document}"' in html

    # The notification is in the focal point's bell; the link opens their delegation.
    login_as(people["fp_a"])
    notifications = client.get("/reminders/").text
    assert "Invitation: TM on Legal Pathways" in notifications
    assert client.get(link).status_code == 200

    # Sending twice is refused.
    login_as(people["secretariat"])
    again = client.post(
        f"/activities/{activity.id}/invitations/send",
        data={"version": str(invitation_list(app, ids["list"]).version)},
        follow_redirects=True,
    )
    assert "The invitations were sent already" in text(again)

    # Egypt, added later, receives its own at the next tick; nobody else a second one.
    egypt_fp = factory.user(Role.FOCAL_POINT, state="Egypt", email="fp.egypt@kpplan.example")
    states = _state_ids(app, "Kenya", "Italy", "Uganda", "Egypt")
    saved = client.post(
        f"/activities/{activity.id}/invitations",
        data=_form(states, invitation_list(app, ids["list"]).version),
    )
    assert saved.status_code == 302
    run(app, at(today + timedelta(days=1)), transport)
    assert len(transport.messages) == 4
    assert transport.to("fp.egypt@kpplan.example")
    assert reminders(app, "invitation")[-1][2] == egypt_fp.id


@pytest.mark.parametrize(
    "status,start_in,message",
    [
        (Status.DRAFT, 30, "is draft: invitations go out for a planned or confirmed activity"),
        (Status.CANCELLED, 30, "is cancelled"),
        (Status.PLANNED, -10, "is over: there is nobody left to invite"),
    ],
)
def test_invitations_are_not_sent_for_a_draft_a_cancelled_or_a_past_activity(
    app, client, people, factory, login_as, status, start_in, message
):
    activity = factory.activity(start=_today(app) + timedelta(days=start_in), status=status)
    ids = draw_up(app, activity.id, sent=False)
    login_as(people["secretariat"])
    page = client.post(
        f"/activities/{activity.id}/invitations/send",
        data={"version": str(invitation_list(app, ids["list"]).version)},
        follow_redirects=True,
    )
    assert message in text(page)
    assert invitation_list(app, ids["list"]).sent_at is None


def test_a_stale_send_button_is_refused(app, client, people, factory, login_as):
    activity = factory.activity(start=_today(app) + timedelta(days=30))
    ids = draw_up(app, activity.id, sent=False)
    login_as(people["secretariat"])
    page = client.post(
        f"/activities/{activity.id}/invitations/send",
        data={"version": "999"},
        follow_redirects=True,
    )
    assert "Someone else changed this record" in " ".join(flashes(text(page)))
    assert invitation_list(app, ids["list"]).sent_at is None


# Chasing the states that have not answered --------------------------------------------------


def test_states_that_have_not_answered_are_chased_once_a_week_before_the_deadline(
    app, people, factory
):
    turn_off_other_rules(app, "invitation_unanswered")
    today = _today(app)
    deadline = today + timedelta(days=20)
    activity = factory.activity(start=today + timedelta(days=40))
    ids = draw_up(app, activity.id, states=("Kenya", "Italy", "Egypt"), deadline=deadline)
    egypt_fp = factory.user(Role.FOCAL_POINT, state="Egypt", email="fp.egypt@kpplan.example")
    # Italy declines; Egypt names a delegate; Kenya does nothing.
    with app.app_context():
        italy = db.session.get(Invitation, ids["Italy"])
        nominations.decline(None, italy, italy.version, "No expert available", today)
        db.session.commit()
    name(app, ids["Egypt"], "Ahmed Samir")

    transport = Collector()
    run(app, at(deadline - timedelta(days=8)), transport)
    assert transport.messages == []
    moment = at(deadline - timedelta(days=7), 0) + timedelta(minutes=5)
    while moment < at(deadline + timedelta(days=3)):
        run(app, moment, transport)
        moment += timedelta(hours=11)
    assert reminders(app, "invitation_unanswered") == [
        (f"invitation:{ids['Kenya']}", f"deadline:{deadline.isoformat()}", people["fp_a"].id)
    ]
    assert len(transport.messages) == 1
    assert transport.messages[0]["Subject"].startswith(f"Answer by {deadline.day} ")
    assert "declining is an answer too" in transport.messages[0].get_body(("plain",)).get_content()
    assert not transport.to("fp.egypt@kpplan.example") and egypt_fp.id


def test_invitation_rules_skip_cancelled_activities_and_lists_not_sent(app, people, factory):
    turn_off_other_rules(app, "invitation", "invitation_unanswered")
    today = _today(app)
    cancelled = factory.activity(start=today + timedelta(days=30), status=Status.CANCELLED)
    draw_up(app, cancelled.id, deadline=today + timedelta(days=3))
    unsent = factory.activity(start=today + timedelta(days=30))
    draw_up(app, unsent.id, deadline=today + timedelta(days=3), sent=False)
    transport = Collector()
    run(app, at(today), transport)
    assert transport.messages == []
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Reminder.id)).where(Reminder.kind == ReminderKind.REMINDER)
            )
            == 0
        )


def test_invitations_cannot_be_turned_off_but_may_wait_for_a_summary(app, client, people, login_as):
    from kpplan.reminders.rules import RULES

    assert RULES["invitation"].can_turn_off is False
    assert RULES["invitation_unanswered"].default_days == 7
    login_as(people["fp_a"])
    page = client.get("/reminders/preferences")
    assert "Invitation to an activity" in text(page)
    assert Answer.AWAITING.label == "No answer yet"
