"""Read paths of the reports: figures aggregated in SQL, the timeline, the exports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, not_, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from kpplan.chair.models import Chairmanship
from kpplan.core.cache import memoised, watch
from kpplan.core.dates import DatePrecision
from kpplan.core.extensions import db
from kpplan.meetings.kinds import REPORT_ORDER, ActivityKind
from kpplan.meetings.models import Activity, ActivityOrganisation, Status
from kpplan.meetings.queries import LIST_OPTIONS, ArchiveFilters, archive_select
from kpplan.participants.models import InvitationList
from kpplan.participants.queries import counted_lists
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.recommendations.tallies import EVERY_THEME, ActivityTally, FollowUpTally

# Only what happened counts: an activity held, or held and closed with its outcome.
HELD = (Status.HELD, Status.CLOSED)
# Only the Process's own: a meeting of another process (the JVAP's) is shown apart.
OWN = Activity.other_process.is_(None)


@dataclass(frozen=True)
class OtherProcessActivity:
    """A meeting of another process held in the period: not counted, but named."""

    id: int
    title: str
    start_date: date
    other_process: str


@dataclass(frozen=True)
class KindFigures:
    """The figures of one kind of activity over a period."""

    kind: ActivityKind
    activities: int
    participants: int
    # Summed over the activities: how many country and organisation delegations came.
    countries: int
    organisations: int
    # How many of the activities have a participant figure at all.
    with_participants: int
    # Of which counted from an attendance list (instead of typed), with their participants
    # and the women among them.
    from_lists: int = 0
    counted: int = 0
    women: int = 0


@dataclass(frozen=True)
class RecommendationCounts:
    """Recommendations recorded over a period, and how many are at each follow-up status
    (of one state's follow-ups only when ``state_id`` is set: a focal point's figures)."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    state_id: int | None = None


@dataclass(frozen=True)
class Statistics:
    start: date
    end: date
    rows: list[KindFigures]
    not_held: int
    recommendations: RecommendationCounts
    other_processes: list[OtherProcessActivity] = field(default_factory=list)

    @property
    def activities(self) -> int:
        return sum(r.activities for r in self.rows)

    @property
    def participants(self) -> int:
        return sum(r.participants for r in self.rows)

    @property
    def countries(self) -> int:
        return sum(r.countries for r in self.rows)

    @property
    def organisations(self) -> int:
        return sum(r.organisations for r in self.rows)

    @property
    def with_participants(self) -> int:
        return sum(r.with_participants for r in self.rows)

    @property
    def from_lists(self) -> int:
        return sum(r.from_lists for r in self.rows)

    @property
    def counted(self) -> int:
        return sum(r.counted for r in self.rows)

    @property
    def women(self) -> int:
        return sum(r.women for r in self.rows)

    @property
    def women_share(self) -> int | None:
        """The share of women among the participants counted from attendance lists."""
        return round(100 * self.women / self.counted) if self.counted else None


def activity_figures(start: date, end: date) -> list[KindFigures]:
    """Per kind, the activities held (or closed) that started from ``start`` to ``end``
    (both included), with their participants and delegations: one grouped query.

    An activity whose attendance was ticked counts the figures of its list; the others
    count the figures typed on them. Kinds without an activity are left out; the rest
    come in the kinds' ``report_order``.
    """
    counted = counted_lists()
    participants = func.coalesce(counted.c.attended, Activity.participants)
    countries = func.coalesce(counted.c.countries, Activity.countries_represented)
    organisations = func.coalesce(counted.c.organisations, Activity.organisations_represented)
    rows = db.session.execute(
        select(
            Activity.kind,
            func.count(Activity.id),
            func.coalesce(func.sum(participants), 0),
            func.coalesce(func.sum(countries), 0),
            func.coalesce(func.sum(organisations), 0),
            func.count(participants),
            func.count(counted.c.activity_id),
            func.coalesce(func.sum(counted.c.attended), 0),
            func.coalesce(func.sum(counted.c.women), 0),
        )
        .outerjoin(counted, counted.c.activity_id == Activity.id)
        .where(Activity.start_date.between(start, end), Activity.status.in_(HELD), OWN)
        .group_by(Activity.kind)
    ).all()
    by_kind = {row[0]: KindFigures(row[0], *(int(v) for v in row[1:])) for row in rows}
    return [by_kind[k] for k in REPORT_ORDER if k in by_kind]


