"""A focal point of one state reads and changes only their own state's follow-ups."""

from __future__ import annotations

import io

from kpplan.core.extensions import db
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from tests.conftest import STATE_A, STATE_B
from tests.recommendations.helpers import PDF, count_rows, csv_body, post_update


class TestScoping:
    """A focal point of state A cannot read or change state B's follow-ups anywhere."""

    def test_other_states_follow_ups_are_not_found(self, app, client, people, login_as, factory):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id)
        kenya = factory.follow_up_of(recommendation, STATE_A)
        update = factory.update(kenya.id, with_file=PDF)
        login_as(people["fp_b"])  # Italy
        assert client.get(f"/follow-ups/{kenya.id}").status_code == 404
        assert post_update(client, kenya.id, 2).status_code == 404
        evidence = update.evidence[0].id
        assert client.get(f"/follow-ups/{kenya.id}/evidence/{evidence}").status_code == 404
        italy = factory.follow_up_of(recommendation, STATE_B)
        # Not through Italy's own follow-up either.
        assert client.get(f"/follow-ups/{italy.id}/evidence/{evidence}").status_code == 404
        for url in (
            f"/recommendations/{recommendation.id}",
            f"/activities/{activity.id}/recommendations",
            "/follow-ups/",
            f"/follow-ups/?state={kenya.state_id}",
            "/recommendations/shares",
        ):
            page = client.get(url)
            assert page.status_code == 200
            assert f"/follow-ups/{kenya.id}" not in page.text, url
            assert ">Kenya<" not in page.text, url
        exported = client.get(f"/follow-ups/export.csv?state={kenya.state_id}").data.decode()
        assert "Kenya" not in exported and "Italy" in exported
        with app.app_context():
            assert db.session.get(FollowUp, kenya.id).version == 2

    def test_import_of_another_states_row_changes_nothing(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id)
        kenya = factory.follow_up_of(recommendation, STATE_A)
        login_as(people["fp_b"])
        body = csv_body(
            [
                "Follow-up ID",
                "Code",
                "State",
                "Wording",
                "Status",
                "Progress",
                "Next review date",
                "Reason",
                "Last update",
                "Version",
                "New narrative",
            ],
            [
                [
                    kenya.id,
                    recommendation.code,
                    "Kenya",
                    "",
                    "Implemented",
                    "",
                    "",
                    "",
                    "",
                    1,
                    "Done",
                ]
            ],
        )
        response = client.post(
            "/follow-ups/import",
            data={"file": (io.BytesIO(body), "mine.csv")},
            content_type="multipart/form-data",
        )
        assert "no follow-up" in response.text and "Import all rows" not in response.text
        assert count_rows(app, StatusUpdate) == 0

    def test_chair_and_observer_read_everything_but_change_nothing(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        kenya = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        for role in ("chair", "observer"):
            login_as(people[role])
            page = client.get(f"/follow-ups/{kenya.id}")
            assert page.status_code == 200 and "Post an update" not in page.text
            assert post_update(client, kenya.id, 1).status_code == 403
        assert count_rows(app, StatusUpdate) == 0
