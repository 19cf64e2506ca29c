"""The follow-ups page of the secretariat, the Chair and observers: every member state at
a glance (open, overdue, awaiting validation, last update), in three queries whatever
the data; focal points still land on their own state's list."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.recommendations import at_a_glance
from kpplan.recommendations.statuses import FollowUpStatus
from tests.conftest import STATE_A, STATE_B
from tests.recommendations.helpers import process_today


def _row(page: str, state: str) -> list[str]:
    """The cells of ``state``'s row, as text."""
    row = re.search(
        rf"<tr[^>]*>\s*<th scope=\"row\"[^>]*><a [^>]*>{state}</a></th>(.*?)</tr>", page, re.S
    )
    assert row, f"no row for {state}"
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    ]


def _world(factory, today: date):
    """Kenya: two open (one overdue), one awaiting validation, one implemented, one of a
    withdrawn recommendation; Italy: one open, never updated."""
    activity = factory.activity()
    overdue = factory.recommendation(
        activity.id, states=(STATE_A, STATE_B), target=today - timedelta(1)
    )
    later = factory.recommendation(activity.id, states=(STATE_A,), target=today + timedelta(90))
    waiting = factory.recommendation(activity.id, states=(STATE_A,), target=today + timedelta(90))
    done = factory.recommendation(activity.id, states=(STATE_A,), target=today + timedelta(90))
    factory.update(factory.follow_up_of(later, STATE_A).id, FollowUpStatus.IN_PROGRESS)
    factory.update(
        factory.follow_up_of(waiting, STATE_A).id, FollowUpStatus.IMPLEMENTED, pending=True
    )
    last = factory.follow_up_of(done, STATE_A)
    factory.update(last.id, FollowUpStatus.IMPLEMENTED)
    return overdue, last


def test_every_state_at_a_glance(app, client, people, login_as, factory):
    today = process_today(app)
    _overdue, last = _world(factory, today)
    for role in ("secretariat", "chair", "observer"):
        login_as(people[role])
        page = html.unescape(client.get("/follow-ups/").text)
        assert "Choose a state" not in page
        assert _row(page, STATE_A)[:3] == ["3", "1", "1"]  # open, overdue, awaiting
        assert f'<a href="/follow-ups/{last.id}">' in page  # the last update, linked
        assert _row(page, STATE_B) == ["1", "1", "0", "Never"]
        with app.app_context():
            members = db.session.scalar(sa.select(sa.func.count()).where(State.is_member.is_(True)))
        assert page.count('<th scope="row" class="card-head">') == members
        kenya = client.get(re.search(rf'href="(/follow-ups/\?state=\d+)">{STATE_A}<', page)[1]).text
        assert f"Follow-ups of {STATE_A}" in kenya and "Every state at a glance" in kenya


def test_a_focal_point_lands_on_their_state(app, client, people, login_as, factory):
    _world(factory, process_today(app))
    login_as(people["fp_a"])
    page = html.unescape(client.get("/follow-ups/").text)
    assert f"My state's follow-ups: {STATE_A}" in page
    assert "Every state at a glance" not in page and "Awaiting validation</th>" not in page


def test_one_query_whatever_the_data(app, client, people, login_as, factory, count_queries):
    """The figures: one query (with the day figures' basis and the change counters),
    however many states and follow-ups; kept until the follow-ups change."""
    today = process_today(app)
    with app.app_context(), count_queries() as empty:
        at_a_glance.states_at_a_glance(today)
    assert empty.count == 3
    overdue, _last = _world(factory, today)
    login_as(people["secretariat"])

    def page_queries() -> int:
        with count_queries(header_kept=True) as counter:
            assert client.get("/follow-ups/").status_code == 200
        return counter.count

    page_queries()  # the header kept, and with the home page the figures of every addressee
    factory.update(factory.follow_up_of(overdue, STATE_B).id)  # which a write changes
    few = page_queries()
    activity = factory.activity()
    for n in range(6):
        recommendation = factory.recommendation(
            activity.id, states=("Egypt", "France", "Ethiopia"), target=today - timedelta(n)
        )
        factory.update(factory.follow_up_of(recommendation, "France").id)
    assert page_queries() == few
    app.extensions.pop("kpplan_memo", None)
    with app.app_context(), count_queries() as many:
        rows = at_a_glance.states_at_a_glance(today)
    assert many.count == 3
    with app.app_context(), count_queries() as kept:
        assert at_a_glance.states_at_a_glance(today) == rows
    assert kept.count == 1
    assert {r.name: r.open for r in rows}["France"] == 6


