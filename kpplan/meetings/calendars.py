"""The month calendar and the hosting ledger: who hosted what, by state, region and year."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, extract, func, or_, select

from kpplan.core import cache
from kpplan.core.dates import DatePrecision, day_range
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.meetings.models import (
    Activity,
    ActivityStateRole,
    StateRole,
    Status,
)
from kpplan.meetings.queries import LIST_OPTIONS


@dataclass(frozen=True)
class MonthActivity:
    """An activity as the month calendar shows it: its title, status and dates, read as
    columns rather than as the activity with its states (which the calendar never shows)."""

    id: int
    title: str
    status: Status
    start_date: date
    end_date: date
    date_precision: DatePrecision

    @property
    def dates(self) -> str:
        """Its dates as people read them, at their precision (``Activity.dates``)."""
        return day_range(self.start_date, self.end_date, self.date_precision)


@dataclass(frozen=True)
class MonthGrid:
    first: date
    weeks: list[list[tuple[date, list[MonthActivity]]]]
    # Activities the sources date only by month or year, that may fall in this month:
    # listed beside the grid, never put on a day nobody knows.
    undated: list[MonthActivity] = field(default_factory=list)

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)


#: What the longest activities' spans are read from: kept until an activity changes.
SPAN_READS = cache.watch(Activity)


def _days_from_start_to_end():
    """SQL: the days from an activity's first day to its last (0 for one day)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return Activity.end_date - Activity.start_date
    return func.julianday(Activity.end_date) - func.julianday(Activity.start_date)


def longest_spans() -> dict[DatePrecision, int]:
    """The days from the first to the last day of the longest activity at each date
    precision (kept until an activity changes): an activity overlapping a stretch of days
    starts at most that many days before it, so that the calendar reads only the
    activities that start in a bounded stretch of the index on the start date."""

    def spans() -> dict[DatePrecision, int]:
        rows = db.session.execute(
            select(Activity.date_precision, func.max(_days_from_start_to_end())).group_by(
                Activity.date_precision
            )
        ).all()
        return {precision: int(days or 0) for precision, days in rows}

    return cache.memoised("calendar:longest-spans", (), SPAN_READS, spans)


def _overlapping(precision: DatePrecision, first: date, last: date, spans: dict):
    """SQL: an activity dated at ``precision`` that overlaps the days ``first``–``last``,
    sought on the index of the start date from ``first`` less the longest span."""
    return and_(
        Activity.date_precision == precision,
        Activity.start_date.between(first - timedelta(days=spans[precision]), last),
        Activity.end_date >= first,
    )


def month_grid(first: date) -> MonthGrid:
    """The weeks (Monday first) around the month of ``first``, each day with its activities.

    One query for the activities that overlap the weeks shown (and one more after an
    activity changed, for the longest spans), whatever their number; it reads only the
    activities that start in the weeks shown or at most the longest span before them.
    """
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start, end = weeks[0][0], weeks[-1][-1]
    month_start = first.replace(day=1)
    month_end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    year_start, year_end = first.replace(month=1, day=1), first.replace(month=12, day=31)
    # Month- and year-dated activities keep the first day of their month or year (and a
    # year-dated one may fall in any month of its years): they are listed apart.
    spans = longest_spans()
    branches = [
        _overlapping(precision, since, until, spans)
        for precision, since, until in (
            (DatePrecision.DAY, start, end),
            (DatePrecision.MONTH, month_start, month_end),
            (DatePrecision.YEAR, year_start, year_end),
        )
        if precision in spans
    ]
    rows = (
        db.session.execute(
            select(
                Activity.id,
                Activity.title,
                Activity.status,
                Activity.start_date,
                Activity.end_date,
                Activity.date_precision,
            )
            .where(or_(*branches))
            .order_by(Activity.start_date, Activity.id)
        ).all()
        if branches
        else []
    )
    activities = [MonthActivity(*row) for row in rows]
    dated = [a for a in activities if a.date_precision is DatePrecision.DAY]
    undated = [a for a in activities if a.date_precision is not DatePrecision.DAY]
    return MonthGrid(
        first=first,
        weeks=[
            [(day, [a for a in dated if a.start_date <= day <= a.end_date]) for day in week]
            for week in weeks
        ],
        undated=undated,
    )


