"""The reminder job under faults: a tick killed after planning, a database held by another
writer, a sender that dies with a mail in flight, and a lease that runs out mid-batch."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from kpplan import create_app
from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
from kpplan.meetings.models import Milestone
from kpplan.reminders.mail import transport_for
from kpplan.reminders.models import Reminder, ReminderRun, ReminderStatus
from kpplan.reminders.planner import tick
from tests.reminders.helpers import BRUSSELS, Inbox, free_port


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_TIMEOUT": 5}


@pytest.fixture
def smtp(smtp_port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BRUSSELS).astimezone(UTC)


def run(app, when: datetime, **kwargs):
    with app.app_context():
        return tick(when, **kwargs)


def rows(app) -> list[Reminder]:
    with app.app_context():
        found = db.session.scalars(sa.select(Reminder).order_by(Reminder.id)).all()
        db.session.expunge_all()
        return found


def runs(app) -> list[ReminderRun]:
    with app.app_context():
        found = db.session.scalars(sa.select(ReminderRun).order_by(ReminderRun.id)).all()
        db.session.expunge_all()
        return found


def only_milestones_due(app) -> None:
    from kpplan.reminders import services
    from kpplan.reminders.rules import RULES

    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN))
        for key, rule in RULES.items():
            services.save_rule_setting(admin, key, key == "milestone_due", rule.default_days)
        db.session.commit()


def milestones_due(app, factory, owner: User, count: int, due=date(2026, 12, 5)) -> None:
    activity = factory.activity(start=due + timedelta(days=15))
    with app.app_context():
        for number in range(count):
            db.session.add(
                Milestone(
                    activity_id=activity.id,
                    name=f"Step {number + 1}",
                    due_date=due,
                    owner_id=owner.id,
                )
            )
        db.session.commit()


class SenderKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


class DyingTransport:
    def send(self, message, reminder):
        raise SenderKilled

    def close(self):
        pass


def forget_session(app) -> None:
    """The dead process's session (and any transaction it had open) goes with it."""
    with app.app_context():
        db.session.rollback()
        db.session.remove()


# A tick killed after its planning commit --------------------------------------------------


def test_a_tick_killed_after_planning_then_31_days_of_ticks(app, people, factory, smtp):
    only_milestones_due(app)
    milestones_due(app, factory, people["secretariat"], 2)
    quiet = at("2026-11-20T09:00")
    run(app, quiet)  # plans nothing: forgotten once old
    killed_at = at("2026-12-01T09:00")
    with pytest.raises(SenderKilled):
        run(app, killed_at, transport=DyingTransport())
    forget_session(app)

    (_, killed) = runs(app)
    assert killed.finished_at is None
    assert killed.planned == 2  # counted with the planning, not at the end

    # A month of ticks, six hours apart: each one finishes, the old run the reminders point to
    # stays, the quiet one goes.
    moment = killed_at + timedelta(minutes=30)
    while moment < killed_at + timedelta(days=31, hours=1):
        report = run(app, moment)
        assert report.errors == []
        moment += timedelta(hours=6)
    kept = {r.id: r for r in runs(app)}
    assert killed.id in kept and quiet not in [r.now for r in kept.values()]
    assert all(r.finished_at is not None for r in kept.values() if r.id != killed.id)
    reminders = rows(app)
    assert [r.run_id for r in reminders] == [killed.id, killed.id]
    assert [r.status for r in reminders] == [ReminderStatus.SENT] * 2
    assert len(smtp.messages) == 2


# Another writer holds the database ----------------------------------------------------------


