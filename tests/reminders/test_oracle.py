"""A year of ticks across daylight saving, checked against an oracle the test computes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import Role
from kpplan.meetings.models import Activity, Milestone, Status
from kpplan.reminders.models import Delivery, ReminderKind, ReminderStatus
from tests.reminders.helpers import BRUSSELS, add_milestone, at, rows, run, set_preference

# A year of ticks -----------------------------------------------------------------------------


def state_named_id(name: str) -> int:
    from kpplan.directory.models import State

    return db.session.scalar(sa.select(State.id).where(State.name == name))


def _year_of_ticks() -> list[datetime]:
    """Irregular ticks through 2027 and both daylight-saving changes, with a four-day outage
    and some ticks run twice."""
    steps = [timedelta(hours=5, minutes=17), timedelta(hours=3, minutes=41), timedelta(hours=9)]
    moments, moment, n = [], datetime(2027, 1, 1, 0, 5, tzinfo=UTC), 0
    outage = (at("2027-07-20T10:00"), at("2027-07-24T10:00"))
    while moment < datetime(2028, 1, 1, tzinfo=UTC):
        if not outage[0] <= moment < outage[1]:
            moments.append(moment)
            if n % 40 == 0:
                moments.append(moment)  # a repeated tick
        moment += steps[n % len(steps)]
        n += 1
    # The very moments the clocks change.
    moments += [datetime(2027, 3, 28, 1, 0, tzinfo=UTC), datetime(2027, 10, 31, 1, 0, tzinfo=UTC)]
    return sorted(moments)


def test_a_year_of_ticks_across_daylight_saving_delivers_what_an_oracle_expects(
    app, people, factory, smtp
):
    app.config["REMINDER_SEND_BATCH"] = 500
    sec1, admin = people["secretariat"], people["admin"]
    sec2 = factory.user(Role.SECRETARIAT, email="digest@kpplan.example", name="Daily Reader")
    gone = factory.user(Role.SECRETARIAT, email="gone@kpplan.example", active=False)
    secretariat = [sec1.id, sec2.id]
    for key in (
        "milestone_due",
        "milestone_overdue",
        "outcomes_missing",
        "state_without_focal_point",
    ):
        set_preference(app, sec2, key, Delivery.DAILY)
    set_preference(app, admin, "milestone_overdue", Delivery.WEEKLY)

    future = factory.activity(start=date(2028, 6, 1), title="Senior Officials Meeting 2028")
    cancelled = factory.activity(start=date(2027, 6, 1), status=Status.CANCELLED)
    # The test's own record of the data: milestones (id, due, owner ids, done at) ...
    milestones = []
    for name, due, owner, done in (
        ("Concept note", date(2027, 3, 30), admin, at("2027-04-15T10:00")),
        ("Agenda", date(2027, 10, 30), sec1, None),
        ("Invitations", date(2027, 6, 10), None, at("2027-06-08T09:00")),
        ("Venue", date(2027, 2, 1), gone, at("2027-02-20T16:00")),
    ):
        milestone_id = add_milestone(app, future.id, due, owner, name=name)
        owners = [owner.id] if owner is not None and owner.active else secretariat
        milestones.append((milestone_id, due, owners, done))
    add_milestone(app, cancelled.id, date(2027, 5, 1), admin, name="Catering")
    # ... and activities (id, end, outcomes recorded at).
    activities = []
    for start, days, status, recorded in (
        (date(2027, 3, 25), 2, Status.HELD, None),
        (date(2027, 7, 1), 1, Status.HELD, at("2027-07-10T11:00")),
        (date(2027, 10, 19), 2, Status.CONFIRMED, None),
        (date(2027, 8, 1), 1, Status.CANCELLED, None),
    ):
        activity = factory.activity(start=start, days=days, status=status)
        if status is not Status.CANCELLED:
            activities.append((activity.id, activity.end_date, recorded))

    # ... and follow-ups: Kenya reports once (with a new review date), Italy never.
    from kpplan.recommendations.follow_up_models import FollowUp
    from kpplan.recommendations.models import Priority, Recommendation
    from kpplan.recommendations.statuses import FollowUpStatus

    recommendation = factory.recommendation(
        future.id, states=("Kenya", "Italy"), target=date(2027, 5, 15)
    )
    created = at("2027-01-05T10:00")
    follow_ups = {}
    with app.app_context():
        for follow_up in db.session.scalars(
            sa.select(FollowUp).where(FollowUp.recommendation_id == recommendation.id)
        ):
            follow_up.created_at = created
            state = follow_up.state.name
            focal = people["fp_a"] if state == "Kenya" else people["fp_b"]
            follow_ups[follow_up.id] = {
                "review": date(2027, 5, 15),
                "last": None,
                "focal_points": [focal.id],
            }
            if state == "Kenya":
                kenya_id = follow_up.id
        db.session.commit()
    kenya_update = (at("2027-06-10T14:00"), date(2027, 12, 1))

    events = sorted(
        [(done, "milestone", mid) for mid, _, _, done in milestones if done]
        + [(recorded, "activity", aid) for aid, _, recorded in activities if recorded]
        + [(kenya_update[0], "follow_up", kenya_id)]
    )

    # The oracle: what should be planned, from the test's own record, tick by tick.
    ticks = _year_of_ticks()
    expected: set[tuple[str, str, str, int]] = set()
    for now in ticks:
        today = now.astimezone(BRUSSELS).date()
        for mid, due, owners, done in milestones:
            if done is not None and done <= now:
                continue
            for owner in owners:
                if today <= due <= today + timedelta(days=7):
                    expected.add(("milestone_due", f"milestone:{mid}", f"due:{due}", owner))
                if due < today:
                    week = ((today - due).days - 1) // 7
                    expected.add(
                        ("milestone_overdue", f"milestone:{mid}", f"late:{due}:{week}", owner)
                    )
        for aid, end, recorded in activities:
            if recorded is not None and recorded <= now:
                continue
            if end + timedelta(days=14) <= today < end + timedelta(days=14 + 90):
                for user_id in secretariat:
                    expected.add(("outcomes_missing", f"activity:{aid}", f"ended:{end}", user_id))
        for user_id in secretariat:
            expected.add(
                ("state_without_focal_point", "member-states", f"month:{today:%Y-%m}", user_id)
            )
        if kenya_update[0] <= now:
            follow_ups[kenya_id].update(last=kenya_update[0], review=kenya_update[1])
        for fid, known in follow_ups.items():
            review, last, subject = known["review"], known["last"], f"follow_up:{fid}"
            for user_id in known["focal_points"]:
                if today <= review <= today + timedelta(days=30):
                    expected.add(("follow_up_due", subject, f"due:{review}", user_id))
            if review < today and (last is None or last.date() < review):
                late = (today - review).days
                for user_id in known["focal_points"]:
                    period = f"late:{review}:{(late - 1) // 7}"
                    expected.add(("follow_up_overdue", subject, period, user_id))
                if late >= 28:
                    for user_id in secretariat:
                        expected.add(
                            ("follow_up_escalated", subject, f"escalated:{review}", user_id)
                        )
            since = last or created
            if since < now - timedelta(days=90):
                for user_id in known["focal_points"]:
                    period = f"since:{since.astimezone(BRUSSELS).date()}"
                    expected.add(("follow_up_stale", subject, period, user_id))

    # The app: the same ticks, with the changes made when they happen.
    for now in ticks:
        while events and events[0][0] <= now:
            _, kind, record_id = events.pop(0)
            with app.app_context():
                if kind == "milestone":
                    db.session.get(Milestone, record_id).done_on = now.astimezone(BRUSSELS).date()
                elif kind == "follow_up":
                    follow_up = db.session.get(FollowUp, record_id)
                    follow_up.status = FollowUpStatus.IN_PROGRESS
                    follow_up.last_update_at, follow_up.next_review_date = kenya_update
                else:
                    # Outcomes and recommendations recorded together; addressed to a state
                    # without focal point, they remind nobody.
                    activity = db.session.get(Activity, record_id)
                    activity.outcome_summary = "Outcomes recorded."
                    recorded = Recommendation(
                        activity=activity,
                        number=1,
                        code=f"TEST-{record_id}/R1",
                        text="Recorded at the meeting.",
                        priority=Priority.MEDIUM,
                    )
                    recorded.follow_ups.append(
                        FollowUp(state_id=state_named_id("Malta"), created_at=now)
                    )
                    db.session.add(recorded)
                db.session.commit()
        run(app, now)

    planned = rows(app, kind=ReminderKind.REMINDER)
    got = {(r.rule, r.subject_key, r.period_key, r.user_id) for r in planned}
    assert got == expected
    assert len(planned) == len(expected)
    assert len(expected) > 40  # the year is not empty

    # Each reminder arrives exactly once: alone, or in one summary.
    fp_a, fp_b = people["fp_a"], people["fp_b"]
    emails = {
        sec1.id: sec1.email,
        sec2.id: sec2.email,
        admin.id: admin.email,
        fp_a.id: fp_a.email,
        fp_b.id: fp_b.email,
    }
    alone = sorted(
        (r.rule, r.subject_key, r.period_key, emails[r.user_id])
        for r in planned
        if r.delivery is Delivery.IMMEDIATELY
    )
    mails = [
        (*str(m["X-Kpplan-Reminder"]).split(" "), m["To"].addresses[0].addr_spec)
        for m in smtp.messages
        if not str(m["X-Kpplan-Reminder"]).split(" ")[0].endswith("_digest")
    ]
    assert sorted(tuple(m) for m in mails) == alone
    # The daily reader chose summaries for the rules above, not for escalations.
    assert {r.user_id for r in planned if r.delivery is Delivery.IMMEDIATELY} == {
        sec1.id,
        sec2.id,
        admin.id,
        fp_a.id,
        fp_b.id,
    }
    assert {
        r.rule for r in planned if r.user_id == sec2.id and r.delivery is Delivery.IMMEDIATELY
    } == {"follow_up_escalated"}
    rules = {r.rule for r in planned}
    assert {"follow_up_due", "follow_up_overdue", "follow_up_escalated", "follow_up_stale"} <= rules

    digests = {r.id: r for r in rows(app, kind=ReminderKind.DIGEST)}
    assert digests and all(d.status is ReminderStatus.SENT for d in digests.values())
    by_message_id = {}
    for message in smtp.messages:
        if str(message["X-Kpplan-Reminder"]).split(" ")[0].endswith("_digest"):
            assert message["Message-ID"] not in by_message_id  # each summary once
            by_message_id[message["Message-ID"]] = message
    assert set(by_message_id) == {d.message_id for d in digests.values()}
    in_digests = [r for r in planned if r.delivery in (Delivery.DAILY, Delivery.WEEKLY)]
    assert in_digests and all(r.status is ReminderStatus.IN_DIGEST for r in in_digests)
    for item in in_digests:
        digest = digests[item.digest_id]
        assert digest.user_id == item.user_id
        assert digest.rule == f"{item.delivery.value}_digest"
        assert item.title in by_message_id[digest.message_id].get_body(("plain",)).get_content()

    # Summaries go out at the first tick after 08:00 in Brussels, summer and winter alike.
    tick_set = sorted(set(ticks))
    for digest in digests.values():
        sent = digest.sent_at.astimezone(BRUSSELS)
        day = (
            date.fromisoformat(digest.period_key.removeprefix("day:"))
            if (digest.rule == "daily_digest")
            else date.fromisocalendar(*map(int, digest.period_key[5:].split("-W")), 1)
        )
        moment = datetime(day.year, day.month, day.day, 8, tzinfo=BRUSSELS).astimezone(UTC)
        assert digest.sent_at >= moment
        assert not [t for t in tick_set if moment <= t < digest.sent_at], digest.period_key
        if digest.rule == "weekly_digest":
            assert sent.weekday() == 0
    summer = [d for d in digests.values() if d.sent_at.month == 7 and d.rule == "daily_digest"]
    winter = [d for d in digests.values() if d.sent_at.month == 12 and d.rule == "daily_digest"]
    assert summer and winter
