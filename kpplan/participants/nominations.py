"""A delegation's answer and nominations, and the secretariat's decisions on them: a focal
point acts for their own state's delegation until the nomination deadline, within its
seats; the secretariat at any time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from email_validator import EmailNotValidError, validate_email

from kpplan.audit import services as audit
from kpplan.core.dates import day
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.names import in_sentence, possessive
from kpplan.directory.models import User
from kpplan.participants.attendance import refresh_figures
from kpplan.participants.models import (
    DECISIONS,
    Answer,
    Gender,
    Invitation,
    InvitationList,
    Participant,
    ParticipantStatus,
)
from kpplan.participants.services import (
    INVITATION_FIELDS,
    acts_for_secretariat,
    clean_text,
    flush,
    participant_snapshot,
    refuse_if_erased,
)


def _check_open(actor: User | None, invitation_list: InvitationList, today: date) -> None:
    """Focal points act once the invitations are sent and until the deadline."""
    refuse_if_erased(invitation_list)
    if acts_for_secretariat(actor):
        return
    if not invitation_list.is_sent:
        raise DomainError("The invitations have not been sent yet.")
    if not invitation_list.open_for_nominations(today):
        raise DomainError(
            f"Nominations closed on {day(invitation_list.nomination_deadline)}. For a change "
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
            f"{in_sentence(invitation.delegation, start=True)} has delegates named: withdraw "
            "them before declining."
        )
    if invitation.answer is Answer.DECLINED:
        raise DomainError(f"{in_sentence(invitation.delegation, start=True)} has declined already.")
    before = audit.snapshot(invitation, INVITATION_FIELDS)
    invitation.answer = Answer.DECLINED
    invitation.answered_at = utcnow()
    invitation.decline_reason = clean_text(reason, 300, "The reason", "reason")
    flush()
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
        name=clean_text(details.name, 200, "The name", "name") or "",
        function=clean_text(details.function, 200, "The function", "function"),
        institution=clean_text(details.institution, 200, "The institution", "institution"),
        email=_email(details.email),
        gender=details.gender,
        visa_letter=bool(details.visa_letter),
        interpretation=clean_text(details.interpretation, 100, "Interpretation", "interpretation"),
        other_needs=clean_text(details.other_needs, 500, "Other needs", "other_needs"),
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


def already_listed(clash: Participant, invitation: Invitation) -> str:
    """What the form and the import say of a duplicate: "Ana Silva is on the Netherlands'
    list already." """
    return f"{clash.name} is on {possessive(invitation.delegation)} list already."


def _check_seats(actor: User | None, invitation: Invitation, adding: int = 1) -> None:
    seats = invitation.invitation_list.seats_per_delegation
    if seats is None or acts_for_secretariat(actor):
        return
    taken = len(invitation.seated)
    if taken + adding > seats:
        raise DomainError(
            f"{in_sentence(invitation.delegation, start=True)} has {seats} "
            f"seat{'s' if seats != 1 else ''}, all named. "
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
        raise DomainError(already_listed(clash, invitation), "name")
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
    flush()
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
        raise DomainError(already_listed(clash, invitation), "name")
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
    flush()
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
    refuse_if_erased(participant.invitation.invitation_list)
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
    flush()
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
    flush()
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
