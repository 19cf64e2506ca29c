"""The Chair's review: the dashboard of a term and its exports, the handover pack, and the
review snapshots taken at Senior Officials' Meetings (what changed, state by state)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Status
from kpplan.recommendations.models import FollowUpStatus, Recommendation
from kpplan.review import queries
from kpplan.review.models import ReviewSnapshot, SnapshotEntry
from kpplan.review.services import take_snapshot

# Far enough in the future that the real clock (the views' today) agrees.
FUTURE = date(2035, 1, 1)


def _flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', page, re.S)


def _som(factory, start: date, title: str | None = None, status=Status.HELD):
    return factory.activity(
        title=title or f"Senior Officials' Meeting {start.year}",
        kind=ActivityKind.SENIOR_OFFICIALS,
        start=start,
        days=1,
        status=status,
    )


def _snapshot_via_http(client, activity_id: int) -> int:
    response = client.post(f"/activities/{activity_id}/snapshot")
    assert response.status_code == 302, _flashes(client.get(response.location).text)
    found = re.fullmatch(r"/chair/snapshots/(\d+)", response.location)
    assert found, response.location
    return int(found.group(1))


def _withdraw(app, recommendation_id: int) -> None:
    with app.app_context():
        db.session.get(Recommendation, recommendation_id).withdrawn_at = datetime.now(UTC)
        db.session.commit()


def _kenya_id(app) -> int:
    from tests.conftest import state_named

    with app.app_context():
        return state_named("Kenya").id


def _rows(page: str) -> dict[str, list[str]]:
    """The by-state table of a snapshot page: state → its figures."""
    table = page.split('class="list differences"', 1)[1].split("</tbody>", 1)[0]
    found = {}
    for row in re.findall(r'<tr[^>]*data-state="([^"]+)">(.*?)</tr>', table, re.S):
        found[row[0]] = re.findall(r'<td class="num">(\d+)</td>', row[1])
    return found


# Snapshots ------------------------------------------------------------------------------


class TestSnapshots:
    def _history(self, app, factory):
        """Two SOMs; between them Kenya implements one recommendation (validated) and
        reports another implemented (awaiting validation), Italy moves from in progress to
        partially implemented, Egypt gets a new recommendation and one withdrawn."""
        meeting = factory.activity(start=date(2024, 6, 1), status=Status.HELD)
        first = factory.recommendation(meeting.id, states=("Kenya", "Italy", "Egypt"))
        second = factory.recommendation(meeting.id, states=("Kenya", "Italy"))
        doomed = factory.recommendation(meeting.id, states=("Egypt",))
        factory.update(factory.follow_up_of(first, "Italy").id, FollowUpStatus.IN_PROGRESS)
        return meeting, first, second, doomed

    def test_the_difference_between_two_meetings_state_by_state(
        self, app, client, people, login_as, factory
    ):
        meeting, first, second, doomed = self._history(app, factory)
        som_1 = _som(factory, date(2024, 11, 14))
        som_2 = _som(factory, date(2025, 11, 14))
        login_as(people["secretariat"])
        first_id = _snapshot_via_http(client, som_1.id)

        factory.update(factory.follow_up_of(first, "Kenya").id, FollowUpStatus.IMPLEMENTED)
        factory.update(
            factory.follow_up_of(second, "Kenya").id, FollowUpStatus.IMPLEMENTED, pending=True
        )
        factory.update(
            factory.follow_up_of(first, "Italy").id, FollowUpStatus.PARTIALLY_IMPLEMENTED
        )
        # Reported and reported back to the same status: no change between the meetings.
        factory.update(factory.follow_up_of(second, "Italy").id, FollowUpStatus.NOT_STARTED)
        newer = factory.recommendation(meeting.id, states=("Egypt",))
        _withdraw(app, doomed.id)
        second_id = _snapshot_via_http(client, som_2.id)

        with app.app_context():
            snapshot = queries.snapshot_page(second_id)
            previous = queries.previous_snapshot(snapshot)
            assert previous.id == first_id
            rows = queries.differences(snapshot, previous, queries.Scope())
            got = {
                r.name: (r.follow_ups, r.to_implemented, r.other_changes, r.new, r.gone)
                for r in rows
            }
            changes = queries.changes(snapshot, previous, queries.Scope())
            listed = sorted((c.addressee, c.code, c.kind) for c in changes)
        assert got == {
            "Egypt": (2, 0, 0, 1, 1),
            "Italy": (2, 0, 1, 0, 0),
            "Kenya": (2, 1, 1, 0, 0),
        }
        assert listed == [
            ("Egypt", newer.code, "new"),
            ("Italy", first.code, "changed"),
            ("Kenya", first.code, "implemented"),
            ("Kenya", second.code, "changed"),
        ]

        page = client.get(f"/chair/snapshots/{second_id}")
        assert page.status_code == 200
        # follow-ups, implemented, awaiting validation, moved, other, new, no longer in force
        assert _rows(page.text) == {
            "Egypt": ["2", "0", "0", "0", "0", "1", "1"],
            "Italy": ["2", "0", "0", "0", "1", "0", "0"],
            "Kenya": ["2", "1", "1", "1", "1", "0", "0"],
        }
        assert "Moved to implemented" in page.text
        assert "since Senior Officials&#39; Meeting 2024" in page.text
        every_state = client.get(f"/chair/snapshots/{second_id}?state=abc").text
        assert every_state.count('class="change-') == 4  # a state that is no number: all
        kenya = client.get(f"/chair/snapshots/{second_id}?state={_kenya_id(app)}").text
        assert kenya.count('class="change-') == 2

    def test_the_first_snapshot_shows_how_each_state_stood(
        self, app, client, people, login_as, factory
    ):
        meeting = factory.activity(start=date(2024, 6, 1), status=Status.HELD)
        recommendation = factory.recommendation(meeting.id, states=("Kenya", "Italy"))
        factory.update(factory.follow_up_of(recommendation, "Kenya").id, FollowUpStatus.IMPLEMENTED)
        som = _som(factory, date(2024, 11, 14))
        login_as(people["admin"])
        snapshot_id = _snapshot_via_http(client, som.id)
        page = client.get(f"/chair/snapshots/{snapshot_id}").text
        assert "This is the first snapshot" in page
        assert _rows(page) == {"Italy": ["1", "0", "0"], "Kenya": ["1", "1", "0"]}
        with app.app_context():
            snapshot = db.session.get(ReviewSnapshot, snapshot_id)
            assert snapshot.entry_count == 2 and snapshot.taken_by_id == people["admin"].id
            entries = db.session.scalars(select(SnapshotEntry)).all()
            assert sorted(e.status.value for e in entries) == ["implemented", "not_started"]
            audit = db.session.scalar(
                select(AuditEntry).where(AuditEntry.object_type == "review_snapshots")
            )
            assert audit.action == "created" and "2 follow-ups" in audit.summary

    def test_only_at_a_senior_officials_meeting_once_and_not_before_it(
        self, app, client, people, login_as, factory
    ):
        thematic = factory.activity(start=date(2024, 6, 1), status=Status.HELD)
        future = _som(factory, FUTURE, status=Status.PLANNED)
        cancelled = _som(factory, date(2024, 3, 1), status=Status.CANCELLED)
        som = _som(factory, date(2024, 11, 14))
        login_as(people["secretariat"])
        expected = {
            thematic.id: "Senior Officials&#39; Meetings only",
            future.id: "take its snapshot from the first day",
            cancelled.id: "was cancelled",
        }
        for activity_id, message in expected.items():
            response = client.post(f"/activities/{activity_id}/snapshot", follow_redirects=True)
            assert response.status_code == 200
            assert any(message in f for f in _flashes(response.text)), _flashes(response.text)
        _snapshot_via_http(client, som.id)
        again = client.post(f"/activities/{som.id}/snapshot", follow_redirects=True)
        assert any("already taken" in f for f in _flashes(again.text))
        assert client.post("/activities/999999/snapshot").status_code == 404
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ReviewSnapshot)) == 1

    def test_the_activity_page_offers_and_then_links_the_snapshot(
        self, client, people, login_as, factory
    ):
        som = _som(factory, date(2024, 11, 14))
        thematic = factory.activity(start=date(2024, 6, 1))
        login_as(people["secretariat"])
        assert "Take the review snapshot" in client.get(f"/activities/{som.id}").text
        assert "Review snapshot" not in client.get(f"/activities/{thematic.id}").text
        login_as(people["chair"])
        assert "Take the review snapshot" not in client.get(f"/activities/{som.id}").text
        login_as(people["secretariat"])
        snapshot_id = _snapshot_via_http(client, som.id)
        page = client.get(f"/activities/{som.id}").text
        assert f"/chair/snapshots/{snapshot_id}" in page
        assert "Take the review snapshot" not in page

    def test_a_focal_point_sees_only_their_own_state(self, app, client, people, login_as, factory):
        meeting = factory.activity(start=date(2024, 6, 1), status=Status.HELD)
        recommendation = factory.recommendation(meeting.id, states=("Kenya", "Italy"))
        som_1, som_2 = _som(factory, date(2024, 11, 14)), _som(factory, date(2025, 11, 14))
        login_as(people["secretariat"])
        _snapshot_via_http(client, som_1.id)
        factory.update(factory.follow_up_of(recommendation, "Kenya").id)
        factory.update(factory.follow_up_of(recommendation, "Italy").id)
        second_id = _snapshot_via_http(client, som_2.id)

        login_as(people["fp_a"])  # Kenya
        page = client.get(f"/chair/snapshots/{second_id}?state=999").text
        assert list(_rows(page)) == ["Kenya"]
        assert page.count('class="change-') == 1 and ">Italy<" not in page

    def test_the_snapshot_is_one_insert_whatever_the_number_of_follow_ups(
        self, app, factory, people, count_queries
    ):
        meeting = factory.activity(start=date(2024, 6, 1), status=Status.HELD)
        factory.recommendation(meeting.id)
        few_som, many_som = _som(factory, date(2024, 11, 14)), _som(factory, date(2025, 11, 14))

        def snapshot_at(activity_id: int):
            """Take the snapshot; the statements it ran and the follow-ups it froze."""
            with app.app_context():
                activity = db.session.get(Activity, activity_id)
                with count_queries() as counter:
                    taken = take_snapshot(None, activity, date(2026, 1, 1))
                    db.session.commit()
                return counter, taken.entry_count

        few, few_entries = snapshot_at(few_som.id)
        for _ in range(20):
            factory.recommendation(meeting.id, states=("Kenya", "Italy", "Egypt", "Sudan"))
        many, many_entries = snapshot_at(many_som.id)
        assert (few_entries, many_entries) == (2, 2 + 20 * 4)
        inserts = [s for s in many.statements if s.startswith("INSERT INTO snapshot_entries")]
        assert len(inserts) == 1 and "SELECT" in inserts[0]
        assert many.count == few.count


# The dashboard --------------------------------------------------------------------------


@pytest.fixture
def term(app, factory):
    """South Sudan's term from 2024, with one work-plan item of each status, follow-ups
    of Kenya and Italy, and an overdue one."""
    chair = factory.chairmanship("South Sudan", date(2024, 1, 1))
    plan = factory.work_plan(chair.id, "Work Plan 2024/25")
    on_time = factory.activity(
        title="Training in Juba", start=date(2024, 5, 10), status=Status.HELD
    )
    late = factory.activity(title="Meeting in Cairo", start=date(2024, 6, 20), status=Status.HELD)
    coming = factory.activity(title="Workshop in Nairobi", start=date(2035, 2, 1))
    items = {
        "held on time": factory.work_plan_item(
            plan.id, "Border management", target=date(2024, 4, 1), activity_ids=(on_time.id,)
        ),
        "held late": factory.work_plan_item(
            plan.id, "Law enforcement", target=date(2024, 1, 1), activity_ids=(late.id,)
        ),
        "scheduled": factory.work_plan_item(
            plan.id, "Legal pathways", target=date(2035, 1, 1), activity_ids=(coming.id,)
        ),
        "not scheduled": factory.work_plan_item(plan.id, "Climate", target=date(2035, 4, 1)),
        "late": factory.work_plan_item(plan.id, "Data", target=date(2024, 7, 1)),
        "dropped": factory.work_plan_item(
            plan.id, "Return", target=date(2024, 10, 1), dropped_reason="No host."
        ),
    }
    before = factory.activity(title="Before the term", start=date(2023, 6, 1), status=Status.HELD)
    met = factory.recommendation(
        late.id, states=("Kenya", "Italy"), target=FUTURE, themes=("RD3", "JVAP4")
    )
    overdue = factory.recommendation(
        on_time.id, states=("Kenya",), target=date(2024, 9, 30), themes=("RD5",)
    )
    factory.update(factory.follow_up_of(met, "Kenya").id, FollowUpStatus.IMPLEMENTED)
    return {
        "chair": chair,
        "items": items,
        "met": met,
        "overdue": overdue,
        "coming": coming,
        "before": before,
        "activities": (on_time, late, coming),
    }


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


class TestDashboard:
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
        assert "<title>Kenya: 50 % (1 of 2)</title>" in text
        assert "<title>Italy: 0 % (0 of 1)</title>" in text
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
        taken = _som(factory, date(2024, 3, 20), "SOM with its snapshot")
        _som(factory, date(2025, 3, 20), "SOM without a snapshot")
        _som(factory, date(2023, 3, 20), "SOM before the term")
        login_as(people["secretariat"])
        snapshot_id = _snapshot_via_http(client, taken.id)
        section = client.get(f"/chair/{term['chair'].id}/review").text.split('id="snapshots"')[1]
        assert f'href="/chair/snapshots/{snapshot_id}">SOM with its snapshot</a>' in section
        assert "Without a snapshot: <a" in section and "SOM without a snapshot</a>" in section
        assert "SOM before the term" not in section

    def test_a_focal_point_counts_their_own_state_only(self, client, people, login_as, term):
        login_as(people["fp_b"])  # Italy
        text = client.get(f"/chair/{term['chair'].id}/review").text
        assert "Italy: 0 % (0 of 1)" in text and "Kenya:" not in text
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


# The handover pack ------------------------------------------------------------------------


class TestHandover:
    def test_the_pack_for_the_incoming_chair(self, client, people, login_as, factory, term):
        factory.chairmanship("Germany", None)
        login_as(people["chair"])
        page = client.get(f"/chair/{term['chair'].id}/handover")
        assert page.status_code == 200
        assert "to the incoming" in page.text and "Chairmanship of Germany" in page.text
        assert "Workshop in Nairobi" in page.text

        download = client.get(f"/chair/{term['chair'].id}/handover.xlsx")
        assert download.status_code == 200
        assert "handover-south-sudan-2024" in download.headers["Content-Disposition"]
        book = load_workbook(io.BytesIO(download.data), read_only=True)
        assert book.sheetnames == [
            "Open recommendations",
            "Overdue follow-ups",
            "Upcoming activities",
            "Items not delivered",
        ]
        open_rows = list(book["Open recommendations"].values)
        header = open_rows[0]
        assert header[:6] == (
            "Code",
            "Activity",
            "Activity date",
            "Wording",
            "Target date",
            "Addressees",
        )
        by_code = {row[0]: dict(zip(header, row, strict=True)) for row in open_rows[1:]}
        assert set(by_code) == {term["met"].code, term["overdue"].code}
        met = by_code[term["met"].code]
        assert (met["Addressees"], met["Implemented"], met["Not started"]) == (2, 1, 1)
        assert by_code[term["overdue"].code]["Overdue"] == 1
        overdue = list(book["Overdue follow-ups"].values)[1:]
        assert [(r[1], r[3]) for r in overdue] == [(term["overdue"].code, "Kenya")]
        upcoming = [r[3] for r in list(book["Upcoming activities"].values)[1:]]
        assert upcoming == ["Workshop in Nairobi"]
        items = [r[3] for r in list(book["Items not delivered"].values)[1:]]
        assert sorted(items) == ["Climate", "Data", "Legal pathways"]

    def test_a_fully_implemented_recommendation_is_not_open(
        self, app, client, people, login_as, factory, term
    ):
        factory.update(factory.follow_up_of(term["met"], "Italy").id, FollowUpStatus.IMPLEMENTED)
        login_as(people["observer"])
        text = client.get(f"/chair/{term['chair'].id}/handover").text
        assert term["overdue"].code in text and term["met"].code not in text

    def test_the_page_shows_the_first_rows_and_the_download_all(
        self, client, people, login_as, term, monkeypatch
    ):
        monkeypatch.setattr(queries, "PAGE_ROWS", 1)
        login_as(people["observer"])
        text = client.get(f"/chair/{term['chair'].id}/handover").text
        assert "The first 1 of 2: the downloaded handover pack lists them all." in text
        open_section = text.split('id="open"', 1)[1].split("</section>", 1)[0]
        assert open_section.count('<tr><td><a href="/recommendations/') == 1
        assert "2 open recommendations" in text and "1 overdue follow-ups" in text

    def test_a_focal_point_gets_their_own_state_only(self, client, people, login_as, term):
        login_as(people["fp_b"])  # Italy: one open follow-up, nothing overdue
        download = client.get(f"/chair/{term['chair'].id}/handover.xlsx")
        book = load_workbook(io.BytesIO(download.data), read_only=True)
        open_rows = list(book["Open recommendations"].values)
        assert [(r[0], r[5]) for r in open_rows[1:]] == [(term["met"].code, 1)]
        assert list(book["Overdue follow-ups"].values)[1:] == []


# Query counts ---------------------------------------------------------------------------


def test_review_pages_query_counts_do_not_grow_with_data(
    app, client, people, login_as, factory, count_queries, term
):
    chair_id = term["chair"].id
    plan_id = term["items"]["late"].work_plan_id

    def snapshots(first: date, second: date) -> int:
        """Two snapshots with one change between them; the page of the second."""
        login_as(people["secretariat"])
        _snapshot_via_http(client, _som(factory, first).id)
        factory.update(factory.follow_up_of(term["met"], "Italy").id)
        return _snapshot_via_http(client, _som(factory, second).id)

    def measure(snapshot_id: int) -> dict[str, int]:
        pages = (
            f"/chair/{chair_id}/review",
            f"/chair/{chair_id}/review.xlsx",
            f"/chair/{chair_id}/review/overdue.csv",
            f"/chair/{chair_id}/handover",
            f"/chair/{chair_id}/handover.xlsx",
            f"/chair/snapshots/{snapshot_id}",
        )
        counts = {}
        for role in ("secretariat", "fp_a"):
            login_as(people[role])
            for page in pages:
                client.get(page)  # the first request of a session loads more
            with count_queries() as counter:
                for page in pages:
                    assert client.get(page).status_code == 200, page
            counts[role] = counter.count
        return counts

    few = measure(snapshots(date(2024, 3, 1), date(2024, 11, 14)))
    for n in range(18):
        held = factory.activity(
            kind=ActivityKind.TRAINING,
            start=date(2024 + n // 12, 1 + n % 12, 3),
            status=Status.HELD,
        )
        factory.work_plan_item(plan_id, target=date(2024, 1, 1), activity_ids=(held.id,))
        recommendation = factory.recommendation(
            held.id, states=("Kenya", "Italy", "Sudan"), target=date(2024, 3, 1)
        )
        factory.update(factory.follow_up_of(recommendation, "Kenya").id)
    factory.activity(start=FUTURE)
    many = measure(snapshots(date(2025, 3, 1), date(2025, 11, 14)))
    assert many == few
