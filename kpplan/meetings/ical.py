"""Activities as iCalendar (RFC 5545) events, through the icalendar package."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta

from flask import url_for
from icalendar import Calendar, Event

from kpplan.core.dates import DatePrecision
from kpplan.meetings.models import Activity, Status

STATUS = {
    Status.CONFIRMED: "CONFIRMED",
    Status.HELD: "CONFIRMED",
    Status.CLOSED: "CONFIRMED",
    Status.CANCELLED: "CANCELLED",
}


def known_span(activity: Activity) -> tuple[date, date]:
    """The first and last day the activity may fall on, at the precision of its dates."""
    start, end = activity.start_date, activity.end_date
    if activity.date_precision is DatePrecision.YEAR:
        return start.replace(month=1, day=1), end.replace(month=12, day=31)
    if activity.date_precision is DatePrecision.MONTH:
        last_day = calendar.monthrange(end.year, end.month)[1]
        return start.replace(day=1), end.replace(day=last_day)
    return start, end


def event_for(activity: Activity) -> Event:
    """One all-day event per activity, with a UID that never changes and a link to its page."""
    event = Event()
    event.add("uid", f"activity-{activity.id}@kpplan")
    first, last = known_span(activity)
    if activity.date_precision is DatePrecision.DAY:
        event.add("summary", activity.title)
    else:
        # Its day is not known: the event covers the whole month or year the sources give,
        # says so, and leaves the subscriber's time free.
        event.add("summary", f"{activity.title} ({activity.dates}, day not known)")
        event.add("transp", "TRANSPARENT")
    event.add("dtstart", first)
    # DTEND of an all-day event is the day after the last one (RFC 5545, 3.6.1).
    event.add("dtend", last + timedelta(days=1))
    event.add("dtstamp", activity.updated_at)
    event.add("last-modified", activity.updated_at)
    event.add("sequence", activity.version)
    event.add("status", STATUS.get(activity.status, "TENTATIVE"))
    if activity.where:
        event.add("location", activity.where)
    link = url_for("meetings.activity", activity_id=activity.id, _external=True)
    event.add("url", link)
    roles = "; ".join(f"{r.role.label}: {r.state.name}" for r in activity.state_roles)
    lines = [f"{activity.kind.label} ({activity.format.label})", roles, activity.theme, link]
    event.add("description", "\n".join(line for line in lines if line))
    return event


def calendar_of(activities: Iterable[Activity], name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Khartoum Process secretariat//kpplan//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for activity in activities:
        calendar.add_component(event_for(activity))
    return calendar.to_ical()
