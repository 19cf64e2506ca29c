"""The demo: the illustrative upcoming training, whose invitations are due, invites, with a
few illustrative nominations, loaded once; the later upcoming activities do not invite yet."""

from __future__ import annotations

import sqlalchemy as sa

from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity
from kpplan.participants.demo import ILLUSTRATIVE_TITLE
from kpplan.participants.models import Answer, Invitation, InvitationList, Participant
from kpplan.reminders.models import Reminder
from kpplan.reminders.planner import tick
from tests.participants.helpers import text


def test_the_demo_invites_and_nominates_once(app, runner):
    first = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert first.exit_code == 0, first.output
    assert "Demo invitations: 1 upcoming activities invite" in first.output
    again = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert "Demo invitations: 0 upcoming activities invite" in again.output

    with app.app_context():
        activity = db.session.scalars(
            sa.select(Activity).where(Activity.title == ILLUSTRATIVE_TITLE)
        ).one()
        assert "Illustrative" in activity.record_note
        invitation_list = db.session.scalars(sa.select(InvitationList)).one()
        assert invitation_list.activity_id == activity.id and invitation_list.is_sent
        assert invitation_list.seats_per_delegation == 2
        names = db.session.scalars(sa.select(Participant.name)).all()
        assert len(names) == 4 and all(n.endswith("(illustrative)") for n in names)
        italy = db.session.scalars(
            sa.select(Invitation).where(Invitation.answer == Answer.DECLINED)
        ).one()
        assert italy.delegation == "Italy"
        # The scheduler mails the demo's focal points their invitation (not declined Italy).
        tick(utcnow())
        invited = db.session.scalars(
            sa.select(Reminder.user_id).where(Reminder.rule == "invitation")
        ).all()
        # Every focal point of an invited state that has not declined (Kenya's two and the
        # illustrative ones of other states), once.
        expected = {
            user.id
            for invitation in invitation_list.invitations
            if invitation.state is not None and invitation.answer != Answer.DECLINED
            for user in invitation.state.active_focal_points
        }
        assert sorted(invited) == sorted(expected) and len(expected) > 2
        kenya = db.session.scalars(
            sa.select(Invitation).where(Invitation.state.has(name="Kenya"))
        ).one()
        activity_id, kenya_id = activity.id, kenya.id

    client = app.test_client()
    client.post("/login", data={"email": "focal.kenya@kpplan.example", "password": "khartoum-demo"})
    page = client.get(f"/activities/{activity_id}/delegations/{kenya_id}")
    assert page.status_code == 200 and "Amani Njoroge (illustrative)" in text(page)
