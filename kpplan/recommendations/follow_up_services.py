"""Following recommendations up: status updates with their evidence, the one check of an
update (``check_update``, for the update form and the import alike) and the secretariat's
validation of "implemented". Each function validates, changes, flushes and writes the
audit trail; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kpplan.audit import services as audit
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.files import Upload, store_file
from kpplan.directory.models import User
from kpplan.recommendations.follow_up_models import Evidence, FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import FollowUpStatus, Validation

FOLLOW_UP_FIELDS = (
    "status",
    "status_reason",
    "progress",
    "next_review_date",
    "pending_update_id",
    "version",
)


@dataclass
class EvidenceLink:
    title: str
    url: str


def _follow_up_snapshot(follow_up: FollowUp) -> dict[str, Any]:
    return audit.snapshot(follow_up, FOLLOW_UP_FIELDS)


def lock_follow_up(follow_up: FollowUp) -> FollowUp:
    """Lock the follow-up's row until the commit (on PostgreSQL) and read it afresh, so
    that two updates of it are decided one after the other, each seeing the other's."""
    db.session.execute(select(FollowUp.id).where(FollowUp.id == follow_up.id).with_for_update())
    db.session.refresh(follow_up)
    return follow_up


def set_status(
    follow_up: FollowUp,
    status: FollowUpStatus,
    progress: int | None = None,
    reason: str | None = None,
) -> None:
    """Give ``follow_up`` the status that counts: the one place where it changes (an update
    applied at once, a validation accepted, a recommendation superseded)."""
    follow_up.status = status
    follow_up.progress = progress
    follow_up.status_reason = reason or None


def not_chosen_problem(status: FollowUpStatus) -> DomainError:
    """Why an update cannot choose ``status``, a status only kpplan sets."""
    return DomainError(
        f"“{status.label}” is set by kpplan when a later recommendation supersedes this one; "
        "choose another status.",
        "status",
    )


def check_update(
    follow_up: FollowUp,
    *,
    status: FollowUpStatus,
    narrative: str,
    today: date,
    progress: int | None = None,
    reason: str = "",
    next_review_date: date | None = None,
) -> list[DomainError]:
    """Every rule a status update of ``follow_up`` breaks, as one ``DomainError`` each
    naming its field (None for the follow-up as a whole), in the order they are checked;
    an empty list when it may be posted. The update form shows each next to its field;
    the import lists them all on the row. ``next_review_date`` is None when unchanged."""
    problems = []
    if follow_up.recommendation.is_withdrawn:
        problems.append(
            DomainError("This recommendation has been withdrawn; it needs no more updates.")
        )
    if follow_up.pending_update_id is not None:
        problems.append(
            DomainError(
                "An update to “implemented” is waiting for the secretariat's validation; post "
                "the next one once it has been validated or returned."
            )
        )
    if status.is_set_by_kpplan:
        problems.append(not_chosen_problem(status))
    if not (narrative or "").strip():
        problems.append(
            DomainError(
                "Say what has been done: the narrative is what others read in the timeline.",
                "narrative",
            )
        )
    if progress is not None and not 0 <= progress <= 100:
        problems.append(DomainError("Progress is a percentage, from 0 to 100.", "progress"))
    if status is FollowUpStatus.NOT_APPLICABLE and not (reason or "").strip():
        problems.append(DomainError("Say why the recommendation does not apply.", "reason"))
    if next_review_date is not None and next_review_date < today:
        problems.append(DomainError("The next review date is in the past.", "next_review_date"))
    return problems


