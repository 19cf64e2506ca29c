"""The tick's watermark: a rule whose inputs (the tables it reads, its settings) have not
changed since it last planned in full, on the same day of the Process (any day, for a rule
whose reminders fall due at a moment) and before the first moment something more falls
due, is skipped; anything that could give a reminder
still gives it at the next tick.

Each test checks the watermark's one promise: what a tick skips, the rule would have found
nothing for (``_found_anew`` asks each rule directly, ignoring the marks).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
from kpplan.meetings.models import Status
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.reminders import services
from kpplan.reminders.models import Delivery, ReminderRuleMark
from kpplan.reminders.rules import RULES
from kpplan.reminders.settings import process_timezone
from tests.factories import STATE_A, STATE_B
from tests.reminders.helpers import rows, run, set_preference
from tests.reminders.test_tick_at_scale import NOW, _found_anew, _grow

#: The rules that name what they read, so that a tick may skip them.
MARKED = sorted(key for key, rule in RULES.items() if rule.reads)
#: The queries of a tick at the same moment again, when nothing is new: the figures of the
#: day, the run, the settings, counters and marks, the rules that name nothing they read
#: (invitations, the Chair's work plan, states without a focal point), the summaries, the
#: sending and the housekeeping (not the preferences: nothing is planned). None reads a
#: follow-up or a milestone; a rule that finds nothing does not commit on its own.
QUIET_TICK_QUERIES = 27


def _tick_as_the_rules_say(app, now) -> tuple[dict[str, int], list[str]]:
    """Tick at ``now`` and check that it planned what each rule finds, and that each rule
    it skipped would have found nothing; returns what the rules found and what it skipped."""
    found = _found_anew(app, now)
    report = run(app, now)
    assert report.errors == []
    assert report.planned_count == sum(found.values())
    assert {key: found[key] for key in report.skipped} == dict.fromkeys(report.skipped, 0)
    return found, report.skipped


def _everything_planned(app, factory, people):
    factory.user(Role.FOCAL_POINT, state=STATE_A)
    _grow(app, factory, people, 6)
    found, skipped = _tick_as_the_rules_say(app, NOW)
    assert skipped == [] and found["follow_up_overdue"] > 0


def test_a_tick_at_the_same_moment_skips_every_marked_rule_and_reads_no_follow_up(
    app, factory, people, smtp, count_queries
):
    _everything_planned(app, factory, people)
    with count_queries() as counter:
        report = run(app, NOW)
    assert report.planned_count == 0 and report.errors == []
    assert sorted(report.skipped) == MARKED
    statements = [s.lower() for s in counter.statements]
    assert not [s for s in statements if "from follow_ups" in s or "join follow_ups" in s]
    assert not [s for s in statements if "from milestones" in s]
    assert len(statements) == QUIET_TICK_QUERIES
    # Marked by the run that planned them, for today.
    with app.app_context():
        marks = db.session.scalars(sa.select(ReminderRuleMark)).all()
        assert sorted(m.rule for m in marks) == MARKED


def test_a_follow_up_edited_is_seen_by_the_next_tick(app, factory, people, smtp):
    _everything_planned(app, factory, people)
    with app.app_context():
        follow_up = db.session.scalars(
            sa.select(FollowUp).where(FollowUp.next_review_date.is_(None)).limit(1)
        ).one()
        follow_up.next_review_date = NOW.date() + timedelta(days=3)
        db.session.commit()
        subject = f"follow_up:{follow_up.id}"
    found, skipped = _tick_as_the_rules_say(app, NOW)
    assert found["follow_up_due"] > 0 and "follow_up_due" not in skipped
    assert {r.rule for r in rows(app, subject_key=subject)} >= {"follow_up_due"}
    # The milestones' rules read nothing that changed.
    assert {"milestone_due", "milestone_overdue"} <= set(skipped)


def test_a_new_recommendation_is_seen_by_the_next_tick(app, factory, people, smtp):
    _everything_planned(app, factory, people)
    activity = factory.activity(start=date(2026, 6, 1), status=Status.HELD)
    factory.recommendation(activity.id, states=(STATE_B,), target=NOW.date() + timedelta(days=2))
    found, skipped = _tick_as_the_rules_say(app, NOW)
    assert found["follow_up_due"] > 0 and "follow_up_due" not in skipped


def test_a_states_new_focal_point_is_seen_by_the_next_tick(app, factory, people, smtp):
    _everything_planned(app, factory, people)
    newcomer = factory.user(Role.FOCAL_POINT, state=STATE_B)
    found, skipped = _tick_as_the_rules_say(app, NOW)
    assert found["follow_up_overdue"] > 0 and found["follow_up_due"] > 0
    assert {"follow_up_overdue", "follow_up_due"}.isdisjoint(skipped)
    assert {r.rule for r in rows(app, user_id=newcomer.id)} >= {
        "follow_up_overdue",
        "follow_up_due",
    }
    # An account made inactive is seen too: nothing new for it, and the next tick is quiet.
    with app.app_context():
        db.session.get(User, newcomer.id).active = False
        db.session.commit()
    _tick_as_the_rules_say(app, NOW)
    assert sorted(run(app, NOW).skipped) == MARKED


def test_a_preference_changed_applies_to_what_the_next_tick_plans(app, factory, people, smtp):
    _everything_planned(app, factory, people)
    focal_point = factory.user(Role.FOCAL_POINT, state=STATE_B)
    set_preference(app, focal_point, "follow_up_overdue", Delivery.DAILY)
    _tick_as_the_rules_say(app, NOW)
    overdue = rows(app, user_id=focal_point.id, rule="follow_up_overdue")
    assert overdue and {r.delivery for r in overdue} == {Delivery.DAILY}
    # A preference alone plans nothing new: the next tick is quiet.
    set_preference(app, focal_point, "follow_up_due", Delivery.WEEKLY)
    found, skipped = _tick_as_the_rules_say(app, NOW)
    assert sum(found.values()) == 0 and sorted(skipped) == MARKED


def test_a_setting_changed_is_seen_by_the_next_tick(app, factory, people, smtp):
    _everything_planned(app, factory, people)
    activity = factory.activity(start=date(2026, 6, 1), status=Status.HELD)
    factory.recommendation(activity.id, states=(STATE_B,), target=NOW.date() + timedelta(days=50))
    found, _ = _tick_as_the_rules_say(app, NOW)
    assert found["follow_up_due"] == 0
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN))
        # Due within 60 days: the follow-up due in 50 days comes in.
        services.save_rule_setting(admin, "follow_up_due", True, 60)
        db.session.commit()
    before = len(rows(app, rule="follow_up_due"))
    found, skipped = _tick_as_the_rules_say(app, NOW)
    assert found["follow_up_due"] > 0 and "follow_up_due" not in skipped
    assert len(rows(app, rule="follow_up_due")) == before + found["follow_up_due"]


def test_a_new_day_is_seen_by_the_next_tick(app, factory, people, smtp):
    _everything_planned(app, factory, people)
    # A day later each marked rule whose reminders fall due on a day looks again, at what
    # crossed its trigger since: the overdue ones' new weeks, the milestone due on 5 December
    # coming within its days and then overdue, the follow-ups due on 20 December overdue,
    # and their escalation. Those that fall due at a moment (``wakes``) wait for it.
    crossed = dict.fromkeys(RULES, 0)
    for days in range(1, 51):
        found, skipped = _tick_as_the_rules_say(app, NOW + timedelta(days=days))
        assert all(RULES[key].wakes is not None for key in skipped)
        crossed = {key: crossed[key] + found[key] for key in found}
    for key in ("follow_up_overdue", "follow_up_escalated", "milestone_overdue"):
        assert crossed[key] > 0, key
    # And again that day, nothing is new.
    assert sorted(run(app, NOW + timedelta(days=50)).skipped) == MARKED


def test_a_day_later_a_rule_looks_only_at_what_crossed_its_trigger(
    app, factory, people, smtp, monkeypatch
):
    _everything_planned(app, factory, people)
    seen = {}
    for key in ("follow_up_due", "follow_up_overdue", "milestone_due"):
        rule = RULES[key]

        def find(session, now, settings, rule=rule):
            seen[rule.key] = settings.since
            return rule.find(session, now, settings)

        monkeypatch.setitem(RULES, key, dataclasses.replace(rule, find=find))
    run(app, NOW + timedelta(days=1))
    # Given the day it last planned in full...
    assert seen == dict.fromkeys(seen, date(2026, 12, 1))
    # ... unless its inputs changed (here its days): then it looks at everything.
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN))
        services.save_rule_setting(admin, "follow_up_due", True, 31)
        db.session.commit()
    run(app, NOW + timedelta(days=2))
    assert seen["follow_up_due"] is None and seen["milestone_due"] is not None


def test_a_follow_up_going_without_update_for_its_days_later_that_day_is_seen(
    app, factory, people, smtp
):
    _everything_planned(app, factory, people)
    activity = factory.activity(start=date(2026, 6, 1), status=Status.HELD)
    recommendation = factory.recommendation(activity.id, states=(STATE_B,), target=None)
    days = RULES["follow_up_stale"].default_days
    with app.app_context():
        # Recorded so that its days without an update run out two hours after NOW (counted
        # in Brussels time, as the rule counts: daylight saving lies in between).
        recorded = NOW.astimezone(process_timezone()) - timedelta(days=days) + timedelta(hours=2)
        db.session.execute(
            sa.update(FollowUp)
            .where(FollowUp.recommendation_id == recommendation.id)
            .values(created_at=recorded)
        )
        db.session.commit()
    found, _ = _tick_as_the_rules_say(app, NOW)
    assert found["follow_up_stale"] == 0
    found, skipped = _tick_as_the_rules_say(app, NOW + timedelta(minutes=30))
    assert "follow_up_stale" in skipped
    found, skipped = _tick_as_the_rules_say(app, NOW + timedelta(hours=3))
    assert found["follow_up_stale"] > 0 and "follow_up_stale" not in skipped


def test_a_follow_up_going_without_update_for_its_days_days_later_is_seen(
    app, factory, people, smtp
):
    _everything_planned(app, factory, people)
    activity = factory.activity(start=date(2026, 6, 1), status=Status.HELD)
    recommendation = factory.recommendation(activity.id, states=(STATE_B,), target=None)
    days = RULES["follow_up_stale"].default_days
    with app.app_context():
        # Its days without an update run out two days and two hours after NOW.
        recorded = NOW.astimezone(process_timezone()) - timedelta(days=days - 2, hours=-2)
        db.session.execute(
            sa.update(FollowUp)
            .where(FollowUp.recommendation_id == recommendation.id)
            .values(created_at=recorded)
        )
        db.session.commit()
    found, _ = _tick_as_the_rules_say(app, NOW)
    assert found["follow_up_stale"] == 0
    # The next day nothing it reads changed and its moment has not come: it is not looked for.
    found, skipped = _tick_as_the_rules_say(app, NOW + timedelta(days=1))
    assert "follow_up_stale" in skipped
    found, skipped = _tick_as_the_rules_say(app, NOW + timedelta(days=2, hours=3))
    assert found["follow_up_stale"] > 0 and "follow_up_stale" not in skipped
