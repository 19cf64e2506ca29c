"""Pages of a long list read by their neighbour's key (keyset pagination), not by OFFSET.

A page is the rows after (or before) a *cursor*: the sort key of the last (or first) row
of the page the reader came from. The database seeks to it on the index of the list's
order, so the 800th page costs what the first does, and a row added meanwhile neither
repeats nor skips one.

The cursor travels in the address (``?cursor=``) as opaque text. Whatever arrives there
is checked against the list's keys (count, types, bounds); anything else, tampered or
from an older version, is read as "the first page", never an error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, literal, or_
from sqlalchemy.orm import InstrumentedAttribute

from kpplan.core.extensions import db

T = TypeVar("T")

AFTER, BEFORE = "a", "b"

#: Beyond this many, a list narrowed by words or other costly filters says "more than"
#: rather than counting every row it finds (each costs a look-up).
COUNT_UP_TO = 1000

# What the databases' integers hold; a larger number in a cursor is not a key.
_BIGGEST = 2**63 - 1
_LONGEST_TEXT = 500


@dataclass(frozen=True)
class Key:
    """One column of a list's order, and its direction; ``attribute`` names where a row
    holds its value when the column is not the row's own (a search index's rowid, which
    is the row's id)."""

    column: InstrumentedAttribute | ColumnElement
    descending: bool = False
    attribute: str | None = None

    @property
    def name(self) -> str:
        return self.attribute or self.column.key

    def python_type(self) -> type:
        return self.column.type.python_type

    def comes_after(self, value: Any, reverse: bool):
        """SQL: this column's value is beyond ``value`` in the list's order (or before it,
        when reading backwards)."""
        value = self._bound(value)
        if self.descending != reverse:
            return self.column < value
        return self.column > value

    def not_before(self, value: Any, reverse: bool):
        value = self._bound(value)
        if self.descending != reverse:
            return self.column <= value
        return self.column >= value

    def _bound(self, value: Any):
        # A parameter of the column's type: SQLAlchemy refuses "<" against a bare True.
        return literal(value, self.column.type)

    def order(self, reverse: bool):
        return self.column.desc() if self.descending != reverse else self.column.asc()


@dataclass
class KeysetPage(Generic[T]):
    """One page of a list: its rows, the cursors of its neighbours (None at either end),
    and the number of rows in all when the list keeps it."""

    items: list[T]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    total: int | None = None
    per_page: int = 0
    # Counted up to this many only, and more were found.
    more_than: int | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decode_value(raw: Any, kind: type) -> Any:
    """``raw`` as a value of ``kind``; ValueError when it cannot be one."""
    if kind is bool:
        if not isinstance(raw, bool):
            raise ValueError("not a key")
        return raw
    if isinstance(raw, bool):
        raise ValueError("not a key")
    if kind is int:
        if not isinstance(raw, int) or abs(raw) > _BIGGEST:
            raise ValueError("not a key")
        return raw
    if not isinstance(raw, str) or len(raw) > _LONGEST_TEXT or "\x00" in raw:
        raise ValueError("not a key")
    if kind is datetime:
        return datetime.fromisoformat(raw)
    if kind is date:
        return date.fromisoformat(raw)
    if kind is str:
        return raw
    raise ValueError("not a key")


def make_cursor(direction: str, row: Any, keys: Sequence[Key]) -> str | None:
    """The cursor for the rows after (``AFTER``) or before (``BEFORE``) ``row``; None when
    a key of the row is empty (such a row cannot be sought)."""
    values = [getattr(row, key.name) for key in keys]
    if any(value is None for value in values):
        return None
    payload = json.dumps([direction, *map(_encode_value, values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def read_cursor(text: str | None, keys: Sequence[Key]) -> tuple[str, list[Any]] | None:
    """The direction and key values in ``text``; None (the first page) for anything that
    is not a cursor of this list."""
    if not text or len(text) > 2000:
        return None
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        direction, *raw = json.loads(decoded)
        if direction not in (AFTER, BEFORE) or len(raw) != len(keys):
            return None
        return direction, [
            _decode_value(value, key.python_type()) for value, key in zip(raw, keys, strict=True)
        ]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None


def _beyond(keys: Sequence[Key], values: list[Any], reverse: bool):
    """SQL: the row comes after ``values`` in the order (before it when ``reverse``).

    Written out term by term (the keys' directions may differ), with a bound on the first
    key so that the database seeks on the index instead of filtering from its start."""
    terms = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        terms.append(and_(*equal, key.comes_after(values[i], reverse)))
    return and_(keys[0].not_before(values[0], reverse), or_(*terms))


def keyset_page(
    query: Select,
    keys: Sequence[Key],
    cursor: str | None,
    per_page: int,
    total: int | None = None,
) -> KeysetPage:
    """The page of ``query`` (a select of one entity, or of columns that include the keys;
    not yet ordered) that ``cursor``
    points to, ``per_page`` rows in the order of ``keys`` (which must identify a row).
    ``total`` is what the list says it holds in all, if it knows.

    One query: a row more than the page is read to know whether another page follows."""
    query_without_cursor = query
    found = read_cursor(cursor, keys)
    reverse = found is not None and found[0] == BEFORE
    if found is not None:
        query = query.where(_beyond(keys, found[1], reverse))
    query = query.order_by(*(key.order(reverse) for key in keys)).limit(per_page + 1)
    if len(query.column_descriptions) > 1:
        # Columns, not an entity: rows named by their columns' keys.
        rows = list(db.session.execute(query).all())
    else:
        rows = list(db.session.scalars(query).unique().all())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if reverse:
        rows.reverse()
    if found is not None and (not rows or (reverse and not more and len(rows) < per_page)):
        # Beyond either end of the list, or back at its start with rows removed
        # meanwhile: its first page, whole.
        return keyset_page(query_without_cursor, keys, None, per_page, total)
    page = KeysetPage(items=rows, total=total, per_page=per_page)
    if not rows:
        return page
    if found is None:
        page.next_cursor = make_cursor(AFTER, rows[-1], keys) if more else None
    elif reverse:
        page.next_cursor = make_cursor(AFTER, rows[-1], keys)
        page.prev_cursor = make_cursor(BEFORE, rows[0], keys) if more else None
    else:
        page.next_cursor = make_cursor(AFTER, rows[-1], keys) if more else None
        page.prev_cursor = make_cursor(BEFORE, rows[0], keys)
    return page
