"""A laptop's 1366-pixel screen (issue 12): no page of the lists and the Chair's handover
scrolls sideways, the handover table shows every column in its box, and the wording of a
recommendation gets the room of the row."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accessibility.walk import sample_ids

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}

MEASURE = """(selector) => {
  const box = document.querySelector(selector);
  return {
    page: document.documentElement.scrollWidth,
    box: box ? {scroll: box.scrollWidth, client: box.clientWidth} : null,
  };
}"""

WORDING_SHARE = """() => {
  const rows = [...document.querySelectorAll('main table.list tbody tr')];
  const row = rows.find(r => r.querySelector('.wording'));
  if (!row) return null;
  return row.querySelector('.wording').closest('td').getBoundingClientRect().width
    / row.getBoundingClientRect().width;
}"""


@pytest.fixture(scope="module")
def ids(demo_app) -> dict:
    return sample_ids(demo_app)


@pytest.mark.parametrize("role", ["admin", "chair", "observer", "focal_point"])
def test_the_handover_table_shows_every_column_at_1366_pixels(role, ids, demo_url, role_contexts):
    page = role_contexts(role, LAPTOP).new_page()
    try:
        page.goto(f"{demo_url}/chair/{ids['chairmanship_id']}/handover")
        assert page.locator("#open table tbody tr").count() >= 1, "no open recommendation shown"
        measured = page.evaluate(MEASURE, "#open .table-scroll")
        assert measured["page"] <= LAPTOP["width"]
        assert measured["box"]["scroll"] <= measured["box"]["client"], measured
    finally:
        page.close()


@pytest.mark.parametrize(
    "path",
    [
        "/recommendations/",
        "/recommendations/?show=all&overdue=1",
        "/follow-ups/",
        "review",
        "/activities/hosting",
    ],
)
def test_lists_fit_a_1366_pixel_screen(path, ids, demo_url, role_contexts):
    if path == "review":
        path = f"/chair/{ids['chairmanship_id']}/review"
    page = role_contexts("admin", LAPTOP).new_page()
    try:
        page.goto(demo_url + path)
        assert page.evaluate(MEASURE, "main")["page"] <= LAPTOP["width"]
    finally:
        page.close()


def test_the_wording_of_a_recommendation_gets_the_room_of_the_row(demo_url, role_contexts):
    page = role_contexts("observer", LAPTOP).new_page()
    try:
        page.goto(f"{demo_url}/recommendations/")
        # The activity sits under the wording, in the same cell, not in a column of its own.
        assert page.locator("main table.list thead th", has_text="Activity").count() == 0
        assert page.locator("main table.list tbody .wording + .under").count() >= 1
        assert page.evaluate(WORDING_SHARE) >= 0.4
    finally:
        page.close()


def test_the_withdraw_form_opens_from_its_button_by_keyboard(ids, demo_url, role_contexts):
    page = role_contexts("admin", LAPTOP).new_page()
    try:
        page.goto(f"{demo_url}/recommendations/{ids['recommendation_id']}")
        reason = page.locator("#withdraw textarea, #withdraw input[name=reason]")
        danger = page.locator("#withdraw .button-danger")
        assert not reason.is_visible() and not danger.is_visible()
        page.locator("#withdraw summary", has_text="Withdraw…").focus()
        page.keyboard.press("Enter")
        assert reason.is_visible() and danger.is_visible()
    finally:
        page.close()


def test_co_hosts_are_found_by_typing_and_picked_by_keyboard(demo_url, role_contexts):
    page = role_contexts("admin", LAPTOP).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{demo_url}/activities/new")
        # The label still names the control, and typing narrows the forty states.
        page.get_by_role("combobox", name="Co-hosts").focus()
        page.keyboard.type("ken")
        expect(page.locator(".ts-dropdown .option:visible")).to_have_text(["Kenya"])
        page.keyboard.press("Enter")
        page.get_by_role("combobox", name="Co-hosts").focus()
        page.keyboard.type("germ")
        expect(page.locator(".ts-dropdown .option:visible")).to_have_text(["Germany"])
        page.keyboard.press("Enter")
        chosen = page.evaluate(
            "() => [...document.querySelector('select#co_hosts').selectedOptions]"
            ".map(o => o.textContent)"
        )
        assert chosen == ["Kenya", "Germany"]
        assert errors == []
    finally:
        page.close()
