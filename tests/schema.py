"""Reading the database's own constraints, to hold them against the models."""

from __future__ import annotations

import re

import sqlalchemy as sa

from kpplan.core.extensions import db


def allowed_values(table: str, constraint: str) -> set[str]:
    """The values the CHECK constraint ``constraint`` (named as the naming convention names
    it: ``ck_<table>_<constraint>``) lets into ``table``, as the migrations created it."""
    name = f"ck_{table}_{constraint}"
    found = [c for c in sa.inspect(db.engine).get_check_constraints(table) if c["name"] == name]
    assert len(found) == 1, f"{table} has no CHECK constraint {name}"
    return set(re.findall(r"'([^']*)'", found[0]["sqltext"]))
