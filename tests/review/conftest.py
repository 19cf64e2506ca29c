"""Fixtures of the review's tests: a Chair's term with its work plan and follow-ups."""

from __future__ import annotations

from datetime import date

import pytest

from kpplan.meetings.models import Status
from kpplan.recommendations.statuses import FollowUpStatus
from tests.review.helpers import FUTURE


@pytest.fixture
def term(app, factory):
    """South Sudan's term from 2024, with one work-plan item of each status, follow-ups
    of Kenya and Italy, and an overdue one."""
    chair = factory.chairmanship("South Sudan", date(2024, 1, 1))
    plan = factory.work_plan(chair.id, "Work Plan 2024/25")
    on_time = factory.activity(
        title="Training in Juba", start=date(2024, 5, 10), status=Status.HELD
    )
    late = factory.activity(title="Meeting in Cairo", start=date(2024, 6, 20), status=Status.HELD)
    coming = factory.activity(title="Workshop in Nairobi", start=date(2035, 2, 1))
    items = {
        "held on time": factory.work_plan_item(
            plan.id, "Border management", target=date(2024, 4, 1), activity_ids=(on_time.id,)
        ),
        "held late": factory.work_plan_item(
            plan.id, "Law enforcement", target=date(2024, 1, 1), activity_ids=(late.id,)
        ),
        "scheduled": factory.work_plan_item(
            plan.id, "Legal pathways", target=date(2035, 1, 1), activity_ids=(coming.id,)
        ),
        "not scheduled": factory.work_plan_item(plan.id, "Climate", target=date(2035, 4, 1)),
        "late": factory.work_plan_item(plan.id, "Data", target=date(2024, 7, 1)),
        "dropped": factory.work_plan_item(
            plan.id, "Return", target=date(2024, 10, 1), dropped_reason="No host."
        ),
    }
    before = factory.activity(title="Before the term", start=date(2023, 6, 1), status=Status.HELD)
    met = factory.recommendation(
        late.id, states=("Kenya", "Italy"), target=FUTURE, themes=("RD3", "JVAP4")
    )
    overdue = factory.recommendation(
        on_time.id, states=("Kenya",), target=date(2024, 9, 30), themes=("RD5",)
    )
    factory.update(factory.follow_up_of(met, "Kenya").id, FollowUpStatus.IMPLEMENTED)
    return {
        "chair": chair,
        "items": items,
        "met": met,
        "overdue": overdue,
        "coming": coming,
        "before": before,
        "activities": (on_time, late, coming),
    }
