"""Planning and recording activities. Each function validates, changes, flushes and audits."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from kpplan.audit import services as audit
from kpplan.core import clock
from kpplan.core.db import utcnow
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.names import in_sentence
from kpplan.directory.models import Organisation, State, User
from kpplan.meetings import lifecycle
from kpplan.meetings.models import (
    Activity,
    ActivityLink,
    ActivityOrganisation,
    ActivityStateRole,
    Milestone,
    OrganisationRole,
    Relation,
    StateRole,
    Status,
)

FIELDS = (
    "kind",
    "title",
    "theme",
    "objectives",
    "start_date",
    "end_date",
    "date_precision",
    "city",
    "country_id",
    "venue",
    "format",
    "languages",
    "participants",
    "countries_represented",
    "organisations_represented",
    "outcome_summary",
    "conclusions",
    "action_points",
    "series_title",
    "series_position",
    "series_size",
    "record_note",
    "other_process",
)
AUDITED = (*FIELDS, "status", "status_reason", "state_roles", "organisations", "version")

# A state holds one role per activity, except that a host may also chair.
COMPATIBLE = {frozenset({StateRole.HOST, StateRole.CHAIR})}
SINGLE = (StateRole.HOST, StateRole.CHAIR)


def _snapshot(activity: Activity) -> dict[str, Any]:
    data = audit.snapshot(activity, (*FIELDS, "status", "status_reason", "version"))
    data["state_roles"] = sorted(f"{r.role.value}:{r.state.name}" for r in activity.state_roles)
    data["organisations"] = sorted(
        f"{o.role.value}:{o.organisation.display_name}" for o in activity.organisations
    )
    return data


def check_state_roles(roles: list[tuple[State, StateRole]]) -> None:
    """Raise ``DomainError`` unless the roles follow the rules of the Process."""
    by_state: dict[int, set[StateRole]] = {}
    for state, role in roles:
        if not state.is_member:
            raise DomainError(
                f"{in_sentence(state.name, start=True)} is not a member state: only member "
                "states host or chair.",
                role.value,
            )
        by_state.setdefault(state.id, set()).add(role)
    for state, _role in roles:
        held = by_state[state.id]
        if len(held) > 1 and frozenset(held) not in COMPATIBLE:
            labels = " and ".join(sorted(r.label.lower() for r in held))
            raise DomainError(
                f"{in_sentence(state.name, start=True)} cannot be both {labels}: a state holds "
                "one role per activity (a host may also chair).",
                sorted(held, key=lambda r: r.value)[0].value,
            )
    for single in SINGLE:
        if sum(1 for _, role in roles if role is single) > 1:
            raise DomainError(f"An activity has one {single.label.lower()}.", single.value)


def _check_series(fields: dict[str, Any]) -> None:
    title, position, size = (
        fields.get("series_title"),
        fields.get("series_position"),
        fields.get("series_size"),
    )
    if (position is not None or size is not None) and not title:
        raise DomainError("Name the series this activity belongs to.", "series_title")
    if position is not None and position < 1:
        raise DomainError("Modules are numbered from 1.", "series_position")
    if title and not position:
        raise DomainError("Say which module of the series this is.", "series_position")
    if size is not None and position is not None and position > size:
        raise DomainError(
            f"Module {position} cannot be part of a series of {size}.", "series_position"
        )


def _check_dates(start: date | None, end: date | None) -> None:
    if start is None:
        raise DomainError("Give the start date.", "start_date")
    if end is None:
        raise DomainError("Give the end date (the start date for a one-day activity).", "end_date")
    if end < start:
        raise DomainError("The end date comes before the start date.", "end_date")


def _sync(collection: list, wanted: list[tuple[Any, Any]], key, make) -> None:
    """Make ``collection`` hold one row per wanted (record, role): drop the others, add the
    missing ones, leave the rest untouched (so their ids and history stay)."""
    wanted_keys = {(record.id, role) for record, role in wanted}
    for existing in list(collection):
        if key(existing) not in wanted_keys:
            collection.remove(existing)
    have = {key(existing) for existing in collection}
    for record, role in wanted:
        if (record.id, role) not in have:
            collection.append(make(record, role))
            have.add((record.id, role))


def _set_roles(
    activity: Activity,
    state_roles: list[tuple[State, StateRole]],
    organisations: list[tuple[Organisation, OrganisationRole]],
) -> None:
    check_state_roles(state_roles)
    _sync(
        activity.state_roles,
        state_roles,
        lambda r: (r.state_id, r.role),
        lambda state, role: ActivityStateRole(state=state, role=role),
    )
    _sync(
        activity.organisations,
        organisations,
        lambda o: (o.organisation_id, o.role),
        lambda org, role: ActivityOrganisation(organisation=org, role=role),
    )


def create_activity(
    actor: User,
    *,
    state_roles: list[tuple[State, StateRole]] = (),
    organisations: list[tuple[Organisation, OrganisationRole]] = (),
    status: Status = Status.DRAFT,
    **fields: Any,
) -> Activity:
    """Plan a new activity (a draft unless told otherwise).

    Raises ``DomainError`` for missing or inverted dates and roles that break the rules.
    """
    _check_dates(fields.get("start_date"), fields.get("end_date"))
    _check_series(fields)
    if not (fields.get("title") or "").strip():
        raise DomainError("Give the activity a title.", "title")
    activity = Activity(status=status, **{k: v for k, v in fields.items() if k in FIELDS})
    _set_roles(activity, list(state_roles), list(organisations))
    planned_on = clock.today()
    for template in activity.kind.info.milestones:
        anchor = activity.start_date if template.days < 0 else activity.end_date
        due_date = anchor + timedelta(days=template.days)
        # A step already past (an activity recorded after it took place, or planned closer
        # than its lead times) is kept on the timeline but not chased.
        activity.milestones.append(
            Milestone(name=template.name, due_date=due_date, tracked=due_date >= planned_on)
        )
    db.session.add(activity)
    db.session.flush()
    audit.record(actor, "created", activity, f"Added {activity.title}", None, _snapshot(activity))
    return activity


def update_activity(
    actor: User,
    activity: Activity,
    version: int | None,
    *,
    state_roles: list[tuple[State, StateRole]],
    organisations: list[tuple[Organisation, OrganisationRole]],
    **fields: Any,
) -> Activity:
    """Change an activity's details, roles and record; raises ``StaleEdit``/``DomainError``.

    Dates of an activity already confirmed change through a postponement, so that the old
    dates stay in its history with the reason.
    """
    audit.ensure_current(activity, version)
    _check_dates(fields.get("start_date"), fields.get("end_date"))
    _check_series(fields)
    before = _snapshot(activity)
    _shift_milestones(activity, fields["start_date"] - activity.start_date)
    for name, value in fields.items():
        if name not in FIELDS:
            raise ValueError(f"{name} cannot be changed here")
        if getattr(activity, name) != value:
            setattr(activity, name, value)
    _set_roles(activity, state_roles, organisations)
    confirmed = activity.status in (Status.CONFIRMED, Status.HELD, Status.CLOSED)
    if confirmed and activity.kind.info.needs_host_to_confirm and activity.host is None:
        raise DomainError(
            f"This {activity.kind.label.lower()} is {activity.status.label.lower()}: it keeps "
            "a host.",
            "host",
        )
    if _snapshot(activity) != before:
        # A change of roles alone leaves the row as it was: touch it, so that its version
        # moves (a stale page is refused) and calendar programs see a new SEQUENCE.
        activity.updated_at = utcnow()
    db.session.flush()
    after = _snapshot(activity)
    if after != before:
        audit.record(actor, "updated", activity, f"Edited {activity.title}", before, after)
    return activity


def move(actor: User, activity: Activity, to: Status, today: date, **details: Any) -> Activity:
    """Move the activity to another status, if the rules allow it today.

    A postponement takes ``new_start`` and ``new_end``; a cancellation, a ``reason``.
    Raises ``DomainError`` saying what is missing.
    """
    step = lifecycle.Move(to=to, **details)
    lifecycle.check(activity, step, today)
    before = _snapshot(activity)
    activity.status = to
    if to is Status.POSTPONED:
        _shift_milestones(activity, step.new_start - activity.start_date)
        activity.start_date, activity.end_date = step.new_start, step.new_end
    if to in (Status.CANCELLED, Status.POSTPONED):
        activity.status_reason = (step.reason or "").strip() or None
    db.session.flush()
    audit.record(
        actor,
        f"status:{to.value}",
        activity,
        f"{activity.title}: {before['status']} → {to.value}",
        before,
        _snapshot(activity),
    )
    return activity


def _shift_milestones(activity: Activity, delta: timedelta) -> None:
    """Move the milestones not yet done along with the activity's new dates; those that
    land in the past are not chased, those that land ahead are tracked again."""
    if delta:
        today = clock.today()
        for milestone in activity.milestones:
            if milestone.done_on is None:
                milestone.due_date += delta
                milestone.tracked = milestone.due_date >= today


MILESTONE_FIELDS = ("name", "due_date", "owner_id", "done_on", "tracked")


def add_milestone(
    actor: User, activity: Activity, name: str, due_date: date, owner: User | None
) -> Milestone:
    """Add a step to the activity's preparation timeline (not chased when its due date is
    already past)."""
    if not name.strip():
        raise DomainError("Name the milestone.", "name")
    milestone = Milestone(
        name=name.strip(), due_date=due_date, owner=owner, tracked=due_date >= clock.today()
    )
    activity.milestones.append(milestone)
    db.session.flush()
    audit.record(
        actor,
        "created",
        milestone,
        f"{activity.title}: added the milestone {milestone.name}",
        None,
        audit.snapshot(milestone, MILESTONE_FIELDS),
    )
    return milestone


def update_milestone(
    actor: User, milestone: Milestone, due_date: date, owner: User | None, done_on: date | None
) -> Milestone:
    """Change a milestone's due date, owner or done date, with a trace.

    A new due date decides again whether the step is chased: from today on it is, in the
    past it is not.
    """
    before = audit.snapshot(milestone, MILESTONE_FIELDS)
    if due_date != milestone.due_date:
        milestone.tracked = due_date >= clock.today()
    milestone.due_date, milestone.owner, milestone.done_on = due_date, owner, done_on
    db.session.flush()
    after = audit.snapshot(milestone, MILESTONE_FIELDS)
    if after != before:
        audit.record(
            actor,
            "updated",
            milestone,
            f"{milestone.activity.title}: {milestone.name}",
            before,
            after,
        )
    return milestone


LINK_FIELDS = ("source_id", "target_id", "relation")


def link_activities(
    actor: User, source: Activity, target: Activity, relation: Relation
) -> ActivityLink:
    """Record that ``source`` prepares, follows up on or builds on ``target``."""
    if source.id == target.id:
        raise DomainError("An activity cannot be linked to itself.", "target")
    exists = db.session.scalar(
        select(ActivityLink.id).where(
            ActivityLink.source_id == source.id,
            ActivityLink.target_id == target.id,
            ActivityLink.relation == relation,
        )
    )
    if exists:
        raise DomainError("These activities are already linked that way.", "target")
    link = ActivityLink(source=source, target=target, relation=relation)
    db.session.add(link)
    db.session.flush()
    audit.record(
        actor,
        "created",
        link,
        f"{source.title} {relation.label.lower()} {target.title}",
        None,
        audit.snapshot(link, LINK_FIELDS),
    )
    return link


def unlink_activities(actor: User, link: ActivityLink) -> None:
    """Remove a link between two activities, keeping a trace of it."""
    audit.record(
        actor,
        "deleted",
        link,
        f"{link.source.title} no longer {link.relation.label.lower()} {link.target.title}",
        audit.snapshot(link, LINK_FIELDS),
        None,
    )
    db.session.delete(link)
    db.session.flush()


def overlapping(activity_id: int | None, start: date, end: date) -> list[Activity]:
    """Other activities, not cancelled, whose dates overlap ``start``–``end``."""
    query = select(Activity).where(
        Activity.start_date <= end,
        Activity.end_date >= start,
        Activity.status != Status.CANCELLED,
    )
    if activity_id is not None:
        query = query.where(Activity.id != activity_id)
    return db.session.scalars(query.order_by(Activity.start_date).limit(10)).all()


def complete_steps(actor: User | None, activity: Activity, action: str, today: date) -> list[str]:
    """Tick as done, on ``today``, the steps of ``activity`` that ``action`` completes (see
    ``kinds.MilestoneTemplate.done_by``): uploading its agenda ticks "Agenda", recording
    its recommendations ticks "Recommendations recorded". Steps done already stay as they
    are. Returns the names of the steps ticked; each leaves a trace.
    """
    names = {t.name for t in activity.kind.info.milestones if t.done_by == action}
    ticked = []
    for milestone in activity.milestones:
        if milestone.name in names and milestone.done_on is None:
            before = audit.snapshot(milestone, MILESTONE_FIELDS)
            milestone.done_on = today
            db.session.flush()
            audit.record(
                actor,
                "updated",
                milestone,
                f"{activity.title}: {milestone.name} done",
                before,
                audit.snapshot(milestone, MILESTONE_FIELDS),
            )
            ticked.append(milestone.name)
    return ticked
