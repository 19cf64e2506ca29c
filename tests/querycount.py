"""Counting the SQL statements a block runs, so that a page's query count can be pinned."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextlib.contextmanager
def counting(engine: Engine) -> Iterator[QueryCounter]:
    """Count the statements ``engine`` runs inside the block."""
    counter = QueryCounter()

    def before(conn, cursor, statement, parameters, context, executemany):
        counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def without_form_token(page: str) -> str:
    """``page`` without its form token's value, for comparing two renders of a page: the
    token is signed with the second it was rendered in, which a slow machine may pass."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)
