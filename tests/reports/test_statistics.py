"""Statistics against a hand-counted fixture, and the summary sentence."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta

import pytest

from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind as K
from kpplan.meetings.models import Activity, Format, Status
from kpplan.reports import queries, summary
from kpplan.reports.queries import RecommendationCounts

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
        from kpplan.recommendations.statuses import FollowUpStatus

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


class TestKeptRecommendationCounts:
    """The recommendations' figures of a period, added up over the period's side or the
    side it leaves out (less the figures kept over every recommendation in force), match a
    full count of the follow-ups after random changes; and a status update leaves the
    period's number of recommendations kept."""

    def test_both_sides_match_a_full_count_after_random_changes(self, app, factory, random_changes):
        import random

        import sqlalchemy as sa

        from kpplan.directory.models import Organisation, State
        from kpplan.recommendations import services
        from kpplan.recommendations.follow_up_models import FollowUp
        from kpplan.recommendations.models import Recommendation

        rng = random.Random(7)
        names = ("Kenya", "Italy", "Egypt", "France", "Niger")
        held_in = factory.activity(start=date(2018, 3, 1), status=Status.HELD)
        held_before = factory.activity(start=date(2012, 3, 1), status=Status.HELD)
        cancelled_in = factory.activity(start=date(2019, 3, 1), status=Status.CANCELLED)
        start, end = date(2015, 11, 1), date(2020, 3, 31)
        with app.app_context():
            activities = [
                db.session.get(Activity, a.id) for a in (held_in, held_before, cancelled_in)
            ]
            states = db.session.scalars(
                sa.select(State).where(State.name.in_(names)).order_by(State.name)
            ).all()
            organisation = db.session.get(Organisation, factory.organisation("Agency").id)
            random_changes(
                rng,
                90,
                ["record", "record", "post", "post", "post", "withdraw"],
                lambda rng: services.Draft(
                    text=f"Strengthen cooperation {rng.randrange(10**6)}.",
                    target_date=date(2027, 12, 31),
                    themes=[],
                    states=rng.sample(states, rng.randrange(1, len(states))),
                    organisations=[organisation] if rng.random() < 0.5 else [],
                    for_secretariat=rng.random() < 0.3,
                ),
                lambda rng: rng.choice(activities),
            )

            def full_count(state_id):
                query = (
                    sa.select(FollowUp.status, sa.func.count(FollowUp.id))
                    .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
                    .join(Activity, Recommendation.activity_id == Activity.id)
                    .where(
                        Recommendation.withdrawn_at.is_(None),
                        Activity.start_date.between(start, end),
                        Activity.status.in_(queries.HELD),
                    )
                    .group_by(FollowUp.status)
                )
                if state_id:
                    query = query.where(FollowUp.state_id == state_id)
                return {s.label: n for s, n in db.session.execute(query) if n}

            sizes = queries._sizes(start, end)
            in_force = sa.select(sa.func.count()).where(Recommendation.withdrawn_at.is_(None))
            assert sizes.inside and sizes.outside
            assert sizes.inside + sizes.outside == db.session.scalar(in_force)
            for state_id in (None, states[0].id):
                expected = full_count(state_id)
                assert expected
                for outside in (False, True):
                    counts = queries._recommendation_counts(start, end, state_id, sizes, outside)
                    assert counts.by_status == expected, (state_id, outside)
                    assert counts.total == sizes.inside

    @pytest.mark.parametrize(
        "inside,left_out,read",
        [
            # Every recommendation in force in the period: the figures kept over them all.
            (1, 0, {"follow_up_tallies"}),
            # Fewer left out: those figures less the left-out activities' own.
            (3, 1, {"follow_up_tallies", "activity_tallies"}),
            # Fewer in the period: the period's activities' own figures.
            (1, 2, {"activity_tallies"}),
        ],
    )
    def test_a_status_update_leaves_the_number_kept(
        self, app, client, people, login_as, factory, count_queries, inside, left_out, read
    ):
        held = factory.activity(start=date(2018, 3, 1), status=Status.HELD)
        before = factory.activity(start=date(2012, 3, 1), status=Status.HELD)
        made = [factory.recommendation(held.id, states=("Kenya",)) for _ in range(inside)]
        for _ in range(left_out):
            factory.recommendation(before.id, states=("Kenya",))
        login_as(people["secretariat"])
        page = "/reports/statistics?from=2015-11-01&to=2020-03-31"
        assert "In progress" not in client.get(page).text
        login_as(people["fp_a"])
        follow_up = factory.follow_up_of(made[0], "Kenya")
        data = {"version": follow_up.version, "status": "in_progress", "narrative": "Met."}
        assert client.post(f"/follow-ups/{follow_up.id}", data=data).status_code == 302
        login_as(people["secretariat"])
        with count_queries() as after_write:
            assert "In progress" in client.get(page).text
        said = after_write.statements
        assert not any("count(recommendations.id)" in q for q in said)
        tallies_read = [q for q in said if "_tallies" in q]
        assert len(tallies_read) == 1
        assert {
            t
            for t in ("follow_up_tallies", "recommendation_tallies", "activity_tallies")
            if t in tallies_read[0]
        } == read
        assert after_write.count <= 12
        with app.app_context():
            counts = queries.recommendation_counts(date(2015, 11, 1), date(2020, 3, 31))
        expected = {"Not started": inside - 1, "In progress": 1}
        assert counts == RecommendationCounts(inside, {k: n for k, n in expected.items() if n})


class TestKeptActivityFigures:
    """The activities' side of the statistics (which reads every activity of the period)
    is kept until an activity or an attendance list changes: a follow-up's update leaves
    it, a new activity is counted at once."""

    def test_a_status_update_leaves_them_an_activity_counts_at_once(
        self, app, client, people, login_as, factory, count_queries
    ):
        held = factory.activity(start=date(2018, 3, 1), status=Status.HELD)
        made = factory.recommendation(held.id, states=("Kenya",))
        page = "/reports/statistics?from=2015-11-01&to=2020-03-31"
        login_as(people["secretariat"])
        client.get(page)
        login_as(people["fp_a"])
        follow_up = factory.follow_up_of(made, "Kenya")
        data = {"version": follow_up.version, "status": "in_progress", "narrative": "Met."}
        assert client.post(f"/follow-ups/{follow_up.id}", data=data).status_code == 302
        login_as(people["secretariat"])
        with count_queries() as after_write:
            assert "In progress" in client.get(page).text
        assert not any("FROM activities" in q for q in after_write.statements)
        with app.test_request_context():
            assert queries.statistics(date(2015, 11, 1), date(2020, 3, 31)).activities == 1
        factory.activity(start=date(2019, 3, 1), status=Status.HELD)
        with app.test_request_context():
            assert queries.statistics(date(2015, 11, 1), date(2020, 3, 31)).activities == 2
        with count_queries() as after_activity:
            client.get(page)
        assert any("FROM activities" in q for q in after_activity.statements)
