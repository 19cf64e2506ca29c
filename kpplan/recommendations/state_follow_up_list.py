"""A state's follow-ups, most urgent first (overdue, due soon, not updated for long, the
rest), a page at a time on the index of a state's follow-ups; the urgency levels and how
many stand at each."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    union_all,
)

from kpplan.core.cache import memoised
from kpplan.core.extensions import db
from kpplan.core.paging import AFTER, BEFORE, KeysetPage
from kpplan.recommendations import day_figures, deadlines, tallies
from kpplan.recommendations.deadlines import URGENCIES
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import _STAMPED, recommendation_in_force
from kpplan.recommendations.statuses import OPEN_STATUSES, FollowUpStatus


def urgency_labels() -> dict[str, str]:
    """The urgency levels as the lists name them, with the days in force."""
    return deadlines.current().labels


@dataclass(frozen=True)
class ListedRecommendation:
    """What a state's list shows of a follow-up's recommendation."""

    id: int
    code: str
    text: str
    illustrative: bool


@dataclass(frozen=True)
class ListedFollowUp:
    """A row of a state's list: the columns it shows and its urgency reads, read as a
    plain row (the fifty objects of a page cost the ORM several times the page's SQL).
    Whether it is overdue, due soon, not updated and its urgency are ``FollowUp``'s own
    rules, applied to these columns."""

    id: int
    recommendation_id: int
    state_id: int | None
    status: FollowUpStatus
    pending_update_id: int | None
    next_review_date: date | None
    last_update_at: datetime | None
    created_at: datetime
    recommendation: ListedRecommendation

    waits_for_addressee = property(FollowUp.__dict__["waits_for_addressee"].fget)
    is_overdue = FollowUp.__dict__["is_overdue"].func
    is_due_soon = FollowUp.__dict__["is_due_soon"].func
    is_stale = FollowUp.__dict__["is_stale"].func
    urgency = FollowUp.__dict__["urgency"].func


@dataclass
class StateFollowUps:
    page: KeysetPage
    counts: dict[str, int] = field(default_factory=dict)
    #: The urgency level of each follow-up of the page (``FollowUp.urgency``), by name.
    urgencies: list[str] = field(default_factory=list)


# The list's order, walked on the index of a state's follow-ups by status and review date
# (``ix_follow_ups_state_id_status_next_review_date``) instead of sorted over every open
# follow-up of the state: it is cut into *ranks*, each a run of the urgency levels that the
# review date alone orders, and each rank into branches the index holds in that order (one
# per open status, the review date known or not). Every branch reads at most a page's rows
# after the cursor; the page is the first of them in (rank, review date, id).
#
#   rank 0: overdue and due soon (levels 0 and 1), by review date: overdue ones come first
#   rank 1, 2: not updated for long (level 2), review date known, then not
#   rank 3, 4: the others (level 3), review date known, then not; with them the
#              follow-ups whose "implemented" awaits validation (level 3 whatever their
#              status and dates: they wait for the secretariat)
_RANKS = 5
_RANK_LEVELS = {0: (0, 1), 1: (2,), 2: (2,), 3: (3,), 4: (3,)}
#: The first rank of the follow-ups awaiting validation.
_WAITING_RANK = 3


def _branches(level: int | None, closed: bool = True):
    """(rank, whether its review date is known, condition) of each branch of the list of
    the urgency ``level`` (None: every level). The conditions say what ``FollowUp.urgency``
    says, with the state, the day and its limits as parameters (``_parameters``)."""
    today, soon = bindparam("today", type_=Date), bindparam("soon", type_=Date)
    # ``FollowUp.is_stale`` at the start of today, its moment taken in Python.
    stale = func.coalesce(FollowUp.last_update_at, FollowUp.created_at) < bindparam(
        "stale_before", type_=FollowUp.__table__.c.created_at.type
    )
    review = FollowUp.next_review_date
    first = {0: review < today, 1: and_(review >= today, review <= soon)}.get(level, review <= soon)
    for status in OPEN_STATUSES:
        mine = and_(
            FollowUp.state_id == bindparam("state"),
            FollowUp.status == status,
            FollowUp.pending_update_id.is_(None),
        )
        yield 0, True, and_(mine, first)
        yield 1, True, and_(mine, review > soon, stale)
        yield 2, False, and_(mine, review.is_(None), stale)
        yield 3, True, and_(mine, review > soon, ~stale)
        yield 4, False, and_(mine, review.is_(None), ~stale)
    # With a move to "implemented" awaiting validation (they wait for the secretariat, not
    # the state: level 3 whatever their dates), on the same index (read among the state's
    # follow-ups of each status: left out while the page cannot reach them).
    for status in FollowUpStatus:
        if not closed:
            continue
        waiting = and_(
            FollowUp.state_id == bindparam("state"),
            FollowUp.status == status,
            FollowUp.pending_update_id.is_not(None),
        )
        yield 3, True, and_(waiting, review.is_not(None))
        yield 4, False, and_(waiting, review.is_(None))


def _parameters(state_id: int, today: date, limits: deadlines.Deadlines) -> dict:
    return {
        "state": state_id,
        "today": today,
        "soon": today + timedelta(days=limits.due_soon_days),
        "stale_before": deadlines.start_of(today) - timedelta(days=limits.stale_days),
    }


@functools.lru_cache(maxsize=64)
def _statement(
    level: int | None, at_rank: int | None, reverse: bool, per_page: int, closed: bool = True
):
    """The page's query for a level, the rank of the cursor (None: the first page) and its
    direction: built once (some twenty branches), run with ``_parameters`` and the cursor's
    ``at_review`` and ``at_tie``."""
    wanted = {r for r, levels in _RANK_LEVELS.items() if level is None or level in levels}
    # A state's follow-up is the only one of its recommendation: the recommendation
    # breaks ties, in the index's order.
    tie, review = FollowUp.recommendation_id, FollowUp.next_review_date
    parts = []
    for rank, dated, condition in _branches(level, closed):
        if rank not in wanted:
            continue
        if at_rank is not None:
            if rank != at_rank and (rank < at_rank) != reverse:
                continue
            if rank == at_rank:
                at_tie = bindparam("at_tie")
                beyond = tie < at_tie if reverse else tie > at_tie
                if dated:
                    at_review = bindparam("at_review", type_=Date)
                    ahead = review < at_review if reverse else review > at_review
                    beyond = or_(ahead, and_(review == at_review, beyond))
                condition = and_(condition, beyond)
        order = [review, tie] if dated else [tie]
        parts.append(
            select(
                literal_column(str(rank)).label("rank"),
                review.label("review"),
                tie.label("tie"),
                FollowUp.id.label("id"),
            )
            .where(condition, recommendation_in_force())
            .order_by(*(c.desc() if reverse else c for c in order))
            .limit(per_page + 1)
            .subquery()
        )
    if not parts:
        return None
    every = union_all(*(select(part) for part in parts)).subquery()
    keys = (every.c.rank, every.c.review, every.c.tie)
    page = (
        select(*keys, every.c.id)
        .order_by(*(k.desc() if reverse else k for k in keys))
        .limit(per_page + 1)
        .subquery()
    )
    # The page's rows with the columns the list shows, in the same statement (one round
    # trip less), looked up by key once the page is cut.
    keys = (page.c.rank, page.c.review, page.c.tie)
    return (
        select(*keys, *_LISTED)
        .join_from(page, FollowUp, FollowUp.id == page.c.id)
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .order_by(*(k.desc() if reverse else k for k in keys))
    )


#: What the list shows of a follow-up and its recommendation (``ListedFollowUp``).
_LISTED = (
    FollowUp.id,
    FollowUp.recommendation_id,
    FollowUp.state_id,
    FollowUp.status,
    FollowUp.pending_update_id,
    FollowUp.next_review_date,
    FollowUp.last_update_at,
    FollowUp.created_at,
    Recommendation.code,
    Recommendation.text,
    Recommendation.illustrative,
)


def _cursor(direction: str, rank: int, review: date | None, recommendation_id: int) -> str:
    payload = [direction, rank, review.isoformat() if review else None, recommendation_id]
    text = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def _read_cursor(text: str | None) -> tuple[str, int, date | None, int] | None:
    """The direction, rank, review date and recommendation in ``text``; None (the first
    page) for anything that is not a cursor of this list."""
    if not text or len(text) > 200:
        return None
    try:
        direction, rank, review, recommendation_id = json.loads(
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        )
        if (
            direction not in (AFTER, BEFORE)
            or type(rank) is not int
            or not 0 <= rank < _RANKS
            or type(recommendation_id) is not int
            or not 0 < recommendation_id < 2**63
            or (review is None) != (rank in (2, 4))
        ):
            return None
        return direction, rank, date.fromisoformat(review) if review else None, recommendation_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None


def state_follow_ups(
    state_id: int,
    today: date,
    cursor: str | None,
    per_page: int,
    only: str | None = None,
) -> StateFollowUps:
    """A state's open follow-ups of recommendations in force: overdue first, then due
    soon, then not updated for long (``deadlines``), then the rest; with the count of each
    (from the figures kept on write). The page at ``cursor`` (None: the first), read on
    the index in the list's order: what it costs does not grow with the state's follow-ups."""
    limits = deadlines.current()
    counts = urgency_counts(state_id, today, limits)
    total = counts[only] if only in URGENCIES else sum(counts.values())
    found = _read_cursor(cursor)
    page = _walk(state_id, today, limits, only, found, per_page)
    if found is not None and not page.items:
        # Beyond either end (rows gone meanwhile): the first page.
        page = _walk(state_id, today, limits, only, None, per_page)
    page.total = total
    urgencies = [URGENCIES[f.urgency(today, limits)] for f in page.items]
    return StateFollowUps(page, counts, urgencies)


def _walk(state_id, today, limits, only, found, per_page: int) -> KeysetPage:
    reverse = found is not None and found[0] == BEFORE
    level = URGENCIES.index(only) if only in URGENCIES else None
    at_rank = found[1] if found else None
    parameters = _parameters(state_id, today, limits)
    if found is not None:
        parameters |= {"at_review": found[2], "at_tie": found[3]}
    rows = None
    if not reverse and (at_rank is None or at_rank < _WAITING_RANK):
        # Read first without the follow-ups awaiting validation (the slowest
        # branches, of the last ranks): enough when the page ends before those ranks.
        lean = _statement(level, at_rank, reverse, per_page, closed=False)
        if lean is not None:
            rows = db.session.execute(lean, parameters).all()
            if len(rows) <= per_page or rows[-1].rank >= _WAITING_RANK:
                rows = None
    if rows is None:
        statement = _statement(level, at_rank, reverse, per_page)
        if statement is None:
            return KeysetPage(items=[], per_page=per_page)
        rows = db.session.execute(statement, parameters).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    if reverse:
        rows.reverse()
    page = KeysetPage(items=[_listed(row) for row in rows], per_page=per_page)
    if rows:
        first, last = rows[0], rows[-1]
        if found is None or not reverse:
            page.next_cursor = _cursor(AFTER, *last[:3]) if more else None
        else:
            page.next_cursor = _cursor(AFTER, *last[:3])
        if found is not None:
            page.prev_cursor = _cursor(BEFORE, *first[:3]) if (more or not reverse) else None
    return page


def _listed(row) -> ListedFollowUp:
    """A row of the page's statement as the list shows it: plain values, not objects (the
    fifty objects of a page cost the ORM several times the page's SQL)."""
    return ListedFollowUp(
        *row[3:11],
        recommendation=ListedRecommendation(
            row.recommendation_id, row.code, row.text, row.illustrative
        ),
    )


def urgency_counts(state_id: int, today: date, limits: deadlines.Deadlines) -> dict[str, int]:
    """How many of a state's open follow-ups (of recommendations in force, or awaiting
    validation) stand at each urgency level: read from the figures kept on write (the day
    figures and the counters by status) when the day's are counted for ``today`` and
    ``limits``, else counted over the state's follow-ups. Kept until the follow-ups change."""
    return memoised(
        "state_follow_up_counts",
        (state_id, today, limits),
        _STAMPED,
        lambda: _urgency_counts(state_id, today, limits),
    )


def _urgency_counts(state_id: int, today: date, limits: deadlines.Deadlines) -> dict[str, int]:
    connection = db.session.connection()
    tally = tallies.FollowUpTally
    # The state's listed follow-ups (open, or awaiting validation), kept by status, read
    # in the day figures' query.
    listed = (
        select(func.coalesce(func.sum(tally.n), 0))
        .where(
            tally.theme == tallies.EVERY_THEME,
            tally.state_id == state_id,
            or_(tally.status.in_([s.value for s in OPEN_STATUSES]), tally.pending.is_(True)),
        )
        .scalar_subquery()
    )
    kept = day_figures.day_figures(connection, state_id, today, limits, listed=listed)
    if kept is not None:
        listed = kept["listed"]
        counts = {
            "overdue": kept["overdue"],
            "due_soon": kept["due_soon"],
            "stale": kept["stale_only"],
        }
        counts["open"] = int(listed) - sum(counts.values())
        return counts
    urgency = FollowUp.urgency(today, limits)
    levels = (
        select(urgency.label("level"))
        .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
        .where(
            FollowUp.state_id == state_id,
            Recommendation.withdrawn_at.is_(None),
            or_(FollowUp.status.in_(OPEN_STATUSES), FollowUp.pending_update_id.is_not(None)),
        )
        .subquery()
    )
    counts = dict.fromkeys(URGENCIES, 0)
    # Grouped over a subquery: PostgreSQL sees the urgency's dates as separate parameters
    # in SELECT and GROUP BY otherwise.
    for level, n in db.session.execute(
        select(levels.c.level, func.count()).group_by(levels.c.level)
    ):
        counts[URGENCIES[level]] = n
    return counts
