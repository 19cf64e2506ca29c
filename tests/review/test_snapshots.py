"""Review snapshots taken at Senior Officials' Meetings: what changed, state by state."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity, Status
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.review import snapshots
from kpplan.review.models import (
    ReviewSnapshot,
    SnapshotChange,
    SnapshotDifference,
    SnapshotEntry,
)
from kpplan.review.services import take_snapshot
from tests.review.helpers import FUTURE, add_som, flash_messages, snapshot_via_http


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
        som_1 = add_som(factory, date(2024, 11, 14))
        som_2 = add_som(factory, date(2025, 11, 14))
        login_as(people["secretariat"])
        first_id = snapshot_via_http(client, som_1.id)

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
        second_id = snapshot_via_http(client, som_2.id)

        with app.app_context():
            snapshot = snapshots.snapshot_page(second_id)
            previous = snapshots.previous_snapshot(snapshot)
            assert previous.id == first_id
            rows = snapshots.differences(snapshot, previous, Scope())
            got = {
                r.name: (r.follow_ups, r.to_implemented, r.other_changes, r.new, r.gone)
                for r in rows
            }
            changes = snapshots.changes(snapshot, previous, Scope())
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
        som = add_som(factory, date(2024, 11, 14))
        login_as(people["admin"])
        snapshot_id = snapshot_via_http(client, som.id)
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
        future = add_som(factory, FUTURE, status=Status.PLANNED)
        cancelled = add_som(factory, date(2024, 3, 1), status=Status.CANCELLED)
        som = add_som(factory, date(2024, 11, 14))
        login_as(people["secretariat"])
        expected = {
            thematic.id: "Senior Officials&#39; Meetings only",
            future.id: "take its snapshot from the first day",
            cancelled.id: "was cancelled",
        }
        for activity_id, message in expected.items():
            response = client.post(f"/activities/{activity_id}/snapshot", follow_redirects=True)
            assert response.status_code == 200
            assert any(message in f for f in flash_messages(response.text)), flash_messages(
                response.text
            )
        snapshot_via_http(client, som.id)
        again = client.post(f"/activities/{som.id}/snapshot", follow_redirects=True)
        assert any("already taken" in f for f in flash_messages(again.text))
        assert client.post("/activities/999999/snapshot").status_code == 404
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ReviewSnapshot)) == 1

    def test_the_activity_page_offers_and_then_links_the_snapshot(
        self, client, people, login_as, factory
    ):
        som = add_som(factory, date(2024, 11, 14))
        thematic = factory.activity(start=date(2024, 6, 1))
        login_as(people["secretariat"])
        assert "Take the review snapshot" in client.get(f"/activities/{som.id}").text
        assert "Review snapshot" not in client.get(f"/activities/{thematic.id}").text
        login_as(people["chair"])
        assert "Take the review snapshot" not in client.get(f"/activities/{som.id}").text
        login_as(people["secretariat"])
        snapshot_id = snapshot_via_http(client, som.id)
        page = client.get(f"/activities/{som.id}").text
        assert f"/chair/snapshots/{snapshot_id}" in page
        assert "Take the review snapshot" not in page

    def test_a_focal_point_sees_only_their_own_state(self, app, client, people, login_as, factory):
        meeting = factory.activity(start=date(2024, 6, 1), status=Status.HELD)
        recommendation = factory.recommendation(meeting.id, states=("Kenya", "Italy"))
        som_1, som_2 = add_som(factory, date(2024, 11, 14)), add_som(factory, date(2025, 11, 14))
        login_as(people["secretariat"])
        snapshot_via_http(client, som_1.id)
        factory.update(factory.follow_up_of(recommendation, "Kenya").id)
        factory.update(factory.follow_up_of(recommendation, "Italy").id)
        second_id = snapshot_via_http(client, som_2.id)

        login_as(people["fp_a"])  # Kenya
        page = client.get(f"/chair/snapshots/{second_id}?state=999").text
        assert list(_rows(page)) == ["Kenya"]
        assert page.count('class="change-') == 1 and ">Italy<" not in page

    def test_the_snapshot_is_one_insert_whatever_the_number_of_follow_ups(
        self, app, factory, people, count_queries
    ):
        meeting = factory.activity(start=date(2024, 6, 1), status=Status.HELD)
        factory.recommendation(meeting.id)
        few_som, many_som = (
            add_som(factory, date(2024, 11, 14)),
            add_som(factory, date(2025, 11, 14)),
        )

        def snapshot_at(activity_id: int):
            """Take the snapshot; the statements it ran and the follow-ups it froze."""
            with app.app_context():
                activity = db.session.get(Activity, activity_id)
                with count_queries() as counter:
                    taken = take_snapshot(None, activity, date(2026, 1, 1))
                    db.session.commit()
                return counter, taken.entry_count

        # Both compared with a snapshot before them: the comparison is counted in SQL too.
        snapshot_at(add_som(factory, date(2024, 7, 14)).id)
        few, few_entries = snapshot_at(few_som.id)
        for _ in range(20):
            factory.recommendation(meeting.id, states=("Kenya", "Italy", "Egypt", "Sudan"))
        many, many_entries = snapshot_at(many_som.id)
        assert (few_entries, many_entries) == (2, 2 + 20 * 4)
        inserts = [s for s in many.statements if s.startswith("INSERT INTO snapshot_entries")]
        assert len(inserts) == 1 and "SELECT" in inserts[0]
        assert many.count == few.count


class TestKeptComparisons:
    """What changed between snapshots is counted once, when a snapshot is taken."""

    def test_kept_when_taken_and_counted_again_for_a_meeting_in_between(
        self, app, client, people, login_as, factory, runner
    ):
        meeting = factory.activity(start=date(2024, 6, 1), status=Status.HELD)
        first = factory.recommendation(meeting.id, states=("Kenya", "Italy"))
        som_1, som_2, som_3 = (
            add_som(factory, date(2024, 11, 14)),
            add_som(factory, date(2025, 5, 14)),
            add_som(factory, date(2025, 11, 14)),
        )
        login_as(people["secretariat"])
        first_id = snapshot_via_http(client, som_1.id)
        factory.update(factory.follow_up_of(first, "Kenya").id, FollowUpStatus.IMPLEMENTED)
        later = factory.recommendation(meeting.id, states=("Egypt",))
        third_id = snapshot_via_http(client, som_3.id)
        with app.app_context():
            kept = db.session.execute(
                select(SnapshotDifference.state_id, SnapshotDifference.previous_id).where(
                    SnapshotDifference.snapshot_id == third_id
                )
            ).all()
            assert {previous for _, previous in kept} == {first_id}
            assert (
                db.session.scalar(
                    select(func.count()).where(SnapshotChange.snapshot_id == third_id)
                )
                == 2
            )  # Kenya implemented, Egypt new
        factory.update(factory.follow_up_of(later, "Egypt").id, FollowUpStatus.IN_PROGRESS)
        # A snapshot at the meeting in between: the third is compared with it from now on.
        second_id = snapshot_via_http(client, som_2.id)
        with app.app_context():
            third = snapshots.snapshot_page(third_id)
            previous = snapshots.previous_snapshot(third)
            assert previous.id == second_id
            assert {
                p
                for (p,) in db.session.execute(
                    select(SnapshotDifference.previous_id).where(
                        SnapshotDifference.snapshot_id == third_id
                    )
                )
            } == {second_id}
            kept_rows = snapshots.differences(third, previous, Scope())
            counted_rows = snapshots.count_differences(third, previous, Scope())
            assert kept_rows == counted_rows
            changes = snapshots.changes(third, previous, Scope())
            assert changes == snapshots.count_changes(third, previous, Scope())
            # Taken later, the second froze Egypt in progress; the third had it not started.
            assert [(c.addressee, c.kind) for c in changes] == [("Egypt", "changed")]
            # As after an upgrade: nothing kept; the page counts it, recount keeps it.
            db.session.execute(sa_delete(SnapshotDifference))
            db.session.commit()
        page = client.get(f"/chair/snapshots/{second_id}")
        assert page.status_code == 200
        assert _rows(page.text) == {
            "Egypt": ["1", "0", "0", "0", "0", "1", "0"],
            "Italy": ["1", "0", "0", "0", "0", "0", "0"],
            "Kenya": ["1", "1", "0", "1", "0", "0", "0"],
        }
        result = runner.invoke(args=["kpplan", "recount"])
        assert result.exit_code == 0, result.output
        assert "for 3 of them" in result.output
