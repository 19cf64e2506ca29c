"""Reflow (WCAG 1.4.10): no page scrolls sideways on a phone or a tablet, as any role; and
every control is at least 24 px high and wide, a target a finger can hit.

A wide table may scroll inside its own box (that box is then a region one can reach with the
keyboard); the page itself never does.
"""

from __future__ import annotations

import pytest

from tests.accessibility.walk import PHONE, ROLE_ACCOUNTS, pages_of, visit_each

pytestmark = pytest.mark.browser

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
    const size = `${Math.round(box.width)} px wide, right edge at ${Math.round(box.right)} px`;
    culprits.push(`${name} (${size})`);
    if (culprits.length === 5) break;
  }
  return {page, width, culprits};
}
"""


# Buttons, fields and links styled as buttons smaller than 24 by 24 px (links within text
# are exempt, as WCAG 2.2's target-size criterion has it).
FIND_SMALL_CONTROLS = """
() => {
  const small = [];
  const controls = 'button, select, textarea, input:not([type=hidden]), a.button, summary';
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || el.closest('.visually-hidden')) continue;
    if (box.width < 24 || box.height < 24) {
      const name = el.tagName.toLowerCase() + (el.name ? `[name=${el.name}]` : '')
        + ' "' + (el.textContent || el.value || '').trim().slice(0, 30) + '"';
      small.push(`${name} ${Math.round(box.width)}x${Math.round(box.height)} px`);
    }
  }
  return small.slice(0, 5);
}
"""


def overflowing_pages(context, base_url: str, paths: list[str]) -> tuple[int, list[str]]:
    """Walk the pages; return how many were checked and what is wrong on each."""
    page = context.new_page()
    checked, found = 0, []
    try:
        for path in visit_each(page, base_url, paths):
            checked += 1
            overflow = page.evaluate(FIND_OVERFLOW)
            if overflow:
                found.append(
                    f"{path}: {overflow['page']} px wide in {overflow['width']} px; "
                    + "; ".join(overflow["culprits"])
                )
            small = page.evaluate(FIND_SMALL_CONTROLS)
            if small:
                found.append(f"{path}: controls under 24 px: " + "; ".join(small))
        return checked, found
    finally:
        page.close()


# Every role on a phone; the widest pages (the staff's) down to 320 px, the width WCAG's
# reflow criterion names (1280 px at 400 % zoom); tablets upright (820) and sideways (1024),
# where lists are cards or tables and must fit either way.
WALKS = [(role, 390) for role in ROLE_ACCOUNTS] + [
    ("admin", 320),
    ("focal_point", 320),
    ("admin", 820),
    ("focal_point", 820),
    ("admin", 1024),
]


@pytest.mark.parametrize("role,width", WALKS, ids=[f"{r}-{w}px" for r, w in WALKS])
def test_no_page_scrolls_sideways_and_controls_are_big_enough(
    role, width, demo_app, demo_url, role_contexts
):
    viewport = {"width": width, "height": PHONE["height"]}
    checked, found = overflowing_pages(role_contexts(role, viewport), demo_url, pages_of(demo_app))
    print(f"{role} at {width} px: {checked} pages checked")
    assert checked >= 2
    assert not found, f"As {role} at {width} px:\n" + "\n".join(found)
