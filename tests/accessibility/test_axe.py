"""WCAG 2.1 A and AA, as axe-core checks them, on every page of the URL map as each role.

One browser, one signed-in context per role, the demo data loaded. A page a role may not see
(403, 404) is skipped for that role; a page reached again through a redirect (everything
leads a signed-out visitor to the sign-in page) is checked once.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.accessibility.walk import DESKTOP, PHONE, ROLE_ACCOUNTS, pages_of, visit_each

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_21_AA},
    "resultTypes": ["violations"],
}

axe = Axe()


def violations_on(page) -> list[str]:
    """One line per element that breaks a rule: rule, impact, element, what is wrong."""
    found = []
    for violation in axe.run(page, options=AXE_OPTIONS).response["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            found.append(f"{violation['id']} ({violation['impact']}) at {target}: {summary[:300]}")
    return found


def walk(context, base_url: str, paths: list[str]) -> tuple[int, dict[str, list[str]]]:
    """Check each page once; return how many were checked and the violations of each."""
    page = context.new_page()
    checked, failures = 0, {}
    try:
        for path in visit_each(page, base_url, paths):
            checked += 1
            found = violations_on(page)
            if found:
                failures[path] = found
        return checked, failures
    finally:
        page.close()


def report(role: str, width: int, failures: dict[str, list[str]]) -> str:
    lines = [f"WCAG 2.1 A/AA violations as {role} at {width} px:"]
    for path, found in failures.items():
        lines.append(f"  {path}")
        lines.extend(f"    - {line}" for line in found)
    return "\n".join(lines)


@pytest.mark.parametrize("role", list(ROLE_ACCOUNTS))
def test_every_page_meets_wcag_21_aa(role, demo_app, demo_url, role_contexts):
    checked, failures = walk(role_contexts(role, DESKTOP), demo_url, pages_of(demo_app))
    print(f"{role} at {DESKTOP['width']} px: {checked} pages checked")
    assert checked >= (2 if role == "signed_out" else 30), f"only {checked} pages checked"
    assert not failures, report(role, DESKTOP["width"], failures)


@pytest.mark.parametrize("role", ["focal_point", "signed_out"])
def test_pages_meet_wcag_21_aa_on_a_phone(role, demo_app, demo_url, role_contexts):
    """On a phone the menu folds and tables turn into cards: check that state too."""
    checked, failures = walk(role_contexts(role, PHONE), demo_url, pages_of(demo_app))
    print(f"{role} at {PHONE['width']} px: {checked} pages checked")
    assert checked >= 2, f"only {checked} pages checked"
    assert not failures, report(role, PHONE["width"], failures)


# Empty every field of the page's main form and send it, past the browser's own checks, so
# that the server sends it back with its messages.
SEND_EMPTY = """form => {
  form.noValidate = true;
  for (const el of form.elements) {
    if (['hidden', 'submit', 'button', 'file'].includes(el.type)) continue;
    if (el.tagName === 'SELECT') {
      if (el.multiple) { for (const o of el.options) o.selected = false; }
      else { el.selectedIndex = 0; }
    } else if (el.type === 'checkbox' || el.type === 'radio') { el.checked = false; }
    else { el.value = ''; }
  }
  form.requestSubmit();
}"""

IS_FORM_PAGE = re.compile(r"/(new|edit|import)$|^/users/\d+$|^/follow-ups/\d+$|^/account$")


def test_forms_sent_back_with_mistakes_meet_wcag_21_aa(demo_app, demo_url, role_contexts):
    """Each form of the app, sent empty: "Error:" in the title, the summary (or the message)
    focused, and no violation in that state either."""
    page = role_contexts("admin", DESKTOP).new_page()
    failures: dict[str, list[str]] = {}
    sent = 0
    try:
        for path in pages_of(demo_app):
            if not IS_FORM_PAGE.search(path.split("?")[0]):
                continue
            page.goto(demo_url + path)
            # A page's form with a required field first (on My account, the password rather
            # than the calendar link, whose one choice is never empty), else its first form.
            form = page.locator("main form[method=post]:has(.field [required])").first
            if not form.count():
                form = page.locator("main form[method=post]:has(.field)").first
            if not form.count():
                continue
            with page.expect_navigation():
                form.evaluate(SEND_EMPTY)
            sent += 1
            found = violations_on(page)
            if not page.title().startswith("Error: "):
                found.append(f"the title does not say Error: {page.title()!r}")
            try:  # kpplan.js gives the focus once the page has loaded
                page.wait_for_function(
                    "() => document.activeElement.matches('[data-error-summary], .flash-error')",
                    timeout=5_000,
                )
            except PlaywrightTimeoutError:
                found.append("neither the error summary nor the error message has the focus")
            if found:
                failures[path] = found
    finally:
        page.close()
    print(f"{sent} forms sent back with mistakes and checked")
    assert sent >= 15, f"only {sent} forms sent"
    assert not failures, report("admin, forms sent empty,", DESKTOP["width"], failures)
