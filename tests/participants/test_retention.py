"""Personal data: after the retention period the delegates' details are erased, from the
list and from the history, and only the counts remain — by the command and, every day, by
the scheduler."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.meetings.models import Status
from kpplan.participants import retention
from kpplan.participants.models import Gender, Invitation, Participant, ParticipantStatus
from tests.participants.helpers import draw_up, flashes, invitation_list, name, text

CONFIRMED = ParticipantStatus.CONFIRMED


def _today(app) -> date:
    from kpplan.core.clock import today

    with app.test_request_context():
        return today()


@pytest.fixture
def two_meetings(app, factory):
    """One meeting three years ago (attendance ticked), one last month."""
    today = _today(app)
    old = factory.activity(
        title="Old meeting", start=today - timedelta(days=3 * 365), status=Status.HELD
    )
    ids = draw_up(app, old.id, states=("Kenya", "Italy"), organisations=("IOM",))
    old_people = [
        name(app, ids["Kenya"], "Wanjiku Kamau", CONFIRMED, Gender.FEMALE, "w@example.org", True),
        name(app, ids["Kenya"], "Baraka Mwangi", CONFIRMED, Gender.MALE, attended=True),
        name(app, ids["IOM"], "Omar Said", CONFIRMED, Gender.MALE, attended=True),
        name(app, ids["Italy"], "Giulia Rossi", ParticipantStatus.REFUSED),
    ]
    recent = factory.activity(
        title="Recent meeting", start=today - timedelta(days=30), status=Status.HELD
    )
    recent_ids = draw_up(app, recent.id, states=("Kenya",))
    name(app, recent_ids["Kenya"], "Recent Delegate", CONFIRMED)
    return old, ids, old_people, recent


def test_months_before_keeps_to_the_calendar():
    assert retention.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert retention.months_before(date(2026, 11, 26), 24) == date(2024, 11, 26)
    assert retention.months_before(date(2024, 2, 29), 12) == date(2023, 2, 28)
    assert retention.months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_the_command_erases_the_details_and_keeps_the_counts(
    app, client, runner, people, login_as, two_meetings
):
    old, ids, old_people, recent = two_meetings
    before = (_today(app) - timedelta(days=365)).isoformat()

    dry = runner.invoke(args=["kpplan", "forget-participants", "--before", before, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Old meeting" in dry.output and "Recent meeting" not in dry.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 5

    result = runner.invoke(args=["kpplan", "forget-participants", "--before", before])
    assert result.exit_code == 0, result.output
    assert "Erased the personal details of 4 delegates of 1 activities" in result.output
    assert "Old meeting: 4" in result.output

    with app.app_context():
        remaining = db.session.scalars(sa.select(Participant.name)).all()
        assert remaining == ["Recent Delegate"]
        # The history keeps who did what and when, not who the delegates were.
        trail = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.object_id.in_(old_people))
            .where(AuditEntry.object_type == "participants")
        ).all()
        assert trail and all("personal details erased" in e.summary for e in trail)
        dumped = json.dumps([[e.summary, e.before, e.after] for e in trail])
        for secret in ("Wanjiku", "Baraka", "Omar", "Giulia", "w@example.org", "female"):
            assert secret not in dumped
        assert trail[0].after["delegation"] == "Kenya" and "status" in trail[0].after
        erased = db.session.scalar(
            sa.select(AuditEntry).where(
                AuditEntry.object_type == "invitation_lists", AuditEntry.action == "erased"
            )
        )
        assert erased.actor_id is None and erased.before["delegates"] == 4
        kept = {i.id: i.attended for i in db.session.scalars(sa.select(Invitation))}
    counted = invitation_list(app, ids["list"])
    assert counted.erased_at is not None
    assert (counted.attended, counted.countries, counted.organisations, counted.women) == (
        3,
        1,
        1,
        1,
    )
    assert (kept[ids["Kenya"]], kept[ids["IOM"]], kept[ids["Italy"]]) == (2, 1, 0)

    login_as(people["secretariat"])
    page = text(client.get(f"/activities/{old.id}/participants"))
    assert "personal details were erased" in page and "Wanjiku" not in page
    assert "3</p><p>participants" in page
    assert "Wanjiku" not in text(client.get("/history/?type=participants"))
    # Nothing can be added to an erased list.
    refused = client.post(
        f"/activities/{old.id}/delegations/{ids['Kenya']}",
        data={"name": "Late Comer", "gender": "not_given"},
    )
    assert "were erased at the end of the retention period" in text(refused)
    assert client.get(f"/activities/{old.id}/attendance").status_code == 200
    assert "Save the attendance" not in text(client.get(f"/activities/{old.id}/attendance"))
    # Run again: nothing more to erase.
    again = runner.invoke(args=["kpplan", "forget-participants", "--before", before])
    assert "of 0 delegates of 0 activities" in again.output


def test_the_command_refuses_a_day_to_come_and_a_day_it_cannot_read(app, runner, two_meetings):
    tomorrow = (_today(app) + timedelta(days=1)).isoformat()
    result = runner.invoke(args=["kpplan", "forget-participants", "--before", tomorrow])
    assert result.exit_code == 2 and "only activities that are over" in result.output
    result = runner.invoke(args=["kpplan", "forget-participants", "--before", "31/12/2024"])
    assert result.exit_code == 2 and "2025-01-31" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 5


def test_by_default_the_retention_period_of_the_configuration_applies(app, runner, two_meetings):
    assert app.config["PARTICIPANT_RETENTION_MONTHS"] == 24
    result = runner.invoke(args=["kpplan", "forget-participants"])
    assert "of 4 delegates of 1 activities" in result.output
    app.config["PARTICIPANT_RETENTION_MONTHS"] = 0
    result = runner.invoke(args=["kpplan", "forget-participants"])
    assert "of 1 delegates of 1 activities" in result.output


def test_the_scheduler_erases_every_day(app, monkeypatch, capsys, two_meetings):
    from kpplan.reminders import scheduler

    jobs = []

    class Scheduler:
        def __init__(self, **kwargs) -> None:
            pass

        def add_job(self, func, trigger, **kwargs) -> None:
            jobs.append((kwargs.get("id"), func, trigger, kwargs))

        def start(self) -> None:
            pass

    monkeypatch.setattr(scheduler, "BlockingScheduler", Scheduler)
    monkeypatch.setattr(scheduler.LeaderLock, "acquire", lambda self: None)
    scheduler.run_scheduler(app)
    by_id = {job_id: (func, trigger, kwargs) for job_id, func, trigger, kwargs in jobs}
    assert set(by_id) == {"reminders", "forget-participants"}
    func, trigger, kwargs = by_id["forget-participants"]
    assert trigger == "interval" and kwargs["days"] == 1 and kwargs["coalesce"]

    func(*kwargs["args"])
    assert "erased the personal details of 4 delegates of 1 activities" in capsys.readouterr().out
    with app.app_context():
        assert db.session.scalars(sa.select(Participant.name)).all() == ["Recent Delegate"]


def test_a_failing_erasure_is_logged_and_rolled_back(app, monkeypatch, caplog, two_meetings):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "forget_list", explode)
    retention.forget_job(app)
    assert "Erasing the delegates of past activities failed." in caplog.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 5


def test_the_flash_of_an_erased_list(app, client, people, login_as, two_meetings):
    old, ids, old_people, _recent = two_meetings
    with app.app_context():
        retention.forget_before(None, _today(app), retention.utcnow())
        db.session.commit()
    login_as(people["secretariat"])
    response = client.post(
        f"/activities/{old.id}/participants/{old_people[0]}/decide",
        data={"status": "confirmed", "version": "1"},
        follow_redirects=True,
    )
    # The delegate is gone: not found.
    assert response.status_code == 404
    page = client.post(
        f"/activities/{old.id}/invitations",
        data={"version": str(invitation_list(app, ids["list"]).version), "states": []},
        follow_redirects=True,
    )
    assert "were erased" in " ".join(flashes(page.text)) or "were erased" in text(page)
