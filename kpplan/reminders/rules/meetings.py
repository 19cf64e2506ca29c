"""The rules of the activities: preparation milestones due and overdue, and outcomes or
recommendations not recorded after an activity was held."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from sqlalchemy import exists, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased, object_session

from kpplan.directory.models import User
from kpplan.meetings.models import Activity, Milestone, Status
from kpplan.recommendations.models import Recommendation
from kpplan.reminders.rules.recipients import secretariat_ids
from kpplan.reminders.rules.registry import PlannedReminder, RuleSettings, long_date, rule
from kpplan.reminders.rules.sql import (
    iso_date,
    late_crossed,
    late_key,
    late_period,
    not_planned,
    text_of,
    to_recipients,
)

# A cancelled or closed activity has nothing left to prepare; a postponed one has new dates
# and its milestones moved with them, so it is still reminded of.
_NOT_HAPPENING = (Status.CANCELLED, Status.CLOSED)
#: What the milestone rules read that can make them find something new.
_MILESTONES_READ = (Milestone, Activity, User)


@dataclass(frozen=True)
class _Activity:
    title: str


@dataclass(frozen=True)
class _Milestone:
    """The columns of a milestone that its reminders show, read without the ORM."""

    id: int
    name: str
    due_date: date
    activity_id: int
    activity: _Activity


def _not_reminded(
    session: Session, rule_key: str, where, period_key
) -> Iterator[tuple[_Milestone, list[int]]]:
    """The milestones not done of activities still happening that match ``where``, each with
    those of its recipients (its owner while their account is active, else the secretariat)
    whose reminder of ``rule_key`` for ``period_key`` is not in the outbox yet."""
    subject = literal("milestone:") + text_of(Milestone.id)
    found = (
        select(
            Milestone.id,
            Milestone.name,
            Milestone.due_date,
            Milestone.activity_id,
            Activity.title,
        )
        .join(Activity, Activity.id == Milestone.activity_id)
        .where(
            Milestone.done_on.is_(None),
            Activity.status.not_in(_NOT_HAPPENING),
            *where,
        )
    )
    owner = aliased(User)
    branches = to_recipients(
        found,
        User.id == Milestone.owner_id,
        secretariat_ids(session),
        or_(
            Milestone.owner_id.is_(None),
            ~exists().where(owner.id == Milestone.owner_id, owner.active.is_(True)),
        ),
        not_planned(rule_key, subject, period_key, User.id),
    )
    both = union_all(*branches).subquery()
    rows = session.execute(select(both).order_by(both.c.id, both.c.user_id)).all()
    for _, pairs in groupby(rows, key=lambda row: row.id):
        pairs = list(pairs)
        row = pairs[0]
        yield (
            _Milestone(row.id, row.name, row.due_date, row.activity_id, _Activity(row.title)),
            [pair.user_id for pair in pairs],
        )


@rule(
    "milestone_due",
    "A preparation milestone is due soon",
    "To the milestone's owner (the secretariat when it has none), once for each due date.",
    default_days=7,
    days_label="Days before the due date",
    reads=_MILESTONES_READ,
)
def milestone_due(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    horizon = today + timedelta(days=settings.days or 0)
    for milestone, user_ids in _not_reminded(
        session,
        "milestone_due",
        [
            Milestone.tracked.is_(True),
            Milestone.due_date >= today,
            Milestone.due_date <= horizon,
            # Since the day it last looked, only those come within its days anew.
            *(
                [Milestone.due_date > settings.since + timedelta(days=settings.days or 0)]
                if settings.since
                else []
            ),
        ],
        literal("due:") + iso_date(Milestone.due_date),
    ):
        when = "today" if milestone.due_date == today else f"on {long_date(milestone.due_date)}"
        for user_id in user_ids:
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
    reads=_MILESTONES_READ,
)
def milestone_overdue(
    session: Session, now: datetime, settings: RuleSettings
) -> Iterator[PlannedReminder]:
    today = now.date()
    every = max(settings.days or 7, 1)
    for milestone, user_ids in _not_reminded(
        session,
        "milestone_overdue",
        [
            Milestone.tracked.is_(True),
            Milestone.due_date < today,
            *late_crossed(today, settings.since, Milestone.due_date, every),
        ],
        late_period(today, Milestone.due_date, every),
    ):
        late = (today - milestone.due_date).days
        for user_id in user_ids:
            yield PlannedReminder(
                rule="milestone_overdue",
                subject_key=f"milestone:{milestone.id}",
                period_key=late_key(today, milestone.due_date, every),
                user_id=user_id,
                title=f"Overdue: {milestone.name} — {milestone.activity.title}",
                message=(
                    f"The preparation step “{milestone.name}” of {milestone.activity.title} "
                    f"was due on {long_date(milestone.due_date)}, {late} days ago, and is not "
                    "marked as done. Tick it as done, or give it a new due date."
                ),
                due_since=milestone.due_date + timedelta(days=1),
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
    reads=(Activity, Recommendation, User),
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
                    f"{activity.title} ended on {long_date(activity.end_date)}, {days} days "
                    f"ago, and {' and '.join(missing)} are not recorded yet. Record them on "
                    "the activity's page, so that the Process keeps what was agreed."
                ),
                due_since=activity.end_date + timedelta(days=settings.days or 0),
                link_endpoint="meetings.edit_activity"
                if "its outcomes" in missing
                else "recommendations.record",
                link_values={"activity_id": activity.id},
                link_label="Record the outcomes"
                if "its outcomes" in missing
                else "Record the recommendations",
            )
