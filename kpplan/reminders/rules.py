"""The reminder rules, one small function each, gathered in a registry.

A rule reads the database as it stands at ``now`` and yields a ``PlannedReminder`` for
each (subject, period, recipient) that deserves one. It never writes, never sends and
never reads the clock: the tick inserts what it yields into the outbox, where the unique
key (subject, rule, period, recipient) makes a reminder planned once however many ticks
see it. The period key is what makes a rule repeat: "once per due date" uses the due date,
"weekly while overdue" uses the number of whole weeks since the due date.

To add a rule, add a function here (reminders come after recommendations and the Chair's
work plans, so this module may import their models) and a test in tests/test_reminders.py;
the settings page, the preferences page and the tick pick it up from the registry::

    @rule(
        "follow_up_due",
        "A follow-up is due soon",
        "To the state's focal points, once per due date.",
        default_days=30,
        days_label="Days before the due date",
    )
    def follow_up_due(session, now, settings):
        horizon = now.date() + timedelta(days=settings.days)
        for follow_up in session.scalars(select(FollowUp).where(...)):
            for user_id in focal_point_ids(session, follow_up.state_id):
                yield PlannedReminder(
                    rule="follow_up_due",
                    subject_key=f"follow_up:{follow_up.id}",
                    period_key=f"due:{follow_up.due_date.isoformat()}",
                    user_id=user_id,
                    title=..., message=..., link_endpoint=..., link_values={...},
                )

An escalation passes ``can_turn_off=False``: people cannot turn it off.
``now`` is the tick's moment in the Process's timezone: ``now.date()`` is today there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload, object_session

from kpplan.chair.models import Chairmanship, ItemStatus, WorkPlan, WorkPlanItem
from kpplan.directory.models import Role, State, User
from kpplan.meetings.models import Activity, Milestone, Status
from kpplan.recommendations.models import (
    OPEN_STATUSES,
    FollowUp,
    Recommendation,
    StatusUpdate,
    Validation,
)


@dataclass(frozen=True)
class PlannedReminder:
    """What a rule found: who is reminded of what, for which period, and what the mail says.

    ``(subject_key, rule, period_key, user_id)`` is the reminder's identity in the outbox.
    ``link_endpoint`` and ``link_values`` name the page that needs action (built into an
    absolute link with ``BASE_URL`` when the mail is written).
    """

    rule: str
    subject_key: str
    period_key: str
    user_id: int
    title: str
    message: str
    link_endpoint: str
    link_values: dict = field(default_factory=dict)
    link_label: str = "Open the page"


@dataclass(frozen=True)
class RuleSettings:
    """An administrator's settings for a rule (or the rule's defaults)."""

    enabled: bool = True
    days: int | None = None


RuleFunction = Callable[[Session, datetime, RuleSettings], Iterable[PlannedReminder]]


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    description: str
    find: RuleFunction
    default_days: int | None = None
    days_label: str | None = None
    # Escalations reach their recipients whatever they chose.
    can_turn_off: bool = True

    @property
    def defaults(self) -> RuleSettings:
        return RuleSettings(enabled=True, days=self.default_days)


RULES: dict[str, Rule] = {}


def rule(
    key: str,
    label: str,
    description: str,
    default_days: int | None = None,
    days_label: str | None = None,
    can_turn_off: bool = True,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as the rule ``key``."""

    def register(find: RuleFunction) -> RuleFunction:
        if key in RULES:
            raise ValueError(f"two reminder rules are called {key!r}")
        RULES[key] = Rule(key, label, description, find, default_days, days_label, can_turn_off)
        return find

    return register


# Recipients ---------------------------------------------------------------------------


def secretariat_ids(session: Session) -> list[int]:
    """The active secretariat members; the administrators when there is none."""
    for role in (Role.SECRETARIAT, Role.ADMIN):
        ids = session.scalars(
            select(User.id).where(User.role == role, User.active.is_(True)).order_by(User.id)
        ).all()
        if ids:
            return list(ids)
    return []


