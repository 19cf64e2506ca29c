"""The list of recommendations: its filters, its pages, its export and the choices of its
filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import extract, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.core.extensions import db
from kpplan.meetings.models import Activity
from kpplan.recommendations.figures import Figures, figures_for
from kpplan.recommendations.models import (
    FollowUp,
    FollowUpStatus,
    Recommendation,
    RecommendationTheme,
)
from kpplan.recommendations.queries import Scope, overdue


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
