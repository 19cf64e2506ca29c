"""Invitations and their chasing, through the reminders' outbox.

An invitation is a reminder planned once: its subject is the invitation, its period is
fixed ("sent"), so the outbox's unique key lets it in exactly once per focal point however
many ticks see it. A state invited after the others were sent has an invitation (a
subject) of its own, and receives it at the next tick; so does a focal point added later.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload

from kpplan.core.names import in_sentence
from kpplan.meetings.models import Activity, Document, Status
from kpplan.participants.models import Answer, Invitation, InvitationList, Participant
from kpplan.participants.queries import INVITATION_DOCUMENTS
from kpplan.reminders.mail import absolute_link
from kpplan.reminders.rules.recipients import focal_point_ids
from kpplan.reminders.rules.registry import PlannedReminder, RuleSettings, rule

# Invitations go out, and are chased, for activities still to come that are not drafts.
_INVITING = (Status.PLANNED, Status.CONFIRMED, Status.POSTPONED)


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _sent_invitations(today: date):
    return (
        select(Invitation)
        .join(InvitationList, InvitationList.id == Invitation.list_id)
        .join(Activity, Activity.id == InvitationList.activity_id)
        .where(
            InvitationList.sent_at.is_not(None),
            InvitationList.erased_at.is_(None),
            Invitation.state_id.is_not(None),
            Activity.status.in_(_INVITING),
            Activity.end_date >= today,
        )
        .options(
            joinedload(Invitation.state),
            joinedload(Invitation.invitation_list)
            .joinedload(InvitationList.activity)
            .joinedload(Activity.country),
        )
        .order_by(Invitation.id)
    )


def _when(activity: Activity) -> str:
    """ "10 January 2027", "10–11 January 2027" or "30 June to 2 July 2027"."""
    start, end = activity.start_date, activity.end_date
    if start == end:
        return _day(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{_day(end)}"
    if start.year == end.year:
        return f"{start.day} {start:%B} to {_day(end)}"
    return f"{_day(start)} to {_day(end)}"


def _delegation_link(invitation: Invitation) -> dict:
    return {
        "link_endpoint": "participants.delegation",
        "link_values": {
            "activity_id": invitation.invitation_list.activity_id,
            "invitation_id": invitation.id,
        },
    }


class _FocalPoints:
    """The focal points of each state, looked up once per state and tick."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_state: dict[int, list[int]] = {}

    def of(self, state_id: int) -> list[int]:
        if state_id not in self.by_state:
            self.by_state[state_id] = focal_point_ids(self.session, state_id)
        return self.by_state[state_id]


@rule(
    "invitation",
    "Invitation to an activity",
    "To each focal point of an invited state, once, when the secretariat sends the "
    "invitations (and at once to a state invited later). Invitations cannot be turned off; "
    "a summary can hold them.",
    can_turn_off=False,
)
def invitation(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    # An invitation the secretariat recorded as declined before it went out needs no mail.
    invitations = session.scalars(
        _sent_invitations(today).where(Invitation.answer != Answer.DECLINED)
    ).all()
    if not invitations:
        return
    documents: dict[int, list[Document]] = {}
    for document in session.scalars(
        select(Document)
        .where(
            Document.activity_id.in_({i.invitation_list.activity_id for i in invitations}),
            Document.kind.in_(INVITATION_DOCUMENTS),
        )
        .order_by(Document.kind, Document.id)
    ):
        documents.setdefault(document.activity_id, []).append(document)
    focal_points = _FocalPoints(session)
    for found in invitations:
        invitation_list = found.invitation_list
        activity = invitation_list.activity
        state = in_sentence(found.state.name)
        lines = [
            f"{in_sentence(state, start=True)} is invited to {activity.title}, "
            f"{activity.kind.label}, "
            f"{_when(activity)}{', ' + activity.where if activity.where else ''}.",
        ]
        seats = invitation_list.seats_per_delegation
        ask = "Name your delegation"
        if seats:
            ask += f" ({seats} seat{'s' if seats != 1 else ''})"
        if invitation_list.nomination_deadline:
            ask += f" by {_day(invitation_list.nomination_deadline)}"
        lines.append(f"{ask} on your delegation's page, or answer there that {state} declines.")
        for document in documents.get(activity.id, []):
            link = absolute_link(
                "meetings.document", {"activity_id": activity.id, "document_id": document.id}
            )
            lines.append(f"{document.kind.label}: {document.title} — {link}")
        message = "\n\n".join(lines)
        for user_id in focal_points.of(found.state_id):
            yield PlannedReminder(
                rule="invitation",
                subject_key=f"invitation:{found.id}",
                period_key="sent",
                user_id=user_id,
                title=f"Invitation: {activity.title} ({_when(activity)})",
                message=message,
                link_label="Name your delegation",
                **_delegation_link(found),
            )


@rule(
    "invitation_unanswered",
    "An invited state has not answered",
    "To the focal points of each invited state that has neither named a delegate nor "
    "declined, once, the given number of days before the nomination deadline.",
    default_days=7,
    days_label="Days before the nomination deadline",
)
def invitation_unanswered(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    horizon = today + timedelta(days=settings.days or 0)
    has_delegates = exists().where(Participant.invitation_id == Invitation.id)
    query = _sent_invitations(today).where(
        Invitation.answer == Answer.AWAITING,
        ~has_delegates,
        InvitationList.nomination_deadline >= today,
        InvitationList.nomination_deadline <= horizon,
    )
    focal_points = _FocalPoints(session)
    for found in session.scalars(query):
        invitation_list = found.invitation_list
        activity = invitation_list.activity
        deadline = invitation_list.nomination_deadline
        when = "today" if deadline == today else f"by {_day(deadline)}"
        for user_id in focal_points.of(found.state_id):
            yield PlannedReminder(
                rule="invitation_unanswered",
                subject_key=f"invitation:{found.id}",
                period_key=f"deadline:{deadline.isoformat()}",
                user_id=user_id,
                title=f"Answer {when}: invitation to {activity.title}",
                message=(
                    f"{in_sentence(found.state.name, start=True)} has not yet answered the "
                    f"invitation to {activity.title} ({_when(activity)}). Name its delegation "
                    f"{when} on the delegation's page, or answer there that it declines: "
                    "declining is an answer too."
                ),
                link_label="Answer the invitation",
                **_delegation_link(found),
            )
