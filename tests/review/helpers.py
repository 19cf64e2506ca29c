"""What the tests of the review share: Senior Officials' Meetings and their snapshots,
taken through HTTP, and the flash messages of a page."""

from __future__ import annotations

import re
from datetime import date

from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Status

# Far enough in the future that the real clock (the views' today) agrees.
FUTURE = date(2035, 1, 1)


def flash_messages(page: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', page, re.S)


def add_som(factory, start: date, title: str | None = None, status=Status.HELD):
    return factory.activity(
        title=title or f"Senior Officials' Meeting {start.year}",
        kind=ActivityKind.SENIOR_OFFICIALS,
        start=start,
        days=1,
        status=status,
    )


def snapshot_via_http(client, activity_id: int) -> int:
    response = client.post(f"/activities/{activity_id}/snapshot")
    assert response.status_code == 302, flash_messages(client.get(response.location).text)
    found = re.fullmatch(r"/chair/snapshots/(\d+)", response.location)
    assert found, response.location
    return int(found.group(1))
