"""The ``<int:…>`` of every URL: ASCII digits that fit an id column, else "not found".

Werkzeug's own converter accepts any run of digits, of any length and of any script
(``\\d`` matches "١٢"), and hands Python's unbounded int to the view; the database then
overflows (SQLite past 64 bits; PostgreSQL past 32, since its ids are ``integer``)
instead of answering that there is no such record. Registered in
``create_app`` in place of the default, so every rule benefits without naming it.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from kpplan.core.parsing import MAX_INT


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to ASCII digits and to the range of PostgreSQL's ``integer``
    (every id of kpplan); anything else does not match, so the request is a 404."""

    regex = r"[0-9]{1,10}"
    signed_regex = r"-?[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        # ``min`` and ``max`` are werkzeug's argument names (``<int(max=99):n>``).
        if self.max is None or self.max > MAX_INT:
            self.max = MAX_INT
        if self.min is None or self.min < -MAX_INT:
            self.min = -MAX_INT
