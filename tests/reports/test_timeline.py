"""The timeline: activities by kind over the Chairs' periods."""

from __future__ import annotations

import html
import re
from datetime import date

from kpplan.core.extensions import db
from kpplan.directory.models import User
from kpplan.meetings.kinds import ActivityKind as K
from kpplan.meetings.models import Activity, Status


def test_the_timeline_draws_activities_by_kind_over_the_chair_periods(
    app, client, people, login_as, factory
):
    factory.chairmanship("The Netherlands", date(2020, 3, 6), date(2022, 3, 22))
    factory.chairmanship("South Sudan", date(2022, 3, 22), None)
    factory.chairmanship("Germany", None, None)  # undated: no band
    som = factory.activity(kind=K.SENIOR_OFFICIALS, start=date(2022, 3, 22), status=Status.HELD)
    tm = factory.activity(kind=K.THEMATIC_MEETING, start=date(2022, 7, 12), status=Status.HELD)
    gone = factory.activity(kind=K.WEBINAR, start=date(2021, 5, 26), status=Status.CANCELLED)
    login_as(people["observer"])
    page = client.get("/reports/timeline")
    assert page.status_code == 200
    text = page.text
    assert "<svg" in text and "style=" not in text and "<script>" not in text
    # The chart holds no link (issue #15): the table below it links each activity.
    chart, table = text.split('<figure class="timeline"', 1)[1].split("</figure>", 1)
    assert "<a " not in chart
    for activity, colour in ((som, "#D55E00"), (tm, "#009E73"), (gone, "#6A51A3")):
        assert re.search(
            rf"<title>{activity.title} [^<]*</title>\s*<rect [^>]*fill=\"{colour}\"", chart
        ), activity.title
        assert f'href="/activities/{activity.id}"' in table
    assert 'fill-opacity="0.3" class="tl-cancelled"' in text
    bands = re.findall(r'class="tl-band-name">([^<]+)<', text)
    assert bands == ["The Netherlands", "South Sudan"]
    lanes = re.findall(r'class="tl-lane">([^<]+)<', text)
    assert [html.unescape(lane) for lane in lanes] == [
        "Senior Officials' Meeting",
        "Thematic Meeting",
        "Webinar",
    ]
    # From 1 January of the first year to the end of the last, each year named.
    assert re.findall(r'class="tl-tick">(\d{4})<', text) == ["2021", "2022"]
    # The band of the Netherlands reaches the start of South Sudan's (the handover day).
    (nl_x, nl_width), (ss_x, _) = [
        (float(x), float(w))
        for x, w in re.findall(r'<rect x="([\d.]+)" y="0" width="([\d.]+)"', text)
    ]
    assert nl_x < ss_x <= nl_x + nl_width


def test_an_empty_timeline_says_so(client, people, login_as):
    login_as(people["observer"])
    assert "No activity in this period." in client.get("/reports/timeline").text


def test_the_drawing_is_kept_until_an_activity_or_a_chair_changes(
    app, client, people, login_as, factory, count_queries
):
    period = "/reports/timeline?from=2022-01-01&to=2022-12-31"
    tm = factory.activity(title="TM Nairobi", start=date(2022, 7, 12), status=Status.HELD)
    login_as(people["observer"])
    client.get(period)
    # A follow-up's update or a user's edit leaves it alone: the activities are not read again.
    with app.app_context():
        db.session.get(User, people["observer"].id).name = "Observer renamed"
        db.session.commit()
    with count_queries() as kept:
        text = client.get(period).text
    assert ">TM Nairobi</a>" in text
    assert not [s for s in kept.statements if "activities.title" in s]
    # A change of an activity shows at once...
    with app.app_context():
        db.session.get(Activity, tm.id).title = "TM Nairobi (moved)"
        db.session.commit()
    assert ">TM Nairobi (moved)</a>" in client.get(period).text
    # ... and so does a new Chair, and another period is drawn apart.
    factory.chairmanship("South Sudan", date(2022, 3, 22), None)
    assert re.findall(r'class="tl-band-name">([^<]+)<', client.get(period).text) == ["South Sudan"]
    text = client.get("/reports/timeline?from=2023-01-01&to=2023-12-31").text
    assert "No activity in this period." in text
