"""The reports run as many queries whatever the data."""

from __future__ import annotations

from datetime import date, timedelta

from kpplan.meetings.kinds import ActivityKind as K
from kpplan.meetings.models import Status


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
