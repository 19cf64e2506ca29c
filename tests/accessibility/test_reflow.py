"""Reflow (WCAG 1.4.10): no page scrolls sideways on a phone, as any role.

A wide table may scroll inside its own box (that box is then a region one can reach with the
keyboard); the page itself never does.
"""

from __future__ import annotations

import pytest

from tests.accessibility.conftest import PHONE, ROLE_ACCOUNTS
from tests.accessibility.walk import pages_of

# The elements that stick out of the viewport while their parent does not: the culprits.
FIND_OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const page = document.documentElement.scrollWidth;
  if (page <= width) return null;
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right <= width + 1 || box.width === 0) continue;
    const parent = el.parentElement.getBoundingClientRect();
    if (parent.right > width + 1) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.className && typeof el.className === 'string'
         ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    culprits.push(`${name} (${Math.round(box.width)} px wide, right edge at ${Math.round(box.right)} px)`);
    if (culprits.length === 5) break;
  }
  return {page, width, culprits};
}
"""


def overflowing_pages(context, base_url: str, paths: list[str]) -> tuple[int, list[str]]:
    page = context.new_page()
    seen: set[str] = set()
    found = []
    try:
        for path in paths:
            response = page.goto(base_url + path)
            if response and response.status in (403, 404) and path != "/no-such-page":
                continue
            if page.url in seen:
                continue
            seen.add(page.url)
            overflow = page.evaluate(FIND_OVERFLOW)
            if overflow:
                found.append(
                    f"{path}: {overflow['page']} px wide in {overflow['width']} px; "
                    + "; ".join(overflow["culprits"])
                )
        return len(seen), found
    finally:
        page.close()


@pytest.mark.parametrize("role", list(ROLE_ACCOUNTS))
def test_no_page_scrolls_sideways_at_390_px(role, demo_app, demo_url, role_contexts):
    checked, found = overflowing_pages(role_contexts(role, PHONE), demo_url, pages_of(demo_app))
    assert checked >= 2
    assert not found, f"Pages wider than a {PHONE['width']} px phone, as {role}:\n" + "\n".join(
        found
    )


@pytest.mark.parametrize("role", ["admin", "focal_point"])
def test_no_page_scrolls_sideways_at_320_px(role, demo_app, demo_url, role_contexts):
    """320 CSS px: the width WCAG's reflow criterion names (1280 px at 400 % zoom)."""
    narrow = {"width": 320, "height": 640}
    checked, found = overflowing_pages(role_contexts(role, narrow), demo_url, pages_of(demo_app))
    assert checked >= 2
    assert not found, "Pages wider than 320 px, as {role}:\n".join(found)
