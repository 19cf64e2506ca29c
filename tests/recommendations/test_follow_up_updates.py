"""Status updates of a follow-up through its form: evidence, the rules of an update,
stale pages, validation of "implemented", a state's list by urgency, concurrency."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.statuses import FollowUpStatus, Validation
from tests.conftest import STATE_A, signed_in_session
from tests.recommendations.helpers import PDF, count_rows, form_version, post_update, process_today


class TestFollowUp:
    def test_focal_point_posts_an_update_with_evidence(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id)
        follow_up = factory.follow_up_of(recommendation, STATE_A)
        login_as(people["fp_a"])
        review = process_today(app) + timedelta(days=60)
        response = client.post(
            f"/follow-ups/{follow_up.id}",
            data={
                "version": 1,
                "status": "partially_implemented",
                "narrative": "The national action plan now covers smuggling.",
                "progress": "40",
                "next_review_date": review.isoformat(),
                "links": "Action plan | https://example.org/plan.pdf\nhttps://example.org/news",
                "files": [(io.BytesIO(PDF), "report.pdf")],
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.text
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.PARTIALLY_IMPLEMENTED
            assert saved.progress == 40 and saved.next_review_date == review
            assert saved.version == 2 and saved.last_update_at is not None
            (update,) = saved.updates
            assert update.author_id == people["fp_a"].id
            assert sorted(e.title for e in update.evidence) == [
                "Action plan",
                "https://example.org/news",
                "report.pdf",
            ]
            file_id = next(e.id for e in update.evidence if e.is_file)
            entry = db.session.scalar(
                sa.select(AuditEntry).where(AuditEntry.object_type == "follow_ups")
            )
            assert entry.before["status"] == "not_started"
            assert entry.after["status"] == "partially_implemented"
        page = client.get(f"/follow-ups/{follow_up.id}")
        assert "The national action plan now covers smuggling." in page.text
        download = client.get(f"/follow-ups/{follow_up.id}/evidence/{file_id}")
        assert download.status_code == 200 and download.data == PDF
        download.close()

    @pytest.mark.parametrize(
        "data,field,message",
        [
            ({"narrative": ""}, "narrative", "Say what has been done"),
            ({"status": "not_applicable"}, None, "Say why the recommendation does not apply"),
            ({"progress": "140"}, "progress", "from 0 to 100"),
            ({"links": "not a link"}, "links", "is not a web address"),
            ({"next_review_date": "2001-01-01"}, None, "in the past"),
        ],
    )
    def test_bad_updates_are_refused_with_a_message(
        self, app, client, people, login_as, factory, data, field, message
    ):
        activity = factory.activity()
        follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        login_as(people["fp_a"])
        response = post_update(client, follow_up.id, 1, **data)
        assert response.status_code == 200
        assert message in response.text
        if field:
            assert f'id="{field}-error"' in response.text
        assert count_rows(app, StatusUpdate) == 0

    def test_every_rule_an_update_breaks_is_shown_at_once(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        login_as(people["fp_a"])
        response = post_update(
            client,
            follow_up.id,
            1,
            status="not_applicable",
            narrative="",
            progress="140",
            links="not a link",
        )
        assert response.status_code == 200
        for field in ("narrative", "progress", "reason", "links"):
            assert f'id="{field}-error"' in response.text, field
        assert count_rows(app, StatusUpdate) == 0

    def test_a_disguised_file_is_refused(self, app, client, people, login_as, factory):
        activity = factory.activity()
        follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        login_as(people["fp_a"])
        response = client.post(
            f"/follow-ups/{follow_up.id}",
            data={
                "version": 1,
                "status": "in_progress",
                "narrative": "x",
                "files": [(io.BytesIO(b"#!/bin/sh\nrm -rf /\n"), "report.pdf")],
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        assert "whatever its name says" in response.text
        assert count_rows(app, StatusUpdate) == 0

    def test_a_stale_page_is_refused_and_shows_what_changed(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity()
        follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
        login_as(people["fp_a"])
        assert post_update(client, follow_up.id, 1).status_code == 302
        stale = post_update(client, follow_up.id, 1, status="implemented")
        assert stale.status_code == 409
        assert "Someone else changed this record" in stale.text
        assert "not_started" in stale.text and "in_progress" in stale.text
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.IN_PROGRESS and saved.version == 2
            assert len(saved.updates) == 1

    def test_implemented_counts_only_once_validated(self, app, client, people, login_as, factory):
        activity = factory.activity()
        recommendation = factory.recommendation(activity.id)
        follow_up = factory.follow_up_of(recommendation, STATE_A)
        login_as(people["fp_a"])
        assert post_update(client, follow_up.id, 1, status="implemented").status_code == 302
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.NOT_STARTED
            assert saved.pending_update_id is not None
            update_id = saved.pending_update_id
        assert "awaiting validation" in client.get(f"/follow-ups/{follow_up.id}").text
        # No new update while one waits.
        assert "waiting for the secretariat" in post_update(client, follow_up.id, 2).text
        login_as(people["secretariat"])
        queue = client.get("/follow-ups/validation").text
        assert recommendation.code in queue
        no_comment = client.post(
            f"/follow-ups/updates/{update_id}/validate", data={"decision": "return"}
        )
        assert no_comment.status_code == 200
        assert "Say why the update is returned" in no_comment.text
        returned = client.post(
            f"/follow-ups/updates/{update_id}/validate",
            data={"decision": "return", "comment": "Attach the published decree."},
        )
        assert returned.status_code == 302
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.NOT_STARTED and saved.pending_update_id is None
            assert db.session.get(StatusUpdate, update_id).validation is Validation.RETURNED
        login_as(people["fp_a"])
        assert "Attach the published decree." in client.get(f"/follow-ups/{follow_up.id}").text
        version = form_version(client, follow_up.id)
        assert post_update(client, follow_up.id, version, status="implemented").status_code == 302
        with app.app_context():
            second = db.session.get(FollowUp, follow_up.id).pending_update_id
        login_as(people["secretariat"])
        accepted = client.post(
            f"/follow-ups/updates/{second}/validate",
            data={"decision": "accept", "accept_without_evidence": "y"},
        )
        assert accepted.status_code == 302
        with app.app_context():
            saved = db.session.get(FollowUp, follow_up.id)
            assert saved.status is FollowUpStatus.IMPLEMENTED
            assert saved.effective_progress == 100
        page = client.get(f"/recommendations/{recommendation.id}").text
        assert "1 of 2" in page

    def test_the_state_list_puts_the_most_urgent_first(
        self, app, client, people, login_as, factory
    ):
        now = process_today(app)
        activity = factory.activity()
        later = factory.recommendation(activity.id, states=(STATE_A,), target=now + timedelta(200))
        soon = factory.recommendation(activity.id, states=(STATE_A,), target=now + timedelta(10))
        late = factory.recommendation(activity.id, states=(STATE_A,), target=now - timedelta(3))
        login_as(people["fp_a"])
        page = client.get("/follow-ups/").text
        assert page.index(late.code) < page.index(soon.code) < page.index(later.code)
        assert "Overdue (1)" in page and "Due within 30 days (1)" in page
        only = client.get("/follow-ups/?only=overdue").text
        assert late.code in only and soon.code not in only


@pytest.mark.postgres
def test_twenty_concurrent_updates_lose_nothing(app, backend, people, factory):
    """Each update either applies or is refused; the history holds exactly the applied."""
    if backend != "postgres":
        pytest.skip("concurrency is what PostgreSQL is for")
    activity = factory.activity()
    follow_up = factory.follow_up_of(factory.recommendation(activity.id), STATE_A)
    barrier = threading.Barrier(20)
    outcomes: list[int] = []
    lock = threading.Lock()

    def worker(n: int):
        client = app.test_client()
        with client.session_transaction() as session:
            session.update(signed_in_session(app, people["fp_a"]))
        version = form_version(client, follow_up.id)
        barrier.wait()
        response = post_update(client, follow_up.id, version, narrative=f"Update {n}")
        with lock:
            outcomes.append(response.status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    applied = outcomes.count(302)
    assert applied >= 1 and applied + outcomes.count(409) == 20, outcomes
    with app.app_context():
        saved = db.session.get(FollowUp, follow_up.id)
        assert len(saved.updates) == applied
        assert saved.version == 1 + applied
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    AuditEntry.object_type == "follow_ups", AuditEntry.object_id == follow_up.id
                )
            )
            == applied
        )
