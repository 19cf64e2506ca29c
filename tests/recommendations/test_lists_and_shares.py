"""The list of recommendations and its filters, the shares by state and theme, an
activity's matrix, the home page's figures, and the query counts of every list."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from markupsafe import escape

from kpplan.core.extensions import db
from kpplan.meetings.models import Activity
from kpplan.recommendations.statuses import FollowUpStatus
from tests.conftest import STATE_A, STATE_B
from tests.recommendations.helpers import PDF, form_version, post_update, process_today


class TestListsAndShares:
    def test_filters(self, app, client, people, login_as, factory):
        old = factory.activity(start=date(2019, 5, 1))
        new = factory.activity(start=date(2025, 5, 1))
        a = factory.recommendation(old.id, states=(STATE_A,), themes=("JVAP2",), text="Mobility")
        b = factory.recommendation(
            new.id,
            states=(STATE_B,),
            themes=("RD5",),
            text="Prosecute",
            target=process_today(app) - timedelta(days=5),
        )
        factory.update(factory.follow_up_of(a, STATE_A).id, FollowUpStatus.IMPLEMENTED)
        login_as(people["observer"])
        italy = factory.follow_up_of(b, STATE_B).state_id

        def codes(query):
            text = client.get(f"/recommendations/?{query}").text
            return {c for c in (a.code, b.code) if c in text}

        assert codes("") == {a.code, b.code}
        assert codes("theme=JVAP2") == {a.code}
        assert codes(f"state={italy}") == {b.code}
        assert codes("status=implemented") == {a.code}
        assert codes("overdue=1") == {b.code}
        assert codes("year=2019") == {a.code}
        assert codes(f"activity={new.id}") == {b.code}
        assert codes("q=prosecute") == {b.code}
        assert client.get("/recommendations/?status=bogus&year=x&page=-3").status_code == 200

    def test_a_row_kept_for_its_values_follows_them(self, app, client, people, login_as, factory):
        """Each row of the list is written once for the values it shows and kept: a status
        update writes its row again with the new figures, and so does any value it shows
        (here the activity's title, changed behind the app's back with kept pages off, so
        that only the row's own key can tell)."""
        activity = factory.activity()
        r = factory.recommendation(activity.id, states=(STATE_A, STATE_B))
        login_as(people["observer"])

        def row() -> str:
            page = client.get("/recommendations/").text
            return re.search(rf"{re.escape(r.code)}</a>.*?</tr>", page, re.S).group(0)

        assert "(0/2)" in row()
        factory.update(factory.follow_up_of(r, STATE_A).id, FollowUpStatus.IMPLEMENTED)
        assert "(1/2)" in row()
        assert "50 %" in row()
        app.config["KEEP_PAGES"] = False
        with app.app_context():
            db.session.execute(
                sa.update(Activity).where(Activity.id == activity.id).values(title="Renamed")
            )
            db.session.commit()
        assert "Renamed" in row()

    def test_shares_per_state_and_theme(self, app, client, people, login_as, factory):
        activity = factory.activity()
        r = factory.recommendation(activity.id, themes=("RD3", "4P-PREVENTION"))
        factory.update(factory.follow_up_of(r, STATE_A).id, FollowUpStatus.IMPLEMENTED)
        login_as(people["chair"])
        page = client.get("/recommendations/shares").text
        assert re.search(r"Kenya</a></td><td>1</td><td>1</td>.*?100 %", page, re.S)
        assert re.search(r"Italy</a></td><td>1</td><td>0</td>.*?0 %", page, re.S)
        assert re.search(
            r"RD3 Prevention of trafficking.*?</a></td><td>2</td><td>1</td>", page, re.S
        )

    def test_activity_matrix(self, app, client, people, login_as, factory):
        activity = factory.activity()
        r = factory.recommendation(activity.id)
        factory.update(factory.follow_up_of(r, STATE_B).id, FollowUpStatus.IN_PROGRESS)
        login_as(people["observer"])
        page = client.get(f"/activities/{activity.id}/recommendations").text
        assert "Kenya" in page and "Italy" in page
        assert 'class="fu fu-in_progress"' in page and 'class="fu fu-not_started"' in page


class TestQueryCounts:
    @pytest.mark.parametrize(
        "role,url",
        [
            ("observer", "/recommendations/"),
            ("fp_a", "/recommendations/"),
            ("fp_a", "/follow-ups/"),
            ("secretariat", "/follow-ups/validation"),
            ("observer", "/recommendations/shares"),
            ("observer", "/recommendations/{rec}"),
            ("observer", "/activities/{activity}/recommendations"),
            ("fp_a", "/follow-ups/{follow_up}"),
        ],
    )
    def test_lists_do_not_grow_with_the_data(
        self, app, client, people, login_as, factory, count_queries, role, url
    ):
        activity = factory.activity()

        def add(n):
            made = []
            for _ in range(n):
                rec = factory.recommendation(activity.id)
                fu = factory.follow_up_of(rec, STATE_A)
                factory.update(fu.id, with_file=PDF)
                factory.update(fu.id, FollowUpStatus.IMPLEMENTED, pending=True)
                made.append((rec, fu))
            return made

        login_as(people[role])
        # Opened once first: what is kept until a state changes (the list's member
        # states to filter by) is then read on neither count.
        client.get("/recommendations/")
        counts = []
        for n in (2, 12):
            rec, fu = add(n)[-1]
            target = url.format(rec=rec.id, activity=activity.id, follow_up=fu.id)
            with count_queries(header_kept=True) as counter:
                assert client.get(target).status_code == 200
            counts.append(counter.count)
        assert counts[0] == counts[1], counts


def test_shares_follow_each_update_at_once(app, client, people, login_as, factory):
    activity = factory.activity()
    recommendation = factory.recommendation(activity.id)
    kenya = factory.follow_up_of(recommendation, STATE_A)
    login_as(people["fp_a"])
    assert "0 %" in client.get("/recommendations/shares").text
    version = form_version(client, kenya.id)
    assert (
        post_update(
            client, kenya.id, version, status="not_applicable", reason="Covered elsewhere."
        ).status_code
        == 302
    )
    page = client.get("/recommendations/shares").text
    assert re.search(r"Kenya</a></td><td>1</td><td>0</td><td>1</td>", page)


def test_home_heads_a_states_follow_up_as_a_heading_does(app, client, factory, login_as):
    from kpplan.directory.models import Role

    for state, heading in (
        ("The Netherlands", "The Netherlands' follow-up of recommendations"),
        ("Czech Republic", "The Czech Republic's follow-up of recommendations"),
    ):
        login_as(factory.user(Role.FOCAL_POINT, state=state))
        page = client.get("/").text
        assert f"<h2>{escape(heading)}</h2>" in page


def test_home_shows_what_needs_attention(app, client, people, login_as, factory):
    now = process_today(app)
    activity = factory.activity()
    factory.recommendation(activity.id, states=(STATE_A,), target=now - timedelta(days=1))
    factory.recommendation(activity.id, states=(STATE_B,), target=now + timedelta(days=5))
    login_as(people["fp_a"])
    page = client.get("/").text
    # As the reader sees it (the name's possessive comes escaped, as any text a filter gives).
    assert "Kenya's follow-up of recommendations" in unescape(page)
    assert re.search(r'<p class="figure">1</p>\s*<p>follow-ups overdue', page)
    assert re.search(r'<p class="figure">0</p>\s*<p>due within 30 days', page)
    login_as(people["secretariat"])
    page = client.get("/").text
    assert re.search(r'<p class="figure">1</p>\s*<p>due within 30 days', page)
