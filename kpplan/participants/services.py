"""Inviting, nominating, deciding and ticking attendance. Each function validates, changes,
flushes and writes the audit entry; the view commits.

The secretariat (or kpplan itself, ``actor=None``) may act at any time; a focal point acts
for their own state's delegation (the view checks that) and only until the nomination
deadline, within the delegation's seats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from kpplan import permissions
from kpplan.audit import services as audit
from kpplan.core.dates import day
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings.kinds import SENDING_INVITATIONS, ActivityKind
from kpplan.meetings.models import Activity, Status
from kpplan.meetings.services import complete_steps
from kpplan.participants.models import (
    DECISIONS,
    Answer,
    Gender,
    Invitation,
    InvitationList,
    Participant,
    ParticipantStatus,
)

LIST_FIELDS = ("seats_per_delegation", "nomination_deadline", "sent_at", "version")
INVITATION_FIELDS = ("answer", "decline_reason", "version")
# A delegate's personal details: erased with the delegate after the retention period (the
# audit trail keeps only the other fields of PARTICIPANT_FIELDS).
PERSONAL_FIELDS = (
    "name",
    "function",
    "institution",
    "email",
    "gender",
    "visa_letter",
    "interpretation",
    "other_needs",
)
PARTICIPANT_FIELDS = ("delegation", *PERSONAL_FIELDS, "status", "attended", "version")

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


# --- Helpers ---------------------------------------------------------------------------


def acts_for_secretariat(actor: User | None) -> bool:
    """The secretariat, the administrators, or kpplan itself (the command line, the demo)."""
    return actor is None or permissions.is_staff(actor)


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise StaleEdit(
            "Someone else saved this record at the same moment. Nothing was saved: reload "
            "the page and make your change again."
        ) from error
    except IntegrityError as error:
        db.session.rollback()
        raise DomainError(
            "Someone else changed the same list at the same moment. Nothing was saved: "
            "reload the page and check."
        ) from error


def _text(value: str | None, limit: int, label: str, field: str) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise DomainError(f"{label} is longer than {limit} characters.", field)
    return value or None


def _day(value: date) -> str:
    return day(value)


def _list_snapshot(invitation_list: InvitationList) -> dict[str, Any]:
    data = audit.snapshot(invitation_list, LIST_FIELDS)
    data["invited"] = sorted(i.delegation for i in invitation_list.invitations)
    return data


def participant_snapshot(participant: Participant) -> dict[str, Any]:
    data = audit.snapshot(participant, tuple(f for f in PARTICIPANT_FIELDS if f != "delegation"))
    data["delegation"] = participant.invitation.delegation
    return data


def _refuse_if_erased(invitation_list: InvitationList) -> None:
    if invitation_list.is_erased:
        raise DomainError(
            "The delegates' details of this activity were erased at the end of the retention "
            "period; only its figures are kept."
        )


# --- The invitation list ---------------------------------------------------------------


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
                f"The deadline falls after the activity ends ({_day(activity.end_date)}).",
                "nomination_deadline",
            )
        if deadline != previous_deadline and deadline < today:
            raise DomainError("The deadline is in the past.", "nomination_deadline")
    for state in states:
        if not state.is_member:
            raise DomainError(f"{state.name} is not a member state of the Process.", "states")


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
        _refuse_if_erased(invitation_list)
        before = _list_snapshot(invitation_list)
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
                f"{invitation.delegation} has delegates on record, so it stays invited. "
                "Mark its delegates as withdrawn, or leave the invitation declined.",
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
    if before is not None and _list_snapshot(invitation_list) != before:
        # A change of invitees alone leaves the list's row as it is: touch it, so that its
        # version moves on and a page drawn before this change is refused.
        invitation_list.updated_at = utcnow()
    _flush()
    after = _list_snapshot(invitation_list)
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
    before = _list_snapshot(invitation_list)
    invitation_list.sent_at = utcnow()
    invitation_list.sent_by_id = actor.id if actor is not None else None
    _flush()
    states = sum(1 for i in invitation_list.invitations if i.is_state)
    audit.record(
        actor,
        "sent",
        invitation_list,
        f"Sent the invitations to {activity.title} ({states} states' focal points)",
        before,
        _list_snapshot(invitation_list),
    )
    complete_steps(actor, activity, SENDING_INVITATIONS, today)
    return invitation_list


# --- Answers and nominations -----------------------------------------------------------


def _check_open(actor: User | None, invitation_list: InvitationList, today: date) -> None:
    """Focal points act once the invitations are sent and until the deadline."""
    _refuse_if_erased(invitation_list)
    if acts_for_secretariat(actor):
        return
    if not invitation_list.is_sent:
        raise DomainError("The invitations have not been sent yet.")
    if not invitation_list.open_for_nominations(today):
        raise DomainError(
            f"Nominations closed on {_day(invitation_list.nomination_deadline)}. For a change "
            "now, write to the secretariat."
        )


def decline(
    actor: User | None,
    invitation: Invitation,
    version: int | None,
    reason: str | None,
    today: date,
) -> Invitation:
    """Answer that the delegation will not take part. Raises ``DomainError`` while it has
    delegates named (withdraw them first) or, for a focal point, after the deadline."""
    audit.ensure_current(invitation, version)
    _check_open(actor, invitation.invitation_list, today)
    if invitation.seated:
        raise DomainError(
            f"{invitation.delegation} has delegates named: withdraw them before declining."
        )
    if invitation.answer is Answer.DECLINED:
        raise DomainError(f"{invitation.delegation} has declined already.")
    before = audit.snapshot(invitation, INVITATION_FIELDS)
    invitation.answer = Answer.DECLINED
    invitation.answered_at = utcnow()
    invitation.decline_reason = _text(reason, 300, "The reason", "reason")
    _flush()
    audit.record(
        actor,
        "declined",
        invitation,
        f"{invitation.delegation} declined the invitation to "
        f"{invitation.invitation_list.activity.title}",
        before,
        audit.snapshot(invitation, INVITATION_FIELDS),
    )
    return invitation


@dataclass
class Details:
    """A delegate's details as a form or a row of a file gives them."""

    name: str
    function: str | None = None
    institution: str | None = None
    email: str | None = None
    gender: Gender = Gender.NOT_GIVEN
    visa_letter: bool = False
    interpretation: str | None = None
    other_needs: str | None = None


