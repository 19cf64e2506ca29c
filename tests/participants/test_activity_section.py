"""The invitations on an activity's page: kept between pages, and shown again at once when
a list, an invitation or a delegate changes."""

from __future__ import annotations

from datetime import date

from kpplan.core.extensions import db
from kpplan.participants.models import Answer, Invitation, ParticipantStatus
from tests.participants.helpers import draw_up, name


def test_the_activity_page_follows_its_invitations_and_keeps_them_through_a_status_update(
    app, client, people, login_as, factory, count_queries
):
    activity = factory.activity(start=date(2026, 3, 10))
    page = f"/activities/{activity.id}"
    login_as(people["secretariat"])
    assert "No invitation list yet." in client.get(page).text
    ids = draw_up(app, activity.id, states=("Kenya", "Italy"))
    assert "2 delegations invited, 0 answered (0 declined)." in client.get(page).text
    with app.app_context():
        db.session.get(Invitation, ids["Italy"]).answer = Answer.DECLINED
        db.session.commit()
    assert "2 delegations invited, 1 answered (1 declined)." in client.get(page).text
    name(app, ids["Kenya"], "Wanjiku Kamau", ParticipantStatus.CONFIRMED)
    assert "1 delegate named, 1 confirmed." in client.get(page).text
    recommendation = factory.recommendation(activity.id, states=("Kenya",))
    factory.update(recommendation.follow_ups[0].id)
    with count_queries(header_kept=True) as counted:
        assert "1 delegate named, 1 confirmed." in client.get(page).text
    assert not [q for q in counted.statements if "invitation" in q]
