"""Read paths of the activity pages, each eager-loading what its page shows."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, extract, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from kpplan.core import cache, paging
from kpplan.core.dates import DatePrecision, day_range
from kpplan.core.extensions import db
from kpplan.core.paging import Key, KeysetPage, keyset_page
from kpplan.directory.models import State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import (
    Activity,
    ActivityLink,
    ActivityOrganisation,
    ActivityStateRole,
    Format,
    Milestone,
    StateRole,
    Status,
    place,
)

LIST_OPTIONS = (
    joinedload(Activity.country),
    selectinload(Activity.state_roles).joinedload(ActivityStateRole.state),
)


@dataclass(frozen=True)
class PageFigures:
    """Where a page stands in its list, for the pager: what it keeps of a Pagination."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(-(-self.total // self.per_page), 1) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int:
        return self.page + 1


#: What the list of upcoming activities shows (see core.cache): kept until one changes.
UPCOMING_READS = cache.watch(Activity, ActivityStateRole, State)


def upcoming_page(today: date, page: int, per_page: int) -> Pagination:
    """Activities not yet over and not cancelled, soonest first."""
    query = (
        select(Activity)
        .where(Activity.end_date >= today, Activity.status != Status.CANCELLED)
        .options(*LIST_OPTIONS)
        .order_by(Activity.start_date, Activity.id)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class ArchiveFilters:
    kind: ActivityKind | None = None
    year: int | None = None
    state_id: int | None = None
    format: Format | None = None
    status: Status | None = None
    words: str = ""


def archive_select(filters: ArchiveFilters):
    """The SELECT of every activity the archive's filters keep, newest first.

    The state filter finds activities the state hosted or co-hosted. Shared by the archive
    and the exports of the reports.
    """
    return _archive_query(filters).order_by(Activity.start_date.desc(), Activity.id.desc())


#: The archive's order, newest first (read backwards along ``ix_activities_start_date``).
ARCHIVE_ORDER = (Key(Activity.start_date, descending=True), Key(Activity.id, descending=True))


def _archive_query(filters: ArchiveFilters):
    query = select(Activity)
    if filters.kind is not None:
        query = query.where(Activity.kind == filters.kind)
    if filters.year:
        query = query.where(
            Activity.start_date.between(date(filters.year, 1, 1), date(filters.year, 12, 31))
        )
    if filters.state_id:
        hosted = select(ActivityStateRole.activity_id).where(
            ActivityStateRole.state_id == filters.state_id,
            ActivityStateRole.role.in_([StateRole.HOST, StateRole.CO_HOST]),
        )
        query = query.where(Activity.id.in_(hosted))
    if filters.format is not None:
        query = query.where(Activity.format == filters.format)
    if filters.status is not None:
        query = query.where(Activity.status == filters.status)
    if filters.words:
        pattern = f"%{filters.words.lower()}%"
        query = query.where(
            or_(func.lower(Activity.title).like(pattern), func.lower(Activity.theme).like(pattern))
        )
    return query


class RoleShown(NamedTuple):
    state_name: str
    role: StateRole


@dataclass(frozen=True)
class ActivityRow:
    """What a row of the archive shows of an activity, read as columns: the page builds
    no entity per row (at scale, loading them cost more than the rest of the page)."""

    id: int
    kind: ActivityKind
    title: str
    start_date: date
    end_date: date
    date_precision: DatePrecision
    city: str | None
    country: str | None
    format: Format
    status: Status
    state_roles: tuple[RoleShown, ...] = ()

    @property
    def dates(self) -> str:
        return day_range(self.start_date, self.end_date, self.date_precision)

    @property
    def where(self) -> str:
        return place(self.format, self.city, self.country)


_COUNTRY = aliased(State)
_ROW_COLUMNS = (
    Activity.id,
    Activity.kind,
    Activity.title,
    Activity.start_date,
    Activity.end_date,
    Activity.date_precision,
    Activity.city,
    _COUNTRY.name.label("country"),
    Activity.format,
    Activity.status,
)


def _activity_rows(rows: list) -> list[ActivityRow]:
    """``rows`` (of ``_ROW_COLUMNS``) as ``ActivityRow``, with their states' roles (one
    query for the page)."""
    roles: dict[int, list[RoleShown]] = {row.id: [] for row in rows}
    if roles:
        found = db.session.execute(
            select(ActivityStateRole.activity_id, State.name, ActivityStateRole.role)
            .join(State, State.id == ActivityStateRole.state_id)
            .where(ActivityStateRole.activity_id.in_(list(roles)))
            .order_by(ActivityStateRole.id)
        )
        for activity_id, name, role in found:
            roles[activity_id].append(RoleShown(name, role))
    return [ActivityRow(*row, state_roles=tuple(roles[row.id])) for row in rows]


def archive_page(filters: ArchiveFilters, cursor: str | None, per_page: int) -> KeysetPage:
    """The page of the archive at ``cursor`` (None: the first), newest first, narrowed by
    its filters, as ``ActivityRow``; its total kept until the activities change, and, when
    words narrow it, counted up to ``paging.COUNT_UP_TO`` + 1 only (each row costs a look
    for the words: the page says "more than" beyond it)."""
    up_to = paging.COUNT_UP_TO if filters.words else None

    def count() -> int:
        found = _archive_query(filters).with_only_columns(Activity.id)
        if up_to is not None:
            found = found.limit(up_to + 1)
        return db.session.scalar(select(func.count()).select_from(found.subquery()))

    total = cache.memoised("archive-count", (filters, up_to), _ARCHIVE_READS_FROM, count)
    beyond = up_to is not None and total > up_to
    query = (
        _archive_query(filters)
        .with_only_columns(*_ROW_COLUMNS)
        .outerjoin(_COUNTRY, _COUNTRY.id == Activity.country_id)
    )
    page = keyset_page(query, ARCHIVE_ORDER, cursor, per_page, total=None if beyond else total)
    page.items = _activity_rows(page.items)
    page.more_than = up_to if beyond else None
    return page


# What the archive's total and years are read from (with the audit trail, see core.cache).
_ARCHIVE_READS_FROM = cache.watch(Activity, ActivityStateRole)
_YEARS_READ_FROM = cache.watch(Activity)


def archive_years() -> list[int]:
    """The years that have activities, newest first, for the archive's year filter (kept
    until an activity changes)."""

    def years() -> list[int]:
        # Each end in its own subquery: read at one end of ``ix_activities_start_date``
        # (min and max in one select read the whole table on SQLite).
        first, last = db.session.execute(
            select(
                select(func.min(Activity.start_date)).scalar_subquery(),
                select(func.max(Activity.start_date)).scalar_subquery(),
            )
        ).one()
        return [] if first is None else list(range(last.year, first.year - 1, -1))

    return cache.memoised("archive-years", (), _YEARS_READ_FROM, years)


def activity_page(activity_id: int) -> Activity | None:
    """One activity with its places, states, organisations, steps and documents.

    Three queries: the activity joined with its states and organisations (a few rows each,
    so their product stays small), then its steps and its documents, which may be many."""
    return (
        db.session.scalars(
            select(Activity)
            .where(Activity.id == activity_id)
            .options(
                joinedload(Activity.country),
                joinedload(Activity.state_roles).joinedload(ActivityStateRole.state),
                joinedload(Activity.organisations).joinedload(ActivityOrganisation.organisation),
                selectinload(Activity.milestones).joinedload(Milestone.owner),
                selectinload(Activity.documents),
            )
        )
        .unique()
        .one_or_none()
    )


@dataclass(frozen=True)
class MonthGrid:
    first: date
    weeks: list[list[tuple[date, list[Activity]]]]
    # Activities the sources date only by month or year, that may fall in this month:
    # listed beside the grid, never put on a day nobody knows.
    undated: list[Activity] = field(default_factory=list)

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)


