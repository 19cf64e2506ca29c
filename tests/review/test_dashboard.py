"""The dashboard of a Chair's term and its exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from kpplan.chair.models import WorkPlanItem
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.models import Activity
from kpplan.recommendations.statuses import FollowUpStatus
from tests.review.helpers import add_som, snapshot_via_http


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


class TestDashboard:
    def test_the_kept_chairs_part_follows_each_change(
        self, app, client, people, login_as, factory, count_queries, term
    ):
        """The head and the work plan's progress are written once and kept: a status update
        leaves them (the chairmanship is not read again); a renamed state, an item linked
        to an activity, an activity held show at the next render."""
        login_as(people["observer"])
        url = f"/chair/{term['chair'].id}/review"

        def work_plan() -> str:
            return client.get(url).text.split('id="work-plan"', 1)[1].split("</section>")[0]

        assert "Review of the Chairmanship of South Sudan" in client.get(url).text
        assert '>Planned</th><td class="num">6<' in work_plan()
        factory.update(factory.follow_up_of(term["met"], "Italy").id)
        with count_queries() as counter:
            assert "Climate" in work_plan()
        assert not any("FROM chairmanships" in q for q in counter.statements)
        with app.app_context():
            db.session.scalar(select(State).where(State.name == "South Sudan")).name = "Juba"
            db.session.commit()
        assert "Review of the Chairmanship of Juba" in client.get(url).text
        held = re.compile(r"Held by the target</th><td class=\"num\">(\d+)<")
        assert held.search(work_plan()).group(1) == "1"
        with app.app_context():
            item = db.session.get(WorkPlanItem, term["items"]["not scheduled"].id)
            item.activities.append(db.session.get(Activity, term["activities"][0].id))
            db.session.commit()
        assert held.search(work_plan()).group(1) == "2"
        cards = (
            client.get(url)
            .text.split('class="cards review-cards"', 1)[1]
            .split("</div>\n</div>")[0]
        )
        assert "3, 2 by their target" in cards.replace("</p><p>held, ", ", ")

    def test_the_figures_of_the_term(self, client, people, login_as, term):
        login_as(people["observer"])
        page = client.get(f"/chair/{term['chair'].id}/review")
        assert page.status_code == 200
        text = page.text
        assert "Review of the Chairmanship of South Sudan" in text
        # The stacked bar says it all in its title; the table beside it, in figures.
        title = re.search(r'<title id="progress-title">(.*?)</title>', text).group(1)
        assert title == (
            "6 items of the work plan: 1 held by the target, 1 held after the target, "
            "1 scheduled, 1 not scheduled, 1 late, not held, 1 dropped"
        )
        # Each state once, in its table row with its bar (issue 12: no chart of the same rows).
        by_state = text.split('id="by-state"', 1)[1].split("</section>", 1)[0]
        assert "<svg" not in by_state
        kenya = by_state.split(">Kenya</a>", 1)[1].split("</tr>", 1)[0]
        assert '<td class="num">2</td><td class="num">1</td>' in kenya and "50 %" in kenya
        assert by_state.count(">Kenya</a>") == 1 and by_state.count(">Italy</a>") == 1
        assert "RD3 Prevention of trafficking and smuggling: 50 % (1 of 2)" in text
        assert "1 follow-up of recommendations in force is past its review date." in text
        assert term["overdue"].code in text
        assert "Training in Juba" in text and "Before the term" not in text
        assert "Workshop in Nairobi" not in text  # after today: for the handover
        assert "style=" not in text and "<script>" not in text

    def test_the_exports_say_the_same(self, client, people, login_as, term):
        login_as(people["chair"])
        base = f"/chair/{term['chair'].id}/review"
        items = _csv(client.get(f"{base}/work-plan.csv"))
        assert items[0][:4] == ["Target", "Due by", "Kind", "Item"]
        by_item = {row[3]: (row[6], row[8]) for row in items[1:]}
        assert by_item == {
            "Border management": ("Held", "Yes"),
            "Law enforcement": ("Held", "No"),
            "Legal pathways": ("Scheduled", ""),
            "Climate": ("Not scheduled", ""),
            "Data": ("Late", ""),
            "Return": ("Dropped", ""),
        }
        states = {row[0]: row[1:] for row in _csv(client.get(f"{base}/states.csv"))[1:]}
        assert states == {"Italy": ["1", "0", "0", "0", "0"], "Kenya": ["2", "1", "0", "0", "50"]}
        themes = {row[0]: row[3:] for row in _csv(client.get(f"{base}/themes.csv"))[1:]}
        assert themes["RD5"] == ["1", "0", "0", "0", "0"]
        assert themes["JVAP4"] == ["2", "1", "0", "0", "50"]
        overdue = _csv(client.get(f"{base}/overdue.csv"))
        assert [row[1:4] for row in overdue[1:]] == [
            [term["overdue"].code, term["overdue"].text, "Kenya"]
        ]
        assert client.get(f"{base}/nothing.csv").status_code == 404

        workbook = client.get(f"{base}.xlsx")
        assert workbook.status_code == 200
        book = load_workbook(io.BytesIO(workbook.data), read_only=True)
        assert book.sheetnames == [
            "Work plan",
            "Follow-up by state",
            "Follow-up by theme",
            "Overdue",
            "Activities",
        ]
        rows = list(book["Follow-up by state"].values)
        assert rows[1:] == [("Italy", 1, 0, 0, 0, 0), ("Kenya", 2, 1, 0, 0, 50)]
        assert len(list(book["Work plan"].values)) == 7
        assert [r[3] for r in list(book["Activities"].values)[1:]] == [
            "Training in Juba",
            "Meeting in Cairo",
        ]

    def test_the_snapshots_of_the_term(self, client, people, login_as, factory, term):
        taken = add_som(factory, date(2024, 3, 20), "SOM with its snapshot")
        add_som(factory, date(2025, 3, 20), "SOM without a snapshot")
        add_som(factory, date(2023, 3, 20), "SOM before the term")
        login_as(people["secretariat"])
        snapshot_id = snapshot_via_http(client, taken.id)
        section = client.get(f"/chair/{term['chair'].id}/review").text.split('id="snapshots"')[1]
        assert f'href="/chair/snapshots/{snapshot_id}">SOM with its snapshot</a>' in section
        assert "Without a snapshot: <a" in section and "SOM without a snapshot</a>" in section
        assert "SOM before the term" not in section

    def test_what_the_page_keeps_follows_each_change(
        self, app, client, people, login_as, factory, term
    ):
        """The shares and the snapshots are kept from one render to the next: a status
        update, a state renamed and a snapshot taken each show at the next render."""
        som = add_som(factory, date(2024, 3, 20), "SOM of the kept figures")
        login_as(people["secretariat"])
        url = f"/chair/{term['chair'].id}/review"

        def by_state() -> str:
            return client.get(url).text.split('id="by-state"', 1)[1].split("</section>", 1)[0]

        def snapshots() -> str:
            return client.get(url).text.split('id="snapshots"', 1)[1]

        italy = by_state().split(">Italy</a>", 1)[1].split("</tr>", 1)[0]
        assert '<td class="num">1</td><td class="num">0</td>' in italy and " 0 %" in italy
        assert "Without a snapshot: <a" in snapshots()

        italy_follow_up = factory.follow_up_of(term["met"], "Italy").id
        factory.update(italy_follow_up, status=FollowUpStatus.IMPLEMENTED)
        italy = by_state().split(">Italy</a>", 1)[1].split("</tr>", 1)[0]
        assert '<td class="num">1</td><td class="num">1</td>' in italy and "100 %" in italy

        with app.app_context():
            state = db.session.scalar(select(State).where(State.name == "Italy"))
            state.name = "Italia"
            db.session.commit()
        assert ">Italia</a>" in by_state() and ">Italy</a>" not in by_state()

        snapshot_id = snapshot_via_http(client, som.id)
        section = snapshots()
        assert f'href="/chair/snapshots/{snapshot_id}">SOM of the kept figures</a>' in section
        assert "Without a snapshot" not in section

    def test_the_kept_table_of_activities_follows_each_change(
        self, app, client, people, login_as, factory, term
    ):
        """The table of the term's activities is written once and kept: an activity added
        or retitled shows at the next render, a status update keeps it as it was."""
        login_as(people["secretariat"])
        url = f"/chair/{term['chair'].id}/review"

        def activities() -> str:
            return client.get(url).text.split('id="activities"', 1)[1].split("</section>", 1)[0]

        assert "Training in Juba" in activities() and "Webinar in Kampala" not in activities()
        webinar = factory.activity(title="Webinar in Kampala", start=date(2024, 8, 2))
        assert "Webinar in Kampala" in activities()
        factory.update(factory.follow_up_of(term["met"], "Italy").id)
        assert "Webinar in Kampala" in activities()
        with app.app_context():
            db.session.get(Activity, webinar.id).title = "Webinar in Entebbe"
            db.session.commit()
        section = activities()
        assert "Webinar in Entebbe" in section and "Webinar in Kampala" not in section

    def test_a_focal_point_counts_their_own_state_only(self, client, people, login_as, term):
        login_as(people["fp_b"])  # Italy
        text = client.get(f"/chair/{term['chair'].id}/review").text
        by_state = text.split('id="by-state"', 1)[1].split("</section>", 1)[0]
        italy = by_state.split(">Italy</a>", 1)[1].split("</tr>", 1)[0]
        assert '<td class="num">1</td><td class="num">0</td>' in italy and " 0 %" in italy
        assert ">Kenya</a>" not in by_state
        assert "0 follow-ups of recommendations in force are past their review date." in text
        rows = _csv(client.get(f"/chair/{term['chair'].id}/review/states.csv"))
        assert [r[0] for r in rows[1:]] == ["Italy"]

    def test_the_current_chair_from_the_header(self, client, people, login_as, factory, term):
        login_as(people["fp_a"])
        response = client.get("/chair/review")
        assert response.location == f"/chair/{term['chair'].id}/review"
        assert f'href="/chair/{term["chair"].id}/review"' in client.get("/").text

    def test_no_current_chair_leads_to_the_list(self, client, people, login_as, factory):
        factory.chairmanship("Italy", date(2018, 1, 1), date(2019, 3, 7))
        login_as(people["observer"])
        response = client.get("/chair/review", follow_redirects=True)
        assert response.request.path == "/chair/"
        assert "No Chair is recorded for today" in response.text
        assert client.get("/chair/999/review").status_code == 404

    def test_an_upcoming_chair_without_dates(self, client, people, login_as, factory):
        upcoming = factory.chairmanship("Germany", None)
        login_as(people["observer"])
        page = client.get(f"/chair/{upcoming.id}/review")
        assert page.status_code == 200
        assert "No work plan recorded" in page.text and "it has not begun" in page.text
        assert client.get(f"/chair/{upcoming.id}/handover").status_code == 200
