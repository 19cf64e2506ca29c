"""The reminder scheduler: one process, one leader, one job that ticks every few minutes.

The web app never starts it: ``flask --app wsgi kpplan scheduler`` runs it in a process of
its own (``make run`` starts one beside the web server). A second scheduler started by
mistake waits for the leader lock and takes over when the first one dies: on PostgreSQL an
advisory lock held by a connection kept for that purpose, on SQLite a lock on a file. The
operating system or the database server releases either when the process dies, however it
dies.

The job holds no state of its own: every tick decides from the database and the moment it
runs, so jobs lost on restart, late or coalesced runs do no harm.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import time
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text

from kpplan.core.db import utcnow
from kpplan.core.extensions import db

log = logging.getLogger("kpplan.scheduler")

# Any number unique to kpplan's reminder scheduler among the advisory locks of the database.
ADVISORY_LOCK_KEY = 0x6B70_706C_616E  # "kpplan"


class LeaderLock:
    """Held by the one scheduler that ticks; others wait in ``acquire``."""

    def __init__(self, app: Flask, poll_seconds: float = 2.0) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self._connection = None
        self._file = None

    def try_acquire(self) -> bool:
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                if self._connection is None:
                    # A connection of its own, outside the pool, held for the life of the
                    # process: the lock lives exactly as long as it does.
                    self._connection = db.engine.connect()
                got = self._connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                ).scalar()
                self._connection.commit()
                return bool(got)
        path = self.app.config["SCHEDULER_LOCK_FILE"]
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        if self._file is None:
            self._file = open(path, "a+")  # noqa: SIM115 - kept open while the lock is held
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()
        return True

    def acquire(self) -> None:
        """Wait until this process is the only scheduler."""
        said = False
        while not self.try_acquire():
            if not said:
                log.warning("Another reminder scheduler is running: waiting to take over.")
                print("Another reminder scheduler is running: waiting to take over.", flush=True)
                said = True
            time.sleep(self.poll_seconds)

    def still_held(self) -> bool:
        """False when the lock's connection has been lost (the server may have given the
        lock to another scheduler meanwhile)."""
        if self._connection is None:
            return True
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:  # noqa: BLE001 - any failure means the lock may be gone
            return False
        return True


def runner_name() -> str:
    return f"scheduler {os.getpid()}@{socket.gethostname()}"[:120]


def run_scheduler(app: Flask) -> None:
    """Become the leader, then tick every ``REMINDER_TICK_MINUTES`` until stopped."""
    from kpplan.reminders.planner import tick

    lock = LeaderLock(app)
    lock.acquire()
    minutes = float(app.config["REMINDER_TICK_MINUTES"])
    interval = timedelta(minutes=minutes)
    scheduler = BlockingScheduler(timezone="UTC")

    def job() -> None:
        if not lock.still_held():
            log.error("The scheduler lost its lock; stopping so that another can take over.")
            os._exit(3)
        now = utcnow()
        with app.app_context():
            try:
                report = tick(now, runner=runner_name(), next_run_at=now + interval)
            except Exception:
                log.exception("The reminder tick failed; the next one will try again.")
                db.session.rollback()
                return
            finally:
                db.session.remove()
        print(
            f"{now:%Y-%m-%d %H:%M:%S} UTC: planned {report.planned_count}, "
            f"summaries {len(report.digests)}, sent {len(report.send.sent)}, "
            f"failed {len(report.send.failed) + len(report.send.retried)}",
            flush=True,
        )

    scheduler.add_job(
        job,
        "interval",
        seconds=interval.total_seconds(),
        id="reminders",
        next_run_time=utcnow(),
        # One at a time; runs missed while busy or asleep become one; never dropped for
        # starting late.
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    # Delegates' details past their retention period are erased once a day.
    from kpplan.participants.retention import forget_job

    scheduler.add_job(
        forget_job,
        "interval",
        args=[app],
        days=1,
        id="forget-participants",
        next_run_time=utcnow(),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    print(
        f"Reminder scheduler {runner_name()} is running: a tick every {minutes:g} minutes; "
        f"links in the mails start with {app.config['BASE_URL']} (BASE_URL).",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
