"""Change counters per table, a per-process memo keyed by them, and conditional GET.

Each table has a counter in ``change_counters``, bumped in the same transaction as any
change to its rows: every statement that changes a table notes it on its connection
(a flush, an ORM bulk statement, the Core statements of the kept figures alike), and the
counters of what a transaction changed are bumped once, as it commits. A figure
is kept under the counters of the tables it reads: an edit of a state or a user leaves the
follow-up figures alone, and a change anywhere is seen by every worker, since the counters
live in the database. Reading them costs one indexed query per request, shared by every
figure of the page.

The same counters, with the reader's scope, make the ETag of the pages that show only
such figures: ``core.etags``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from flask import current_app, g, request
from sqlalchemy import (
    Engine,
    Integer,
    String,
    bindparam,
    cast,
    event,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import ClauseElement, TextClause, visitors
from sqlalchemy.sql.functions import FunctionElement

from kpplan.core.db import Base
from kpplan.core.extensions import db

T = TypeVar("T")

MAX_ENTRIES = 256


class ChangeCounter(Base):
    """How many times the rows of a table have been changed (by flushes that touched it)."""

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


#: Tables whose changes are not counted: the counters themselves, what signing in and every
#: request write, and the reminder job's log of its runs (written at each phase of a tick).
#: No figure and no kept page may be read from them.
UNCOUNTED = frozenset(
    {
        "change_counters",
        "signed_in_sessions",
        "sign_in_throttles",
        "reminder_runs",
        "alembic_version",
    }
)


def counted(table: str) -> bool:
    """Whether the changes of ``table`` are counted (every table but ``UNCOUNTED``)."""
    return table not in UNCOUNTED


def table_name(model: Any) -> str:
    """The name of a model's table, or of a ``Table`` (a link table has no model)."""
    return getattr(model, "__tablename__", None) or model.name


def watch(*models: Any) -> tuple:
    """``models`` (or tables), for a module's tuple of what its figures read; refuses, at
    import time, a table whose changes are not counted."""
    names = [table_name(m) for m in models if not counted(table_name(m))]
    if names:
        raise RuntimeError(f"The changes of {names} are not counted: no figure may read them.")
    return models


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

#: The tables the statements of a page read, while ``reading_tables`` records them; a
#: statement whose tables cannot be told (SQL text) adds ``UNKNOWN``.
_tables_read: ContextVar[set[str] | None] = ContextVar("kpplan_tables_read", default=None)
UNKNOWN = "?"


#: Tables the database keeps in step with another table itself, in the same statement as
#: each change of that table (a full-text index filled by triggers on SQLite, say): their
#: name -> the table whose counter stands for them (see ``kept_in_step_with``).
_STANDS_FOR: dict[str, str] = {}


def kept_in_step_with(name: str, model: Any) -> str:
    """Declare that the database changes the table ``name`` (an FTS5 table, kept by
    triggers) only in the statements that change ``model``'s table: no statement of ours
    names it, so its own counter would never move. A read of it is recorded as a read of
    ``model``'s table, whose counter moves in the same transaction as every change of the
    index. Returns ``name``."""
    base = model.__tablename__
    if not counted(base):
        raise RuntimeError(f"The changes of {base} are not counted: no table may stand on it.")
    _STANDS_FOR[name] = base
    return name


class TextReading(TextClause):
    """SQL text that says which tables it reads (``text_reading``)."""

    inherit_cache = True
    reads: tuple[str, ...] = ()


def text_reading(sql: str, *models: Any) -> TextReading:
    """SQL text (as ``sqlalchemy.text``) that reads ``models``' tables and no other: a page
    that runs it is kept like any other, until one of them changes. Plain ``text()`` (whose
    tables cannot be told) keeps the page from being kept at all.

    Name every table the text reads, by its model, or by the model whose counter stands
    for it (``kept_in_step_with``); a table whose changes are not counted is refused."""
    names = tuple(m.__tablename__ for m in watch(*models))
    clause = TextReading(sql)
    clause.reads = names
    return clause


def _note_text(clause: TextClause, found: set[str]) -> None:
    reads = getattr(clause, "reads", None)
    if reads:
        found.update(_STANDS_FOR.get(name, name) for name in reads)
    else:
        found.add(UNKNOWN)


def _note_tables(statement: ClauseElement, found: set[str]) -> None:
    visitors.traverse(
        statement,
        {},
        {
            "table": lambda table: found.add(_STANDS_FOR.get(table.name, table.name)),
            "textclause": lambda clause: _note_text(clause, found),
        },
    )


def _before_execute(connection, statement, multiparams, params, execution_options):
    # Every change goes through here, whatever made it (a flush, an ORM bulk statement, a
    # Core statement of the kept figures): the tables it changes are noted on the
    # connection, and counted once as its transaction commits.
    if getattr(statement, "is_dml", False) and execution_options.get("kpplan_count_changes", True):
        name = getattr(getattr(statement, "table", None), "name", None)
        if name is not None and counted(name):
            connection.info.setdefault(_PENDING, set()).add(name)


#: The attribute of a compiled statement that holds the tables it reads (``_reads_of``).
_READS = "kpplan_tables_read"


def _reads_of(compiled) -> frozenset[str]:
    """The tables a compiled statement reads, found once per compiled form: the engine
    keeps one compiled form per shape of statement, and walking a statement of twenty
    branches (a state's follow-ups) on every page rendered after a write cost more than
    the rest of the page. Two statements of one shape read the same tables (the tables
    are part of the shape)."""
    reads = compiled.__dict__.get(_READS)
    if reads is None:
        found: set[str] = set()
        _note_tables(compiled.statement, found)
        reads = frozenset(found)
        setattr(compiled, _READS, reads)
    return reads


