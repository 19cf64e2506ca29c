"""Follow-up figures kept up to date on every write, so that no page adds up every
follow-up to show them.

Three tables of counters, keyed by status (a new ``FollowUpStatus`` entry needs no change
here: the status is stored by its value, without a CHECK constraint to widen):

- ``recommendation_tallies``: per recommendation, how many of its addressees stand at each
  status, with or without a move to "implemented" awaiting validation (``pending``);
  withdrawn recommendations included (readers leave them out by joining).
- ``follow_up_tallies``: over the recommendations in force, per addressee state (0 for the
  organisations and the secretariat) and per theme ("" for every recommendation, whatever
  its themes), the same counts.
- ``activity_tallies``: over the recommendations in force, per activity they were made at,
  how many addressees stand at each status (the statistics of a period add up its
  activities' rows instead of its recommendations').
- ``process_tallies``: figures of the whole Process that are no sum of follow-ups, by name:
  ``open_recommendations``, how many recommendations in force an addressee still follows up
  (open, or a move to "implemented" awaiting validation), which the handover pack shows.

And, in the same hooks, the differences of the figures of the day (``day_figures``: what
is overdue, due soon or not updated for long, counted for one day).

They change in the same transaction as the follow-ups, from one place: session hooks.
Before a flush, the contribution of the follow-ups it touches (and of every follow-up of a
recommendation whose withdrawal or themes change) is read from the database; after the
flush it is read again, and the difference is added to the counters with
``UPDATE ... SET n = n + d`` (no update is lost between concurrent transactions). Bulk
statements through the session on these tables (``session.execute(insert(FollowUp), rows)``,
as the benchmark's filling does) make a full recount before the commit. Only raw SQL
escapes both; ``flask kpplan recount`` puts the figures right then, and ``--check`` says
whether they are (``tally_check``).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    bindparam,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from kpplan.core.cache import bump, watch
from kpplan.core.db import Base
from kpplan.recommendations.day_figures import (
    IN_FORCE,
    PENDING,
    STATE_KEY,
    DayBasis,
    FollowUpDayFigure,
    add_day_rows,
    count_day_figures,
    day_basis,
    day_rows,
)
from kpplan.recommendations.follow_up_models import FollowUp, StatusUpdate
from kpplan.recommendations.models import Recommendation, RecommendationTheme
from kpplan.recommendations.statuses import OPEN_STATUSES

# The figures kept in memory for a while (``core.cache.memoised``) read these tables.
watch(FollowUp, StatusUpdate, Recommendation, RecommendationTheme)

#: The theme key of the counts over every recommendation, whatever its themes.
EVERY_THEME = ""


class RecommendationTally(Base):
    """How many addressees of a recommendation stand at a status (``pending``: with a
    move to "implemented" awaiting validation)."""

    __tablename__ = "recommendation_tallies"

    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), primary_key=True
    )
    # A FollowUpStatus value; no CHECK constraint, so a new status needs no migration here.
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    pending: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class FollowUpTally(Base):
    """How many follow-ups of recommendations in force stand at a status, per addressee
    state (``NO_STATE``: organisations and the secretariat) and theme (``EVERY_THEME``:
    all of them)."""

    __tablename__ = "follow_up_tallies"

    theme: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Not a foreign key: NO_STATE (0) is no state.
    state_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    pending: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ActivityTally(Base):
    """How many follow-ups of the recommendations in force made at an activity stand at a
    status, every addressee's."""

    __tablename__ = "activity_tallies"

    # Not a foreign key: a deleted activity's counts go to zero with its follow-ups, in the
    # same flush that deletes them.
    activity_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ProcessTally(Base):
    """A figure of the whole Process kept on write that is no sum of follow-ups (see
    ``PROCESS_FIGURES``), by name."""

    __tablename__ = "process_tallies"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


#: The name of the kept number of open recommendations: in force, with an addressee that
#: still follows them up (an open status, or a move to "implemented" awaiting validation).
OPEN_RECOMMENDATIONS = "open_recommendations"

