"""Whether the follow-up figures kept on write (``tallies``) agree with a full count: what
``flask kpplan recount --check`` lists, and what the tests compare after each kind of
change. Counting them again for good is ``tallies.recount``."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from kpplan.recommendations.day_figures import (
    NO_STATE,
    FollowUpDayFigure,
    add_day_rows,
    day_basis,
    day_rows,
)
from kpplan.recommendations.day_figures import describe as describe_day
from kpplan.recommendations.tallies import (
    OPEN_RECOMMENDATIONS,
    PROCESS_FIGURES,
    ActivityTally,
    FollowUpTally,
    ProcessTally,
    RecommendationTally,
    activity_rows,
    open_recommendations_counted,
    recommendation_rows,
    state_rows,
    status_value,
    theme_rows,
)


def kept(connection) -> Counter:
    """The counters as kept, zeros left out, keyed as ``_contribution`` keys them."""
    found: Counter = Counter()
    rt, ft = RecommendationTally.__table__, FollowUpTally.__table__
    for rec, status, pending, n in connection.execute(
        select(rt.c.recommendation_id, rt.c.status, rt.c.pending, rt.c.n).where(rt.c.n != 0)
    ):
        found[("r", rec, status, bool(pending))] = n
    for theme, state, status, pending, n in connection.execute(
        select(ft.c.theme, ft.c.state_id, ft.c.status, ft.c.pending, ft.c.n).where(ft.c.n != 0)
    ):
        found[("f", theme, state, status, bool(pending))] = n
    dt = FollowUpDayFigure.__table__
    for state, kind, n in connection.execute(
        select(dt.c.state_id, dt.c.kind, dt.c.n).where(dt.c.n != 0)
    ):
        found[("d", state, kind)] = n
    at = ActivityTally.__table__
    for activity, status, n in connection.execute(
        select(at.c.activity_id, at.c.status, at.c.n).where(at.c.n != 0)
    ):
        found[("a", activity, status)] = n
    pt = ProcessTally.__table__
    for name, n in connection.execute(select(pt.c.name, pt.c.n).where(pt.c.n != 0)):
        found[("p", name)] = n
    return found


def counted(connection) -> Counter:
    """What the counters should hold, counted from every follow-up (zeros left out)."""
    found: Counter = Counter()
    for rec, status, pending, n in connection.execute(recommendation_rows()):
        found[("r", rec, status_value(status), bool(pending))] += n
    for build in (state_rows, theme_rows):
        for theme, state, status, pending, n in connection.execute(build()):
            found[("f", theme, state, status_value(status), bool(pending))] += n
    for activity, status, n in connection.execute(activity_rows()):
        found[("a", activity, status_value(status))] += n
    found[("p", OPEN_RECOMMENDATIONS)] += connection.scalar(open_recommendations_counted())
    basis = day_basis(connection)
    if basis is not None:
        add_day_rows(found, connection.execute(day_rows(basis)))
    return +found


def differences(connection) -> list[tuple[tuple, int, int]]:
    """Each counter that differs from a full recount: (key, kept, counted)."""
    have, want = kept(connection), counted(connection)
    return [
        (key, have.get(key, 0), want.get(key, 0))
        for key in sorted(set(have) | set(want), key=repr)
        if have.get(key, 0) != want.get(key, 0)
    ]


def describe(key: tuple) -> str:
    """A counter's key in words, for ``kpplan recount --check``."""
    if key[0] == "d":
        return describe_day(key)
    if key[0] == "a":
        return f"activity {key[1]}, {key[2]}"
    if key[0] == "p":
        return PROCESS_FIGURES.get(key[1], key[1])
    pending = " (awaiting validation)" if key[-1] else ""
    if key[0] == "r":
        return f"recommendation {key[1]}, {key[2]}{pending}"
    theme = f"theme {key[1]}" if key[1] else "every theme"
    state = f"state {key[2]}" if key[2] != NO_STATE else "organisations and the secretariat"
    return f"{theme}, {state}, {key[3]}{pending}"
