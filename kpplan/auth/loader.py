"""Loading the signed-in user on each request, with what the header shows beside them.

The session cookie names the user and their session token (``id:token``: a password reset
or a role change ends every session) and carries the secret of this one session, whose
SHA-256 the server keeps until sign-out (see ``auth.services.open_session``). All three
must hold for the person to be signed in.

Features that show a figure of the signed-in user in the header on every page (the bell's
unread count) register a column here with ``add_user_column``; the loader selects it in the
same query that loads the user and leaves it on ``g``, so the header costs no query more
and auth needs to know nothing of those features. The same query reads the tables' change
counters (``core.cache``), which every kept page and kept figure checks.

The query runs as a plain statement, on a connection of its own (no ORM loading and no
session transaction, which cost more than the query on a kept page), and the ``User`` is
made from its columns, attached to the request's session as if the ORM had loaded it:
changed, flushed and lazily loaded alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, session
from sqlalchemy import Select, bindparam, inspect, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from kpplan.auth.models import SignedInSession
from kpplan.auth.services import SEEN_EVERY, SESSION_KEY
from kpplan.core import cache
from kpplan.core.db import statement_connection, utcnow
from kpplan.core.extensions import db
from kpplan.core.parsing import MAX_INT, whole_number
from kpplan.core.passwords import token_digest
from kpplan.directory.models import User

#: name on ``g`` → a function of ``User.id`` giving a scalar subquery.
_USER_COLUMNS: dict[str, Callable[[Any], Any]] = {}


#: The loader's statement, built once (building it costs more than running it).
_statement: Select | None = None


def add_user_column(name: str, column_of: Callable[[Any], Any]) -> None:
    """Load ``column_of(User.id)`` with the signed-in user, as ``g.<name>``."""
    global _statement
    _USER_COLUMNS[name] = column_of
    _statement = None


def _signed_in_query() -> Select:
    global _statement
    if _statement is None:
        _statement = (
            select(
                *(prop.columns[0] for prop in inspect(User).column_attrs),
                SignedInSession.id,
                SignedInSession.last_seen_at,
                cache.every_stamp_column(),
                *(column_of(User.id) for column_of in _USER_COLUMNS.values()),
            )
            .join(SignedInSession, SignedInSession.user_id == User.id)
            .where(
                User.id == bindparam("user_id"),
                SignedInSession.key_hash == bindparam("key_hash"),
            )
        )
    return _statement


def load_user(session_id: str) -> User | None:
    """The signed-in user from ``id:token`` and the session's secret; a deactivated
    account, a changed token (password reset, role change) or a session ended by signing
    out signs nobody in."""
    user_id, _, token = session_id.partition(":")
    secret = session.get(SESSION_KEY)
    if whole_number(user_id, 1, MAX_INT) is None or not token or not isinstance(secret, str):
        return None
    names = list(_USER_COLUMNS)
    # Without the ORM's loading steps, and outside a transaction (one statement needs none):
    # a kept page, which reads nothing else, starts none, and a server is sent no BEGIN
    # and no ROLLBACK for it.
    with statement_connection(db.session()) as connection:
        row = connection.execute(
            _signed_in_query(), {"user_id": int(user_id), "key_hash": token_digest(secret)}
        ).first()
    if row is None:
        return None
    keys = _attribute_keys()
    columns = len(keys)
    values = dict(zip(keys, row[:columns], strict=True))
    session_row_id, last_seen_at, stamps = row[columns : columns + 3]
    if not values["active"] or values["session_token"] != token:
        return None
    user = _attached_user(values)
    cache.take_stamps(stamps)
    now = utcnow()
    if now - last_seen_at > SEEN_EVERY:
        # In a transaction of its own: a page that only reads commits nothing.
        with db.engine.begin() as connection:
            connection.execute(
                update(SignedInSession)
                .where(SignedInSession.id == session_row_id)
                .values(last_seen_at=now)
            )
    g.signed_in_figures = dict(zip(names, row[columns + 3 :], strict=True))
    for name, value in g.signed_in_figures.items():
        setattr(g, name, value)
    return user


_KEYS: tuple[str, ...] = ()


def _attribute_keys() -> tuple[str, ...]:
    """The ``User`` attribute of each user column of the query, in its order."""
    global _KEYS
    if not _KEYS:
        _KEYS = tuple(prop.key for prop in inspect(User).column_attrs)
    return _KEYS


def _attached_user(values: dict[str, Any]) -> User:
    """The ``User`` of these column values in the request's session, with no query: the one
    the session already holds (its expired attributes filled from ``values``, as a query
    would), or a new one, attached as loaded (nothing to write, no history)."""
    orm_session = db.session()
    known = orm_session.identity_map.get(orm_session.identity_key(User, (values["id"],)))
    if known is not None:
        expired = inspect(known).expired_attributes
        for key in expired.intersection(values):
            set_committed_value(known, key, values[key])
        return known
    user = inspect(User).class_manager.new_instance()
    # Into the instance's dict, as the ORM's loading does: values as loaded, no history.
    inspect(user).dict.update(values)
    make_transient_to_detached(user)
    orm_session.add(user)
    return user
