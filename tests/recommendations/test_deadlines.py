""" "Overdue", "due soon" and "not updated": one definition each, the same in Python and in
SQL, with the days the administrator gives the reminders, on the pages as in the rules."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from kpplan.core.clock import today as process_today
from kpplan.core.extensions import db
from kpplan.recommendations.deadlines import URGENCIES, Deadlines, start_of
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.reminders.rules import RULES
from tests.conftest import STATE_A

TODAY = date(2026, 6, 15)
LIMITS = Deadlines(due_soon_days=10, stale_days=20)


def test_each_definition_gives_the_same_answer_in_python_and_in_sql(app, factory):
    """A grid of follow-ups around every edge: each hybrid, asked of the loaded follow-up
    and in a query, answers alike."""
    recommendation = factory.recommendation(factory.activity().id, states=())
    stale_from = start_of(TODAY) - timedelta(days=LIMITS.stale_days)
    reviews = [None] + [TODAY + timedelta(days=d) for d in (-1, 0, 1, 10, 11)]
    second = timedelta(seconds=1)
    updates = [None, stale_from - second, stale_from, stale_from + second]
    with app.app_context():
        for status, review, last in itertools.product(FollowUpStatus, reviews, updates):
            db.session.add(
                FollowUp(
                    recommendation_id=recommendation.id,
                    for_secretariat=True,
                    status=status,
                    next_review_date=review,
                    last_update_at=last,
                    # Never updated: the recording counts, on either side of the edge.
                    created_at=stale_from - (second if review is None else -second),
                )
            )
        db.session.commit()

        questions = {
            "overdue": (lambda f: f.is_overdue(TODAY), FollowUp.is_overdue(TODAY)),
            "due soon": (
                lambda f: f.is_due_soon(TODAY, LIMITS.due_soon_days),
                FollowUp.is_due_soon(TODAY, LIMITS.due_soon_days),
            ),
            "not updated": (
                lambda f: f.is_stale(start_of(TODAY), LIMITS.stale_days),
                FollowUp.is_stale(start_of(TODAY), LIMITS.stale_days),
            ),
        }
        follow_ups = db.session.scalars(sa.select(FollowUp).order_by(FollowUp.id)).all()
        assert len(follow_ups) == len(FollowUpStatus) * 6 * 4
        for name, (in_python, in_sql) in questions.items():
            found = set(db.session.scalars(sa.select(FollowUp.id).where(in_sql)))
            assert {f.id for f in follow_ups if in_python(f)} == found, name
            assert found and len(found) < len(follow_ups), name  # the grid has both sides

        levels = dict(
            db.session.execute(sa.select(FollowUp.id, FollowUp.urgency(TODAY, LIMITS))).all()
        )
        assert {f.id: f.urgency(TODAY, LIMITS) for f in follow_ups} == levels
        assert set(levels.values()) == set(range(len(URGENCIES)))


def _settings_form(**days: int) -> dict:
    """The reminder settings page as an administrator submits it: every rule on, with its
    default days unless given."""
    data = {"timezone_field": "Europe/Brussels"}
    for key, rule in RULES.items():
        data[f"{key}_enabled"] = "y"
        if rule.days_label:
            data[f"{key}_days"] = str(days.get(key, rule.default_days))
    return data


def test_the_pages_count_due_soon_and_not_updated_with_the_days_of_the_reminders(
    app, client, people, login_as, factory
):
    with app.test_request_context():
        today = process_today()
    activity = factory.activity()
    factory.recommendation(activity.id, states=(STATE_A,), target=today + timedelta(days=20))
    factory.recommendation(activity.id, states=(STATE_A,), target=today + timedelta(days=40))
    quiet = factory.recommendation(activity.id, states=(STATE_A,), target=None)
    with app.app_context():
        follow_up = db.session.get(FollowUp, quiet.follow_ups[0].id)
        follow_up.created_at = datetime.now(UTC) - timedelta(days=30)
        db.session.commit()

    login_as(people["fp_a"])
    home = client.get("/").text
    assert re.search(r'<p class="figure">1</p>\s*<p>due within 30 days', home)
    assert re.search(r'<p class="figure">0</p>\s*<p>not updated for 90 days', home)
    listing = client.get("/follow-ups/").text
    assert "Due within 30 days (1)" in listing and "Not updated for 90 days (0)" in listing

    login_as(people["admin"])
    form = _settings_form(follow_up_due=45, follow_up_stale=14)
    assert client.post("/reminders/settings", data=form).status_code == 302

    login_as(people["fp_a"])
    home = client.get("/").text
    assert re.search(r'<p class="figure">2</p>\s*<p>due within 45 days', home)
    assert re.search(r'<p class="figure">1</p>\s*<p>not updated for 14 days', home)
    listing = client.get("/follow-ups/").text
    assert "Due within 45 days (2)" in listing and "Not updated for 14 days (1)" in listing
    assert "Open (0)" in listing
    only = client.get("/follow-ups/?only=stale").text
    assert quiet.code in only and '<td data-label="Urgency">Not updated for 14 days</td>' in only


def test_a_follow_up_awaiting_validation_waits_for_the_secretariat_not_its_addressee(
    app, client, people, login_as, factory
):
    """While an implementation it reported awaits validation, a follow-up is not overdue
    (nor due soon, nor not updated) whatever its status: its addressee cannot post another
    update until the secretariat decides, and no reminder asks them to. The home page, the
    list, its counts and the Chair's review say the same; the list shows it with the open
    ones, and it counts again once the update is returned."""
    with app.test_request_context():
        today = process_today()
    activity = factory.activity()
    waiting = factory.recommendation(activity.id, states=(STATE_A,), target=today)
    closed = factory.recommendation(activity.id, states=(STATE_A,), target=today)
    with app.app_context():
        for recommendation in (waiting, closed):
            follow_up = db.session.get(FollowUp, recommendation.follow_ups[0].id)
            follow_up.next_review_date = today - timedelta(days=3)
        db.session.commit()
    factory.update(closed.follow_ups[0].id, FollowUpStatus.NOT_APPLICABLE)
    updates = [
        factory.update(recommendation.follow_ups[0].id, FollowUpStatus.IMPLEMENTED, pending=True)
        for recommendation in (waiting, closed)
    ]

    login_as(people["fp_a"])
    assert re.search(r'<p class="figure">0</p>\s*<p>follow-ups overdue', client.get("/").text)
    listing = client.get("/follow-ups/").text
    assert "Overdue (0)" in listing and "Open (2)" in listing
    assert waiting.code in listing and closed.code in listing
    assert waiting.code not in client.get("/follow-ups/?only=overdue").text

    login_as(people["secretariat"])
    assert re.search(r'<p class="figure">0</p>\s*<p>follow-ups overdue', client.get("/").text)
    # Returned to the state, it waits for its addressee again: overdue.
    returned = client.post(
        f"/follow-ups/updates/{updates[0].id}/validate",
        data={"decision": "return", "comment": "Please add the decree."},
    )
    assert returned.status_code == 302

    login_as(people["fp_a"])
    assert re.search(r'<p class="figure">1</p>\s*<p>follow-ups overdue', client.get("/").text)
    assert waiting.code in client.get("/follow-ups/?only=overdue").text
