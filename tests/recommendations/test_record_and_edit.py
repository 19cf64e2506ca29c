"""Recording recommendations (several in one form), editing them (the wording versioned
once someone reported), withdrawing them, their codes and the demo set."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.models import Status
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import REPORTED_STATUSES, Validation
from tests.conftest import STATE_A, STATE_B
from tests.recommendations.helpers import count_rows

HELD = Status.HELD


class TestRecording:
    def test_several_recommendations_in_one_form(self, app, client, people, login_as, factory):
        activity = factory.activity(start=date(2022, 7, 12), status=HELD)
        login_as(people["secretariat"])
        with app.app_context():
            kenya = db.session.scalar(sa.select(State.id).where(State.name == STATE_A))
        response = client.post(
            f"/activities/{activity.id}/recommendations/new",
            data={
                "entries-0-text": "Share data on smuggling routes.",
                "entries-0-priority": "high",
                "entries-0-themes": ["RD1", "4P-PARTNERSHIP"],
                "entries-0-to_all_members": "y",
                "entries-0-lineage": "",
                "entries-1-text": "",  # an empty block is left out
                "entries-1-priority": "medium",
                "entries-1-lineage": "",
                "entries-2-text": "Train border guards on victim identification.",
                "entries-2-priority": "medium",
                "entries-2-states": [kenya],
                "entries-2-for_secretariat": "y",
                "entries-2-target_date": "2023-06-30",
                "entries-2-lineage": "",
            },
        )
        assert response.status_code == 302, response.text
        with app.app_context():
            recommendations = db.session.scalars(
                sa.select(Recommendation).order_by(Recommendation.number)
            ).all()
            assert [r.code for r in recommendations] == ["TM-2022-07/R1", "TM-2022-07/R2"]
            first, second = recommendations
            assert first.to_all_members and len(first.follow_ups) == 40
            assert sorted(first.theme_codes) == ["4P-PARTNERSHIP", "RD1"]
            assert sorted(f.addressee for f in second.follow_ups) == [STATE_A, "Secretariat"]
            assert all(f.next_review_date == date(2023, 6, 30) for f in second.follow_ups)
            assert (
                db.session.scalar(
                    sa.select(sa.func.count()).where(AuditEntry.object_type == "recommendations")
                )
                == 2
            )

    def test_a_recommendation_without_addressee_is_refused_next_to_the_field(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        login_as(people["secretariat"])
        response = client.post(
            f"/activities/{activity.id}/recommendations/new",
            data={
                "entries-0-text": "Do something.",
                "entries-0-priority": "low",
                "entries-0-lineage": "",
            },
        )
        assert response.status_code == 200
        assert "Say whom the recommendation is addressed to" in response.text
        assert 'id="entries-0-states-error"' in response.text
        assert "Do something." in response.text  # what was typed is kept
        assert count_rows(app, Recommendation) == 0

    def test_lineage_is_shown_from_both_sides(self, app, client, people, login_as, factory):
        activity = factory.activity(status=HELD)
        earlier = factory.recommendation(activity.id)
        later_activity = factory.activity(start=date(2026, 9, 1), status=HELD)
        login_as(people["secretariat"])
        response = client.post(
            f"/activities/{later_activity.id}/recommendations/new",
            data={
                "entries-0-text": "Re-endorsed.",
                "entries-0-priority": "medium",
                "entries-0-to_all_members": "y",
                "entries-0-predecessor": earlier.code,
                "entries-0-lineage": "re_endorses",
            },
        )
        assert response.status_code == 302
        with app.app_context():
            later = db.session.scalar(
                sa.select(Recommendation).where(Recommendation.activity_id == later_activity.id)
            )
        assert "Re-endorses" in client.get(f"/recommendations/{later.id}").text
        page = client.get(f"/recommendations/{earlier.id}").text
        assert "Re-endorsed by" in page and later.code in page

    def test_wording_is_versioned_once_someone_reported(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        recommendation = factory.recommendation(activity.id, states=(STATE_A,))
        login_as(people["secretariat"])
        form = {
            "version": 1,
            "fields-text": "Corrected wording.",
            "fields-priority": "medium",
            "fields-themes": ["RD3"],
            "fields-states": [recommendation.follow_ups[0].state_id],
            "fields-lineage": "",
        }
        # Before any report: a plain correction, no revision kept.
        assert (
            client.post(f"/recommendations/{recommendation.id}/edit", data=form).status_code == 302
        )
        factory.update(factory.follow_up_of(recommendation, STATE_A).id)
        form.update({"version": 2, "fields-text": "New wording after reports."})
        refused = client.post(f"/recommendations/{recommendation.id}/edit", data=form)
        assert refused.status_code == 200
        assert 'id="revision_reason-error"' in refused.text
        form["revision_reason"] = "The Steering Committee clarified the scope."
        assert (
            client.post(f"/recommendations/{recommendation.id}/edit", data=form).status_code == 302
        )
        with app.app_context():
            saved = db.session.get(Recommendation, recommendation.id)
            assert saved.text == "New wording after reports."
            assert [(r.text, r.reason) for r in saved.revisions] == [
                ("Corrected wording.", "The Steering Committee clarified the scope.")
            ]
        page = client.get(f"/recommendations/{recommendation.id}").text
        assert "Earlier wordings (1)" in page

    def test_an_addressee_who_reported_cannot_be_removed(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        recommendation = factory.recommendation(activity.id, states=(STATE_A, STATE_B))
        factory.update(factory.follow_up_of(recommendation, STATE_A).id)
        italy = factory.follow_up_of(recommendation, STATE_B).state_id
        login_as(people["secretariat"])
        response = client.post(
            f"/recommendations/{recommendation.id}/edit",
            data={
                "version": 1,
                "fields-text": recommendation.text,
                "fields-priority": "medium",
                "fields-states": [italy],
                "fields-lineage": "",
            },
        )
        assert response.status_code == 200
        assert "Kenya has already reported" in response.text
        assert count_rows(app, FollowUp) == 2

    def test_the_withdraw_form_sits_behind_a_button(self, client, people, login_as, factory):
        recommendation = factory.recommendation(factory.activity().id, states=(STATE_A,))
        login_as(people["secretariat"])
        page = client.get(f"/recommendations/{recommendation.id}").text
        section = page.split('<section id="withdraw"', 1)[1].split("</section>", 1)[0]
        # A closed disclosure whose button is "Withdraw…"; the reason and the red button inside.
        assert re.search(
            r'<details class="disclosure">\s*<summary[^>]*>Withdraw…</summary>', section
        )
        inside = section.split("</summary>", 1)[1].split("</details>", 1)[0]
        assert 'name="reason"' in inside and "button-danger" in inside
        assert "button-danger" not in page.replace(inside, "")
        login_as(people["fp_a"])
        assert 'id="withdraw"' not in client.get(f"/recommendations/{recommendation.id}").text

    def test_withdrawn_recommendations_leave_open_counts(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(status=HELD)
        recommendation = factory.recommendation(activity.id, states=(STATE_A,))
        login_as(people["secretariat"])
        refused = client.post(
            f"/recommendations/{recommendation.id}/withdraw", data={"version": 1, "reason": ""}
        )
        assert refused.status_code == 302
        assert count_rows(app, Recommendation, Recommendation.withdrawn_at.is_not(None)) == 0
        client.post(
            f"/recommendations/{recommendation.id}/withdraw",
            data={"version": 1, "reason": "Superseded by the 2023 work plan."},
        )
        link = f">{recommendation.code}</a>"
        assert link not in client.get("/recommendations/").text
        assert link in client.get("/recommendations/?show=withdrawn").text
        assert (
            "Superseded by the 2023 work plan"
            in client.get(f"/recommendations/{recommendation.id}").text
        )
        login_as(people["fp_a"])
        assert recommendation.code not in client.get("/follow-ups/").text


def test_every_block_of_the_record_form_says_what_is_wrong_at_once(
    app, client, people, login_as, factory
):
    activity = factory.activity(status=HELD)
    login_as(people["secretariat"])
    response = client.post(
        f"/activities/{activity.id}/recommendations/new",
        data={
            "entries-0-text": "Fine, but alone it is not recorded.",
            "entries-0-priority": "medium",
            "entries-0-to_all_members": "y",
            "entries-1-text": "Nobody to address.",
            "entries-1-priority": "medium",
            "entries-2-text": "Successor of nothing.",
            "entries-2-priority": "medium",
            "entries-2-to_all_members": "y",
            "entries-2-predecessor": "XX-1999-01/R9",
            "entries-2-lineage": "supersedes",
        },
    )
    assert response.status_code == 200
    assert 'id="entries-1-states-error"' in response.text
    assert 'id="entries-2-predecessor-error"' in response.text
    assert "No recommendation has the code XX-1999-01/R9." in response.text
    assert "Fine, but alone it is not recorded." in response.text
    assert count_rows(app, Recommendation) == 0


def test_two_meetings_of_a_kind_in_one_month_get_distinct_codes(
    app, client, people, login_as, factory
):
    first = factory.activity(start=date(2022, 7, 5), status=HELD)
    second = factory.activity(start=date(2022, 7, 20), status=HELD)
    login_as(people["secretariat"])
    for activity in (first, second, first):
        response = client.post(
            f"/activities/{activity.id}/recommendations/new",
            data={
                "entries-0-text": "Act.",
                "entries-0-priority": "medium",
                "entries-0-to_all_members": "y",
            },
        )
        assert response.status_code == 302
    with app.app_context():
        codes = db.session.scalars(sa.select(Recommendation.code).order_by(Recommendation.id))
        assert list(codes) == ["TM-2022-07/R1", "TM-2022-07b/R1", "TM-2022-07/R2"]


def test_demo_recommendations_are_illustrative_and_load_once(app, runner):
    result = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert result.exit_code == 0, result.output
    assert "Demo recommendations (illustrative): 8 added" in result.output
    again = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert "Demo recommendations (illustrative): 0 added" in again.output
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(Recommendation.illustrative.is_(False))
            )
            == 0
        )
        statuses = set(db.session.scalars(sa.select(FollowUp.status)))
        # Every status people report; none superseded (the demo only re-endorses).
        assert statuses == set(REPORTED_STATUSES)
        assert db.session.scalar(
            sa.select(sa.func.count()).where(StatusUpdate.validation == Validation.PENDING)
        )
    client = app.test_client()
    client.post("/login", data={"email": "focal.kenya@kpplan.example", "password": "khartoum-demo"})
    page = client.get("/follow-ups/")
    assert page.status_code == 200
    assert "My state's follow-ups: Kenya" in page.text and "Illustrative" in page.text
