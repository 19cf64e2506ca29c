"""Demo invitations: the upcoming activities of the demo whose invitations are due get their
invitation list, sent, and the soonest a few illustrative nominations.

The upcoming activities are the demo's illustrative ones (``kpplan.meetings.demo``); an
activity whose "Invitations sent" step lies ahead has no list yet, as in real life.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kpplan.core.extensions import db
from kpplan.meetings.demo import TRAINING_TITLE
from kpplan.meetings.models import Activity, Milestone
from kpplan.participants import invitation_lists, nominations
from kpplan.participants.models import Gender, InvitationList, ParticipantStatus

# The illustrative training the nominations below are made for.
ILLUSTRATIVE_TITLE = TRAINING_TITLE
# (delegation, name, function, institution, gender, status, visa letter)
NOMINATIONS = [
    (
        "Kenya",
        "Amani Njoroge (illustrative)",
        "Senior Investigator",
        "Directorate of Criminal Investigations",
        Gender.FEMALE,
        ParticipantStatus.CONFIRMED,
        False,
    ),
    (
        "Kenya",
        "Otieno Kariuki (illustrative)",
        "Immigration Officer",
        "Department of Immigration Services",
        Gender.MALE,
        ParticipantStatus.NOMINATED,
        True,
    ),
    (
        "Uganda",
        "Nakato Achen (illustrative)",
        "Prosecutor",
        "Office of the Director of Public Prosecutions",
        Gender.FEMALE,
        ParticipantStatus.WAITLISTED,
        True,
    ),
    (
        "IOM",
        "Sara Demo (illustrative)",
        "Programme Officer",
        "IOM",
        Gender.FEMALE,
        ParticipantStatus.CONFIRMED,
        False,
    ),
]
DECLINED = ("Italy", "Illustrative: no expert is available on these dates.")


def _nominate(invitation_list: InvitationList, today: date) -> None:
    by_name = {i.delegation: i for i in invitation_list.invitations}
    for delegation, name, function, institution, gender, status, visa in NOMINATIONS:
        invitation = by_name.get(delegation)
        if invitation is None:
            continue
        participant = nominations.nominate(
            None,
            invitation,
            nominations.Details(
                name=name,
                function=function,
                institution=institution,
                email=f"{name.split()[0].lower()}@example.org",
                gender=gender,
                visa_letter=visa,
            ),
            today,
        )
        if status is not ParticipantStatus.NOMINATED:
            nominations.decide(None, participant, participant.version, status)
    invitation = by_name.get(DECLINED[0])
    if invitation is not None and not invitation.participants:
        nominations.decline(None, invitation, invitation.version, DECLINED[1], today)


def load_demo_invitations(today: date) -> int:
    """Give each upcoming activity whose "Invitations sent" step is due (and has no list)
    an invitation list, sent; name a few illustrative delegates for the soonest. Returns
    how many lists it drew up (0 when run again)."""
    due = (
        select(Milestone.activity_id)
        .where(Milestone.name == "Invitations sent", Milestone.due_date <= today)
        .scalar_subquery()
    )
    upcoming = db.session.scalars(
        select(Activity)
        .where(
            Activity.status.in_(invitation_lists.SENDABLE),
            Activity.start_date > today,
            Activity.id.in_(due),
        )
        .order_by(Activity.start_date, Activity.id)
    ).all()
    with_list = set(db.session.scalars(select(InvitationList.activity_id)))
    drawn = []
    for activity in upcoming:
        if activity.id in with_list:
            continue
        proposed = invitation_lists.prefill(activity, today)
        invitation_list = invitation_lists.save_list(
            None,
            activity,
            0,
            seats_per_delegation=proposed.seats_per_delegation,
            nomination_deadline=proposed.nomination_deadline,
            states=proposed.states,
            organisations=proposed.organisations,
            today=today,
        )
        invitation_lists.send_invitations(None, invitation_list, invitation_list.version, today)
        drawn.append(invitation_list)
    if drawn:
        _nominate(drawn[0], today)
    return len(drawn)
