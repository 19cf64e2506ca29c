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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, session
from sqlalchemy import Select, bindparam, select, update

from kpplan.auth.models import SignedInSession
from kpplan.auth.services import SEEN_EVERY, SESSION_KEY
from kpplan.core import cache
from kpplan.core.db import utcnow
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
                User,
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
    row = db.session.execute(
        _signed_in_query(), {"user_id": int(user_id), "key_hash": token_digest(secret)}
    ).first()
    if row is None:
        return None
    user, session_row_id, last_seen_at = row[0], row[1], row[2]
    if not user.active or user.session_token != token:
        return None
    cache.take_stamps(row[3])
    now = utcnow()
    if now - last_seen_at > SEEN_EVERY:
        # In a transaction of its own: a page that only reads commits nothing.
        with db.engine.begin() as connection:
            connection.execute(
                update(SignedInSession)
                .where(SignedInSession.id == session_row_id)
                .values(last_seen_at=now)
            )
    g.signed_in_figures = dict(zip(names, row[4:], strict=True))
    for name, value in g.signed_in_figures.items():
        setattr(g, name, value)
    return user
