"""Every member state at a glance: its open follow-ups, those overdue, those awaiting
validation and its last update, in one query (and one for the day's basis)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from kpplan.core.cache import memoised, watch
from kpplan.core.extensions import db
from kpplan.directory.models import State
from kpplan.recommendations import day_figures, follow_up_queries, tallies
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import Scope, recommendation_in_force
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


@dataclass
class Totals:
    """Open, overdue and awaiting validation over the member states listed, over the other
    addressees (organisations, the secretariat, other countries) and over every one."""

    states: StateAtAGlance
    others: StateAtAGlance
    everyone: StateAtAGlance


def totals(today: date, rows: list[StateAtAGlance]) -> Totals:
    """The totals of ``rows`` (``states_at_a_glance``), and those of every addressee as the
    home page counts them (``follow_up_queries.follow_up_summary``): the difference is what
    the other addressees hold, so that the page adds up to the home page's figures."""
    summary = follow_up_queries.follow_up_summary(Scope(), today)
    states = StateAtAGlance(
        0,
        "All member states",
        open=sum(r.open for r in rows),
        overdue=sum(r.overdue for r in rows),
        pending=sum(r.pending for r in rows),
    )
    everyone = StateAtAGlance(
        0,
        "All addressees",
        open=_glance(today)[1],
        overdue=summary.overdue,
        pending=summary.pending,
    )
    others = StateAtAGlance(
        0,
        "Other addressees",
        open=everyone.open - states.open,
        overdue=everyone.overdue - states.overdue,
        pending=everyone.pending - states.pending,
    )
    return Totals(states, others, everyone)


def _every_open():
    """SQL: the follow-ups of recommendations in force that are open or await validation,
    of every addressee: from the figures kept on write."""
    tally = tallies.FollowUpTally
    open_values = [s.value for s in OPEN_STATUSES]
    return select(func.coalesce(func.sum(tally.n), 0)).where(
        tally.theme == tallies.EVERY_THEME,
        or_(tally.status.in_(open_values), tally.pending.is_(True)),
    )


def states_at_a_glance(today: date) -> list[StateAtAGlance]:
    """Every member state with its open follow-ups (of recommendations in force), those
    overdue, those awaiting validation and its last update.

    Two queries however many states and follow-ups (the basis of the day figures, then
    the rows): the open and waiting counts come from the figures kept on write
    (``tallies``); the overdue ones from the figures of the day (``day_figures``), with,
    when they are counted for another day than ``today`` (right after midnight until the
    reminder tick counts the new day), the follow-ups whose review date lies between that
    day and today added (or taken away), read in the index of a state's follow-ups by
    status and review date; counted in that index only before the day was ever counted.
    The last update is the top of the index of a state's follow-ups by update. Kept until
    the follow-ups change or the day does."""
    return _glance(today)[0]


def _glance(today: date) -> tuple[list[StateAtAGlance], int]:
    """The rows of ``states_at_a_glance`` and every addressee's open follow-ups (the
    totals' last line), read in one statement and kept together."""
    return memoised("states_at_a_glance", today, _GLANCE_READS, lambda: _read_glance(today))


_GLANCE_READS = watch(FollowUp, StatusUpdate, Recommendation, State)


def _overdue_count(basis: day_figures.DayBasis | None, today: date):
    """The overdue follow-ups of recommendations in force of the row's state at ``today``."""
    open_values = [s.value for s in OPEN_STATUSES]
    of_state = and_(FollowUp.state_id == State.id, FollowUp.status.in_(open_values))
    if basis is None:
        # Never counted (before the first tick after the figures came): every one.
        withdrawn = select(Recommendation.id).where(Recommendation.withdrawn_at.is_not(None))
        return (
            select(func.count())
            .select_from(FollowUp)
            .where(
                of_state,
                FollowUp.recommendation_id.not_in(withdrawn),
                FollowUp.is_overdue(today),
            )
            .scalar_subquery()
        )
    figure = day_figures.FollowUpDayFigure
    kept = (
        select(func.coalesce(func.sum(figure.n), 0))
        .where(figure.state_id == State.id, figure.kind == "overdue")
        .scalar_subquery()
    )
    if basis.day == today:
        return kept
    # Overdue at a day: waiting for its addressee and reviewed before it. Between the
    # basis's day and today, only the follow-ups reviewed in between changed side.
    first, last = sorted((basis.day, today))
    moved = (
        select(func.count())
        .select_from(FollowUp)
        .where(
            of_state,
            FollowUp.pending_update_id.is_(None),
            FollowUp.next_review_date >= first,
            FollowUp.next_review_date < last,
            recommendation_in_force(),
        )
        .scalar_subquery()
    )
    return kept + moved if today > basis.day else kept - moved


def _states_at_a_glance(today: date) -> list[StateAtAGlance]:
    return _read_glance(today)[0]


def _read_glance(today: date) -> tuple[list[StateAtAGlance], int]:
    tally = tallies.FollowUpTally
    of_state = and_(tally.theme == tallies.EVERY_THEME, tally.state_id == State.id)
    open_values = [s.value for s in OPEN_STATUSES]
    # Read apart, so that the statement holds only the branch it runs: PostgreSQL costs
    # every branch of a CASE, and a live count of every state's follow-ups would push the
    # statement over the planner's JIT threshold (~100 ms of compiling) on every read.
    basis = day_figures.day_basis(db.session.connection())
    latest = (
        select(FollowUp.id, FollowUp.last_update_at)
        .where(
            FollowUp.state_id == State.id,
            FollowUp.last_update_at.is_not(None),
            recommendation_in_force(),
        )
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
            _overdue_count(basis, today),
            select(func.coalesce(func.sum(tally.n), 0))
            .where(of_state, tally.pending.is_(True))
            .scalar_subquery(),
            latest.with_only_columns(FollowUp.last_update_at).scalar_subquery(),
            latest.with_only_columns(FollowUp.id).scalar_subquery(),
            # Not correlated: counted once for the statement, not per state.
            _every_open().scalar_subquery(),
        )
        .where(State.is_member.is_(True))
        .order_by(State.name)
    ).all()
    every_open = rows[0][-1] if rows else db.session.scalar(_every_open())
    return [StateAtAGlance(*row[:-1]) for row in rows], every_open
