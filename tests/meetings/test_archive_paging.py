"""The archive paged by key, and the query counts of the archive's later pages and of an
activity page with its "link to" choices, whatever the number of activities."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.querycount import without_form_token

PAGE = 4


@pytest.fixture
def app_config() -> dict:
    return {"PAGE_SIZE": PAGE}


def _ids(html: str) -> list[int]:
    table = html[html.find('<table class="list stack">') :]
    return [int(i) for i in re.findall(r'<td class="card-head"><a href="/activities/(\d+)"', table)]


def _next(html: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_next_walks_the_archive_newest_first_once(client, people, login_as, factory):
    made = [factory.activity(start=date(2024, 1, 1) + timedelta(days=n % 5)) for n in range(11)]
    login_as(people["observer"])
    expected = [a.id for a in sorted(made, key=lambda a: (a.start_date, a.id), reverse=True)]
    seen, url = [], "/activities/archive?year=2024"
    while url:
        html = client.get(url).text
        assert "11 in all" in html
        seen.append(_ids(html))
        url = _next(html)
    assert [i for page in seen for i in page] == expected
    assert [len(page) for page in seen] == [4, 4, 3]
    assert client.get("/activities/archive?cursor=nonsense").status_code == 200


def test_later_pages_and_activity_page_do_not_grow_with_activities(
    client, people, login_as, factory, count_queries
):
    login_as(people["secretariat"])
    anchor = factory.activity(start=date(2025, 6, 1), host="Kenya")

    def counts() -> list[int]:
        second = _next(client.get("/activities/archive").text)
        found = []
        for url in (second, f"/activities/{anchor.id}"):
            # Opened once first: what is kept until a user changes (the steps' possible
            # owners) is then read on neither count.
            client.get(url)
            with count_queries() as counter:
                html = client.get(url).text
            found.append(counter.count)
        assert '<select id="target" name="target"><option value=' in html  # neighbours
        return found

    for n in range(6):
        factory.activity(start=date(2025, 1, 1) + timedelta(days=30 * n), host="Egypt")
    few = counts()
    for n in range(18):
        factory.activity(start=date(2024, 1, 1) + timedelta(days=20 * n), host="Malta")
    assert counts() == few


def test_words_page_is_counted_up_to_a_limit_with_the_same_queries(
    client, people, login_as, factory, count_queries, monkeypatch
):
    """Words in title or theme: the total counted up to ``paging.COUNT_UP_TO`` + 1 only
    ("more than" beyond it), and the page's queries the same for 5 and for 15 matches."""
    from kpplan.core import paging

    monkeypatch.setattr(paging, "COUNT_UP_TO", 8)
    login_as(people["secretariat"])
    client.get("/")  # the header's Chair, kept from the first page on
    target = "/activities/archive?q=protection"

    def visit() -> tuple[str, int, int]:
        with count_queries() as after_change:
            html = client.get(target).text
        with count_queries() as warm:
            assert without_form_token(client.get(target).text) == without_form_token(html)
        return html, after_change.count, warm.count

    for n in range(5):
        factory.activity(title=f"Child protection workshop {n}", host="Kenya", co_hosts=("Italy",))
    factory.activity(title="Return and reintegration")
    html, *few = visit()
    assert "5 in all" in html and len(_ids(html)) == PAGE
    for _ in range(10):
        factory.activity(title="Regional meeting", theme="Protection at sea", host="Egypt")
    html, *many = visit()
    assert "More than 8 found" in html and " in all" not in html
    assert len(_ids(html)) == PAGE and _next(html) is not None
    assert many == few and few[0] <= 7, few


def test_words_page_is_kept_and_shows_a_new_match(client, people, login_as, factory, count_queries):
    factory.activity(title="Child protection workshop", start=date(2025, 3, 1))
    login_as(people["secretariat"])
    target = "/activities/archive?q=protection"
    client.get(target)
    first = client.get(target).text
    with count_queries(keep_pages=True) as again:
        assert client.get(target).text == first
    assert again.count <= 3, again.statements
    newer = factory.activity(title="Protection of smuggled migrants", start=date(2026, 2, 1))
    html = client.get(target).text
    assert _ids(html)[0] == newer.id and "2 in all" in html


def test_link_choices_are_kept_until_an_activity_changes(
    client, people, login_as, factory, count_queries
):
    """The activity page's "link to" choices (hundreds at scale) are written once and kept:
    a second view does not read them again, and a new or edited activity is offered at once."""
    login_as(people["secretariat"])
    anchor = factory.activity(start=date(2025, 6, 1), title="Anchor meeting")
    near = factory.activity(start=date(2025, 7, 8), title="Workshop in Rome")
    page = f"/activities/{anchor.id}"
    assert f'<option value="{near.id}">8 Jul 2025 — Workshop in Rome</option>' in (
        client.get(page).text
    )
    with count_queries() as again:
        client.get(page)
    assert not any("activities.id != " in q for q in again.statements)
    later = factory.activity(start=date(2025, 9, 2), title="Training in Cairo")
    assert f'<option value="{later.id}">2 Sep 2025 — Training in Cairo</option>' in (
        client.get(page).text
    )


def test_words_are_found_whatever_their_case(client, people, login_as, factory):
    """Typed in any case, words find the same activities, by title or theme (on
    PostgreSQL as ILIKE on the columns, on SQLite as LIKE on their lower case)."""
    kept = factory.activity(title="Child PROTECTION workshop", start=date(2025, 3, 1))
    by_theme = factory.activity(title="Regional meeting", theme="Protection at sea")
    factory.activity(title="Return and reintegration")
    login_as(people["secretariat"])
    for typed in ("protection", "Protection", "PROTECTION", "pRoTeCtIoN"):
        html = client.get(f"/activities/archive?q={typed}").text
        assert sorted(_ids(html)) == sorted([kept.id, by_theme.id]) and "2 in all" in html
