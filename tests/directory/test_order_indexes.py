"""Migration 0024: the indexes the states page and the history by kind read in their order,
created on the way up and gone (the former index back) on the way down."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from kpplan.core.extensions import db

NEW = {
    "users": "ix_users_state_focal_points",
    "audit_entries": "ix_audit_entries_object_type_id",
}


def _indexes(table: str) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in sa.inspect(db.engine).get_indexes(table)}


def test_the_order_indexes_go_up_and_down(empty_app):
    with empty_app.app_context():
        upgrade()
        users = _indexes("users")
        assert users[NEW["users"]] == ["state_id", "role", "active", "is_alternate", "name", "id"]
        assert "ix_users_state_id_role" not in users
        assert _indexes("audit_entries")[NEW["audit_entries"]] == ["object_type", "id"]

        downgrade(revision="0023_follow_up_day_figures")
        assert _indexes("users")["ix_users_state_id_role"] == ["state_id", "role"]
        assert NEW["users"] not in _indexes("users")
        assert NEW["audit_entries"] not in _indexes("audit_entries")

        upgrade()
        assert NEW["users"] in _indexes("users")
        assert NEW["audit_entries"] in _indexes("audit_entries")
