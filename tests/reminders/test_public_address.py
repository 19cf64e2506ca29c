"""One public address: a hand-run `kpplan remind` and the scheduler write the same links,
both from BASE_URL, never from a port guessed by one of them."""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
from datetime import timedelta
from email.policy import default as default_policy

import sqlalchemy as sa

from kpplan import PROJECT_ROOT
from kpplan.core.clock import today
from kpplan.core.extensions import db
from kpplan.reminders.models import Reminder, ReminderRun
from tests.reminders.helpers import add_milestone, turn_off_other_rules
from tests.reminders.test_scheduler import _start_scheduler, _wait_for

BASE = "https://kpplan.example.org/kp"


def _links(folder) -> list[str]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        found += re.findall(r"https?://\S+", message.get_body(("plain",)).get_content())
    return found


def test_the_command_and_the_scheduler_write_the_same_links(
    app, database_url, people, factory, tmp_path
):
    turn_off_other_rules(app, "milestone_due")
    with app.test_request_context():
        day = today()
    activity = factory.activity(start=day + timedelta(days=40))
    add_milestone(app, activity.id, day + timedelta(days=3), people["secretariat"])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KPPLAN_")},
        "KPPLAN_DATABASE_URL": database_url,
        "KPPLAN_SECRET_KEY": "test",
        "KPPLAN_BASE_URL": BASE,
        "KPPLAN_REMINDER_TICK_MINUTES": "0.01",
        "KPPLAN_SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock"),
    }

    by_hand = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "kpplan", "remind"],
        cwd=PROJECT_ROOT,
        env={**env, "KPPLAN_MAIL_FOLDER": str(tmp_path / "by-hand")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert by_hand.returncode == 0, by_hand.stderr
    assert f"Links in the mails start with {BASE} (BASE_URL)." in by_hand.stdout
    # The same reminder again, this time from the scheduler.
    with app.app_context():
        db.session.execute(sa.delete(Reminder))
        db.session.execute(sa.delete(ReminderRun))
        db.session.commit()
    scheduler = _start_scheduler(
        {**env, "KPPLAN_MAIL_FOLDER": str(tmp_path / "scheduled")}, tmp_path / "scheduler.log"
    )
    try:
        assert _wait_for(lambda: _links(tmp_path / "scheduled")), (
            tmp_path / "scheduler.log"
        ).read_text()
    finally:
        scheduler.kill()
        scheduler.wait(timeout=10)
    assert (
        f"links in the mails start with {BASE} (BASE_URL)"
        in (tmp_path / "scheduler.log").read_text()
    )

    links = _links(tmp_path / "by-hand")
    assert links == _links(tmp_path / "scheduled")
    assert f"{BASE}/activities/{activity.id}" in links
    assert all(link.startswith(BASE + "/") for link in links)
