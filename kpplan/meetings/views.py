"""The lists of activities: upcoming, the archive, a calendar month and who hosts what.

The blueprint is in ``blueprint``; an activity's page, its documents and the calendar files
add their routes to it from ``activity_views``, ``document_views`` and ``ical_views``,
imported here."""

from __future__ import annotations

from datetime import date

from flask import current_app, render_template, request
from markupsafe import Markup

# An activity's page, its documents and the calendar files add their routes when imported.
import kpplan.meetings.activity_views  # noqa: F401
import kpplan.meetings.document_views  # noqa: F401
import kpplan.meetings.ical_views  # noqa: F401
from kpplan.core import cache
from kpplan.core.clock import today
from kpplan.core.kept_pages import kept_page
from kpplan.core.links import row_link
from kpplan.core.requests import enum_arg, int_arg, page_arg
from kpplan.directory import queries as directory_queries
from kpplan.meetings import calendars, queries
from kpplan.meetings.blueprint import bp
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Format, Status


@bp.route("/")
@kept_page
def upcoming():
    day, page, per_page = today(), page_arg(), current_app.config["PAGE_SIZE"]

    def write() -> tuple[Markup, queries.PageFigures]:
        pagination = queries.upcoming_page(day, page, per_page)
        # The output of an autoescaped template: every value in it is escaped already.
        html = render_template("meetings/_upcoming_table.html", items=pagination.items)
        figures = queries.PageFigures(pagination.page, per_page, pagination.total or 0)
        return Markup(html), figures  # noqa: S704

    # The page's rows are written once per day and per change of the activities, then
    # served from memory: a follow-up's update, the day's usual write, leaves them alone.
    key = (request.script_root, day, page, per_page)
    table, figures = cache.memoised("upcoming", key, queries.UPCOMING_READS, write)
    return render_template("meetings/upcoming.html", table=table, pagination=figures)


def archive_filters() -> queries.ArchiveFilters:
    """The archive's filters from the query string (also those of the activity exports)."""
    return queries.ArchiveFilters(
        kind=enum_arg(ActivityKind, "kind"),
        year=int_arg("year", 1, 9999),
        state_id=int_arg("state"),
        format=enum_arg(Format, "format"),
        status=enum_arg(Status, "status"),
        words=request.args.get("q", "").strip()[:100],
    )


@bp.route("/archive")
@kept_page
def archive():
    filters = archive_filters()
    page = queries.archive_page(
        filters, request.args.get("cursor"), current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "meetings/archive.html",
        page=page,
        filters=filters,
        kinds=list(ActivityKind),
        formats=list(Format),
        statuses=list(Status),
        years=queries.archive_years(),
        states=directory_queries.member_state_choices(),
        activity_link=row_link("meetings.activity", "activity_id"),
    )


@bp.route("/calendar")
@kept_page
def month():
    """A month of activities; ``?month=2026-07``, this month by default."""
    try:
        first = date.fromisoformat(request.args.get("month", "") + "-01")
    except ValueError:
        first = today().replace(day=1)
    if not 1990 <= first.year <= 2100:
        first = today().replace(day=1)
    return render_template(
        "meetings/calendar.html",
        grid=calendars.month_grid(first),
        today=today(),
        activity_link=row_link("meetings.activity", "activity_id"),
    )


@bp.route("/hosting")
@kept_page
def hosting():
    """Who hosted what, year by year, and who hosts the coming activities.

    The ledger is written once per day and per change of what it reads (activities, their
    states, the states), then served from this worker's memory: a follow-up's update, the
    day's usual write, leaves it alone."""
    day = today()

    def write() -> Markup:
        ledger = calendars.hosting_ledger(day)
        # The output of an autoescaped template: every value in it is escaped already.
        html = render_template("meetings/_hosting_ledger.html", ledger=ledger)
        return Markup(html)  # noqa: S704

    body = cache.memoised(
        "hosting-ledger", (request.script_root, day), calendars.LEDGER_READS, write
    )
    return render_template("meetings/hosting.html", ledger_html=body)
