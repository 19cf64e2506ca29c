"""In a real browser: an invitation from the secretariat to a focal point's nomination, its
confirmation and the attendance that sets the activity's figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kpplan.core.db import utcnow
from kpplan.core.extensions import db
from kpplan.directory.models import Role
from kpplan.reminders.planner import tick
from tests import test_browser as browser_tests

# The browser fixtures of tests/test_browser.py: Chromium, a page, the live server, SQLite
# and CSRF on, and the console's errors.
browser = browser_tests.browser
page = browser_tests.page
live_url = browser_tests.live_url
backend = browser_tests.backend
app_config = browser_tests.app_config
console_errors = browser_tests.console_errors
_sign_in = browser_tests._sign_in

pytestmark = pytest.mark.browser


def submit(page, selector: str) -> None:
    """Click a button that sends a form, and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


def _today(app):
    from kpplan.core.clock import today

    with app.test_request_context():
        return today()


def test_an_invitation_becomes_a_nomination_a_confirmation_and_attendance(
    app, page, live_url, factory, console_errors
):
    factory.user(Role.SECRETARIAT, email="sara@kpplan.example", name="Sara")
    factory.user(Role.FOCAL_POINT, state="Kenya", email="kamau@kpplan.example", name="Kamau")
    # The training starts today: invitations still go out, and attendance can be ticked.
    activity = factory.activity(
        title="Regional Training on Victim Identification",
        start=_today(app),
        days=2,
        host="Kenya",
    )

    # The secretariat draws up the list (prefilled: every member state) and sends it.
    _sign_in(page, live_url, "sara@kpplan.example")
    page.goto(f"{live_url}/activities/{activity.id}")
    page.click("text=Draw up the invitation list")
    assert "Prefilled: A Thematic Meeting invites every member state" in page.content()
    assert page.locator("input[name=states]:checked").count() == 40
    page.fill("input[name=seats_per_delegation]", "2")
    submit(page, "button:has-text('Save the list')")
    assert "has been saved" in page.content()
    submit(page, "button:has-text('Send the invitations')")
    assert "The invitations are sent" in page.content()
    page.click("text=Sign out")

    # The scheduler's tick puts the invitation in the outbox and the focal point's bell.
    with app.app_context():
        tick(utcnow())
        db.session.remove()

    _sign_in(page, live_url, "kamau@kpplan.example")
    page.click("a.bell")
    page.click("text=Invitation: Regional Training on Victim Identification")
    if "delegations" not in page.url:  # the notification's own page links to the delegation
        page.click("text=Name your delegation")
    assert "Kenya's delegation" in page.content()
    page.fill("input[name=name]", "Wanjiku Kamau")
    page.fill("input[name=email]", "wanjiku@example.org")
    page.fill("input[name=institution]", "Ministry of Interior")
    page.select_option("select[name=gender]", "female")
    page.check("input[name=visa_letter]")
    submit(page, "button:has-text('Name the delegate')")
    assert "Wanjiku Kamau is on Kenya" in page.content()
    assert "Nominated" in page.content()
    page.click("text=Sign out")

    # The secretariat confirms her, then ticks her present at the meeting.
    _sign_in(page, live_url, "sara@kpplan.example")
    page.goto(f"{live_url}/activities/{activity.id}/participants")
    submit(page, "button:has-text('Confirm Wanjiku Kamau')")
    assert "Wanjiku Kamau: confirmed." in page.content()
    page.click("text=Tick attendance")
    # On a tablet held upright: rows big enough to tap, the save button in reach.
    page.set_viewport_size({"width": 768, "height": 1024})
    row = page.locator("label.attendance-row:has-text('Wanjiku Kamau')")
    assert row.bounding_box()["height"] >= 44
    save = page.locator("button:has-text('Save the attendance')").bounding_box()
    assert save["y"] + save["height"] <= 1024
    row.click()
    assert page.locator("input[name=present]").is_checked()
    submit(page, "button:has-text('Save the attendance')")
    assert "1 present" in page.content()

    page.goto(f"{live_url}/activities/{activity.id}")
    content = page.content()
    assert "(from the attendance list)" in content
    assert "100% (1 of 1)" in content
    assert console_errors == []
    assert _today(app) + timedelta(days=1) == activity.end_date
