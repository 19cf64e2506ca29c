"""The progress of a Chair's work plan: each item's status, held on time or late."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from kpplan.chair.models import HELD_STATUSES, Chairmanship, ItemStatus, WorkPlanItem

# The order of the stacked bar: delivered first, then what may still come, then the rest.
PROGRESS_ORDER = ("held_on_time", "held_late", "scheduled", "not_scheduled", "late", "dropped")


PROGRESS_LABELS = {
    "held_on_time": "Held by the target",
    "held_late": "Held after the target",
    "scheduled": "Scheduled",
    "not_scheduled": "Not scheduled",
    "late": "Late, not held",
    "dropped": "Dropped",
}


@dataclass
class ItemProgress:
    item: WorkPlanItem
    status: ItemStatus
    held_on: date | None = None

    @property
    def category(self) -> str:
        if self.status is ItemStatus.HELD:
            on_time = self.held_on is not None and self.held_on <= self.item.due_by
            return "held_on_time" if on_time else "held_late"
        return self.status.value

    @property
    def on_time(self) -> bool | None:
        """For a held item: was it held by its target? None for the others."""
        if self.status is not ItemStatus.HELD:
            return None
        return self.category == "held_on_time"

    @property
    def delivered(self) -> bool:
        return self.status in (ItemStatus.HELD, ItemStatus.DROPPED)


@dataclass
class WorkPlanProgress:
    items: list[ItemProgress] = field(default_factory=list)

    @cached_property
    def counts(self) -> dict[str, int]:
        # Counted once: the page reads it for each card, segment and row of its table.
        counts = dict.fromkeys(PROGRESS_ORDER, 0)
        for entry in self.items:
            counts[entry.category] += 1
        return counts

    @property
    def planned(self) -> int:
        return len(self.items)

    @property
    def held(self) -> int:
        counts = self.counts
        return counts["held_on_time"] + counts["held_late"]

    @property
    def not_delivered(self) -> list[ItemProgress]:
        """Items neither held nor dropped: what the incoming Chair inherits."""
        return [e for e in self.items if not e.delivered]


def work_plan_progress(chairmanship: Chairmanship, today: date) -> WorkPlanProgress:
    """Each item of the Chair's work plan with its status on ``today`` and, once held, the
    day its first held delivering activity began (to tell on time from late). The plan,
    items and activities must be loaded (``chair.queries.chairmanship_page``)."""
    plan = chairmanship.work_plan
    if plan is None:
        return WorkPlanProgress()
    entries = []
    for item in plan.items:
        held = [a.start_date for a in item.activities if a.status in HELD_STATUSES]
        entries.append(ItemProgress(item, item.status_on(today), min(held) if held else None))
    return WorkPlanProgress(entries)
