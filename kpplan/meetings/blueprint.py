"""The blueprint of activities, and what its views share.

Its routes live in four modules: ``views`` (the lists: upcoming, archive, calendar month
and hosting), ``activity_views`` (an activity's page, its record and status, milestones and
links), ``document_views`` (an activity's documents) and ``ical_views`` (calendar files and
the feed, on a blueprint of its own); ``views`` imports the other three, so that
registering ``views.bp`` brings every route.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import login_required

from kpplan.meetings import queries
from kpplan.meetings.models import Activity

bp = Blueprint("meetings", __name__, url_prefix="/activities")


@bp.before_request
@login_required
def signed_in_only():
    """Every activity page is for signed-in users."""


def activity_page_or_404(activity_id: int) -> Activity:
    found = queries.activity_page(activity_id)
    if found is None:
        abort(404)
    return found
