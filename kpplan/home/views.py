"""The home page: what needs attention, by role; and the health check for monitors."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from kpplan import permissions
from kpplan.core.clock import today
from kpplan.core.extensions import db
from kpplan.core.kept_pages import kept_page
from kpplan.directory import queries as directory_queries
from kpplan.recommendations import deadlines, follow_up_queries
from kpplan.recommendations import queries as recommendation_queries

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
@kept_page
def home():
    counts = directory_queries.directory_counts()
    missing = (
        directory_queries.member_states_without_focal_point()
        if permissions.can_edit_directory(current_user)
        else []
    )
    scope = recommendation_queries.scope_of(current_user)
    follow_ups = follow_up_queries.follow_up_summary(scope, today())
    return render_template(
        "home/home.html",
        counts=counts,
        states_without_focal_point=missing,
        follow_ups=follow_ups,
        deadlines=deadlines.current(),
        own_state=current_user.state if not scope.everything else None,
    )


@bp.route("/healthz")
def healthz():
    """For load balancers and monitors: is the app up and can it reach its database?"""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure to reach the database is "down"
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