#: What the ledger counts: activities that took place.
TOOK_PLACE = (Status.HELD, Status.CLOSED)
#: What "next to host" lists: activities decided on and still to come.
COMING = (Status.PLANNED, Status.CONFIRMED, Status.POSTPONED)


#: What the hosting ledger is read from (see core.cache): kept until one of them changes.
LEDGER_READS = cache.watch(Activity, ActivityStateRole, State)


@dataclass
class LedgerRow:
    name: str
    region: str
    hosted: dict[int, int]
    co_hosted: dict[int, int]
    #: The coming activities this state hosts or co-hosts, soonest first, with its role.
    coming: list[tuple[Activity, StateRole]] = field(default_factory=list)

    @property
    def total_hosted(self) -> int:
        return sum(self.hosted.values())

    @property
    def total_co_hosted(self) -> int:
        return sum(self.co_hosted.values())

    @property
    def last_year(self) -> int | None:
        years = [y for y, n in self.hosted.items() if n] + [
            y for y, n in self.co_hosted.items() if n
        ]
        return max(years) if years else None


@dataclass
class Ledger:
    #: Every year from the first activity that took place to this year, none left out.
    years: list[int]
    rows: list[LedgerRow]
    regions: list[LedgerRow]
    #: Planned, confirmed or postponed activities not yet over, soonest first.
    coming: list[Activity]


def hosting_ledger(today: date) -> Ledger:
    """How many activities each member state, and each region, hosted and co-hosted, by year.

    Only activities that took place (held or closed) count; the planned ones still to come
    are listed apart, and each state's row names the next it hosts. The years run without
    gaps from the first year counted to ``today``'s, so a year without any activity shows as
    such. Three queries whatever the data: the counts grouped in SQL, the member states, and
    the coming activities with their states.
    """
    year = extract("year", Activity.start_date).label("year")
    counts = db.session.execute(
        select(ActivityStateRole.state_id, ActivityStateRole.role, year, func.count())
        .join(Activity, Activity.id == ActivityStateRole.activity_id)
        .where(
            ActivityStateRole.role.in_([StateRole.HOST, StateRole.CO_HOST]),
            Activity.status.in_(TOOK_PLACE),
        )
        .group_by(ActivityStateRole.state_id, ActivityStateRole.role, year)
    ).all()
    states = db.session.scalars(
        select(State).where(State.is_member.is_(True)).order_by(State.name)
    ).all()
    coming = list(
        db.session.scalars(
            select(Activity)
            .where(Activity.status.in_(COMING), Activity.end_date >= today)
            .options(*LIST_OPTIONS)
            .order_by(Activity.start_date, Activity.id)
        ).unique()
    )
    rows = {s.id: LedgerRow(s.name, s.region.label, {}, {}) for s in states}
    regions: dict[str, LedgerRow] = {}
    years: set[int] = set()
    for state_id, role, year_value, n in counts:
        if state_id not in rows:
            continue
        row = rows[state_id]
        year_value = int(year_value)
        years.add(year_value)
        region = regions.setdefault(row.region, LedgerRow(row.region, row.region, {}, {}))
        for target in (row, region):
            bucket = target.hosted if role is StateRole.HOST else target.co_hosted
            bucket[year_value] = bucket.get(year_value, 0) + n
    for activity in coming:
        for state_role in activity.state_roles:
            if state_role.role in (StateRole.HOST, StateRole.CO_HOST) and (
                row := rows.get(state_role.state_id)
            ):
                row.coming.append((activity, state_role.role))
    span = list(range(min(years), max(*years, today.year) + 1)) if years else []
    return Ledger(
        years=span,
        rows=list(rows.values()),
        regions=sorted(regions.values(), key=lambda r: r.name),
        coming=coming,
    )
