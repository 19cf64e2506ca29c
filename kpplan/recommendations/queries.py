"""Reading recommendations and follow-ups, with the eager loading each page needs.

Every function takes a ``Scope``: a focal point sees only the follow-ups of their own
state; the secretariat, the Chair and observers see all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, extract, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.core.cache import memoised
from kpplan.core.extensions import db
from kpplan.directory.models import Role, State
from kpplan.meetings.models import Activity
from kpplan.recommendations import deadlines
from kpplan.recommendations.deadlines import URGENCIES
from kpplan.recommendations.models import (
    OPEN_STATUSES,
    FollowUp,
    FollowUpStatus,
    Recommendation,
    RecommendationTheme,
    StatusUpdate,
    Validation,
)
from kpplan.recommendations.themes import THEMES

# What the kept figures are computed from (with the audit trail): see kpplan.cache.
_STAMPED = (FollowUp, StatusUpdate, Recommendation)


@dataclass(frozen=True)
class Scope:
    """Whose follow-ups a person sees: one state's (``state_id``) or every addressee's."""

    state_id: int | None = None

    @property
    def everything(self) -> bool:
        return self.state_id is None

    def allows(self, follow_up: FollowUp) -> bool:
        return self.everything or follow_up.state_id == self.state_id

    def where(self):
        """A condition on ``FollowUp`` for this scope (true for everything)."""
        return FollowUp.state_id == self.state_id if self.state_id else True


def scope_of(user: Any) -> Scope:
    """A focal point sees their own state's follow-ups; every other role sees them all."""
    if getattr(user, "role", None) is Role.FOCAL_POINT:
        return Scope(state_id=user.state_id)
    return Scope()


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


@dataclass
class Figures:
    """How the addressees of one recommendation (within the scope) stand."""

    total: int = 0
    implemented: int = 0
    overdue: int = 0
    pending: int = 0
    not_applicable: int = 0

    @property
    def share(self) -> int | None:
        """Implemented, in percent of the addressees it applies to."""
        applicable = self.total - self.not_applicable
        return round(100 * self.implemented / applicable) if applicable else None


def overdue(today: date):
    """SQL: the follow-up is overdue (``FollowUp.is_overdue``)."""
    return FollowUp.is_overdue(today)


def _follow_up_conditions(filters: Filters, scope: Scope, today: date) -> list:
    conditions = [scope.where()]
    if filters.state_id:
        conditions.append(FollowUp.state_id == filters.state_id)
    if filters.status is not None:
        conditions.append(FollowUp.status == filters.status)
    if filters.overdue:
        conditions.append(overdue(today))
    return conditions


def _list_query(filters: Filters, scope: Scope, today: date):
    query = select(Recommendation)
    if filters.show == "open":
        query = query.where(Recommendation.withdrawn_at.is_(None))
    elif filters.show == "withdrawn":
        query = query.where(Recommendation.withdrawn_at.is_not(None))
    if filters.theme:
        query = query.where(
            Recommendation.id.in_(
                select(RecommendationTheme.recommendation_id).where(
                    RecommendationTheme.code == filters.theme
                )
            )
        )
    if filters.activity_id:
        query = query.where(Recommendation.activity_id == filters.activity_id)
    if filters.year:
        query = query.where(
            Recommendation.activity_id.in_(
                select(Activity.id).where(extract("year", Activity.start_date) == filters.year)
            )
        )
    if filters.words:
        pattern = f"%{filters.words.lower()}%"
        query = query.where(
            or_(
                func.lower(Recommendation.text).like(pattern),
                func.lower(Recommendation.code).like(pattern),
            )
        )
    narrowed = (
        not scope.everything or filters.state_id or filters.status is not None or filters.overdue
    )
    if narrowed:
        query = query.where(
            Recommendation.id.in_(
                select(FollowUp.recommendation_id).where(
                    *_follow_up_conditions(filters, scope, today)
                )
            )
        )
    return query


