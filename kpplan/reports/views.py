from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, make_response, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from kpplan import permissions
from kpplan.chair.models import Chairmanship
from kpplan.core.cache import memoised, watch
from kpplan.core.clock import today
from kpplan.core.errors import DomainError
from kpplan.core.etags import page_etag, unchanged, with_etag
from kpplan.core.kept_pages import kept_page
from kpplan.core.links import row_link
from kpplan.core.spreadsheets import write_csv, write_xlsx
from kpplan.directory.models import State
from kpplan.meetings.models import Activity
from kpplan.meetings.views import archive_filters
from kpplan.participants import queries as participant_queries
from kpplan.participants.models import InvitationList
from kpplan.recommendations.follow_up_models import FollowUp
from kpplan.recommendations.models import Recommendation
from kpplan.recommendations.queries import scope_of
from kpplan.reports import exports, queries, summary, timeline

bp = Blueprint("reports", __name__, url_prefix="/reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def signed_in_only():
    """Every report is for signed-in users."""
    permissions.require(permissions.can_view_reports(current_user))


def _date_arg(name: str, label: str, errors: list[str]) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label}: give the date as year-month-day, for example 2015-11-01.")
        return None
    if not 1990 <= day.year <= 2100:
        errors.append(f"{label}: give a date between 1990 and 2100.")
        return None
    return day


def _period(default_start: date, default_end: date) -> tuple[date, date, list[str]]:
    """``from`` and ``to`` from the query string, or the defaults, and what was wrong."""
    errors: list[str] = []
    start = _date_arg("from", "From", errors) or default_start
    end = _date_arg("to", "To", errors) or default_end
    if end < start:
        errors.append("To: the end of the period comes before its start; showing the start only.")
        end = start
    return start, end, errors


def _statistics_period() -> tuple[date, date, list[str]]:
    first, _last = queries.activity_span()
    return _period(first or today().replace(month=1, day=1), today())


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _follow_up_scope() -> int | None:
    """The state whose follow-ups a focal point's figures count; None for everyone else."""
    return scope_of(current_user).state_id


# What the statistics page shows (besides the layout): its ETag's stamps.
_STATISTICS_READ = watch(Activity, InvitationList, Recommendation, FollowUp, State, Chairmanship)


@bp.route("/statistics")
@kept_page
def statistics():
    start, end, errors = _statistics_period()
    etag = None if errors else page_etag(*_STATISTICS_READ)
    if etag and (answer := unchanged(etag)) is not None:
        return answer
    stats = queries.statistics(start, end, _follow_up_scope())
    response = make_response(
        render_template(
            "reports/statistics.html",
            stats=stats,
            sentence=summary.sentence(stats),
            errors=errors,
            chairmanships=queries.dated_chairmanships(),
            today=today(),
        ),
        400 if errors else 200,
    )
    return with_etag(response, etag) if etag else response


@bp.route("/statistics.csv")
def statistics_csv():
    start, end, errors = _statistics_period()
    if errors:
        raise DomainError(" ".join(errors))
    headings, rows = exports.statistics_rows(queries.statistics(start, end, _follow_up_scope()))
    return _download(write_csv(headings, rows), "text/csv", f"kpplan-statistics-{start}-{end}.csv")


@bp.route("/timeline")
@kept_page
def timeline_page():
    first, last = queries.activity_span()
    this_year = today().year
    default_start = date((first.year if first else this_year), 1, 1)
    default_end = date((last.year if last else this_year), 12, 31)
    start, end, errors = _period(default_start, default_end)

    def draw() -> Markup:
        drawing = timeline.layout(
            queries.timeline_activities(start, end), queries.dated_chairmanships(), start, end
        )
        # The output of an autoescaped template: every value in it is escaped already.
        html = render_template(
            "reports/_timeline_drawing.html",
            timeline=drawing,
            # A thousand activities at scale: their address built once, each id put in.
            activity_link=row_link("meetings.activity", "activity_id"),
        )
        return Markup(html)  # noqa: S704

    # Drawn once per period and per change of what it shows, then served from memory: a
    # follow-up's update, the day's usual write, leaves it alone.
    drawing = memoised("timeline", (request.script_root, start, end), _TIMELINE_READ, draw)
    return render_template(
        "reports/timeline.html", start=start, end=end, drawing=drawing, errors=errors
    ), (400 if errors else 200)


# What the timeline's drawing shows: it is kept until one of them changes.
_TIMELINE_READ = watch(Activity, Chairmanship, State)


def _activity_rows():
    activities = queries.export_activities(archive_filters())
    return exports.activity_rows(activities, participant_queries.figures_for(activities))


@bp.route("/activities.csv")
def activities_csv():
    headings, rows = _activity_rows()
    return _download(write_csv(headings, rows), "text/csv", "kpplan-activities.csv")


@bp.route("/activities.xlsx")
def activities_xlsx():
    headings, rows = _activity_rows()
    return _download(write_xlsx("Activities", headings, rows), XLSX, "kpplan-activities.xlsx")
