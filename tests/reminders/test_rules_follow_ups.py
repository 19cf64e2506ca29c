"""The rules of the follow-ups: due soon, overdue then escalated, not updated, awaiting
validation."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import Role
from kpplan.meetings.models import Status
from kpplan.reminders.models import Delivery
from tests.reminders.helpers import at, link_path, run, set_preference, turn_off_other_rules


def _follow_up(app, factory, target: date | None, state="Kenya", created: str = "2026-11-01T09:00"):
    """A recommendation to one state, recorded at ``created`` (Brussels time)."""
    from kpplan.recommendations.follow_up_models import FollowUp

    activity = factory.activity(start=date(2026, 6, 1), status=Status.HELD)
    recommendation = factory.recommendation(activity.id, states=(state,), target=target)
    with app.app_context():
        follow_up = db.session.scalar(
            sa.select(FollowUp).where(FollowUp.recommendation_id == recommendation.id)
        )
        follow_up.created_at = at(created)
        db.session.commit()
        return follow_up.id, recommendation.code


def _report(app, follow_up_id: int, when: datetime, review: date | None = None, status=None):
    """A status update as posted at ``when``."""
    from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
    from kpplan.recommendations.statuses import FollowUpStatus

    with app.app_context():
        follow_up = db.session.get(FollowUp, follow_up_id)
        new = status or FollowUpStatus.IN_PROGRESS
        db.session.add(
            StatusUpdate(
                follow_up=follow_up,
                status_before=follow_up.status,
                status=new,
                narrative="Working on it.",
                posted_at=when,
                next_review_date=review,
            )
        )
        follow_up.status = new
        follow_up.last_update_at = when
        if review is not None:
            follow_up.next_review_date = review
        db.session.commit()


def test_a_follow_up_due_soon_reaches_the_focal_points_once(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "follow_up_due")
    alternate = factory.user(Role.FOCAL_POINT, state="Kenya", is_alternate=True)
    follow_up_id, code = _follow_up(app, factory, date(2026, 12, 31))
    run(app, at("2026-11-30T12:00"))  # 31 days before
    assert smtp.messages == []
    moment = at("2026-12-01T00:30")
    while moment < at("2027-01-03T00:00"):
        run(app, moment)
        moment += timedelta(hours=7)
    assert sorted(smtp.keys()) == [f"follow_up_due follow_up:{follow_up_id} due:2026-12-31"] * 2
    assert {m["To"].addresses[0].addr_spec for m in smtp.messages} == {
        people["fp_a"].email,
        alternate.email,
    }
    message = smtp.to(people["fp_a"].email)[0]
    assert code in message["Subject"] and "Kenya" in message["Subject"]
    login_as(people["fp_a"])
    assert link_path(message) == f"/follow-ups/{follow_up_id}"
    page = client.get(link_path(message))
    assert page.status_code == 200 and "Post an update" in page.text
    # Another state's focal point gets nothing, and the link is not theirs.
    assert smtp.to(people["fp_b"].email) == []
    login_as(people["fp_b"])
    assert client.get(link_path(message)).status_code == 404


def test_an_overdue_follow_up_weekly_until_updated_then_escalated(app, people, factory, smtp):
    turn_off_other_rules(app, "follow_up_overdue", "follow_up_escalated")
    follow_up_id, _ = _follow_up(app, factory, date(2026, 12, 1))
    day = date(2026, 12, 1)
    while day <= date(2027, 1, 10):
        run(app, at(f"{day.isoformat()}T09:00"))
        if day == date(2026, 12, 20):
            # An update without a new review date: it still stops the weekly reminders.
            _report(app, follow_up_id, at("2026-12-20T15:00"))
        day += timedelta(days=1)
    assert smtp.keys() == [
        f"follow_up_overdue follow_up:{follow_up_id} late:2026-12-01:0",
        f"follow_up_overdue follow_up:{follow_up_id} late:2026-12-01:1",
        f"follow_up_overdue follow_up:{follow_up_id} late:2026-12-01:2",
    ]
    assert all(people["fp_a"].email in str(m["To"]) for m in smtp.messages)

    # Never updated: after 28 days the secretariat is told, once; they cannot turn it off.
    other_id, _ = _follow_up(app, factory, date(2027, 1, 1), state="Italy")
    set_preference(app, people["secretariat"], "follow_up_escalated", Delivery.OFF)
    smtp.messages.clear()
    day = date(2027, 1, 1)
    while day <= date(2027, 2, 15):
        run(app, at(f"{day.isoformat()}T09:00"))
        day += timedelta(days=1)
    escalations = [m for m in smtp.messages if "escalated" in str(m["X-Kpplan-Reminder"])]
    assert [str(m["X-Kpplan-Reminder"]) for m in escalations] == [
        f"follow_up_escalated follow_up:{other_id} escalated:2027-01-01"
    ]
    assert people["secretariat"].email in str(escalations[0]["To"])
    weekly = [m for m in smtp.messages if "overdue" in str(m["X-Kpplan-Reminder"])]
    assert len(weekly) == 7 and all(people["fp_b"].email in str(m["To"]) for m in weekly)


def test_stale_follow_ups_and_waiting_validations(app, people, factory, smtp):
    from kpplan.recommendations.follow_up_models import StatusUpdate
    from kpplan.recommendations.statuses import FollowUpStatus, Validation

    turn_off_other_rules(app, "follow_up_stale", "validation_waiting")
    stale_id, _ = _follow_up(app, factory, None, created="2026-09-01T10:00")
    fresh_id, _ = _follow_up(app, factory, None, created="2026-09-01T10:00", state="Italy")
    _report(app, fresh_id, at("2026-11-15T10:00"))
    waiting_id, _ = _follow_up(app, factory, None, state="Italy")
    with app.app_context():
        from kpplan.recommendations.follow_up_models import FollowUp

        follow_up = db.session.get(FollowUp, waiting_id)
        update = StatusUpdate(
            follow_up=follow_up,
            status_before=FollowUpStatus.IN_PROGRESS,
            status=FollowUpStatus.IMPLEMENTED,
            narrative="Done.",
            posted_at=at("2026-11-20T10:00"),
            validation=Validation.PENDING,
        )
        db.session.add(update)
        db.session.flush()
        follow_up.pending_update_id = update.id
        follow_up.last_update_at = at("2026-11-20T10:00")
        db.session.commit()
        update_id = update.id
    for day in range(25, 31):
        run(app, at(f"2026-11-{day}T09:00"))
    for day in range(1, 31):
        run(app, at(f"2026-12-{day:02d}T09:00"))
    assert sorted(smtp.keys()) == sorted(
        [
            f"follow_up_stale follow_up:{stale_id} since:2026-09-01",
            f"validation_waiting status_update:{update_id} posted:2026-11-20",
        ]
    )
    stale = next(m for m in smtp.messages if "stale" in str(m["X-Kpplan-Reminder"]))
    assert people["fp_a"].email in str(stale["To"])
    assert (
        "has had no update since it was recorded on 1 September 2026"
        in stale.get_body(("plain",)).get_content()
    )
    waiting = next(m for m in smtp.messages if "validation" in str(m["X-Kpplan-Reminder"]))
    assert people["secretariat"].email in str(waiting["To"])
