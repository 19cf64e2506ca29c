"""The handover pack for the incoming Chair, on the page and as a workbook."""

from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa
from openpyxl import load_workbook

from kpplan.chair.models import WorkPlanItem
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.models import Activity, Status
from kpplan.recommendations import tally_check
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import Scope
from kpplan.recommendations.statuses import OPEN_STATUSES, FollowUpStatus
from kpplan.review import handover, queries
from tests.recommendations.helpers import process_today


class TestHandover:
    def test_the_pack_for_the_incoming_chair(self, client, people, login_as, factory, term):
        factory.chairmanship("Germany", None)
        login_as(people["chair"])
        page = client.get(f"/chair/{term['chair'].id}/handover")
        assert page.status_code == 200
        assert "to the incoming" in page.text and "Chairmanship of Germany" in page.text
        assert "Workshop in Nairobi" in page.text

        download = client.get(f"/chair/{term['chair'].id}/handover.xlsx")
        assert download.status_code == 200
        assert "handover-south-sudan-2024" in download.headers["Content-Disposition"]
        book = load_workbook(io.BytesIO(download.data), read_only=True)
        assert book.sheetnames == [
            "Open recommendations",
            "Overdue follow-ups",
            "Upcoming activities",
            "Items not delivered",
        ]
        open_rows = list(book["Open recommendations"].values)
        header = open_rows[0]
        assert header[:6] == (
            "Code",
            "Activity",
            "Activity date",
            "Wording",
            "Target date",
            "Addressees",
        )
        by_code = {row[0]: dict(zip(header, row, strict=True)) for row in open_rows[1:]}
        assert set(by_code) == {term["met"].code, term["overdue"].code}
        met = by_code[term["met"].code]
        assert (met["Addressees"], met["Implemented"], met["Not started"]) == (2, 1, 1)
        assert by_code[term["overdue"].code]["Overdue"] == 1
        overdue = list(book["Overdue follow-ups"].values)[1:]
        assert [(r[1], r[3]) for r in overdue] == [(term["overdue"].code, "Kenya")]
        upcoming = [r[3] for r in list(book["Upcoming activities"].values)[1:]]
        assert upcoming == ["Workshop in Nairobi"]
        items = [r[3] for r in list(book["Items not delivered"].values)[1:]]
        assert sorted(items) == ["Climate", "Data", "Legal pathways"]

    def test_a_fully_implemented_recommendation_is_not_open(
        self, app, client, people, login_as, factory, term
    ):
        factory.update(factory.follow_up_of(term["met"], "Italy").id, FollowUpStatus.IMPLEMENTED)
        login_as(people["observer"])
        text = client.get(f"/chair/{term['chair'].id}/handover").text
        assert term["overdue"].code in text and term["met"].code not in text

    def test_the_page_shows_the_first_rows_and_the_download_all(
        self, client, people, login_as, term, monkeypatch
    ):
        monkeypatch.setattr(handover, "PAGE_ROWS", 1)
        login_as(people["observer"])
        text = client.get(f"/chair/{term['chair'].id}/handover").text
        open_section = text.split('id="open"', 1)[1].split("</section>", 1)[0]
        link = f'<a href="/chair/{term["chair"].id}/handover.xlsx">handover pack (.xlsx)</a>'
        assert f"And 1 more — all are in the {link}." in open_section
        assert open_section.count('<tr><td class="wording-cell"><a href="/recommendations/') == 1
        assert "2 open recommendations" in text and "1 overdue follow-ups" in text

    def test_the_page_says_when_the_workbook_holds_the_first_ones_only(
        self, client, people, login_as, term, monkeypatch
    ):
        monkeypatch.setattr(handover, "PAGE_ROWS", 1)
        monkeypatch.setattr(queries, "LIST_LIMIT", 1)
        login_as(people["observer"])
        text = client.get(f"/chair/{term['chair'].id}/handover").text
        assert "And 1 more — the first 1 are in the" in text

    def test_the_processs_open_recommendations_are_counted_exactly_as_kept_on_write(
        self, app, client, people, login_as, factory, term, monkeypatch
    ):
        """The Chair reads how many recommendations are open, exactly (it said "more than
        1,000" beyond a thousand): the number kept on write, the same as a full count after
        every change made through the forms, and the rows beyond the page's first ones."""
        monkeypatch.setattr(handover, "PAGE_ROWS", 1)
        url = f"/chair/{term['chair'].id}/handover"
        link = f'<a href="/chair/{term["chair"].id}/handover.xlsx">handover pack (.xlsx)</a>'

        def full_count() -> int:
            with app.app_context():
                return sum(
                    1
                    for r in db.session.scalars(sa.select(Recommendation))
                    if r.withdrawn_at is None
                    and any(f.status in OPEN_STATUSES or f.pending_update_id for f in r.follow_ups)
                )

        extra = [
            factory.recommendation(term["activities"][0].id, states=("Kenya", "Italy"))
            for _ in range(3)
        ]
        login_as(people["observer"])
        text = client.get(url).text
        assert full_count() == 5
        assert "5 open recommendations" in text and "More than" not in text
        assert f"And 4 more — all are in the {link}." in text
        # Every addressee of one has implemented it: no longer open.
        for state in ("Kenya", "Italy"):
            factory.update(factory.follow_up_of(extra[0], state).id, FollowUpStatus.IMPLEMENTED)
        # Of another, Kenya's implementation awaits validation: still followed up.
        factory.update(factory.follow_up_of(extra[1], "Italy").id, FollowUpStatus.IMPLEMENTED)
        login_as(people["fp_a"])  # Kenya
        follow_up = factory.follow_up_of(extra[1], "Kenya")
        data = {"version": follow_up.version, "status": "implemented", "narrative": "Done."}
        assert client.post(f"/follow-ups/{follow_up.id}", data=data).status_code == 302
        assert factory.follow_up_of(extra[1], "Kenya").pending_update_id is not None
        assert full_count() == 4
        login_as(people["observer"])
        text = client.get(url).text
        assert "4 open recommendations" in text and f"And 3 more — all are in the {link}." in text
        # A focal point's are their state's open follow-ups, read from the kept figures.
        login_as(people["fp_a"])  # "overdue", the last two extra ones
        assert "3 open recommendations" in client.get(url).text
        login_as(people["fp_b"])  # Italy: "met" and the last extra one
        assert "2 open recommendations" in client.get(url).text
        with app.app_context():
            assert tally_check.differences(db.session.connection()) == []

    def test_after_a_write_the_page_reads_the_kept_number_and_adds_up_none(
        self, client, people, login_as, factory, count_queries, term
    ):
        """Right after a status update the Process's open recommendations are read from
        the number kept on write (one row), not counted over the recommendations."""
        login_as(people["observer"])
        url = f"/chair/{term['chair'].id}/handover"
        client.get(url)
        factory.update(factory.follow_up_of(term["met"], "Italy").id, FollowUpStatus.IMPLEMENTED)
        with count_queries() as counter:
            text = client.get(url).text
        assert "1 open recommendations" in text
        assert any("process_tallies" in q for q in counter.statements)
        assert not any(
            "count(*)" in q and "recommendation_tallies" in q for q in counter.statements
        )

    def test_the_first_rows_are_those_the_workbook_starts_with(self, app, term):
        with app.test_request_context():
            italy = db.session.scalar(sa.select(State.id).where(State.name == "Italy"))
            for scope, open_ones in ((Scope(), 2), (Scope(state_id=italy), 1)):
                every = handover.open_recommendations(scope, process_today(app))
                for rows in (1, 2, 5):
                    first, total = handover.first_open_recommendations(
                        scope, process_today(app), rows
                    )
                    assert total == len(every) == open_ones
                    assert first == every[:rows]

    def test_the_kept_table_of_upcoming_activities_follows_each_change(
        self, app, client, people, login_as, factory, term
    ):
        """The upcoming activities' table is written once and kept: an activity added,
        retitled or cancelled shows at the next render, a status update keeps it."""
        login_as(people["secretariat"])
        url = f"/chair/{term['chair'].id}/handover"

        def upcoming() -> str:
            return client.get(url).text.split('id="upcoming"', 1)[1].split("</section>", 1)[0]

        assert "Workshop in Nairobi" in upcoming() and "Training in Mombasa" not in upcoming()
        training = factory.activity(title="Training in Mombasa", start=date(2035, 3, 1))
        assert "Training in Mombasa" in upcoming()
        factory.update(factory.follow_up_of(term["met"], "Italy").id)
        assert "Training in Mombasa" in upcoming()
        with app.app_context():
            db.session.get(Activity, training.id).title = "Training in Malindi"
            db.session.commit()
        section = upcoming()
        assert "Training in Malindi" in section and "Training in Mombasa" not in section
        with app.app_context():
            db.session.get(Activity, training.id).status = Status.CANCELLED
            db.session.commit()
        assert "Training in Malindi" not in upcoming()

    def test_the_kept_chairs_part_follows_each_change(
        self, app, client, people, login_as, factory, count_queries, term
    ):
        """The head (the Chair, the incoming Chair) and the items not delivered are written
        once and kept: a status update leaves them (the chairmanship is not read again); a
        new incoming Chair, a renamed state, an activity linked to an item or held shows at
        the next render."""
        login_as(people["secretariat"])
        url = f"/chair/{term['chair'].id}/handover"

        def items() -> str:
            return client.get(url).text.split('id="not-delivered"', 1)[1].split("</section>")[0]

        text = client.get(url).text
        assert "to the incoming Chair ·" in text and "Chairmanship of South Sudan" in text
        assert "Climate" in items() and "Not scheduled" in items()
        factory.update(factory.follow_up_of(term["met"], "Italy").id)
        with count_queries() as counter:
            assert "Climate" in items()
        assert not any("FROM chairmanships" in q for q in counter.statements)
        factory.chairmanship("Germany", date(2026, 1, 1))
        assert "to the incoming <a" in client.get(url).text
        with app.app_context():
            db.session.scalar(sa.select(State).where(State.name == "South Sudan")).name = "Juba"
            db.session.commit()
        text = client.get(url).text
        assert "Handover pack of the Chairmanship of Juba" in text
        assert "From the Chairmanship of Juba" in text
        with app.app_context():
            item = db.session.get(WorkPlanItem, term["items"]["not scheduled"].id)
            item.activities.append(db.session.get(Activity, term["coming"].id))
            db.session.commit()
        assert "Not scheduled" not in items() and "Climate" in items()
        with app.app_context():
            db.session.get(Activity, term["coming"].id).status = Status.HELD
            db.session.commit()
        assert "Climate" not in items() and "Legal pathways" not in items()

    def test_the_kept_rows_show_each_change(self, client, people, login_as, factory, term):
        """Each row of the lists is written once for the values it shows: a status update
        shows at once in its recommendation's row and takes a follow-up out of the overdue
        ones, the other rows are the same."""
        login_as(people["observer"])
        url = f"/chair/{term['chair'].id}/handover"

        def row(section: str, code: str) -> list[str]:
            text = client.get(url).text.split(f'id="{section}"', 1)[1].split("</section>")[0]
            found = [r for r in text.split("<tr>") if f">{code}</a>" in r]
            return [c.split(">", 1)[1].split("<", 1)[0] for c in found[0].split("<td")[1:]]

        header = ["Addressees", *(s.label for s in FollowUpStatus), "Awaiting", "Overdue"]
        before = dict(zip(header, row("open", term["met"].code)[1:], strict=True))
        assert (before["Not started"], before["In progress"], before["Implemented"]) == (
            "1",
            "0",
            "1",
        )
        other = row("open", term["overdue"].code)
        assert other[-1] == "1"  # Kenya's follow-up of it is overdue
        assert row("overdue", term["overdue"].code)
        factory.update(factory.follow_up_of(term["met"], "Italy").id, FollowUpStatus.IN_PROGRESS)
        after = dict(zip(header, row("open", term["met"].code)[1:], strict=True))
        assert (after["Not started"], after["In progress"], after["Implemented"]) == ("0", "1", "1")
        assert row("open", term["overdue"].code) == other
        factory.update(
            factory.follow_up_of(term["overdue"], "Kenya").id, FollowUpStatus.IMPLEMENTED
        )
        assert "Nothing is overdue." in client.get(url).text

    def test_a_focal_point_gets_their_own_state_only(self, client, people, login_as, term):
        login_as(people["fp_b"])  # Italy: one open follow-up, nothing overdue
        download = client.get(f"/chair/{term['chair'].id}/handover.xlsx")
        book = load_workbook(io.BytesIO(download.data), read_only=True)
        open_rows = list(book["Open recommendations"].values)
        assert [(r[0], r[5]) for r in open_rows[1:]] == [(term["met"].code, 1)]
        assert list(book["Overdue follow-ups"].values)[1:] == []
