"""An activity's invitation list: who it invites (proposed by the kind of activity), the
seats and the nomination deadline, and sending the invitations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from kpplan.audit import services as audit
from kpplan.core.dates import day
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db
from kpplan.core.names import in_sentence
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.kinds import SENDING_INVITATIONS, ActivityKind
from kpplan.meetings.models import Activity, Status
from kpplan.meetings.services import complete_steps
from kpplan.participants.models import (
    Answer,
    Invitation,
    InvitationList,
)
from kpplan.participants.services import (
    flush,
    list_snapshot,
    refuse_if_erased,
)

# Invitations are sent for an activity still to come that is not a draft any more.
SENDABLE = (Status.PLANNED, Status.CONFIRMED, Status.POSTPONED)
MAX_SEATS = 500

# Who each kind of activity invites (the list stays editable): the Steering Committee its
# members; Senior Officials' Meetings and Ministerial Conferences every member state and
# every organisation of the directory; other kinds every member state and the activity's
# own organisations (its partners, speakers, organisers and implementing organisations).
EVERY_ORGANISATION = (ActivityKind.SENIOR_OFFICIALS, ActivityKind.MINISTERIAL)
# Trainings usually take two delegates per state; other kinds leave the seats open.
DEFAULT_SEATS = {ActivityKind.TRAINING: 2}
# Nominations close this many days before the activity starts, by default.
DEADLINE_DAYS_BEFORE = 21


@dataclass(frozen=True)
class Prefill:
    """What a new invitation list proposes for an activity, and why, in words."""

    states: list[State]
    organisations: list[Organisation]
    seats_per_delegation: int | None
    nomination_deadline: date | None
    reason: str


def prefill(activity: Activity, today: date) -> Prefill:
    """Who the activity's kind invites, its usual seats and a deadline three weeks ahead."""
    members = db.session.scalars(
        select(State).where(State.is_member.is_(True)).order_by(State.name)
    ).all()
    if activity.kind is ActivityKind.STEERING_COMMITTEE:
        states = [s for s in members if s.on_steering_committee]
        organisations: list[Organisation] = []
        reason = "the members of the Steering Committee"
    elif activity.kind in EVERY_ORGANISATION:
        states = list(members)
        organisations = list(
            db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
        )
        reason = "every member state and every organisation of the directory"
    else:
        states = list(members)
        by_id = {o.organisation_id: o.organisation for o in activity.organisations}
        organisations = sorted(by_id.values(), key=lambda o: o.name)
        reason = "every member state and the activity's partner organisations"
    deadline = activity.start_date - timedelta(days=DEADLINE_DAYS_BEFORE)
    return Prefill(
        states=states,
        organisations=organisations,
        seats_per_delegation=DEFAULT_SEATS.get(activity.kind),
        nomination_deadline=deadline if deadline >= today else None,
        reason=f"A {activity.kind.label} invites {reason}.",
    )


def _check_list(
    activity: Activity,
    seats: int | None,
    deadline: date | None,
    previous_deadline: date | None,
    states: list[State],
    today: date,
) -> None:
    if seats is not None and not 1 <= seats <= MAX_SEATS:
        raise DomainError(
            f"Give from 1 to {MAX_SEATS} seats, or leave it empty for no limit.",
            "seats_per_delegation",
        )
    if deadline is not None:
        if deadline > activity.end_date:
            raise DomainError(
                f"The deadline falls after the activity ends ({day(activity.end_date)}).",
                "nomination_deadline",
            )
        if deadline != previous_deadline and deadline < today:
            raise DomainError("The deadline is in the past.", "nomination_deadline")
    for state in states:
        if not state.is_member:
            raise DomainError(
                f"{in_sentence(state.name, start=True)} is not a member state of the Process.",
                "states",
            )


