"""The review's pages run as many queries whatever the data."""

from __future__ import annotations

from datetime import date

from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Status
from tests.review.helpers import FUTURE, add_som, snapshot_via_http


def test_review_pages_query_counts_do_not_grow_with_data(
    app, client, people, login_as, factory, count_queries, term
):
    chair_id = term["chair"].id
    plan_id = term["items"]["late"].work_plan_id

    def snapshots(first: date, second: date) -> int:
        """Two snapshots with one change between them; the page of the second."""
        login_as(people["secretariat"])
        snapshot_via_http(client, add_som(factory, first).id)
        factory.update(factory.follow_up_of(term["met"], "Italy").id)
        return snapshot_via_http(client, add_som(factory, second).id)

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