def clean_details(details: Details) -> Details:
    """The details tidied, or ``DomainError`` on the first field that is wrong (with its
    field's name); ``details_errors`` lists every one."""
    errors = details_errors(details)
    if errors:
        field, message = errors[0]
        raise DomainError(message, field)
    return Details(
        name=_text(details.name, 200, "The name", "name") or "",
        function=_text(details.function, 200, "The function", "function"),
        institution=_text(details.institution, 200, "The institution", "institution"),
        email=_email(details.email),
        gender=details.gender,
        visa_letter=bool(details.visa_letter),
        interpretation=_text(details.interpretation, 100, "Interpretation", "interpretation"),
        other_needs=_text(details.other_needs, 500, "Other needs", "other_needs"),
    )


def _email(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    return validate_email(value, check_deliverability=False).normalized


def details_errors(details: Details) -> list[tuple[str, str]]:
    """Every (field, message) that is wrong with the details."""
    errors = []
    if not (details.name or "").strip():
        errors.append(("name", "Give the delegate's name."))
    for field, label, limit in (
        ("name", "The name", 200),
        ("function", "The function", 200),
        ("institution", "The institution", 200),
        ("interpretation", "Interpretation", 100),
        ("other_needs", "Other needs", 500),
    ):
        if len(" ".join((getattr(details, field) or "").split())) > limit:
            errors.append((field, f"{label} is longer than {limit} characters."))
    email = (details.email or "").strip()
    if email:
        if len(email) > 254:
            errors.append(("email", "The e-mail address is longer than 254 characters."))
        else:
            try:
                validate_email(email, check_deliverability=False)
            except EmailNotValidError:
                errors.append(("email", f"“{email}” is not an e-mail address."))
    return errors


def duplicate_of(invitation: Invitation, details: Details, ignore_id: int | None = None):
    """The delegate of the same delegation (not withdrawn) with the same name or e-mail."""
    name = " ".join(details.name.split()).lower()
    email = (details.email or "").strip().lower()
    for other in invitation.participants:
        if other.id == ignore_id or other.status is ParticipantStatus.WITHDRAWN:
            continue
        if other.name.lower() == name or (email and (other.email or "").lower() == email):
            return other
    return None


def _check_seats(actor: User | None, invitation: Invitation, adding: int = 1) -> None:
    seats = invitation.invitation_list.seats_per_delegation
    if seats is None or acts_for_secretariat(actor):
        return
    taken = len(invitation.seated)
    if taken + adding > seats:
        raise DomainError(
            f"{invitation.delegation} has {seats} seat{'s' if seats != 1 else ''}, all named. "
            "Withdraw a delegate to name another, or ask the secretariat for one more seat."
        )


def nominate(
    actor: User | None,
    invitation: Invitation,
    details: Details,
    today: date,
    status: ParticipantStatus = ParticipantStatus.NOMINATED,
) -> Participant:
    """Name a delegate for the delegation (which accepts the invitation).

    The secretariat may name delegates beyond the seats and with a decision already taken
    (``status``); a focal point names them as nominated, within the seats and until the
    deadline. Raises ``DomainError`` (on the field at fault where there is one).
    """
    invitation_list = invitation.invitation_list
    _check_open(actor, invitation_list, today)
    if status is ParticipantStatus.WITHDRAWN or (
        status is not ParticipantStatus.NOMINATED and not acts_for_secretariat(actor)
    ):
        raise DomainError("A new delegate is nominated, confirmed, waitlisted or refused.")
    details = clean_details(details)
    clash = duplicate_of(invitation, details)
    if clash is not None:
        raise DomainError(f"{clash.name} is on {invitation.delegation}'s list already.", "name")
    _check_seats(actor, invitation)
    participant = Participant(
        invitation=invitation,
        status=status,
        attended=False,
        nominated_by_id=actor.id if actor is not None else None,
        **vars(details),
    )
    db.session.add(participant)
    answer_before = audit.snapshot(invitation, INVITATION_FIELDS)
    if invitation.answer is not Answer.ACCEPTED:
        invitation.answer = Answer.ACCEPTED
        invitation.answered_at = utcnow()
        invitation.decline_reason = None
    _flush()
    audit.record(
        actor,
        "nominated",
        participant,
        f"Named {participant.name} for {invitation.delegation} ({invitation_list.activity.title})",
        None,
        participant_snapshot(participant),
    )
    if answer_before["answer"] != invitation.answer.value:
        audit.record(
            actor,
            "accepted",
            invitation,
            f"{invitation.delegation} accepted the invitation to {invitation_list.activity.title}",
            answer_before,
            audit.snapshot(invitation, INVITATION_FIELDS),
        )
    return participant


def update_participant(
    actor: User | None,
    participant: Participant,
    version: int | None,
    details: Details,
    today: date,
) -> Participant:
    """Change a delegate's details. A focal point who puts another person in the seat (a new
    name or e-mail) sends the nomination back to the secretariat for a decision. Raises
    ``StaleEdit`` for a stale page and ``DomainError`` as ``nominate`` does."""
    audit.ensure_current(participant, version)
    invitation = participant.invitation
    _check_open(actor, invitation.invitation_list, today)
    if participant.status is ParticipantStatus.WITHDRAWN:
        raise DomainError(f"{participant.name} has been withdrawn; name a new delegate instead.")
    details = clean_details(details)
    clash = duplicate_of(invitation, details, ignore_id=participant.id)
    if clash is not None:
        raise DomainError(f"{clash.name} is on {invitation.delegation}'s list already.", "name")
    before = participant_snapshot(participant)
    substituted = details.name != participant.name or (details.email or None) != (
        participant.email or None
    )
    for name, value in vars(details).items():
        setattr(participant, name, value)
    if (
        substituted
        and not acts_for_secretariat(actor)
        and participant.status is not ParticipantStatus.NOMINATED
    ):
        participant.status = ParticipantStatus.NOMINATED
    after_values = participant_snapshot(participant)
    if after_values == before:
        return participant
    _flush()
    after = participant_snapshot(participant)
    audit.record(
        actor,
        "updated",
        participant,
        f"Changed the details of {participant.name} ({invitation.delegation})",
        before,
        after,
    )
    refresh_figures(invitation.invitation_list)
    return participant


def decide(
    actor: User | None, participant: Participant, version: int | None, status: ParticipantStatus
) -> Participant:
    """The secretariat confirms, waitlists or refuses a delegate. Raises ``StaleEdit`` when
    the delegate changed since the page was drawn, ``DomainError`` for a withdrawn one."""
    audit.ensure_current(participant, version)
    _refuse_if_erased(participant.invitation.invitation_list)
    if status not in DECISIONS:
        raise DomainError("Confirm, waitlist or refuse the delegate.")
    if participant.status is ParticipantStatus.WITHDRAWN:
        raise DomainError(f"{participant.name} has been withdrawn by the delegation.")
    if participant.status is status:
        return participant
    before = participant_snapshot(participant)
    participant.status = status
    if status is ParticipantStatus.REFUSED:
        participant.attended = False
    _flush()
    audit.record(
        actor,
        status.value,
        participant,
        f"{status.label}: {participant.name} ({participant.invitation.delegation})",
        before,
        participant_snapshot(participant),
    )
    refresh_figures(participant.invitation.invitation_list)
    return participant


def withdraw(
    actor: User | None, participant: Participant, version: int | None, today: date
) -> Participant:
    """Take a delegate off the delegation (kept, marked withdrawn, until the erasure).
    Raises ``StaleEdit`` or ``DomainError`` as ``update_participant`` does."""
    audit.ensure_current(participant, version)
    _check_open(actor, participant.invitation.invitation_list, today)
    if participant.status is ParticipantStatus.WITHDRAWN:
        raise DomainError(f"{participant.name} has been withdrawn already.")
    before = participant_snapshot(participant)
    participant.status = ParticipantStatus.WITHDRAWN
    participant.attended = False
    _flush()
    audit.record(
        actor,
        "withdrawn",
        participant,
        f"Withdrew {participant.name} ({participant.invitation.delegation})",
        before,
        participant_snapshot(participant),
    )
    refresh_figures(participant.invitation.invitation_list)
    return participant


# --- Attendance and figures --------------------------------------------------------------


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
    _refuse_if_erased(invitation_list)
    activity = invitation_list.activity
    if activity.status is Status.CANCELLED:
        raise DomainError(f"{activity.title} was cancelled: there is no attendance to record.")
    if today < activity.start_date:
        raise DomainError(
            f"Attendance is ticked from the first day, {_day(activity.start_date)}, on."
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
        _flush()
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
    _flush()
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
    _flush()
