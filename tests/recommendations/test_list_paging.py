"""The list of recommendations at scale: the meeting date kept on each recommendation,
pages read by key (Next/Previous), tampered cursors, the words search, the totals and
the filter choices kept until the data changes, and its query count."""

from __future__ import annotations

import base64
import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.models import Activity, Status
from kpplan.recommendations import lists
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import FollowUpStatus
from tests.conftest import STATE_A

PAGE = 3


@pytest.fixture
def app_config() -> dict:
    return {"PAGE_SIZE": PAGE}


def _codes(html: str) -> list[str]:
    """The codes of the list's rows, in the order shown."""
    return re.findall(r'<td class="card-head"><a class="nowrap" href="[^"]+">([^<]+)</a>', html)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _cursor(payload: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.fixture
def recorded(factory) -> list[Recommendation]:
    """Eight recommendations of four activities (two on the same day), newest first in
    the order the list shows them."""
    older = factory.activity(start=date(2019, 5, 1))
    same_day_a = factory.activity(start=date(2023, 2, 7))
    same_day_b = factory.activity(start=date(2023, 2, 7))
    newest = factory.activity(start=date(2025, 11, 3))
    made = [factory.recommendation(a.id) for a in (older, newest, same_day_b, same_day_a)]
    made += [factory.recommendation(a.id) for a in (newest, older, same_day_a, newest)]
    return sorted(made, key=lambda r: (-r.meeting_date.toordinal(), r.activity_id, r.number))


class TestMeetingDate:
    def test_set_when_recorded_and_moved_with_the_activity(
        self, app, client, people, login_as, factory
    ):
        activity = factory.activity(start=date(2026, 5, 10))
        recommendation = factory.recommendation(activity.id)
        assert recommendation.meeting_date == date(2026, 5, 10)
        login_as(people["secretariat"])
        response = client.post(
            f"/activities/{activity.id}/status",
            data={
                "to": "postponed",
                "new_start": "2026-09-01",
                "new_end": "2026-09-02",
                "reason": "Elections",
            },
        )
        assert response.status_code == 302
        with app.app_context():
            kept = db.session.get(Recommendation, recommendation.id)
            assert kept.meeting_date == date(2026, 9, 1)
            # By any door: a change of the activity's start moves its recommendations.
            db.session.get(Activity, activity.id).start_date = date(2027, 1, 15)
            db.session.commit()
            assert db.session.scalar(
                select(Recommendation.meeting_date).where(Recommendation.id == recommendation.id)
            ) == date(2027, 1, 15)


class TestPaging:
    @pytest.mark.parametrize(
        "first",
        [
            "/recommendations/?show=all",
            # Words: the matches most recently recorded first, in the index's order (each
            # page read up to its cursor, not every match first).
            "/recommendations/?show=all&q=cooperation",
        ],
    )
    def test_next_and_previous_walk_every_recommendation_once(
        self, client, people, login_as, recorded, first
    ):
        login_as(people["observer"])
        if "q=" in first:
            expected = [r.code for r in sorted(recorded, key=lambda r: -r.id)]
        else:
            expected = [r.code for r in recorded]
        pages, url = [], first
        while url:
            html = client.get(url).text
            pages.append((url, _codes(html)))
            assert f"{len(expected)} in all" in html
            url = _link(html, "next")
            assert url is None or first.split("?")[1] in url
        assert [code for _, codes in pages for code in codes] == expected
        assert [len(codes) for _, codes in pages] == [3, 3, 2]
        assert _link(client.get(pages[0][0]).text, "prev") is None

        # Back from the last page: the same pages, the first one without a cursor.
        html = client.get(pages[-1][0]).text
        back = []
        while (url := _link(html, "prev")) is not None:
            html = client.get(url).text
            back.append(_codes(html))
        assert back == [codes for _, codes in reversed(pages[:-1])]
        assert "show=all" in _link(html, "next")

    def test_filters_travel_with_the_cursor(self, client, people, login_as, recorded):
        login_as(people["observer"])
        html = client.get("/recommendations/?theme=RD3&state=").text
        codes = [r.code for r in recorded]
        assert _codes(html) == codes[:PAGE]
        second = _link(html, "next")
        assert "theme=RD3" in second and "state=" in second
        assert _codes(client.get(second).text) == codes[PAGE : 2 * PAGE]

    def test_a_row_added_meanwhile_neither_repeats_nor_skips_one(
        self, client, people, login_as, factory, recorded
    ):
        login_as(people["observer"])
        first = client.get("/recommendations/").text
        newer = factory.activity(start=date(2026, 1, 1))
        factory.recommendation(newer.id)
        following = _codes(client.get(_link(first, "next")).text)
        assert following == [r.code for r in recorded][PAGE : 2 * PAGE]

    @pytest.mark.parametrize(
        "cursor",
        [
            "x",
            "!!!!",
            "e30",  # {}
            _cursor([]),
            _cursor(["a"]),
            _cursor(["z", "2020-01-01", 1, 1]),
            _cursor(["a", "2020-13-45", 1, 1]),
            _cursor(["a", "2020-01-01", 10**30, 1]),
            _cursor(["a", "2020-01-01", "1", 1]),
            _cursor(["a", "2020-01-01", True, 1]),
            _cursor(["a", None, 1, 1]),
            _cursor(["a", "2020-01-01", 1, 1, 1]),
            _cursor(["b", "2999-01-01", 1, 1]),  # before the first row: nothing before
            base64.urlsafe_b64encode(b"[" * 5000).decode(),
            "A" * 3000,
        ],
    )
    def test_a_tampered_cursor_is_the_first_page(self, client, people, login_as, recorded, cursor):
        login_as(people["observer"])
        response = client.get(f"/recommendations/?cursor={cursor}")
        assert response.status_code == 200
        assert _codes(response.text) == [r.code for r in recorded][:PAGE]

    def test_a_cursor_from_another_list_still_pages_by_its_key(
        self, client, people, login_as, recorded
    ):
        """A well-formed cursor is only a key: any key gives the rows after it."""
        login_as(people["observer"])
        after_2023 = _cursor(["a", "2023-02-07", 10**9, 1])
        codes = _codes(client.get(f"/recommendations/?cursor={after_2023}").text)
        assert codes == [r.code for r in recorded if r.meeting_date.year < 2023]


class TestWords:
    def test_words_are_found_in_text_and_code(self, client, people, login_as, factory):
        activity = factory.activity(start=date(2024, 4, 4))
        hotline = factory.recommendation(activity.id, text="Set up a national hotline.")
        courts = factory.recommendation(activity.id, text="Train judges in trafficking cases.")
        login_as(people["observer"])

        def found(words: str) -> set[str]:
            response = client.get("/recommendations/", query_string={"q": words})
            assert response.status_code == 200
            return {c for c in (hotline.code, courts.code) if c in response.text}

        assert found("hotline") == {hotline.code}
        assert found("TRAFFICK") == {courts.code}  # the start of a word, any case
        assert found("judges trafficking") == {courts.code}
        assert found("judges hotline") == set()
        assert found(courts.code.rsplit("/", 1)[1]) == {courts.code}

    @pytest.mark.parametrize(
        "words",
        [
            '"',
            "'",
            "*",
            "a*b",
            "NEAR(a b)",
            "AND OR NOT",
            "(",
            ")",
            "^x",
            "col:x",
            "-x",
            "%_",
            "\\",
        ],
    )
    def test_search_syntax_is_read_as_text(self, client, people, login_as, factory, words):
        activity = factory.activity()
        factory.recommendation(activity.id, text="Cooperation AND coordination (near borders).")
        login_as(people["observer"])
        response = client.get("/recommendations/", query_string={"q": words})
        assert response.status_code == 200

    def test_the_search_page_is_kept_and_shows_a_new_or_edited_match(
        self, app, client, people, login_as, factory, count_queries
    ):
        """The words are read from the FTS5 table (PostgreSQL: the GIN index), which the
        database changes with the recommendations: the page is kept while they do not
        change, and rendered again with the new match when they do."""
        activity = factory.activity(start=date(2024, 4, 4))
        hotline = factory.recommendation(activity.id, text="Set up a national hotline.")
        login_as(people["secretariat"])
        target = "/recommendations/?q=smuggling"
        assert "No recommendation matches" in client.get(target).text
        client.get(target)
        with count_queries(keep_pages=True) as again:
            assert "No recommendation matches" in client.get(target).text
        # Signing the reader in and the change counters: the page itself is kept.
        assert again.count <= 3, again.statements

        # A new recommendation with the word.
        made = factory.recommendation(activity.id, text="Dismantle smuggling networks.")
        assert _codes(client.get(target).text) == [made.code]

        # An edit that gives another recommendation the word, through the edit form.
        form = {
            "version": 1,
            "fields-text": "Set up a national hotline against smuggling.",
            "fields-priority": "medium",
            "fields-themes": ["RD3"],
            "fields-states": [f.state_id for f in hotline.follow_ups],
            "fields-lineage": "",
        }
        edited = client.post(f"/recommendations/{hotline.id}/edit", data=form)
        assert edited.status_code == 302
        client.get(f"/recommendations/{hotline.id}")  # the flashed confirmation, shown once
        # Most recently recorded first: the new one, then the edited one; the page says so.
        found = client.get(target).text
        assert _codes(found) == [made.code, hotline.code]
        assert "Recommendations with these words, the most recently recorded first." in found
        assert "most recently recorded first" not in client.get("/recommendations/").text

        # And an edit that takes it away again.
        form.update({"version": 2, "fields-text": "Set up a national hotline."})
        assert client.post(f"/recommendations/{hotline.id}/edit", data=form).status_code == 302
        client.get(f"/recommendations/{hotline.id}")
        assert _codes(client.get(target).text) == [made.code]


class TestTotalsAndChoices:
    @pytest.mark.parametrize("narrowed", ["status=not_started", "q=cooperation"])
    def test_narrowed_totals_are_counted_up_to_a_limit(
        self, client, people, login_as, recorded, monkeypatch, narrowed
    ):
        monkeypatch.setattr(lists, "COUNT_UP_TO", 4)
        login_as(people["observer"])
        html = client.get(f"/recommendations/?{narrowed}").text
        assert "More than 4 found" in html and " in all" not in html
        assert len(_codes(html)) == PAGE and _link(html, "next") is not None
        assert f"{len(recorded)} in all" in client.get("/recommendations/").text

    def test_kept_until_the_data_changes(
        self, client, people, login_as, factory, recorded, count_queries
    ):
        login_as(people["observer"])
        with count_queries() as first:
            client.get("/recommendations/")
        with count_queries() as again:
            html = client.get("/recommendations/")
        assert again.count < first.count
        assert '<option value="2031"' not in html.text
        later = factory.activity(start=date(2031, 6, 1), title="Roundtable in Dakar")
        factory.recommendation(later.id)
        html = client.get("/recommendations/").text
        assert '<option value="2031"' in html and "Roundtable in Dakar" in html
        assert f"{len(recorded) + 1} in all" in html

    def test_the_states_to_filter_by_are_kept_until_a_state_changes(
        self, app, client, people, login_as, recorded, count_queries
    ):
        login_as(people["observer"])
        client.get("/recommendations/")
        with count_queries() as again:
            client.get("/recommendations/")
        assert not any("FROM states" in q for q in again.statements)
        with app.app_context():
            kenya = db.session.scalar(select(State).where(State.name == STATE_A))
            kenya.name = "Republic of Kenya"
            db.session.commit()
            kenya_id = kenya.id
        html = client.get("/recommendations/").text
        assert f'<option value="{kenya_id}" >Republic of Kenya</option>' in html

    @pytest.mark.parametrize(
        "url",
        [
            "/recommendations/",
            "/recommendations/?theme=RD3&year=2023",
            "/recommendations/?q=cooperation",
            "/recommendations/?show=all&activity={activity}",
        ],
    )
    def test_a_status_update_leaves_what_it_does_not_change(
        self, app, client, people, login_as, factory, recorded, count_queries, url
    ):
        """A focal point's status update changes a follow-up, not the recommendations:
        the years, the activities and a total not narrowed by follow-ups stay kept (the
        page asks no more than when warm), and are still right."""
        target = url.format(activity=recorded[0].activity_id)
        login_as(people["observer"])
        client.get(target)
        with count_queries() as warm:
            before = client.get(target).text
        login_as(people["fp_a"])
        follow_up = factory.follow_up_of(recorded[0], STATE_A)
        posted = client.post(
            f"/follow-ups/{follow_up.id}",
            data={
                "version": follow_up.version,
                "status": "in_progress",
                "narrative": "The working group met again.",
            },
        )
        assert posted.status_code == 302
        login_as(people["observer"])
        with count_queries() as after_write:
            after = client.get(target).text
        # The same few queries as warm: the change counters in one, no total nor choice.
        assert after_write.count == warm.count <= 7, [q[:60] for q in after_write.statements]
        for choices in ('<select name="year"', '<select name="activity"'):
            assert (
                after.split(choices)[1].split("</select>")[0]
                == (before.split(choices)[1].split("</select>")[0])
            )
        assert re.findall(r"\d+ in all|No recommendation matches", after) == re.findall(
            r"\d+ in all|No recommendation matches", before
        )

    def test_one_states_totals_leave_out_what_the_rows_leave_out(
        self, client, people, login_as, factory
    ):
        """A total narrowed to one state (its filter, a focal point's own list) is counted
        from that state's follow-ups: it leaves out what the rows leave out (withdrawn
        recommendations, other states', other themes, years, activities, not overdue)."""
        early = factory.activity(start=date(2023, 2, 7), status=Status.HELD)
        late = factory.activity(start=date(2025, 11, 3), status=Status.HELD)
        for _ in range(2):
            factory.recommendation(early.id, states=(STATE_A,))
        kenya = factory.follow_up_of(
            factory.recommendation(late.id, themes=("RD5",)), STATE_A
        ).state_id
        factory.recommendation(late.id, states=("Italy",))
        factory.recommendation(late.id, target=date(2020, 1, 1))
        withdrawn = factory.recommendation(late.id, states=(STATE_A,))
        login_as(people["secretariat"])
        client.post(
            f"/recommendations/{withdrawn.id}/withdraw",
            data={"version": 1, "reason": "Overtaken by the 2025 work plan."},
        )

        def total(who: str, query: str) -> str:
            login_as(people[who])
            html = client.get(f"/recommendations/?{query}").text
            found = re.findall(r"(\d+) in all|(No recommendation matches)", html)
            return found[0][0] or found[0][1]

        expected = {
            "": "4",
            "show=withdrawn": "1",
            "show=all": "5",
            "theme=RD5": "1",
            "year=2023": "2",
            f"activity={late.id}": "2",
            f"activity={late.id}&show=all": "3",
            "overdue=1": "1",
            "status=not_started&year=2025": "2",
        }
        for query, count in expected.items():
            assert total("observer", f"state={kenya}&{query}") == count, query
            assert total("fp_a", query) == count, query
        assert total("fp_b", "") == "3"  # Italy: three of the late meeting's
        assert total("fp_a", "state=999999") == "No recommendation matches"

    def test_a_status_update_counts_a_total_narrowed_by_follow_ups_again(
        self, client, people, login_as, factory, recorded, count_queries
    ):
        login_as(people["observer"])
        target = "/recommendations/?status=in_progress"
        client.get(target)
        login_as(people["fp_a"])
        follow_up = factory.follow_up_of(recorded[0], STATE_A)
        data = {"version": follow_up.version, "status": "in_progress", "narrative": "Met."}
        assert client.post(f"/follow-ups/{follow_up.id}", data=data).status_code == 302
        login_as(people["observer"])
        with count_queries() as after_write:
            html = client.get(target).text
        # The total is counted again (a row now shows); the years and the activities are not.
        said = after_write.statements
        assert sum("SELECT count(*)" in q for q in said) == 1
        assert not any("min(recommendations.meeting_date)" in q for q in said)
        assert not any("FROM activities JOIN" in q for q in said)
        assert "1 in all" in html


@pytest.mark.parametrize(
    "role,url",
    [
        ("observer", "/recommendations/"),
        ("observer", "/recommendations/?show=all&cursor={cursor}"),
        ("observer", "/recommendations/?state={kenya}&overdue=1"),
        ("observer", "/recommendations/?status=in_progress&theme=RD3&year=2026"),
        ("observer", "/recommendations/?q=cooperation"),
        ("fp_a", "/recommendations/"),
        ("fp_a", "/recommendations/?cursor={cursor}"),
    ],
)
def test_list_queries_do_not_grow_with_the_data(
    app, client, people, login_as, factory, count_queries, role, url
):
    """The same number of queries for 1x and 3x the recommendations, warm and right
    after a change (the kept totals and choices recomputed; the member states, which
    do not change here, kept from a first visit)."""
    login_as(people[role])
    client.get("/recommendations/")
    counts = []
    for n in (4, 12):
        for k in range(n):
            activity = factory.activity(start=date(2026, 1 + k % 12, 1))
            recommendation = factory.recommendation(activity.id)
            factory.update(factory.follow_up_of(recommendation, STATE_A).id)
        with app.app_context():
            kenya = factory.follow_up_of(recommendation, STATE_A).state_id
            row = db.session.scalars(
                select(Recommendation).order_by(Recommendation.meeting_date.desc()).limit(1)
            ).one()
            cursor = _cursor(["a", row.meeting_date.isoformat(), row.activity_id, row.number])
        target = url.format(kenya=kenya, cursor=cursor)
        with count_queries(header_kept=True) as after_change:
            assert client.get(target).status_code == 200
        with count_queries() as warm:
            assert client.get(target).status_code == 200
        counts.append((after_change.count, warm.count))
    assert counts[0] == counts[1], counts
    # Right after a change: the signed-in user (with the change counters), the total,
    # the page, its rows' figures (when it has rows), the years and the activities to
    # filter by; warm, the user, the page and its figures: the total and the choices
    # kept. A focal point's page names their state too.
    assert counts[0] == LIST_QUERIES[role, url], counts


LIST_QUERIES = {
    ("observer", "/recommendations/"): (6, 3),
    ("observer", "/recommendations/?show=all&cursor={cursor}"): (6, 3),
    ("observer", "/recommendations/?state={kenya}&overdue=1"): (5, 2),
    ("observer", "/recommendations/?status=in_progress&theme=RD3&year=2026"): (6, 3),
    ("observer", "/recommendations/?q=cooperation"): (6, 3),
    ("fp_a", "/recommendations/"): (7, 4),
    ("fp_a", "/recommendations/?cursor={cursor}"): (7, 4),
}


def test_a_follow_up_status_change_is_seen_at_once(
    app, client, people, login_as, factory, recorded
):
    login_as(people["observer"])
    assert "No recommendation matches" in client.get("/recommendations/?status=implemented").text
    factory.update(factory.follow_up_of(recorded[0], STATE_A).id, FollowUpStatus.IMPLEMENTED)
    html = client.get("/recommendations/?status=implemented").text
    assert _codes(html) == [recorded[0].code] and "1 in all" in html
