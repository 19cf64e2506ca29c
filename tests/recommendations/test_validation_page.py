"""The validation page of one update to "implemented" (where the validation mail leads):
nothing chosen beforehand, the narrative and the evidence to open, and a confirmation
before accepting an implementation that gives no evidence."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from kpplan.audit.models import AuditEntry
from kpplan.core.extensions import db
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.statuses import FollowUpStatus, Validation
from tests.conftest import STATE_A
from tests.recommendations.helpers import PDF


def _pending(factory, with_file: bytes | None = None):
    activity = factory.activity()
    recommendation = factory.recommendation(activity.id, states=(STATE_A,))
    follow_up = factory.follow_up_of(recommendation, STATE_A)
    update = factory.update(
        follow_up.id, FollowUpStatus.IMPLEMENTED, with_file=with_file, pending=True
    )
    return recommendation, follow_up, update


def _state(app, follow_up_id, update_id):
    with app.app_context():
        follow_up = db.session.get(FollowUp, follow_up_id)
        return follow_up.status, db.session.get(StatusUpdate, update_id).validation


def test_the_queue_and_the_timeline_lead_to_the_page(client, people, login_as, factory):
    recommendation, follow_up, update = _pending(factory)
    login_as(people["secretariat"])
    link = f'href="/follow-ups/updates/{update.id}/validate"'
    assert link in client.get("/follow-ups/validation").text
    assert link in client.get(f"/follow-ups/{follow_up.id}").text
    # The queue decides nothing by itself any more: no preset decision anywhere.
    assert 'name="decision"' not in client.get("/follow-ups/validation").text


def test_the_page_shows_the_report_and_presets_no_decision(app, client, people, login_as, factory):
    recommendation, follow_up, update = _pending(factory, with_file=PDF)
    login_as(people["secretariat"])
    page = client.get(f"/follow-ups/updates/{update.id}/validate")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f"Review and validate: {recommendation.code}, {STATE_A}" in text
    assert "Done some work." in text  # the narrative
    radios = re.findall(r'<input[^>]*name="decision"[^>]*>', page.text)
    assert len(radios) == 2 and not any("checked" in r for r in radios)
    # The evidence, with a download link the secretariat can open.
    evidence = update.evidence[0]
    download = f"/follow-ups/{follow_up.id}/evidence/{evidence.id}"
    assert f'href="{download}"' in page.text
    opened = client.get(download)
    assert opened.data == PDF
    opened.close()
    assert f"{len(PDF)} bytes" in text
    # Evidence given: no confirmation asked.
    assert "accept_without_evidence" not in page.text

    nothing_chosen = client.post(f"/follow-ups/updates/{update.id}/validate", data={})
    assert nothing_chosen.status_code == 200
    shown = html.unescape(nothing_chosen.text)
    assert re.search(
        r'<fieldset class="field field-error" id="decision".*?Choose to accept or to return the '
        r"update\.",
        shown,
        re.S,
    )
    assert _state(app, follow_up.id, update.id) == (
        FollowUpStatus.NOT_STARTED,
        Validation.PENDING,
    )

    accepted = client.post(f"/follow-ups/updates/{update.id}/validate", data={"decision": "accept"})
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith("/follow-ups/validation")
    assert _state(app, follow_up.id, update.id) == (
        FollowUpStatus.IMPLEMENTED,
        Validation.ACCEPTED,
    )
    after = html.unescape(client.get(f"/follow-ups/updates/{update.id}/validate").text)
    assert "Validated" in after and "Nothing waits for a decision" in after
    assert 'name="decision"' not in after


def test_accepting_without_evidence_asks_for_confirmation(app, client, people, login_as, factory):
    _recommendation, follow_up, update = _pending(factory)
    login_as(people["secretariat"])
    page = html.unescape(client.get(f"/follow-ups/updates/{update.id}/validate").text)
    assert "This update gives no evidence" in page
    assert "I accept this implementation without any evidence" in page

    refused = client.post(f"/follow-ups/updates/{update.id}/validate", data={"decision": "accept"})
    assert refused.status_code == 200
    assert re.search(
        r'class="field field-error field-check">.*?name="accept_without_evidence".*?'
        r"confirm that you accept the implementation without any",
        html.unescape(refused.text),
        re.S,
    )
    assert _state(app, follow_up.id, update.id)[1] is Validation.PENDING

    confirmed = client.post(
        f"/follow-ups/updates/{update.id}/validate",
        data={"decision": "accept", "accept_without_evidence": "y"},
    )
    assert confirmed.status_code == 302
    assert _state(app, follow_up.id, update.id) == (
        FollowUpStatus.IMPLEMENTED,
        Validation.ACCEPTED,
    )
    with app.app_context():
        trace = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "validated"))
        assert trace.actor_id == people["secretariat"].id
        assert trace.before["pending_update_id"] == update.id
        assert trace.after["status"] == "implemented" and trace.after["evidence"] == 0


def test_returning_needs_a_comment_next_to_its_field(app, client, people, login_as, factory):
    _recommendation, follow_up, update = _pending(factory)
    login_as(people["secretariat"])
    refused = client.post(f"/follow-ups/updates/{update.id}/validate", data={"decision": "return"})
    assert re.search(
        r'class="field field-error">.*?name="comment".*?Say why the update is returned',
        html.unescape(refused.text),
        re.S,
    )
    returned = client.post(
        f"/follow-ups/updates/{update.id}/validate",
        data={"decision": "return", "comment": "Attach the decree."},
    )
    assert returned.status_code == 302
    assert _state(app, follow_up.id, update.id) == (
        FollowUpStatus.NOT_STARTED,
        Validation.RETURNED,
    )


def test_the_queue_lists_each_update_with_its_addressee_author_and_evidence(
    app, client, people, login_as, factory, count_queries
):
    """Oldest first, each update's recommendation, addressee (a state, an organisation by
    its display name, the secretariat), author and pieces of evidence; the page and its
    total in two queries, whatever the number of updates."""
    organisation = factory.organisation("Migration Watch")
    with app.app_context():
        from kpplan.directory.models import Organisation

        db.session.get(Organisation, organisation.id).acronym = "MW"
        db.session.commit()
    activity = factory.activity()
    recommendation = factory.recommendation(
        activity.id, states=(STATE_A,), organisations=(organisation.id,), secretariat=True
    )
    with app.app_context():
        follow_ups = db.session.scalars(
            sa.select(FollowUp)
            .where(FollowUp.recommendation_id == recommendation.id)
            .order_by(FollowUp.state_id.is_(None), FollowUp.organisation_id.is_(None))
        ).all()
        ids = [f.id for f in follow_ups]
    with_files = factory.update(ids[0], FollowUpStatus.IMPLEMENTED, with_file=PDF, pending=True)
    factory.update(ids[1], FollowUpStatus.IMPLEMENTED, pending=True)
    factory.update(ids[2], FollowUpStatus.IMPLEMENTED, pending=True)
    with app.app_context():
        db.session.get(StatusUpdate, with_files.id).author_id = people["fp_a"].id
        db.session.commit()
    login_as(people["secretariat"])
    with count_queries() as counter:
        page = client.get("/follow-ups/validation").text
    rows = re.findall(r'<td data-label="Addressee">(.*?)</td>', page)
    assert [html.unescape(r) for r in rows] == [
        STATE_A,
        "Migration Watch (MW)",
        "Secretariat",
    ]
    assert page.count("1 piece of evidence") == 1 and page.count("No evidence") == 2
    assert people["fp_a"].name in page
    assert page.count(recommendation.code) >= 3
    assert "3 in all" in page
    assert sum("FROM status_updates" in q for q in counter.statements) == 2
