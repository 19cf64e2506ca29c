"""Chairmanships, their work plans and the items of a plan."""

from __future__ import annotations

from datetime import date

from kpplan.chair.models import Chairmanship, TargetPrecision, WorkPlan, WorkPlanItem
from kpplan.core.extensions import db
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity
from tests.factories.base import BaseFactory
from tests.factories.directory import state_named


class ChairFactory(BaseFactory):
    def chairmanship(
        self,
        state: str = "South Sudan",
        start: date | None = date(2022, 3, 22),
        end: date | None = None,
    ) -> Chairmanship:
        with self.app.app_context():
            return self._save(
                Chairmanship(state_id=state_named(state).id, start_date=start, end_date=end)
            )

    def work_plan(self, chairmanship_id: int, title: str = "Work Plan 2022/23") -> WorkPlan:
        with self.app.app_context():
            return self._save(WorkPlan(chairmanship_id=chairmanship_id, title=title))

    def work_plan_item(
        self,
        work_plan_id: int,
        theme: str | None = None,
        kind: ActivityKind = ActivityKind.THEMATIC_MEETING,
        target: date = date(2026, 7, 1),
        quarter: bool = True,
        activity_ids: tuple[int, ...] = (),
        dropped_reason: str | None = None,
    ) -> WorkPlanItem:
        """An item of a work plan; with ``quarter`` its target is the quarter that
        ``target`` (a quarter's first day) begins."""
        self.count += 1
        with self.app.app_context():
            item = WorkPlanItem(
                work_plan_id=work_plan_id,
                kind=kind,
                theme=theme or f"Theme {self.count}",
                target_date=target,
                target_precision=TargetPrecision.QUARTER if quarter else TargetPrecision.DAY,
                dropped_reason=dropped_reason,
            )
            for activity_id in activity_ids:
                item.activities.append(db.session.get(Activity, activity_id))
            db.session.add(item)
            db.session.commit()
            db.session.refresh(item)
            db.session.expunge_all()
            return item