def save_list(
    actor: User | None,
    activity: Activity,
    version: int | None,
    *,
    seats_per_delegation: int | None,
    nomination_deadline: date | None,
    states: list[State],
    organisations: list[Organisation],
    today: date,
) -> InvitationList:
    """Create or change the activity's invitation list: its seats, deadline and invitees.

    ``version`` is 0 for a list drawn up from scratch. A state or organisation left out is
    removed from the list unless it has delegates on record. Raises ``StaleEdit`` when the
    list changed since the page was drawn, ``DomainError`` for what the rules refuse.
    """
    invitation_list = db.session.scalar(
        select(InvitationList).where(InvitationList.activity_id == activity.id)
    )
    if invitation_list is None:
        if version != 0:
            raise StaleEdit(
                "The invitation list was removed since you opened the page. Nothing was saved."
            )
        before = None
        _check_list(activity, seats_per_delegation, nomination_deadline, None, states, today)
        invitation_list = InvitationList(activity=activity)
        db.session.add(invitation_list)
    else:
        if version == 0:
            version = None  # someone drew it up meanwhile: say what they saved
        audit.ensure_current(invitation_list, version)
        refuse_if_erased(invitation_list)
        before = list_snapshot(invitation_list)
        _check_list(
            activity,
            seats_per_delegation,
            nomination_deadline,
            invitation_list.nomination_deadline,
            states,
            today,
        )
    invitation_list.seats_per_delegation = seats_per_delegation
    invitation_list.nomination_deadline = nomination_deadline

    wanted_states = {s.id: s for s in states}
    wanted_organisations = {o.id: o for o in organisations}
    for invitation in list(invitation_list.invitations):
        key = invitation.state_id or invitation.organisation_id
        wanted = wanted_states if invitation.is_state else wanted_organisations
        if key in wanted:
            wanted.pop(key)
            continue
        if invitation.participants:
            raise DomainError(
                f"{in_sentence(invitation.delegation, start=True)} has delegates on record, so "
                "it stays invited. Mark its delegates as withdrawn, or leave the invitation "
                "declined.",
                "states" if invitation.is_state else "organisations",
            )
        invitation_list.invitations.remove(invitation)
    for state in sorted(wanted_states.values(), key=lambda s: s.name):
        invitation_list.invitations.append(Invitation(state=state, answer=Answer.AWAITING))
    for organisation in sorted(wanted_organisations.values(), key=lambda o: o.name):
        invitation_list.invitations.append(
            Invitation(organisation=organisation, answer=Answer.AWAITING)
        )
    if not invitation_list.invitations:
        raise DomainError("Invite at least one member state or organisation.", "states")
    if before is not None and list_snapshot(invitation_list) != before:
        # A change of invitees alone leaves the list's row as it is: touch it, so that its
        # version moves on and a page drawn before this change is refused.
        invitation_list.updated_at = utcnow()
    flush()
    after = list_snapshot(invitation_list)
    if before is None:
        audit.record(
            actor,
            "created",
            invitation_list,
            f"Drew up the invitation list of {activity.title}",
            None,
            after,
        )
    elif before != after:
        added = sorted(set(after["invited"]) - set(before["invited"]))
        removed = sorted(set(before["invited"]) - set(after["invited"]))
        words = [f"invited {', '.join(added)}"] if added else []
        words += [f"no longer invites {', '.join(removed)}"] if removed else []
        detail = f": {'; '.join(words)}" if words else ""
        audit.record(
            actor,
            "updated",
            invitation_list,
            f"Changed the invitation list of {activity.title}{detail}",
            before,
            after,
        )
    return invitation_list


def send_invitations(
    actor: User | None, invitation_list: InvitationList, version: int | None, today: date
) -> InvitationList:
    """Mark the list as sent: the next reminder tick mails each invited state's focal points
    once (and any state invited later, when it is added); ticks the activity's step
    "Invitations sent". Raises ``DomainError`` for a list
    sent already, or an activity that is a draft, over, postponed without dates or cancelled.
    """
    audit.ensure_current(invitation_list, version)
    activity = invitation_list.activity
    if invitation_list.is_sent:
        raise DomainError(
            "The invitations were sent already; a state invited now receives its own at once."
        )
    if activity.status not in SENDABLE:
        raise DomainError(
            f"{activity.title} is {activity.status.label.lower()}: invitations go out for a "
            "planned or confirmed activity."
        )
    if activity.end_date < today:
        raise DomainError(f"{activity.title} is over: there is nobody left to invite.")
    before = list_snapshot(invitation_list)
    invitation_list.sent_at = utcnow()
    invitation_list.sent_by_id = actor.id if actor is not None else None
    flush()
    states = sum(1 for i in invitation_list.invitations if i.is_state)
    audit.record(
        actor,
        "sent",
        invitation_list,
        f"Sent the invitations to {activity.title} ({states} states' focal points)",
        before,
        list_snapshot(invitation_list),
    )
    complete_steps(actor, activity, SENDING_INVITATIONS, today)
    return invitation_list
