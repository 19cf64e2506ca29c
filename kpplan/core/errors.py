"""Errors raised by services, in words a person can act on.

Views turn them into a flash message or a message next to a form field and a 4xx
response; they never reach the user as a 500.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that the rules of the Process refuse."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(DomainError):
    """The record changed since the page was loaded; the edit is refused, nothing overwritten."""

    status_code = 409

    def __init__(
        self,
        message: str,
        changes: list[tuple[str, object, object]] | None = None,
        current_version: int | None = None,
    ):
        super().__init__(message)
        self.changes = changes or []
        self.current_version = current_version

    @classmethod
    def at_the_same_moment(cls) -> StaleEdit:
        """The refusal when the database itself found the row changed under the edit
        (SQLAlchemy's ``StaleDataError`` on a versioned record): two saves crossed."""
        return cls(
            "Someone else saved this record at the same moment. Nothing was saved: reload "
            "the page and make your change again."
        )