def figures_for(ids: list[int], scope: Scope, today: date) -> dict[int, Figures]:
    """The figures of the given recommendations, in one aggregate query."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            FollowUp.recommendation_id,
            func.count(FollowUp.id),
            func.sum(case((FollowUp.status == FollowUpStatus.IMPLEMENTED, 1), else_=0)),
            func.sum(case((overdue(today), 1), else_=0)),
            func.sum(case((FollowUp.pending_update_id.is_not(None), 1), else_=0)),
            func.sum(case((FollowUp.status == FollowUpStatus.NOT_APPLICABLE, 1), else_=0)),
        )
        .where(FollowUp.recommendation_id.in_(ids), scope.where())
        .group_by(FollowUp.recommendation_id)
    ).all()
    return {row[0]: Figures(*(int(v or 0) for v in row[1:])) for row in rows}


def recommendations_page(
    filters: Filters, scope: Scope, today: date, page: int, per_page: int
) -> tuple[Pagination, dict[int, Figures]]:
    """Recommendations, newest meeting first, with their figures; a constant number of
    queries whatever the page size."""
    query = (
        _list_query(filters, scope, today)
        .join(Activity, Recommendation.activity_id == Activity.id)
        .options(
            joinedload(Recommendation.activity),
            selectinload(Recommendation.themes),
        )
        .order_by(Activity.start_date.desc(), Recommendation.activity_id, Recommendation.number)
    )
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return pagination, figures_for([r.id for r in pagination.items], scope, today)


def export_rows(filters: Filters, scope: Scope, today: date, limit: int = 20000):
    """Every recommendation the filters find, with what the export writes."""
    query = (
        _list_query(filters, scope, today)
        .join(Activity, Recommendation.activity_id == Activity.id)
        .options(
            joinedload(Recommendation.activity),
            joinedload(Recommendation.predecessor),
            selectinload(Recommendation.themes),
            selectinload(Recommendation.follow_ups).options(
                joinedload(FollowUp.state), joinedload(FollowUp.organisation)
            ),
        )
        .order_by(Activity.start_date, Recommendation.activity_id, Recommendation.number)
        .limit(limit)
    )
    return db.session.scalars(query).all()


def recommendation_page(recommendation_id: int) -> Recommendation | None:
    return db.session.scalar(
        select(Recommendation)
        .where(Recommendation.id == recommendation_id)
        .options(
            joinedload(Recommendation.activity),
            joinedload(Recommendation.predecessor),
            selectinload(Recommendation.themes),
            selectinload(Recommendation.revisions),
        )
    )


def successors(recommendation: Recommendation) -> list[Recommendation]:
    """The later recommendations that supersede or re-endorse this one."""
    return db.session.scalars(
        select(Recommendation)
        .where(Recommendation.predecessor_id == recommendation.id)
        .order_by(Recommendation.id)
    ).all()


def follow_ups_of(recommendation: Recommendation, scope: Scope) -> list[FollowUp]:
    """The addressees' follow-ups with their timelines (updates, authors, evidence):
    states by name, then organisations, then the secretariat."""
    return db.session.scalars(
        select(FollowUp)
        .where(FollowUp.recommendation_id == recommendation.id, scope.where())
        .outerjoin(State, FollowUp.state_id == State.id)
        .options(
            joinedload(FollowUp.state),
            joinedload(FollowUp.organisation),
            selectinload(FollowUp.updates).options(
                joinedload(StatusUpdate.author),
                joinedload(StatusUpdate.validated_by),
                selectinload(StatusUpdate.evidence),
            ),
        )
        .order_by(FollowUp.state_id.is_(None), State.name, FollowUp.organisation_id, FollowUp.id)
    ).all()


def follow_up_page(follow_up_id: int) -> FollowUp | None:
    return db.session.scalar(
        select(FollowUp)
        .where(FollowUp.id == follow_up_id)
        .options(
            joinedload(FollowUp.state),
            joinedload(FollowUp.organisation),
            joinedload(FollowUp.recommendation).options(
                joinedload(Recommendation.activity), selectinload(Recommendation.themes)
            ),
            selectinload(FollowUp.updates).options(
                joinedload(StatusUpdate.author),
                joinedload(StatusUpdate.validated_by),
                selectinload(StatusUpdate.evidence),
            ),
        )
    )


# --- A state's follow-ups, most urgent first -------------------------------------------


def urgency_labels() -> dict[str, str]:
    """The urgency levels as the lists name them, with the days in force."""
    return deadlines.current().labels


def urgency_of(follow_up: FollowUp, today: date) -> str:
    """The urgency level of one follow-up (``FollowUp.urgency``), by name."""
    return URGENCIES[follow_up.urgency(today, deadlines.current())]


@dataclass
class StateFollowUps:
    pagination: Pagination
    counts: dict[str, int] = field(default_factory=dict)


def state_follow_ups(
    state_id: int, today: date, page: int, per_page: int, only: str | None = None
) -> StateFollowUps:
    """A state's open follow-ups of recommendations in force: overdue first, then due
    soon, then not updated for long (``deadlines``), then the rest; with the count of each."""
    limits = deadlines.current()
    urgency = FollowUp.urgency(today, limits)
    base = (
        select(FollowUp)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .where(
            FollowUp.state_id == state_id,
            Recommendation.withdrawn_at.is_(None),
            or_(FollowUp.status.in_(OPEN_STATUSES), FollowUp.pending_update_id.is_not(None)),
        )
    )

    def count_levels() -> dict[str, int]:
        counts = dict.fromkeys(URGENCIES, 0)
        # Grouped over a subquery: PostgreSQL sees the urgency's dates as separate
        # parameters in SELECT and GROUP BY otherwise.
        levels = base.with_only_columns(urgency.label("level")).subquery()
        for level, n in db.session.execute(
            select(levels.c.level, func.count()).group_by(levels.c.level)
        ):
            counts[URGENCIES[level]] = n
        return counts

    counts = memoised("state_follow_up_counts", (state_id, today, limits), _STAMPED, count_levels)
    query = base
    if only in URGENCIES:
        query = query.where(urgency == URGENCIES.index(only))
        total = counts[only]
    else:
        total = sum(counts.values())
    query = query.options(
        joinedload(FollowUp.recommendation).joinedload(Recommendation.activity),
        joinedload(FollowUp.state),
    ).order_by(urgency, FollowUp.next_review_date.is_(None), FollowUp.next_review_date, FollowUp.id)
    # The counts above give the total: no second count over the same rows.
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False, count=False)
    pagination.total = total
    return StateFollowUps(pagination, counts)


def validation_queue(page: int, per_page: int) -> Pagination:
    """Updates to "implemented" waiting for the secretariat, oldest first."""
    query = (
        select(StatusUpdate)
        .where(StatusUpdate.validation == Validation.PENDING)
        .options(
            joinedload(StatusUpdate.author),
            joinedload(StatusUpdate.follow_up).options(
                joinedload(FollowUp.state),
                joinedload(FollowUp.organisation),
                joinedload(FollowUp.recommendation),
            ),
            selectinload(StatusUpdate.evidence),
        )
        .order_by(StatusUpdate.posted_at, StatusUpdate.id)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def follow_up_export_rows(state_id: int | None, limit: int = 50000) -> list[FollowUp]:
    """The open and closed follow-ups of a state (or of every state), for the export."""
    query = (
        select(FollowUp)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .join(Activity, Recommendation.activity_id == Activity.id)
        .where(Recommendation.withdrawn_at.is_(None), FollowUp.state_id.is_not(None))
        .options(joinedload(FollowUp.state), joinedload(FollowUp.recommendation))
        .order_by(Activity.start_date, Recommendation.number, FollowUp.state_id)
        .limit(limit)
    )
    if state_id is not None:
        query = query.where(FollowUp.state_id == state_id)
    return db.session.scalars(query).all()


# --- Matrices and shares -------------------------------------------------------------


@dataclass
class Matrix:
    """Recommendations (rows) by addressee state (columns), each cell a follow-up."""

    recommendations: list[Recommendation]
    states: list[State]
    cells: dict[tuple[int, int], FollowUp]

    def cell(self, recommendation: Recommendation, state: State) -> FollowUp | None:
        return self.cells.get((recommendation.id, state.id))


def activity_matrix(activity: Activity, scope: Scope) -> Matrix:
    """The recommendations of one activity by state: three queries, whatever their number."""
    recommendations = db.session.scalars(
        select(Recommendation)
        .where(Recommendation.activity_id == activity.id)
        .options(selectinload(Recommendation.themes))
        .order_by(Recommendation.number)
    ).all()
    follow_ups = db.session.scalars(
        select(FollowUp)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .where(
            Recommendation.activity_id == activity.id,
            FollowUp.state_id.is_not(None),
            scope.where(),
        )
        .options(joinedload(FollowUp.state))
    ).all()
    states = sorted({f.state for f in follow_ups}, key=lambda s: s.name)
    return Matrix(
        list(recommendations), states, {(f.recommendation_id, f.state_id): f for f in follow_ups}
    )


@dataclass
class ShareRow:
    label: str
    total: int
    implemented: int
    not_applicable: int
    pending: int
    key: Any = None

    @property
    def share(self) -> int | None:
        applicable = self.total - self.not_applicable
        return round(100 * self.implemented / applicable) if applicable else None


def _share_columns():
    return (
        func.count(FollowUp.id),
        func.sum(case((FollowUp.status == FollowUpStatus.IMPLEMENTED, 1), else_=0)),
        func.sum(case((FollowUp.status == FollowUpStatus.NOT_APPLICABLE, 1), else_=0)),
        func.sum(case((FollowUp.pending_update_id.is_not(None), 1), else_=0)),
    )


def _in_force():
    return (
        select(FollowUp)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .where(Recommendation.withdrawn_at.is_(None))
    )


def shares_by_state(scope: Scope) -> list[ShareRow]:
    """Implemented share of recommendations in force, per addressee state (in SQL; kept
    until the data changes)."""
    return memoised("shares_by_state", scope, _STAMPED, lambda: _shares_by_state(scope))


def _shares_by_state(scope: Scope) -> list[ShareRow]:
    rows = db.session.execute(
        _in_force()
        .join(State, FollowUp.state_id == State.id)
        .where(scope.where())
        .with_only_columns(State.id, State.name, *_share_columns())
        .group_by(State.id, State.name)
        .order_by(State.name)
    ).all()
    return [ShareRow(name, *(int(v or 0) for v in rest), key=ident) for ident, name, *rest in rows]


def shares_by_theme(scope: Scope) -> list[ShareRow]:
    """Implemented share per thematic tag, in the order of the frames (kept until the data
    changes)."""
    return memoised("shares_by_theme", scope, _STAMPED, lambda: _shares_by_theme(scope))


def _shares_by_theme(scope: Scope) -> list[ShareRow]:
    rows = db.session.execute(
        _in_force()
        .join(
            RecommendationTheme,
            RecommendationTheme.recommendation_id == FollowUp.recommendation_id,
        )
        .where(scope.where())
        .with_only_columns(RecommendationTheme.code, *_share_columns())
        .group_by(RecommendationTheme.code)
    ).all()
    by_code = {code: rest for code, *rest in rows}
    return [
        ShareRow(t.label, *(int(v or 0) for v in by_code[t.code]), key=t.code)
        for t in THEMES
        if t.code in by_code
    ]


def status_totals(scope: Scope) -> dict[FollowUpStatus, int]:
    """How many follow-ups of recommendations in force stand at each status (kept until
    the data changes)."""
    return memoised("status_totals", scope, _STAMPED, lambda: _status_totals(scope))


def _status_totals(scope: Scope) -> dict[FollowUpStatus, int]:
    rows = db.session.execute(
        _in_force()
        .where(scope.where())
        .with_only_columns(FollowUp.status, func.count(FollowUp.id))
        .group_by(FollowUp.status)
    ).all()
    totals = dict.fromkeys(FollowUpStatus, 0)
    totals.update(dict(rows))
    return totals


def recommendation_years() -> list[int]:
    first, last = db.session.execute(
        select(func.min(Activity.start_date), func.max(Activity.start_date)).where(
            Activity.id.in_(select(Recommendation.activity_id))
        )
    ).one()
    if first is None:
        return []
    return list(range(last.year, first.year - 1, -1))


def activities_with_recommendations(chosen: int | None = None, limit: int = 150) -> list:
    """The latest activities that have recommendations (id, title, start date), for the
    list's filter; and the chosen one, however old."""
    columns = (Activity.id, Activity.title, Activity.start_date)
    rows = db.session.execute(
        select(*columns)
        .where(Activity.id.in_(select(Recommendation.activity_id).distinct()))
        .order_by(Activity.start_date.desc())
        .limit(limit)
    ).all()
    if chosen and all(row.id != chosen for row in rows):
        rows += db.session.execute(select(*columns).where(Activity.id == chosen)).all()
    return rows


