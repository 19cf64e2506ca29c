"""A first start killed part way through its planning is not over: the next tick finishes
it as a first start, so that each person still gets one summary of what was late, never the
reminders one by one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.reminders import planner, planning
from kpplan.reminders.models import Reminder, ReminderKind, ReminderRun, ReminderStatus
from tests.factories import STATE_B
from tests.reminders.helpers import at, run, turn_off_other_rules
from tests.reminders.test_rules_follow_ups import _follow_up

FIRST = at("2026-12-01T09:00")
REAL_PLAN = planner.plan


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


def _killed_after(batches: int, monkeypatch) -> None:
    """The next tick dies right after committing its ``batches``-th batch of reminders."""

    def dying_plan(now, run_id, report, checkpoint=None):
        committed = 0

        def commit_then_die():
            nonlocal committed
            checkpoint()
            committed += 1
            if committed == batches:
                raise Killed

        return REAL_PLAN(now, run_id, report, commit_then_die)

    monkeypatch.setattr(planner, "plan", dying_plan)


def _forget_session(app) -> None:
    """The dead process's session (and any transaction it had open) goes with it."""
    with app.app_context():
        db.session.rollback()
        db.session.remove()


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_first_start_killed_between_batches_is_finished_as_one(
    app, people, factory, smtp, monkeypatch
):
    turn_off_other_rules(app, "follow_up_overdue")
    kenya = [
        _follow_up(app, factory, date(2026, 10, 1), created="2026-08-01T09:00")[0] for _ in range(3)
    ]
    italy = [
        _follow_up(app, factory, date(2026, 10, 1), state=STATE_B, created="2026-08-01T09:00")[0]
        for _ in range(2)
    ]
    monkeypatch.setattr(planning, "PLAN_BATCH", 2)
    _killed_after(2, monkeypatch)
    with pytest.raises(Killed):
        run(app, FIRST)
    _forget_session(app)
    monkeypatch.setattr(planner, "plan", REAL_PLAN)

    # The killed tick committed two batches: Kenya's three reminders and one of Italy's two.
    with app.app_context():
        (killed,) = db.session.scalars(sa.select(ReminderRun)).all()
        assert killed.planned == 4 and killed.planning_finished_at is None
        assert killed.finished_at is None
    assert smtp.messages == []

    run(app, FIRST + timedelta(minutes=5))
    # Each focal point gets one first-start summary of all their late reminders: none of
    # those the killed tick planned goes on its own.
    (to_kenya,) = smtp.to(people["fp_a"].email)
    (to_italy,) = smtp.to(people["fp_b"].email)
    assert len(smtp.messages) == 2
    assert to_kenya["Subject"] == "kpplan: 3 reminders, 3 of them late"
    assert to_italy["Subject"] == "kpplan: 2 reminders, 2 of them late"
    for mail, count in ((to_kenya, 3), (to_italy, 2)):
        assert "backlog_summary" in str(mail["X-Kpplan-Reminder"])
        text = _text(mail)
        assert "kpplan has started sending reminders" in text
        assert f"{count} reminders, {count} of them already late" in text
        assert text.count("* Overdue: ") == count

    with app.app_context():
        statuses = db.session.execute(
            sa.select(Reminder.subject_key, Reminder.status).where(
                Reminder.kind == ReminderKind.REMINDER
            )
        ).all()
        runs = db.session.scalars(sa.select(ReminderRun).order_by(ReminderRun.id)).all()
        assert all(r.planning_finished_at is not None for r in runs)
    assert sorted(key for key, _ in statuses) == sorted(f"follow_up:{i}" for i in kenya + italy)
    assert {status for _, status in statuses} == {ReminderStatus.IN_DIGEST}

    # Later ticks that day send nothing again; the first start is over.
    for minutes in (10, 60):
        run(app, FIRST + timedelta(minutes=minutes))
    assert len(smtp.messages) == 2


def test_0028_keeps_the_finished_runs_finished_and_the_others_open(empty_app):
    """Runs recorded before 0028: those that finished count as planned in full, those that
    never did stay open (their reminders go into the next first-start summary, as before)."""
    from flask_migrate import downgrade, upgrade

    with empty_app.app_context():
        upgrade()
        downgrade(revision="0027_search_words_column")
        db.session.execute(
            sa.text(
                "INSERT INTO reminder_runs (id, now, started_at, finished_at, runner, planned, "
                "digests, sent, failed) VALUES "
                "(1, :now, :now, :done, 'scheduler', 3, 0, 3, 0), "
                "(2, :later, :later, NULL, 'scheduler', 2, 0, 0, 0)"
            ),
            {
                "now": FIRST.replace(tzinfo=None),
                "done": (FIRST + timedelta(seconds=5)).replace(tzinfo=None),
                "later": (FIRST + timedelta(days=1)).replace(tzinfo=None),
            },
        )
        db.session.commit()
        upgrade()
        finished, killed = db.session.scalars(sa.select(ReminderRun).order_by(ReminderRun.id))
        assert finished.planning_finished_at == finished.finished_at is not None
        assert killed.planning_finished_at is None and killed.late_by_user is None
        db.session.remove()


def test_a_reminder_found_twice_in_a_batch_is_planned_and_counted_once(
    app, people, factory, smtp, monkeypatch
):
    from dataclasses import replace

    from kpplan.reminders.rules import RULES

    turn_off_other_rules(app, "follow_up_overdue")
    _follow_up(app, factory, date(2026, 10, 1), created="2026-08-01T09:00")
    overdue = RULES["follow_up_overdue"]

    def twice(session, now, settings):
        for planned in overdue.find(session, now, settings):
            yield planned
            yield planned

    monkeypatch.setitem(RULES, "follow_up_overdue", replace(overdue, find=twice))
    report = run(app, FIRST)
    assert report.planned_count == len(report.planned) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(ReminderRun.planned)) == 1
        assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 1


def test_the_summaries_read_only_the_index_of_what_waits(app, backend, people, factory):
    """SQLite and PostgreSQL use a partial index only for a query that says its condition
    word for word: the summaries' queries do."""
    if backend != "sqlite":
        pytest.skip("the plan of a few rows says nothing on PostgreSQL")
    from kpplan.reminders.models import Delivery
    from kpplan.reminders.planner import gather_digests
    from kpplan.reminders.planning import TickReport
    from tests.reminders.helpers import set_preference

    turn_off_other_rules(app, "follow_up_overdue")
    _follow_up(app, factory, date(2026, 10, 1), created="2026-08-01T09:00")
    set_preference(app, people["fp_a"], "follow_up_overdue", Delivery.DAILY)
    run(app, FIRST)
    statements = []

    def keep(conn, cursor, sql, params, *args):
        statements.append((sql, params))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", keep)
        try:
            gather_digests(FIRST + timedelta(days=1), None, TickReport(now=FIRST))
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", keep)
        plans = [
            " ".join(
                str(row[-1])
                for row in db.session.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + sql, params
                )
            )
            for sql, params in statements
            if "status = 'waiting'" in sql
        ]
        db.session.rollback()
    # Who waits for a daily summary, the filling of theirs, who waits for a weekly one.
    assert len(plans) == 3
    assert all("ix_reminders_waiting_delivery_planned_at" in plan for plan in plans), plans
