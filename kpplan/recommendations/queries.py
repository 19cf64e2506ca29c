"""Reading recommendations and follow-ups, with the eager loading each page needs.

Every function takes a ``Scope``: a focal point sees only the follow-ups of their own
state; the secretariat, the Chair and observers see all of them. The list of
recommendations is in ``lists``, the shares and figures in ``figures``, a state's
follow-ups by urgency in ``state_follow_up_list``, a recommendation's own page in
``recommendation_page``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from kpplan.core.extensions import db
from kpplan.directory.models import Role, State
from kpplan.meetings.models import Activity
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation

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


def overdue(today: date):
    """SQL: the follow-up is overdue (``FollowUp.is_overdue``)."""
    return FollowUp.is_overdue(today)


def _in_force():
    return (
        select(FollowUp)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .where(Recommendation.withdrawn_at.is_(None))
    )


def recommendation_in_force():
    """SQL: the follow-up's recommendation is not withdrawn, looked up by key for each
    follow-up a statement reads, for statements that read few of them (a page's rows, a
    state's index walk). A filter rather than a join: PostgreSQL plans a statement of
    twenty single-table branches faster than their joins. ``OFFSET 0`` keeps it a look-up
    rather than an anti-join that reads every recommendation first (a NOT IN list did the
    same, and its cost could push a statement over the planner's JIT threshold)."""
    return ~(
        select(Recommendation.id)
        .where(Recommendation.id == FollowUp.recommendation_id)
        .where(Recommendation.withdrawn_at.is_not(None))
        .offset(0)
        .exists()
    )


def follow_up_page(follow_up_id: int) -> FollowUp | None:
    """One follow-up with its addressee, recommendation and activity; its timeline is read
    a page at a time (``follow_up_queries.follow_up_timeline``), not with it."""
    return db.session.scalar(
        select(FollowUp)
        .where(FollowUp.id == follow_up_id)
        .options(
            joinedload(FollowUp.state),
            joinedload(FollowUp.organisation),
            joinedload(FollowUp.recommendation).options(
                joinedload(Recommendation.activity), selectinload(Recommendation.themes)
            ),
        )
    )


def recommendation_by_code(code: str) -> Recommendation | None:
    return db.session.scalar(select(Recommendation).where(Recommendation.code == code.strip()))


# --- One activity's recommendations by state -------------------------------------------


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
