"""Small helpers for reading query-string arguments, shared by every blueprint."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db
from kpplan.core.forms import attach_error
from kpplan.core.parsing import MAX_INT, NUL, whole_number

E = TypeVar("E", bound=enum.Enum)


def refuse_nul_in_address() -> None:
    """Before every request: an address holding a NUL character is refused, with a message.

    PostgreSQL cannot compare a text holding it (a search for ``?q=%00`` would fail) and
    no page of kpplan has a use for it; forms say so next to their fields instead.
    """
    if NUL in request.path:
        abort(404)
    query = request.query_string
    if b"%00" not in query and b"\x00" not in query:
        return  # a NUL in the arguments is written %00 (or sent as is): none to read
    for name, values in request.args.lists():
        if NUL in name or any(NUL in value for value in values):
            raise DomainError(
                "The address holds an invisible NUL character (code 0) that kpplan cannot "
                "read; remove it from the address or the search words and try again."
            )


def int_arg(name: str, minimum: int = 1, maximum: int = MAX_INT) -> int | None:
    """The argument ``name`` as a whole number from ``minimum`` to ``maximum`` (an id by
    default); None when absent, not ASCII digits, or out of range — never an overflow."""
    return whole_number(request.args.get(name), minimum, maximum)


def page_arg() -> int:
    """The ``page`` argument as a positive number; anything else is the first page."""
    return int_arg("page", 1, 1_000_000) or 1


def enum_arg(enum_class: type[E], name: str) -> E | None:
    """The argument ``name`` as a member of ``enum_class``, or None when absent or unknown."""
    value = request.args.get(name)
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


#: What a person reads when someone else saved the same name, code or date at the same moment.
TAKEN_MEANWHILE = (
    "Someone else saved the same thing (a name, a code or a date that must be unique) at the "
    "same moment. Nothing of yours was saved: what you typed is below; check it and send it "
    "again."
)


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
    saved, and the form shown again with what the person typed. A unique key taken by
    someone else between the service's checks and the commit is a 409 with
    ``TAKEN_MEANWHILE``: the form keeps what the person typed.
    """
    try:
        result = operation()
        db.session.commit()
    except StaleDataError:
        return _refuse(form, StaleEdit.at_the_same_moment())
    except DomainError as error:
        return _refuse(form, error)
    except IntegrityError:
        db.session.rollback()
        attach_error(form, DomainError(TAKEN_MEANWHILE))
        return None, 409
    return result, 200


def commit_or_flash(operation: Callable[[], Any]) -> bool:
    """Run a service for a button (a form with no fields to show again) and commit; when it
    raises a ``DomainError``, roll back and flash its message instead. True once committed:
    the view then says what was done."""
    try:
        operation()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    db.session.commit()
    return True


def _refuse(form: Any, error: DomainError) -> tuple[None, int]:
    db.session.rollback()
    attach_error(form, error)
    return None, 409 if isinstance(error, StaleEdit) else 200
