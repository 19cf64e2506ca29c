"""Activities as calendar files: one activity's, and the feed that calendar programs
subscribe to."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, Response, abort, request
from flask_login import current_user

from kpplan.core.clock import today
from kpplan.core.requests import int_arg
from kpplan.directory import queries as directory_queries
from kpplan.meetings import ical, queries
from kpplan.meetings.blueprint import activity_page_or_404, bp
from kpplan.meetings.kinds import ActivityKind

# The feed lives outside the signed-in pages: a calendar program brings a token, not a session.
feed_bp = Blueprint("feeds", __name__)


@bp.route("/<int:activity_id>.ics")
def activity_ics(activity_id: int):
    found = activity_page_or_404(activity_id)
    return _ics(ical.calendar_of([found], found.title), f"activity-{found.id}.ics")


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@feed_bp.route("/calendar.ics")
def feed():
    """The calendar feed that calendar programs subscribe to.

    Calendar programs have no session: the person's secret token in the address stands
    for them. Filters: ``kind`` (repeatable) and ``state`` (in any role).
    """
    if not current_user.is_authenticated:
        token = request.args.get("token", "")
        if not token or directory_queries.user_by_calendar_token(token) is None:
            abort(404)
    kinds = sorted(
        (k for k in (_kind(v) for v in request.args.getlist("kind")) if k is not None),
        key=lambda k: k.value,
    )
    state_id = int_arg("state")
    # The recent past and what is coming: calendar programs fetch the feed often.
    since = today() - timedelta(days=180)
    # Calendar programs poll: the feed is written once per change of the activities, then
    # served from this worker's memory, or answered 304 when the program has it already.
    key = (
        request.host_url,
        tuple(k.value for k in kinds),
        state_id,
        since,
        queries.feed_stamp(since),
    )
    etag = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    body = _FEED_CACHE.get(key)
    if body is None:
        activities = queries.feed_activities(since, kinds, state_id)
        body = ical.calendar_of(activities, "Khartoum Process activities")
        if len(_FEED_CACHE) >= 64:
            _FEED_CACHE.pop(next(iter(_FEED_CACHE)))
        _FEED_CACHE[key] = body
    response = _ics(body, "kpplan.ics")
    response.headers["Content-Disposition"] = 'inline; filename="kpplan.ics"'
    response.set_etag(etag)
    return response


# Written feeds by (site, filters, window, state of the activities); a few per worker.
_FEED_CACHE: dict[tuple, bytes] = {}


def _kind(value: str) -> ActivityKind | None:
    try:
        return ActivityKind(value)
    except ValueError:
        return None
