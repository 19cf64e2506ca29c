"""Every member state at a glance: its open follow-ups, those overdue, those awaiting
validation and its last update, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select

from kpplan.core.cache import memoised, watch
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.recommendations import day_figures, tallies
from kpplan.recommendations.models import FollowUp, Recommendation, StatusUpdate
from kpplan.recommendations.statuses import OPEN_STATUSES


@dataclass
class StateAtAGlance:
    """How one member state stands in its follow-ups of recommendations in force."""

    state_id: int
    name: str
    open: int = 0
    overdue: int = 0
    pending: int = 0
    last_update_at: datetime | None = None
    # The follow-up updated last, which the last update's date links to.
    last_follow_up_id: int | None = None


def states_at_a_glance(today: date) -> list[StateAtAGlance]:
    """Every member state with its open follow-ups (of recommendations in force), those
    overdue, those awaiting validation and its last update.

    One query however many states and follow-ups: the open and waiting counts come from the
    figures kept on write (``tallies``); the overdue ones too (``day_figures``) once the day
    is counted, and until then in the index of a state's follow-ups by status and review
    date (which holds the recommendation, so that withdrawn ones are left out without
    reading the rows); the last update is the top of
    the index of a state's follow-ups by update. Kept until the follow-ups change or the day
    does."""
    return memoised("states_at_a_glance", today, _GLANCE_READS, lambda: _states_at_a_glance(today))


_GLANCE_READS = watch(FollowUp, StatusUpdate, Recommendation, State)


def _states_at_a_glance(today: date) -> list[StateAtAGlance]:
    tally = tallies.FollowUpTally
    of_state = and_(tally.theme == tallies.EVERY_THEME, tally.state_id == State.id)
    open_values = [s.value for s in OPEN_STATUSES]
    withdrawn = select(Recommendation.id).where(Recommendation.withdrawn_at.is_not(None))
    state_follow_ups = and_(
        FollowUp.state_id == State.id, FollowUp.recommendation_id.not_in(withdrawn)
    )
    # The overdue ones from the day figures when they are counted for today (by the
    # reminder tick's first run of the day; kept on write since), else counted.
    figure, basis = day_figures.FollowUpDayFigure, day_figures.FollowUpDayBasis
    overdue_count = case(
        (
            select(basis.id).where(basis.day == today).exists(),
            select(func.coalesce(func.sum(figure.n), 0))
            .where(figure.state_id == State.id, figure.kind == "overdue")
            .scalar_subquery(),
        ),
        else_=select(func.count())
        .select_from(FollowUp)
        .where(state_follow_ups, FollowUp.is_overdue(today))
        .scalar_subquery(),
    )
    latest = (
        select(FollowUp.id, FollowUp.last_update_at)
        .where(state_follow_ups, FollowUp.last_update_at.is_not(None))
        .order_by(FollowUp.last_update_at.desc(), FollowUp.id.desc())
        .limit(1)
    )
    rows = db.session.execute(
        select(
            State.id,
            State.name,
            select(func.coalesce(func.sum(tally.n), 0))
            .where(of_state, or_(tally.status.in_(open_values), tally.pending.is_(True)))
            .scalar_subquery(),
            overdue_count,
            select(func.coalesce(func.sum(tally.n), 0))
            .where(of_state, tally.pending.is_(True))
            .scalar_subquery(),
            latest.with_only_columns(FollowUp.last_update_at).scalar_subquery(),
            latest.with_only_columns(FollowUp.id).scalar_subquery(),
        )
        .where(State.is_member.is_(True))
        .order_by(State.name)
    ).all()
    return [StateAtAGlance(*row) for row in rows]