def month_grid(first: date) -> MonthGrid:
    """The weeks (Monday first) around the month of ``first``, each day with its activities.

    One query for the activities that overlap the weeks shown, whatever their number.
    """
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start, end = weeks[0][0], weeks[-1][-1]
    month_start = first.replace(day=1)
    month_end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    year_start, year_end = first.replace(month=1, day=1), first.replace(month=12, day=31)
    # Month- and year-dated activities keep the first day of their month or year (and a
    # year-dated one may fall in any month of its years): they are listed apart.
    precision = Activity.date_precision
    activities = db.session.scalars(
        select(Activity)
        .where(
            or_(
                and_(
                    precision == DatePrecision.DAY,
                    Activity.start_date <= end,
                    Activity.end_date >= start,
                ),
                and_(
                    precision == DatePrecision.MONTH,
                    Activity.start_date <= month_end,
                    Activity.end_date >= month_start,
                ),
                and_(
                    precision == DatePrecision.YEAR,
                    Activity.start_date <= year_end,
                    Activity.end_date >= year_start,
                ),
            )
        )
        .options(*LIST_OPTIONS)
        .order_by(Activity.start_date, Activity.id)
    ).all()
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


def feed_activities(
    since: date, kinds: list[ActivityKind], state_id: int | None, limit: int = 150
) -> list[Activity]:
    """Activities for a calendar feed: those not over before ``since``, soonest first,
    of the given kinds (all when empty) and with the given state in any role."""
    query = (
        select(Activity)
        .where(Activity.end_date >= since)
        .options(*LIST_OPTIONS)
        .order_by(Activity.start_date, Activity.id)
        .limit(limit)
    )
    if kinds:
        query = query.where(Activity.kind.in_(kinds))
    if state_id:
        query = query.where(
            Activity.id.in_(
                select(ActivityStateRole.activity_id).where(ActivityStateRole.state_id == state_id)
            )
        )
    return db.session.scalars(query).all()


