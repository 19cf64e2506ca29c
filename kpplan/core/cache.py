"""A small per-process memo for heavy aggregates, valid while the data stays the same.

Figures over every follow-up (shares implemented, the home page's counts, statistics)
read hundreds of thousands of rows at scale, yet change only when someone changes
something. Each memo entry is keyed by a *change stamp*: the highest id of the audit
trail (every change through kpplan writes one) and of the tables the figures read (rows
added without the trail, as imports of old data may be). Reading the stamp costs one
indexed query per request; any change anywhere gives a new stamp, so no figure is ever
served stale, in this worker or another.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app, g
from sqlalchemy import func, select

from kpplan.core.extensions import db

T = TypeVar("T")

MAX_ENTRIES = 256

#: Tables every stamp includes: the audit trail, which every change through kpplan writes.
#: The audit feature registers its model here (core knows no feature).
_ALWAYS: list[Any] = []


def stamp_every_figure_with(model: Any) -> None:
    """Make ``model``'s highest id part of every change stamp."""
    if model not in _ALWAYS:
        _ALWAYS.append(model)


def change_stamp(*models: Any) -> tuple:
    """The highest ids of the audit trail and of ``models``, once per request."""
    key = tuple(m.__tablename__ for m in models)
    stamps = g.setdefault("change_stamps", {})
    if key not in stamps:
        first, *rest = [*_ALWAYS, *models]
        columns = [func.max(first.id)] + [select(func.max(m.id)).scalar_subquery() for m in rest]
        stamps[key] = tuple(db.session.execute(select(*columns)).one())
    return stamps[key]


def memoised(name: str, args: Hashable, models: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, or its result from an earlier request when nothing has changed."""
    # Kept on the app: one memo per worker and per application (and so per test).
    memo: dict[tuple, Any] = current_app.extensions.setdefault("kpplan_memo", {})
    key = (name, args, change_stamp(*models))
    if key in memo:
        return memo[key]
    value = compute()
    if len(memo) >= MAX_ENTRIES:
        memo.pop(next(iter(memo)))
    memo[key] = value
    return value
