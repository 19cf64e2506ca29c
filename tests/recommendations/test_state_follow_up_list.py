"""A state's follow-ups, most urgent first, read on the index page by page: the order is
exactly ``FollowUp.urgency``'s, pages neither repeat nor skip a row either way, the counts
come from the figures kept on write, and the queries do not grow with the follow-ups."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.models import Status
from kpplan.recommendations import day_figures, deadlines, state_follow_up_list
from kpplan.recommendations.deadlines import URGENCIES
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import OPEN_STATUSES, FollowUpStatus
from tests.factories.directory import STATE_A
from tests.recommendations.helpers import process_today


def _world(app, factory, n: int, seed: int = 7) -> int:
    """``n`` recommendations to Kenya (and Italy), their follow-ups spread over every
    urgency level, review dates known or not, closed ones, moves awaiting validation and a
    withdrawn recommendation. Returns Kenya's id."""
    today = process_today(app)
    rng = random.Random(seed)
    activity = factory.activity(status=Status.HELD)
    recommendations = [factory.recommendation(activity.id) for _ in range(n)]
    with app.app_context():
        for recommendation in recommendations:
            for follow_up in db.session.get(Recommendation, recommendation.id).follow_ups:
                follow_up.status = rng.choice(list(FollowUpStatus))
                follow_up.next_review_date = rng.choice(
                    [
                        None,
                        today - timedelta(days=rng.randrange(1, 40)),
                        today,
                        today + timedelta(days=rng.randrange(1, 30)),
                        today + timedelta(days=rng.randrange(31, 400)),
                        # Ties on the review date, broken by the recommendation.
                        today + timedelta(days=60),
                    ]
                )
                follow_up.created_at = datetime.now(UTC) - timedelta(days=rng.choice([5, 300]))
                if rng.random() < 0.5:
                    follow_up.last_update_at = datetime.now(UTC) - timedelta(
                        days=rng.choice([2, 200])
                    )
        db.session.get(Recommendation, recommendations[0].id).withdrawn_at = datetime.now(UTC)
        db.session.commit()
        kenya = db.session.scalar(sa.select(State.id).where(State.name == STATE_A))
        pending = db.session.scalars(
            sa.select(FollowUp.id).where(FollowUp.state_id == kenya).order_by(FollowUp.id)
        ).all()
    for follow_up_id in rng.sample(pending, max(2, n // 6)):
        factory.update(follow_up_id, FollowUpStatus.IMPLEMENTED, pending=True)
    return kenya


def _expected(app, state_id: int, only: str | None = None) -> list[int]:
    """The list as ``FollowUp.urgency`` orders it, worked out in Python."""
    with app.test_request_context():
        today, limits = process_today(app), deadlines.current()
        rows = db.session.scalars(
            sa.select(FollowUp)
            .join(Recommendation)
            .where(FollowUp.state_id == state_id, Recommendation.withdrawn_at.is_(None))
        ).all()
        listed = [f for f in rows if f.status in OPEN_STATUSES or f.pending_update_id is not None]
        if only is not None:
            listed = [f for f in listed if f.urgency(today, limits) == URGENCIES.index(only)]
        listed.sort(
            key=lambda f: (
                f.urgency(today, limits),
                f.next_review_date is None,
                f.next_review_date or today,
                f.recommendation_id,
            )
        )
        return [f.id for f in listed]


def _walk(app, state_id: int, per_page: int, only: str | None = None):
    """Every page forwards, then every page backwards from the last; the ids of each."""
    with app.test_request_context():
        today = process_today(app)
        forwards, cursor, pages = [], None, []
        while True:
            listing = state_follow_up_list.state_follow_ups(state_id, today, cursor, per_page, only)
            page = listing.page
            assert len(page.items) <= per_page
            forwards.extend(f.id for f in page.items)
            pages.append(page)
            if not page.has_next:
                break
            cursor = page.next_cursor
        backwards, page = [], pages[-1]
        backwards[:0] = [f.id for f in page.items]
        while page.has_prev:
            page = state_follow_up_list.state_follow_ups(
                state_id, today, page.prev_cursor, per_page, only
            ).page
            backwards[:0] = [f.id for f in page.items]
        return forwards, backwards, listing.counts


@pytest.mark.parametrize("only", [None, *URGENCIES])
def test_the_pages_follow_the_urgency_exactly_both_ways(app, factory, only):
    kenya = _world(app, factory, 40)
    expected = _expected(app, kenya, only)
    assert expected, "the world left this level empty"
    forwards, backwards, _ = _walk(app, kenya, per_page=3, only=only)
    assert forwards == expected
    assert backwards == expected


def test_the_counts_come_from_the_kept_figures_and_match_a_live_count(app, factory):
    kenya = _world(app, factory, 30)
    with app.test_request_context():
        today, limits = process_today(app), deadlines.current()
        live = state_follow_up_list._urgency_counts(kenya, today, limits)
        assert day_figures.day_figures(db.session.connection(), kenya, today, limits) is None
        day_figures.count_the_day(db.session.connection(), today, limits)
        db.session.commit()
        assert day_figures.day_figures(db.session.connection(), kenya, today, limits)
        kept = state_follow_up_list._urgency_counts(kenya, today, limits)
    assert kept == live
    assert live == {only: len(_expected(app, kenya, only)) for only in URGENCIES}
    assert sum(live.values()) == len(_expected(app, kenya))


def test_a_cursor_that_is_not_one_reads_the_first_page(app, client, factory, people, login_as):
    _world(app, factory, 12)
    login_as(people["fp_a"])
    first = client.get("/follow-ups/").text
    for junk in (
        "x",
        "eyJhIjoxfQ",
        "WyJhIiw5LG51bGwsMV0",
        "W10",
        "WyJiIiwwLCIyMDI2LTEzLTQwIiwxXQ",
        "a" * 3000,
    ):
        page = client.get(f"/follow-ups/?cursor={junk}")
        assert page.status_code == 200
        assert re.findall(r"/follow-ups/(\d+)#update", page.text) == re.findall(
            r"/follow-ups/(\d+)#update", first
        )


def test_the_next_page_link_carries_the_cursor(app, client, factory, people, login_as):
    _world(app, factory, 20)
    app.config["PAGE_SIZE"] = 5
    login_as(people["fp_a"])
    first = client.get("/follow-ups/").text
    found = re.search(r'href="(/follow-ups/\?cursor=[^"]+)" rel="next"', first)
    assert found, "no next page"
    second = client.get(found.group(1).replace("&amp;", "&")).text
    ids = re.findall(r"/follow-ups/(\d+)#update", first)
    assert not set(ids) & set(re.findall(r"/follow-ups/(\d+)#update", second))
    assert 'rel="prev"' in second


def test_the_list_reads_as_many_queries_however_many_follow_ups(
    app, client, factory, people, login_as, count_queries
):
    login_as(people["fp_a"])
    _world(app, factory, 8, seed=1)
    client.get("/follow-ups/")
    with count_queries() as few:
        assert client.get("/follow-ups/").status_code == 200
    _world(app, factory, 90, seed=2)
    client.get("/follow-ups/")
    with count_queries() as many:
        page = client.get("/follow-ups/?only=overdue")
        assert page.status_code == 200
    assert many.count == few.count <= 12
