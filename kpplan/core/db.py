"""Declarative base, naming convention, time helpers and small model mixins."""

from __future__ import annotations

import enum
import re
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Enum, Integer, MetaData, event, inspect
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

from kpplan.core.errors import DomainError, StaleEdit

# Named constraints keep SQLite batch migrations and PostgreSQL in step.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment stored as naive UTC and always read back as an aware UTC datetime.

    SQLite keeps no timezone, PostgreSQL's ``timestamp`` neither: storing UTC without an
    offset gives both the same values, and reading them back aware avoids mixing naive
    and aware datetimes in the code.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("kpplan stores only timezone-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Versioned:
    """Optimistic locking: each UPDATE checks and bumps ``version``.

    Forms carry the version they were drawn from, so an edit made from a stale page is
    refused instead of silently overwriting someone else's change.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )


# How long a connection to SQLite waits for another's write lock before "database is locked".
# The driver's default, 5 seconds, is shorter than a busy moment of several gunicorn workers
# and the scheduler writing at once.
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def configure_sqlite_connection(dbapi_connection, connection_record=None) -> None:
    """Set up every new SQLite connection: wait for locks, and keep a write-ahead log.

    With the write-ahead log (WAL), readers and the one writer no longer block each other,
    and the online backup reads a consistent copy while writes go on. The setting is kept in
    the database file; an in-memory database stays in memory.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


#: A pooled connection to a database server that was given back more recently than this is
#: used as it is; one idle for longer is pinged first (see ``PingAfterIdle``).
PING_AFTER_IDLE_SECONDS = 1.0

_IDLE_SINCE = "kpplan_idle_since"


class PingAfterIdle:
    """Check that a pooled connection to a database server is alive before it is used, when
    it has been idle for more than ``PING_AFTER_IDLE_SECONDS``.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip to the server on
    each (two a request: the sign-in's connection, then the session's), for a connection
    that was in use a few milliseconds before. What a ping finds (a server restarted, a
    connection dropped by a firewall) happens while connections wait in the pool between
    requests, not in the moment between two checkouts of the same request: a connection
    that was idle longer is pinged as before, and a dead one is replaced (the pool's
    ``DisconnectionError``) before anything runs on it."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect

    def connected(self, dbapi_connection, connection_record) -> None:
        connection_record.info[_IDLE_SINCE] = time.monotonic()

    def checked_in(self, dbapi_connection, connection_record) -> None:
        if connection_record is not None:
            connection_record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(self, dbapi_connection, connection_record, connection_proxy) -> None:
        idle_since = connection_record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = self.dialect.do_ping(dbapi_connection)
        except self.dialect.loaded_dbapi.Error as error:
            if self.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("the pooled connection is closed") from error
            raise
        if not alive:
            raise DisconnectionError("the pooled connection did not answer")


#: The execution option that marks the connection of a request that only reads
#: (``read_outside_transaction``).
_READS_OUTSIDE = "kpplan_reads_outside_transaction"


def read_outside_transaction(session: Session) -> None:
    """Let ``session`` read from a database server without a transaction, until it writes:
    for a request that reads (a GET), before anything else uses the session.

    Under PostgreSQL's READ COMMITTED each statement sees what was committed when it
    started, in a transaction or not: a page's reads see the same either way. Without one,
    the server is sent no BEGIN and no ROLLBACK (two round trips on every page), and the
    driver keeps the statements it prepared (psycopg forgets them all at each rollback; a
    prepared statement is not parsed and planned again). Anything but a plain SELECT (a
    write, a locking read) begins a transaction first (``_begin_before_writing``), which
    the session commits or rolls back as before. SQLite is left as it is: it has no round
    trips to save, and its driver begins a transaction only before a write anyway
    (``create_app`` registers its hook for a server's database only)."""
    if session.in_transaction() or session.get_bind().dialect.name == "sqlite":
        return
    try:
        session.connection(
            execution_options={"isolation_level": "AUTOCOMMIT", _READS_OUTSIDE: True}
        )
    except DBAPIError:
        # The server does not answer: the page meets it at its first statement, as it
        # would have (``/healthz`` says 503), not here.
        session.rollback()


@contextmanager
def statement_connection(session: Session) -> Iterator[Connection]:
    """A connection for statements that need no transaction (each reads on its own),
    leaving the session's transaction unstarted: the session's own when it reads outside
    one (``read_outside_transaction``); else one of the pool's, given back at the end, in
    autocommit on a server (which is sent no BEGIN and no ROLLBACK for it; SQLite's driver
    begins none before a read)."""
    if session.in_transaction():
        connection = session.connection()
        if connection.get_execution_options().get(_READS_OUTSIDE):
            yield connection
            return
    engine = session.get_bind()
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def _plain_read(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    return head == "SELECT" and not _LOCKING_READ.search(statement)


_LOCKING_READ = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b", re.I)


def _begin_before_writing(connection, cursor, statement, parameters, context, executemany):
    # On a connection of ``read_outside_transaction``: a write (or a locking read) and
    # what follows it run in a transaction, as on any other connection.
    if not connection.get_execution_options().get(_READS_OUTSIDE) or _plain_read(statement):
        return
    from psycopg.pq import TransactionStatus

    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.info.transaction_status == TransactionStatus.IDLE:
        begin = dbapi_connection.cursor()
        try:
            begin.execute("BEGIN")
        finally:
            begin.close()


_PINGED: weakref.WeakSet[Engine] = weakref.WeakSet()


def configure_engine(engine: Engine) -> None:
    """Attach what kpplan needs to every connection of ``engine``: SQLite's settings
    (``configure_sqlite_connection``); for a server's connections, a ping before using one
    that was idle (``PingAfterIdle``), and a transaction begun before the first write of
    a session that read without one (``read_outside_transaction``). Once per engine,
    however often it is called."""
    if engine.dialect.name == "sqlite":
        if not event.contains(engine, "connect", configure_sqlite_connection):
            event.listen(engine, "connect", configure_sqlite_connection)
        return
    if engine in _PINGED:
        return
    _PINGED.add(engine)
    ping = PingAfterIdle(engine)
    event.listen(engine, "connect", ping.connected)
    event.listen(engine, "checkin", ping.checked_in)
    event.listen(engine, "checkout", ping.checked_out)
    event.listen(engine, "before_cursor_execute", _begin_before_writing)


def insert_ignoring_conflicts(model: type[Base], index_elements: list[str], **values):
    """An INSERT that does nothing when a row with the same unique key exists.

    Both SQLite and PostgreSQL know ``ON CONFLICT DO NOTHING``; this picks the dialect's
    construct so that callers stay portable and race-free across web workers.
    """
    from kpplan.core.extensions import db

    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).values(**values).on_conflict_do_nothing(index_elements=index_elements)


class LabelledEnum(enum.Enum):
    """An enum whose members carry the words people read, declared together::

        class Status(LabelledEnum):
            HELD = "held", "Held"

    ``.value`` is what the database stores (``enum_column``) and URLs and forms send;
    ``.label`` is what pages, forms and exports show; ``Status("held")`` finds a member by
    its value as any enum does. A subclass may give each member more after its label
    (``HELD = "held", "Held", extra``) and take it in ``__init__(self, value, label, extra)``.
    """

    label: str

    def __new__(cls, value: str, label: str, *details: Any):
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        return member


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value, as a VARCHAR with a named CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def check_texts(session: Session, flush_context=None, instances=None) -> None:
    """Before each flush: no text longer than its column, none holding a NUL character.

    PostgreSQL refuses both (the request would end in a server error) while SQLite keeps
    them; checking here answers alike on both, with a ``DomainError`` on the attribute's
    name that a form shows next to the field of that name. Registered for every session by
    ``create_app``; only new and changed values are checked, and none is loaded for it.
    """
    from kpplan.core.errors import DomainError
    from kpplan.core.parsing import NUL_MESSAGE, has_nul

    for instance in (*session.new, *session.dirty):
        state = inspect(instance)
        for attribute in state.mapper.column_attrs:
            value = state.dict.get(attribute.key)
            if not isinstance(value, str):
                continue
            if state.persistent and not state.attrs[attribute.key].history.has_changes():
                continue  # unchanged: what is stored already is not this flush's concern
            label = attribute.key.replace("_", " ").capitalize()
            if has_nul(value):
                raise DomainError(f"{label}: {NUL_MESSAGE}", attribute.key)
            length = getattr(attribute.columns[0].type, "length", None)
            if length is not None and len(value) > length:
                raise DomainError(
                    f"{label}: at most {length:,} characters, please (this one has "
                    f"{len(value):,}).",
                    attribute.key,
                )


def guard_texts() -> None:
    """Run ``check_texts`` before every flush of every session (once, however many apps)."""
    if not event.contains(Session, "before_flush", check_texts):
        event.listen(Session, "before_flush", check_texts)


def taken_meanwhile(error: IntegrityError, table: str) -> bool:
    """Whether ``error`` is a unique key of ``table`` refused because a concurrent request
    took the same value first (the race that a check before the insert cannot close)."""
    original = error.orig
    diag = getattr(original, "diag", None)
    if diag is not None:  # psycopg: SQLSTATE 23505 is unique_violation
        return getattr(original, "sqlstate", None) == "23505" and diag.table_name == table
    return str(original).startswith(f"UNIQUE constraint failed: {table}.")


def flush_or_refuse(session: Session, taken: str) -> None:
    """Flush ``session``, turning two people's saves at the same moment into a refusal a
    person can act on instead of a server error: rolled back, then ``StaleEdit`` for a
    versioned record saved meanwhile, or ``DomainError(taken)`` for a unique key or a row
    taken meanwhile."""
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        raise StaleEdit.at_the_same_moment() from error
    except IntegrityError as error:
        session.rollback()
        raise DomainError(taken) from error