def _before_cursor_execute(connection, cursor, statement, parameters, context, executemany):
    # The tables a page reads, taken from the statement as compiled (SQL the engine did
    # not compile, a string, cannot be told).
    found = _tables_read.get()
    if found is not None:
        compiled = getattr(context, "compiled", None)
        if compiled is not None and isinstance(compiled.statement, ClauseElement):
            found.update(_reads_of(compiled))
        else:
            found.add(UNKNOWN)


def _on_commit(connection) -> None:
    # Once per transaction, at its end, in one order: the counters are rows every writer
    # updates, and bumping them at each statement would hold them from the first change
    # on, so that two writers taking the kept figures' rows in between could deadlock. The
    # hook runs inside the transaction, before it commits, so the bump commits with it.
    tables = connection.info.pop(_PENDING, None)
    if tables:
        bump(connection, tables)


def _on_rollback(connection) -> None:
    connection.info.pop(_PENDING, None)


def count_changes() -> None:
    """Bump the counter of every table each transaction changed, once, as it commits, on
    every engine (once however many apps)."""
    for name, listener in (
        ("before_execute", _before_execute),
        ("before_cursor_execute", _before_cursor_execute),
        ("commit", _on_commit),
        ("rollback", _on_rollback),
    ):
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener)


@contextmanager
def reading_tables() -> Iterator[set[str]]:
    """Record the tables read in this block (by its statements, and by the figures it
    takes from the memo) into the set it yields."""
    found: set[str] = set()
    token = _tables_read.set(found)
    try:
        yield found
    finally:
        _tables_read.reset(token)


#: Built once; run on the session's connection (in its transaction), without the ORM's
#: steps, since every kept page's check runs it.
_EVERY_STAMP = select(ChangeCounter.__table__.c.name, ChangeCounter.__table__.c.n)


def change_stamps() -> dict[str, int]:
    """Every table's change counter, read once per request (one query for the page, or none
    when the sign-in read them: ``every_stamp_column``). Read only: requests may share it."""
    stamps = g.get("change_stamps")
    if stamps is None:
        stamps = g.change_stamps = dict(db.session.connection().execute(_EVERY_STAMP).all())
    return stamps


class _JoinedTexts(FunctionElement):
    """``group_concat(text, ',')`` on SQLite, ``string_agg(text, ',')`` on PostgreSQL: as
    ``func.aggregate_strings``, with the comma written into the SQL rather than bound
    anew (a literal parameter re-rendered) on each execution."""

    type = String()
    inherit_cache = True
    name = "joined_texts"


@compiles(_JoinedTexts)
def _joined_texts(element, compiler, **kw) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_JoinedTexts, "postgresql")
def _joined_texts_postgresql(element, compiler, **kw) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def every_stamp_column() -> Any:
    """Every counter as one text (``name:n,...``), for a query that reads something else
    every request does (the signed-in user) to read them too: a kept page is then served
    after one query in all."""
    t = ChangeCounter.__table__
    return (
        select(_JoinedTexts(t.c.name + literal_column("':'") + cast(t.c.n, String)))
        .scalar_subquery()
        .label("change_stamps")
    )


#: The last text of counters this worker read, and what it says: the counters change far
#: less often than pages are asked for. Never changed in place (see ``change_stamps``).
_last_stamps: tuple[str, dict[str, int]] = ("", {})


def take_stamps(text: str | None) -> None:
    """Keep the counters read by ``every_stamp_column`` for this request, when it only
    reads (a GET): a request that writes reads them when it needs them, after its change."""
    global _last_stamps
    if request.method in ("GET", "HEAD") and "change_stamps" not in g:
        text = text or ""
        last_text, stamps = _last_stamps
        if text != last_text:
            stamps = {}
            for pair in text.split(","):
                name, _, n = pair.partition(":")
                if name:
                    stamps[name] = int(n)
            _last_stamps = (text, stamps)
        g.change_stamps = stamps


def change_stamp(*models: Any) -> tuple:
    """The change counters of ``models``' tables, all read once per request."""
    names = tuple(table_name(m) for m in models)
    uncounted = [n for n in names if not counted(n)]
    if uncounted:
        raise RuntimeError(f"The changes of {uncounted} are not counted: no figure may read them.")
    found = _tables_read.get()
    if found is not None:
        found.update(names)
    stamps = change_stamps()
    return tuple(stamps.get(n, 0) for n in names)


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


#: The most pieces of HTML ``kept_fragment`` keeps per worker and application.
MAX_FRAGMENTS = 4096
_FRAGMENTS_LOCK = threading.Lock()


def kept_fragment(name: str, key: Hashable, write: Callable[[], T]) -> T:
    """``write()``, or what it gave for the same ``name`` and ``key`` before: a piece of a
    page (a row of a list) written from ``key`` alone, so that a page whose figures were
    read again after a write does not write again the rows that show the same values.
    ``key`` must hold every value the piece shows (and the address's root, for its links).
    Kept per worker and application, at most ``MAX_FRAGMENTS``, the least used dropped."""
    store: OrderedDict = current_app.extensions.setdefault("kpplan_fragments", OrderedDict())
    full = (name, key)
    # A threaded server's requests share the store: its order changes under one lock (the
    # piece itself is written outside it).
    with _FRAGMENTS_LOCK:
        found = store.get(full)
        if found is not None:
            store.move_to_end(full)
            return found
    found = write()
    with _FRAGMENTS_LOCK:
        store[full] = found
        while len(store) > MAX_FRAGMENTS:
            store.popitem(last=False)
    return found
