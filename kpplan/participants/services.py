"""What the participants' operations share: the fields their audit entries keep, who acts
for the secretariat, saving with a message a person can act on, and refusing a list whose
delegates were erased.

The operations themselves live by concern, each validating, changing, flushing and
writing its audit entry (the view commits): ``invitation_lists`` (drawing up and sending
an activity's list), ``nominations`` (answers, nominations and the secretariat's
decisions) and ``attendance`` (who came, and the activity's figures).

The secretariat (or kpplan itself, ``actor=None``) may act at any time; a focal point acts
for their own state's delegation (the view checks that) and only until the nomination
deadline, within the delegation's seats.
"""

from __future__ import annotations

from typing import Any

from kpplan import permissions
from kpplan.audit import services as audit
from kpplan.core.db import flush_or_refuse
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.directory.models import User
from kpplan.participants.models import InvitationList, Participant

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


def acts_for_secretariat(actor: User | None) -> bool:
    """The secretariat, the administrators, or kpplan itself (the command line, the demo)."""
    return actor is None or permissions.is_staff(actor)


def flush() -> None:
    """Flush, turning two people's saves at the same moment into a refusal a person can
    act on (``StaleEdit`` or ``DomainError``) instead of a server error."""
    flush_or_refuse(
        db.session,
        "Someone else changed the same list at the same moment. Nothing was saved: "
        "reload the page and check.",
    )


def clean_text(value: str | None, limit: int, label: str, field: str) -> str | None:
    """``value`` with its spaces collapsed, None when empty; ``DomainError`` on ``field``
    when longer than ``limit``."""
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise DomainError(f"{label} is longer than {limit} characters.", field)
    return value or None


def list_snapshot(invitation_list: InvitationList) -> dict[str, Any]:
    data = audit.snapshot(invitation_list, LIST_FIELDS)
    data["invited"] = sorted(i.delegation for i in invitation_list.invitations)
    return data


def participant_snapshot(participant: Participant) -> dict[str, Any]:
    data = audit.snapshot(participant, tuple(f for f in PARTICIPANT_FIELDS if f != "delegation"))
    data["delegation"] = participant.invitation.delegation
    return data


def refuse_if_erased(invitation_list: InvitationList) -> None:
    if invitation_list.is_erased:
        raise DomainError(
            "The delegates' details of this activity were erased at the end of the retention "
            "period; only its figures are kept."
        )
