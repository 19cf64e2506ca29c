"""Reading numbers and texts that people (or programs) send, before anything uses them.

One place decides what a whole number is: ASCII digits with an optional sign, within the
range a database column can hold. ``str.isdigit()`` alone is not enough (it accepts "²"
and the digits of other scripts, which ``int()`` refuses or reads), and Python's integers
have no end while SQLite's and PostgreSQL's stop at 64 bits (PostgreSQL's ``integer``
columns at 32).

Texts: PostgreSQL refuses a NUL character in any text, SQLite keeps it; kpplan refuses it
on both, with a message, so that both databases answer alike.
"""

from __future__ import annotations

import re

#: The largest value a 64-bit signed column holds (SQLite's INTEGER, PostgreSQL's bigint).
MAX_BIGINT = 2**63 - 1
#: The largest value PostgreSQL's ``integer`` holds (every id and count column of kpplan).
MAX_INT = 2**31 - 1

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,19}")

NUL = "\x00"
NUL_MESSAGE = (
    "This text holds an invisible NUL character (code 0) that kpplan cannot keep; "
    "type it again or paste it without that character."
)


def whole_number(value: str | None, minimum: int = -MAX_INT, maximum: int = MAX_INT) -> int | None:
    """``value`` as an int when it is a whole number written in ASCII digits (surrounding
    spaces allowed) between ``minimum`` and ``maximum``; None for anything else."""
    if value is None:
        return None
    text = value.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def has_nul(value: object) -> bool:
    """Whether ``value`` is a text holding a NUL character."""
    return isinstance(value, str) and NUL in value
