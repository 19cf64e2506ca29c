"""Nominations: a focal point names their state's delegates within the seats and until the
deadline, changes or withdraws them, or declines; the secretariat confirms, waitlists or
refuses; who sees whom; every change in the history; no 500 whatever is posted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.participants.models import Answer, Gender, Participant, ParticipantStatus
from tests.participants.helpers import (
    draw_up,
    field_error,
    flashes,
    invitation,
    name,
    participant,
    text,
)


def _today(app) -> date:
    from kpplan.core.clock import today

    with app.test_request_context():
        return today()


@pytest.fixture
def meeting(app, factory):
    """A training two months ahead, inviting Kenya, Italy and IOM, 2 seats each, sent."""
    today = _today(app)
    activity = factory.activity(title="Regional Training", start=today + timedelta(days=60))
    ids = draw_up(
        app,
        activity.id,
        states=("Kenya", "Italy"),
        organisations=("IOM",),
        seats=2,
        deadline=today + timedelta(days=30),
    )
    return activity, ids


def _delegate(**values) -> dict:
    data = {"name": "Achieng Otieno", "gender": "female", "email": "achieng@example.org"}
    data.update(values)
    return data


def test_a_focal_point_names_delegates_up_to_the_seats(app, client, people, login_as, meeting):
    activity, ids = meeting
    url = f"/activities/{activity.id}/delegations/{ids['Kenya']}"
    login_as(people["fp_a"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Kenya's delegation" in text(page) and "2 (2 left)" in text(page)
    assert "No answer yet" in text(page)

    first = client.post(
        url,
        data=_delegate(function="Director", institution="Ministry of Interior", visa_letter="y"),
        follow_redirects=True,
    )
    assert "Achieng Otieno is on Kenya's list." in text(first)
    assert "Needs: visa letter" in text(first) and "Accepted" in text(first)
    # The same person twice is refused, next to the name.
    again = client.post(url, data=_delegate(name="achieng otieno"))
    assert "Achieng Otieno is on Kenya's list already." in field_error(text(again), "name")
    client.post(url, data=_delegate(name="Baraka Mwangi", email="", gender="male"))
    # The seats are all named: the form gives way to a notice, and a post is refused.
    page = client.get(url)
    assert "All 2 seats are named" in text(page)
    third = client.post(url, data=_delegate(name="Chebet Kiprono", email=""))
    assert "Kenya has 2 seats, all named." in text(third)
    # A focal point names delegates as nominated, whatever the form says.
    with app.app_context():
        named = db.session.scalars(sa.select(Participant).order_by(Participant.id)).all()
        assert [(p.name, p.status, p.gender) for p in named] == [
            ("Achieng Otieno", ParticipantStatus.NOMINATED, Gender.FEMALE),
            ("Baraka Mwangi", ParticipantStatus.NOMINATED, Gender.MALE),
        ]
        assert named[0].visa_letter and named[0].nominated_by_id == people["fp_a"].id
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.object_type == "participants")
        ).all()
        assert len(entries) == 2 and entries[0].actor_id == people["fp_a"].id
        assert entries[0].after["name"] == "Achieng Otieno"
    assert invitation(app, ids["Kenya"]).answer is Answer.ACCEPTED


def test_the_form_says_what_is_wrong_next_to_each_field(app, client, people, login_as, meeting):
    activity, ids = meeting
    login_as(people["fp_a"])
    url = f"/activities/{activity.id}/delegations/{ids['Kenya']}"
    page = client.post(url, data=_delegate(name="", email="not-an-address"))
    assert page.status_code == 200
    assert field_error(text(page), "name") == "Give the delegate's name."
    assert "e-mail address" in field_error(text(page), "email")
    page = client.post(url, data=_delegate(name="x" * 201))
    assert "200" in field_error(text(page), "name")
    page = client.post(url, data=_delegate(gender="robot"))
    assert field_error(text(page), "gender")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 0


def test_after_the_deadline_only_the_secretariat_changes_the_delegation(
    app, client, people, login_as, factory
):
    today = _today(app)
    activity = factory.activity(start=today + timedelta(days=20))
    ids = draw_up(app, activity.id, seats=1, deadline=today - timedelta(days=1))
    delegate_id = name(app, ids["Kenya"], "Achieng Otieno")
    url = f"/activities/{activity.id}/delegations/{ids['Kenya']}"

    login_as(people["fp_a"])
    page = client.get(url)
    assert "Nominations closed on" in text(page) and "Name the delegate" not in text(page)
    refused = client.post(url, data=_delegate(name="Baraka Mwangi"))
    assert "Nominations closed on" in " ".join(flashes(refused.text))
    edit = client.post(
        f"/activities/{activity.id}/participants/{delegate_id}/edit",
        data=_delegate(name="Achieng O.", version="1"),
    )
    assert "Nominations closed on" in text(edit)
    withdrawn = client.post(
        f"/activities/{activity.id}/participants/{delegate_id}/withdraw",
        data={"version": "1"},
        follow_redirects=True,
    )
    assert "Nominations closed on" in " ".join(flashes(text(withdrawn)))

    # The secretariat may still add one, beyond the seat, and change the list.
    login_as(people["secretariat"])
    added = client.post(url, data=_delegate(name="Baraka Mwangi", status="confirmed"))
    assert added.status_code == 302
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Participant.name, Participant.status)).all())
    assert statuses == {
        "Achieng Otieno": ParticipantStatus.NOMINATED,
        "Baraka Mwangi": ParticipantStatus.CONFIRMED,
    }


def test_a_substitution_goes_back_to_the_secretariat(app, client, people, login_as, meeting):
    activity, ids = meeting
    delegate_id = name(app, ids["Kenya"], "Achieng Otieno", ParticipantStatus.CONFIRMED)
    url = f"/activities/{activity.id}/participants/{delegate_id}/edit"
    login_as(people["fp_a"])
    page = client.get(url)
    assert page.status_code == 200 and "sends the nomination back" in text(page)
    # Needs changed: still confirmed.
    client.post(
        url, data=_delegate(name="Achieng Otieno", email="", interpretation="French", version="1")
    )
    found = participant(app, delegate_id)
    assert found.status is ParticipantStatus.CONFIRMED and found.interpretation == "French"
    # Another person in the seat: back to nominated, for the secretariat to decide.
    client.post(url, data=_delegate(name="Baraka Mwangi", email="", version=str(found.version)))
    found = participant(app, delegate_id)
    assert (found.name, found.status) == ("Baraka Mwangi", ParticipantStatus.NOMINATED)
    # A page drawn before that change is refused, and says what changed.
    stale = client.post(url, data=_delegate(name="Chebet Kiprono", version="1"))
    assert stale.status_code == 409 and "Someone else changed this record" in text(stale)
    assert participant(app, delegate_id).name == "Baraka Mwangi"


def test_withdrawing_and_declining(app, client, people, login_as, meeting):
    activity, ids = meeting
    delegate_id = name(app, ids["Kenya"], "Achieng Otieno")
    url = f"/activities/{activity.id}/delegations/{ids['Kenya']}"
    login_as(people["fp_a"])
    # Declining with a delegate named is refused.
    refused = client.post(
        f"{url}/decline",
        data={"version": str(invitation(app, ids["Kenya"]).version)},
        follow_redirects=True,
    )
    assert "withdraw them before declining" in text(refused)
    client.post(
        f"/activities/{activity.id}/participants/{delegate_id}/withdraw", data={"version": "1"}
    )
    too_long = client.post(
        f"{url}/decline",
        data={"version": str(invitation(app, ids["Kenya"]).version), "reason": "x" * 301},
        follow_redirects=True,
    )
    assert "The reason: Field cannot be longer than 300 characters." in flashes(too_long.text)
    assert participant(app, delegate_id).status is ParticipantStatus.WITHDRAWN
    declined = client.post(
        f"{url}/decline",
        data={"version": str(invitation(app, ids["Kenya"]).version), "reason": "Elections"},
        follow_redirects=True,
    )
    assert "Kenya has declined the invitation." in text(declined)
    found = invitation(app, ids["Kenya"])
    assert found.answer is Answer.DECLINED and found.decline_reason == "Elections"
    # Naming someone after all accepts it again.
    client.post(url, data=_delegate(name="Baraka Mwangi", email=""))
    assert invitation(app, ids["Kenya"]).answer is Answer.ACCEPTED
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.object_type == "invitations")
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["accepted", "declined", "accepted"]


def test_the_secretariat_confirms_waitlists_and_refuses(app, client, people, login_as, meeting):
    activity, ids = meeting
    first = name(app, ids["Kenya"], "Achieng Otieno")
    second = name(app, ids["Italy"], "Giulia Rossi")
    login_as(people["secretariat"])
    overview = client.get(f"/activities/{activity.id}/participants")
    assert "Achieng Otieno" in text(overview) and "Giulia Rossi" in text(overview)

    def decide(participant_id: int, status: str, version: int):
        return client.post(
            f"/activities/{activity.id}/participants/{participant_id}/decide",
            data={"status": status, "version": str(version)},
            follow_redirects=True,
        )

    assert "Achieng Otieno: confirmed." in decide(first, "confirmed", 1).text
    assert "Giulia Rossi: on the waiting list." in decide(second, "waitlisted", 1).text
    # A decision from a page drawn before is refused.
    stale = decide(first, "refused", 1)
    assert "Someone else changed this record" in text(stale)
    assert participant(app, first).status is ParticipantStatus.CONFIRMED
    decide(second, "refused", participant(app, second).version)
    assert participant(app, second).status is ParticipantStatus.REFUSED
    # Whatever is posted, no 500.
    for data in ({"status": "withdrawn", "version": "2"}, {"status": "x", "version": "abc"}, {}):
        response = client.post(f"/activities/{activity.id}/participants/{first}/decide", data=data)
        assert response.status_code == 302
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.object_type == "participants", AuditEntry.object_id == second)
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["nominated", "waitlisted", "refused"]


def test_organisations_participants_are_entered_by_the_secretariat(
    app, client, people, login_as, meeting
):
    activity, ids = meeting
    url = f"/activities/{activity.id}/delegations/{ids['IOM']}"
    for role in ("fp_a", "fp_b"):
        login_as(people[role])
        assert client.get(url).status_code == 404
    login_as(people["secretariat"])
    client.post(url, data=_delegate(name="Sara Demo", status="confirmed"))
    page = client.get(url)
    assert "IOM's delegation" in text(page) and "Sara Demo" in text(page)


def test_delegates_are_seen_by_the_staff_and_their_own_state_s_focal_points_only(
    app, client, people, login_as, meeting
):
    activity, ids = meeting
    name(app, ids["Kenya"], "Achieng Otieno", email="achieng@example.org")
    name(app, ids["Italy"], "Giulia Rossi")
    kenya = f"/activities/{activity.id}/delegations/{ids['Kenya']}"
    overview = f"/activities/{activity.id}/participants"

    login_as(people["fp_a"])
    page = client.get(overview).text
    assert "Your delegation: Kenya" in page
    assert "Achieng Otieno" not in page and "Giulia Rossi" not in page
    assert "achieng@example.org" in client.get(kenya).text

    login_as(people["fp_b"])
    assert client.get(kenya).status_code == 404
    assert "Achieng Otieno" not in client.get(overview).text
    for role in ("chair", "observer"):
        login_as(people[role])
        assert client.get(kenya).status_code == 403
        page = client.get(overview)
        assert page.status_code == 200 and "Kenya" in text(page)
        assert "Achieng Otieno" not in text(page) and "Giulia Rossi" not in text(page)
        # Nor the activity's page, nor the history of the activity.
        assert "Achieng Otieno" not in client.get(f"/activities/{activity.id}").text
        for path in ("participants.xlsx", "participants.csv", "participants/print", "attendance"):
            assert client.get(f"/activities/{activity.id}/{path}").status_code == 403


def test_an_unsent_list_is_for_the_staff_only(app, client, people, login_as, factory):
    activity = factory.activity(start=_today(app) + timedelta(days=30))
    ids = draw_up(app, activity.id, sent=False)
    login_as(people["fp_a"])
    assert "have not been sent yet" in client.get(f"/activities/{activity.id}/participants").text
    assert client.get(f"/activities/{activity.id}/delegations/{ids['Kenya']}").status_code == 404
    login_as(people["secretariat"])
    page = client.get(f"/activities/{activity.id}/participants").text
    assert "Send the invitations" in page and "Not sent yet" in page


def test_addresses_of_another_activity_are_not_found(
    app, client, people, login_as, meeting, factory
):
    activity, ids = meeting
    delegate_id = name(app, ids["Kenya"], "Achieng Otieno")
    other = factory.activity(start=_today(app) + timedelta(days=90))
    login_as(people["secretariat"])
    assert client.get(f"/activities/{other.id}/delegations/{ids['Kenya']}").status_code == 404
    assert client.get(f"/activities/{other.id}/participants/{delegate_id}/edit").status_code == 404
    assert client.get("/activities/999999/participants").status_code == 404
    # Ids beyond what the database holds are not found either (PostgreSQL would refuse them).
    huge = 10**20
    assert client.get(f"/activities/{huge}/participants").status_code == 404
    assert client.get(f"/activities/{activity.id}/delegations/{huge}").status_code == 404
    assert client.post(f"/activities/{activity.id}/participants/{huge}/decide").status_code == 404
    assert client.get("/activities/999999/attendance").status_code == 404
    # An activity without a list sends its pages back to the overview.
    response = client.get(f"/activities/{other.id}/attendance")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/activities/{other.id}/participants"
    )


def test_query_counts_of_the_lists_do_not_grow_with_delegates(
    app, client, people, login_as, factory, count_queries
):
    today = _today(app)
    activity = factory.activity(start=today - timedelta(days=1), days=3)
    states = ("Kenya", "Italy", "Egypt", "Uganda", "Sudan", "France")
    ids = draw_up(app, activity.id, states=states, organisations=("IOM", "UNHCR"))
    pages = (
        f"/activities/{activity.id}",
        f"/activities/{activity.id}/participants",
        f"/activities/{activity.id}/participants.xlsx",
        f"/activities/{activity.id}/participants.csv",
        f"/activities/{activity.id}/participants/print",
        f"/activities/{activity.id}/attendance",
        f"/activities/{activity.id}/delegations/{ids['Kenya']}",
    )

    def measure(role: str) -> int:
        login_as(people[role])
        for page in pages:
            client.get(page)
        with count_queries() as counter:
            for page in pages:
                client.get(page)
        return counter.count

    name(app, ids["Kenya"], "Delegate 0", attended=True)
    few = {role: measure(role) for role in ("secretariat", "fp_a")}
    for n, delegation in enumerate([*states, "IOM", "UNHCR"] * 4):
        name(app, ids[delegation], f"Delegate {n + 1}", ParticipantStatus.CONFIRMED, attended=True)
    many = {role: measure(role) for role in ("secretariat", "fp_a")}
    assert many == few


def test_a_delegation_is_named_as_a_sentence_does(app, client, factory, login_as):
    from kpplan.directory.models import Role

    today = _today(app)
    activity = factory.activity(title="Regional Training", start=today + timedelta(days=60))
    ids = draw_up(app, activity.id, states=("The Netherlands",), seats=2)
    url = f"/activities/{activity.id}/delegations/{ids['The Netherlands']}"
    login_as(factory.user(Role.FOCAL_POINT, state="The Netherlands"))
    page = client.get(url)
    assert "<h1>The Netherlands' delegation</h1>" in text(page)
    first = client.post(url, data=_delegate(), follow_redirects=True)
    assert "Achieng Otieno is on the Netherlands' list." in flashes(first.text)
    again = client.post(url, data=_delegate(name="achieng otieno"))
    assert field_error(text(again), "name") == (
        "Achieng Otieno is on the Netherlands' list already."
    )
    with app.app_context():
        delegate = db.session.scalar(
            sa.select(Participant.id).where(Participant.invitation_id == ids["The Netherlands"])
        )
    form = client.get(f"/activities/{activity.id}/participants/{delegate}/edit")
    assert "The Netherlands' delegation</a>" in text(form)
