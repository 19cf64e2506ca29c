"""How kpplan writes days, ranges of days and moments (kpplan.core.dates), and the filters
that pages use to write them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_migrate import downgrade, upgrade
from icalendar import Calendar
from sqlalchemy import select

from kpplan.core.dates import DatePrecision, day, day_range, moment
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity

MONTH, YEAR = DatePrecision.MONTH, DatePrecision.YEAR


@pytest.mark.parametrize(
    "value,precision,expected",
    [
        (date(2022, 7, 12), None, "12 Jul 2022"),
        (date(2020, 7, 2), DatePrecision.DAY, "2 Jul 2020"),
        (date(2016, 6, 1), MONTH, "June 2016"),
        (date(2016, 6, 1), "month", "June 2016"),
        (date(2016, 1, 1), YEAR, "2016"),
        (None, None, "—"),
    ],
)
def test_a_day(value, precision, expected):
    assert day(value, precision) == expected


@pytest.mark.parametrize(
    "start,end,precision,expected",
    [
        (date(2022, 7, 12), date(2022, 7, 12), None, "12 Jul 2022"),
        (date(2022, 7, 12), None, None, "12 Jul 2022"),
        (date(2022, 7, 12), date(2022, 7, 13), None, "12–13 Jul 2022"),
        (date(2020, 6, 30), date(2020, 7, 2), None, "30 Jun – 2 Jul 2020"),
        (date(2021, 12, 28), date(2022, 1, 3), None, "28 Dec 2021 – 3 Jan 2022"),
        (date(2016, 6, 1), date(2016, 6, 1), MONTH, "June 2016"),
        (date(2016, 6, 1), date(2016, 6, 30), MONTH, "June 2016"),
        (date(2016, 6, 1), date(2016, 7, 1), MONTH, "June – July 2016"),
        (date(2016, 12, 1), date(2017, 1, 1), MONTH, "December 2016 – January 2017"),
        (date(2016, 1, 1), date(2016, 12, 31), YEAR, "2016"),
        (date(2016, 1, 1), date(2017, 1, 1), YEAR, "2016–2017"),
        (None, None, None, "—"),
    ],
)
def test_a_range_says_each_part_once(start, end, precision, expected):
    assert day_range(start, end, precision) == expected


@pytest.mark.parametrize(
    "zone,at,expected",
    [
        ("Africa/Nairobi", datetime(2022, 7, 12, 11, 5, tzinfo=UTC), "12 Jul 2022, 14:05 EAT"),
        # Brussels in summer and in winter: the abbreviation follows the moment.
        ("Europe/Brussels", datetime(2022, 7, 12, 11, 5, tzinfo=UTC), "12 Jul 2022, 13:05 CEST"),
        ("Europe/Brussels", datetime(2022, 1, 3, 11, 5, tzinfo=UTC), "3 Jan 2022, 12:05 CET"),
        # Late in the evening in UTC is the next day in Nairobi.
        ("Africa/Nairobi", datetime(2022, 7, 12, 22, 30, tzinfo=UTC), "13 Jul 2022, 01:30 EAT"),
        ("UTC", datetime(2022, 7, 12, 11, 5, tzinfo=UTC), "12 Jul 2022, 11:05 UTC"),
        # A zone without a usual abbreviation is named by its offset.
        ("Asia/Dubai", datetime(2022, 7, 12, 11, 5, tzinfo=UTC), "12 Jul 2022, 15:05 UTC+04"),
    ],
)
def test_a_moment_names_its_timezone(zone, at, expected):
    assert moment(at, ZoneInfo(zone)) == expected


def test_no_moment():
    assert moment(None, ZoneInfo("UTC")) == "—"


@pytest.mark.parametrize("app_config", [{"TIMEZONE": "Africa/Khartoum"}])
def test_the_filters_use_the_process_timezone(app):
    at = datetime(2022, 7, 12, 12, 0, tzinfo=UTC)
    template = "{{ at|localtime }} · {{ d|day }} · {{ d|day_range(e) }} · {{ d|day('year') }}"
    with app.test_request_context():
        text = render_template_string(template, at=at, d=date(2022, 7, 12), e=date(2022, 7, 13))
    assert text == "12 Jul 2022, 14:00 CAT · 12 Jul 2022 · 12–13 Jul 2022 · 2022"


class TestActivityKnownToTheMonth:
    """The secretariat records an activity the texts date only by month."""

    def _plan(self, client, precision: str, start: str, end: str = ""):
        return client.post(
            "/activities/new",
            data={
                "kind": "thematic_meeting",
                "title": "Thematic Meeting on Regional Cooperation",
                "start_date": start,
                "end_date": end,
                "date_precision": precision,
                "format": "in_person",
                "city": "Khartoum",
                "country": "0",
                "host": "0",
                "chair": "0",
            },
        )

    def test_the_pages_the_export_and_the_calendar_keep_the_precision(
        self, app, client, people, login_as
    ):
        login_as(people["secretariat"])
        response = self._plan(client, "month", "2016-06-01")
        assert response.status_code == 302
        activity_page = client.get(response.headers["Location"]).text
        assert "June 2016" in activity_page and "1 Jun 2016" not in activity_page
        with app.app_context():
            activity = db.session.scalars(select(Activity)).one()
            assert activity.date_precision is MONTH
            assert activity.start_date == date(2016, 6, 1)  # still sorted by its date
        archive = client.get("/activities/archive?year=2016").text
        assert "June 2016" in archive

        ics = Calendar.from_ical(client.get(f"/activities/{activity.id}.ics").data)
        (event,) = ics.walk("VEVENT")
        assert event.decoded("dtstart") == date(2016, 6, 1)
        assert event.decoded("dtend") == date(2016, 7, 1)  # the whole of June
        assert "June 2016, day not known" in str(event["summary"])
        assert str(event["transp"]) == "TRANSPARENT"

        edit = client.get(f"/activities/{activity.id}/edit").text
        assert '<option selected value="month">' in edit or 'value="month" selected' in edit

    def test_the_calendar_lists_it_beside_the_days_not_on_one(
        self, app, client, people, login_as, factory
    ):
        factory.activity(
            title="Workshop of June", start=date(2016, 6, 1), days=1, date_precision=MONTH
        )
        factory.activity(
            title="Training of 2016", start=date(2016, 1, 1), days=1, date_precision=YEAR
        )
        factory.activity(title="SOM of 8 June", start=date(2016, 6, 8), days=1)
        login_as(people["secretariat"])
        june = client.get("/activities/calendar?month=2016-06").text
        listed = june.split("on a day the records do not give:", 1)[1].split("</p>", 1)[0]
        assert "Workshop of June" in listed and "(June 2016)" in listed
        assert "Training of 2016" in listed and "(2016)" in listed
        assert "SOM of 8 June" not in listed
        grid = june.split('<table class="month', 1)[1]
        assert "SOM of 8 June" in grid and "Workshop of June" not in grid
        july = client.get("/activities/calendar?month=2016-07").text
        assert "Workshop of June" not in july and "Training of 2016" in july
        assert "Training of 2016" not in client.get("/activities/calendar?month=2017-01").text

    def test_the_export_says_how_much_of_the_date_is_known(self, app, client, people, login_as):
        login_as(people["secretariat"])
        self._plan(client, "year", "2016-01-01", "2016-01-01")
        csv = client.get("/reports/activities.csv?year=2016").data.decode("utf-8-sig")
        header, row = csv.splitlines()[:2]
        assert "dates known to" in header
        values = dict(zip(header.split(","), row.split(","), strict=False))
        assert values["dates known to"] == "The year only" and values["start date"] == "2016-01-01"

    def test_a_precision_that_is_not_offered_is_refused_next_to_the_field(
        self, app, client, people, login_as
    ):
        login_as(people["secretariat"])
        response = self._plan(client, "week", "2016-06-01")
        assert response.status_code == 200
        assert "Not a valid choice" in response.text
        with app.app_context():
            assert db.session.scalars(select(Activity)).all() == []


def test_the_migration_keeps_every_activity_known_to_the_day_and_goes_back(empty_app):
    """0018_date_precision: existing rows read "day"; the CHECK refuses anything else;
    downgrading drops the column and upgrading again adds it."""
    insert = sa.text(
        "INSERT INTO activities (kind, title, start_date, end_date, format, status, version,"
        " created_at, updated_at{extra}) VALUES ('webinar', :title, '2016-06-01', '2016-06-01',"
        " 'virtual', 'held', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00'{value})"
    )
    with empty_app.app_context():
        upgrade(revision="0014_calendar_token_hashes")
        with db.engine.begin() as connection:
            connection.execute(sa.text(insert.text.format(extra="", value="")), {"title": "Old"})
        upgrade(revision="0018_date_precision")
        with db.engine.begin() as connection:
            kept = connection.execute(sa.text("SELECT date_precision FROM activities")).scalar()
        assert kept == "day"
        bad = sa.text(insert.text.format(extra=", date_precision", value=", 'week'"))
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
            connection.execute(bad, {"title": "Refused"})
        downgrade(revision="0014_calendar_token_hashes")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("activities")}
        assert "date_precision" not in columns
        upgrade(revision="0018_date_precision")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("activities")}
        assert "date_precision" in columns
