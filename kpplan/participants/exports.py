"""The list of participants as spreadsheet rows (for the venue and the badges), in the
columns the import reads back, plus whether each came."""

from __future__ import annotations

from typing import Any

from kpplan.participants.models import InvitationList, Participant, ParticipantStatus
from kpplan.participants.queries import in_order

IMPORT_COLUMNS = (
    "Delegation",
    "Name",
    "Function",
    "Institution",
    "E-mail",
    "Gender",
    "Visa letter",
    "Interpretation",
    "Other needs",
    "Status",
)
EXPORT_COLUMNS = (*IMPORT_COLUMNS, "Present")


def _yes(value: bool) -> str:
    return "yes" if value else ""


def listed(invitation_list: InvitationList) -> list[tuple[Any, list[Participant]]]:
    """Each delegation in order with its delegates by name, the withdrawn left out."""
    return [
        (
            invitation,
            sorted(
                (p for p in invitation.participants if p.status is not ParticipantStatus.WITHDRAWN),
                key=lambda p: p.name.lower(),
            ),
        )
        for invitation in in_order(invitation_list.invitations)
    ]


def participant_rows(invitation_list: InvitationList) -> list[list[Any]]:
    rows = []
    for invitation, participants in listed(invitation_list):
        for p in participants:
            rows.append(
                [
                    invitation.delegation,
                    p.name,
                    p.function,
                    p.institution,
                    p.email,
                    p.gender.label,
                    _yes(p.visa_letter),
                    p.interpretation,
                    p.other_needs,
                    p.status.label,
                    _yes(p.attended) if invitation_list.has_figures else "",
                ]
            )
    return rows
