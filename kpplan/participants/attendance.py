"""Who came to an activity: the attendance ticked at the registration desk, and the
activity's figures counted from it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select

from kpplan.audit import services as audit
from kpplan.core.dates import day
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db
from kpplan.directory.models import User
from kpplan.meetings.models import Status
from kpplan.participants.models import (
    Gender,
    Invitation,
    InvitationList,
    Participant,
    ParticipantStatus,
)
from kpplan.participants.services import (
    flush,
    participant_snapshot,
    refuse_if_erased,
)


def record_attendance(
    actor: User | None,
    invitation_list: InvitationList,
    marks: dict[int, tuple[bool, bool, int]],
    today: date,
) -> int:
    """Tick who came: ``marks`` maps a delegate's id to (ticked when the page was drawn,
    ticked now, the version the page showed).

    Only the ticks the person changed on their page are saved, so that two tablets at the
    registration desk do not undo each other; a delegate someone else ticked otherwise
    since the page was drawn refuses the whole save (``StaleEdit``, naming them). From the
    first save on, the activity's figures come from the list. Returns how many changed.
    """
    refuse_if_erased(invitation_list)
    activity = invitation_list.activity
    if activity.status is Status.CANCELLED:
        raise DomainError(f"{activity.title} was cancelled: there is no attendance to record.")
    if today < activity.start_date:
        raise DomainError(
            f"Attendance is ticked from the first day, {day(activity.start_date)}, on."
        )
    by_id = {p.id: p for i in invitation_list.invitations for p in i.participants}
    changes = []
    stale = []
    for participant_id, (was, came, version) in marks.items():
        participant = by_id.get(participant_id)
        if participant is None:
            raise DomainError("A delegate on the page is not on this list; reload the page.")
        if came == was or participant.attended == came:
            continue  # not changed on this page, or changed the same way by someone else
        if came and not participant.status.takes_a_seat:
            raise DomainError(
                f"{participant.name} is {participant.status.label.lower()}: confirm them "
                "before ticking them as present."
            )
        if version != participant.version:
            stale.append((participant.name, participant.attended, came))
            continue
        changes.append((participant, came))
    first = invitation_list.attendance_taken_at is None
    if first and not any(came for _was, came, _version in marks.values()):
        raise DomainError("Tick who came: nobody is ticked as present.")
    if stale:
        raise StaleEdit(
            "Someone else ticked some of these delegates after you opened the page. Nothing "
            "was saved: reload the page and tick again.",
            [(f"{name}: present", was, wanted) for name, was, wanted in stale],
        )
    list_before = audit.snapshot(invitation_list, FIGURE_FIELDS)
    for participant, came in changes:
        before = participant_snapshot(participant)
        participant.attended = came
        if came and participant.status is not ParticipantStatus.CONFIRMED:
            # Whoever came had a seat in the end.
            participant.status = ParticipantStatus.CONFIRMED
        flush()
        audit.record(
            actor,
            "attended" if came else "absent",
            participant,
            f"{'Present' if came else 'Not present'}: {participant.name} "
            f"({participant.invitation.delegation})",
            before,
            participant_snapshot(participant),
        )
    if first:
        invitation_list.attendance_taken_at = utcnow()
    flush()
    refresh_figures(invitation_list)
    list_after = audit.snapshot(invitation_list, FIGURE_FIELDS)
    if first or list_before != list_after:
        audit.record(
            actor,
            "attendance",
            invitation_list,
            f"Attendance of {activity.title}: {invitation_list.attended} present",
            list_before,
            list_after,
        )
    return len(changes)


FIGURE_FIELDS = ("attended", "countries", "organisations", "women", "version")


def refresh_figures(invitation_list: InvitationList) -> None:
    """Count who came, by delegation, once attendance has been ticked (one query): the
    participants, the countries and organisations they came from, and the women."""
    if invitation_list.attendance_taken_at is None or invitation_list.is_erased:
        return
    db.session.flush()
    rows = db.session.execute(
        select(
            Participant.invitation_id,
            func.count(Participant.id),
            func.coalesce(func.sum(case((Participant.gender == Gender.FEMALE, 1), else_=0)), 0),
        )
        .join(Invitation, Invitation.id == Participant.invitation_id)
        .where(Invitation.list_id == invitation_list.id, Participant.attended.is_(True))
        .group_by(Participant.invitation_id)
    ).all()
    came = {invitation_id: (int(n), int(women)) for invitation_id, n, women in rows}
    for invitation in invitation_list.invitations:
        invitation.attended = came.get(invitation.id, (0, 0))[0]
    present = [i for i in invitation_list.invitations if i.attended]
    figures = {
        "attended": sum(n for n, _ in came.values()),
        "countries": sum(1 for i in present if i.is_state),
        "organisations": sum(1 for i in present if not i.is_state),
        "women": sum(w for _, w in came.values()),
    }
    for name, value in figures.items():
        if getattr(invitation_list, name) != value:
            setattr(invitation_list, name, value)
    flush()
