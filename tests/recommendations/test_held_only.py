"""Recommendations are recorded only for activities that have been held (or closed): the
action is offered nowhere else, and each door (the form, the import) refuses it."""

from __future__ import annotations

import html
from datetime import date

import pytest

from kpplan.meetings.models import Status
from kpplan.recommendations.models import Recommendation
from tests.conftest import STATE_A
from tests.recommendations.helpers import count_rows, csv_body, import_file, read_csv

NOT_HELD = [Status.DRAFT, Status.PLANNED, Status.CONFIRMED, Status.POSTPONED, Status.CANCELLED]
ONE_RECOMMENDATION = {
    "entries-0-text": "Share data on smuggling routes.",
    "entries-0-priority": "high",
    "entries-0-to_all_members": "y",
    "entries-0-lineage": "",
}


def _record_links(client, activity_id: int) -> int:
    """How many "Record recommendations" links the activity's two pages show."""
    pages = (f"/activities/{activity_id}", f"/activities/{activity_id}/recommendations")
    return sum(
        client.get(page).text.count(f"/activities/{activity_id}/recommendations/new")
        for page in pages
    )


@pytest.mark.parametrize("status", NOT_HELD)
def test_an_activity_not_held_offers_no_recording_and_refuses_it(
    client, app, people, login_as, factory, status
):
    activity = factory.activity(start=date(2022, 7, 12), status=status)
    login_as(people["secretariat"])
    assert _record_links(client, activity.id) == 0

    page = client.get(f"/activities/{activity.id}/recommendations/new")
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/activities/{activity.id}")

    refused = client.post(f"/activities/{activity.id}/recommendations/new", data=ONE_RECOMMENDATION)
    assert refused.status_code == 302
    assert count_rows(app, Recommendation) == 0
    shown = html.unescape(client.get(refused.headers["Location"]).text)
    assert (
        f"is {status.label.lower()}: recommendations are recorded once an activity has been "
        "held" in shown
    )


@pytest.mark.parametrize("status", [Status.HELD, Status.CLOSED])
def test_a_held_or_closed_activity_offers_and_records_them(
    client, app, people, login_as, factory, status
):
    activity = factory.activity(start=date(2022, 7, 12), status=status)
    login_as(people["secretariat"])
    assert _record_links(client, activity.id) == 2
    assert client.get(f"/activities/{activity.id}/recommendations/new").status_code == 200
    done = client.post(f"/activities/{activity.id}/recommendations/new", data=ONE_RECOMMENDATION)
    assert done.status_code == 302
    assert count_rows(app, Recommendation) == 1


def test_an_import_row_naming_an_activity_not_held_is_a_row_error(
    client, app, people, login_as, factory
):
    held = factory.activity(start=date(2022, 7, 12), status=Status.HELD)
    planned = factory.activity(start=date(2027, 7, 12), status=Status.PLANNED)
    login_as(people["secretariat"])
    columns = read_csv(client.get("/recommendations/export.csv").data)[0]
    rows = [
        ["", held.id, "", "Agreed at the meeting.", "High", "", "RD1", STATE_A, "", ""],
        ["", planned.id, "", "Not agreed yet.", "High", "", "RD1", STATE_A, "", ""],
    ]
    preview = import_file(client, "/recommendations/import", csv_body(columns, rows), "r.csv")
    text = html.unescape(preview.text)
    assert "1 row cannot be imported" in text, text[-2000:]
    assert (
        f"{planned.title} is planned: recommendations are recorded once an activity has "
        "been held" in text
    )
    assert "Import all rows" not in text
    assert count_rows(app, Recommendation) == 0
