"""The figures of the day (overdue, due soon, not updated, awaiting validation) kept on
write: the summary reads them in one query whatever the data when they are counted for
today and the days in force, and counts live otherwise; ``kpplan recount --check`` compares
them with a count. (The reminder tick counting a new day: tests/reminders.)"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.core.rule_settings import ReminderRuleSetting
from kpplan.meetings.models import Status
from kpplan.recommendations import day_figures, deadlines, follow_up_queries, tally_check
from kpplan.recommendations.deadlines import Deadlines, start_of
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.recommendations.statuses import FollowUpStatus
from tests.conftest import STATE_A, STATE_B
from tests.recommendations.helpers import process_today


def _world(factory, today):
    """Per call, for Kenya and Italy: one overdue, one due soon, one due later and awaiting
    validation (Kenya's); and one for the secretariat, overdue."""
    activity = factory.activity(status=Status.HELD)
    states = (STATE_A, STATE_B)
    factory.recommendation(activity.id, states=states, target=today - timedelta(days=3))
    factory.recommendation(activity.id, states=states, target=today + timedelta(days=5))
    later = factory.recommendation(activity.id, states=states, target=today + timedelta(days=200))
    factory.update(
        factory.follow_up_of(later, STATE_A).id, FollowUpStatus.IMPLEMENTED, pending=True
    )
    factory.recommendation(
        activity.id, states=(), secretariat=True, target=today - timedelta(days=1)
    )


def _count_the_day(app, day, limits=None):
    with app.test_request_context():
        day_figures.count_the_day(db.session.connection(), day, limits or deadlines.current())
        db.session.commit()


def _summaries(app, today, scope):
    """(the summary as pages get it, the same counted live, whether it came from the kept
    figures)."""
    with app.test_request_context():
        limits = deadlines.current()
        kept = day_figures.day_figures(db.session.connection(), scope.state_id, today, limits)
        return (
            follow_up_queries.follow_up_summary(scope, today),
            follow_up_queries.live_summary(scope, today, limits),
            kept is not None,
        )


def _state_id(app, name):
    from kpplan.directory.models import State

    with app.app_context():
        return db.session.scalar(sa.select(State.id).where(State.name == name))


def test_the_summary_reads_the_day_figures_kept_on_write(app, factory):
    today = process_today(app)
    _count_the_day(app, today)  # before the follow-ups: every one is added on write
    _world(factory, today)
    for scope in (Scope(), Scope(state_id=_state_id(app, STATE_A))):
        summary, live, from_kept = _summaries(app, today, scope)
        assert from_kept and summary == live
    summary, _, _ = _summaries(app, today, Scope())
    assert (summary.overdue, summary.due_soon, summary.pending) == (3, 2, 1)
    kenya, _, _ = _summaries(app, today, Scope(state_id=_state_id(app, STATE_A)))
    assert (kenya.overdue, kenya.due_soon, kenya.pending) == (1, 1, 1)


def test_one_query_whatever_the_data_when_counted_for_today(app, factory, count_queries):
    today = process_today(app)
    _count_the_day(app, today)

    def read() -> list[str]:
        with app.test_request_context(), count_queries() as counter:
            follow_up_queries.follow_up_summary(Scope(), today)
        return counter.statements

    _world(factory, today)
    small = read()
    _world(factory, today)
    _world(factory, today)
    large = read()
    assert len(small) == len(large)
    assert not any("FROM follow_ups" in s for s in large)
    assert sum("follow_up_day_figures" in s for s in large) == 1
    summary, live, from_kept = _summaries(app, today, Scope())
    assert from_kept and summary == live and summary.overdue == 9


def test_a_basis_of_yesterday_falls_back_to_a_live_count(app, factory):
    today = process_today(app)
    _count_the_day(app, today - timedelta(days=1))
    _world(factory, today)
    summary, live, from_kept = _summaries(app, today, Scope())
    assert not from_kept
    assert summary == live
    # Overdue today: Kenya's and Italy's reviewed three days ago, the secretariat's
    # yesterday (not overdue at the basis's day: its figures are not today's).
    assert (summary.overdue, summary.due_soon, summary.pending) == (3, 2, 1)
    with app.app_context():
        kept = tally_check.kept(db.session.connection())
    assert sum(n for k, n in kept.items() if k[:1] == ("d",) and k[2] == "overdue") == 2


def test_days_changed_by_the_administrator_count_live_until_counted_again(app, factory):
    today = process_today(app)
    _count_the_day(app, today)
    _world(factory, today)
    with app.app_context():
        db.session.add(ReminderRuleSetting(rule=deadlines.DUE_SOON_RULE, days=2))
        db.session.commit()
    summary, live, from_kept = _summaries(app, today, Scope())
    assert not from_kept and summary == live
    assert summary.due_soon == 0  # reviewed in five days: not within two
    _count_the_day(app, today)  # as the next tick does
    summary, live, from_kept = _summaries(app, today, Scope())
    assert from_kept and summary == live and summary.due_soon == 0


def test_recount_check_compares_the_day_figures(app, factory, runner):
    today = process_today(app)
    _count_the_day(app, today, Deadlines())
    _world(factory, today)
    assert runner.invoke(args=["kpplan", "recount", "--check"]).exit_code == 0
    with app.app_context():
        # A change made by hand, behind kpplan's back.
        db.session.execute(sa.text("UPDATE follow_up_day_figures SET n = n + 1"))
        db.session.commit()
    result = runner.invoke(args=["kpplan", "recount", "--check"])
    assert result.exit_code == 1
    assert "overdue (figures of the day)" in result.output
    result = runner.invoke(args=["kpplan", "recount"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["kpplan", "recount", "--check"]).exit_code == 0
    with app.app_context():
        assert day_figures.day_basis(db.session.connection()).day == today


def _day_world(app, factory, today) -> None:
    """Forty-five follow-ups (Kenya's, Italy's, the secretariat's) whose review dates, last
    updates and recordings fall on every side of the lines of a few days around ``today``
    (due within 3 days, not updated for 5), some closed, one awaiting validation and one
    recommendation withdrawn."""
    activity = factory.activity(status=Status.HELD)
    for _ in range(15):
        factory.recommendation(activity.id, states=(STATE_A, STATE_B), secretariat=True)
    with app.app_context():
        connection = db.session.connection()
        t = FollowUp.__table__
        ids = connection.scalars(sa.select(t.c.id).order_by(t.c.id)).all()
    factory.update(ids[1], FollowUpStatus.IMPLEMENTED, pending=True)
    line = start_of(today) - timedelta(days=5)
    with app.app_context():
        connection = db.session.connection()
        for i, follow_up_id in enumerate(ids):
            # Seventeen hours apart: every hour of the day comes round, on both sides.
            moment = line + timedelta(hours=17 * i - 380)
            values = {
                "next_review_date": today + timedelta(days=(i * 7) % 27 - 13),
                "last_update_at": None if i % 3 == 0 else moment,
                "created_at": moment if i % 3 == 0 else moment - timedelta(days=40),
            }
            if i % 8 == 5:
                values["status"] = FollowUpStatus.IMPLEMENTED
            elif i % 8 == 6:
                values["status"] = FollowUpStatus.NOT_APPLICABLE
            elif i % 8 == 7:
                values["status"] = FollowUpStatus.IN_PROGRESS
            # Behind the session's back, as the figures are counted from scratch below.
            connection.execute(sa.update(t).where(t.c.id == follow_up_id).values(**values))
        r = Recommendation.__table__
        connection.execute(
            sa.update(r)
            .where(
                r.c.id == sa.select(t.c.recommendation_id).where(t.c.id == ids[4]).scalar_subquery()
            )
            .values(withdrawn_at=start_of(today))
        )
        db.session.commit()


def _day_figures_kept(connection) -> dict:
    return {key: n for key, n in tally_check.kept(connection).items() if key[0] == "d"}


def _day_figures_counted(connection, today, limits) -> dict:
    found: Counter = Counter()
    day_figures.add_day_rows(
        found, connection.execute(day_figures.day_rows(day_figures.DayBasis(today, limits)))
    )
    return dict(+found)


def _not_called(*args, **kwargs):
    raise AssertionError("not the way the figures were to be moved")


@pytest.mark.parametrize("back", [1, 2, 4, 7, -1, -3])
def test_a_new_day_shifts_the_figures_to_those_a_full_count_finds(app, factory, monkeypatch, back):
    today = process_today(app)
    _day_world(app, factory, today)
    limits = Deadlines(due_soon_days=3, stale_days=5)
    with app.app_context():
        connection = db.session.connection()
        before = today - timedelta(days=back)
        day_figures.count_the_day(connection, before, limits, force=True)
        assert _day_figures_kept(connection) == _day_figures_counted(connection, before, limits)
        counted = _day_figures_counted(connection, today, limits)
        # The follow-ups crossed lines in between: the figures are not those of the basis.
        assert counted != _day_figures_kept(connection)
        with monkeypatch.context() as patched:
            patched.setattr(day_figures, "count_day_figures", _not_called)
            assert day_figures.count_the_day(connection, today, limits) is True
        assert _day_figures_kept(connection) == counted
        assert day_figures.day_basis(connection) == day_figures.DayBasis(today, limits)
        db.session.commit()


def test_a_figure_shifted_to_none_is_left_out_as_a_full_count_leaves_it(app, factory):
    today = process_today(app)
    activity = factory.activity(status=Status.HELD)
    factory.recommendation(activity.id, states=(STATE_A,), target=today - timedelta(days=1))
    limits = Deadlines(due_soon_days=3, stale_days=5)
    figure = day_figures.FollowUpDayFigure.__table__
    with app.app_context():
        connection = db.session.connection()
        day_figures.count_the_day(connection, today - timedelta(days=3), limits, force=True)
        before = connection.execute(sa.select(figure.c.kind, figure.c.n)).all()
        assert [tuple(row) for row in before] == [("due_soon", 1)]
        day_figures.count_the_day(connection, today, limits)
        after = connection.execute(sa.select(figure.c.kind, figure.c.n)).all()
        assert [tuple(row) for row in after] == [("overdue", 1)]
        db.session.rollback()


@pytest.mark.parametrize(
    ("back", "limits"),
    [(8, Deadlines(due_soon_days=3, stale_days=5)), (1, Deadlines(due_soon_days=4, stale_days=5))],
)
def test_a_day_far_off_or_other_days_are_counted_in_full(app, factory, monkeypatch, back, limits):
    today = process_today(app)
    _day_world(app, factory, today)
    with app.app_context():
        connection = db.session.connection()
        day_figures.count_the_day(
            connection, today - timedelta(days=back), Deadlines(3, 5), force=True
        )
        with monkeypatch.context() as patched:
            patched.setattr(day_figures, "shift_day_figures", _not_called)
            assert day_figures.count_the_day(connection, today, limits) is True
        assert _day_figures_kept(connection) == _day_figures_counted(connection, today, limits)
        db.session.rollback()


def test_a_states_overdue_recommendations_are_totalled_from_the_day_figures(
    app, factory, client, people, login_as, count_queries, monkeypatch
):
    """The total of "state and overdue" (or "overdue" in a focal point's scope) is the
    state's figure of the day when the day is counted for today, in the one query the
    count took; else the count, as before."""
    from kpplan.recommendations import lists

    today = process_today(app)
    kenya = _state_id(app, STATE_A)
    _world(factory, today)
    _world(factory, today)

    def total(who: str, query: str) -> tuple[str, list[str]]:
        login_as(people[who])
        with count_queries() as counter:
            html = client.get(f"/recommendations/?{query}").text
        found = re.findall(r"(\d+) in all|More than (\d+) found", html)
        return "".join(found[0]) if found else "", counter.statements

    observer, focal = ("observer", f"state={kenya}&overdue=1"), ("fp_a", "overdue=1")
    assert total(*observer)[0] == total(*focal)[0] == "2"  # counted: no basis yet
    _count_the_day(app, today)
    with app.app_context():
        # Behind kpplan's back, so that the total shows where it was read from.
        db.session.execute(
            sa.text("UPDATE follow_up_day_figures SET n = n + 10 WHERE kind = 'overdue'")
        )
        db.session.commit()
    _world(factory, today)  # a write: the total is read again
    for who, query in (observer, focal):
        shown, said = total(who, query)
        assert shown == "13"
        assert sum("follow_up_day_figures" in q for q in said) == 1
    # Another filter beside them: counted.
    assert total("observer", f"state={kenya}&overdue=1&status=not_started")[0] == "3"
    # Beyond the list's limit it says "more than", as the count up to the limit does.
    monkeypatch.setattr(lists, "COUNT_UP_TO", 12)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    _world(factory, today)
    assert total(*observer)[0] == "12"
