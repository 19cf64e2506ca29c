"""Arranging invitation lists and delegates straight through the services, for the tests."""

from __future__ import annotations

import html
import re
from datetime import date

import sqlalchemy as sa

from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State
from kpplan.meetings.models import Activity
from kpplan.participants import attendance, invitation_lists, nominations
from kpplan.participants.models import (
    Gender,
    Invitation,
    InvitationList,
    Participant,
    ParticipantStatus,
)


def draw_up(
    app,
    activity_id: int,
    states: tuple[str, ...] = ("Kenya", "Italy"),
    organisations: tuple[str, ...] = (),
    seats: int | None = None,
    deadline: date | None = None,
    sent: bool = True,
) -> dict[str, int]:
    """An invitation list for the activity, sent by default; its invitations' ids by name."""
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        invitation_list = invitation_lists.save_list(
            None,
            activity,
            0,
            seats_per_delegation=seats,
            nomination_deadline=None,
            states=list(db.session.scalars(sa.select(State).where(State.name.in_(states)))),
            organisations=list(
                db.session.scalars(
                    sa.select(Organisation).where(Organisation.acronym.in_(organisations))
                )
            ),
            today=date(2000, 1, 1),
        )
        # The deadline is set as it stands, whatever the day the test runs.
        invitation_list.nomination_deadline = deadline
        if sent:
            invitation_list.sent_at = utcnow()
        db.session.commit()
        ids = {i.delegation: i.id for i in invitation_list.invitations}
        ids["list"] = invitation_list.id
        return ids


def name(
    app,
    invitation_id: int,
    who: str,
    status: ParticipantStatus = ParticipantStatus.NOMINATED,
    gender: Gender = Gender.NOT_GIVEN,
    email: str | None = None,
    attended: bool = False,
) -> int:
    """A delegate named by the secretariat; returns their id."""
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        participant = nominations.nominate(
            None,
            invitation,
            nominations.Details(name=who, email=email, gender=gender, institution="Ministry"),
            date(2000, 1, 1),
            status=status,
        )
        participant.attended = attended
        if attended:
            invitation.invitation_list.attendance_taken_at = utcnow()
        db.session.commit()
        if attended:
            attendance.refresh_figures(db.session.get(InvitationList, invitation.list_id))
            db.session.commit()
        return participant.id


def participant(app, participant_id: int) -> Participant:
    with app.app_context():
        found = db.session.get(Participant, participant_id)
        db.session.expunge(found)
        return found


def invitation(app, invitation_id: int) -> Invitation:
    with app.app_context():
        found = db.session.get(Invitation, invitation_id)
        db.session.expunge(found)
        return found


def invitation_list(app, list_id: int) -> InvitationList:
    with app.app_context():
        found = db.session.get(InvitationList, list_id)
        db.session.expunge(found)
        return found


def text(response) -> str:
    """The page as a person reads it: entities such as &#39; turned back into characters."""
    return html.unescape(response.text)


def flashes(page: str) -> list[str]:
    found = re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', page, re.S)
    return [html.unescape(f) for f in found]


def field_error(page: str, field: str) -> str | None:
    """The message shown next to ``field``, without the "Error:" said to screen readers."""
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    if not found:
        return None
    message = re.sub(r'<span class="visually-hidden">Error: </span>', "", found.group(1))
    return html.unescape(message.strip())
