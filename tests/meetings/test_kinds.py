"""Every kind of activity is one entry of ActivityKind, and every part of kpplan that
depends on a kind reads it from there: walk each kind through each of them, so that a kind
added without what one of them needs fails here rather than as a KeyError on a page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from flask_migrate import upgrade

from kpplan.chair.forms import WorkPlanItemForm
from kpplan.chair.models import WorkPlanItem
from kpplan.core.extensions import db
from kpplan.meetings.forms import ActivityForm
from kpplan.meetings.kinds import REPORT_ORDER, ActivityKind
from kpplan.meetings.models import Activity, Status
from kpplan.reminders.planner import tick
from tests.schema import allowed_values

KINDS = list(ActivityKind)


def test_each_kind_is_a_complete_entry_of_its_own():
    assert len({k.label for k in KINDS}) == len(KINDS)
    assert len({k.info.plural for k in KINDS}) == len(KINDS)
    assert len({k.info.code for k in KINDS}) == len(KINDS)
    assert len({k.info.colour.upper() for k in KINDS}) == len(KINDS)
    assert sorted(k.info.report_order for k in KINDS) == list(range(1, len(KINDS) + 1))
    for kind in KINDS:
        assert ActivityKind(kind.value) is kind
        assert kind.label and kind.info.plural != kind.label
        assert re.fullmatch(r"[A-Z]{2,4}", kind.info.code)
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", kind.info.colour)
        assert kind.info.milestones
        assert kind.summary_name(1) != kind.summary_name(2)
    # The secretariat's own order: working groups and political meetings first.
    assert REPORT_ORDER[:4] == (
        ActivityKind.WORKING_GROUP,
        ActivityKind.STEERING_COMMITTEE,
        ActivityKind.SENIOR_OFFICIALS,
        ActivityKind.MINISTERIAL,
    )


def test_the_forms_offer_every_kind_by_its_label(app):
    with app.test_request_context():
        for form in (ActivityForm(), WorkPlanItemForm()):
            assert [(c.value, c.label) for c in form.kind.choices] == [
                (k.value, k.label) for k in KINDS
            ]


def test_the_database_allows_exactly_the_kinds(empty_app):
    """The migrations' CHECK constraints, the models' enums and the entries agree: a new kind
    needs a migration, and this says so."""
    values = {k.value for k in KINDS}
    assert set(Activity.__table__.c.kind.type.enums) == values
    assert set(WorkPlanItem.__table__.c.kind.type.enums) == values
    with empty_app.app_context():
        upgrade()
        assert allowed_values("activities", "activity_kind") == values
        assert allowed_values("work_plan_items", "activity_kind") == values


def test_every_kind_is_planned_recorded_counted_drawn_and_reminded(
    app, client, people, login_as, factory
):
    login_as(people["secretariat"])

    # Planned through the form: each kind starts with its own preparation timeline.
    for kind in KINDS:
        response = client.post(
            "/activities/new",
            data={
                "kind": kind.value,
                "title": f"{kind.label} planned",
                "start_date": "2027-07-12",
                "end_date": "2027-07-13",
                "format": "virtual",
                "country": "0",
                "host": "0",
                "chair": "0",
            },
        )
        assert response.status_code == 302, kind
        activity_id = int(response.headers["Location"].rsplit("/", 1)[1])
        with app.app_context():
            activity = db.session.get(Activity, activity_id)
            assert activity.kind is kind
            assert [m.name for m in activity.milestones] == [t.name for t in kind.info.milestones]

    # Held in March 2026, two of each kind; the first gets a recommendation, coded by kind.
    held = {kind: [] for kind in KINDS}
    for kind in KINDS:
        for n in (1, 2):
            held[kind].append(
                factory.activity(title=f"{kind.label} {n}", kind=kind, status=Status.HELD)
            )
        recommendation = factory.recommendation(held[kind][0].id)
        assert recommendation.code == f"{kind.info.code}-2026-03/R1"

    # Counted, in the summary's order and words.
    page = html.unescape(client.get("/reports/statistics?from=2026-03-01&to=2026-03-31").text)
    named = [f"2 {kind.summary_name(2)}" for kind in REPORT_ORDER]
    assert f"In March 2026, {', '.join(named[:-1])} and {named[-1]} have resulted in" in page
    for kind in KINDS:
        assert f'<th scope="row">{kind.label}</th>' in page

    # Drawn on the timeline, a lane per kind in its colour, in the same order.
    page = html.unescape(client.get("/reports/timeline?from=2026-01-01&to=2026-12-31").text)
    lanes = re.findall(r'<text x="6" y="[\d.]+" class="tl-lane">([^<]+)</text>', page)
    assert lanes == [kind.label for kind in REPORT_ORDER]
    for kind in KINDS:
        assert f'fill="{kind.info.colour}"' in page

    # Reminded: with the outcomes recorded, only kinds that expect recommendations are
    # missing them (ended 11 March; the rule asks 14 days after).
    with app.app_context():
        for kind in KINDS:
            for activity in held[kind]:
                db.session.get(Activity, activity.id).outcome_summary = "Agreed."
        db.session.commit()
        report = tick(datetime(2026, 3, 30, 10, tzinfo=UTC), dry_run=True)
    reminded = {r.subject_key for r in report.planned if r.rule == "outcomes_missing"}
    assert reminded == {
        f"activity:{held[kind][1].id}" for kind in KINDS if kind.info.expects_recommendations
    }
    assert {k for k in KINDS if k.info.expects_recommendations} == {
        ActivityKind.STEERING_COMMITTEE,
        ActivityKind.SENIOR_OFFICIALS,
        ActivityKind.MINISTERIAL,
        ActivityKind.THEMATIC_MEETING,
        ActivityKind.THEMATIC_WORKSHOP,
    }


def test_the_summary_names_trainings_as_the_process_does():
    assert ActivityKind.TRAINING.label == "Training"
    assert ActivityKind.TRAINING.summary_name(1) == "Regional Training"
    assert ActivityKind.TRAINING.summary_name(3) == "Regional Trainings"
    assert ActivityKind.WEBINAR.summary_name(1) == "Webinar"
    assert ActivityKind.WEBINAR.summary_name(3) == "Webinars"
