"""The reminder job as operators run it: `flask kpplan remind` and two scheduler processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import sqlalchemy as sa

from kpplan import PROJECT_ROOT
from kpplan.core.extensions import db
from kpplan.reminders.models import ReminderRun
from tests.reminders.helpers import add_milestone, rows, turn_off_other_rules


def test_remind_command_runs_one_tick_and_dry_run_changes_nothing(
    app, runner, people, factory, smtp
):
    turn_off_other_rules(app, "milestone_due")
    activity = factory.activity(start=date(2026, 12, 20))
    add_milestone(app, activity.id, date(2026, 12, 3), people["secretariat"])

    result = runner.invoke(args=["kpplan", "remind", "--now", "2026-12-01T08:00", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing changed at 2026-12-01 07:00 UTC" in result.output
    assert "Planned 1:" in result.output and "Would send 1:" in result.output
    assert rows(app) == [] and smtp.messages == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReminderRun.id))) == 0

    result = runner.invoke(args=["kpplan", "remind", "--now", "2026-12-01T08:00"])
    assert "Planned 1:" in result.output and "Sent 1:" in result.output
    assert "milestone_due milestone:1 due:2026-12-03" in result.output
    result = runner.invoke(args=["kpplan", "remind", "--now", "2026-12-01T08:05+01:00"])
    assert "Planned 0:" in result.output and "Sent 0:" in result.output
    assert len(smtp.messages) == 1
    result = runner.invoke(args=["kpplan", "remind", "--now", "yesterday"])
    assert result.exit_code == 2 and "2026-12-01T08:00" in result.output


# The scheduler processes -----------------------------------------------------------------


def _start_scheduler(env: dict, log_path) -> subprocess.Popen:
    # The child keeps its own copy of the file; ours closes once it has started.
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "kpplan", "scheduler"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _runs_by(app, process: subprocess.Popen) -> int:
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count(ReminderRun.id)).where(
                ReminderRun.runner.like(f"scheduler {process.pid}@%"),
                ReminderRun.finished_at.is_not(None),
                ReminderRun.errors.is_(None),
            )
        )
        db.session.remove()
        return count


def _wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_two_scheduler_processes_only_one_ticks_and_the_other_takes_over(
    app, database_url, tmp_path
):
    env = {
        **os.environ,
        "KPPLAN_DATABASE_URL": database_url,
        "KPPLAN_SECRET_KEY": "test",
        "KPPLAN_REMINDER_TICK_MINUTES": "0.01",  # every 0.6 seconds
        "KPPLAN_SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock"),
        "KPPLAN_MAIL_FOLDER": str(tmp_path / "mail"),
    }
    first = _start_scheduler(env, tmp_path / "first.log")
    second = None
    try:
        assert _wait_for(lambda: _runs_by(app, first) >= 2), (tmp_path / "first.log").read_text()
        second = _start_scheduler(env, tmp_path / "second.log")
        assert _wait_for(lambda: "waiting to take over" in (tmp_path / "second.log").read_text())
        ticks_before = _runs_by(app, first)
        time.sleep(3)
        assert _runs_by(app, second) == 0
        assert _runs_by(app, first) > ticks_before  # the leader goes on ticking

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        stopped_at = _runs_by(app, first)
        assert _wait_for(lambda: _runs_by(app, second) >= 2), (tmp_path / "second.log").read_text()
        assert _runs_by(app, first) == stopped_at
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