def recommendation_by_code(code: str) -> Recommendation | None:
    return db.session.scalar(select(Recommendation).where(Recommendation.code == code.strip()))


@dataclass
class Summary:
    overdue: int = 0
    due_soon: int = 0
    stale: int = 0
    pending: int = 0


def follow_up_summary(scope: Scope, today: date) -> Summary:
    """Open follow-ups of recommendations in force that need attention, in one query
    (kept until the data, the day or the days of ``deadlines`` change)."""
    limits = deadlines.current()
    return memoised(
        "follow_up_summary",
        (scope, today, limits),
        _STAMPED,
        lambda: _follow_up_summary(scope, today, limits),
    )


def _follow_up_summary(scope: Scope, today: date, limits: deadlines.Deadlines) -> Summary:
    row = db.session.execute(
        _in_force()
        .where(scope.where())
        .with_only_columns(
            func.sum(case((overdue(today), 1), else_=0)),
            func.sum(case((FollowUp.is_due_soon(today, limits.due_soon_days), 1), else_=0)),
            func.sum(
                case(
                    (FollowUp.is_stale(deadlines.start_of(today), limits.stale_days), 1),
                    else_=0,
                )
            ),
            func.sum(case((FollowUp.pending_update_id.is_not(None), 1), else_=0)),
        )
    ).one()
    return Summary(*(int(v or 0) for v in row))
