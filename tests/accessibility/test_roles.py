"""Each role, signed in with its demo account on the demo, walks the main pages in Chromium:
every page answers without an error and shows what the demo guarantees it (the current
Chair, the upcoming activities, the statistics' JVAP meeting kept apart, a focal point's own
state's follow-ups), and nothing a role may not see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from tests.accessibility.conftest import sign_in
from tests.accessibility.walk import DESKTOP

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Demo:
    """What the demo holds, read from its database."""

    chair: str
    work_plan: str
    training_id: int
    training_title: str
    training_month: str
    upcoming_titles: list[str]


@pytest.fixture(scope="module")
def demo(demo_app) -> Demo:
    from kpplan.chair.models import Chairmanship, WorkPlan
    from kpplan.core import clock
    from kpplan.meetings.demo import TRAINING_TITLE, UPCOMING
    from kpplan.meetings.models import Activity

    db = demo_app.extensions["sqlalchemy"]
    with demo_app.app_context():
        today = clock.today()
        current = db.session.scalars(
            sa.select(Chairmanship).where(
                Chairmanship.start_date <= today, Chairmanship.end_date.is_(None)
            )
        ).one()
        plan = db.session.scalars(
            sa.select(WorkPlan).where(WorkPlan.chairmanship_id == current.id)
        ).one()
        training = db.session.scalars(
            sa.select(Activity).where(Activity.title == TRAINING_TITLE)
        ).one()
        return Demo(
            chair=current.state.name,
            work_plan=plan.title,
            training_id=training.id,
            training_title=training.title,
            training_month=training.start_date.strftime("%Y-%m"),
            upcoming_titles=[u.title for u in UPCOMING],
        )


@pytest.fixture
def tab(a11y_browser) -> Iterator[Page]:
    context = a11y_browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def visit(page: Page, base: str, path: str, status: int = 200) -> str:
    """Open ``path``; assert its status and that the browser reported no error; the page's
    visible text."""
    errors = page.console_errors  # type: ignore[attr-defined]
    errors.clear()
    response = page.goto(f"{base}{path}")
    assert response is not None and response.status == status, (path, response and response.status)
    if status >= 400:  # Chromium reports the refusal itself as an error: only that one
        errors[:] = [e for e in errors if f"status of {status}" not in e]
    assert errors == [], (path, errors)
    return page.locator("main").inner_text()


def walk_common(page: Page, base: str, demo: Demo) -> None:
    """The pages every signed-in role reads, and what the demo guarantees on them."""
    home = visit(page, base, "/")
    assert f"Chair: {demo.chair}" in page.locator(".chair-line").inner_text()
    assert "Welcome," in home

    upcoming = visit(page, base, "/activities/")
    assert sum(title in upcoming for title in demo.upcoming_titles) >= 1

    calendar = visit(page, base, f"/activities/calendar?month={demo.training_month}")
    assert demo.training_title in calendar

    activity = visit(page, base, f"/activities/{demo.training_id}")
    assert demo.training_title in page.locator("h1").inner_text()
    assert "Illustrative" in activity

    recommendations = visit(page, base, "/recommendations/")
    assert "Thematic Meeting on Law Enforcement and Capacity Building" in recommendations
    # The demo's illustrative recommendations (a focal point sees those of their state).
    assert int(re.search(r"(\d+) in all\.", recommendations).group(1)) >= 7

    chairs = visit(page, base, "/chair/")
    assert demo.chair in chairs and "South Sudan" in chairs and "The Netherlands" in chairs

    visit(page, base, "/chair/review")
    assert page.locator("h1").inner_text() == f"Review of the Chairmanship of {demo.chair}"
    assert demo.work_plan in page.locator("main").inner_text()

    statistics = visit(page, base, "/reports/statistics")
    assert "Kept apart, as meetings of another process" in statistics
    assert "JVAP Senior Officials' Meeting" in statistics


ACCOUNTS = {
    "admin": "admin@kpplan.example",
    "secretariat": "secretariat@kpplan.example",
    "chair": "chair@kpplan.example",
    "observer": "observer@kpplan.example",
}


@pytest.mark.parametrize("role", ["admin", "secretariat"])
def test_staff_walk_the_main_pages_and_the_history(tab, demo_url, demo, role):
    from kpplan.seed import DEMO_PASSWORD

    sign_in(tab, demo_url, ACCOUNTS[role], DEMO_PASSWORD)
    walk_common(tab, demo_url, demo)
    follow_ups = visit(tab, demo_url, "/follow-ups/")
    assert "Follow-ups" in tab.locator("h1").inner_text() and follow_ups
    history = visit(tab, demo_url, "/history/")
    assert demo.training_title in history  # the demo's changes are in the history
    visit(tab, demo_url, "/follow-ups/validation")


@pytest.mark.parametrize("role", ["chair", "observer"])
def test_chair_and_observer_read_everything_but_the_history(tab, demo_url, demo, role):
    from kpplan.seed import DEMO_PASSWORD

    sign_in(tab, demo_url, ACCOUNTS[role], DEMO_PASSWORD)
    walk_common(tab, demo_url, demo)
    visit(tab, demo_url, "/follow-ups/")
    assert tab.locator("nav.main-nav >> text=History").count() == 0
    visit(tab, demo_url, "/history/", status=403)


def test_focal_point_walks_the_main_pages_and_sees_their_state_only(tab, demo_url, demo):
    from kpplan.seed import DEMO_PASSWORD

    sign_in(tab, demo_url, "focal.kenya@kpplan.example", DEMO_PASSWORD)
    walk_common(tab, demo_url, demo)
    home = visit(tab, demo_url, "/")
    assert "Kenya's follow-up of recommendations" in home
    follow_ups = visit(tab, demo_url, "/follow-ups/")
    assert tab.locator("h1").inner_text() == "My state's follow-ups: Kenya"
    assert "Update" in follow_ups or "update" in follow_ups
    visit(tab, demo_url, "/history/", status=403)


def test_an_illustrative_focal_point_of_another_state_signs_in(tab, demo_url, demo):
    from kpplan.seed import DEMO_PASSWORD, focal_point_email

    sign_in(tab, demo_url, focal_point_email("Ethiopia"), DEMO_PASSWORD)
    visit(tab, demo_url, "/follow-ups/")
    assert tab.locator("h1").inner_text() == "My state's follow-ups: Ethiopia"
