"""The tick at scale: rules read only what the outbox does not hold, a tick when nothing is
new costs the same few queries however large the Process, and planning in batches plans
exactly what planning at once does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import Role
from kpplan.meetings.models import Status
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.statuses import FollowUpStatus, Validation
from kpplan.reminders import planning
from kpplan.reminders.models import Reminder, ReminderKind, ReminderRun
from kpplan.reminders.rules import RULES, follow_up_scans
from kpplan.reminders.rules.sql import crossing_days, late_key
from kpplan.reminders.settings import process_timezone, rule_settings
from tests.factories import STATE_A, STATE_B
from tests.reminders.helpers import add_milestone, at, run

NOW = at("2026-12-01T09:00")


def _grow(app, factory, people, count: int) -> None:
    """``count`` recommendations to two states and an organisation (overdue for weeks, due
    soon, or without a date and not updated since June) and ``count`` milestones (overdue,
    due soon; with an owner, without one, or with one who left)."""
    organisation = factory.organisation()
    activity = factory.activity(start=date(2026, 6, 1), status=Status.HELD)
    gone = factory.user(Role.FOCAL_POINT, state=STATE_A, active=False)
    targets = (date(2026, 10, 1), date(2026, 12, 20), None)
    for n in range(count):
        factory.recommendation(
            activity.id,
            states=(STATE_A, STATE_B),
            organisations=(organisation.id,) if n % 2 else (),
            target=targets[n % 3],
        )
        owner = (people["secretariat"], None, gone)[n % 3]
        due = date(2026, 11, 10) if n % 2 else date(2026, 12, 5)
        add_milestone(app, activity.id, due, owner, name=f"Step {n}")
    with app.app_context():
        db.session.execute(sa.update(FollowUp).values(created_at=at("2026-06-01T09:00")))
        # One move to "implemented" of each recommendation's first follow-up waits for
        # validation since November.
        for follow_up in db.session.scalars(
            sa.select(FollowUp).where(FollowUp.state_id.is_not(None)).limit(count // 3 + 1)
        ):
            update = StatusUpdate(
                follow_up=follow_up,
                status_before=follow_up.status,
                status=FollowUpStatus.IMPLEMENTED,
                narrative="Done.",
                posted_at=at("2026-11-02T10:00"),
                validation=Validation.PENDING,
            )
            db.session.add(update)
            db.session.flush()
            follow_up.pending_update_id = update.id
            follow_up.last_update_at = update.posted_at
        db.session.commit()


NOTHING = dict.fromkeys(RULES, 0)


def _found_anew(app, now) -> dict[str, int]:
    """What each rule still finds at ``now``: nothing, once a tick has run then."""
    with app.app_context():
        settings = rule_settings()
        local = now.astimezone(process_timezone())
        return {
            key: len(list(rule.find(db.session, local, settings[key])))
            for key, rule in RULES.items()
        }


def _outbox(app) -> set[tuple]:
    with app.app_context():
        return set(
            db.session.execute(
                sa.select(
                    Reminder.rule, Reminder.subject_key, Reminder.period_key, Reminder.user_id
                ).where(Reminder.kind == ReminderKind.REMINDER)
            ).all()
        )


def test_after_a_tick_no_rule_finds_anything_at_that_moment(app, factory, people, smtp):
    # A second focal point in Kenya: each follow-up of Kenya's has two recipients.
    factory.user(Role.FOCAL_POINT, state=STATE_A)
    _grow(app, factory, people, 6)
    found = _found_anew(app, NOW)
    for key in ("follow_up_due", "follow_up_overdue", "follow_up_escalated", "follow_up_stale"):
        assert found[key] > 0, key
    assert found["milestone_due"] > 0 and found["milestone_overdue"] > 0
    assert found["validation_waiting"] > 0
    report = run(app, NOW)
    assert report.errors == []
    assert report.planned_count == sum(found.values()) == len(_outbox(app))
    # The queries ask the outbox with the very keys the rules write.
    assert _found_anew(app, NOW) == NOTHING
    # A week later: the overdue ones come again (a new week), and only they.
    later = NOW + timedelta(days=7)
    again = _found_anew(app, later)
    assert again["follow_up_overdue"] > 0 and again["milestone_overdue"] > 0
    assert again["follow_up_escalated"] == again["follow_up_stale"] == 0
    assert run(app, later).planned_count == sum(again.values())
    assert _found_anew(app, later) == NOTHING


def test_a_tick_when_nothing_is_new_costs_the_same_queries_at_three_times_the_data(
    app, factory, people, count_queries
):
    def quiet_tick() -> int:
        run(app, NOW)  # plans what is new
        with count_queries() as counter:
            report = run(app, NOW)
        assert report.planned_count == 0 and report.errors == []
        return len(counter.statements)

    _grow(app, factory, people, 5)
    small = quiet_tick()
    _grow(app, factory, people, 10)
    assert quiet_tick() == small
    # A few per rule, the summaries and the sending, and the check that the figures of the
    # day are today's (the timezone, the days, the basis): not one per follow-up.
    assert small <= 3 * len(RULES) + 15 + 3


def test_planning_in_small_batches_plans_what_one_batch_does(
    app, factory, people, smtp, monkeypatch
):
    factory.user(Role.FOCAL_POINT, state=STATE_B)
    _grow(app, factory, people, 7)
    run(app, NOW)
    at_once = _outbox(app)
    with app.app_context():
        db.session.execute(sa.update(Reminder).values(digest_id=None))
        db.session.execute(sa.delete(Reminder))
        db.session.execute(sa.delete(ReminderRun))
        db.session.commit()
    monkeypatch.setattr(planning, "PLAN_BATCH", 2)
    monkeypatch.setattr(follow_up_scans, "BATCH", 3)
    report = run(app, NOW)
    assert _outbox(app) == at_once and report.planned_count == len(at_once) > 20
    with app.app_context():
        assert db.session.scalar(sa.select(ReminderRun.planned)) == len(at_once)


def test_a_rule_failing_half_way_keeps_the_batches_it_planned(
    app, factory, people, smtp, monkeypatch
):
    _grow(app, factory, people, 6)
    monkeypatch.setattr(planning, "PLAN_BATCH", 2)
    stale = RULES["follow_up_stale"]

    def failing(session, now, settings):
        for n, planned in enumerate(stale.find(session, now, settings)):
            if n == 5:
                raise RuntimeError("the database went away")
            yield planned

    from dataclasses import replace

    monkeypatch.setitem(RULES, "follow_up_stale", replace(stale, find=failing))
    report = run(app, NOW)
    assert len(report.errors) == 1 and "the database went away" in report.errors[0]
    planned = [r for r in _outbox(app) if r[0] == "follow_up_stale"]
    assert len(planned) == 4  # two batches of two went in before the failure
    monkeypatch.setitem(RULES, "follow_up_stale", stale)
    # The next tick plans the rest, once.
    assert run(app, NOW + timedelta(minutes=5)).errors == []
    assert _found_anew(app, NOW) == NOTHING


@pytest.mark.parametrize("rule_key", ["follow_up_overdue", "milestone_overdue"])
def test_the_weekly_period_in_sql_is_the_one_the_rule_writes(app, factory, people, smtp, rule_key):
    _grow(app, factory, people, 3)
    for days in range(0, 15):
        moment = NOW + timedelta(days=days)
        run(app, moment)
        assert _found_anew(app, moment)[rule_key] == 0, days


@pytest.mark.parametrize("every", [2, 3, 7])
def test_the_days_a_period_turns_are_those_whose_weekly_key_changed(every):
    # The overdue rule asks the index for these days only: they must be exactly the due
    # dates whose reminder key today differs from the day it last looked (or newly overdue).
    today = date(2027, 3, 8)
    first = today - timedelta(days=60)
    for passed in range(1, every):
        since = today - timedelta(days=passed)
        expected = [
            due
            for due in (today - timedelta(days=n) for n in range(1, 61))
            if due >= since or late_key(today, due, every) != late_key(since, due, every)
        ]
        assert crossing_days(today, since, every, first) == expected
    assert crossing_days(today, today - timedelta(days=every), every, first) is None
    assert crossing_days(today, None, every, first) is None
    assert crossing_days(today, today - timedelta(days=1), every, None) == []


def test_a_reminder_another_scheduler_planned_meanwhile_is_neither_planned_nor_counted_again(
    app, factory, people, smtp, monkeypatch
):
    from dataclasses import replace

    from kpplan.reminders.rules import PlannedReminder

    _grow(app, factory, people, 3)
    run(app, NOW)
    before = _outbox(app)
    taken = next(r for r in sorted(before) if r[0] == "follow_up_stale")
    stale = RULES["follow_up_stale"]

    def racing(session, now, settings):
        # What a rule's query read before another scheduler planned the first of these,
        # and one found twice.
        for subject, user_id in ((taken[1], taken[3]), ("follow_up:999999", taken[3])) * 2:
            yield PlannedReminder(
                rule="follow_up_stale",
                subject_key=subject,
                period_key=taken[2],
                user_id=user_id,
                title="Not updated",
                message="",
                link_endpoint="recommendations.follow_up",
            )

    monkeypatch.setitem(RULES, "follow_up_stale", replace(stale, find=racing, reads=()))
    report = run(app, NOW + timedelta(minutes=5))
    assert report.errors == []
    new = ("follow_up_stale", "follow_up:999999", taken[2], taken[3])
    assert _outbox(app) == before | {new}
    assert report.planned_count == 1 and [
        (p.rule, p.subject_key, p.period_key, p.user_id) for p in report.planned
    ] == [new]
