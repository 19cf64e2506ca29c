"""Loads the Process's record of past activities (``kpplan.meetings.record``) as demo
history, and its few illustrative upcoming activities, dated from today.

Loading is idempotent: an activity already there (by title, or a title an earlier demo gave
it, and start date) is left alone, and links already made are not made twice.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

from sqlalchemy import select

from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State
from kpplan.meetings import services
from kpplan.meetings.models import Activity, Status
from kpplan.meetings.record import (
    EGYPT_2019,
    ILLUSTRATIVE_NOTE,
    LINKS,
    MOMBASA,
    RECORD,
    TRAINING_TITLE,
    UPCOMING,
)

# The other features' demos and the tests name these activities from here.
__all__ = [
    "EGYPT_2019",
    "MOMBASA",
    "RECORD",
    "TRAINING_TITLE",
    "UPCOMING",
    "load_demo_activities",
    "load_demo_upcoming",
]


def load_demo_activities() -> int:
    """Add the past activities that are missing (by title, or a title an earlier demo gave
    it, and start date) and link them as the texts do; returns how many were added."""
    states = {s.name: s for s in db.session.scalars(select(State))}
    organisations = {o.acronym: o for o in db.session.scalars(select(Organisation))}
    known = {tuple(row) for row in db.session.execute(select(Activity.title, Activity.start_date))}
    added = 0
    for past in RECORD:
        if any((title, past.start) in known for title in (past.title, *past.former_titles)):
            continue
        activity = services.create_activity(
            None,
            kind=past.kind,
            title=past.title,
            start_date=past.start,
            end_date=past.end or past.start,
            city=past.city,
            country_id=states[past.country].id if past.country else None,
            format=past.format,
            participants=past.participants,
            countries_represented=past.countries,
            organisations_represented=past.organisations,
            outcome_summary=past.outcome,
            record_note=past.note,
            other_process=past.other_process,
            date_precision=past.precision,
            series_title=past.series[0] if past.series else None,
            series_position=past.series[1] if past.series else None,
            series_size=past.series[2] if past.series else None,
            status=Status.CLOSED if past.outcome else Status.HELD,
            state_roles=[(states[name], role) for name, role in past.roles],
            organisations=[(organisations[acronym], role) for acronym, role in past.named],
        )
        # The record is of the past: its preparation was done, as far as anyone will chase.
        for milestone in activity.milestones:
            milestone.done_on = milestone.due_date
        added += 1
    _link_demo_activities()
    return added


def _link_demo_activities() -> None:
    by_title = {a.title: a for a in db.session.scalars(select(Activity))}
    for source, relation, target in LINKS:
        if source in by_title and target in by_title:
            # Refused (before any write) when they are linked already.
            with contextlib.suppress(DomainError):
                services.link_activities(None, by_title[source], by_title[target], relation)


def load_demo_upcoming(today: date) -> int:
    """Add the illustrative upcoming activities that are missing (by title), dated from
    ``today``; returns how many were added.

    Their preparation steps already due are recorded as done, so that a new demo's
    reminders chase only what lies ahead.
    """
    states = {s.name: s for s in db.session.scalars(select(State))}
    organisations = {o.acronym: o for o in db.session.scalars(select(Organisation))}
    known = set(db.session.scalars(select(Activity.title)))
    added = 0
    for upcoming in UPCOMING:
        if upcoming.title in known:
            continue
        start = today + timedelta(days=upcoming.days_ahead)
        activity = services.create_activity(
            None,
            kind=upcoming.kind,
            title=upcoming.title,
            theme=upcoming.theme,
            start_date=start,
            end_date=start + timedelta(days=upcoming.length - 1),
            city=upcoming.city,
            country_id=states[upcoming.country].id if upcoming.country else None,
            format=upcoming.format,
            record_note=ILLUSTRATIVE_NOTE,
            status=upcoming.status,
            state_roles=[(states[name], role) for name, role in upcoming.roles],
            organisations=[(organisations[acronym], role) for acronym, role in upcoming.named],
        )
        for milestone in activity.milestones:
            if milestone.due_date <= today:
                milestone.done_on = milestone.due_date
        added += 1
    return added
