"""Figures of the follow-up, counted in SQL: how the addressees of each recommendation
stand, the implemented share per state and per theme, the totals per status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from kpplan.core.cache import memoised
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.recommendations.models import FollowUp, FollowUpStatus, RecommendationTheme
from kpplan.recommendations.queries import _STAMPED, Scope, _in_force, overdue
from kpplan.recommendations.themes import THEMES


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