@dataclass(frozen=True)
class Related:
    """Links of one activity, read from its side: its own and those pointing at it."""

    outgoing: list[ActivityLink]
    incoming: list[ActivityLink]
    series: list[Activity]


def related(activity: Activity) -> Related:
    """The activity's links both ways (one query) and the other modules of its series (one
    more, for a module of a series)."""
    links = db.session.scalars(
        select(ActivityLink)
        .where(or_(ActivityLink.source_id == activity.id, ActivityLink.target_id == activity.id))
        .options(joinedload(ActivityLink.source), joinedload(ActivityLink.target))
        .order_by(ActivityLink.id)
    ).all()
    outgoing = [link for link in links if link.source_id == activity.id]
    incoming = [link for link in links if link.target_id == activity.id]
    series = []
    if activity.series_title:
        series = db.session.scalars(
            select(Activity)
            .where(Activity.series_title == activity.series_title)
            .order_by(Activity.series_position, Activity.start_date)
        ).all()
    return Related(outgoing, incoming, series)


def link_candidates(activity: Activity, years: int = 3, limit: int = 400) -> list:
    """Activities near this one in time, to link it with: within ``years`` either side
    (id, title, start date and its precision: what the choice shows)."""
    span = timedelta(days=365 * years)
    return db.session.execute(
        select(Activity.id, Activity.title, Activity.start_date, Activity.date_precision)
        .where(
            Activity.id != activity.id,
            Activity.start_date.between(activity.start_date - span, activity.start_date + span),
        )
        .order_by(Activity.start_date.desc())
        .limit(limit)
    ).all()


def feed_stamp(since: date) -> tuple:
    """What changes whenever a feed from ``since`` would: the last edit and the count of
    the activities it may hold (a deletion lowers the count)."""
    return tuple(
        db.session.execute(
            select(func.max(Activity.updated_at), func.count(Activity.id)).where(
                Activity.end_date >= since
            )
        ).one()
    )
