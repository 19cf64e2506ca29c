"""Figures of the follow-up: how the addressees of each recommendation stand (counted in
SQL for a page of recommendations), the implemented share per state and per theme and the
totals per status (read from the figures kept on write, ``tallies``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.recommendations.models import FollowUp, FollowUpStatus
from kpplan.recommendations.queries import Scope, overdue
from kpplan.recommendations.tallies import EVERY_THEME, NO_STATE, FollowUpTally
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


def _added_up(key, scope: Scope, every_theme: bool) -> dict[Any, list[int]]:
    """[total, implemented, not applicable, pending] per ``key`` (a column of the kept
    counters), over the recommendations in force within the scope: ``every_theme`` reads
    the counts over every recommendation, else those per theme. Added up in SQL."""
    n = FollowUpTally.n

    def count_if(condition):
        return func.sum(case((condition, n), else_=0))

    query = (
        select(
            key,
            func.sum(n),
            count_if(FollowUpTally.status == FollowUpStatus.IMPLEMENTED.value),
            count_if(FollowUpTally.status == FollowUpStatus.NOT_APPLICABLE.value),
            count_if(FollowUpTally.pending),
        )
        # The theme leads the key of the counters: "" first, then the themes' codes.
        .where(
            FollowUpTally.theme == EVERY_THEME if every_theme else FollowUpTally.theme > EVERY_THEME
        )
        .group_by(key)
    )
    if not scope.everything:
        query = query.where(FollowUpTally.state_id == scope.state_id)
    return {k: [int(v or 0) for v in rest] for k, *rest in db.session.execute(query)}


def shares_by_state(scope: Scope) -> list[ShareRow]:
    """Implemented share of recommendations in force, per addressee state, from the
    figures kept on write (two small queries, whatever the number of follow-ups)."""
    by_state = _added_up(FollowUpTally.state_id, scope, every_theme=True)
    by_state.pop(NO_STATE, None)
    if not by_state:
        return []
    names = db.session.execute(
        select(State.id, State.name).where(State.id.in_(by_state)).order_by(State.name)
    ).all()
    return [ShareRow(name, *by_state[ident], key=ident) for ident, name in names]


def shares_by_theme(scope: Scope) -> list[ShareRow]:
    """Implemented share per thematic tag, in the order of the frames, from the figures
    kept on write (one small query)."""
    by_code = _added_up(FollowUpTally.theme, scope, every_theme=False)
    return [ShareRow(t.label, *by_code[t.code], key=t.code) for t in THEMES if t.code in by_code]


def status_totals(scope: Scope) -> dict[FollowUpStatus, int]:
    """How many follow-ups of recommendations in force stand at each status, from the
    figures kept on write (one small query)."""
    query = (
        select(FollowUpTally.status, func.sum(FollowUpTally.n))
        .where(FollowUpTally.theme == EVERY_THEME)
        .group_by(FollowUpTally.status)
    )
    if not scope.everything:
        query = query.where(FollowUpTally.state_id == scope.state_id)
    totals = dict.fromkeys(FollowUpStatus, 0)
    for status, n in db.session.execute(query):
        totals[FollowUpStatus(status)] += int(n or 0)
    return totals
