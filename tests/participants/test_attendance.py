"""Attendance: ticked from the first day, on a page two tablets can share; the figures it
sets replace the typed ones on the activity, in the statistics and in the Chair's review."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity, Status
from kpplan.participants.models import Gender, ParticipantStatus
from tests.participants.helpers import (
    draw_up,
    flashes,
    invitation_list,
    name,
    participant,
    text,
)

CONFIRMED = ParticipantStatus.CONFIRMED


def _today(app) -> date:
    from kpplan.core.clock import today

    with app.test_request_context():
        return today()


def _tick(client, activity_id: int, shown: dict, present: list[int]):
    """Post the attendance page: ``shown`` maps each delegate on the page to its version,
    or to (version, ticked when the page was drawn)."""

    def shown_as(pid, drawn) -> str:
        version, was = drawn if isinstance(drawn, tuple) else (drawn, False)
        return f"{pid}:{version}:{1 if was else 0}"

    return client.post(
        f"/activities/{activity_id}/attendance",
        data={
            "shown": [shown_as(pid, drawn) for pid, drawn in shown.items()],
            "present": [str(pid) for pid in present],
        },
        follow_redirects=True,
    )


@pytest.fixture
def held(app, factory):
    """A workshop held these last two days, with 999 participants typed before the list."""
    today = _today(app)
    activity = factory.activity(
        title="Workshop on Data", start=today - timedelta(days=2), days=2, status=Status.HELD
    )
    with app.app_context():
        db.session.get(Activity, activity.id).participants = 999
        db.session.commit()
    ids = draw_up(app, activity.id, states=("Kenya", "Italy", "Egypt"), organisations=("IOM",))
    people = {
        "wanjiku": name(app, ids["Kenya"], "Wanjiku Kamau", CONFIRMED, Gender.FEMALE),
        "baraka": name(app, ids["Kenya"], "Baraka Mwangi", CONFIRMED, Gender.MALE),
        "giulia": name(app, ids["Italy"], "Giulia Rossi", CONFIRMED, Gender.FEMALE),
        "omar": name(app, ids["IOM"], "Omar Said", CONFIRMED, Gender.MALE),
        "ahmed": name(app, ids["Egypt"], "Ahmed Samir", ParticipantStatus.NOMINATED),
        "refused": name(app, ids["Egypt"], "Refused Person", ParticipantStatus.REFUSED),
    }
    return activity, ids, people


def test_attendance_sets_the_figures_everywhere(app, client, people, login_as, factory, held):
    activity, ids, delegates = held
    other = factory.activity(
        title="Typed only", start=_today(app) - timedelta(days=20), status=Status.HELD
    )
    with app.app_context():
        db.session.get(Activity, other.id).participants = 60
        db.session.commit()
    chair = factory.chairmanship("South Sudan", date(2022, 3, 22))
    login_as(people["secretariat"])

    page = client.get(f"/activities/{activity.id}/attendance")
    assert page.status_code == 200
    assert "Wanjiku Kamau" in page.text and "Refused Person" not in page.text
    shown = {pid: 1 for key, pid in delegates.items() if key != "refused"}
    # The first save needs someone ticked.
    nobody = _tick(client, activity.id, shown, [])
    assert "nobody is ticked as present" in " ".join(flashes(nobody.text))
    assert invitation_list(app, ids["list"]).attendance_taken_at is None

    came = [delegates[k] for k in ("wanjiku", "giulia", "omar", "ahmed")]
    saved = _tick(client, activity.id, shown, came)
    assert "Attendance saved (4 changes): 4 present." in text(saved)
    counted = invitation_list(app, ids["list"])
    assert (counted.attended, counted.countries, counted.organisations, counted.women) == (
        4,
        3,
        1,
        2,
    )
    # Whoever came had a seat.
    assert participant(app, delegates["ahmed"]).status is CONFIRMED

    # The activity's page shows the counted figures, not the typed ones.
    page = client.get(f"/activities/{activity.id}").text
    assert '4 <span class="muted">(from the attendance list)</span>' in page
    assert "999" not in page and "50% (2 of 4)" in page

    # The statistics count the list for this activity and the typed figure for the other.
    period = f"from={(_today(app) - timedelta(days=30)).isoformat()}&to={_today(app).isoformat()}"
    statistics = client.get(f"/reports/statistics?{period}").text
    assert "have gathered 64 delegates" in statistics
    assert "the figures are counted from the list instead of typed" in statistics
    assert "women were 50% of the 4 participants" in statistics
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/reports/statistics.csv?{period}").data.decode("utf-8-sig"))
        )
    )
    total = next(r for r in rows if r["kind"] == "Total")
    assert (total["participants"], total["of which from an attendance list"]) == ("64", "1")
    assert total["women (attendance lists)"] == "2"
    exported = list(
        csv.DictReader(io.StringIO(client.get("/reports/activities.csv").data.decode("utf-8-sig")))
    )
    by_title = {r["title"]: r for r in exported}
    assert by_title["Workshop on Data"]["participants"] == "4"
    assert by_title["Workshop on Data"]["countries represented"] == "3"
    assert by_title["Typed only"]["participants"] == "60"

    # The Chair's review shows them too.
    review = client.get(f"/chair/{chair.id}/review").text
    assert "(attendance, 50% women)" in review
    review_csv = client.get(f"/chair/{chair.id}/review/activities.csv").data.decode("utf-8-sig")
    assert "4,attendance list" in review_csv and "60,typed figure" in review_csv

    # Withdrawing someone who came counts again.
    withdrawn = client.post(
        f"/activities/{activity.id}/participants/{delegates['omar']}/withdraw",
        data={"version": str(participant(app, delegates["omar"]).version)},
    )
    assert withdrawn.status_code == 302
    counted = invitation_list(app, ids["list"])
    assert (counted.attended, counted.organisations) == (3, 0)

    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.object_type.in_(["participants", "invitation_lists"]))
            .where(AuditEntry.action.in_(["attended", "attendance"]))
        ).all()
    assert sorted(actions) == ["attendance", "attended", "attended", "attended", "attended"]


def test_two_tablets_tick_side_by_side_and_a_conflict_is_refused(
    app, client, people, login_as, held
):
    activity, ids, delegates = held
    login_as(people["secretariat"])
    # Both tablets drew the page with everyone at version 1 and nobody ticked.
    on_page = {pid: 1 for key, pid in delegates.items() if key != "refused"}
    _tick(client, activity.id, on_page, [delegates["wanjiku"]])
    # The second tablet ticks Giulia; Wanjiku's tick from the first stays.
    _tick(client, activity.id, on_page, [delegates["giulia"]])
    assert participant(app, delegates["wanjiku"]).attended
    assert participant(app, delegates["giulia"]).attended
    assert invitation_list(app, ids["list"]).attended == 2

    # Tablet A drew the page with Wanjiku ticked. Meanwhile B unticks her and C ticks her
    # again; A then unticks her from its old page: refused, naming her, nothing saved.
    drawn_a = {**on_page, delegates["wanjiku"]: (2, True)}
    _tick(client, activity.id, {delegates["wanjiku"]: (2, True)}, [])
    _tick(client, activity.id, {delegates["wanjiku"]: (3, False)}, [delegates["wanjiku"]])
    refused = _tick(client, activity.id, drawn_a, [delegates["baraka"]])
    message = " ".join(flashes(refused.text))
    assert "Someone else ticked some of these delegates" in message
    assert "Wanjiku Kamau" in message
    assert participant(app, delegates["wanjiku"]).attended
    assert not participant(app, delegates["baraka"]).attended


def test_attendance_waits_for_the_first_day_and_refuses_what_the_page_does_not_offer(
    app, client, people, login_as, factory, held
):
    today = _today(app)
    coming = factory.activity(start=today + timedelta(days=5))
    ids = draw_up(app, coming.id)
    delegate = name(app, ids["Kenya"], "Achieng Otieno", CONFIRMED)
    login_as(people["secretariat"])
    page = client.get(f"/activities/{coming.id}/attendance")
    assert "Attendance is ticked from the first day" in page.text
    assert "Save the attendance" not in page.text
    refused = _tick(client, coming.id, {delegate: 1}, [delegate])
    assert "Attendance is ticked from the first day" in " ".join(flashes(refused.text))

    activity, _ids, delegates = held
    refused = _tick(client, activity.id, {delegates["refused"]: 1}, [delegates["refused"]])
    assert "Refused Person is refused" in " ".join(flashes(refused.text))
    stranger = _tick(client, activity.id, {delegate: 1}, [delegate])
    assert "not on this list" in " ".join(flashes(stranger.text))
    for junk in (
        {"shown": ["x:y", "1", ":"], "present": ["abc"]},
        {"shown": [f"{delegates['wanjiku']}:99999999999999999999:0"]},
        {"shown": [f"{delegates['wanjiku']}:1:2"], "present": [str(delegates["wanjiku"])]},
        {},
    ):
        response = client.post(f"/activities/{activity.id}/attendance", data=junk)
        assert response.status_code == 302
    assert not participant(app, delegates["wanjiku"]).attended
