"""Read paths of the chairmanship and work-plan pages, each eager-loading what it shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.chair.models import (
    Chairmanship,
    WorkPlan,
    WorkPlanItem,
    in_order,
    work_plan_item_activities,
)
from kpplan.core.cache import memoised, watch
from kpplan.core.dates import day_range
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity, Status


def chairmanships() -> list[Chairmanship]:
    """Every chairmanship, newest first (the undated upcoming ones at the top), with its
    state, handover and work plan: one query."""
    found = db.session.scalars(
        select(Chairmanship).options(
            joinedload(Chairmanship.state),
            joinedload(Chairmanship.handover_activity),
            joinedload(Chairmanship.work_plan),
        )
    ).all()
    return list(reversed(in_order(list(found))))


# The delivering activities in a query of their own: joined, the link table would be read
# whole (SQLite materialises the nested join of a many-to-many).
_ITEM_OPTIONS = (
    joinedload(WorkPlanItem.lead_state),
    joinedload(WorkPlanItem.host_state),
    selectinload(WorkPlanItem.activities),
)


def chairmanship_page(chairmanship_id: int) -> Chairmanship | None:
    """One chairmanship with its work plan and the plan's items (one query), and the items'
    activities (a second one)."""
    return (
        db.session.scalars(
            select(Chairmanship)
            .where(Chairmanship.id == chairmanship_id)
            .options(
                joinedload(Chairmanship.state),
                joinedload(Chairmanship.handover_activity),
                joinedload(Chairmanship.work_plan)
                .joinedload(WorkPlan.items)
                .options(*_ITEM_OPTIONS),
            )
        )
        .unique()
        .one_or_none()
    )


def item_page(item_id: int) -> WorkPlanItem | None:
    """One work-plan item with its plan, chairmanship and states, and its delivering
    activities (a second query)."""
    return db.session.scalar(
        select(WorkPlanItem)
        .where(WorkPlanItem.id == item_id)
        .options(
            joinedload(WorkPlanItem.work_plan)
            .joinedload(WorkPlan.chairmanship)
            .joinedload(Chairmanship.state),
            *_ITEM_OPTIONS,
        )
    )


def chairmanship_on(day: date) -> Chairmanship | None:
    """The chairmanship that covers ``day``: the latest to have started by then, if it has
    not ended before (so the incoming Chair counts on a shared handover day)."""
    return db.session.scalar(
        select(Chairmanship)
        .where(
            Chairmanship.start_date <= day,
            or_(Chairmanship.end_date.is_(None), Chairmanship.end_date >= day),
        )
        .options(joinedload(Chairmanship.state))
        .order_by(Chairmanship.start_date.desc(), Chairmanship.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class ChairLine:
    """The current and the upcoming Chair, as plain values that can outlive the session."""

    current_id: int | None = None
    current: str | None = None
    current_since: date | None = None
    upcoming_id: int | None = None
    upcoming: str | None = None
    upcoming_from: date | None = None


def chair_line(today: date) -> ChairLine:
    """Who chairs on ``today`` and who comes next, in one query.

    The current Chair covers today; the upcoming one is the first to start after today,
    or else a Chair designated without a start date.
    """
    rows = db.session.scalars(
        select(Chairmanship)
        .where(
            or_(
                Chairmanship.start_date.is_(None),
                Chairmanship.end_date.is_(None),
                Chairmanship.end_date >= today,
            )
        )
        .options(joinedload(Chairmanship.state))
    ).all()
    started = [c for c in rows if c.covers(today)]
    current = max(started, key=lambda c: (c.start_date, c.id)) if started else None
    later = [c for c in rows if c.start_date is None or c.start_date > today]
    upcoming = (
        min(later, key=lambda c: (c.start_date is None, c.start_date or date.max, c.id))
        if later
        else None
    )
    return ChairLine(
        current_id=current.id if current else None,
        current=current.state.name if current else None,
        current_since=current.start_date if current else None,
        upcoming_id=upcoming.id if upcoming else None,
        upcoming=upcoming.state.name if upcoming else None,
        upcoming_from=upcoming.start_date if upcoming else None,
    )


@dataclass(frozen=True)
class DeliveredItem:
    """A work-plan item an activity delivers, as the activity's page names it."""

    id: int
    theme: str
    work_plan_title: str
    chair_state_name: str


@dataclass(frozen=True)
class ChairOfActivity:
    """Under which Chair an activity falls and what it delivers of their work plans, as
    plain values (kept between requests: ``chair.views.chair_of_activity``)."""

    under_id: int | None
    under_title: str | None
    delivers: tuple[DeliveredItem, ...]


def chair_of_activity(activity_id: int, start: date) -> ChairOfActivity:
    """The chairmanship that covers an activity starting on ``start`` and the work-plan
    items the activity delivers (by target date), with their plans' titles and Chairs'
    states: two queries of columns."""
    under = chairmanship_on(start)
    delivers = db.session.execute(
        select(WorkPlanItem.id, WorkPlanItem.theme, WorkPlan.title, State.name)
        .join(work_plan_item_activities, work_plan_item_activities.c.item_id == WorkPlanItem.id)
        .join(WorkPlan, WorkPlan.id == WorkPlanItem.work_plan_id)
        .join(Chairmanship, Chairmanship.id == WorkPlan.chairmanship_id)
        .join(State, State.id == Chairmanship.state_id)
        .where(work_plan_item_activities.c.activity_id == activity_id)
        .order_by(WorkPlanItem.target_date, WorkPlanItem.id)
    ).all()
    return ChairOfActivity(
        under_id=under.id if under is not None else None,
        under_title=under.title if under is not None else None,
        delivers=tuple(DeliveredItem(*row) for row in delivers),
    )


def handover_candidates() -> list[Activity]:
    """Senior Officials' Meetings, newest first, to name the one where a Chair took over."""
    return db.session.scalars(
        select(Activity)
        .where(Activity.kind == ActivityKind.SENIOR_OFFICIALS)
        .order_by(Activity.start_date.desc(), Activity.id.desc())
    ).all()


# The choice of activities to link changes with the activities only (the item's linked ones,
# its window's dates are in its key): a status update, a change of another item keep it.
_CANDIDATES_READ = watch(Activity)


def link_candidates(item: WorkPlanItem, limit: int = 400) -> list[tuple[int, str]]:
    """Activities that may deliver an item: not cancelled, not linked yet, from a year
    before its chairmanship began (or its target) to two years after its target, as the
    choice shows them (id, and their first day and title), newest first; kept until an
    activity changes."""
    chairmanship = item.work_plan.chairmanship
    start = chairmanship.start_date or item.target_date
    linked = tuple(sorted(a.id for a in item.activities))
    return memoised(
        "work_plan_item_link_candidates",
        (start, item.due_by, linked, limit),
        _CANDIDATES_READ,
        lambda: _link_candidates(start, item.due_by, linked, limit),
    )


def _link_candidates(
    start: date, due_by: date, linked: tuple[int, ...], limit: int
) -> list[tuple[int, str]]:
    query = (
        select(Activity.id, Activity.title, Activity.start_date, Activity.date_precision)
        .where(
            Activity.status != Status.CANCELLED,
            Activity.start_date.between(start - timedelta(days=365), due_by + timedelta(days=730)),
        )
        .order_by(Activity.start_date.desc(), Activity.id.desc())
        .limit(limit)
    )
    if linked:
        query = query.where(Activity.id.not_in(linked))
    return [
        (a.id, f"{day_range(a.start_date, a.start_date, a.date_precision)} — {a.title}")
        for a in db.session.execute(query)
    ]
