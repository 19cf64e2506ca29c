"""Small helpers for reading query-string arguments, shared by every blueprint."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db
from kpplan.core.forms import attach_error

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


def acting_user() -> Any:
    """The signed-in user as a real object, to hand to services and the audit trail."""
    return current_user._get_current_object()


def save_form(form: Any, operation: Callable[[], Any]) -> tuple[Any, int]:
    """Run a service for a submitted form and commit, or show why it was refused.

    Returns the service's result and 200; or, when it raised a ``DomainError``, None and
    the status to re-render the form with (409 for a stale edit, else 200), after rolling
    back and putting the message next to its field. A versioned record that another
    request saved between this one's read and its write (SQLAlchemy's ``StaleDataError``,
    at a flush inside the service or at the commit) is the same stale edit: 409, nothing
    saved, and the form shown again with what the person typed.
    """
    try:
        result = operation()
        db.session.commit()
    except StaleDataError:
        return _refuse(form, StaleEdit.at_the_same_moment())
    except DomainError as error:
        return _refuse(form, error)
    return result, 200


def _refuse(form: Any, error: DomainError) -> tuple[None, int]:
    db.session.rollback()
    attach_error(form, error)
    return None, 409 if isinstance(error, StaleEdit) else 200
