"""Reports: statistics against a hand-counted fixture, the summary sentence, the timeline
and the exports of activities, read back with the csv module and openpyxl."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind as K
from kpplan.meetings.models import Activity, ActivityStateRole, Format, StateRole, Status
from kpplan.reports import queries, summary
from kpplan.reports.queries import RecommendationCounts
from tests.conftest import state_named

DOMAIN_SENTENCE = (
    "Between November 2015 and March 2020, 2 Informal Working Groups, 9 Steering Committee "
    "Meetings, 7 Senior Officials' Meetings, 12 Thematic Meetings and 1 Regional Training "
    "have gathered almost 1,800 delegates and resulted in over 130 recommendations."
)
PERIOD = "from=2015-11-01&to=2020-03-31"

# The hand count: (kind, how many, participants each, countries each, organisations each).
#   2 x 25 + 9 x 40 + 7 x 120 + 12 x 40 + 1 x 46 = 50 + 360 + 840 + 480 + 46 = 1,776
HAND_COUNT = [
    (K.WORKING_GROUP, 2, 25, 10, 2),
    (K.STEERING_COMMITTEE, 9, 40, 12, 3),
    (K.SENIOR_OFFICIALS, 7, 120, 35, 8),
    (K.THEMATIC_MEETING, 12, 40, 15, 5),
    (K.TRAINING, 1, 46, None, None),
]


def _add(kind, start, status=Status.HELD, participants=None, countries=None, orgs=None, **extra):
    activity = Activity(
        kind=kind,
        title=extra.pop("title", f"{kind.label} of {start}"),
        start_date=start,
        end_date=start,
        format=Format.IN_PERSON,
        status=status,
        participants=participants,
        countries_represented=countries,
        organisations_represented=orgs,
        **extra,
    )
    db.session.add(activity)
    return activity


@pytest.fixture
def record(app):
    """The hand-counted activities of November 2015 – March 2020, and some that must not
    count: outside the period, cancelled, not yet recorded as held."""
    with app.app_context():
        day = date(2015, 11, 2)
        for kind, n, participants, countries, orgs in HAND_COUNT:
            for _ in range(n):
                _add(
                    kind,
                    day,
                    Status.CLOSED if n % 2 else Status.HELD,
                    participants,
                    countries,
                    orgs,
                )
                day += timedelta(days=45)
        assert day < date(2020, 3, 31)
        # The first and the last day of the period count.
        _add(K.THEMATIC_MEETING, date(2015, 11, 1), participants=0, title="First day")
        _add(K.THEMATIC_MEETING, date(2020, 3, 31), title="Last day")
        # Not counted:
        _add(K.THEMATIC_MEETING, date(2015, 10, 31), participants=500, title="Before")
        _add(K.THEMATIC_MEETING, date(2020, 4, 1), participants=500, title="After")
        _add(K.WEBINAR, date(2018, 5, 5), Status.CANCELLED, 500, title="Cancelled")
        _add(K.STEERING_COMMITTEE, date(2019, 5, 5), Status.PLANNED, 500, title="Not recorded")
        db.session.commit()


def _fixture_count_with_edges():
    """The hand count plus the two activities on the first and last day (thematic)."""
    return {
        K.WORKING_GROUP: 2,
        K.STEERING_COMMITTEE: 9,
        K.SENIOR_OFFICIALS: 7,
        K.THEMATIC_MEETING: 14,
        K.TRAINING: 1,
    }


class TestStatistics:
    def test_figures_are_counted_from_the_records_of_the_period(self, app, record):
        with app.app_context():
            stats = queries.statistics(date(2015, 11, 1), date(2020, 3, 31))
        assert {r.kind: r.activities for r in stats.rows} == _fixture_count_with_edges()
        assert [r.kind for r in stats.rows] == [
            K.WORKING_GROUP,
            K.STEERING_COMMITTEE,
            K.SENIOR_OFFICIALS,
            K.THEMATIC_MEETING,
            K.TRAINING,
        ]
        assert stats.activities == 33
        assert stats.participants == 1776
        assert stats.countries == 2 * 10 + 9 * 12 + 7 * 35 + 12 * 15
        assert stats.organisations == 2 * 2 + 9 * 3 + 7 * 8 + 12 * 5
        # The first-day meeting has a figure (0); the last-day one has none.
        assert stats.with_participants == 32
        assert stats.not_held == 1

    def test_the_sentence_of_the_secretariat_comes_out_of_the_hand_counted_record(
        self, app, record, monkeypatch
    ):
        # Only the hand count: the two edge meetings fall on days outside this period.
        with app.app_context():
            stats = queries.statistics(date(2015, 11, 2), date(2020, 3, 30))
        assert summary.sentence(stats) == (
            "Between 2 November 2015 and 30 March 2020, 2 Informal Working Groups, 9 Steering "
            "Committee Meetings, 7 Senior Officials' Meetings, 12 Thematic Meetings and 1 "
            "Regional Training have gathered almost 1,800 delegates."
        )

    def test_the_page_writes_the_domain_sentence_once_recommendations_are_counted(
        self, app, client, people, login_as, record, factory
    ):
        # The two meetings on the edges of the period are thematic: take them out again so
        # that the record is the secretariat's own 2 + 9 + 7 + 12 + 1.
        with app.app_context():
            for title in ("First day", "Last day"):
                db.session.execute(db.delete(Activity).where(Activity.title == title))
            db.session.commit()
            # 134 recommendations recorded at the counted meetings, as the secretariat did.
            counted = db.session.scalars(
                db.select(Activity.id)
                .where(Activity.status.in_([Status.HELD, Status.CLOSED]))
                .where(Activity.start_date.between(date(2015, 11, 1), date(2020, 3, 31)))
                .order_by(Activity.start_date)
            ).all()
        for n in range(134):
            factory.recommendation(counted[n % len(counted)], states=("Kenya",))
        login_as(people["observer"])
        page = client.get(f"/reports/statistics?{PERIOD}")
        assert page.status_code == 200
        sentence = re.search(r'class="summary"><p>(.*?)</p>', page.text).group(1)
        assert html.unescape(sentence) == DOMAIN_SENTENCE
        # The table: kind, activities, participants...
        rows = re.findall(
            r'<tr><th scope="row">([^<]+)</th><td class="num">([\d,]+)</td>'
            r'<td class="num">([\d,]+)</td>',
            page.text,
        )
        assert [(html.unescape(k), n, p) for k, n, p in rows] == [
            ("Informal Working Group", "2", "50"),
            ("Steering Committee Meeting", "9", "360"),
            ("Senior Officials' Meeting", "7", "840"),
            ("Thematic Meeting", "12", "480"),
            ("Training", "1", "46"),
            ("Total", "31", "1,776"),
        ]
        assert "Not counted: 1 activity" in page.text

    def test_recommendations_of_counted_meetings_and_their_follow_up(self, app, record, factory):
        from kpplan.recommendations.models import FollowUpStatus

        with app.app_context():
            ids = {
                a.title: a.id
                for a in db.session.scalars(db.select(Activity))
                if a.title in ("First day", "Before", "Not recorded", "Cancelled")
            }
        counted = factory.recommendation(ids["First day"], states=("Kenya", "Italy"))
        factory.recommendation(ids["First day"], states=("Kenya",))
        for title in ("Before", "Not recorded", "Cancelled"):
            factory.recommendation(ids[title])
        factory.update(factory.follow_up_of(counted, "Kenya").id, FollowUpStatus.IN_PROGRESS)
        with app.app_context():
            counts = queries.recommendation_counts(date(2015, 11, 1), date(2020, 3, 31))
        assert counts == RecommendationCounts(
            total=2, by_status={"Not started": 2, "In progress": 1}
        )

    def test_the_csv_holds_the_same_table(self, app, client, people, login_as, record):
        login_as(people["fp_b"])
        response = client.get(f"/reports/statistics.csv?{PERIOD}")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert (
            "kpplan-statistics-2015-11-01-2020-03-31.csv" in response.headers["Content-Disposition"]
        )
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        assert rows[0][:3] == ["kind", "activities", "participants"]
        table = {r[0]: r[1:] for r in rows[1:]}
        assert table["Senior Officials' Meeting"][:4] == ["7", "840", str(7 * 35), str(7 * 8)]
        assert table["Thematic Meeting"][:2] == ["14", "480"]
        assert table["Total"][:2] == ["33", "1776"]
        assert table["Recommendations recorded"][0] == "0"

    @pytest.mark.parametrize(
        "query,message",
        [
            ("from=2015-13-01", "year-month-day"),
            ("from=yesterday&to=2020-01-01", "year-month-day"),
            ("to=20200101x", "year-month-day"),
            ("from=2020-01-01&to=2019-01-01", "comes before its start"),
            ("from=0001-01-01", "between 1990 and 2100"),
        ],
    )
    def test_bad_dates_are_told_not_crashed_on(self, client, people, login_as, query, message):
        login_as(people["observer"])
        page = client.get(f"/reports/statistics?{query}")
        assert page.status_code == 400
        assert message in page.text and 'class="summary"' in page.text
        csv_response = client.get(f"/reports/statistics.csv?{query}")
        assert csv_response.status_code == 400 and message in csv_response.text
        timeline = client.get(f"/reports/timeline?{query}")
        assert timeline.status_code == 400 and message in timeline.text

    def test_no_activity_in_the_period_says_so(self, client, people, login_as):
        login_as(people["observer"])
        page = client.get("/reports/statistics?from=2001-01-01&to=2001-12-31").text
        assert "Between January 2001 and December 2001, no activity of the Process was held." in (
            page
        )


class TestSentence:
    @pytest.mark.parametrize(
        "n,words",
        [
            (0, "0"),
            (28, "28"),
            (99, "99"),
            (100, "100"),
            (134, "over 130"),
            (280, "280"),
            (1750, "almost 1,800"),
            (1776, "almost 1,800"),
            (1800, "1,800"),
            (1849, "over 1,800"),
            (12345, "over 12,000"),
        ],
    )
    def test_figures_are_rounded_as_the_secretariat_writes_them(self, n, words):
        assert summary.approximately(n) == words

    @pytest.mark.parametrize(
        "start,end,words",
        [
            (date(2015, 11, 1), date(2020, 3, 31), "between November 2015 and March 2020"),
            (date(2020, 3, 1), date(2020, 3, 31), "in March 2020"),
            (date(2020, 3, 6), date(2020, 3, 6), "on 6 March 2020"),
            (date(2020, 3, 6), date(2022, 3, 22), "between 6 March 2020 and 22 March 2022"),
        ],
    )
    def test_periods_in_words(self, start, end, words):
        assert summary.period_words(start, end) == words

    def test_one_activity_has_gathered(self):
        stats = queries.Statistics(
            date(2022, 5, 1),
            date(2022, 5, 31),
            [queries.KindFigures(K.TRAINING, 1, 28, 8, 0, 1)],
            0,
            RecommendationCounts(),
        )
        assert summary.sentence(stats) == (
            "In May 2022, 1 Regional Training has gathered 28 delegates."
        )

    def test_without_figures_activities_were_held(self):
        stats = queries.Statistics(
            date(2021, 1, 1),
            date(2021, 12, 31),
            [queries.KindFigures(K.WEBINAR, 4, 0, 0, 0, 0)],
            0,
            RecommendationCounts(),
        )
        assert (
            summary.sentence(stats)
            == "Between January 2021 and December 2021, 4 Webinars were held."
        )


# The timeline ---------------------------------------------------------------------------


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


# Exports ----------------------------------------------------------------------------------


@pytest.fixture
def archive(app, factory):
    factory.activity(
        title='=HYPERLINK("http://evil.example")',
        kind=K.WEBINAR,
        start=date(2021, 3, 31),
        status=Status.HELD,
    )
    factory.activity(
        title="Thematic Meeting on Legal Pathways",
        start=date(2022, 7, 12),
        host="Kenya",
        co_hosts=("Germany",),
        status=Status.HELD,
    )
    factory.activity(title="Workshop in Cairo", kind=K.THEMATIC_WORKSHOP, start=date(2022, 11, 22))
    with app.app_context():
        workshop = db.session.scalar(
            db.select(Activity).where(Activity.title == "Workshop in Cairo")
        )
        workshop.participants = 60
        workshop.state_roles.append(
            ActivityStateRole(state=state_named("Egypt"), role=StateRole.HOST)
        )
        db.session.commit()


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def _xlsx(response) -> list[dict[str, object]]:
    sheet = load_workbook(io.BytesIO(response.data))["Activities"]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


class TestExports:
    def test_csv_of_the_whole_archive(self, client, people, login_as, archive):
        login_as(people["observer"])
        response = client.get("/reports/activities.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = _csv(response)
        assert [r["title"] for r in rows] == [
            '\'=HYPERLINK("http://evil.example")',  # never run as a formula
            "Thematic Meeting on Legal Pathways",
            "Workshop in Cairo",
        ]
        legal = rows[1]
        assert legal["kind"] == "Thematic Meeting"
        assert (legal["start date"], legal["end date"]) == ("2022-07-12", "2022-07-13")
        assert (legal["host"], legal["co-hosts"]) == ("Kenya", "Germany")
        assert rows[2]["participants"] == "60" and rows[2]["host"] == "Egypt"

    def test_xlsx_with_the_archive_filters(self, client, people, login_as, archive):
        login_as(people["fp_a"])
        with client.application.app_context():
            kenya = state_named("Kenya").id
        response = client.get(f"/reports/activities.xlsx?state={kenya}&year=2022")
        assert response.status_code == 200
        assert response.mimetype.endswith("spreadsheetml.sheet")
        rows = _xlsx(response)
        assert [r["title"] for r in rows] == ["Thematic Meeting on Legal Pathways"]
        assert rows[0]["start date"].date() == date(2022, 7, 12)
        assert rows[0]["co-hosts"] == "Germany"

    def test_xlsx_keeps_a_formula_like_title_as_text(self, client, people, login_as, archive):
        login_as(people["observer"])
        response = client.get("/reports/activities.xlsx?kind=webinar")
        sheet = load_workbook(io.BytesIO(response.data))["Activities"]
        cell = sheet["C2"]
        assert cell.value == '=HYPERLINK("http://evil.example")' and cell.data_type == "s"

    def test_the_archive_links_to_the_exports_with_its_filters(self, client, people, login_as):
        login_as(people["observer"])
        page = client.get("/activities/archive?kind=webinar&year=2021").text
        assert re.search(r'href="/reports/activities.csv\?[^"]*kind=webinar', page)
        assert re.search(r'href="/reports/activities.xlsx\?[^"]*year=2021', page)

    def test_an_unknown_filter_is_ignored_not_a_crash(self, client, people, login_as, archive):
        login_as(people["observer"])
        response = client.get("/reports/activities.csv?kind=nonsense&year=abc&state=x")
        assert response.status_code == 200 and len(_csv(response)) == 3


# Query counts -----------------------------------------------------------------------------


def test_report_query_counts_do_not_grow_with_data(
    app, client, people, login_as, factory, count_queries
):
    factory.chairmanship("South Sudan", date(2022, 3, 22))
    pages = (
        "/reports/statistics?from=2022-01-01&to=2023-12-31",
        "/reports/statistics.csv?from=2022-01-01&to=2023-12-31",
        "/reports/timeline",
        "/reports/activities.csv",
        "/reports/activities.xlsx",
    )

    def add(n: int, offset: int) -> None:
        for i in range(n):
            factory.activity(
                kind=list(K)[i % len(K)],
                start=date(2022, 1, 1) + timedelta(days=7 * (i + offset)),
                status=Status.HELD,
                host="Kenya",
                co_hosts=("Italy",),
            )

    add(5, 0)
    login_as(people["observer"])
    for page in pages:
        client.get(page)
    with count_queries() as few:
        for page in pages:
            assert client.get(page).status_code == 200
    add(60, 5)
    factory.chairmanship("Germany", date(2026, 1, 1))
    for page in pages:  # as above: heavy figures are kept once computed
        client.get(page)
    with count_queries() as many:
        for page in pages:
            client.get(page)
    assert many.count == few.count
