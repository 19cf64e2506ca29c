"""Read paths of the invitation lists, each loading what its page shows in a fixed number
of queries, and the activities' figures as the reports and the review read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.audit.models import AuditEntry
from kpplan.audit.sentences import HistoryLine, describe
from kpplan.core.cache import watch
from kpplan.core.extensions import db
from kpplan.directory.models import Role, User
from kpplan.meetings.models import Activity, Document, DocumentKind
from kpplan.participants.models import (
    Answer,
    Invitation,
    InvitationList,
    Participant,
    ParticipantStatus,
)

_DELEGATIONS = (
    selectinload(InvitationList.invitations).options(
        joinedload(Invitation.state), joinedload(Invitation.organisation)
    ),
)
# The documents an invitation links to.
INVITATION_DOCUMENTS = (DocumentKind.CONCEPT_NOTE, DocumentKind.AGENDA)


def in_order(invitations: Iterable[Invitation]) -> list[Invitation]:
    """States by name, then organisations by name: the order of every list."""
    return sorted(invitations, key=lambda i: (not i.is_state, i.delegation.lower()))


def list_of(activity_id: int, with_delegates: bool = False) -> InvitationList | None:
    """The activity's invitation list with its delegations (two queries), and with every
    delegate when ``with_delegates`` (one more)."""
    query = (
        select(InvitationList)
        .where(InvitationList.activity_id == activity_id)
        .options(joinedload(InvitationList.activity), joinedload(InvitationList.sent_by))
    )
    if with_delegates:
        query = query.options(
            selectinload(InvitationList.invitations).options(
                joinedload(Invitation.state),
                joinedload(Invitation.organisation),
                selectinload(Invitation.participants),
            )
        )
    else:
        query = query.options(*_DELEGATIONS)
    return db.session.scalar(query)


def delegation_page(invitation_id: int) -> Invitation | None:
    """One delegation with its delegates, its list and the activity's documents."""
    return db.session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .options(
            joinedload(Invitation.state),
            joinedload(Invitation.organisation),
            joinedload(Invitation.invitation_list).joinedload(InvitationList.activity),
            selectinload(Invitation.participants),
        )
    )


def participant_page(participant_id: int) -> Participant | None:
    """One delegate with their delegation, its list and the activity."""
    return db.session.scalar(
        select(Participant)
        .where(Participant.id == participant_id)
        .options(
            joinedload(Participant.invitation).options(
                joinedload(Invitation.state),
                joinedload(Invitation.organisation),
                joinedload(Invitation.invitation_list).joinedload(InvitationList.activity),
            )
        )
    )


def invitation_documents(activity_id: int) -> list[Document]:
    """The activity's concept notes and agendas, which invitations link to."""
    return db.session.scalars(
        select(Document)
        .where(Document.activity_id == activity_id, Document.kind.in_(INVITATION_DOCUMENTS))
        .order_by(Document.kind, Document.id)
    ).all()


def focal_point_counts(state_ids: Iterable[int]) -> dict[int, int]:
    """How many active focal points each state has, in one query (missing: none)."""
    ids = sorted(set(state_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.state_id, func.count(User.id))
        .where(User.state_id.in_(ids), User.role == Role.FOCAL_POINT, User.active.is_(True))
        .group_by(User.state_id)
    ).all()
    return {state_id: n for state_id, n in rows}


def delegation_history(invitation: Invitation, limit: int = 30) -> list[HistoryLine]:
    """The latest changes to the delegation and its delegates, newest first, as sentences."""
    ids = [p.id for p in invitation.participants]
    about = and_(AuditEntry.object_type == "invitations", AuditEntry.object_id == invitation.id)
    if ids:
        about = or_(
            about,
            and_(AuditEntry.object_type == "participants", AuditEntry.object_id.in_(ids)),
        )
    entries = db.session.scalars(
        select(AuditEntry)
        .where(about)
        .options(joinedload(AuditEntry.actor))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).all()
    return describe(entries)


