"""The rules of the Chair's work plan and of the directory, and who rules remind."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from kpplan.core.extensions import db
from kpplan.directory.models import Role, State, User
from tests.reminders.helpers import at, link_path, run, turn_off_other_rules


def test_a_slipping_work_plan_item_reaches_the_chair_and_the_secretariat(
    app, client, people, factory, smtp, login_as
):
    turn_off_other_rules(app, "work_plan_item_late")
    chairmanship = factory.chairmanship("South Sudan", date(2026, 3, 1), None)
    plan = factory.work_plan(chairmanship.id)
    item = factory.work_plan_item(plan.id, target=date(2026, 12, 15), quarter=False)
    run(app, at("2026-12-15T20:00"))
    assert smtp.messages == []
    for day in range(16, 31):
        run(app, at(f"2026-12-{day}T09:00"))
    assert smtp.keys() == [f"work_plan_item_late work_plan_item:{item.id} due:2026-12-15"] * 2
    assert {m["To"].addresses[0].addr_spec for m in smtp.messages} == {
        people["chair"].email,
        people["secretariat"].email,
    }
    login_as(people["chair"])
    assert client.get(link_path(smtp.messages[0])).status_code == 200


def test_member_states_without_focal_point_once_a_month(app, client, people, smtp, login_as):
    turn_off_other_rules(app, "state_without_focal_point")
    for moment in ("2026-12-01T00:30", "2026-12-15T12:00", "2026-12-31T23:50", "2027-01-01T00:05"):
        run(app, at(moment))
    assert smtp.keys() == [
        "state_without_focal_point member-states month:2026-12",
        "state_without_focal_point member-states month:2027-01",
    ]
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert "Austria" in text and "Kenya" not in text  # Kenya has fp_a
    login_as(people["secretariat"])
    assert client.get(link_path(smtp.messages[0])).status_code == 200


def test_recipient_helpers_for_rules(app, people, factory):
    from kpplan.reminders.rules import focal_point_ids, secretariat_ids

    alternate = factory.user(Role.FOCAL_POINT, state="Kenya", is_alternate=True)
    factory.user(Role.FOCAL_POINT, state="Kenya", active=False)
    with app.app_context():
        kenya = db.session.scalar(sa.select(User.state_id).where(User.id == people["fp_a"].id))
        assert focal_point_ids(db.session, kenya) == [people["fp_a"].id, alternate.id]
        assert secretariat_ids(db.session) == [people["secretariat"].id]
        db.session.get(User, people["secretariat"].id).active = False
        db.session.flush()
        assert secretariat_ids(db.session) == [people["admin"].id]  # nobody else to tell
        db.session.rollback()


def test_one_member_state_without_focal_point_is_named_as_a_sentence_does(app, people, smtp):
    turn_off_other_rules(app, "state_without_focal_point")
    with app.app_context():
        # The Czech Republic is the one member state left without a focal point.
        db.session.execute(
            sa.update(State).where(State.name != "Czech Republic").values(is_member=False)
        )
        db.session.commit()
    run(app, at("2026-12-01T09:00"))
    (mail,) = smtp.messages
    assert mail["Subject"] == "The Czech Republic has no active national focal point"
    text = " ".join(mail.get_body(("plain",)).get_content().split())
    assert "The Czech Republic is a member state of the Process" in text
    assert "Open the Czech Republic's page:" in text
