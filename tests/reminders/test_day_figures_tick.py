"""The reminder tick counts the follow-up figures of the day at its start, once a day (one
read when they are today's already), and sends the reminders even when it cannot."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from kpplan.core.extensions import db
from kpplan.recommendations import day_figures
from kpplan.recommendations.queries import Scope
from kpplan.reminders import planner
from tests.recommendations.helpers import process_today
from tests.recommendations.test_day_figures import _count_the_day, _summaries, _world


def test_the_tick_counts_the_new_day_once(app, factory, count_queries):
    today = process_today(app)
    _count_the_day(app, today - timedelta(days=1))
    _world(factory, today)
    now = datetime.combine(today, time(12), tzinfo=UTC)
    with app.app_context():
        assert planner.count_the_day(now) is True
        assert day_figures.day_basis(db.session.connection()).day == today
    with app.app_context(), count_queries() as counter:
        assert planner.count_the_day(now) is False
    # Already counted: one read of the basis (and of the timezone and days), no write.
    assert sum("follow_up_day_basis" in s for s in counter.statements) == 1
    assert not any("follow_ups" in s for s in counter.statements)
    assert all(s.lstrip().upper().startswith("SELECT") for s in counter.statements)
    summary, live, from_kept = _summaries(app, today, Scope())
    assert from_kept and summary == live
    # The tick itself rolls the day at its start.
    _count_the_day(app, today - timedelta(days=1))
    with app.app_context():
        planner.tick(now)
        assert day_figures.day_basis(db.session.connection()).day == today


def test_a_tick_that_cannot_count_the_day_still_runs(app, factory, monkeypatch, caplog):
    today = process_today(app)
    _count_the_day(app, today - timedelta(days=1))
    _world(factory, today)

    def broken(*args, **kwargs):
        raise RuntimeError("lock not available")

    monkeypatch.setattr(day_figures, "count_the_day", broken)
    now = datetime.combine(today, time(12), tzinfo=UTC)
    with app.app_context():
        report = planner.tick(now)
        assert report.errors == []
        assert day_figures.day_basis(db.session.connection()).day == today - timedelta(days=1)
    assert "could not be counted" in caplog.text
    summary, live, from_kept = _summaries(app, today, Scope())
    assert not from_kept and summary == live


@pytest.mark.postgres
def test_the_tick_does_not_wait_for_a_write_under_way(app, backend, factory, caplog):
    """A follow-up being written holds the figures of the day: the tick leaves them to the
    next tick at once, rather than making the writes that follow queue behind it."""
    if backend != "postgres":
        pytest.skip("row locks are PostgreSQL's")
    today = process_today(app)
    _count_the_day(app, today - timedelta(days=1))
    _world(factory, today)
    now = datetime.combine(today, time(12), tzinfo=UTC)
    with app.app_context():
        with db.engine.connect() as writer:
            day_figures.day_basis(writer, lock="share")  # as a write's flush does
            report = planner.tick(now)
            writer.rollback()
        assert report.errors == []
        assert day_figures.day_basis(db.session.connection()).day == today - timedelta(days=1)
    assert "counted next tick" in caplog.text
    with app.app_context():
        assert planner.count_the_day(now) is True
