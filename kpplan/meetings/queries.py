"""Read paths of the activity pages, each eager-loading what its page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

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
    Document,
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
        query = query.where(_has_words(filters.words))
    return query


def _has_words(words: str):
    """SQL: the activity's title or theme holds ``words``, whatever the case.

    On PostgreSQL as ``ILIKE`` on the columns themselves, whose statistics tell the planner
    how many activities hold the words: on ``lower(title)``, which it has none of, it
    guessed one, and read and sorted every activity (a third of them at 100x for a
    common word) instead of walking the start-date index newest first and stopping
    after a page. SQLite's ``LIKE`` ignores case already (``lower`` kept as it was)."""
    pattern = f"%{words.lower()}%"
    if db.session.get_bind().dialect.name == "postgresql":
        return or_(Activity.title.ilike(pattern), Activity.theme.ilike(pattern))
    return or_(func.lower(Activity.title).like(pattern), func.lower(Activity.theme).like(pattern))


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


# Whether the activity has documents, asked with the activity itself: most have none, and
# their own query (a round trip, and the ORM's work) is then left out.
_HAS_DOCUMENTS = (
    select(Document.id)
    .where(Document.activity_id == Activity.id)
    .correlate(Activity)
    .exists()
    .label("has_documents")
)


def activity_page(activity_id: int) -> Activity | None:
    """One activity with its places, states, organisations, steps and documents.

    Two queries, three with documents: the activity joined with its states and
    organisations (a few rows each, so their product stays small) and whether it has
    documents, then its steps, then its documents when it has any (which may be many)."""
    found = (
        db.session.execute(
            select(Activity, _HAS_DOCUMENTS)
            .where(Activity.id == activity_id)
            .options(
                joinedload(Activity.country),
                joinedload(Activity.state_roles).joinedload(ActivityStateRole.state),
                joinedload(Activity.organisations).joinedload(ActivityOrganisation.organisation),
                selectinload(Activity.milestones).joinedload(Milestone.owner),
            )
        )
        .unique()
        .one_or_none()
    )
    if found is None:
        return None
    activity, has_documents = found
    documents = (
        db.session.scalars(
            select(Document).where(Document.activity_id == activity.id).order_by(Document.id)
        ).all()
        if has_documents
        else []
    )
    # As loaded with the activity: the page reads them without another query.
    set_committed_value(activity, "documents", list(documents))
    return activity


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


#: What the "link to" choices are read from (``activity_views``: kept until it changes).
LINK_CHOICES_READ = cache.watch(Activity)


def link_choices(activity: Activity) -> list[tuple[int, str]]:
    """``link_candidates`` as the page's choices, (id, "12–13 Jul 2022 — title"), from
    ``LINK_CHOICES_READ`` alone."""
    return [
        (a.id, f"{day_range(a.start_date, a.start_date, a.date_precision)} — {a.title}")
        for a in link_candidates(activity)
    ]


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