class WriteLock:
    """Another process's write transaction on the database, held for ``seconds``.

    On SQLite a ``BEGIN IMMEDIATE`` (the one write lock of the file); on PostgreSQL a lock on
    the outbox that blocks every change to it.
    """

    def __init__(self, app, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.thread: threading.Thread | None = None
        self.held = threading.Event()
        self.error: BaseException | None = None

    def _hold(self) -> None:
        try:
            with self.app.app_context():
                url = db.engine.url
            if url.get_backend_name() == "sqlite":
                connection = sqlite3.connect(url.database, isolation_level=None)
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("UPDATE users SET name = name WHERE id = 1")
                self.held.set()
                time.sleep(self.seconds)
                connection.execute("COMMIT")
                connection.close()
            else:
                engine = sa.create_engine(url)
                with engine.begin() as connection:
                    connection.execute(sa.text("LOCK TABLE reminders IN EXCLUSIVE MODE"))
                    self.held.set()
                    time.sleep(self.seconds)
                engine.dispose()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.error = error
            self.held.set()

    def start(self) -> None:
        self.thread = threading.Thread(target=self._hold)
        self.thread.start()
        assert self.held.wait(10)
        assert self.error is None, self.error

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(30)
        assert self.error is None, self.error


class LockingAfterFirstSend:
    """Sends over SMTP; right after the first mail is accepted, another writer takes the
    database for longer than the driver's default 5 seconds."""

    def __init__(self, app, lock: WriteLock) -> None:
        self.smtp = transport_for(app.config)
        self.lock = lock
        self.sent = 0

    def send(self, message, reminder):
        self.smtp.send(message, reminder)
        self.sent += 1
        if self.sent == 1:
            self.lock.start()

    def close(self):
        self.smtp.close()


def test_a_tick_waits_for_another_writer_instead_of_crashing(app, people, factory, smtp):
    only_milestones_due(app)
    milestones_due(app, factory, people["secretariat"], 3)
    lock = WriteLock(app, seconds=6)
    started = time.monotonic()
    try:
        report = run(app, at("2026-12-01T09:00"), transport=LockingAfterFirstSend(app, lock))
    finally:
        lock.join()
    assert time.monotonic() - started >= 6  # it did wait for the other writer
    assert len(report.send.sent) == 3 and report.errors == []
    assert [r.status for r in rows(app)] == [ReminderStatus.SENT] * 3
    (finished,) = runs(app)
    assert finished.finished_at is not None and finished.sent == 3
    assert len(smtp.messages) == 3


def test_sqlite_connections_wait_for_locks_and_keep_a_write_ahead_log(tmp_path):
    url = f"sqlite:///{tmp_path / 'kpplan.db'}"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        db.engine.dispose()


# A sender dying with a mail in flight; a lease that runs out mid-batch ----------------------


class AcceptedThenKilled:
    """The mail server accepts the mail, then the sender dies before it can mark it sent."""

    def __init__(self, app) -> None:
        self.smtp = transport_for(app.config)

    def send(self, message, reminder):
        self.smtp.send(message, reminder)
        raise SenderKilled

    def close(self):
        self.smtp.close()


def test_a_mail_in_flight_when_the_sender_dies_goes_again_with_its_message_id(
    app, people, factory, smtp
):
    only_milestones_due(app)
    milestones_due(app, factory, people["secretariat"], 3)
    first = at("2026-12-01T09:00")
    with pytest.raises(SenderKilled):
        run(app, first, transport=AcceptedThenKilled(app))
    forget_session(app)
    assert len(smtp.messages) == 1  # accepted, never marked

    run(app, first + timedelta(minutes=5))  # the lease holds: nothing goes
    assert len(smtp.messages) == 1
    run(app, first + timedelta(minutes=10))  # the lease ran out: all three, once more for one
    run(app, first + timedelta(minutes=15))
    ids = smtp.message_ids()
    assert len(ids) == 4 and len(set(ids)) == 3
    assert ids[0] == ids[1]  # the copy carries the first one's Message-ID
    assert [r.status for r in rows(app)] == [ReminderStatus.SENT] * 3


class AnotherSenderTakesOver:
    """While the first mail of a batch is in flight, the lease runs out and another run (at
    ``later``) claims and sends what is left."""

    def __init__(self, app, later: datetime) -> None:
        self.app = app
        self.later = later
        self.smtp = transport_for(app.config)
        self.sent = 0

    def send(self, message, reminder):
        self.smtp.send(message, reminder)
        self.sent += 1
        if self.sent == 1:
            other = threading.Thread(target=run, args=(self.app, self.later))
            other.start()
            other.join(30)

    def close(self):
        self.smtp.close()


def test_a_sender_whose_lease_ran_out_leaves_the_rest_of_its_batch_to_the_new_one(
    app, people, factory, smtp
):
    only_milestones_due(app)
    milestones_due(app, factory, people["secretariat"], 3)
    first = at("2026-12-01T09:00")
    report = run(app, first, transport=AnotherSenderTakesOver(app, first + timedelta(minutes=10)))
    # Only the mail that was in flight went twice; the first sender left the other two.
    assert len(report.send.sent) == 1
    ids = smtp.message_ids()
    assert len(ids) == 4 and len(set(ids)) == 3
    assert ids.count(ids[0]) == 2
    assert [r.status for r in rows(app)] == [ReminderStatus.SENT] * 3