#: What each figure of ``process_tallies`` is, in words (``kpplan recount --check``).
PROCESS_FIGURES = {OPEN_RECOMMENDATIONS: "open recommendations of the Process"}

#: A follow-up its addressee still works on: open, or awaiting validation.
STILL_FOLLOWED = or_(FollowUp.status.in_(OPEN_STATUSES), PENDING)


# --- What the follow-ups add up to ----------------------------------------------------


def recommendation_rows(where=None):
    query = select(
        FollowUp.recommendation_id,
        FollowUp.status,
        PENDING.label("pending"),
        func.count().label("n"),
    ).group_by(FollowUp.recommendation_id, FollowUp.status, PENDING)
    return query.where(where) if where is not None else query


def state_rows(where=None):
    query = (
        select(
            literal(EVERY_THEME).label("theme"),
            STATE_KEY.label("state_id"),
            FollowUp.status,
            PENDING.label("pending"),
            func.count().label("n"),
        )
        .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .where(IN_FORCE)
        .group_by(STATE_KEY, FollowUp.status, PENDING)
    )
    return query.where(where) if where is not None else query


def theme_rows(where=None):
    query = (
        select(
            RecommendationTheme.code.label("theme"),
            STATE_KEY.label("state_id"),
            FollowUp.status,
            PENDING.label("pending"),
            func.count().label("n"),
        )
        .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .join(
            RecommendationTheme,
            RecommendationTheme.recommendation_id == FollowUp.recommendation_id,
        )
        .where(IN_FORCE)
        .group_by(RecommendationTheme.code, STATE_KEY, FollowUp.status, PENDING)
    )
    return query.where(where) if where is not None else query


def activity_rows(where=None):
    query = (
        select(Recommendation.activity_id, FollowUp.status, func.count().label("n"))
        .join(Recommendation, Recommendation.id == FollowUp.recommendation_id)
        .where(IN_FORCE)
        .group_by(Recommendation.activity_id, FollowUp.status)
    )
    return query.where(where) if where is not None else query


def open_recommendations_counted(ids=None):
    """How many recommendations in force (of ``ids``, a list, or all of them) have a
    follow-up still followed up: one per recommendation, whatever its addressees."""
    still_followed = (
        select(FollowUp.id)
        .where(FollowUp.recommendation_id == Recommendation.id, STILL_FOLLOWED)
        .exists()
    )
    query = select(func.count()).select_from(Recommendation).where(IN_FORCE, still_followed)
    return query.where(Recommendation.id.in_(ids)) if ids is not None else query


def status_value(status) -> str:
    return getattr(status, "value", status)


def _contribution(
    connection,
    follow_up_ids: set[int],
    recommendation_ids: set[int],
    basis: DayBasis | None = None,
    reached: set[int] | None = None,
) -> Counter:
    """The counts the given follow-ups (and every follow-up of the given recommendations)
    add to each counter, keyed ``("r", recommendation, status, pending)``, ``("f",
    theme, state, status, pending)`` or ``("a", activity, status)``; and, with a
    ``basis``, to each day figure, keyed ``("d", state, kind)``.

    And how many of the recommendations they reach are open, keyed ``("p",
    OPEN_RECOMMENDATIONS)``: the given ones, those of the given follow-ups, and those of
    ``reached`` (which it adds them to), so that the count after a flush is taken over the
    same recommendations as before it (and over the new ones)."""
    found: Counter = Counter()
    reached = reached if reached is not None else set()
    reached.update(recommendation_ids)
    follow_up_list, recommendation_list = sorted(follow_up_ids), sorted(recommendation_ids)
    # In slices: an IN list stays well under the databases' limits on parameters.
    step = 2000
    for start in range(0, max(len(follow_up_list), len(recommendation_list)), step):
        fus = follow_up_list[start : start + step]
        recs = recommendation_list[start : start + step]
        where = or_(FollowUp.id.in_(fus), FollowUp.recommendation_id.in_(recs))
        for rec, status, pending, n in connection.execute(recommendation_rows(where)):
            found[("r", rec, status_value(status), bool(pending))] += n
            reached.add(rec)
        for build in (state_rows, theme_rows):
            for theme, state, status, pending, n in connection.execute(build(where)):
                found[("f", theme, state, status_value(status), bool(pending))] += n
        for activity, status, n in connection.execute(activity_rows(where)):
            found[("a", activity, status_value(status))] += n
        if basis is not None:
            add_day_rows(found, connection.execute(day_rows(basis, where)))
    reached_list = sorted(reached)
    for start in range(0, len(reached_list), step):
        found[("p", OPEN_RECOMMENDATIONS)] += connection.scalar(
            open_recommendations_counted(reached_list[start : start + step])
        )
    return found


