"""The demo shows the Process as its texts give it, and as it stands today: the facts of the
record (hosts, organisations, links, Chairs), the JVAP meeting kept apart in the statistics,
an illustrative current Chair with its work plan, upcoming activities and focal points."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import func, select

from kpplan.chair.models import Chairmanship, ItemStatus, WorkPlan
from kpplan.core import clock
from kpplan.core.extensions import db
from kpplan.directory.models import Role, State, User
from kpplan.meetings.demo import EGYPT_2019, MOMBASA, UPCOMING
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, ActivityLink, Relation, StateRole
from kpplan.reports import queries as reports
from kpplan.seed import DEMO_FOCAL_POINTS, DEMO_PASSWORD, focal_point_email


@pytest.fixture
def demo(app, runner):
    first = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert first.exit_code == 0, first.output
    return first.output


def _activity(title: str, start: date | None = None) -> Activity:
    query = select(Activity).where(Activity.title == title)
    if start:
        query = query.where(Activity.start_date == start)
    return db.session.scalars(query).one()


def _roles(activity: Activity) -> set[tuple[str, StateRole]]:
    return {(r.state.name, r.role) for r in activity.state_roles}


def _sign_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, email
    return client


def test_seeding_twice_adds_nothing_the_second_time(app, runner, demo):
    assert "Demo upcoming activities (illustrative): 3 added" in demo
    again = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert again.exit_code == 0, again.output
    for line in (
        "Demo history: 0 past activities added.",
        "Demo upcoming activities (illustrative): 0 added",
        "Demo recommendations (illustrative): 0 added",
        "Demo chairmanships: 0 added.",
        "Demo invitations: 0 upcoming",
        "Demo accounts: 0 added.",
    ):
        assert line in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Activity.id))) == 29 + 3
        # The roundtable prepares Geneva; Mombasa builds on Egypt 2019.
        assert db.session.scalar(select(func.count(ActivityLink.id))) == 2
        assert db.session.scalar(select(func.count(WorkPlan.id))) == 2


def test_mombasa_builds_on_the_egypt_meeting_of_2019(app, demo):
    with app.app_context():
        mombasa = _activity(MOMBASA)
        egypt = _activity(EGYPT_2019)
        assert mombasa.title.endswith("to Match Labour Market Needs")
        assert egypt.start_date == date(2019, 9, 24)
        link = db.session.scalars(
            select(ActivityLink).where(ActivityLink.relation == Relation.BUILDS_ON)
        ).one()
        assert (link.source_id, link.target_id) == (mombasa.id, egypt.id)
        mombasa_id, egypt_id = mombasa.id, egypt.id
    client = _sign_in(app, "observer@kpplan.example")
    page = html.unescape(client.get(f"/activities/{egypt_id}").text)
    assert "Built on by" in page and f"/activities/{mombasa_id}" in page


def test_the_jvap_meeting_of_addis_ababa_is_kept_apart_in_the_statistics(app, demo):
    with app.app_context():
        addis = _activity("JVAP Senior Officials' Meeting")
        assert addis.other_process == "Joint Valletta Action Plan (JVAP)"
        assert addis.state_roles == []  # no host inferred for another process's meeting
        stats = reports.statistics(date(2018, 1, 1), date(2019, 12, 31))
        soms = {r.kind: r.activities for r in stats.rows}[ActivityKind.SENIOR_OFFICIALS]
        assert soms == 1  # Asmara, 7 March 2019: the Process's own
        assert [a.title for a in stats.other_processes] == ["JVAP Senior Officials' Meeting"]
        # The 280 officials of the JVAP meeting are not the Process's delegates.
        assert stats.participants == 40 + 0  # the regional training only has a figure
        addis_id = addis.id
    client = _sign_in(app, "secretariat@kpplan.example")
    page = html.unescape(client.get("/reports/statistics?from=2018-01-01&to=2019-12-31").text)
    assert "1 Senior Officials' Meeting" in page
    assert "Kept apart, as meetings of another process" in page
    assert f'href="/activities/{addis_id}"' in page
    activity_page = html.unescape(client.get(f"/activities/{addis_id}").text)
    assert "Not a Khartoum Process meeting" in activity_page


def test_the_netherlands_chairs_the_online_activities_of_2020_and_2021(app, demo):
    with app.app_context():
        netherlands = db.session.scalars(
            select(Chairmanship).where(Chairmanship.state.has(name="The Netherlands"))
        ).one()
        assert netherlands.start_date <= date(2020, 7, 2)
        assert netherlands.end_date >= date(2021, 6, 30)
        online = db.session.scalars(
            select(Activity).where(
                Activity.start_date.between(date(2020, 7, 1), date(2021, 6, 30)),
                Activity.kind.in_([ActivityKind.WEBINAR, ActivityKind.THEMATIC_MEETING]),
            )
        ).all()
        assert len(online) == 5  # the first virtual meeting and the four webinars
        for activity in online:
            assert ("The Netherlands", StateRole.CHAIR) in _roles(activity), activity.title


def test_hosts_inferred_from_cities_say_so_and_named_organisations_are_linked(app, demo):
    with app.app_context():
        asmara = _activity("Senior Officials' Meeting: start of the Eritrean Chairmanship")
        assert _roles(asmara) == {("Eritrea", StateRole.HOST)}
        assert "Host inferred from the city: the texts name Asmara" in asmara.record_note
        berlin = _activity("Thematic Meeting on International Protection and Asylum")
        assert _roles(berlin) == {("Germany", StateRole.HOST)}
        assert "Host inferred" in berlin.record_note
        # Where the texts name the host, nothing is inferred.
        geneva = _activity(
            "Thematic Meeting on Return, Reintegration and Integration: Finding Durable Solutions"
        )
        assert "inferred" not in (geneva.record_note or "")
        cairo = _activity(
            "Thematic Workshop on Innovative Law Enforcement Tools to Tackle Irregular Migration"
        )
        assert {o.organisation.acronym for o in cairo.organisations} == {
            "EUROPOL",
            "EUROJUST",
            "ICMPD",
            "INTERPOL",
            "UNHCR",
            "ROCK",
            "UNODC",
        }
        juba = _activity("Regional training for border management officials on cross-border crime")
        assert {o.organisation.acronym for o in juba.organisations} == {
            "ICMPD",
            "EAPCCO",
            "Frontex",
        }


def test_germany_chairs_today_with_a_current_work_plan(app, demo):
    with app.app_context():
        today = clock.today()
        current = db.session.scalars(
            select(Chairmanship).where(
                Chairmanship.start_date <= today,
                (Chairmanship.end_date.is_(None)) | (Chairmanship.end_date >= today),
            )
        ).all()
        assert [c.state.name for c in current] == ["Germany"]
        plan = current[0].work_plan
        assert plan.title.startswith("Work Plan ") and "Illustrative" in plan.summary
        statuses = [i.status_on(today) for i in plan.items]
        assert statuses.count(ItemStatus.SCHEDULED) == len(UPCOMING)
        assert statuses.count(ItemStatus.NOT_SCHEDULED) == 1
        assert ItemStatus.LATE not in statuses
        chair = db.session.scalars(select(User).where(User.email == "chair@kpplan.example")).one()
        assert chair.role is Role.CHAIR and chair.state.name == "Germany"
    page = html.unescape(_sign_in(app, "chair@kpplan.example").get("/").text)
    assert "Germany" in page


def test_upcoming_activities_are_illustrative_and_have_nothing_overdue(app, demo):
    with app.app_context():
        today = clock.today()
        upcoming = db.session.scalars(
            select(Activity).where(Activity.start_date > today).order_by(Activity.start_date)
        ).all()
        assert [a.title for a in upcoming] == [u.title for u in UPCOMING]
        for activity in upcoming:
            assert activity.title.endswith("(illustrative)")
            assert activity.record_note.startswith("Illustrative")
            assert not any(m.is_overdue(today) for m in activity.milestones), activity.title
            assert any(m.done_on is None for m in activity.milestones)
    page = html.unescape(_sign_in(app, "observer@kpplan.example").get("/activities/").text)
    for upcoming_activity in UPCOMING:
        assert upcoming_activity.title in page


def test_more_states_have_a_focal_point_who_can_sign_in(app, demo):
    with app.app_context():
        with_focal_point = {
            s.name for s in db.session.scalars(select(State)) if s.active_focal_points
        }
        assert {"Kenya", "Italy"} | {state for _, state in DEMO_FOCAL_POINTS} <= with_focal_point
        assert len(with_focal_point) == 15
    client = _sign_in(app, focal_point_email("South Sudan"))
    assert client.get("/follow-ups/").status_code == 200
    assert focal_point_email("The Netherlands") == "focal.netherlands@kpplan.example"
