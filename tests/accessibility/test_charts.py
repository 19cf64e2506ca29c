"""The charts of the Chair's review and the timeline: figures that hold no link (their tables
hold them), each with a table of its data, marks outlined at 3:1 or more against white and
the Chairs' bands, and, on a phone, the table instead of the chart."""

from __future__ import annotations

import pytest

from tests.accessibility.colours import contrast
from tests.accessibility.walk import DESKTOP, PHONE

pytestmark = pytest.mark.browser

CHARTS = """() => [...document.querySelectorAll('main svg[role=img]')].map(svg => ({
  label: svg.getAttribute('aria-labelledby'),
  links: svg.querySelectorAll('a').length,
  visible: svg.getBoundingClientRect().width > 0,
  marks: [...svg.querySelectorAll('rect.chart-segment, .tl-marks rect')].map(r => ({
    stroke: getComputedStyle(r).stroke, width: parseFloat(getComputedStyle(r).strokeWidth),
  })),
  backgrounds: [...svg.querySelectorAll('rect.tl-band')].map(r => getComputedStyle(r).fill),
}))"""


@pytest.fixture(scope="module")
def review_path(demo_app) -> str:
    from tests.accessibility.walk import sample_ids

    return f"/chair/{sample_ids(demo_app)['chairmanship_id']}/review"


def _charts(context, url: str) -> tuple[list[dict], object]:
    page = context.new_page()
    page.goto(url)
    return page.evaluate(CHARTS), page


@pytest.mark.parametrize("path", ["review", "/reports/timeline"])
def test_charts_hold_no_link_and_their_marks_stand_out(path, review_path, demo_url, role_contexts):
    url = demo_url + (review_path if path == "review" else path)
    charts, page = _charts(role_contexts("admin", DESKTOP), url)
    try:
        assert charts, "no chart drawn"
        for chart in charts:
            assert chart["visible"] and chart["links"] == 0, chart["label"]
            for mark in chart["marks"]:
                assert mark["width"] >= 1
                for background in ["rgb(255, 255, 255)", *chart["backgrounds"]]:
                    assert contrast(mark["stroke"], background) >= 3, (chart["label"], mark)
        # The table of each chart's data links what the chart no longer does.
        if path == "review":
            for section in ("#work-plan", "#by-state", "#by-theme"):
                assert page.locator(f"{section} table a").count() >= 1, section
        else:
            marks = page.locator(".tl-marks rect").count()
            assert page.locator("main table a[href^='/activities/']").count() == marks
    finally:
        page.close()


@pytest.mark.parametrize("path", ["review", "/reports/timeline"])
def test_a_phone_shows_the_table_instead_of_the_chart(path, review_path, demo_url, role_contexts):
    url = demo_url + (review_path if path == "review" else path)
    charts, page = _charts(role_contexts("focal_point", PHONE), url)
    try:
        assert charts and not any(chart["visible"] for chart in charts)
        tables = page.locator("main table")
        assert tables.count() >= 1
        assert all(tables.nth(i).is_visible() for i in range(tables.count()))
    finally:
        page.close()
