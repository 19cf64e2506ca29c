"""By keyboard alone, in a real browser: signing in, and a focal point updating a follow-up
on a phone (menu button, list, update form, its error summary), with a focus ring that
stands out wherever it lands.

No click anywhere: only Tab, Shift+Tab, Enter, Escape and typing.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from kpplan.directory.models import Role
from tests.accessibility.colours import contrast
from tests.accessibility.walk import PHONE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

IS_FOCUSED = "el => el === document.activeElement"


def submit(page: Page, key: str = "Enter") -> None:
    """Press ``key`` on what has the focus and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def tab_to(page: Page, target: Locator, limit: int = 60) -> int:
    """Press Tab until ``target`` has the focus; return how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate(IS_FOCUSED):
            return presses
    raise AssertionError(f"{target} not reached in {limit} presses of Tab")


def focused(page: Page) -> str:
    """The focused element, as a short description for assertions."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + (typeof el.className === 'string' && el.className
               ? '.' + el.className.split(' ')[0] : '');
        }"""
    )


def in_viewport(locator: Locator, page: Page) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and 0 <= box["y"] < height and box["y"] + min(box["height"], 40) > 0


# The focus ring, against whatever lies behind the focused element: the outer ring (outline)
# and the inner one (box-shadow) must not both blend in.
RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let node = el.parentElement, background = 'rgb(255, 255, 255)';
  while (node) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour && colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') {
      background = colour; break;
    }
    node = node.parentElement;
  }
  const shadow = (style.boxShadow.match(/rgba?\\([^)]*\\)/) || [null])[0];
  return {outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
            ? style.outlineColor : null,
          shadow, background, name: el.tagName + ' ' + (el.textContent || '').trim().slice(0, 30)};
}"""


def check_focus_rings(page: Page, presses: int = 40) -> list[str]:
    """Tab through the page; name every focused element whose ring does not reach 3:1."""
    weak = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break  # past the last element
        ring = page.evaluate(RING)
        best = max(
            (contrast(c, ring["background"]) for c in (ring["outline"], ring["shadow"]) if c),
            default=0,
        )
        if best < 3:
            weak.append(f"{ring['name']}: {best:.2f}:1 on {ring['background']}")
    return weak


def test_signing_in_by_keyboard_alone(page, live_url, factory, console_errors):
    factory.user(Role.OBSERVER, email="olu@kpplan.example", name="Olu")
    factory.chairmanship("South Sudan")  # the Chair's line in the header: one more background
    page.goto(f"{live_url}/")
    assert page.url.startswith(f"{live_url}/login")
    # The e-mail field has the focus; sent empty, the form comes back with a summary.
    assert focused(page) == "input#email"
    submit(page)
    assert page.title() == "Error: Sign in · kpplan"
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()  # by kpplan.js, once the page has loaded
    assert summary.get_attribute("role") == "alert"
    links = summary.locator("a")
    assert links.count() == 2 and links.nth(0).get_attribute("href") == "#email"

    # From the summary, straight to the field.
    page.keyboard.press("Tab")
    assert links.nth(0).evaluate(IS_FOCUSED)
    page.keyboard.press("Enter")
    assert focused(page) == "input#email"
    page.keyboard.type("olu@kpplan.example")
    page.keyboard.press("Tab")
    assert focused(page) == "input#password"
    page.keyboard.type("not the password")
    submit(page)
    # A wrong password: the message is an alert, and it has the focus.
    error = page.locator(".flash-error")
    assert error.inner_text() == "That e-mail address and password do not match an active account."
    expect(error).to_be_focused()
    assert page.title().startswith("Error: ")

    tab_to(page, page.locator("input#password"))
    page.keyboard.type(PASSWORD)
    submit(page)
    page.wait_for_url(f"{live_url}/")
    assert page.title() == "Home · kpplan"

    # The first Tab reaches the skip link, which leads past the header into the content.
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate(IS_FOCUSED) and skip.is_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")

    # Everywhere the focus lands, its ring stands out at 3:1 at least.
    page.goto(f"{live_url}/")
    assert check_focus_rings(page) == []
    assert console_errors == []


def test_a_focal_point_updates_a_follow_up_on_a_phone_by_keyboard_alone(
    page, live_url, factory, console_errors
):
    factory.user(Role.FOCAL_POINT, state="Kenya", email="kamau@kpplan.example", name="Kamau")
    activity = factory.activity(title="Thematic Meeting on Law Enforcement")
    recommendation = factory.recommendation(activity.id, text="Name a national contact point.")
    follow_up = factory.follow_up_of(recommendation, "Kenya")
    page.set_viewport_size(PHONE)

    page.goto(f"{live_url}/login")
    page.keyboard.type("kamau@kpplan.example")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    submit(page)
    page.wait_for_url(f"{live_url}/")

    # On a phone the header is a line: the brand and the menu button.
    header = page.locator(".site-header")
    assert header.bounding_box()["height"] <= 80
    menu = page.locator(".menu-button")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not page.locator("nav.main-nav").is_visible()
    tab_to(page, menu)
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert page.locator("nav.main-nav").is_visible()
    page.keyboard.press("Escape")  # closes the menu and gives the focus back to its button
    assert menu.get_attribute("aria-expanded") == "false" and menu.evaluate(IS_FOCUSED)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="My state's follow-ups"))
    submit(page)
    page.wait_for_url(f"{live_url}/follow-ups/")

    # Each follow-up is a card whose Update button is on the screen, and named for its code.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    update = page.get_by_role("link", name=f"Update {recommendation.code}")
    tab_to(page, update)
    box = update.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 24
    submit(page)
    page.wait_for_url(f"{live_url}/follow-ups/{follow_up.id}#update")

    status = page.locator("select[name=status]")
    tab_to(page, status, limit=5)  # the page opened at its form
    page.keyboard.type("In p")
    assert status.input_value() == "in_progress"
    tab_to(page, page.locator("textarea[name=narrative]"))
    page.keyboard.type("The draft decree is with the cabinet.")
    tab_to(page, page.locator("textarea[name=links]"))
    page.keyboard.type("Cabinet agenda | cabinet.example.org")  # no https://: only the server says
    tab_to(page, page.get_by_role("button", name="Post the update"))
    submit(page)

    # Back at the form, the summary has the focus and is on the screen; "Error:" in the title.
    assert page.url.endswith("#update")
    assert page.title().startswith("Error: ")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    assert in_viewport(summary, page)
    assert "is not a web address starting with https://" in summary.inner_text()
    assert page.locator("textarea[name=narrative]").input_value().startswith("The draft decree")

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused(page) == "textarea#links"
    page.keyboard.press("Control+A")
    page.keyboard.type("Cabinet agenda | https://cabinet.example.org/agenda")
    tab_to(page, page.get_by_role("button", name="Post the update"))
    submit(page)

    # Posted: the message is focused at the top; the timeline holds the update.
    message = page.locator(".flash-success")
    assert message.inner_text() == "Your update has been posted."
    expect(message).to_be_focused()
    assert in_viewport(message, page)
    timeline = page.locator("#timeline").inner_text()
    assert "The draft decree is with the cabinet." in timeline and "Cabinet agenda" in timeline
    assert not page.title().startswith("Error")

    # The rings of the follow-up list, cards on a warning background included.
    page.goto(f"{live_url}/follow-ups/")
    assert check_focus_rings(page, presses=20) == []
    assert console_errors == []
