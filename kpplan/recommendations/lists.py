"""The list of recommendations: its filters, its pages, its export and the choices of its
filters.

The list is read newest meeting first on one index (``ix_recommendations_list_order``,
over the ``meeting_date`` kept on each recommendation), a page at a time by the last
row's key (``core.paging``). Its total and the choices of its filters (years, latest
activities) are kept (``_kept``), each until a table it is read from changes: the years
until a recommendation changes, the activities also until an activity does, and a total
until the recommendations (and their themes, or their follow-ups, when the filters read
them) change. A focal point's status update therefore leaves the years, the activities
and every total not narrowed by follow-ups as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.core import cache, paging
from kpplan.core.extensions import db
from kpplan.core.paging import Key, KeysetPage, keyset_page
from kpplan.directory.models import State
from kpplan.meetings.models import Activity
from kpplan.recommendations import day_figures
from kpplan.recommendations.figures import Figures, figures_for
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation, RecommendationTheme
from kpplan.recommendations.queries import Scope, overdue
from kpplan.recommendations.search import matches_order, search_words, with_words
from kpplan.recommendations.statuses import FollowUpStatus

T = TypeVar("T")

#: The list's order, newest meeting first: the columns of ``ix_recommendations_list_order``.
ORDER = (
    Key(Recommendation.meeting_date, descending=True),
    Key(Recommendation.activity_id),
    Key(Recommendation.number),
)

# What the list's totals and choices are read from, each kept until its own tables change
# (their change counters): the years read the recommendations (their meeting dates), the
# activities also the activities' titles and dates, a total the recommendations and, as
# its filters ask, their themes and their follow-ups.
_YEARS_READ = cache.watch(Recommendation)
ACTIVITIES_READ = cache.watch(Recommendation, Activity)
_THEMES_READ = cache.watch(RecommendationTheme)
_FOLLOW_UPS_READ = cache.watch(FollowUp)
_STATES_READ = cache.watch(State)


def _kept(name: str, args: tuple, read: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, kept until one of the tables of ``read`` changes."""
    return cache.memoised(f"recommendation-list:{name}", args, read, compute)


def _count_reads(filters: Filters, scope: Scope) -> tuple:
    """The tables the total of ``filters`` is read from: a status update (which changes
    a follow-up, not a recommendation) leaves a total not narrowed by follow-ups alone.
    The words are read from the full-text index, kept in step with the recommendations."""
    read = _YEARS_READ
    if filters.theme:
        read += _THEMES_READ
    if _narrowed_by_follow_ups(filters, scope):
        read += _FOLLOW_UPS_READ
    return read


@dataclass(frozen=True)
class Filters:
    status: FollowUpStatus | None = None
    state_id: int | None = None
    theme: str | None = None
    activity_id: int | None = None
    year: int | None = None
    overdue: bool = False
    words: str = ""
    # "open" (not withdrawn), "withdrawn" or "all".
    show: str = "open"


def _follow_up_conditions(filters: Filters, scope: Scope, today: date) -> list:
    conditions = [scope.where()]
    if filters.state_id:
        conditions.append(FollowUp.state_id == filters.state_id)
    if filters.status is not None:
        conditions.append(FollowUp.status == filters.status)
    if filters.overdue:
        conditions.append(overdue(today))
    return conditions


def _theme_condition(theme: str, recommendation_id):
    return (
        select(RecommendationTheme.code)
        .where(
            RecommendationTheme.recommendation_id == recommendation_id,
            RecommendationTheme.code == theme,
        )
        .exists()
    )


def _meeting_conditions(filters: Filters) -> list:
    """The conditions on the recommendation's own columns: its activity and year."""
    conditions = []
    if filters.activity_id:
        conditions.append(Recommendation.activity_id == filters.activity_id)
    if filters.year:
        conditions.append(
            Recommendation.meeting_date.between(
                date(filters.year, 1, 1), date(filters.year, 12, 31)
            )
        )
    return conditions


def _list_query(filters: Filters, scope: Scope, today: date):
    # Conditions on the themes and the follow-ups are EXISTS, correlated to each row: the
    # database walks the list's index and stops once it has a page (an IN list would
    # read every matching follow-up, thousands at scale, before sorting them). The words
    # are the other way round: the full-text index gives the few rows that have them.
    query = select(Recommendation)
    if filters.show == "open":
        query = query.where(Recommendation.withdrawn_at.is_(None))
    elif filters.show == "withdrawn":
        query = query.where(Recommendation.withdrawn_at.is_not(None))
    if filters.theme:
        query = query.where(_theme_condition(filters.theme, Recommendation.id))
    query = query.where(*_meeting_conditions(filters))
    if filters.words:
        query = with_words(query, filters.words)
    if _narrowed_by_follow_ups(filters, scope):
        query = query.where(
            select(FollowUp.id)
            .where(
                FollowUp.recommendation_id == Recommendation.id,
                *_follow_up_conditions(filters, scope, today),
            )
            .exists()
        )
    return query


