"""The figures of the day (overdue, due soon, not updated, awaiting validation) kept on
write: the summary reads them in one query whatever the data when they are counted for
today and the days in force, and counts live otherwise; ``kpplan recount --check`` compares
them with a count. (The reminder tick counting a new day: tests/reminders.)"""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.core.rule_settings import ReminderRuleSetting
from kpplan.meetings.models import Status
from kpplan.recommendations import day_figures, deadlines, follow_up_queries, tally_check
from kpplan.recommendations.deadlines import Deadlines
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
