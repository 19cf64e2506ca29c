"""How kpplan writes a day, a range of days and a moment, the same on every page and mail.

A day reads "2 Jul 2022"; a range says each part once, with an en dash: "12–13 Jul 2022",
"30 Jun – 2 Jul 2020", "28 Dec 2021 – 3 Jan 2022". A date known only to the month or the
year (an activity of 2016 whose day the texts do not give) keeps that precision beside it
and reads "June 2016" or "2016". A moment (a stored UTC datetime) reads in the Process's
timezone, with the timezone named: "12 Jul 2022, 14:05 EAT".

The month names are written here rather than taken from ``strftime``, whose ``%b`` follows
the server's locale.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from kpplan.core.db import LabelledEnum

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
SHORT_MONTHS = tuple(name[:3] for name in MONTHS)
EN_DASH = "\N{EN DASH}"


class DatePrecision(LabelledEnum):
    """How much of a date is known: the day, only the month, or only the year."""

    DAY = "day", "The day"
    MONTH = "month", "The month only"
    YEAR = "year", "The year only"


def _precision(precision: DatePrecision | str | None) -> DatePrecision:
    if precision is None:
        return DatePrecision.DAY
    return DatePrecision(precision) if isinstance(precision, str) else precision


def day(value: date | None, precision: DatePrecision | str | None = None) -> str:
    """One date as people read it: "2 Jul 2022", "July 2022" or "2022"; "—" for none."""
    if value is None:
        return "—"
    precision = _precision(precision)
    if precision is DatePrecision.YEAR:
        return str(value.year)
    if precision is DatePrecision.MONTH:
        return f"{MONTHS[value.month - 1]} {value.year}"
    return f"{value.day} {SHORT_MONTHS[value.month - 1]} {value.year}"


def day_range(
    start: date | None, end: date | None = None, precision: DatePrecision | str | None = None
) -> str:
    """From ``start`` to ``end`` (inclusive), each part said once.

    "12 Jul 2022" for one day, "12–13 Jul 2022" within a month, "30 Jun – 2 Jul 2020"
    within a year, "28 Dec 2021 – 3 Jan 2022" across years; at the month's precision
    "June 2016", "June – July 2016"; at the year's "2016", "2016–2017".
    """
    if start is None:
        return "—"
    precision = _precision(precision)
    if end is None or end < start:
        end = start
    if precision is DatePrecision.YEAR:
        if start.year == end.year:
            return str(start.year)
        return f"{start.year}{EN_DASH}{end.year}"
    if precision is DatePrecision.MONTH:
        if (start.year, start.month) == (end.year, end.month):
            return day(start, precision)
        if start.year == end.year:
            return f"{MONTHS[start.month - 1]} {EN_DASH} {day(end, precision)}"
        return f"{day(start, precision)} {EN_DASH} {day(end, precision)}"
    if start == end:
        return day(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}{EN_DASH}{day(end)}"
    if start.year == end.year:
        return f"{start.day} {SHORT_MONTHS[start.month - 1]} {EN_DASH} {day(end)}"
    return f"{day(start)} {EN_DASH} {day(end)}"


def zone_abbreviation(moment: datetime) -> str:
    """The timezone of an aware moment as people name it: "EAT", "CEST", "UTC".

    Zones without a common abbreviation (their database name is "+03") read "UTC+03".
    """
    name = moment.tzname() or "UTC"
    if name[:1] in "+-":
        return f"UTC{name}"
    return name


def moment(value: datetime | None, zone: ZoneInfo) -> str:
    """A stored moment in ``zone``, with the zone named: "12 Jul 2022, 14:05 EAT"."""
    if value is None:
        return "—"
    local = value.astimezone(zone)
    return f"{day(local.date())}, {local:%H:%M} {zone_abbreviation(local)}"
