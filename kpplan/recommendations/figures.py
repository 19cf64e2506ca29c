"""Figures of the follow-up: how the addressees of each recommendation stand (counted in
SQL for a page of recommendations), the implemented share per state and per theme and the
totals per status (read from the figures kept on write, ``tallies``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, null, select, union_all

from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.queries import Scope, overdue
from kpplan.recommendations.statuses import OUT_OF_SHARE, FollowUpStatus
from kpplan.recommendations.tallies import EVERY_THEME, FollowUpTally
from kpplan.recommendations.themes import THEMES


@dataclass
class Figures:
    """How the addressees of one recommendation (within the scope) stand."""

    total: int = 0
    implemented: int = 0
    overdue: int = 0
    pending: int = 0
    # Not applicable or superseded (``OUT_OF_SHARE``): left out of the share.
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
            func.sum(case((FollowUp.status.in_(OUT_OF_SHARE), 1), else_=0)),
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


def _added_up(key, scope: Scope, every_theme: bool, *extra) -> dict[Any, list[int]]:
    """[total, implemented, not applicable, pending] per ``key`` (a column of the kept
    counters, with ``extra`` columns grouped alike), over the recommendations in force
    within the scope: ``every_theme`` reads the counts over every recommendation, else
    those per theme. Added up in SQL."""
    n = FollowUpTally.n

    def count_if(condition):
        return func.sum(case((condition, n), else_=0))

    query = (
        select(
            key,
            *extra,
            func.sum(n),
            count_if(FollowUpTally.status == FollowUpStatus.IMPLEMENTED.value),
            count_if(FollowUpTally.status.in_([s.value for s in OUT_OF_SHARE])),
            count_if(FollowUpTally.pending),
        )
        # The theme leads the key of the counters: "" first, then the themes' codes.
        .where(
            FollowUpTally.theme == EVERY_THEME if every_theme else FollowUpTally.theme > EVERY_THEME
        )
        .group_by(key, *extra)
    )
    if not scope.everything:
        query = query.where(FollowUpTally.state_id == scope.state_id)
    if extra:
        query = query.join(State, State.id == FollowUpTally.state_id).order_by(*extra)
    width = 1 + len(extra)
    return {
        tuple(row[:width]) if extra else row[0]: [int(v or 0) for v in row[width:]]
        for row in db.session.execute(query)
    }


def shares_by_state(scope: Scope) -> list[ShareRow]:
    """Implemented share of recommendations in force, per addressee state (by name), from
    the figures kept on write (one small query, whatever the number of follow-ups)."""
    by_state = _added_up(FollowUpTally.state_id, scope, True, State.name)
    return [ShareRow(name, *counts, key=ident) for (ident, name), counts in by_state.items()]


def shares_by_theme(scope: Scope) -> list[ShareRow]:
    """Implemented share per thematic tag, in the order of the frames, from the figures
    kept on write (one small query)."""
    by_code = _added_up(FollowUpTally.theme, scope, every_theme=False)
    return [ShareRow(t.label, *by_code[t.code], key=t.code) for t in THEMES if t.code in by_code]


def shares_by_state_and_theme(scope: Scope) -> tuple[list[ShareRow], list[ShareRow]]:
    """``shares_by_state`` and ``shares_by_theme`` (the same rows in the same order), in
    one statement: a page that shows both reads the kept figures once, one round trip
    fewer right after a write."""
    n = FollowUpTally.n

    def count_if(condition):
        return func.sum(case((condition, n), else_=0))

    def added_up(part: str, every_theme: bool, ident, label):
        query = (
            select(
                literal(part).label("part"),
                (ident if ident is not None else null()).label("ident"),
                label.label("label"),
                func.sum(n),
                count_if(FollowUpTally.status == FollowUpStatus.IMPLEMENTED.value),
                count_if(FollowUpTally.status.in_([s.value for s in OUT_OF_SHARE])),
                count_if(FollowUpTally.pending),
            )
            .where(
                FollowUpTally.theme == EVERY_THEME
                if every_theme
                else FollowUpTally.theme > EVERY_THEME
            )
            .group_by(*(c for c in (ident, label) if c is not None))
        )
        if not scope.everything:
            query = query.where(FollowUpTally.state_id == scope.state_id)
        return query

    by_state = added_up("s", True, FollowUpTally.state_id, State.name).join(
        State, State.id == FollowUpTally.state_id
    )
    by_theme = added_up("t", False, None, FollowUpTally.theme)
    both = union_all(by_state, by_theme).subquery()
    # The states by name (as ``shares_by_state``); the themes go in the order of the frames.
    rows = db.session.execute(select(both).order_by(both.c.part, both.c.label)).all()
    states, by_code = [], {}
    for part, ident, label, *counts in rows:
        counts = [int(v or 0) for v in counts]
        if part == "s":
            states.append(ShareRow(label, *counts, key=ident))
        else:
            by_code[label] = counts
    themes = [ShareRow(t.label, *by_code[t.code], key=t.code) for t in THEMES if t.code in by_code]
    return states, themes


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
