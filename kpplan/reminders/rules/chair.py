"""The rule of the Chair's work plan: items of the current Chair's plan that slip."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from kpplan.chair.models import Chairmanship, ItemStatus, WorkPlan, WorkPlanItem
from kpplan.reminders.rules.recipients import Recipients, chair_delegate_ids
from kpplan.reminders.rules.registry import PlannedReminder, RuleSettings, rule


@rule(
    "work_plan_item_late",
    "A work-plan item of the Chair is slipping",
    "To the Chair's delegates and the secretariat, once for each target, when an item of "
    "the current Chair's work plan is late: its target has passed, or its activities are "
    "scheduled after it.",
)
def work_plan_item_late(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    chairmanships = [
        c
        for c in session.scalars(
            select(Chairmanship)
            # Only the terms that may cover today: the past ones' plans are not loaded.
            .where(
                Chairmanship.start_date <= today,
                or_(Chairmanship.end_date.is_(None), Chairmanship.end_date >= today),
            )
            .options(
                joinedload(Chairmanship.state),
                joinedload(Chairmanship.work_plan)
                .selectinload(WorkPlan.items)
                .selectinload(WorkPlanItem.activities),
            )
        ).unique()
        if c.covers(today) and c.work_plan is not None
    ]
    recipients = Recipients(session)
    for chairmanship in chairmanships:
        late = [
            item
            for item in chairmanship.work_plan.items
            if item.status_on(today) is ItemStatus.LATE
        ]
        if not late:
            continue
        delegates = chair_delegate_ids(session, chairmanship.state_id)
        for item in late:
            for user_id in dict.fromkeys([*delegates, *recipients.staff()]):
                yield PlannedReminder(
                    rule="work_plan_item_late",
                    subject_key=f"work_plan_item:{item.id}",
                    period_key=f"due:{item.due_by.isoformat()}",
                    user_id=user_id,
                    title=f"Slipping: {item.theme} ({chairmanship.work_plan.title})",
                    message=(
                        f"The item “{item.theme}” ({item.kind.label}) of "
                        f"{chairmanship.work_plan.title} was to be delivered by "
                        f"{item.target_label} and is not held: schedule its activity, move its "
                        "target, or drop it with a reason."
                    ),
                    due_since=item.due_by + timedelta(days=1),
                    link_endpoint="chair.item",
                    link_values={"item_id": item.id},
                    link_label="Open the work-plan item",
                )
