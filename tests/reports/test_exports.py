"""The exports of activities, read back with the csv module and openpyxl."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind as K
from kpplan.meetings.models import Activity, ActivityStateRole, StateRole, Status
from tests.conftest import state_named


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
