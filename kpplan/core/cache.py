"""Change counters per table, a per-process memo keyed by them, and conditional GET.

Each table a kept figure depends on has a counter in ``change_counters``, bumped in the
same transaction as any change to its rows: session hooks note the tables of every flush
and ORM bulk statement, and bump their counters once, as the transaction commits. A figure
is kept under the counters of the tables it reads: an edit of a state or a user leaves the
follow-up figures alone, and a change anywhere is seen by every worker, since the counters
live in the database. Reading them costs one indexed query per request, shared by every
figure of the page.

The same counters, with the reader's scope, make the ETag of the pages that show only
such figures (``conditional``): a browser that has the page gets a 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from flask import Response, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Integer, String, bindparam, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from kpplan.core.clock import today
from kpplan.core.db import Base
from kpplan.core.extensions import db

T = TypeVar("T")

MAX_ENTRIES = 256


class ChangeCounter(Base):
    """How many times the rows of a table have been changed (by flushes that touched it)."""

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


#: The tables whose changes are counted: those some kept figure reads.
_WATCHED: set[str] = set()


def watch(*models: Any) -> tuple:
    """Count the changes of ``models``' tables (at import time, in every worker alike);
    returns ``models``, for a module's tuple of what its figures read."""
    _WATCHED.update(m.__tablename__ for m in models)
    return models


def _tables_changed(session: Session) -> set[str]:
    found = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        if table in _WATCHED:
            found.add(table)
    return found


def bump(connection, tables: Iterable[str]) -> None:
    """Count one more change of each of ``tables`` (creating its counter if need be)."""
    tables = sorted(tables)
    if not tables:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    t = ChangeCounter.__table__
    connection.execute(
        insert(t).on_conflict_do_nothing(), [{"name": name, "n": 0} for name in tables]
    )
    connection.execute(
        update(t).where(t.c.name == bindparam("key")).values(n=t.c.n + 1),
        [{"key": name} for name in tables],
    )


_PENDING = "kpplan_changed_tables"


def _before_flush(session: Session, flush_context, instances) -> None:
    tables = _tables_changed(session)
    if tables:
        session.info.setdefault(_PENDING, set()).update(tables)


def _after_bulk(orm_execute_state):
    state = orm_execute_state
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    table = getattr(state.statement, "table", None)
    if table is not None and table.name in _WATCHED:
        state.session.info.setdefault(_PENDING, set()).add(table.name)
    return None


def _before_commit(session: Session) -> None:
    # Once per transaction, at its end, in one order: the counters are rows every writer
    # updates, and bumping them at each flush would hold them from the first flush on, so
    # that two writers taking the kept figures' rows in between could deadlock.
    # The commit's own flush comes after this hook: flush first, so that its tables count.
    session.flush()
    tables = session.info.pop(_PENDING, None)
    if tables:
        bump(session.connection(), tables)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def count_changes() -> None:
    """Bump the counters of the tables every transaction changed (by flushes and ORM bulk
    statements of every session), once, as it commits (once however many apps)."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("do_orm_execute", _after_bulk),
        ("before_commit", _before_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def change_stamp(*models: Any) -> tuple:
    """The change counters of ``models``' tables, all read once per request."""
    names = tuple(m.__tablename__ for m in models)
    unwatched = [n for n in names if n not in _WATCHED]
    if unwatched:
        # Watched only from here, a table's changes would go uncounted in the workers that
        # have not yet read this figure, and they would keep it stale.
        raise RuntimeError(f"Call watch() at import time for the tables {unwatched}.")
    stamps = g.get("change_stamps")
    if stamps is None:
        # Every counter at once (a row per watched table): the figures of a page read
        # those of different tables, and each would cost a query of its own.
        found = dict(db.session.execute(select(ChangeCounter.name, ChangeCounter.n)).all())
        stamps = g.change_stamps = {name: found.get(name, 0) for name in _WATCHED}
    return tuple(stamps[n] for n in names)


def memoised(name: str, args: Hashable, models: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, or its result from an earlier request when none of ``models``'
    tables has changed since."""
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


# --- Conditional GET --------------------------------------------------------------------


def etag_for(*parts: Hashable) -> str:
    """A strong ETag made of ``parts`` (change stamps, the reader's scope, the address)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


#: Kept by the browser for its reader only, and asked for again every time.
PRIVATE_REVALIDATED = "private, no-cache"


#: What the layout of every page shows (the Chair of the header, the reader's state),
#: registered by the features that draw it.
_EVERY_PAGE: list[Any] = []


def stamp_every_page_with(*models: Any) -> None:
    """Make ``models``' tables part of every page's ETag (they are in its layout)."""
    watch(*models)
    _EVERY_PAGE.extend(m for m in models if m not in _EVERY_PAGE)


def page_etag(*models: Any) -> str | None:
    """The ETag of a page that shows figures read from ``models``' tables and the layout
    (``stamp_every_page_with``), for the signed-in reader: their account, scope and
    unread notifications, the session's form token (the sign-out button carries it), the
    address and the day. None when the page will show flashed messages (shown once)."""
    if session.get("_flashes"):
        return None
    user = current_user
    generate_csrf()  # the session's token, made now if this is its first page
    token = session.get("csrf_token") or ""
    reader = (
        getattr(user, "id", None),
        getattr(user, "name", None),
        str(getattr(user, "role", "")),
        getattr(user, "state_id", None),
        getattr(user, "unread_notifications", None),
        hashlib.sha256(token.encode()).hexdigest(),
    )
    return etag_for(request.full_path, today(), reader, change_stamp(*_EVERY_PAGE, *models))


def _validators(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    # The page depends on who reads it: no shared cache keeps it, and the browser asks
    # every time (and gets a 304 while nothing changed).
    response.headers["Cache-Control"] = PRIVATE_REVALIDATED
    response.vary.add("Cookie")
    return response


def unchanged(etag: str) -> Response | None:
    """A 304 when the browser already has the version ``etag`` names, else None: asked
    before the page is computed, so an unchanged page costs only its stamps.

    Only for pages without forms or flashed messages, whose body depends on nothing but
    what the ETag is made of."""
    if request.if_none_match.contains(etag):
        return _validators(Response(status=304), etag)
    return None


def with_etag(response: Response, etag: str) -> Response:
    """``response`` with its ETag and the headers that keep it private."""
    return _validators(response, etag)
