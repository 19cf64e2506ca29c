"""Every follow-up status is one entry of FollowUpStatus (label, implied progress, open or
closed, colour), and the pages, forms, reminders and the database read it from there."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

from flask_migrate import upgrade

from kpplan import PROJECT_ROOT
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.forms import UpdateForm
from kpplan.recommendations.statuses import (
    OPEN_STATUSES,
    REPORTED_STATUSES,
    FollowUpStatus,
    Validation,
)
from kpplan.reminders.planner import tick
from kpplan.review.charts import SHARE_COLOUR
from kpplan.review.models import SnapshotEntry
from tests.schema import allowed_values

STATUSES = list(FollowUpStatus)
STYLESHEET = (PROJECT_ROOT / "kpplan" / "static" / "kpplan.css").read_text(encoding="utf-8")


def test_each_status_is_a_complete_entry_of_its_own():
    assert len({s.label for s in STATUSES}) == len(STATUSES)
    assert len({s.info.colour.upper() for s in STATUSES}) == len(STATUSES)
    for status in STATUSES:
        assert FollowUpStatus(status.value) is status
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", status.info.colour)
        progress = status.implied_progress
        assert progress is None or 0 <= progress <= 100
    # Open: something is still expected. The open ones imply progress below 100, rising.
    assert tuple(s for s in STATUSES if not s.is_closed) == OPEN_STATUSES
    assert OPEN_STATUSES == (
        FollowUpStatus.NOT_STARTED,
        FollowUpStatus.IN_PROGRESS,
        FollowUpStatus.PARTIALLY_IMPLEMENTED,
    )
    assert [s.implied_progress for s in OPEN_STATUSES] == sorted(
        s.implied_progress for s in OPEN_STATUSES
    )
    assert FollowUpStatus.IMPLEMENTED.implied_progress == 100
    assert FollowUpStatus.IMPLEMENTED.info.colour == SHARE_COLOUR


def test_every_badge_class_is_in_the_stylesheet():
    for css_class in [s.css_class for s in STATUSES] + [v.css_class for v in Validation]:
        assert re.search(rf"^\.{css_class} \{{", STYLESHEET, re.M), css_class


def test_the_update_form_offers_every_status_but_those_kpplan_sets_by_its_label(app):
    with app.test_request_context():
        choices = [(c.value, c.label) for c in UpdateForm().status.choices]
    assert choices == [(s.value, s.label) for s in STATUSES if not s.is_set_by_kpplan]
    assert [s for s in STATUSES if s.is_set_by_kpplan] == [FollowUpStatus.SUPERSEDED]
    assert tuple(s for s in STATUSES if not s.is_set_by_kpplan) == REPORTED_STATUSES


def test_the_database_allows_exactly_the_statuses(empty_app):
    values = {s.value for s in STATUSES}
    for column in (
        FollowUp.__table__.c.status,
        StatusUpdate.__table__.c.status_before,
        StatusUpdate.__table__.c.status,
        SnapshotEntry.__table__.c.status,
    ):
        assert set(column.type.enums) == values
    with empty_app.app_context():
        upgrade()
        assert allowed_values("follow_ups", "follow_up_status") == values
        assert allowed_values("status_updates", "status_before") == values
        assert allowed_values("status_updates", "new_status") == values
        assert allowed_values("snapshot_entries", "follow_up_status") == values


def test_every_status_is_shown_counted_and_reminded_as_its_entry_says(
    app, client, people, login_as, factory
):
    """One addressee at each status: its badge on the recommendation's page, the progress it
    implies on its own page, its count on the shares page, and a reminder once overdue only
    while it is open."""
    activity = factory.activity(start=date(2029, 3, 10))
    organisations = [factory.organisation(f"Addressee {s.label}").id for s in STATUSES]
    recommendation = factory.recommendation(
        activity.id, states=(), organisations=tuple(organisations), target=date(2030, 1, 1)
    )
    follow_up_of = {f.organisation_id: f for f in recommendation.follow_ups}
    at_status = {}
    for status, organisation_id in zip(STATUSES, organisations, strict=True):
        follow_up = follow_up_of[organisation_id]
        if status is not FollowUpStatus.NOT_STARTED:
            factory.update(follow_up.id, status)
        at_status[status] = follow_up.id

    login_as(people["secretariat"])
    page = html.unescape(client.get(f"/recommendations/{recommendation.id}").text)
    for status in STATUSES:
        item = page[page.index(f">Addressee {status.label}</a>") :].split("</li>")[0]
        assert f'<span class="fu {status.css_class}">{status.label}</span>' in item
        follow_up_page = client.get(f"/follow-ups/{at_status[status]}").text
        progress = follow_up_page.split("<dt>Progress</dt>")[1].split("</dd>")[0]
        if status.implied_progress is None:
            assert "—" in progress and "%" not in progress
        else:
            assert f"{status.implied_progress} %" in progress

    page = html.unescape(client.get("/recommendations/shares").text)
    for status in STATUSES:
        assert f'<span class="fu {status.css_class}">{status.label}</span></th><td>1<' in page

    with app.app_context():
        report = tick(datetime(2030, 1, 10, 10, tzinfo=UTC), dry_run=True)
    overdue = {r.subject_key for r in report.planned if r.rule == "follow_up_overdue"}
    assert overdue == {f"follow_up:{at_status[s]}" for s in OPEN_STATUSES}