def focal_point_ids(session: Session, state_id: int) -> list[int]:
    """The active national focal points of a state (alternates included)."""
    return list(
        session.scalars(
            select(User.id)
            .where(
                User.state_id == state_id,
                User.role == Role.FOCAL_POINT,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def _owner_or_secretariat(session: Session, owner: User | None) -> list[int]:
    if owner is not None and owner.active:
        return [owner.id]
    return secretariat_ids(session)


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


# The rules ----------------------------------------------------------------------------

# A cancelled or closed activity has nothing left to prepare; a postponed one has new dates
# and its milestones moved with them, so it is still reminded of.
_NOT_HAPPENING = (Status.CANCELLED, Status.CLOSED)


@rule(
    "milestone_due",
    "A preparation milestone is due soon",
    "To the milestone's owner (the secretariat when it has none), once for each due date.",
    default_days=7,
    days_label="Days before the due date",
)
def milestone_due(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    horizon = today + timedelta(days=settings.days or 0)
    milestones = session.scalars(
        select(Milestone)
        .join(Milestone.activity)
        .where(
            Milestone.done_on.is_(None),
            Milestone.due_date >= today,
            Milestone.due_date <= horizon,
            Activity.status.not_in(_NOT_HAPPENING),
        )
        .options(joinedload(Milestone.activity), joinedload(Milestone.owner))
        .order_by(Milestone.id)
    )
    for milestone in milestones:
        when = "today" if milestone.due_date == today else f"on {_day(milestone.due_date)}"
        for user_id in _owner_or_secretariat(session, milestone.owner):
            yield PlannedReminder(
                rule="milestone_due",
                subject_key=f"milestone:{milestone.id}",
                period_key=f"due:{milestone.due_date.isoformat()}",
                user_id=user_id,
                title=f"Due {when}: {milestone.name} — {milestone.activity.title}",
                message=(
                    f"The preparation step “{milestone.name}” of {milestone.activity.title} "
                    f"is due {when}. When it is done, tick it as done on the activity's page."
                ),
                link_endpoint="meetings.activity",
                link_values={"activity_id": milestone.activity_id},
                link_label="Open the activity's preparation",
            )


@rule(
    "milestone_overdue",
    "A preparation milestone is overdue",
    "To the milestone's owner (the secretariat when it has none), every week until it is "
    "done or moved.",
    default_days=7,
    days_label="Days between reminders",
)
def milestone_overdue(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    every = max(settings.days or 7, 1)
    milestones = session.scalars(
        select(Milestone)
        .join(Milestone.activity)
        .where(
            Milestone.done_on.is_(None),
            Milestone.due_date < today,
            Activity.status.not_in(_NOT_HAPPENING),
        )
        .options(joinedload(Milestone.activity), joinedload(Milestone.owner))
        .order_by(Milestone.id)
    )
    for milestone in milestones:
        late = (today - milestone.due_date).days
        # Period 0 starts the day after the due date, then one every ``every`` days.
        period = (late - 1) // every
        for user_id in _owner_or_secretariat(session, milestone.owner):
            yield PlannedReminder(
                rule="milestone_overdue",
                subject_key=f"milestone:{milestone.id}",
                period_key=f"late:{milestone.due_date.isoformat()}:{period}",
                user_id=user_id,
                title=f"Overdue: {milestone.name} — {milestone.activity.title}",
                message=(
                    f"The preparation step “{milestone.name}” of {milestone.activity.title} "
                    f"was due on {_day(milestone.due_date)}, {late} days ago, and is not "
                    "marked as done. Tick it as done, or give it a new due date."
                ),
                link_endpoint="meetings.activity",
                link_values={"activity_id": milestone.activity_id},
                link_label="Open the activity's preparation",
            )


# Activities that were to happen: not a draft, not cancelled or postponed, not closed.
_HELD_OR_DUE = (Status.PLANNED, Status.CONFIRMED, Status.HELD)
# How far back the rule looks, so that a first run does not remind of years of archive.
OUTCOMES_LOOKBACK_DAYS = 90


def outcomes_missing(activity: Activity) -> list[str]:
    """What the record of a held activity still lacks, in the secretariat's words.

    The rule asks this of each activity that ended in the window (a handful), so that the
    recommendations feature only adds "its recommendations" here.
    """
    missing = []
    if not (activity.outcome_summary or "").strip():
        missing.append("its outcomes")
    if activity.kind.info.expects_recommendations:
        session = object_session(activity)
        recorded = session.scalar(
            select(Recommendation.id).where(Recommendation.activity_id == activity.id).limit(1)
        )
        if recorded is None:
            missing.append("its recommendations")
    return missing


@rule(
    "outcomes_missing",
    "An activity was held but its outcomes or recommendations are not recorded",
    "To the secretariat, once, the given number of days after the activity ended (meetings "
    "are expected to end in recommendations; webinars and roundtables are not).",
    default_days=14,
    days_label="Days after the activity ended",
)
def activity_outcomes_missing(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    ended_by = today - timedelta(days=settings.days or 0)
    activities = session.scalars(
        select(Activity)
        .where(
            Activity.status.in_(_HELD_OR_DUE),
            Activity.end_date <= ended_by,
            Activity.end_date > ended_by - timedelta(days=OUTCOMES_LOOKBACK_DAYS),
        )
        .order_by(Activity.id)
    ).all()
    recipients = None
    for activity in activities:
        missing = outcomes_missing(activity)
        if not missing:
            continue
        if recipients is None:
            recipients = secretariat_ids(session)
        days = (today - activity.end_date).days
        for user_id in recipients:
            yield PlannedReminder(
                rule="outcomes_missing",
                subject_key=f"activity:{activity.id}",
                period_key=f"ended:{activity.end_date.isoformat()}",
                user_id=user_id,
                title=(
                    f"Outcomes to record: {activity.title}"
                    if "its outcomes" in missing
                    else f"Recommendations to record: {activity.title}"
                ),
                message=(
                    f"{activity.title} ended on {_day(activity.end_date)}, {days} days ago, "
                    f"and {' and '.join(missing)} are not recorded yet. Record them on the "
                    "activity's page, so that the Process keeps what was agreed."
                ),
                link_endpoint="meetings.edit_activity"
                if "its outcomes" in missing
                else "recommendations.record",
                link_values={"activity_id": activity.id},
                link_label="Record the outcomes"
                if "its outcomes" in missing
                else "Record the recommendations",
            )


@rule(
    "state_without_focal_point",
    "Member states have no active focal point",
    "To the secretariat, once a month, one reminder listing the member states that have "
    "no active national focal point.",
)
def states_without_focal_point(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    has_focal_point = exists().where(
        User.state_id == State.id, User.role == Role.FOCAL_POINT, User.active.is_(True)
    )
    states = session.scalars(
        select(State).where(State.is_member.is_(True), ~has_focal_point).order_by(State.name)
    ).all()
    if not states:
        return
    # Monthly, and one reminder for all of them: often enough to be acted on, rare and
    # short enough not to be ignored (a new installation has dozens of such states).
    names = ", ".join(s.name for s in states)
    if len(states) == 1:
        title = f"{states[0].name} has no active national focal point"
        message = (
            f"{states[0].name} is a member state of the Process but has no active national "
            "focal point, so nobody there receives its reminders. Ask the state to name one "
            "and add their account."
        )
        link = ("directory.state", {"state_id": states[0].id}, f"Open {states[0].name}'s page")
    else:
        title = f"{len(states)} member states have no active national focal point"
        message = (
            f"These member states of the Process have no active national focal point, so "
            f"nobody there receives their reminders: {names}. Ask them to name one and add "
            "their accounts."
        )
        link = ("directory.states", {}, "Open the list of states")
    for user_id in secretariat_ids(session):
        yield PlannedReminder(
            rule="state_without_focal_point",
            subject_key="member-states",
            period_key=f"month:{now:%Y-%m}",
            user_id=user_id,
            title=title,
            message=message,
            link_endpoint=link[0],
            link_values=link[1],
            link_label=link[2],
        )


# Follow-up of recommendations ---------------------------------------------------------


def _open_follow_ups():
    """Follow-ups of recommendations in force that still wait for something from their
    addressee: not implemented or not applicable, and no implementation awaiting validation."""
    return (
        select(FollowUp)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .where(
            Recommendation.withdrawn_at.is_(None),
            FollowUp.status.in_(OPEN_STATUSES),
            FollowUp.pending_update_id.is_(None),
        )
        .options(
            joinedload(FollowUp.recommendation),
            joinedload(FollowUp.state),
            joinedload(FollowUp.organisation),
        )
        .order_by(FollowUp.id)
    )


class _Recipients:
    """Who answers for a follow-up: the state's focal points; the secretariat for an
    organisation or the secretariat itself. Looked up once per state and tick."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_state: dict[int, list[int]] = {}
        self.secretariat: list[int] | None = None

    def of(self, follow_up: FollowUp) -> list[int]:
        if follow_up.state_id is not None:
            if follow_up.state_id not in self.by_state:
                self.by_state[follow_up.state_id] = focal_point_ids(
                    self.session, follow_up.state_id
                )
            return self.by_state[follow_up.state_id]
        return self.staff()

    def staff(self) -> list[int]:
        if self.secretariat is None:
            self.secretariat = secretariat_ids(self.session)
        return self.secretariat


def _follow_up_link(follow_up: FollowUp) -> dict:
    return {
        "link_endpoint": "recommendations.follow_up",
        "link_values": {"follow_up_id": follow_up.id},
        "link_label": "Post an update",
    }


def _whose(follow_up: FollowUp) -> str:
    """ "Kenya's follow-up of TM-2022-07/R3" (addressees' names start with a capital)."""
    return f"{follow_up.addressee}'s follow-up of {follow_up.recommendation.code}"


def _wording(follow_up: FollowUp) -> str:
    text = follow_up.recommendation.text
    return text if len(text) <= 200 else text[:197] + "…"


@rule(
    "follow_up_due",
    "A follow-up is due soon",
    "To the state's focal points (the secretariat for an organisation or itself), once for "
    "each next review date.",
    default_days=30,
    days_label="Days before the next review date",
)
def follow_up_due(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    horizon = today + timedelta(days=settings.days or 0)
    recipients = _Recipients(session)
    for follow_up in session.scalars(
        _open_follow_ups().where(
            FollowUp.next_review_date >= today, FollowUp.next_review_date <= horizon
        )
    ):
        due = follow_up.next_review_date
        when = "today" if due == today else f"on {_day(due)}"
        for user_id in recipients.of(follow_up):
            yield PlannedReminder(
                rule="follow_up_due",
                subject_key=f"follow_up:{follow_up.id}",
                period_key=f"due:{due.isoformat()}",
                user_id=user_id,
                title=f"Due {when}: {_whose(follow_up)}",
                message=(
                    f"{_whose(follow_up)} is due for review "
                    f"{when}. The recommendation reads: “{_wording(follow_up)}” Its status is "
                    f"“{follow_up.status.label.lower()}”: post an update with what has been "
                    "done and the evidence."
                ),
                **_follow_up_link(follow_up),
            )


def _overdue_follow_ups(session: Session, today: date):
    """Open follow-ups past their next review date and not updated since that date."""
    for follow_up in session.scalars(_open_follow_ups().where(FollowUp.next_review_date < today)):
        last = follow_up.last_update_at
        if last is not None and last.date() >= follow_up.next_review_date:
            continue
        yield follow_up


@rule(
    "follow_up_overdue",
    "A follow-up is overdue",
    "To the state's focal points (the secretariat for an organisation or itself), every "
    "week until it is updated.",
    default_days=7,
    days_label="Days between reminders",
)
def follow_up_overdue(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    every = max(settings.days or 7, 1)
    recipients = _Recipients(session)
    for follow_up in _overdue_follow_ups(session, today):
        due = follow_up.next_review_date
        late = (today - due).days
        for user_id in recipients.of(follow_up):
            yield PlannedReminder(
                rule="follow_up_overdue",
                subject_key=f"follow_up:{follow_up.id}",
                period_key=f"late:{due.isoformat()}:{(late - 1) // every}",
                user_id=user_id,
                title=f"Overdue: {_whose(follow_up)}",
                message=(
                    f"{_whose(follow_up)} was due for review "
                    f"on {_day(due)}, {late} days ago, and has not been updated since. The "
                    f"recommendation reads: “{_wording(follow_up)}” Post an update, even to say "
                    "that work is still in progress, with a new review date."
                ),
                **_follow_up_link(follow_up),
            )


@rule(
    "follow_up_escalated",
    "A follow-up is long overdue (escalation)",
    "To the secretariat, once, when a follow-up has been overdue this many days without an "
    "update. It cannot be turned off.",
    default_days=28,
    days_label="Days overdue before the secretariat is told",
    can_turn_off=False,
)
def follow_up_escalated(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    after = settings.days or 0
    recipients = _Recipients(session)
    for follow_up in _overdue_follow_ups(session, today):
        due = follow_up.next_review_date
        late = (today - due).days
        if late < after:
            continue
        for user_id in recipients.staff():
            yield PlannedReminder(
                rule="follow_up_escalated",
                subject_key=f"follow_up:{follow_up.id}",
                period_key=f"escalated:{due.isoformat()}",
                user_id=user_id,
                title=f"Overdue for {late} days: {_whose(follow_up)}",
                message=(
                    f"{_whose(follow_up)} was due for review "
                    f"on {_day(due)} and is still not updated, {late} days later, although "
                    "its addressee has been reminded every week. Consider contacting "
                    f"{follow_up.addressee} directly."
                ),
                **_follow_up_link(follow_up),
            )


@rule(
    "follow_up_stale",
    "A follow-up has not been updated for a long time",
    "To the state's focal points (the secretariat for an organisation or itself), once "
    "after this many days without an update.",
    default_days=90,
    days_label="Days without an update",
)
def follow_up_stale(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    days = settings.days or 0
    # Compared in UTC, as stored: a day's difference at the edges does not matter here.
    before = now - timedelta(days=days)
    last = func.coalesce(FollowUp.last_update_at, FollowUp.created_at)
    recipients = _Recipients(session)
    for follow_up in session.scalars(_open_follow_ups().where(last < before)):
        since = (follow_up.last_update_at or follow_up.created_at).astimezone(now.tzinfo).date()
        never = follow_up.last_update_at is None
        for user_id in recipients.of(follow_up):
            yield PlannedReminder(
                rule="follow_up_stale",
                subject_key=f"follow_up:{follow_up.id}",
                period_key=f"since:{since.isoformat()}",
                user_id=user_id,
                title=f"No update for {days} days: {_whose(follow_up)}",
                message=(
                    f"{_whose(follow_up)} "
                    + (
                        f"has had no update since it was recorded on {_day(since)}. "
                        if never
                        else f"was last updated on {_day(since)}. "
                    )
                    + f"The recommendation reads: “{_wording(follow_up)}” Tell the Process "
                    "where it stands."
                ),
                **_follow_up_link(follow_up),
            )


@rule(
    "validation_waiting",
    "An implementation waits for validation",
    "To the secretariat, once, when a move to “implemented” has waited this many days.",
    default_days=7,
    days_label="Days waiting",
)
def validation_waiting(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    before = now - timedelta(days=settings.days or 0)
    updates = session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.validation == Validation.PENDING, StatusUpdate.posted_at < before)
        .options(
            joinedload(StatusUpdate.follow_up).options(
                joinedload(FollowUp.recommendation),
                joinedload(FollowUp.state),
                joinedload(FollowUp.organisation),
            )
        )
        .order_by(StatusUpdate.id)
    ).all()
    recipients = _Recipients(session)
    for update in updates:
        follow_up = update.follow_up
        posted = update.posted_at.astimezone(now.tzinfo).date()
        for user_id in recipients.staff():
            yield PlannedReminder(
                rule="validation_waiting",
                subject_key=f"status_update:{update.id}",
                period_key=f"posted:{posted.isoformat()}",
                user_id=user_id,
                title=f"To validate: {_whose(follow_up)} reported as implemented",
                message=(
                    f"On {_day(posted)}, {follow_up.addressee} reported "
                    f"{follow_up.recommendation.code} as implemented. It counts once the "
                    "secretariat accepts it; accept it, or return it with a comment."
                ),
                **_follow_up_link(follow_up),
            )


# The Chair's work plan ----------------------------------------------------------------


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
            .where(Chairmanship.start_date <= today)
            .options(
                joinedload(Chairmanship.state),
                joinedload(Chairmanship.work_plan)
                .selectinload(WorkPlan.items)
                .selectinload(WorkPlanItem.activities),
            )
        ).unique()
        if c.covers(today) and c.work_plan is not None
    ]
    recipients = _Recipients(session)
    for chairmanship in chairmanships:
        late = [
            item
            for item in chairmanship.work_plan.items
            if item.status_on(today) is ItemStatus.LATE
        ]
        if not late:
            continue
        delegates = list(
            session.scalars(
                select(User.id).where(
                    User.role == Role.CHAIR,
                    User.state_id == chairmanship.state_id,
                    User.active.is_(True),
                )
            )
        )
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
                    link_endpoint="chair.item",
                    link_values={"item_id": item.id},
                    link_label="Open the work-plan item",
                )
