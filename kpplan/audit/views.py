from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required

from kpplan import permissions
from kpplan.audit import queries
from kpplan.audit.sentences import describe
from kpplan.core.kept_pages import kept_page
from kpplan.core.requests import int_arg

bp = Blueprint("audit", __name__)


@bp.route("/history/")
@login_required
@kept_page
def history():
    permissions.require(permissions.can_view_history(current_user))
    object_type = request.args.get("type", "")[:40] or None
    object_id = int_arg("id")
    page = queries.history_page(
        request.args.get("cursor"), current_app.config["PAGE_SIZE"], object_type, object_id
    )
    return render_template(
        "audit/history.html",
        page=page,
        lines=describe(page.items),
        object_type=object_type,
        object_id=object_id,
        object_types=queries.object_types(),
    )