@dataclass(frozen=True)
class ListShown:
    """What an activity's page shows of its invitation list, as values."""

    sent_at: datetime | None
    attendance_taken_at: datetime | None
    attended: int | None
    countries: int | None
    organisations: int | None
    women: int | None

    is_sent = InvitationList.is_sent
    has_figures = InvitationList.has_figures
    women_share = InvitationList.women_share


@dataclass(frozen=True)
class Summary:
    """What an activity's page says of its invitations, as values (kept between requests:
    ``participants.blueprint.participation_of``)."""

    invitation_list: ListShown
    delegations: int
    declined: int
    answered: int
    by_status: dict[ParticipantStatus, int]

    @property
    def named(self) -> int:
        """Delegates with a seat: nominated, confirmed or waitlisted."""
        return sum(n for status, n in self.by_status.items() if status.takes_a_seat)

    @property
    def confirmed(self) -> int:
        return self.by_status.get(ParticipantStatus.CONFIRMED, 0)


#: What ``summary_of`` reads.
SUMMARY_READS = watch(InvitationList, Invitation, Participant)


def summary_of(activity_id: int) -> Summary | None:
    """The activity's invitations in figures (three queries of columns, one without a
    list), or None without a list; read from ``SUMMARY_READS`` alone."""
    found = db.session.execute(
        select(
            InvitationList.id,
            InvitationList.sent_at,
            InvitationList.attendance_taken_at,
            InvitationList.attended,
            InvitationList.countries,
            InvitationList.organisations,
            InvitationList.women,
        ).where(InvitationList.activity_id == activity_id)
    ).one_or_none()
    if found is None:
        return None
    list_id, *shown = found
    answers = db.session.scalars(select(Invitation.answer).where(Invitation.list_id == list_id))
    answers = list(answers)
    rows = db.session.execute(
        select(Participant.status, func.count(Participant.id))
        .join(Invitation, Invitation.id == Participant.invitation_id)
        .where(Invitation.list_id == list_id)
        .group_by(Participant.status)
    ).all()
    return Summary(
        invitation_list=ListShown(*shown),
        delegations=len(answers),
        declined=sum(1 for answer in answers if answer is Answer.DECLINED),
        answered=sum(1 for answer in answers if answer is not Answer.AWAITING),
        by_status=dict(rows),
    )


# --- Figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """An activity's participant figures: from its attendance list where one was ticked,
    else as typed on the activity (``women`` is known only from a list)."""

    participants: int | None
    countries: int | None
    organisations: int | None
    women: int | None
    from_list: bool

    @property
    def women_share(self) -> int | None:
        if not self.participants or self.women is None:
            return None
        return round(100 * self.women / self.participants)


def figures_for(activities: Iterable[Activity]) -> dict[int, Figures]:
    """The figures of each activity by id, in one query whatever their number."""
    activities = list(activities)
    ids = [a.id for a in activities]
    counted = {}
    if ids:
        counted = {
            row.activity_id: row
            for row in db.session.execute(
                select(
                    InvitationList.activity_id,
                    InvitationList.attended,
                    InvitationList.countries,
                    InvitationList.organisations,
                    InvitationList.women,
                ).where(
                    InvitationList.activity_id.in_(ids),
                    InvitationList.attendance_taken_at.is_not(None),
                )
            )
        }
    found = {}
    for activity in activities:
        row = counted.get(activity.id)
        if row is not None:
            found[activity.id] = Figures(
                row.attended, row.countries, row.organisations, row.women, True
            )
        else:
            found[activity.id] = Figures(
                activity.participants,
                activity.countries_represented,
                activity.organisations_represented,
                None,
                False,
            )
    return found


def counted_lists():
    """The invitation lists whose attendance was ticked, as a subquery to join to activities
    (``activity_id``, ``attended``, ``countries``, ``organisations``, ``women``)."""
    return (
        select(
            InvitationList.activity_id,
            InvitationList.attended,
            InvitationList.countries,
            InvitationList.organisations,
            InvitationList.women,
        )
        .where(InvitationList.attendance_taken_at.is_not(None))
        .subquery("counted_lists")
    )
