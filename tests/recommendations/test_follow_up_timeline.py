"""A follow-up's page shows its latest updates and links to the earlier ones, a page at a
time: its queries do not grow with the follow-up's history."""

from __future__ import annotations

import re

from kpplan.recommendations.follow_up_queries import TIMELINE_LENGTH
from tests.factories.directory import STATE_A


def _narratives(page: str) -> list[str]:
    return re.findall(r'<p class="prose">Update (\d+)\.</p>', page)


def _history(app, factory, n: int) -> int:
    from kpplan.core.extensions import db
    from kpplan.recommendations.follow_up_models import StatusUpdate

    activity = factory.activity()
    follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
    for _ in range(n):
        factory.update(follow_up.id)
    with app.app_context():
        updates = (
            db.session.query(StatusUpdate)
            .filter_by(follow_up_id=follow_up.id)
            .order_by(StatusUpdate.id)
            .all()
        )
        for number, update in enumerate(updates, start=1):
            update.narrative = f"Update {number}."
        db.session.commit()
    return follow_up.id


def test_the_page_shows_the_latest_updates_and_links_to_the_earlier(
    app, client, factory, people, login_as
):
    follow_up_id = _history(app, factory, TIMELINE_LENGTH + 5)
    login_as(people["fp_a"])
    page = client.get(f"/follow-ups/{follow_up_id}").text
    total = TIMELINE_LENGTH + 5
    assert _narratives(page) == [str(n) for n in range(total, 5, -1)]
    assert "Latest updates" not in page
    earlier = re.search(r'href="([^"]+before=\d+)#timeline">Earlier updates', page)
    assert earlier
    older = client.get(earlier.group(1).replace("&amp;", "&")).text
    assert _narratives(older) == ["5", "4", "3", "2", "1"]
    assert "Earlier updates" not in older and "Latest updates" in older


def test_the_page_reads_as_many_queries_however_long_the_history(
    app, client, factory, people, login_as, count_queries
):
    login_as(people["fp_a"])
    short = _history(app, factory, 2)
    long = _history(app, factory, 3 * TIMELINE_LENGTH)
    client.get(f"/follow-ups/{short}")
    with count_queries() as few:
        assert client.get(f"/follow-ups/{short}").status_code == 200
    with count_queries() as many:
        assert client.get(f"/follow-ups/{long}").status_code == 200
    assert many.count == few.count <= 12
    assert client.get(f"/follow-ups/{long}?before=x").status_code == 200
