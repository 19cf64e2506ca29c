"""Forgetting delegates: after the retention period only the counts remain.

Delegates are people, not accounts. Once an activity ended before the cut-off, its
delegates' records are deleted and the audit trail's entries about them keep only what is
not personal (the delegation, the decision, whether they came). The list keeps its
figures (participants, countries, organisations, women) and each delegation how many of
its delegates came. Run by ``flask --app wsgi kpplan forget-participants`` and, every day,
by the scheduler.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Flask, current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from kpplan.audit import services as audit
from kpplan.audit.models import AuditEntry
from kpplan.core import clock
from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity
from kpplan.participants.attendance import refresh_figures
from kpplan.participants.models import Invitation, InvitationList, Participant
from kpplan.participants.services import PERSONAL_FIELDS

log = logging.getLogger("kpplan.scheduler")


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day if shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def retention_cutoff(today: date, months: int) -> date:
    """Activities that ended before this day are forgotten."""
    return months_before(today, months)


@dataclass
class Forgotten:
    """What one run erased: each activity's title and how many delegates."""

    activities: list[tuple[str, int]] = field(default_factory=list)

    @property
    def delegates(self) -> int:
        return sum(n for _, n in self.activities)


def lists_to_forget(before: date) -> list[InvitationList]:
    """The lists of activities that ended before ``before`` and still hold delegates."""
    has_delegates = exists().where(
        Invitation.list_id == InvitationList.id, Participant.invitation_id == Invitation.id
    )
    return db.session.scalars(
        select(InvitationList)
        .join(Activity, Activity.id == InvitationList.activity_id)
        .where(Activity.end_date < before, has_delegates)
        .options(joinedload(InvitationList.activity))
        .order_by(Activity.end_date, InvitationList.id)
    ).all()


def _scrub(entry: AuditEntry, day: date) -> None:
    for side in ("before", "after"):
        values = getattr(entry, side)
        if values:
            setattr(entry, side, {k: v for k, v in values.items() if k not in PERSONAL_FIELDS})
    entry.summary = (
        f"{entry.action.capitalize()}: a delegate (personal details erased on {day.isoformat()})"
    )[:300]


def forget_list(actor, invitation_list: InvitationList, now: datetime) -> int:
    """Erase the delegates of one list and what the trail says about them; returns how
    many. The list keeps its figures and is marked as erased."""
    refresh_figures(invitation_list)
    ids = db.session.scalars(
        select(Participant.id)
        .join(Invitation, Invitation.id == Participant.invitation_id)
        .where(Invitation.list_id == invitation_list.id)
    ).all()
    day = now.date()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for entry in db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == Participant.__tablename__,
                AuditEntry.object_id.in_(chunk),
            )
        ):
            _scrub(entry, day)
        for participant in db.session.scalars(select(Participant).where(Participant.id.in_(chunk))):
            db.session.delete(participant)
    before = audit.snapshot(invitation_list, ("erased_at", "version"))
    invitation_list.erased_at = now
    db.session.flush()
    audit.record(
        actor,
        "erased",
        invitation_list,
        f"Erased the personal details of {len(ids)} delegate{'s' if len(ids) != 1 else ''} of "
        f"{invitation_list.activity.title} (retention period over); the figures are kept",
        {**before, "delegates": len(ids)},
        {**audit.snapshot(invitation_list, ("erased_at", "version")), "delegates": 0},
    )
    return len(ids)


def forget_before(actor, before: date, now: datetime) -> Forgotten:
    """Erase the delegates of every activity that ended before ``before`` (no commit)."""
    report = Forgotten()
    for invitation_list in lists_to_forget(before):
        count = forget_list(actor, invitation_list, now)
        report.activities.append((invitation_list.activity.title, count))
    return report


def forget_expired(now: datetime) -> Forgotten:
    """Erase the delegates whose retention period is over at ``now`` (no commit): those of
    activities that ended ``PARTICIPANT_RETENTION_MONTHS`` months before the Process's
    today, or earlier."""
    months = int(current_app.config["PARTICIPANT_RETENTION_MONTHS"])
    today = now.astimezone(clock.timezone(fresh=True)).date()
    return forget_before(None, retention_cutoff(today, months), now)


def forget_job(app: Flask) -> None:
    """The scheduler's daily erasure: one transaction; a failure is logged and the next
    day's run tries again."""
    now = utcnow()
    with app.app_context():
        try:
            report = forget_expired(now)
            db.session.commit()
        except Exception:
            log.exception("Erasing the delegates of past activities failed.")
            db.session.rollback()
            return
        finally:
            db.session.remove()
    if report.delegates:
        print(
            f"{now:%Y-%m-%d %H:%M:%S} UTC: erased the personal details of "
            f"{report.delegates} delegates of {len(report.activities)} activities",
            flush=True,
        )
