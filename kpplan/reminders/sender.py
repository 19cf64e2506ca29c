"""Sending what is due in the outbox: claim with a lease, send, mark, retry with back-off.

A sender first claims rows (one commit), then sends each one and records the outcome (one
commit per mail). A sender that dies between the two leaves its rows claimed; once the
lease has run out another run claims them again, and the attempt already counted keeps a
mail that kills the sender every time from being tried for ever.

Delivery is at least once. A mail is marked sent in a transaction of its own the moment the
mail server accepts it; a sender that dies in between (a few milliseconds) leaves that one
mail to be sent again after the lease, with the same Message-ID, by which mail servers and
clients recognise the copy. A sender also checks, before each mail, that its claim still
holds: rows another run took over once the lease ran out are that run's to send.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from kpplan.core.extensions import db
from kpplan.reminders.mail import build_message, transport_for
from kpplan.reminders.models import Reminder, ReminderStatus

log = logging.getLogger(__name__)


@dataclass
class SendReport:
    sent: list[Reminder] = field(default_factory=list)
    retried: list[Reminder] = field(default_factory=list)
    failed: list[Reminder] = field(default_factory=list)


def _lease() -> timedelta:
    return timedelta(minutes=current_app.config["REMINDER_CLAIM_MINUTES"])


def _claimable(now: datetime):
    return (
        Reminder.status == ReminderStatus.PENDING,
        Reminder.next_attempt_at <= now,
        or_(Reminder.claimed_at.is_(None), Reminder.claimed_at <= now - _lease()),
    )


def give_up_on_abandoned(now: datetime) -> list[Reminder]:
    """Mark as failed the rows whose last allowed attempt was claimed by a sender that never
    came back, keeping why for the administrator."""
    most = current_app.config["REMINDER_MAX_ATTEMPTS"]
    rows = db.session.scalars(
        select(Reminder).where(*_claimable(now), Reminder.attempts >= most)
    ).all()
    for row in rows:
        row.status = ReminderStatus.FAILED
        row.claimed_at = row.claim_token = None
        row.last_error = (
            f"Not sent after {row.attempts} attempts: the sending stopped before it could "
            f"finish. {row.last_error or ''}"
        ).strip()
    return rows


def claim(now: datetime, limit: int | None = None) -> str | None:
    """Take a lease on up to ``limit`` rows due at ``now``; returns the claim's token.

    On PostgreSQL the rows are locked with SKIP LOCKED, so two senders never claim the same
    row; on SQLite the database allows one writer at a time anyway.
    """
    limit = limit or current_app.config["REMINDER_SEND_BATCH"]
    most = current_app.config["REMINDER_MAX_ATTEMPTS"]
    query = (
        select(Reminder.id)
        .where(*_claimable(now), Reminder.attempts < most)
        .order_by(Reminder.next_attempt_at, Reminder.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = db.session.scalars(query).all()
    if not ids:
        return None
    token = uuid.uuid4().hex
    db.session.execute(
        update(Reminder)
        .where(Reminder.id.in_(ids), *_claimable(now))
        .values(claimed_at=now, claim_token=token, attempts=Reminder.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return token


def claimed(token: str) -> list[Reminder]:
    return db.session.scalars(
        select(Reminder)
        .where(Reminder.claim_token == token)
        .options(joinedload(Reminder.user))
        .order_by(Reminder.id)
    ).all()


#: The items a summary mail lists; it counts the others and links to the page of them all.
DIGEST_LISTED = 50


@dataclass
class DigestItems:
    """What a summary mail shows: its first ``DIGEST_LISTED`` items in order, and how many
    more it holds."""

    listed: list[Reminder] = field(default_factory=list)
    more: int = 0


def digest_items(digest_ids: list[int]) -> dict[int, DigestItems]:
    """The first ``DIGEST_LISTED`` reminders each summary lists (by rule, then as planned)
    and the count of the others, in one query: the rows past the first ones are counted in
    SQL, never loaded (a first start's summary can hold tens of thousands)."""
    items = {i: DigestItems() for i in digest_ids}
    if not digest_ids:
        return items
    order = (Reminder.rule, Reminder.id)
    ranked = (
        select(
            Reminder.id,
            func.row_number().over(partition_by=Reminder.digest_id, order_by=order).label("n"),
            func.count().over(partition_by=Reminder.digest_id).label("total"),
        )
        .where(Reminder.digest_id.in_(digest_ids))
        .subquery()
    )
    rows = db.session.execute(
        select(Reminder, ranked.c.total)
        .join(ranked, ranked.c.id == Reminder.id)
        .where(ranked.c.n <= DIGEST_LISTED)
        .order_by(Reminder.digest_id, *order)
    ).all()
    for item, total in rows:
        shown = items[item.digest_id]
        shown.listed.append(item)
        shown.more = total - min(total, DIGEST_LISTED)
    return items


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: doubling, at most a day."""
    base = current_app.config["REMINDER_RETRY_MINUTES"]
    return min(timedelta(minutes=base * 2 ** max(attempts - 1, 0)), timedelta(days=1))


def send_due(now: datetime, transport=None) -> SendReport:
    """Send every reminder and summary due at ``now``; commits after the claim and after
    each mail. Returns what was sent, what will be retried and what was given up."""
    report = SendReport()
    report.failed.extend(give_up_on_abandoned(now))
    db.session.commit()
    transport = transport or transport_for(current_app.config)
    most = current_app.config["REMINDER_MAX_ATTEMPTS"]
    try:
        while True:
            token = claim(now)
            db.session.commit()
            if token is None:
                break
            rows = claimed(token)
            items = digest_items([r.id for r in rows if r.is_digest])
            # The summaries' items are only read (loaded in full): out of the session, where
            # the commit after each mail would expire every one of them again.
            for shown in items.values():
                for item in shown.listed:
                    db.session.expunge(item)
            for row in rows:
                # Read afresh: another run may have taken the row over meanwhile.
                db.session.refresh(row)
                if row.claim_token != token or row.status is not ReminderStatus.PENDING:
                    continue
                _send_one(row, items.get(row.id), now, transport, most, report)
                db.session.commit()
    finally:
        transport.close()
    return report


def _mark_sent(row_id: int, now: datetime) -> None:
    """Record at once, alone in its transaction, that the server accepted the mail: the
    shorter this moment, the fewer copies a sender dying in it leaves."""
    db.session.execute(
        update(Reminder)
        .where(Reminder.id == row_id)
        .values(status=ReminderStatus.SENT, sent_at=now, claimed_at=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _send_one(
    row: Reminder, items: DigestItems | None, now, transport, most: int, report: SendReport
) -> None:
    if not row.user.active:
        row.status = ReminderStatus.OFF
        row.last_error = "Not sent: the account has been deactivated."
        row.claimed_at = row.claim_token = None
        return
    row_id = row.id
    try:
        # Everything that can be done before the mail leaves is done before it leaves.
        items = items or DigestItems()
        message = build_message(row, items.listed, now, more=items.more)
        transport.send(message, row)
    except Exception as error:  # noqa: BLE001 - any failure is kept for the admin page
        log.warning("reminder %s not sent: %s", row.id, error)
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        row.claimed_at = row.claim_token = None
        if row.attempts >= most:
            row.status = ReminderStatus.FAILED
            report.failed.append(row)
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            report.retried.append(row)
        return
    _mark_sent(row_id, now)
    report.sent.append(row)