def _one_state_query(filters: Filters, scope: Scope, today: date):
    """The follow-ups of the one state the list is narrowed to (a filter or a focal
    point's scope) that the filters find: a recommendation has at most one follow-up per
    state (their unique key), so there are as many as recommendations found. Read from
    the index of a state's follow-ups, where walking the recommendations and looking up
    each one's follow-up would read thousands that the state is not addressed."""
    query = select(FollowUp.id).where(*_follow_up_conditions(filters, scope, today))
    # The withdrawn recommendations, from their own small index (0031).
    withdrawn = select(Recommendation.id).where(Recommendation.withdrawn_at.is_not(None))
    if filters.show == "open":
        query = query.where(FollowUp.recommendation_id.not_in(withdrawn))
    elif filters.show == "withdrawn":
        query = query.where(FollowUp.recommendation_id.in_(withdrawn))
    if filters.theme:
        query = query.where(_theme_condition(filters.theme, FollowUp.recommendation_id))
    if meeting := _meeting_conditions(filters):
        query = query.join(Recommendation, FollowUp.recommendation_id == Recommendation.id).where(
            *meeting
        )
    return query


def _narrowed_by_follow_ups(filters: Filters, scope: Scope) -> bool:
    return bool(
        not scope.everything or filters.state_id or filters.status is not None or filters.overdue
    )


#: Beyond this many, a narrowed list says "more than" rather than counting them all.
COUNT_UP_TO = paging.COUNT_UP_TO


def _counted_up_to(filters: Filters, scope: Scope) -> bool:
    return bool(filters.theme or filters.words or _narrowed_by_follow_ups(filters, scope))


def _overdue_of_one_state(filters: Filters, scope: Scope) -> int | None:
    """The state whose overdue recommendations in force the filters ask for (the filters
    "state" and "overdue", or "overdue" in a focal point's scope, and nothing else): their
    total is the state's overdue figure of the day, kept on write (a recommendation has at
    most one follow-up per state), when the day is counted for today. ``None`` for any
    other filters."""
    state_id = filters.state_id or scope.state_id
    if (
        not filters.overdue
        or not state_id
        or (filters.state_id and scope.state_id and filters.state_id != scope.state_id)
        or filters.show != "open"
        or filters.status is not None
        or filters.theme
        or filters.activity_id
        or filters.year
        or filters.words
    ):
        return None
    return state_id


def count_found(filters: Filters, scope: Scope, today: date) -> int:
    """How many recommendations the filters find, kept until the data changes; when the
    follow-ups, a theme or words narrow the list, counted up to ``COUNT_UP_TO`` + 1 only
    (each row costs a look-up: the list says "more than" beyond it)."""

    def count() -> int:
        if (filters.state_id or scope.state_id) and not filters.words:
            found = _one_state_query(filters, scope, today)
        else:
            found = _list_query(filters, scope, today).with_only_columns(Recommendation.id)
        if _counted_up_to(filters, scope):
            found = found.limit(COUNT_UP_TO + 1)
        counted = select(func.count()).select_from(found.subquery())
        state_id = _overdue_of_one_state(filters, scope)
        if state_id is None:
            return db.session.scalar(counted)
        figure = day_figures.overdue_of_state(state_id, today, counted.scalar_subquery())
        return min(db.session.scalar(figure), COUNT_UP_TO + 1)

    # "Overdue" moves with the day: the day is part of what the total is kept for.
    return _kept(
        "count",
        (filters, scope, today if filters.overdue else None),
        _count_reads(filters, scope),
        count,
    )


@dataclass
class ListedRecommendation:
    """A row of the list: the columns it shows, read without the objects."""

    id: int
    code: str
    text: str
    target_date: date | None
    withdrawn_at: datetime | None
    illustrative: bool
    meeting_date: date
    activity_id: int
    number: int
    activity_title: str
    theme_codes: list[str]

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


# Each row's themes in the same query, as one text ("RD1,RD3": codes hold no comma), read
# only for the page's rows; sorted here, since neither database promises the order of an
# aggregated text.
_THEME_CODES = (
    select(func.aggregate_strings(RecommendationTheme.code, ","))
    .where(RecommendationTheme.recommendation_id == Recommendation.id)
    .correlate(Recommendation)
    .scalar_subquery()
    .label("theme_codes")
)