# --- Keeping them on write ------------------------------------------------------------

_KEY = "kpplan_tallies_before"


def _touched(session: Session) -> tuple[set[int], set[int]]:
    """The persistent follow-ups and the recommendations whose figures this flush may
    change: follow-ups changed or deleted; recommendations changed (withdrawn, themes,
    addressees) or deleted."""
    follow_ups: set[int] = set()
    recommendations: set[int] = set()
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, FollowUp) and instance.id is not None:
            follow_ups.add(instance.id)
        elif isinstance(instance, Recommendation) and instance.id is not None:
            recommendations.add(instance.id)
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, RecommendationTheme) and instance.recommendation_id:
            recommendations.add(instance.recommendation_id)
    return follow_ups, recommendations


def _before_flush(session: Session, flush_context, instances) -> None:
    # What an earlier flush left, if it failed before its end, counts for nothing.
    session.info.pop(_KEY, None)
    follow_ups, recommendations = _touched(session)
    new = [o for o in session.new if isinstance(o, FollowUp | Recommendation | RecommendationTheme)]
    if not (follow_ups or recommendations or new):
        return
    connection = session.connection()
    # Held until the commit on PostgreSQL: the day cannot be counted again in between, so
    # the difference is taken and added at the same day.
    basis = day_basis(connection, lock="share")
    reached = _recommendations_of(session)
    before = _contribution(connection, follow_ups, recommendations, basis, reached)
    session.info[_KEY] = (follow_ups, recommendations, new, basis, before, reached)


def _recommendations_of(session: Session) -> set[int]:
    """The persistent recommendations the new and changed follow-ups of this flush belong
    to, as the session holds them (a follow-up added to a recommendation, or moved to
    another): whether they are open is counted before the flush too."""
    found: set[int] = set()
    for instance in (*session.new, *session.dirty):
        if isinstance(instance, FollowUp):
            recommendation = instance.__dict__.get("recommendation")
            ident = instance.recommendation_id or getattr(recommendation, "id", None)
            if ident is not None:
                found.add(ident)
    return found


def _after_flush(session: Session, flush_context) -> None:
    kept = session.info.pop(_KEY, None)
    if kept is None:
        return
    follow_ups, recommendations, new, basis, before, reached = kept
    for instance in new:
        if isinstance(instance, FollowUp) and instance.id is not None:
            follow_ups.add(instance.id)
        elif isinstance(instance, Recommendation) and instance.id is not None:
            recommendations.add(instance.id)
        elif isinstance(instance, RecommendationTheme) and instance.recommendation_id:
            recommendations.add(instance.recommendation_id)
    connection = session.connection()
    after = _contribution(connection, follow_ups, recommendations, basis, reached)
    delta = Counter(after)
    delta.subtract(before)
    add(connection, {key: d for key, d in delta.items() if d})


_STALE = "kpplan_tallies_stale"


def _after_bulk(orm_execute_state) -> None:
    """A bulk INSERT, UPDATE or DELETE through the session on follow-ups, recommendations
    or their themes bypasses the flush: everything is counted again before the commit."""
    state = orm_execute_state
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) in _WATCHED:
        state.session.info[_STALE] = True