def post_update(
    actor: User,
    follow_up: FollowUp,
    version: int | None,
    *,
    status: FollowUpStatus,
    narrative: str,
    today: date,
    progress: int | None = None,
    reason: str = "",
    next_review_date: date | None = None,
    links: list[EvidenceLink] = (),
    files: list[Upload] = (),
    upload_folder: Path | None = None,
    max_size: int = 0,
) -> StatusUpdate:
    """Post a status update: a new entry in the follow-up's timeline, never edited after.

    A move to "implemented" waits for the secretariat's validation before it counts; any
    other status applies at once. Raises ``StaleEdit`` when the follow-up changed since the
    page was drawn (nothing is written), ``DomainError`` for a missing narrative or reason,
    a progress out of range, a file refused, or while an update awaits validation (the
    first that ``check_update`` finds).
    """
    lock_follow_up(follow_up)
    audit.ensure_current(follow_up, version)
    problems = check_update(
        follow_up,
        status=status,
        narrative=narrative,
        today=today,
        progress=progress,
        reason=reason,
        next_review_date=next_review_date,
    )
    if problems:
        raise problems[0]
    recommendation = follow_up.recommendation
    narrative = narrative.strip()
    reason = (reason or "").strip()

    before = _follow_up_snapshot(follow_up)
    update = StatusUpdate(
        follow_up=follow_up,
        author=actor,
        status_before=follow_up.status,
        status=status,
        progress=progress,
        narrative=narrative,
        reason=reason or None,
        next_review_date=next_review_date,
    )
    db.session.add(update)
    kept: list[str] = []
    try:
        for link in links:
            update.evidence.append(Evidence(title=link.title or link.url, url=link.url))
        for upload in files:
            stored = store_file(upload, upload_folder, max_size, "files")
            kept.append(stored.stored_name)
            update.evidence.append(
                Evidence(
                    title=stored.original_name,
                    original_name=stored.original_name,
                    stored_name=stored.stored_name,
                    content_type=stored.content_type,
                    size=stored.size,
                )
            )
        now = utcnow()
        follow_up.last_update_at = now
        if next_review_date is not None:
            follow_up.next_review_date = next_review_date
        if status is FollowUpStatus.IMPLEMENTED and follow_up.status is not status:
            update.validation = Validation.PENDING
            db.session.flush()
            follow_up.pending_update_id = update.id
        else:
            set_status(follow_up, status, progress, reason)
        db.session.flush()
        audit.record(
            actor,
            "updated",
            follow_up,
            f"{recommendation.code}, {follow_up.addressee}: {status.label.lower()}"
            + (" (awaiting validation)" if update.validation else ""),
            before,
            _follow_up_snapshot(follow_up),
        )
    except Exception:
        for name in kept:
            (upload_folder / name).unlink(missing_ok=True)
        raise
    return update


def validate(
    actor: User,
    update: StatusUpdate,
    accept: bool,
    comment: str = "",
    without_evidence: bool = False,
) -> StatusUpdate:
    """Accept a move to "implemented" (it then counts) or return it with a comment (the
    status stays as it was). Raises ``DomainError`` when nothing awaits validation, a
    return comes without a comment, or an update without evidence is accepted without
    ``without_evidence`` (the secretariat's confirmation that it accepts it so)."""
    follow_up = lock_follow_up(update.follow_up)
    if follow_up.pending_update_id != update.id:
        raise DomainError("This update is not waiting for validation any more.")
    comment = (comment or "").strip()
    if not accept and not comment:
        raise DomainError(
            "Say why the update is returned, so the focal point knows what to add.", "comment"
        )
    if accept and not update.evidence and not without_evidence:
        raise DomainError(
            "This update gives no evidence: confirm that you accept the implementation "
            "without any, or return it asking for evidence.",
            "accept_without_evidence",
        )
    before = _follow_up_snapshot(follow_up)
    update.validation = Validation.ACCEPTED if accept else Validation.RETURNED
    update.validated_by = actor
    update.validated_at = utcnow()
    update.validation_comment = comment or None
    follow_up.pending_update_id = None
    if accept:
        set_status(follow_up, update.status, update.progress)
    db.session.flush()
    code = follow_up.recommendation.code
    audit.record(
        actor,
        "validated" if accept else "returned",
        follow_up,
        f"{code}, {follow_up.addressee}: "
        + ("implementation validated" if accept else "update returned"),
        before,
        {
            **_follow_up_snapshot(follow_up),
            "comment": comment or None,
            "evidence": len(update.evidence),
        },
    )
    return update


def close_superseded(
    actor: User | None, predecessor: Recommendation, successor: Recommendation
) -> list[FollowUp]:
    """Close the open follow-ups of ``predecessor`` as superseded by ``successor``: each
    gets a status update in its timeline (written by ``actor``, saying by which
    recommendation) and an audit entry. A follow-up whose move to "implemented" awaits the
    secretariat's validation stays as it is, to be validated first. Returns those closed."""
    closed = []
    # Locked and read afresh in one query, as ``lock_follow_up`` does for one.
    follow_ups = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.recommendation_id == predecessor.id)
        .order_by(FollowUp.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for follow_up in follow_ups:
        if follow_up.status.is_closed or follow_up.pending_update_id is not None:
            continue
        before = _follow_up_snapshot(follow_up)
        db.session.add(
            StatusUpdate(
                follow_up=follow_up,
                author=actor,
                status_before=follow_up.status,
                status=FollowUpStatus.SUPERSEDED,
                narrative=f"Superseded by {successor.code}: the follow-up continues under "
                "that recommendation.",
            )
        )
        set_status(follow_up, FollowUpStatus.SUPERSEDED)
        follow_up.last_update_at = utcnow()
        db.session.flush()
        audit.record(
            actor,
            "updated",
            follow_up,
            f"{predecessor.code}, {follow_up.addressee}: superseded by {successor.code}",
            before,
            _follow_up_snapshot(follow_up),
        )
        closed.append(follow_up)
    return closed


__all__ = [
    "EvidenceLink",
    "check_update",
    "close_superseded",
    "lock_follow_up",
    "not_chosen_problem",
    "post_update",
    "set_status",
    "validate",
]