def not_yet_held(start: date, end: date) -> int:
    """Activities of the period that are neither held nor cancelled (so not counted)."""
    return db.session.scalar(
        select(func.count(Activity.id)).where(
            Activity.start_date.between(start, end),
            Activity.status.not_in([*HELD, Status.CANCELLED]),
            OWN,
        )
    )


def other_process_activities(start: date, end: date) -> list[OtherProcessActivity]:
    """The meetings of other processes held (or closed) that started in the period, which
    ``activity_figures`` leaves out, in date order."""
    rows = db.session.execute(
        select(Activity.id, Activity.title, Activity.start_date, Activity.other_process)
        .where(
            Activity.start_date.between(start, end),
            Activity.status.in_(HELD),
            Activity.other_process.is_not(None),
        )
        .order_by(Activity.start_date, Activity.id)
    ).all()
    return [OtherProcessActivity(*row) for row in rows]


# What the recommendations' figures read: their number (which recommendations a period
# holds) is kept until a recommendation or an activity changes; their follow-ups by status
# also until a follow-up does (read from the figures kept on write).
_SIZES_READ = watch(Recommendation, Activity)
_COUNTS_READ = watch(FollowUp, StatusUpdate, Recommendation, Activity)


@dataclass(frozen=True)
class _Sizes:
    """How many recommendations in force a period holds, and how many it leaves out."""

    inside: int
    outside: int


def recommendation_counts(
    start: date, end: date, state_id: int | None = None
) -> RecommendationCounts:
    """Recommendations recorded at the activities ``activity_figures`` counts (held or
    closed, started from ``start`` to ``end``), withdrawn ones left out; and their
    addressees' follow-ups by status (status label → count) — only the follow-ups of
    ``state_id`` when given: a focal point's figures never count another state's (a period
    narrowed to one recommendation would show that state's status).

    Their number is kept until a recommendation or an activity changes (a status update
    leaves it); the follow-ups by status until a follow-up changes too, each added up in one
    query over the smaller side: the period's recommendations, or, when the period holds
    most of them (the default, every year), the figures kept over every recommendation in
    force less those of the few the period leaves out."""
    sizes = memoised("recommendation_sizes", (start, end), _SIZES_READ, lambda: _sizes(start, end))
    return memoised(
        "recommendation_counts",
        (start, end, state_id),
        _COUNTS_READ,
        lambda: _recommendation_counts(start, end, state_id, sizes),
    )


def _counted_activities(start: date, end: date, counted: bool = True):
    """The activities the period counts (or, ``counted`` False, those it leaves out)."""
    condition = and_(Activity.start_date.between(start, end), Activity.status.in_(HELD), OWN)
    return select(Activity.id).where(condition if counted else not_(condition))


def _sizes(start: date, end: date) -> _Sizes:
    inside = Recommendation.activity_id.in_(_counted_activities(start, end))
    row = db.session.execute(
        select(
            func.count(Recommendation.id),
            func.coalesce(func.sum(case((inside, 1), else_=0)), 0),
        ).where(Recommendation.withdrawn_at.is_(None))
    ).one()
    return _Sizes(inside=int(row[1]), outside=int(row[0]) - int(row[1]))


def _everything(state_id: int | None):
    """The follow-ups of every recommendation in force (of ``state_id`` when given) by
    status, as kept on write (per state, over every theme): rows of status and n."""
    everything = select(FollowUpTally.status.label("status"), FollowUpTally.n.label("n")).where(
        FollowUpTally.theme == EVERY_THEME
    )
    if state_id:
        everything = everything.where(FollowUpTally.state_id == state_id)
    return everything


