"""The blueprint of invitations, delegations and attendance, and what its views share.

Its routes live in three modules: ``views`` (an activity's list: drawing it up, sending,
exporting, printing and importing delegates), ``delegation_views`` (a delegation's answer
and delegates) and ``attendance_views``; ``views`` imports the other two, so that
registering ``views.bp`` brings every route.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    request,
    url_for,
)
from flask_login import current_user, login_required

from kpplan import permissions
from kpplan.core.cache import memoised
from kpplan.core.extensions import db
from kpplan.meetings.models import Activity
from kpplan.participants import queries

bp = Blueprint("participants", __name__, url_prefix="/activities/<int:activity_id>")

# The largest id an INTEGER column holds: a larger one in the address is not found (on
# PostgreSQL, comparing it with an id would be an error).
MAX_ID = 2**31 - 1


@bp.before_request
@login_required
def signed_in_only():
    """Every page of the invitations is for signed-in users."""
    if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
        abort(404)


@bp.app_template_global()
def participation_of(activity: Activity) -> queries.Summary | None:
    """For an activity's page: its invitations in figures, or None without a list, kept
    until an invitation list, invitation or participant changes (a status update, which
    the page is written again after, changes none of them)."""
    return memoised(
        "participation_of",
        (activity.id,),
        queries.SUMMARY_READS,
        lambda: queries.summary_of(activity.id),
    )


def manages_participants() -> bool:
    """The signed-in person draws up lists and decides on delegates (the secretariat)."""
    return permissions.can_manage_participants(current_user)


def overview_url(activity_id: int, anchor: str = "") -> str:
    """The address of the activity's invitations overview, at ``anchor``."""
    return url_for("participants.overview", activity_id=activity_id) + anchor


def managed_list_or_redirect(activity_id: int):
    """For the secretariat's pages of a list (sending, exports, attendance, imports): 403
    for anyone else; then the activity's list, or a redirect to its overview (which offers
    to draw one up) when it has none, and 404 when there is no such activity."""
    permissions.require(permissions.can_manage_participants(current_user))
    invitation_list = queries.list_of(activity_id, with_delegates=True)
    if invitation_list is None:
        db.get_or_404(Activity, activity_id)
        flash("This activity has no invitation list yet.", "info")
        return None, redirect(overview_url(activity_id))
    return invitation_list, None