def test_the_overdue_come_from_the_day_figures_once_the_day_is_counted(app, factory):
    """Counted live before the day's figures are, read from them after: the same rows; a
    write later moves both."""
    from kpplan.recommendations import day_figures, deadlines

    today = process_today(app)
    overdue, _last = _world(factory, today)
    with app.app_context():
        live = at_a_glance._states_at_a_glance(today)
    with app.test_request_context():
        day_figures.count_the_day(db.session.connection(), today, deadlines.current())
        db.session.commit()
        # The kept figure is what the page shows: altered behind the hooks' back, it shows.
        figure = day_figures.FollowUpDayFigure.__table__
        assert at_a_glance._states_at_a_glance(today) == live
        kenya = db.session.scalar(sa.select(State.id).where(State.name == STATE_A))
        db.session.execute(
            figure.update()
            .where(figure.c.state_id == kenya, figure.c.kind == "overdue")
            .values(n=figure.c.n + 40)
        )
        rows = {r.name: r.overdue for r in at_a_glance._states_at_a_glance(today)}
        assert rows[STATE_A] == 41
        db.session.rollback()
    factory.update(factory.follow_up_of(overdue, STATE_B).id, FollowUpStatus.IMPLEMENTED)
    with app.app_context():
        rows = {r.name: r.overdue for r in at_a_glance._states_at_a_glance(today)}
    assert rows[STATE_A] == 1 and rows[STATE_B] == 0


def test_the_overdue_of_another_day_s_figures_are_moved_to_today(app, factory):
    """Figures counted for another day (the minutes after midnight, before the tick counts
    the new one) are read and moved to today by the follow-ups reviewed in between, not
    counted again: the same rows as a live count, days before or after."""
    from kpplan.recommendations import day_figures, deadlines

    today = process_today(app)
    overdue, _last = _world(factory, today)  # reviewed yesterday: overdue today only
    with app.app_context():
        live = at_a_glance._states_at_a_glance(today)
    assert {r.name: r.overdue for r in live}[STATE_B] == 1
    figure = day_figures.FollowUpDayFigure.__table__
    for day in (today - timedelta(days=3), today + timedelta(days=2)):
        with app.test_request_context():
            day_figures.count_the_day(db.session.connection(), day, deadlines.current())
            db.session.commit()
            assert at_a_glance._states_at_a_glance(today) == live
            # Read from the kept figure: altered behind the hooks' back, it shows.
            italy = db.session.scalar(sa.select(State.id).where(State.name == STATE_B))
            of_italy = (figure.c.state_id == italy, figure.c.kind == "overdue")
            kept = db.session.scalar(sa.select(figure.c.n).where(*of_italy)) or 0
            db.session.execute(figure.delete().where(*of_italy))
            db.session.execute(figure.insert().values(state_id=italy, kind="overdue", n=kept + 40))
            rows = {r.name: r.overdue for r in at_a_glance._states_at_a_glance(today)}
            assert rows[STATE_B] == 41
            db.session.rollback()
    # A write after the count moves the figure, and so the page.
    factory.update(factory.follow_up_of(overdue, STATE_B).id, FollowUpStatus.IMPLEMENTED)
    with app.app_context():
        rows = {r.name: r.overdue for r in at_a_glance._states_at_a_glance(today)}
    assert rows[STATE_B] == 0


def test_a_follow_up_awaiting_validation_is_not_moved_to_overdue(app, factory):
    """Moved to today from another day's figures, a follow-up reviewed in between whose
    implementation awaits validation stays out of the overdue, as in a live count: it waits
    for the secretariat."""
    from kpplan.recommendations import day_figures, deadlines

    today = process_today(app)
    activity = factory.activity()
    reviewed = factory.recommendation(
        activity.id, states=(STATE_A, STATE_B), target=today - timedelta(1)
    )
    factory.update(
        factory.follow_up_of(reviewed, STATE_A).id, FollowUpStatus.IMPLEMENTED, pending=True
    )
    with app.test_request_context():
        day_figures.count_the_day(
            db.session.connection(), today - timedelta(days=3), deadlines.current()
        )
        db.session.commit()
        moved = {r.name: r.overdue for r in at_a_glance._states_at_a_glance(today)}
    assert moved[STATE_A] == 0 and moved[STATE_B] == 1


def test_the_page_adds_up_to_the_home_page_s_figures(app, client, people, login_as, factory):
    """Follow-ups of an organisation and of the secretariat are counted on the home page
    but have no state's row: the page shows them as other addressees, and its total of
    every addressee is the home page's figure."""
    today = process_today(app)
    _world(factory, today)
    activity = factory.activity()
    factory.recommendation(
        activity.id, states=(), secretariat=True, target=today - timedelta(days=2)
    )
    login_as(people["secretariat"])
    page = html.unescape(client.get("/follow-ups/").text)

    def total(name: str) -> list[str]:
        row = re.search(rf'<tr><th scope="row">{name}.*?</th>(.*?)</tr>', page, re.S)
        assert row, f"no row {name}"
        return [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1])
        ]

    assert total("All member states")[:3] == ["4", "2", "1"]
    assert total("Other addressees")[:3] == ["1", "1", "0"]
    assert total("All addressees")[:3] == ["5", "3", "1"]
    home = client.get("/").text
    assert re.search(r'<p class="figure">3</p>\s*<p>follow-ups overdue', home)
