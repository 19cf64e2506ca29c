"""A state's follow-ups, most urgent first; the urgency levels; the validation queue;
the follow-up export; what needs attention (the home page's figures)."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    Date,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload, load_only, raiseload, selectinload

from kpplan.core.cache import memoised, watch
from kpplan.core.extensions import db
from kpplan.core.paging import AFTER, BEFORE, KeysetPage
from kpplan.directory.models import State
from kpplan.meetings.models import Activity
from kpplan.recommendations import day_figures, deadlines, tallies
from kpplan.recommendations.deadlines import URGENCIES
from kpplan.recommendations.models import (
    OPEN_STATUSES,
    FollowUp,
    FollowUpStatus,
    Recommendation,
    StatusUpdate,
    Validation,
)
from kpplan.recommendations.queries import _STAMPED, Scope, _in_force, overdue


def urgency_labels() -> dict[str, str]:
    """The urgency levels as the lists name them, with the days in force."""
    return deadlines.current().labels


def urgency_of(follow_up: FollowUp, today: date) -> str:
    """The urgency level of one follow-up (``FollowUp.urgency``), by name."""
    return URGENCIES[follow_up.urgency(today, deadlines.current())]


@dataclass
class StateFollowUps:
    page: KeysetPage
    counts: dict[str, int] = field(default_factory=dict)


# The list's order, walked on the index of a state's follow-ups by status and review date
# (``ix_follow_ups_state_id_status_next_review_date``) instead of sorted over every open
# follow-up of the state: it is cut into *ranks*, each a run of the urgency levels that the
# review date alone orders, and each rank into branches the index holds in that order (one
# per open status, the review date known or not). Every branch reads at most a page's rows
# after the cursor; the page is the first of them in (rank, review date, id).
#
#   rank 0: overdue and due soon (levels 0 and 1), by review date: overdue ones come first
#   rank 1, 2: not updated for long (level 2), review date known, then not
#   rank 3, 4: the others (level 3), review date known, then not; with them the closed
#              follow-ups awaiting validation of "implemented" (level 3 whatever their dates)
_RANKS = 5
_RANK_LEVELS = {0: (0, 1), 1: (2,), 2: (2,), 3: (3,), 4: (3,)}
#: The first rank of the closed follow-ups awaiting validation.
_CLOSED_RANK = 3


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
        mine = and_(FollowUp.state_id == bindparam("state"), FollowUp.status == status)
        yield 0, True, and_(mine, first)
        yield 1, True, and_(mine, review > soon, stale)
        yield 2, False, and_(mine, review.is_(None), stale)
        yield 3, True, and_(mine, review > soon, ~stale)
        yield 4, False, and_(mine, review.is_(None), ~stale)
    # Closed with a move to "implemented" awaiting validation, on the same index (read
    # among the state's closed ones: left out while the page cannot reach them).
    for status in FollowUpStatus:
        if not closed or status in OPEN_STATUSES:
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
            .join(Recommendation, FollowUp.recommendation_id == Recommendation.id)
            .where(condition, Recommendation.withdrawn_at.is_(None))
            .order_by(*(c.desc() if reverse else c for c in order))
            .limit(per_page + 1)
            .subquery()
        )
    if not parts:
        return None
    every = union_all(*(select(part) for part in parts)).subquery()
    keys = (every.c.rank, every.c.review, every.c.tie)
    return (
        select(*keys, every.c.id)
        .order_by(*(k.desc() if reverse else k for k in keys))
        .limit(per_page + 1)
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
    return StateFollowUps(page, counts)


def _walk(state_id, today, limits, only, found, per_page: int) -> KeysetPage:
    reverse = found is not None and found[0] == BEFORE
    level = URGENCIES.index(only) if only in URGENCIES else None
    at_rank = found[1] if found else None
    parameters = _parameters(state_id, today, limits)
    if found is not None:
        parameters |= {"at_review": found[2], "at_tie": found[3]}
    rows = None
    if not reverse and (at_rank is None or at_rank < _CLOSED_RANK):
        # Read first without the closed follow-ups awaiting validation (the slowest
        # branches, of the last ranks): enough when the page ends before those ranks.
        lean = _statement(level, at_rank, reverse, per_page, closed=False)
        if lean is not None:
            rows = db.session.execute(lean, parameters).all()
            if len(rows) <= per_page or rows[-1].rank >= _CLOSED_RANK:
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
    page = KeysetPage(items=_load(row.id for row in rows), per_page=per_page)
    if rows:
        first, last = rows[0], rows[-1]
        if found is None or not reverse:
            page.next_cursor = _cursor(AFTER, *last[:3]) if more else None
        else:
            page.next_cursor = _cursor(AFTER, *last[:3])
        if found is not None:
            page.prev_cursor = _cursor(BEFORE, *first[:3]) if (more or not reverse) else None
    return page


def _load(ids) -> list[FollowUp]:
    """The page's follow-ups, in the order of ``ids``, with the columns the list shows
    (and its urgency reads) and their recommendation's code and text."""
    ids = list(ids)
    if not ids:
        return []
    loaded = {
        f.id: f
        for f in db.session.scalars(
            select(FollowUp)
            .where(FollowUp.id.in_(ids))
            .options(
                load_only(
                    FollowUp.recommendation_id,
                    FollowUp.state_id,
                    FollowUp.status,
                    FollowUp.pending_update_id,
                    FollowUp.next_review_date,
                    FollowUp.last_update_at,
                    FollowUp.created_at,
                    raiseload=True,
                ),
                joinedload(FollowUp.recommendation).load_only(
                    Recommendation.code,
                    Recommendation.text,
                    Recommendation.illustrative,
                    raiseload=True,
                ),
                raiseload("*"),
            )
        )
    }
    return [loaded[i] for i in ids if i in loaded]


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
    kept = day_figures.day_figures(connection, state_id, today, limits)
    if kept is not None:
        tally = tallies.FollowUpTally
        listed = db.session.scalar(
            select(func.coalesce(func.sum(tally.n), 0)).where(
                tally.theme == tallies.EVERY_THEME,
                tally.state_id == state_id,
                or_(tally.status.in_([s.value for s in OPEN_STATUSES]), tally.pending.is_(True)),
            )
        )
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


def validation_queue(page: int, per_page: int) -> Pagination:
    """Updates to "implemented" waiting for the secretariat, oldest first."""
    query = (
        select(StatusUpdate)
        .where(StatusUpdate.validation == Validation.PENDING)
        .options(
            joinedload(StatusUpdate.author),
            joinedload(StatusUpdate.follow_up).options(
                joinedload(FollowUp.state),
                joinedload(FollowUp.organisation),
                joinedload(FollowUp.recommendation),
            ),
            selectinload(StatusUpdate.evidence),
        )
        .order_by(StatusUpdate.posted_at, StatusUpdate.id)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


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
