"""Loading the signed-in user on each request, with what the header shows beside them.

Features that show a figure of the signed-in user in the header on every page (the bell's
unread count) register a column here with ``add_user_column``; the loader selects it in the
same query that loads the user and leaves it on ``g``, so the header costs no query more
and auth needs to know nothing of those features.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g
from sqlalchemy import select

from kpplan.core.extensions import db
from kpplan.core.parsing import MAX_INT, whole_number
from kpplan.directory.models import User

#: name on ``g`` → a function of ``User.id`` giving a scalar subquery.
_USER_COLUMNS: dict[str, Callable[[Any], Any]] = {}


def add_user_column(name: str, column_of: Callable[[Any], Any]) -> None:
    """Load ``column_of(User.id)`` with the signed-in user, as ``g.<name>``."""
    _USER_COLUMNS[name] = column_of


def load_user(session_id: str) -> User | None:
    """The signed-in user from ``id:token``; a deactivated account or a changed token
    (password reset, role change) ends the session."""
    user_id, _, token = session_id.partition(":")
    if whole_number(user_id, 1, MAX_INT) is None or not token:
        return None
    names = list(_USER_COLUMNS)
    row = db.session.execute(
        select(User, *(_USER_COLUMNS[n](User.id) for n in names)).where(User.id == int(user_id))
    ).first()
    if row is None:
        return None
    user = row[0]
    if not user.active or user.session_token != token:
        return None
    for name, value in zip(names, row[1:], strict=True):
        setattr(g, name, value)
    return user
