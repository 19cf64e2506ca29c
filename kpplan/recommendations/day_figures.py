"""The follow-up figures that depend on the day, counted for one day and the days of
``deadlines`` (their *basis*, one row of ``follow_up_day_basis``), so that no page counts
every follow-up against today's date:

- ``follow_up_day_figures``: over the open follow-ups of recommendations in force, per
  addressee state (``NO_STATE`` for the organisations and the secretariat), how many are
  overdue, due soon, not updated for long ("stale"), not updated for long and neither
  overdue nor due soon ("stale_only": the urgency level "not updated" of a state's list) and
  awaiting validation ("pending"), as ``FollowUp.is_overdue``, ``is_due_soon``, ``is_stale``
  and ``urgency`` say at the basis's day.

``count_the_day`` moves them to a new day (the reminder scheduler's tick, at its start, and
``flask kpplan recount``): a day or a few after the basis's, with the same days, it adds the
difference of the few follow-ups that crossed a line in between (``shift_day_figures``);
otherwise it counts every follow-up again. Until a basis is counted, or when it is not today's
or the administrator changed the days since, the pages count live (``follow_up_queries``,
``state_follow_up_list``, ``at_a_glance``): right after midnight, until the next tick a few
minutes later. Between two counts each write adds its difference to them, in its own
transaction, with the counters of ``tallies`` (its session hooks).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from kpplan.core.db import Base
from kpplan.directory.models import State
from kpplan.recommendations.deadlines import Deadlines, start_of
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.statuses import OPEN_STATUSES

#: The state key of follow-ups addressed to an organisation or the secretariat.
NO_STATE = 0

STATE_KEY = func.coalesce(FollowUp.state_id, NO_STATE)
PENDING = FollowUp.pending_update_id.is_not(None)
IN_FORCE = Recommendation.withdrawn_at.is_(None)


class FollowUpDayFigure(Base):
    """How many open follow-ups of recommendations in force, addressed to a state
    (``NO_STATE``: organisations and the secretariat), are of a kind of ``DAY_KINDS`` at
    the day and days of the basis."""

    __tablename__ = "follow_up_day_figures"

    # Not a foreign key: NO_STATE (0) is no state.
    state_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One of DAY_KINDS.
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class FollowUpDayBasis(Base):
    """The day and the days of ``deadlines`` the day figures are counted for (one row at
    most; none: not counted yet)."""

    __tablename__ = "follow_up_day_basis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date)
    due_soon_days: Mapped[int] = mapped_column(Integer)
    stale_days: Mapped[int] = mapped_column(Integer)


#: The kinds of day figures, as ``follow_up_queries.Summary`` names them.
DAY_KINDS = ("overdue", "due_soon", "stale", "pending", "stale_only")
#: The id of the basis's only row.
_BASIS_ID = 1


@dataclass(frozen=True)
class DayBasis:
    day: date
    limits: Deadlines


def day_basis(connection, lock: str | None = None, wait: bool = True) -> DayBasis | None:
    """The day and days the day figures are counted for, if they are. ``lock``: "share"
    (a write adding to them: a new day is not counted meanwhile) or "update" (counting a
    new day); PostgreSQL only, SQLite writes one at a time. Without ``wait``, a lock held
    by a write raises ``OperationalError`` at once."""
    t = FollowUpDayBasis.__table__
    query = select(t.c.day, t.c.due_soon_days, t.c.stale_days).where(t.c.id == _BASIS_ID)
    if lock is not None:
        query = query.with_for_update(read=lock == "share", nowait=not wait)
    row = connection.execute(query).first()
    if row is None:
        return None
    return DayBasis(row.day, Deadlines(due_soon_days=row.due_soon_days, stale_days=row.stale_days))


def _kinds(basis: DayBasis) -> list:
    """Whether a follow-up is of each of ``DAY_KINDS`` at ``basis``, in SQL, in their order."""
    today, limits = basis.day, basis.limits
    return [
        FollowUp.is_overdue(today),
        FollowUp.is_due_soon(today, limits.due_soon_days),
        FollowUp.is_stale(start_of(today), limits.stale_days),
        PENDING,
        FollowUp.urgency(today, limits) == 2,
    ]


def _number(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def day_rows(basis: DayBasis, where=None):
    """Per state key, the follow-ups in force of each of ``DAY_KINDS`` at ``basis``."""
    query = (
        select(
            STATE_KEY.label("state_id"),
            *(
                _number(condition).label(kind)
                for kind, condition in zip(DAY_KINDS, _kinds(basis), strict=True)
            ),
        )
        .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .where(IN_FORCE)
        .group_by(STATE_KEY)
    )
    return query.where(where) if where is not None else query


def add_day_rows(found: Counter, rows) -> None:
    for state, *numbers in rows:
        for kind, n in zip(DAY_KINDS, numbers, strict=True):
            if n:
                found[("d", state, kind)] += n


def count_day_figures(connection, basis: DayBasis) -> None:
    t = FollowUpDayFigure.__table__
    connection.execute(delete(t))
    rows = [
        {"state_id": state, "kind": kind, "n": n}
        for state, *numbers in connection.execute(day_rows(basis))
        for kind, n in zip(DAY_KINDS, numbers, strict=True)
        if n
    ]
    if rows:
        connection.execute(insert(t), rows)


#: Days between the basis and the new day up to which the figures are shifted rather than
#: counted again: the follow-ups that cross a line grow with the days in between (a
#: scheduler stopped for weeks comes back to a full count).
SHIFT_DAYS = 7


def crossed(old: date, new: date, limits: Deadlines):
    """The ids of the open follow-ups whose kinds may differ between the days ``old`` and
    ``new`` at the days ``limits``, each part read in an index rather than every follow-up:
    reviewed between the two days (overdue at one, not at the other), reviewed between the
    two last days of "due soon" (due soon at one, later at the other: who left it at the
    front is overdue now, and counted with the first), and last updated (never updated:
    recorded) between the two moments of "not updated". "Awaiting validation" does not
    depend on the day; "not updated, neither overdue nor due soon" is made of the others."""
    first, last = sorted((old, new))
    soon = timedelta(days=limits.due_soon_days)
    stale = timedelta(days=limits.stale_days)
    since, until = start_of(first) - stale, start_of(last) - stale
    review = FollowUp.next_review_date
    of_open = FollowUp.status.in_(OPEN_STATUSES)
    # The index of a state's follow-ups by update: by state (the organisations' and the
    # secretariat's under none), so that each state's range is one step of it.
    addressees = (FollowUp.state_id.in_(select(State.id)), FollowUp.state_id.is_(None))
    return union(
        select(FollowUp.id).where(of_open, review >= first, review < last),
        select(FollowUp.id).where(of_open, review > first + soon, review <= last + soon),
        *(
            select(FollowUp.id).where(
                addressee, FollowUp.last_update_at >= since, FollowUp.last_update_at < until
            )
            for addressee in addressees
        ),
        *(
            select(FollowUp.id).where(
                addressee,
                FollowUp.last_update_at.is_(None),
                FollowUp.created_at >= since,
                FollowUp.created_at < until,
            )
            for addressee in addressees
        ),
    )


def shift_day_figures(connection, basis: DayBasis, today: date) -> None:
    """Move the day figures counted at ``basis`` to ``today`` (same days): add, per state
    and kind, what the follow-ups that crossed a line in between (``crossed``) count at
    ``today`` less what they counted at the basis's day. The others count the same at
    both, so the figures come out as a full count at ``today`` would."""
    new = DayBasis(today, basis.limits)
    ids = crossed(basis.day, today, basis.limits)
    query = (
        select(
            STATE_KEY,
            *(
                _number(now) - _number(before)
                for now, before in zip(_kinds(new), _kinds(basis), strict=True)
            ),
        )
        .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .where(IN_FORCE, FollowUp.id.in_(ids))
        .group_by(STATE_KEY)
    )
    changes = sorted(
        ((state, kind), d)
        for state, *numbers in connection.execute(query)
        for kind, d in zip(DAY_KINDS, numbers, strict=True)
        if d
    )
    if not changes:
        return
    t = FollowUpDayFigure.__table__
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as conflict_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as conflict_insert
    # As a write adds its difference (``tallies.add``): the missing rows first, then
    # ``n = n + d``, in the order of the key.
    connection.execute(
        conflict_insert(t).on_conflict_do_nothing(),
        [{"state_id": state, "kind": kind, "n": 0} for (state, kind), _ in changes],
    )
    connection.execute(
        update(t)
        .where(t.c.state_id == bindparam("k_state"), t.c.kind == bindparam("k_kind"))
        .values(n=t.c.n + bindparam("d")),
        [{"k_state": state, "k_kind": kind, "d": d} for (state, kind), d in changes],
    )
    # A full count keeps no row of none: the table ends as one would leave it.
    connection.execute(delete(t).where(t.c.n == 0))


def count_the_day(
    connection, today: date, limits: Deadlines, force: bool = False, wait: bool = True
) -> bool:
    """Make the day figures those of ``today`` and the days ``limits``, and make them the
    basis; unless they already are (one read) and not ``force``. From a basis at most
    ``SHIFT_DAYS`` away with the same days, by shifting them (``shift_day_figures``);
    otherwise (or with ``force``) by counting every follow-up again in one grouped query.
    Returns whether it counted. Without ``wait`` (the reminder tick), a write under way
    raises ``OperationalError`` at once (PostgreSQL) instead of queueing the writes that
    follow behind this count: the next tick counts."""
    basis = day_basis(connection, lock="update", wait=wait)
    wanted = DayBasis(today, limits)
    if basis == wanted and not force:
        return False
    near = basis is not None and abs((today - basis.day).days) <= SHIFT_DAYS
    if near and basis.limits == limits and not force:
        shift_day_figures(connection, basis, today)
    else:
        count_day_figures(connection, wanted)
    values = {
        "day": today,
        "due_soon_days": limits.due_soon_days,
        "stale_days": limits.stale_days,
    }
    t = FollowUpDayBasis.__table__
    if basis is None:
        connection.execute(insert(t).values(id=_BASIS_ID, **values))
    else:
        connection.execute(update(t).where(t.c.id == _BASIS_ID).values(**values))
    return True


def day_figures(connection, state_id: int | None, today: date, limits: Deadlines, **also):
    """The day figures of one state's follow-ups (``None``: every addressee's), in one
    query, as a dict by kind; ``None`` when they are not counted for ``today`` and
    ``limits``. ``also``: scalar subqueries read in the same query, by name, their values
    put in the dict beside the kinds (a page that needs a kept figure more saves a query)."""
    t, b = FollowUpDayFigure.__table__, FollowUpDayBasis.__table__
    of_scope = t.c.state_id == state_id if state_id else True

    def total(kind: str):
        return (
            select(func.coalesce(func.sum(t.c.n), 0))
            .where(of_scope, t.c.kind == kind)
            .scalar_subquery()
        )

    counted_for_today = (
        select(func.count())
        .select_from(b)
        .where(
            b.c.id == _BASIS_ID,
            b.c.day == today,
            b.c.due_soon_days == limits.due_soon_days,
            b.c.stale_days == limits.stale_days,
        )
        .scalar_subquery()
    )
    names = (*DAY_KINDS, *also)
    row = connection.execute(
        select(
            counted_for_today,
            *(total(kind).label(kind) for kind in DAY_KINDS),
            *(column.label(name) for name, column in also.items()),
        )
    ).one()
    if not row[0]:
        return None
    return {name: int(n) for name, n in zip(names, row[1:], strict=True)}


def overdue_of_state(state_id: int, today: date, otherwise):
    """SQL: how many follow-ups of recommendations in force addressed to a state are
    overdue at ``today``, from the figures of the day when they are counted for ``today``,
    else ``otherwise`` (a scalar subquery that counts them): one statement, of which the
    database runs the branch it takes. Overdue depends on the day alone, not on the days
    of "due soon" and "not updated": the figure holds while the administrator's days wait
    to be counted."""
    t, b = FollowUpDayFigure.__table__, FollowUpDayBasis.__table__
    figure = (
        select(func.coalesce(func.sum(t.c.n), 0))
        .where(t.c.state_id == state_id, t.c.kind == "overdue")
        .scalar_subquery()
    )
    counted_for_today = select(b.c.id).where(b.c.id == _BASIS_ID, b.c.day == today).exists()
    return select(case((counted_for_today, figure), else_=otherwise))


_DAY_WORDS = {
    "overdue": "overdue",
    "due_soon": "due soon",
    "stale": "not updated for long",
    "pending": "awaiting validation",
    "stale_only": "not updated for long, neither overdue nor due soon",
}


def describe(key: tuple) -> str:
    """A day figure's key (``("d", state, kind)``) in words."""
    state = f"state {key[1]}" if key[1] != NO_STATE else "organisations and the secretariat"
    return f"{state}, {_DAY_WORDS[key[2]]} (figures of the day)"