_LISTED = (
    Recommendation.id,
    Recommendation.code,
    Recommendation.text,
    Recommendation.target_date,
    Recommendation.withdrawn_at,
    Recommendation.illustrative,
    Recommendation.meeting_date,
    Recommendation.activity_id,
    Recommendation.number,
    Activity.title.label("activity_title"),
    _THEME_CODES,
)


def recommendations_page(
    filters: Filters, scope: Scope, today: date, cursor: str | None, per_page: int
) -> tuple[KeysetPage[ListedRecommendation], dict[int, Figures]]:
    """The page of recommendations at ``cursor`` (None: the first), newest meeting first,
    with the columns the list shows (rows, not objects: a page's 50 objects with their
    activities and themes cost more than its SQL) and their figures; the same few queries
    whatever the page and the size of the data."""
    query = (
        _list_query(filters, scope, today)
        .with_only_columns(*_LISTED)
        .join(Activity, Activity.id == Recommendation.activity_id)
    )
    # The change counters of everything the page keeps, read in one query for the request.
    cache.change_stamp(*ACTIVITIES_READ, *_THEMES_READ, *_FOLLOW_UPS_READ)
    total = count_found(filters, scope, today)
    beyond = _counted_up_to(filters, scope) and total > COUNT_UP_TO
    # Words: the matches in the index's order, a page read without reading them all (no
    # word to look for: no match, and nothing joined to order by).
    order = matches_order() if search_words(filters.words) else ORDER
    page = keyset_page(query, order, cursor, per_page, total=None if beyond else total)
    page.more_than = COUNT_UP_TO if beyond else None
    page.items = [
        ListedRecommendation(
            *row[:-1], sorted(row.theme_codes.split(",")) if row.theme_codes else []
        )
        for row in page.items
    ]
    return page, figures_for([row.id for row in page.items], scope, today)


def export_rows(filters: Filters, scope: Scope, today: date, limit: int = 20000):
    """Every recommendation the filters find, with what the export writes."""
    query = (
        _list_query(filters, scope, today)
        .options(
            joinedload(Recommendation.activity),
            joinedload(Recommendation.predecessor),
            selectinload(Recommendation.themes),
            selectinload(Recommendation.follow_ups).options(
                joinedload(FollowUp.state), joinedload(FollowUp.organisation)
            ),
        )
        .order_by(Recommendation.meeting_date, Recommendation.activity_id, Recommendation.number)
        .limit(limit)
    )
    return db.session.scalars(query).all()


def recommendation_years() -> list[int]:
    """The years of the meetings that made recommendations, latest first (kept)."""

    def years() -> list[int]:
        # Each end in its own subquery: the database reads it at one end of the list's
        # index (min and max in one select read the whole table on SQLite).
        first, last = db.session.execute(
            select(
                select(func.min(Recommendation.meeting_date)).scalar_subquery(),
                select(func.max(Recommendation.meeting_date)).scalar_subquery(),
            )
        ).one()
        return [] if first is None else list(range(last.year, first.year - 1, -1))

    return _kept("years", (), _YEARS_READ, years)


def activities_with_recommendations(chosen: int | None = None, limit: int = 150) -> list:
    """The latest activities that have recommendations (id, title, start date), for the
    list's filter (kept); and the chosen one, however old."""

    def latest() -> list:
        # Read along the list's index: the first ``limit`` meetings met, newest first.
        latest = (
            select(Recommendation.meeting_date, Recommendation.activity_id)
            .group_by(Recommendation.meeting_date, Recommendation.activity_id)
            .order_by(Recommendation.meeting_date.desc(), Recommendation.activity_id)
            .limit(limit)
            .subquery()
        )
        return db.session.execute(
            select(*columns)
            .join(latest, latest.c.activity_id == Activity.id)
            .order_by(latest.c.meeting_date.desc(), latest.c.activity_id)
        ).all()

    columns = (Activity.id, Activity.title, Activity.start_date)
    rows = list(_kept("activities", (limit,), ACTIVITIES_READ, latest))
    if chosen and all(row.id != chosen for row in rows):
        rows += db.session.execute(select(*columns).where(Activity.id == chosen)).all()
    return rows


def member_state_choices() -> list:
    """The member states (id, name) by name, for the list's filter (kept until a state
    changes)."""

    def states() -> list:
        return db.session.execute(
            select(State.id, State.name).where(State.is_member.is_(True)).order_by(State.name)
        ).all()

    return _kept("states", (), _STATES_READ, states)
