"""Read paths of the activity pages, each eager-loading what its page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import extract, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.extensions import db
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import (
    Activity,
    ActivityOrganisation,
    ActivityStateRole,
    Format,
    StateRole,
    Status,
)

LIST_OPTIONS = (
    joinedload(Activity.country),
    selectinload(Activity.state_roles).joinedload(ActivityStateRole.state),
)


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


def archive_page(filters: ArchiveFilters, page: int, per_page: int) -> Pagination:
    """Every activity, newest first, narrowed by the archive's filters.

    The state filter finds activities the state hosted or co-hosted.
    """
    query = (
        select(Activity)
        .options(*LIST_OPTIONS)
        .order_by(Activity.start_date.desc(), Activity.id.desc())
    )
    if filters.kind is not None:
        query = query.where(Activity.kind == filters.kind)
    if filters.year:
        query = query.where(extract("year", Activity.start_date) == filters.year)
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
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def archive_years() -> list[int]:
    """The years that have activities, newest first, for the archive's year filter."""
    first, last = db.session.execute(
        select(func.min(Activity.start_date), func.max(Activity.start_date))
    ).one()
    if first is None:
        return []
    return list(range(last.year, first.year - 1, -1))


def activity_page(activity_id: int) -> Activity | None:
    """One activity with its places, states and organisations."""
    return db.session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(
            *LIST_OPTIONS,
            selectinload(Activity.organisations).joinedload(ActivityOrganisation.organisation),
        )
    )
