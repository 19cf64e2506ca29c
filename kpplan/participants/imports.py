"""Delegates from a spreadsheet: every row checked first, with every error of each row, then
all of them named, or none."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kpplan.core.errors import DomainError
from kpplan.directory.models import User
from kpplan.participants import nominations
from kpplan.participants.models import (
    Gender,
    Invitation,
    InvitationList,
    ParticipantStatus,
)

YES = ("yes", "y", "true", "1", "x")
NO = ("", "no", "n", "false", "0")
# A new delegate may be named with a decision already taken, never as withdrawn.
STATUSES = (
    ParticipantStatus.NOMINATED,
    ParticipantStatus.CONFIRMED,
    ParticipantStatus.WAITLISTED,
    ParticipantStatus.REFUSED,
)


@dataclass
class RowPlan:
    number: int  # the row's line in the file (the header is line 1)
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    invitation: Invitation | None = None
    details: nominations.Details | None = None
    status: ParticipantStatus = ParticipantStatus.NOMINATED


@dataclass
class ImportPlan:
    rows: list[RowPlan]

    @property
    def valid(self) -> bool:
        return all(not r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        return sum(1 for r in self.rows if r.errors)


def _choice(value: str, members, what: str, errors: list[str]):
    wanted = value.strip().lower().replace("_", " ")
    for member in members:
        if wanted in (member.value.replace("_", " "), member.label.lower()):
            return member
    errors.append(f"{what} “{value}” is not one of: {', '.join(m.label for m in members)}.")
    return None


def _gender(value: str, errors: list[str]) -> Gender:
    if not value.strip():
        return Gender.NOT_GIVEN
    words = {"woman": Gender.FEMALE, "f": Gender.FEMALE, "man": Gender.MALE, "m": Gender.MALE}
    if value.strip().lower() in words:
        return words[value.strip().lower()]
    return _choice(value, list(Gender), "Gender", errors) or Gender.NOT_GIVEN


def _flag(value: str, what: str, errors: list[str]) -> bool:
    value = value.strip().lower()
    if value in YES:
        return True
    if value not in NO:
        errors.append(f"{what} “{value}” is neither yes nor no.")
    return False


def _delegations(invitation_list: InvitationList) -> dict[str, Invitation]:
    names: dict[str, Invitation] = {}
    for invitation in invitation_list.invitations:
        if invitation.state is not None:
            names[invitation.state.name.lower()] = invitation
        else:
            names[invitation.organisation.name.lower()] = invitation
            if invitation.organisation.acronym:
                names[invitation.organisation.acronym.lower()] = invitation
    return names


def plan_import(rows: list[dict[str, str]], invitation_list: InvitationList) -> ImportPlan:
    """Check each row: its delegation is invited, its details are right, the delegate is
    not on the list already nor twice in the file. Nothing is changed here."""
    delegations = _delegations(invitation_list)
    seen: set[tuple[int, str]] = set()
    plan = ImportPlan([])
    for number, values in enumerate(rows, start=2):
        row = RowPlan(number, values)
        plan.rows.append(row)
        errors = row.errors
        delegation = values["Delegation"].strip()
        row.invitation = delegations.get(delegation.lower())
        if not delegation:
            errors.append("Name the Delegation: an invited state or organisation.")
        elif row.invitation is None:
            errors.append(f"{delegation} is not invited to this activity.")
        details = nominations.Details(
            name=values["Name"],
            function=values["Function"],
            institution=values["Institution"],
            email=values["E-mail"],
            gender=_gender(values["Gender"], errors),
            visa_letter=_flag(values["Visa letter"], "Visa letter", errors),
            interpretation=values["Interpretation"],
            other_needs=values["Other needs"],
        )
        errors.extend(message for _field, message in nominations.details_errors(details))
        if values["Status"].strip():
            row.status = (
                _choice(values["Status"], STATUSES, "Status", errors) or ParticipantStatus.NOMINATED
            )
        if row.invitation is not None and details.name.strip():
            key = (row.invitation.id, " ".join(details.name.split()).lower())
            if key in seen:
                errors.append(f"{details.name} appears twice for {row.invitation.delegation}.")
            seen.add(key)
            clash = nominations.duplicate_of(row.invitation, details)
            if clash is not None:
                errors.append(nominations.already_listed(clash, row.invitation))
        row.details = details
    return plan


def apply_import(actor: User | None, plan: ImportPlan, today: date) -> int:
    """Name every delegate of a valid plan; raises ``DomainError`` naming a row refused now
    (the caller rolls everything back)."""
    named = 0
    for row in plan.rows:
        try:
            nominations.nominate(actor, row.invitation, row.details, today, status=row.status)
        except DomainError as error:
            raise DomainError(f"Row {row.number}: {error.message}") from error
        named += 1
    return named
