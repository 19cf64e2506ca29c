"""Changing chairmanships and work plans. Each function validates, changes, flushes and audits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kpplan.audit import services as audit
from kpplan.chair.models import (
    Chairmanship,
    TargetPrecision,
    WorkPlan,
    WorkPlanItem,
    in_order,
)
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.names import in_sentence
from kpplan.directory.models import Region, State, User
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity

CHAIRMANSHIP_FIELDS = ("state", "start_date", "end_date", "handover_activity", "note")
WORK_PLAN_FIELDS = ("title", "summary")
ITEM_FIELDS = (
    "kind",
    "theme",
    "target_date",
    "target_precision",
    "lead_state",
    "host_state",
    "note",
)
# Two Chairs may share the days of the handover (a Senior Officials' Meeting), no more.
MAX_HANDOVER_DAYS = 3
ALTERNATION_RULE = "The Chairs of the Process alternate between an African and a European state"


def _apply(obj: Any, allowed: tuple[str, ...], values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if name not in allowed:
            raise ValueError(f"{name} cannot be changed here")
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _chairmanship_snapshot(chairmanship: Chairmanship) -> dict[str, Any]:
    """The audited fields, with the state and the handover by name for the history."""
    data = audit.snapshot(chairmanship, ("start_date", "end_date", "note", "version"))
    data["state"] = chairmanship.state.name
    handover = chairmanship.handover_activity
    data["handover"] = f"{handover.title} ({handover.start_date})" if handover else None
    return data


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


# Chairmanships ------------------------------------------------------------------------


def alternation_warnings(chairmanships: list[Chairmanship]) -> dict[int, str]:
    """For each chairmanship that breaks the alternation, a warning saying why, by id.

    The Chairs alternate between an African and a European state. This is a warning, never
    a refusal: the Process may agree to an exception, and the record must be able to say so.
    """
    warnings: dict[int, str] = {}
    ordered = in_order(chairmanships)
    for previous, current in zip([None, *ordered], ordered, strict=False):
        region = current.state.region
        if region not in (Region.AFRICA, Region.EUROPE):
            warnings[current.id] = (
                f"{current.state.name} is neither an African nor a European state. "
                f"{ALTERNATION_RULE}."
            )
        elif previous is not None and previous.state.region is region:
            adjective = "African" if region is Region.AFRICA else "European"
            warnings[current.id] = (
                f"{current.state.name} follows {previous.state.name}, and both are {adjective}. "
                f"{ALTERNATION_RULE}: check the order, or keep it if the Process agreed to an "
                "exception."
            )
    return warnings


def alternation_warning_for(chairmanship: Chairmanship) -> str | None:
    """The alternation warning of one chairmanship among all of them, if any."""
    everyone = db.session.scalars(
        select(Chairmanship).options(joinedload(Chairmanship.state))
    ).all()
    return alternation_warnings(everyone).get(chairmanship.id)


def _check_chairmanship(
    state: State | None,
    start: date | None,
    end: date | None,
    handover: Activity | None,
    ignore_id: int | None,
) -> None:
    if state is None:
        raise DomainError("Choose the state that holds the Chair.", "state")
    if not state.is_member:
        raise DomainError(f"{state.name} is not a member state: only members chair.", "state")
    if end is not None and start is None:
        raise DomainError("Give the start date before the end date.", "start_date")
    if start is not None and end is not None and end < start:
        raise DomainError("The end date comes before the start date.", "end_date")
    if handover is not None and handover.kind is not ActivityKind.SENIOR_OFFICIALS:
        raise DomainError(
            "The Chair is handed over at a Senior Officials' Meeting: choose one.",
            "handover_activity",
        )
    if start is None:
        return
    others = db.session.scalars(
        select(Chairmanship).where(
            Chairmanship.start_date.is_not(None),
            Chairmanship.id != (ignore_id or 0),
        )
    ).all()
    for other in others:
        if other.start_date == start:
            raise DomainError(
                f"The Chairmanship of {in_sentence(other.state.name)} starts on the same day.",
                "start_date",
            )
        _first_start, first_end, second_start, second = (
            (other.start_date, other.end_date, start, None)
            if other.start_date < start
            else (start, end, other.start_date, other)
        )
        if first_end is None:
            # An open term ends when the next Chair takes over.
            continue
        shared = (first_end - second_start).days + 1
        if shared > MAX_HANDOVER_DAYS:
            who = in_sentence(other.state.name)
            field = "start_date" if second is None else "end_date"
            raise DomainError(
                f"This period overlaps the Chairmanship of {who} by {shared} days; two Chairs "
                f"share at most the {MAX_HANDOVER_DAYS} days of a handover.",
                field,
            )


def create_chairmanship(
    actor: User | None,
    *,
    state: State | None,
    start_date: date | None,
    end_date: date | None = None,
    handover_activity: Activity | None = None,
    note: str | None = None,
) -> Chairmanship:
    """Record a chairmanship. Raises ``DomainError`` for dates out of order, a period that
    overlaps another beyond a handover, a non-member state or a handover that is not a SOM.

    Breaking the African–European alternation is allowed: see ``alternation_warnings``.
    """
    _check_chairmanship(state, start_date, end_date, handover_activity, None)
    chairmanship = Chairmanship(
        state=state,
        start_date=start_date,
        end_date=end_date,
        handover_activity=handover_activity,
        note=_text(note),
    )
    db.session.add(chairmanship)
    db.session.flush()
    audit.record(
        actor,
        "created",
        chairmanship,
        f"Added the {chairmanship.title}",
        None,
        _chairmanship_snapshot(chairmanship),
    )
    return chairmanship


def update_chairmanship(
    actor: User | None,
    chairmanship: Chairmanship,
    version: int | None,
    *,
    state: State | None,
    start_date: date | None,
    end_date: date | None,
    handover_activity: Activity | None,
    note: str | None,
) -> Chairmanship:
    """Change a chairmanship; raises ``StaleEdit`` for a stale page, ``DomainError`` as
    ``create_chairmanship`` does."""
    audit.ensure_current(chairmanship, version)
    _check_chairmanship(state, start_date, end_date, handover_activity, chairmanship.id)
    before = _chairmanship_snapshot(chairmanship)
    changed = _apply(
        chairmanship,
        CHAIRMANSHIP_FIELDS,
        {
            "state": state,
            "start_date": start_date,
            "end_date": end_date,
            "handover_activity": handover_activity,
            "note": _text(note),
        },
    )
    if changed:
        db.session.flush()
        audit.record(
            actor,
            "updated",
            chairmanship,
            f"Edited the {chairmanship.title}",
            before,
            _chairmanship_snapshot(chairmanship),
        )
    return chairmanship


# Work plans ---------------------------------------------------------------------------


def create_work_plan(
    actor: User | None, chairmanship: Chairmanship, title: str, summary: str | None = None
) -> WorkPlan:
    """Give a chairmanship its work plan; raises ``DomainError`` if it has one or no title."""
    if not (title or "").strip():
        raise DomainError('Give the work plan a title, such as "Work Plan 2022/23".', "title")
    exists = db.session.scalar(
        select(WorkPlan.id).where(WorkPlan.chairmanship_id == chairmanship.id)
    )
    if exists:
        raise DomainError(f"The {chairmanship.title} has a work plan already.", "title")
    plan = WorkPlan(chairmanship=chairmanship, title=title.strip(), summary=_text(summary))
    db.session.add(plan)
    db.session.flush()
    audit.record(
        actor,
        "created",
        plan,
        f"{chairmanship.title}: added {plan.title}",
        None,
        audit.snapshot(plan, (*WORK_PLAN_FIELDS, "version")),
    )
    return plan


def update_work_plan(
    actor: User | None, plan: WorkPlan, version: int | None, title: str, summary: str | None
) -> WorkPlan:
    """Rename a work plan or change its summary; raises ``StaleEdit`` for a stale page."""
    audit.ensure_current(plan, version)
    if not (title or "").strip():
        raise DomainError("Give the work plan a title.", "title")
    fields = (*WORK_PLAN_FIELDS, "version")
    before = audit.snapshot(plan, fields)
    if _apply(plan, WORK_PLAN_FIELDS, {"title": title.strip(), "summary": _text(summary)}):
        db.session.flush()
        audit.record(
            actor, "updated", plan, f"Edited {plan.title}", before, audit.snapshot(plan, fields)
        )
    return plan


# Items --------------------------------------------------------------------------------


def _item_values(
    kind: ActivityKind,
    theme: str,
    target_date: date | None,
    target_precision: TargetPrecision,
    lead_state: State | None,
    host_state: State | None,
    note: str | None,
) -> dict[str, Any]:
    if not (theme or "").strip():
        raise DomainError("Say what the item is about: its theme.", "theme")
    if target_date is None:
        raise DomainError("Give a target: a date (2022-07-12) or a quarter (2022-Q3).", "target")
    if target_precision is TargetPrecision.QUARTER and (
        target_date.day != 1 or target_date.month not in (1, 4, 7, 10)
    ):
        raise ValueError("a quarter's target_date is the first day of the quarter")
    for state, field in ((lead_state, "lead_state"), (host_state, "host_state")):
        if state is not None and not state.is_member:
            raise DomainError(f"{state.name} is not a member state.", field)
    return {
        "kind": kind,
        "theme": theme.strip(),
        "target_date": target_date,
        "target_precision": target_precision,
        "lead_state": lead_state,
        "host_state": host_state,
        "note": _text(note),
    }


def _item_snapshot(item: WorkPlanItem) -> dict[str, Any]:
    data = audit.snapshot(
        item,
        ("kind", "theme", "target_date", "target_precision", "note", "dropped_reason", "version"),
    )
    data["lead_state"] = item.lead_state.name if item.lead_state else None
    data["host_state"] = item.host_state.name if item.host_state else None
    data["activities"] = [f"{a.title} ({a.start_date})" for a in item.activities]
    return data


def add_item(actor: User | None, plan: WorkPlan, **fields: Any) -> WorkPlanItem:
    """Add an item to a work plan. Takes ``kind``, ``theme``, ``target_date``,
    ``target_precision``, ``lead_state``, ``host_state``, ``note``; raises ``DomainError``
    for a missing theme or target or a lead or host that is not a member state."""
    item = WorkPlanItem(work_plan=plan, **_item_values(**fields))
    db.session.add(item)
    db.session.flush()
    audit.record(
        actor,
        "created",
        item,
        f"{plan.title}: added {item.kind.label} on {item.theme}",
        None,
        _item_snapshot(item),
    )
    return item


def update_item(
    actor: User | None, item: WorkPlanItem, version: int | None, **fields: Any
) -> WorkPlanItem:
    """Change an item; the same fields as ``add_item``. Raises ``StaleEdit``/``DomainError``."""
    audit.ensure_current(item, version)
    values = _item_values(**fields)
    before = _item_snapshot(item)
    if _apply(item, ITEM_FIELDS, values):
        db.session.flush()
        audit.record(
            actor,
            "updated",
            item,
            f"{item.work_plan.title}: edited {item.theme}",
            before,
            _item_snapshot(item),
        )
    return item


def link_activity(actor: User | None, item: WorkPlanItem, activity: Activity) -> WorkPlanItem:
    """Record that ``activity`` delivers ``item``; raises ``DomainError`` if it does already."""
    if any(a.id == activity.id for a in item.activities):
        raise DomainError("This activity delivers the item already.", "activity")
    before = _item_snapshot(item)
    item.activities.append(activity)
    db.session.flush()
    audit.record(
        actor,
        "linked",
        item,
        f"{item.theme}: delivered by {activity.title}",
        before,
        _item_snapshot(item),
    )
    return item


def unlink_activity(actor: User | None, item: WorkPlanItem, activity: Activity) -> WorkPlanItem:
    """Record that ``activity`` no longer delivers ``item``; ``DomainError`` if it did not."""
    if not any(a.id == activity.id for a in item.activities):
        raise DomainError("This activity does not deliver the item.", "activity")
    before = _item_snapshot(item)
    item.activities.remove(activity)
    db.session.flush()
    audit.record(
        actor,
        "unlinked",
        item,
        f"{item.theme}: no longer delivered by {activity.title}",
        before,
        _item_snapshot(item),
    )
    return item


def drop_item(
    actor: User | None, item: WorkPlanItem, version: int | None, reason: str | None
) -> WorkPlanItem:
    """Give an item up, saying why; raises ``DomainError`` without a reason, ``StaleEdit``
    for a stale page."""
    audit.ensure_current(item, version)
    reason = _text(reason)
    if reason is None:
        raise DomainError("Say why the item is dropped.", "reason")
    before = _item_snapshot(item)
    item.dropped_reason = reason
    db.session.flush()
    audit.record(
        actor, "dropped", item, f"{item.theme}: dropped ({reason})", before, _item_snapshot(item)
    )
    return item


def reinstate_item(actor: User | None, item: WorkPlanItem, version: int | None) -> WorkPlanItem:
    """Take a dropped item up again; its status follows its activities once more."""
    audit.ensure_current(item, version)
    if item.dropped_reason is None:
        raise DomainError("This item is not dropped.", "reason")
    before = _item_snapshot(item)
    item.dropped_reason = None
    db.session.flush()
    audit.record(
        actor, "reinstated", item, f"{item.theme}: taken up again", before, _item_snapshot(item)
    )
    return item
