"""Chairmanships and work plans: the alternation warning, the header, item statuses
derived from their activities, stale edits, who may edit, and the demo."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from kpplan.audit.models import AuditEntry
from kpplan.chair import services
from kpplan.chair.demo import german_term_start
from kpplan.chair.forms import parse_target
from kpplan.chair.models import (
    Chairmanship,
    ItemStatus,
    TargetPrecision,
    WorkPlanItem,
    quarter_end,
)
from kpplan.core import clock
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.directory.models import Role
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Format, Status
from tests.conftest import state_named

TODAY = date(2026, 6, 1)


def _flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', page, re.S)


# The alternation between Africa and Europe --------------------------------------------


class TestAlternation:
    def _chairs(self, app, *terms):
        with app.app_context():
            chairs = [
                Chairmanship(id=n, state=state_named(name), start_date=start)
                for n, (name, start) in enumerate(terms, start=1)
            ]
            return services.alternation_warnings(chairs)

    def test_alternating_chairs_raise_no_warning(self, app):
        warnings = self._chairs(
            app,
            ("Italy", date(2018, 1, 1)),
            ("Eritrea", date(2019, 3, 7)),
            ("The Netherlands", date(2020, 3, 6)),
            ("South Sudan", date(2022, 3, 22)),
            ("Germany", None),  # upcoming, not yet dated: last in the order
        )
        assert warnings == {}

    def test_two_european_chairs_in_a_row_are_pointed_out_with_the_rule(self, app):
        warnings = self._chairs(
            app,
            ("The Netherlands", date(2020, 3, 6)),
            ("Eritrea", date(2019, 3, 7)),  # order comes from the dates, not the list
            ("Germany", date(2022, 3, 22)),
        )
        assert list(warnings) == [3]
        assert "Germany follows The Netherlands, and both are European" in warnings[3]
        assert "alternate between an African and a European state" in warnings[3]

    def test_a_chair_from_neither_continent_is_pointed_out(self, app, factory):
        factory.country("Atlantis")
        with app.app_context():
            chair = Chairmanship(id=1, state=state_named("Atlantis"), start_date=TODAY)
            assert "neither an African nor a European" in services.alternation_warnings([chair])[1]

    def test_breaking_the_alternation_saves_with_a_warning_and_the_list_shows_it(
        self, app, client, people, login_as, factory
    ):
        factory.chairmanship("The Netherlands", date(2020, 3, 6), date(2022, 3, 22))
        login_as(people["secretariat"])
        with app.app_context():
            germany = state_named("Germany").id
        response = client.post(
            "/chair/new",
            data={"state": germany, "start_date": "2022-03-22", "handover_activity": 0},
            follow_redirects=True,
        )
        assert response.status_code == 200
        flashes = " ".join(_flashes(response.text)).replace("&#39;", "'")
        assert "The Chairmanship of Germany has been added." in flashes
        # The warning is said once: on the chairmanship's page, not again in a flash.
        warning = "Germany follows The Netherlands, and both are European"
        assert response.text.count(warning) == 1
        with app.app_context():
            assert db.session.scalar(select(func.count(Chairmanship.id))) == 2
        listing = client.get("/chair/").text
        assert "The alternation between Africa and Europe is broken 1 time" in listing
        assert listing.count(warning) == 1
        assert "alternation" not in listing.split("<table", 1)[1]  # not again on its row

    def test_an_alternating_chair_saves_without_warning(
        self, app, client, people, login_as, factory
    ):
        factory.chairmanship("The Netherlands", date(2020, 3, 6), date(2022, 3, 22))
        login_as(people["admin"])
        with app.app_context():
            south_sudan = state_named("South Sudan").id
        response = client.post(
            "/chair/new",
            data={"state": south_sudan, "start_date": "2022-03-22", "handover_activity": 0},
            follow_redirects=True,
        )
        assert [f for f in _flashes(response.text) if "note" in f.lower()] == []
        assert "is broken" not in client.get("/chair/").text


# Periods as people read them ----------------------------------------------------------


class TestPeriodWording:
    def test_upcoming_current_and_past_terms_read_as_such(
        self, app, client, people, login_as, factory
    ):
        from datetime import timedelta

        from kpplan.core.clock import today

        with app.test_request_context():
            now = today()
        past_start, current_start = date(now.year - 3, 3, 1), date(now.year - 1, 3, 1)
        next_start = date(now.year + 1, 3, 1)
        factory.chairmanship("Eritrea", past_start, current_start - timedelta(days=1))
        factory.chairmanship("Italy", current_start)
        factory.chairmanship("Kenya", next_start)
        login_as(people["observer"])
        listing = client.get("/chair/").text
        table = listing.split("<table", 1)[1]

        def period(name):
            row = table.split(f">{name}</a>", 1)[1].split("</tr>", 1)[0]
            return re.search(r'data-label="Period">(.*?)</td>', row).group(1)

        assert period("Kenya") == f"from 1 Mar {next_start.year}"
        assert period("Italy") == f"since 1 Mar {current_start.year}"
        assert period("Eritrea") == f"1 Mar {past_start.year} – 28 Feb {current_start.year}"
        assert "today" not in table
        with app.app_context():
            kenya = db.session.scalar(
                select(Chairmanship.id).where(Chairmanship.start_date == next_start)
            )
        page = client.get(f"/chair/{kenya}").text
        assert f"<dd>from 1 Mar {next_start.year}</dd>" in page

    def test_a_term_left_open_ends_when_the_next_chair_takes_over(
        self, app, client, people, login_as, factory
    ):
        from kpplan.core.clock import today

        with app.test_request_context():
            now = today()
        first, second = date(now.year - 4, 3, 22), date(now.year - 1, 3, 1)
        factory.chairmanship("South Sudan", first)  # no end date recorded
        factory.chairmanship("Germany", second)
        factory.chairmanship("Egypt", date(now.year + 1, 3, 1))
        login_as(people["observer"])
        table = client.get("/chair/").text.split("<table", 1)[1]

        def period(name):
            row = table.split(f">{name}</a>", 1)[1].split("</tr>", 1)[0]
            return re.search(r'data-label="Period">(.*?)</td>', row).group(1)

        assert period("South Sudan") == f"22 Mar {first.year} – 1 Mar {second.year}"
        assert period("Germany") == f"since 1 Mar {second.year}"
        assert period("Egypt") == f"from 1 Mar {now.year + 1}"

    def test_a_chair_designated_without_a_date_reads_so(
        self, app, client, people, login_as, factory
    ):
        factory.chairmanship("Germany", None)
        login_as(people["observer"])
        assert "Upcoming, date to be set" in client.get("/chair/").text


# Periods and handovers ----------------------------------------------------------------


class TestPeriods:
    def test_overlap_beyond_a_handover_is_refused_but_a_shared_handover_day_is_not(
        self, app, factory
    ):
        factory.chairmanship("Eritrea", date(2019, 3, 7), date(2020, 3, 6))
        with app.app_context():
            netherlands = state_named("The Netherlands")
            with pytest.raises(DomainError, match="overlaps the Chairmanship of Eritrea"):
                services.create_chairmanship(None, state=netherlands, start_date=date(2020, 1, 1))
            services.create_chairmanship(None, state=netherlands, start_date=date(2020, 3, 6))
            db.session.commit()

    def test_an_open_term_ends_when_the_next_chair_takes_over(self, app, factory):
        factory.chairmanship("South Sudan", date(2022, 3, 22), None)
        with app.app_context():
            services.create_chairmanship(
                None, state=state_named("Germany"), start_date=date(2027, 3, 1)
            )
            db.session.commit()
            assert db.session.scalar(select(func.count(Chairmanship.id))) == 2

    @pytest.mark.parametrize(
        "fields,message",
        [
            ({"start_date": None, "end_date": date(2020, 1, 1)}, "start date before the end"),
            ({"start_date": date(2020, 1, 2), "end_date": date(2020, 1, 1)}, "comes before"),
        ],
    )
    def test_dates_out_of_order_are_refused(self, app, fields, message):
        with app.app_context(), pytest.raises(DomainError, match=message):
            services.create_chairmanship(None, state=state_named("Kenya"), **fields)

    def test_the_handover_is_a_senior_officials_meeting(self, app, factory):
        tm = factory.activity(kind=ActivityKind.THEMATIC_MEETING)
        with app.app_context(), pytest.raises(DomainError, match="Senior Officials' Meeting"):
            services.create_chairmanship(
                None,
                state=state_named("Kenya"),
                start_date=date(2026, 1, 1),
                handover_activity=db.session.get(Activity, tm.id),
            )

    def test_a_bad_date_in_the_form_is_shown_next_to_its_field(self, client, people, login_as):
        login_as(people["admin"])
        response = client.post("/chair/new", data={"state": 0, "start_date": "22 March"})
        assert response.status_code == 200
        assert 'id="start_date-error"' in response.text
        assert "year-month-day" in response.text

    def test_an_activity_falls_under_the_chair_of_its_start_date(
        self, app, client, people, login_as, factory
    ):
        factory.chairmanship("The Netherlands", date(2020, 3, 6), date(2022, 3, 22))
        factory.chairmanship("South Sudan", date(2022, 3, 22), None)
        handover = factory.activity(
            kind=ActivityKind.SENIOR_OFFICIALS, start=date(2022, 3, 22), status=Status.HELD
        )
        before = factory.activity(start=date(2021, 11, 24), status=Status.HELD)
        login_as(people["fp_a"])
        # On the shared handover day the incoming Chair counts.
        assert "Under the <a" in (page := client.get(f"/activities/{handover.id}").text)
        assert "Chairmanship of South Sudan" in page
        assert "Chairmanship of the Netherlands" in client.get(f"/activities/{before.id}").text
        lonely = factory.activity(start=date(2010, 1, 1))
        assert "No chairmanship recorded" in client.get(f"/activities/{lonely.id}").text

    def test_the_activity_page_follows_its_chair_and_keeps_it_through_a_status_update(
        self, app, client, people, login_as, factory, count_queries
    ):
        """What the activity's page says of its Chair is kept between pages, and shows at
        once a new chairmanship, a renamed state, an item it delivers and one it no longer
        delivers; a status update (which changes none of it) does not read it again."""
        activity = factory.activity(start=date(2022, 7, 12), status=Status.HELD)
        page = f"/activities/{activity.id}"
        login_as(people["fp_a"])
        assert "No chairmanship recorded" in client.get(page).text
        chair = factory.chairmanship("South Sudan", date(2022, 3, 22))
        assert "Chairmanship of South Sudan" in client.get(page).text
        item = factory.work_plan_item(factory.work_plan(chair.id).id, theme="Border posts")
        with app.app_context():
            found = db.session.get(WorkPlanItem, item.id)
            found.activities.append(db.session.get(Activity, activity.id))
            db.session.commit()
        text = client.get(page).text
        assert f'href="/chair/items/{item.id}">Border posts</a>' in text
        assert "(Work Plan 2022/23, South Sudan)" in text
        with app.app_context():
            state_named("South Sudan").name = "Republic of South Sudan"
            db.session.commit()
        text = client.get(page).text
        assert "Chairmanship of the Republic of South Sudan" in text
        assert "(Work Plan 2022/23, Republic of South Sudan)" in text
        recommendation = factory.recommendation(activity.id, states=("Kenya",))
        factory.update(recommendation.follow_ups[0].id)
        with count_queries(header_kept=True) as counted:
            assert "Border posts" in client.get(page).text
        assert not [q for q in counted.statements if "chairmanships" in q]
        with app.app_context():
            found = db.session.get(WorkPlanItem, item.id)
            found.activities.clear()
            db.session.commit()
        text = client.get(page).text
        assert "Border posts" not in text and "<dt>Delivers</dt>" not in text


# The header of every page ---------------------------------------------------------------


class TestHeader:
    def test_every_page_names_the_current_and_the_upcoming_chair(
        self, client, people, login_as, factory
    ):
        factory.chairmanship("The Netherlands", date(2020, 3, 6), date(2022, 3, 22))
        factory.chairmanship("South Sudan", date(2022, 3, 22), None)
        factory.chairmanship("Germany", None, None)
        login_as(people["observer"])
        for path in ("/", "/activities/", "/states/", "/chair/"):
            header = client.get(path).text.split("</header>")[0]
            assert re.search(r"Chair: <a [^>]+>South Sudan</a>", header), path
            assert re.search(r"Next: <a [^>]+>Germany</a>", header), path
            assert "date to be set" in header
            assert "The Netherlands" not in header

    def test_a_dated_upcoming_chair_comes_before_an_undated_one(
        self, client, people, login_as, factory
    ):
        factory.chairmanship("South Sudan", date(2022, 3, 22), None)
        factory.chairmanship("Kenya", None, None)
        factory.chairmanship("Germany", date(2099, 3, 1), None)
        login_as(people["observer"])
        header = client.get("/").text.split("</header>")[0]
        assert re.search(
            r"Next: <a [^>]+>Germany</a> <span class=\"muted\">from 1 Mar 2099", header
        )

    def test_no_chair_line_before_sign_in_or_without_chairs(
        self, client, people, login_as, factory
    ):
        assert "chair-line" not in client.get("/login").text
        login_as(people["observer"])
        assert "chair-line" not in client.get("/").text

    def test_the_header_costs_one_query_whatever_the_number_of_chairs(
        self, client, people, login_as, factory, count_queries
    ):
        login_as(people["observer"])
        client.get("/")
        with count_queries() as none:
            client.get("/")
        for year in range(2000, 2020):
            state = ("Kenya", "Italy")[year % 2]
            factory.chairmanship(state, date(year, 1, 1), date(year, 12, 31))
        factory.chairmanship("Kenya", date(2020, 1, 1), None)
        factory.chairmanship("Germany", None, None)
        with count_queries() as many:
            client.get("/")
        with count_queries() as again:
            assert "chair-line" in client.get("/").text
        # Read once after the chairmanships change, in one query; then kept (the page reads
        # the change counters anyway), and as cheap as without a chair.
        assert sum("chairmanships" in s for s in many.statements) == 1
        assert many.count == none.count + 1
        assert not any("chairmanships" in s for s in again.statements)
        assert again.count == none.count


# Item statuses ----------------------------------------------------------------------------


def _item(target: date, quarter: bool = False, *activities: Activity, dropped: str | None = None):
    return WorkPlanItem(
        kind=ActivityKind.THEMATIC_MEETING,
        theme="Legal pathways",
        target_date=target,
        target_precision=TargetPrecision.QUARTER if quarter else TargetPrecision.DAY,
        activities=list(activities),
        dropped_reason=dropped,
    )


def _act(start: date, status: Status) -> Activity:
    return Activity(
        kind=ActivityKind.THEMATIC_MEETING,
        title="TM",
        start_date=start,
        end_date=start,
        status=status,
        format=Format.IN_PERSON,
    )


class TestItemStatus:
    def test_nothing_linked_and_target_ahead_is_not_scheduled(self):
        assert _item(date(2026, 9, 1)).status_on(TODAY) is ItemStatus.NOT_SCHEDULED

    def test_nothing_linked_after_the_target_is_late(self):
        assert _item(date(2026, 5, 31)).status_on(TODAY) is ItemStatus.LATE

    def test_the_target_day_itself_is_not_late_yet(self):
        assert _item(TODAY).status_on(TODAY) is ItemStatus.NOT_SCHEDULED

    def test_a_quarter_is_due_by_its_last_day(self):
        item = _item(date(2026, 4, 1), True)  # Q2 2026: due by 30 June
        assert item.due_by == date(2026, 6, 30)
        assert item.status_on(TODAY) is ItemStatus.NOT_SCHEDULED
        assert item.status_on(date(2026, 7, 1)) is ItemStatus.LATE

    @pytest.mark.parametrize("status", [Status.DRAFT, Status.PLANNED, Status.CONFIRMED])
    def test_an_activity_planned_by_the_target_schedules_it(self, status):
        item = _item(date(2026, 9, 30), False, _act(date(2026, 9, 10), status))
        assert item.status_on(TODAY) is ItemStatus.SCHEDULED

    def test_an_activity_planned_after_the_target_makes_it_late_already(self):
        item = _item(date(2026, 9, 30), False, _act(date(2026, 10, 10), Status.PLANNED))
        assert item.status_on(TODAY) is ItemStatus.LATE

    def test_a_scheduled_item_whose_target_passed_unheld_is_late(self):
        item = _item(date(2026, 5, 1), False, _act(date(2026, 4, 20), Status.CONFIRMED))
        assert item.status_on(TODAY) is ItemStatus.LATE

    @pytest.mark.parametrize("status", [Status.HELD, Status.CLOSED])
    def test_a_held_activity_makes_it_held_even_after_the_target(self, status):
        item = _item(
            date(2026, 1, 1),
            False,
            _act(date(2026, 3, 1), status),
            _act(date(2026, 9, 1), Status.PLANNED),
        )
        assert item.status_on(TODAY) is ItemStatus.HELD

    def test_cancelled_activities_do_not_schedule_it(self):
        item = _item(date(2026, 9, 1), False, _act(date(2026, 8, 1), Status.CANCELLED))
        assert item.status_on(TODAY) is ItemStatus.NOT_SCHEDULED

    def test_dropped_wins_over_everything(self):
        item = _item(
            date(2026, 1, 1), False, _act(date(2026, 1, 1), Status.HELD), dropped="No funds"
        )
        assert item.status_on(TODAY) is ItemStatus.DROPPED

    def test_the_work_plan_page_shows_each_status(self, app, client, people, login_as, factory):
        from kpplan.core.clock import today

        with app.test_request_context():
            now = today()
        chair = factory.chairmanship("South Sudan", date(2022, 3, 22))
        plan = factory.work_plan(chair.id)
        held = factory.activity(start=date(2022, 7, 12), status=Status.HELD)
        planned = factory.activity(start=date(now.year + 1, 2, 1), status=Status.PLANNED)
        factory.work_plan_item(
            plan.id, "Held item", target=date(2022, 7, 1), activity_ids=(held.id,)
        )
        factory.work_plan_item(plan.id, "Late item", target=date(2023, 1, 1))
        factory.work_plan_item(
            plan.id, "Scheduled item", target=date(now.year + 1, 1, 1), activity_ids=(planned.id,)
        )
        factory.work_plan_item(plan.id, "Open item", target=date(now.year + 2, 1, 1))
        factory.work_plan_item(plan.id, "Dropped item", target=date(2023, 1, 1), dropped_reason="x")
        login_as(people["fp_a"])
        page = client.get(f"/chair/{chair.id}").text
        statuses = dict(re.findall(r">(\w+) item</a>.*?badge-item-(\w+)", page, re.S))
        assert statuses == {
            "Held": "held",
            "Late": "late",
            "Scheduled": "scheduled",
            "Open": "not_scheduled",
            "Dropped": "dropped",
        }


def test_targets_are_read_as_a_day_or_a_quarter():
    assert parse_target("2022-07-12") == (date(2022, 7, 12), TargetPrecision.DAY)
    assert parse_target("2022-Q3") == (date(2022, 7, 1), TargetPrecision.QUARTER)
    assert parse_target("q4 2023") == (date(2023, 10, 1), TargetPrecision.QUARTER)
    assert quarter_end(date(2023, 10, 1)) == date(2023, 12, 31)
    for bad in ("2022-Q5", "July 2022", "", "3022-01-01"):
        with pytest.raises(ValueError):
            parse_target(bad)


# Editing work plans -------------------------------------------------------------------


@pytest.fixture
def plan(factory):
    chair = factory.chairmanship("South Sudan", date(2022, 3, 22))
    return factory.work_plan(chair.id)


class TestEditing:
    def test_the_chairs_delegate_adds_an_item_to_its_own_work_plan(
        self, app, client, people, login_as, plan
    ):
        login_as(people["chair"])
        with app.app_context():
            kenya = state_named("Kenya").id
        response = client.post(
            f"/chair/work-plans/{plan.id}/items/new",
            data={
                "kind": "thematic_meeting",
                "theme": "Legal pathways",
                "target": "2022-Q3",
                "lead_state": kenya,
                "host_state": kenya,
            },
        )
        assert response.status_code == 302
        with app.app_context():
            item = db.session.scalars(select(WorkPlanItem)).one()
            assert (item.target_date, item.target_precision) == (
                date(2022, 7, 1),
                TargetPrecision.QUARTER,
            )
            entry = db.session.scalars(
                select(AuditEntry).where(AuditEntry.object_type == "work_plan_items")
            ).one()
            assert entry.actor_id == people["chair"].id and entry.action == "created"

    def test_a_bad_target_is_shown_next_to_its_field(self, client, people, login_as, plan):
        login_as(people["secretariat"])
        response = client.post(
            f"/chair/work-plans/{plan.id}/items/new",
            data={"kind": "webinar", "theme": "x", "target": "next summer"},
        )
        assert response.status_code == 200
        assert 'id="target-error"' in response.text and "2022-Q3" in response.text

    def test_another_states_chair_delegate_may_not_edit(self, app, client, factory, login_as):
        chair = factory.chairmanship("Italy", date(2018, 1, 1), date(2019, 3, 7))
        plan = factory.work_plan(chair.id, "Work Plan 2018")
        delegate = factory.user(Role.CHAIR, state="South Sudan")
        login_as(delegate)
        assert client.get(f"/chair/work-plans/{plan.id}/items/new").status_code == 403
        assert client.get(f"/chair/{chair.id}/edit").status_code == 403
        assert client.get(f"/chair/{chair.id}").status_code == 200

    def test_the_choice_of_activities_to_link_follows_each_change(
        self, app, client, people, login_as, factory, plan
    ):
        """The choice is kept from one render to the next: an activity added, cancelled,
        retitled or linked shows at the next render."""
        item = factory.work_plan_item(plan.id, target=date(2022, 7, 1))
        first = factory.activity(start=date(2022, 7, 12), status=Status.HELD)
        login_as(people["chair"])

        def offered() -> str:
            page = client.get(f"/chair/items/{item.id}").text
            return page.split('name="activity">', 1)[1].split("</select>", 1)[0]

        assert f'<option value="{first.id}">' in offered()
        second = factory.activity(start=date(2022, 9, 5), title="Workshop on the choice")
        choice = offered()
        assert f'<option value="{second.id}">' in choice and "Workshop on the choice" in choice
        with app.app_context():
            db.session.get(Activity, second.id).title = "Workshop retitled"
            db.session.commit()
        assert "Workshop retitled" in offered() and "Workshop on the choice" not in offered()
        client.post(f"/chair/items/{item.id}/activities", data={"activity": first.id})
        assert f'<option value="{first.id}">' not in offered()
        with app.app_context():
            db.session.get(Activity, second.id).status = Status.CANCELLED
            db.session.commit()
        page = client.get(f"/chair/items/{item.id}").text
        assert f'<option value="{second.id}">' not in page

    def test_link_and_unlink_an_activity_change_the_status_and_leave_a_trace(
        self, app, client, people, login_as, factory, plan
    ):
        item = factory.work_plan_item(plan.id, target=date(2022, 7, 1))
        held = factory.activity(start=date(2022, 7, 12), status=Status.HELD)
        login_as(people["chair"])
        assert "badge-item-late" in client.get(f"/chair/items/{item.id}").text
        response = client.post(f"/chair/items/{item.id}/activities", data={"activity": held.id})
        assert response.status_code == 302
        page = client.get(f"/chair/items/{item.id}").text
        assert "badge-item-held" in page and held.title in page
        # The activity's page says which item it delivers.
        assert f"/chair/items/{item.id}" in client.get(f"/activities/{held.id}").text
        again = client.post(
            f"/chair/items/{item.id}/activities", data={"activity": held.id}, follow_redirects=True
        )
        assert "Choose an activity from the list." in again.text  # no longer offered
        client.post(f"/chair/items/{item.id}/activities/{held.id}/remove")
        assert "badge-item-late" in client.get(f"/chair/items/{item.id}").text
        with app.app_context():
            actions = db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "work_plan_items")
                .order_by(AuditEntry.id)
            ).all()
        assert actions == ["linked", "unlinked"]

    def test_drop_needs_a_reason_and_can_be_undone(
        self, app, client, people, login_as, factory, plan
    ):
        item = factory.work_plan_item(plan.id, target=date(2022, 7, 1))
        login_as(people["secretariat"])
        refused = client.post(f"/chair/items/{item.id}/drop", data={"version": 1, "reason": " "})
        assert refused.status_code == 200
        assert 'id="reason-error"' in refused.text
        client.post(f"/chair/items/{item.id}/drop", data={"version": 1, "reason": "No host"})
        page = client.get(f"/chair/items/{item.id}").text
        assert "badge-item-dropped" in page and "Dropped: No host" in page
        client.post(f"/chair/items/{item.id}/reinstate", data={"version": 2})
        assert "badge-item-late" in client.get(f"/chair/items/{item.id}").text


class TestStaleEdits:
    def test_a_stale_chairmanship_edit_is_refused_with_409(
        self, app, client, people, login_as, factory
    ):
        chair = factory.chairmanship("South Sudan", date(2022, 3, 22))
        with app.app_context():
            state_id = state_named("South Sudan").id
        login_as(people["secretariat"])
        form = {"state": state_id, "start_date": "2022-03-22", "handover_activity": 0}
        first = client.post(f"/chair/{chair.id}/edit", data={**form, "note": "A", "version": 1})
        assert first.status_code == 302
        second = client.post(f"/chair/{chair.id}/edit", data={**form, "note": "B", "version": 1})
        assert second.status_code == 409
        assert "Someone else changed this record" in second.text
        with app.app_context():
            assert db.session.get(Chairmanship, chair.id).note == "A"

    def test_a_stale_item_edit_and_a_stale_drop_are_refused(
        self, app, client, people, login_as, factory, plan
    ):
        item = factory.work_plan_item(plan.id, "Legal pathways", target=date(2026, 7, 1))
        login_as(people["chair"])
        form = {"kind": "thematic_meeting", "theme": "Legal pathways", "target": "2026-Q4"}
        assert (
            client.post(f"/chair/items/{item.id}/edit", data={**form, "version": 1}).status_code
            == 302
        )
        stale = client.post(
            f"/chair/items/{item.id}/edit", data={**form, "target": "2026-Q1", "version": 1}
        )
        assert stale.status_code == 409
        stale_drop = client.post(
            f"/chair/items/{item.id}/drop", data={"version": 1, "reason": "No funds"}
        )
        assert stale_drop.status_code == 409
        with app.app_context():
            saved = db.session.get(WorkPlanItem, item.id)
            assert saved.target_date == date(2026, 10, 1) and saved.dropped_reason is None

    def test_a_stale_work_plan_edit_is_refused(self, client, people, login_as, plan):
        login_as(people["admin"])
        url = f"/chair/work-plans/{plan.id}/edit"
        assert (
            client.post(url, data={"title": "Work Plan 2022/24", "version": 1}).status_code == 302
        )
        assert client.post(url, data={"title": "Plan", "version": 1}).status_code == 409


# Query counts ---------------------------------------------------------------------------


def test_chair_pages_query_counts_do_not_grow_with_data(
    app, client, people, login_as, factory, count_queries
):
    chair = factory.chairmanship("South Sudan", date(2022, 3, 22))
    plan = factory.work_plan(chair.id)
    first = factory.activity(start=date(2022, 5, 24), status=Status.HELD, host="South Sudan")
    item = factory.work_plan_item(plan.id, activity_ids=(first.id,))
    login_as(people["chair"])
    pages = ("/chair/", f"/chair/{chair.id}", f"/chair/items/{item.id}", f"/activities/{first.id}")
    for page in pages:
        client.get(page)
    with count_queries() as few:
        for page in pages:
            assert client.get(page).status_code == 200
    for year in range(2000, 2016):
        factory.chairmanship(("Kenya", "Italy")[year % 2], date(year, 1, 1), date(year, 12, 31))
    for n in range(12):
        activity = factory.activity(start=date(2022, 6, 1 + n), status=Status.PLANNED)
        factory.work_plan_item(plan.id, activity_ids=(activity.id, first.id))
    with count_queries() as changed:
        client.get(pages[0])  # the header's Chair is read again once the chairmanships change
    for page in pages:
        client.get(page)  # what is kept until the data changes (the item's choice) read again
    with count_queries() as many:
        for page in pages:
            client.get(page)
    assert many.count == few.count
    assert sum("FROM chairmanships" in s for s in changed.statements) >= 1


# The demo ---------------------------------------------------------------------------------


def test_demo_chairmanships_follow_the_texts_and_load_once(app, runner):
    result = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert "Demo chairmanships: 5 added." in result.output
    assert "Demo chairmanships: 0 added." in runner.invoke(args=["kpplan", "seed", "--demo"]).output
    with app.app_context():
        # Germany, named "upcoming" by the texts, chairs from an illustrative 1 March.
        german = german_term_start(clock.today())
        assert german.month == 3 and german.day == 1 and german <= clock.today()
        chairs = db.session.scalars(select(Chairmanship).order_by(Chairmanship.id)).all()
        assert [(c.state.name, c.start_date, c.end_date) for c in chairs] == [
            ("Italy", date(2018, 1, 1), date(2019, 3, 7)),
            ("Eritrea", date(2019, 3, 7), date(2020, 3, 6)),
            ("The Netherlands", date(2020, 3, 6), date(2022, 3, 22)),
            ("South Sudan", date(2022, 3, 22), german),
            ("Germany", german, None),
        ]
        assert "Illustrative" in chairs[4].note and "Illustrative" in chairs[3].note
        assert chairs[2].handover_activity.title.startswith("7th Senior Officials' Meeting")
        assert services.alternation_warnings(chairs) == {}
        plan = chairs[3].work_plan
        assert plan.title == "Work Plan 2022/23" and "Illustrative" in plan.summary
        assert all(item.note == "Illustrative item." for item in plan.items)
        assert [i.status_on(TODAY) for i in plan.items] == [ItemStatus.HELD] * 4 + [ItemStatus.LATE]