def _before_commit(session: Session) -> None:
    if session.info.pop(_STALE, False):
        recount(session.connection())


def _after_rollback(session: Session) -> None:
    session.info.pop(_STALE, None)


_WATCHED = {FollowUp.__tablename__, Recommendation.__tablename__, "recommendation_themes"}


def add(connection, delta: dict[tuple, int]) -> None:
    """Add ``delta`` to the counters: create the missing ones (a conflict-ignoring insert:
    a concurrent transaction may create the same), then ``n = n + d``, in a fixed order so
    that two transactions take the rows' locks in the same order."""
    if not delta:
        return
    dialect = connection.dialect.name
    for kind, (model, columns) in _COUNTERS.items():
        changes = sorted((k[1:], d) for k, d in delta.items() if k[0] == kind)
        if not changes:
            continue
        t = model.__table__
        keys = [dict(zip(columns, key, strict=True)) for key, _ in changes]
        _create_missing(connection, dialect, t, [{**key, "n": 0} for key in keys])
        connection.execute(
            update(t)
            .where(*(t.c[c] == bindparam(f"k_{c}") for c in columns))
            .values(n=t.c.n + bindparam("d")),
            [
                {**{f"k_{c}": v for c, v in key.items()}, "d": d}
                for key, (_, d) in zip(keys, changes, strict=True)
            ],
        )


#: Each kind of counter's table and the columns of its key, in the order they are changed.
_COUNTERS = {
    "r": (RecommendationTally, ("recommendation_id", "status", "pending")),
    "f": (FollowUpTally, ("theme", "state_id", "status", "pending")),
    "d": (FollowUpDayFigure, ("state_id", "kind")),
    "a": (ActivityTally, ("activity_id", "status")),
    "p": (ProcessTally, ("name",)),
}


def _create_missing(connection, dialect: str, table, rows: list[dict]) -> None:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as conflict_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as conflict_insert
    connection.execute(conflict_insert(table).on_conflict_do_nothing(), rows)


def keep_tallies() -> None:
    """Keep the counters on every flush and ORM bulk statement of every session (once,
    however many apps)."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("do_orm_execute", _after_bulk),
        ("before_commit", _before_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


# --- Counting everything again ---------------------------------------------------------


def recount(connection) -> None:
    """Throw the counters away and count every follow-up again (in SQL); the day figures
    too, at the day and days they are counted for (if they are)."""
    rt, ft, at = RecommendationTally.__table__, FollowUpTally.__table__, ActivityTally.__table__
    pt = ProcessTally.__table__
    connection.execute(delete(rt))
    connection.execute(delete(ft))
    connection.execute(delete(at))
    connection.execute(delete(pt))
    connection.execute(
        insert(pt).values(
            name=OPEN_RECOMMENDATIONS, n=open_recommendations_counted().scalar_subquery()
        )
    )
    connection.execute(insert(at).from_select(["activity_id", "status", "n"], activity_rows()))
    connection.execute(
        insert(rt).from_select(
            ["recommendation_id", "status", "pending", "n"], recommendation_rows()
        )
    )
    for build in (state_rows, theme_rows):
        connection.execute(
            insert(ft).from_select(["theme", "state_id", "status", "pending", "n"], build())
        )
    # Shared, as a write's: two recounts in bulk writes do not wait for each other's lock.
    basis = day_basis(connection, lock="share")
    if basis is not None:
        count_day_figures(connection, basis)
    # The figures kept in memory from the follow-ups are out of date too.
    bump(connection, [FollowUp.__tablename__])


def open_recommendations(connection) -> int:
    """How many recommendations in force an addressee still follows up (open, or a move
    to "implemented" awaiting validation), as kept on write: one query of one row."""
    pt = ProcessTally.__table__
    found = connection.scalar(select(pt.c.n).where(pt.c.name == OPEN_RECOMMENDATIONS))
    return found or 0
