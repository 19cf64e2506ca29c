"""Small helpers for reading query-string arguments, shared by every blueprint."""

from __future__ import annotations

import enum
from typing import TypeVar

from flask import request
from flask_login import current_user

from kpplan.directory.models import User

E = TypeVar("E", bound=enum.Enum)


def page_arg() -> int:
    """The ``page`` argument as a positive number; anything else is the first page."""
    page = request.args.get("page", 1, type=int)
    return page if page and page > 0 else 1


def enum_arg(enum_class: type[E], name: str) -> E | None:
    """The argument ``name`` as a member of ``enum_class``, or None when absent or unknown."""
    value = request.args.get(name)
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


def acting_user() -> User:
    """The signed-in user as a real object, to hand to services and the audit trail."""
    return current_user._get_current_object()