def _recommendation_counts(
    start: date, end: date, state_id: int | None, sizes: _Sizes, outside: bool | None = None
) -> RecommendationCounts:
    """``outside``: add up the recommendations the period leaves out (and take them from
    the kept figures over every recommendation in force) rather than those it holds; by
    default whichever are fewer."""
    if outside is None:
        outside = sizes.outside < sizes.inside
    # Each side read from its activities, through the index of their recommendations (NOT
    # IN the counted ones would read every recommendation to find the few left out).
    side = Recommendation.activity_id.in_(_counted_activities(start, end, not outside))
    in_force = Recommendation.withdrawn_at.is_(None)
    if state_id:
        # A focal point's: their state's follow-up of each recommendation.
        status, n = FollowUp.status, func.count(FollowUp.id)
        side_counts = (
            select(status.label("status"), n.label("n"))
            .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
            .where(in_force, side, FollowUp.state_id == state_id)
            .group_by(status)
        )
    else:
        # Every addressee's: from the figures kept per activity (over the recommendations
        # in force made there), a few rows for each of the side's activities.
        status, n = ActivityTally.status, func.sum(ActivityTally.n)
        side_counts = (
            select(status.label("status"), n.label("n"))
            .where(ActivityTally.activity_id.in_(_counted_activities(start, end, not outside)))
            .group_by(status)
        )
    if outside and not sizes.outside:
        # The period holds every recommendation in force (every year, the default).
        every = _everything(state_id).subquery()
        status_counts = select(every.c.status, func.sum(every.c.n)).group_by(every.c.status)
    elif outside:
        # Every recommendation in force, less those the period leaves out: one query.
        left_out = side_counts.subquery()
        both = union_all(_everything(state_id), select(left_out.c.status, -left_out.c.n)).subquery()
        status_counts = select(both.c.status, func.sum(both.c.n)).group_by(both.c.status)
    else:
        status_counts = side_counts
    rows = {getattr(k, "value", k): int(n or 0) for k, n in db.session.execute(status_counts)}
    by_status = {s.label: rows[s.value] for s in FollowUpStatus if rows.get(s.value)}
    return RecommendationCounts(sizes.inside, by_status, state_id)


# What the activities' side of the statistics reads: kept until an activity or an
# attendance list changes (a follow-up's update, the day's usual write, leaves it).
_ACTIVITIES_READ = watch(Activity, InvitationList)


@dataclass(frozen=True)
class _ActivitySide:
    rows: tuple[KindFigures, ...]
    not_held: int
    other_processes: tuple[OtherProcessActivity, ...]


def _activity_side(start: date, end: date) -> _ActivitySide:
    return _ActivitySide(
        tuple(activity_figures(start, end)),
        not_yet_held(start, end),
        tuple(other_process_activities(start, end)),
    )


def statistics(start: date, end: date, state_id: int | None = None) -> Statistics:
    """Everything the statistics page and its CSV show for a period; the follow-up figures
    of ``state_id``'s follow-ups only when given (see ``recommendation_counts``). The
    activities' figures (which read every activity of the period, thousands at scale) are
    kept until an activity or an attendance list changes."""
    side = memoised(
        "statistics_activities", (start, end), _ACTIVITIES_READ, lambda: _activity_side(start, end)
    )
    return Statistics(
        start=start,
        end=end,
        rows=list(side.rows),
        not_held=side.not_held,
        recommendations=recommendation_counts(start, end, state_id),
        other_processes=list(side.other_processes),
    )


def activity_span() -> tuple[date | None, date | None]:
    """The first start and the last end of all activities, for default periods (kept
    until an activity changes: the two ends read every activity)."""
    return memoised("activity_span", None, watch(Activity), _activity_span)


def _activity_span() -> tuple[date | None, date | None]:
    first, last = db.session.execute(
        select(func.min(Activity.start_date), func.max(Activity.end_date))
    ).one()
    return first, last


@dataclass(frozen=True)
class TimelineActivity:
    id: int
    kind: ActivityKind
    title: str
    start_date: date
    end_date: date
    status: Status
    date_precision: DatePrecision


def timeline_activities(start: date, end: date) -> list[TimelineActivity]:
    """The activities that overlap ``start``–``end``, as plain rows (one query, no objects)."""
    rows = db.session.execute(
        select(
            Activity.id,
            Activity.kind,
            Activity.title,
            Activity.start_date,
            Activity.end_date,
            Activity.status,
            Activity.date_precision,
        )
        .where(Activity.start_date <= end, Activity.end_date >= start)
        .order_by(Activity.start_date, Activity.id)
    ).all()
    return [TimelineActivity(*row) for row in rows]


def dated_chairmanships() -> list[Chairmanship]:
    """Chairmanships with a start date, in order, with their states (one query)."""
    return db.session.scalars(
        select(Chairmanship)
        .where(Chairmanship.start_date.is_not(None))
        .options(joinedload(Chairmanship.state))
        .order_by(Chairmanship.start_date, Chairmanship.id)
    ).all()


def export_activities(filters: ArchiveFilters) -> Iterable[Activity]:
    """Every activity the archive shows for ``filters``, oldest first, with what the export
    writes: place, states and organisations (three queries, whatever the number)."""
    query = archive_select(filters).options(
        *LIST_OPTIONS,
        selectinload(Activity.organisations).joinedload(ActivityOrganisation.organisation),
    )
    query = query.order_by(None).order_by(Activity.start_date, Activity.id)
    return db.session.scalars(query).all()
