"""A follow-up's own page (its timeline of updates), the validation queue and one update
to validate, the follow-up export, and what needs attention (the home page's figures).

A state's list by urgency is in ``state_follow_up_list``; every state at a glance in
``at_a_glance``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.core.cache import memoised
from kpplan.core.extensions import db
from kpplan.directory.models import Organisation, State, User, organisation_display_name
from kpplan.meetings.models import Activity
from kpplan.recommendations import day_figures, deadlines
from kpplan.recommendations.follow_up_models import (
    Evidence,
    FollowUp,
    StatusUpdate,
    addressee_name,
)
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import _STAMPED, Scope, _in_force, overdue
from kpplan.recommendations.statuses import Validation

#: How many updates a follow-up's page shows at a time, newest first.
TIMELINE_LENGTH = 20


@dataclass
class Timeline:
    """A page of a follow-up's updates, newest first; ``older``: the update to read
    before for the page of earlier ones (None: none is earlier)."""

    updates: list[StatusUpdate]
    older: int | None = None


def follow_up_timeline(
    follow_up_id: int, before: int | None = None, length: int = TIMELINE_LENGTH
) -> Timeline:
    """The ``length`` updates of a follow-up posted before the update ``before`` (None:
    the latest), with their authors and evidence; one query and one for the evidence,
    however long the follow-up's history."""
    query = select(StatusUpdate).where(StatusUpdate.follow_up_id == follow_up_id)
    if before is not None:
        query = query.where(StatusUpdate.id < before)
    updates = db.session.scalars(
        query.options(
            joinedload(StatusUpdate.author),
            joinedload(StatusUpdate.validated_by),
            selectinload(StatusUpdate.evidence),
        )
        .order_by(StatusUpdate.id.desc())
        .limit(length + 1)
    ).all()
    older = updates[length - 1].id if len(updates) > length else None
    return Timeline(list(updates[:length]), older)


@dataclass(frozen=True)
class QueuedRecommendation:
    code: str
    illustrative: bool


@dataclass(frozen=True)
class QueuedFollowUp:
    id: int
    addressee: str
    recommendation: QueuedRecommendation


@dataclass(frozen=True)
class QueuedAuthor:
    name: str


@dataclass(frozen=True)
class QueuedUpdate:
    """A row of the validation queue: what it shows of an update, read as plain values
    (a page's fifty updates with their follow-ups, addressees, recommendations, authors
    and evidence cost the ORM several times their SQL)."""

    id: int
    posted_at: datetime
    narrative: str
    author: QueuedAuthor | None
    follow_up: QueuedFollowUp
    #: How many pieces of evidence support it.
    evidence_count: int


_QUEUED = (
    StatusUpdate.id,
    StatusUpdate.posted_at,
    StatusUpdate.narrative,
    User.name.label("author_name"),
    FollowUp.id.label("follow_up_id"),
    State.name.label("state_name"),
    Organisation.name.label("organisation_name"),
    Organisation.acronym.label("organisation_acronym"),
    Recommendation.code,
    Recommendation.illustrative,
    select(func.count(Evidence.id))
    .where(Evidence.status_update_id == StatusUpdate.id)
    .scalar_subquery()
    .label("evidence_count"),
)


def _queued(row) -> QueuedUpdate:
    organisation = (
        organisation_display_name(row.organisation_name, row.organisation_acronym)
        if row.organisation_name is not None
        else None
    )
    return QueuedUpdate(
        row.id,
        row.posted_at,
        row.narrative,
        QueuedAuthor(row.author_name) if row.author_name is not None else None,
        QueuedFollowUp(
            row.follow_up_id,
            addressee_name(row.state_name, organisation),
            QueuedRecommendation(row.code, row.illustrative),
        ),
        row.evidence_count,
    )


class _QueuePage(Pagination):
    """A page of the validation queue as ``db.paginate`` pages (the same pages, numbers
    and total), its items plain rows (``QueuedUpdate``)."""

    def _query_items(self) -> list[QueuedUpdate]:
        rows = db.session.execute(
            select(*_QUEUED)
            .join(FollowUp, FollowUp.id == StatusUpdate.follow_up_id)
            .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
            .outerjoin(User, User.id == StatusUpdate.author_id)
            .outerjoin(State, State.id == FollowUp.state_id)
            .outerjoin(Organisation, Organisation.id == FollowUp.organisation_id)
            .where(StatusUpdate.validation == Validation.PENDING)
            .order_by(StatusUpdate.posted_at, StatusUpdate.id)
            .limit(self.per_page)
            .offset(self._query_offset)
        )
        return [_queued(row) for row in rows]

    def _query_count(self) -> int:
        return db.session.scalar(
            select(func.count())
            .select_from(StatusUpdate)
            .where(StatusUpdate.validation == Validation.PENDING)
        )


def validation_queue(page: int, per_page: int) -> Pagination:
    """Updates to "implemented" waiting for the secretariat, oldest first: a page of
    plain rows (``QueuedUpdate``) and their total, in two queries."""
    return _QueuePage(page=page, per_page=per_page, max_per_page=None, error_out=False)


def update_for_validation(update_id: int) -> StatusUpdate | None:
    """One status update with what its validation page shows: the follow-up, its
    recommendation and activity, the author, the evidence and who decided."""
    return db.session.scalar(
        select(StatusUpdate)
        .where(StatusUpdate.id == update_id)
        .options(
            joinedload(StatusUpdate.author),
            joinedload(StatusUpdate.validated_by),
            selectinload(StatusUpdate.evidence),
            joinedload(StatusUpdate.follow_up).options(
                joinedload(FollowUp.state),
                joinedload(FollowUp.organisation),
                joinedload(FollowUp.recommendation).joinedload(Recommendation.activity),
            ),
        )
    )


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


@dataclass
class Summary:
    overdue: int = 0
    due_soon: int = 0
    stale: int = 0
    pending: int = 0


_SUMMARY_KINDS = ("overdue", "due_soon", "stale", "pending")


def follow_up_summary(scope: Scope, today: date) -> Summary:
    """Open follow-ups of recommendations in force that need attention, in one query
    (kept until the data, the day or the days of ``deadlines`` change).

    Read from the figures of the day kept on write (``day_figures.day_figures``: the scope's
    rows summed) when they are counted for ``today`` and the days in force; else counted
    live over every follow-up of the scope, as they are right after midnight until the
    reminder scheduler's next tick counts the new day (a few minutes), and after the
    administrator changes the days until the next tick or ``flask kpplan recount``. A page
    never counts the day itself: a GET writes nothing."""
    limits = deadlines.current()
    return memoised(
        "follow_up_summary",
        (scope, today, limits),
        _STAMPED,
        lambda: _follow_up_summary(scope, today, limits),
    )


def _follow_up_summary(scope: Scope, today: date, limits: deadlines.Deadlines) -> Summary:
    kept = day_figures.day_figures(db.session.connection(), scope.state_id, today, limits)
    if kept is not None:
        return Summary(**{kind: n for kind, n in kept.items() if kind in _SUMMARY_KINDS})
    return live_summary(scope, today, limits)


def live_summary(scope: Scope, today: date, limits: deadlines.Deadlines) -> Summary:
    """``follow_up_summary`` counted over every follow-up of the scope (one query)."""
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
