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


def _tally_rows(scope: Scope, every_theme: bool):
    """The kept counters over the recommendations in force, within the scope: per theme
    (``every_theme``: only the counts over every recommendation), state, status, pending."""
    theme = (
        FollowUpTally.theme == EVERY_THEME if every_theme else FollowUpTally.theme != EVERY_THEME
    )
    query = select(
        FollowUpTally.theme,
        FollowUpTally.state_id,
        FollowUpTally.status,
        FollowUpTally.pending,
        FollowUpTally.n,
    ).where(theme, FollowUpTally.n != 0)
    if not scope.everything:
        query = query.where(FollowUpTally.state_id == scope.state_id)
    return db.session.execute(query).all()


def _add_up(rows, key) -> dict[Any, list[int]]:
    """[total, implemented, not applicable, pending] per ``key(row)``."""
    found: dict[Any, list[int]] = {}
    for row in rows:
        counts = found.setdefault(key(row), [0, 0, 0, 0])
        counts[0] += row.n
        if row.status == FollowUpStatus.IMPLEMENTED.value:
            counts[1] += row.n
        elif row.status == FollowUpStatus.NOT_APPLICABLE.value:
            counts[2] += row.n
        if row.pending:
            counts[3] += row.n
    return found


def shares_by_state(scope: Scope) -> list[ShareRow]:
    """Implemented share of recommendations in force, per addressee state, from the
    figures kept on write (two small queries, whatever the number of follow-ups)."""
    by_state = _add_up(
        (r for r in _tally_rows(scope, every_theme=True) if r.state_id != NO_STATE),
        lambda r: r.state_id,
    )
    if not by_state:
        return []
    names = db.session.execute(
        select(State.id, State.name).where(State.id.in_(by_state)).order_by(State.name)
    ).all()
    return [ShareRow(name, *by_state[ident], key=ident) for ident, name in names]


def shares_by_theme(scope: Scope) -> list[ShareRow]:
    """Implemented share per thematic tag, in the order of the frames, from the figures
    kept on write (one small query)."""
    by_code = _add_up(_tally_rows(scope, every_theme=False), lambda r: r.theme)
    return [ShareRow(t.label, *by_code[t.code], key=t.code) for t in THEMES if t.code in by_code]


def status_totals(scope: Scope) -> dict[FollowUpStatus, int]:
    """How many follow-ups of recommendations in force stand at each status, from the
    figures kept on write (one small query)."""
    totals = dict.fromkeys(FollowUpStatus, 0)
    for row in _tally_rows(scope, every_theme=True):
        totals[FollowUpStatus(row.status)] += row.n
    return totals
