"""Demo invitations: every upcoming activity of the demo gets its invitation list, sent, and
the soonest a few illustrative nominations.

The Process's record holds only past activities; when the demo has no upcoming one, an
illustrative training is added, named and noted as such, so that the invitations,
nominations and attendance have something to show.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State
from kpplan.meetings import services as meetings
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Format, OrganisationRole, StateRole, Status
from kpplan.participants import services
from kpplan.participants.models import Gender, InvitationList, ParticipantStatus

ILLUSTRATIVE_TITLE = (
    "Regional Training on the Identification of Victims of Trafficking (illustrative)"
)
ILLUSTRATIVE_NOTE = (
    "Illustrative: added by the demo to show invitations, nominations and attendance. "
    "This activity is not in the Process's record."
)
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


def _illustrative_activity(today: date) -> Activity:
    states = {s.name: s for s in db.session.scalars(select(State))}
    organisations = {
        o.acronym: o
        for o in db.session.scalars(select(Organisation))
        if o.acronym in ("IOM", "UNODC")
    }
    start = today + timedelta(days=45)
    activity = meetings.create_activity(
        None,
        kind=ActivityKind.TRAINING,
        title=ILLUSTRATIVE_TITLE,
        theme="Identifying and referring victims of trafficking at borders",
        start_date=start,
        end_date=start + timedelta(days=1),
        city="Nairobi",
        country_id=states["Kenya"].id,
        format=Format.IN_PERSON,
        record_note=ILLUSTRATIVE_NOTE,
        status=Status.PLANNED,
        state_roles=[(states["Kenya"], StateRole.HOST)],
        organisations=[(o, OrganisationRole.PARTNER) for o in organisations.values()],
    )
    # The preparation so far is done (the invitations are sent); what lies ahead is not.
    for milestone in activity.milestones:
        if milestone.due_date <= today:
            milestone.done_on = milestone.due_date
    return activity


def _nominate(invitation_list: InvitationList, today: date) -> None:
    by_name = {i.delegation: i for i in invitation_list.invitations}
    for delegation, name, function, institution, gender, status, visa in NOMINATIONS:
        invitation = by_name.get(delegation)
        if invitation is None:
            continue
        participant = services.nominate(
            None,
            invitation,
            services.Details(
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
            services.decide(None, participant, participant.version, status)
    invitation = by_name.get(DECLINED[0])
    if invitation is not None and not invitation.participants:
        services.decline(None, invitation, invitation.version, DECLINED[1], today)


def load_demo_invitations(today: date) -> int:
    """Give each upcoming activity without one an invitation list, sent; add the illustrative
    training when there is no upcoming activity; name a few illustrative delegates for the
    soonest. Returns how many lists it drew up (0 when run again)."""
    upcoming = db.session.scalars(
        select(Activity)
        .where(Activity.status.in_(services.SENDABLE), Activity.start_date > today)
        .order_by(Activity.start_date, Activity.id)
    ).all()
    if not upcoming and not db.session.scalar(
        select(Activity.id).where(Activity.title == ILLUSTRATIVE_TITLE)
    ):
        upcoming = [_illustrative_activity(today)]
    with_list = set(db.session.scalars(select(InvitationList.activity_id)))
    drawn = []
    for activity in upcoming:
        if activity.id in with_list:
            continue
        proposed = services.prefill(activity, today)
        invitation_list = services.save_list(
            None,
            activity,
            0,
            seats_per_delegation=proposed.seats_per_delegation,
            nomination_deadline=proposed.nomination_deadline,
            states=proposed.states,
            organisations=proposed.organisations,
            today=today,
        )
        services.send_invitations(None, invitation_list, invitation_list.version, today)
        drawn.append(invitation_list)
    if drawn:
        _nominate(drawn[0], today)
    return len(drawn)
