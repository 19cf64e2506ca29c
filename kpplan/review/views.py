"""The Chair's review: the dashboard of a term, its exports, the handover pack, and the
review snapshots taken at Senior Officials' Meetings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from kpplan import permissions
from kpplan.chair import queries as chair_queries
from kpplan.chair.models import Chairmanship, WorkPlan, WorkPlanItem, work_plan_item_activities
from kpplan.core.cache import kept_fragment, memoised, watch
from kpplan.core.clock import today
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.kept_pages import kept_page
from kpplan.core.links import row_link
from kpplan.core.requests import acting_user, int_arg
from kpplan.core.spreadsheets import write_csv, write_workbook
from kpplan.directory.models import State
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import Activity
from kpplan.recommendations.figures import ShareRow
from kpplan.recommendations.queries import scope_of
from kpplan.recommendations.statuses import FollowUpStatus
from kpplan.recommendations.themes import BY_CODE
from kpplan.review import charts, exports, progress, queries, services, snapshots
from kpplan.review import handover as handover_queries

bp = Blueprint("review", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECTIONS = '"work-plan", states, themes, overdue, activities'


@bp.before_request
@login_required
def signed_in_only():
    """The review is for everyone signed in; focal points see their own state's rows."""
    permissions.require(permissions.can_view_review(current_user))


@bp.app_template_global()
def snapshot_of_activity(activity: Activity):
    """For a Senior Officials' Meeting's page: the snapshot taken there, if any."""
    if activity.kind is not ActivityKind.SENIOR_OFFICIALS:
        return None
    return snapshots.snapshot_of(activity.id)


def _download(body: bytes, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _chairmanship_or_404(chairmanship_id: int) -> Chairmanship:
    found = chair_queries.chairmanship_page(chairmanship_id)
    if found is None:
        abort(404)
    return found


def _slug(chairmanship: Chairmanship) -> str:
    year = chairmanship.start_date.year if chairmanship.start_date else "upcoming"
    return f"{chairmanship.state.name.lower().replace(' ', '-')}-{year}"


# A status update changes none of them: the Chair's part of the review and the handover
# pages is kept until a chairmanship, a state (the Chairs' names), a work plan, an item, their
# link to activities or an activity changes.
_CHAIR_READS = watch(
    Chairmanship, State, WorkPlan, WorkPlanItem, work_plan_item_activities, Activity
)


# The dashboard ------------------------------------------------------------------------


@bp.route("/chair/review")
def current_review():
    """The review of the Chair in office today."""
    current = chair_queries.chairmanship_on(today())
    if current is None:
        flash("No Chair is recorded for today: choose a chairmanship to review.", "info")
        return redirect(url_for("chair.chairmanships"))
    return redirect(url_for("review.dashboard", chairmanship_id=current.id))


def _review(chairmanship_id: int, overdue_limit: int = queries.OVERDUE_SHOWN):
    chairmanship = _chairmanship_or_404(chairmanship_id)
    return queries.term_review(chairmanship, scope_of(current_user), today(), overdue_limit)


def _term_activities_table(review: queries.TermFigures, start: date | None) -> Markup:
    """The table of the term's activities, written once per change of the activities (or
    their attendance lists, what ``activities_between`` reads) and kept: a follow-up's
    update, the day's usual write, leaves it alone."""

    def write() -> Markup:
        html = render_template(
            "review/_term_activities.html",
            activities=review.activities,
            kinds=queries.kind_counts(review.activities),
            activity_link=row_link("meetings.activity", "activity_id"),
        )
        # The output of an autoescaped template: every value in it is escaped already.
        return Markup(html)  # noqa: S704

    key = (request.script_root, start, review.end)
    return memoised("review_term_activities", key, queries.TERM_ACTIVITIES_READ, write)


@dataclass(frozen=True)
class ReviewChair:
    """What a term's review shows of the Chair (written once and kept, see
    ``_review_chair``): its title and term, the page's head, the work plan's progress."""

    id: int
    title: str
    start_date: date | None
    end: date | None
    head: Markup
    work_plan: Markup
    planned: int
    held: int
    held_on_time: int


def _review_chair(chairmanship_id: int) -> ReviewChair | None:
    """The Chair's part of a term's review (its head and the progress of its work plan),
    written once per day and per change of what it reads (``_CHAIR_READS``), and kept: a
    status update, the day's usual write, leaves it alone. None: no such chairmanship."""

    def write() -> ReviewChair | None:
        chairmanship = chair_queries.chairmanship_page(chairmanship_id)
        if chairmanship is None:
            return None
        plan = progress.work_plan_progress(chairmanship, today())
        head = render_template("review/_review_head.html", chairmanship=chairmanship, today=today())
        work_plan = render_template(
            "review/_work_plan.html",
            chairmanship=chairmanship,
            progress=plan,
            progress_chart=charts.progress_bar(plan.counts),
            progress_colours=charts.PROGRESS_COLOURS,
            progress_labels=progress.PROGRESS_LABELS,
            item_link=row_link("chair.item", "item_id"),
        )
        return ReviewChair(
            id=chairmanship.id,
            title=chairmanship.title,
            start_date=chairmanship.start_date,
            end=queries.term_end(chairmanship, today()),
            # The output of autoescaped templates: every value in them is escaped already.
            head=Markup(head),  # noqa: S704
            work_plan=Markup(work_plan),  # noqa: S704
            planned=plan.planned,
            held=plan.held,
            held_on_time=plan.counts["held_on_time"],
        )

    key = (request.script_root, chairmanship_id, today())
    return memoised("review_chair", key, _CHAIR_READS, write)


@bp.route("/chair/<int:chairmanship_id>/review")
@kept_page
def dashboard(chairmanship_id: int):
    chair = _review_chair(chairmanship_id)
    if chair is None:
        abort(404)
    scope = scope_of(current_user)
    review = queries.term_figures(chair.start_date, chair.end, scope, today())
    return render_template(
        "review/dashboard.html",
        review=review,
        chair=chair,
        theme_chart=_theme_chart(review.by_theme),
        activities_table=(
            _term_activities_table(review, chair.start_date) if review.activities else None
        ),
        activity_link=row_link("meetings.activity", "activity_id"),
        state_row=_share_row("state_share_row", row_link("recommendations.follow_ups", "state")),
        theme_row=_share_row("theme_share_row", _theme_link()),
        overdue_rows=_overdue_rows(review.overdue_list),
        scope=scope,
        today=today(),
    )


def _share_row(macro: str, link) -> Callable[[ShareRow], Markup]:
    """A row of the dashboard's shares by state or by theme (``macro`` of
    ``review/_rows.html``), kept for the values it shows (``kept_fragment``): after a status
    update, which reads the shares again, only the rows of the states and themes whose
    figures it changed are written again."""
    write = get_template_attribute("review/_rows.html", macro)
    root = request.script_root

    def row(r: ShareRow) -> Markup:
        key = (root, r.key, r.label, r.total, r.implemented, r.not_applicable, r.pending)
        return kept_fragment(macro, key, lambda: write(r, link, BY_CODE))

    return row


def _theme_chart(by_theme: list[ShareRow]) -> Markup:
    """The chart of the shares by theme, kept for the bars it draws (``kept_fragment``)."""
    chart = charts.share_bars(by_theme, short_label=lambda r: r.key)
    key = (chart.width, chart.height, chart.left, chart.plot, chart.bar_height, *chart.bars)
    write = get_template_attribute("review/_rows.html", "theme_chart")
    return kept_fragment("theme_chart", key, lambda: write(chart))


def _theme_link():
    """The address of a theme's recommendations, for any theme's code, with ``url_for``
    called once per page."""
    base = url_for("recommendations.index")
    return lambda code: f"{base}?{urlencode({'theme': code})}"


@bp.route("/chair/<int:chairmanship_id>/review.xlsx")
def dashboard_xlsx(chairmanship_id: int):
    review = _review(chairmanship_id, queries.LIST_LIMIT)
    sheets = exports.dashboard_sheets(review, today())
    return _download(
        write_workbook(sheets.values()),
        f"kpplan-review-{_slug(review.chairmanship)}-{today():%Y-%m-%d}.xlsx",
        XLSX,
    )


@bp.route(f"/chair/<int:chairmanship_id>/review/<any({SECTIONS}):section>.csv")
def dashboard_csv(chairmanship_id: int, section: str):
    review = _review(chairmanship_id, queries.LIST_LIMIT)
    _title, columns, rows = exports.dashboard_sheets(review, today())[section]
    return _download(
        write_csv(columns, rows),
        f"kpplan-review-{_slug(review.chairmanship)}-{section}-{today():%Y-%m-%d}.csv",
        "text/csv; charset=utf-8",
    )


# The handover pack --------------------------------------------------------------------


def _upcoming_table(activities: list[queries.ActivityRow], shown: int) -> Markup:
    """The table of the first ``shown`` upcoming activities, written once per day and per
    change of the activities (what ``handover.upcoming_activities`` reads) and kept."""

    def write() -> Markup:
        html = render_template(
            "review/_upcoming_activities.html",
            activities=activities,
            activity_link=row_link("meetings.activity", "activity_id"),
        )
        # The output of an autoescaped template: every value in it is escaped already.
        return Markup(html)  # noqa: S704

    key = (request.script_root, today(), shown)
    return memoised("handover_upcoming", key, queries.ACTIVITIES_READ, write)


@dataclass(frozen=True)
class HandoverChair:
    """What the handover page shows of the Chair (written once and kept, see
    ``_handover_chair``): its title, the page's head and the items not delivered."""

    id: int
    title: str
    head: Markup
    not_delivered_count: int
    not_delivered: Markup


def _handover_chair(chairmanship_id: int) -> HandoverChair | None:
    """The Chair's part of the handover page (its head, with the incoming Chair, and the
    work-plan items not delivered), written once per day and per change of what it reads,
    and kept: a status update, the day's usual write, leaves it alone. None: no such
    chairmanship."""

    def write() -> HandoverChair | None:
        chairmanship = chair_queries.chairmanship_page(chairmanship_id)
        if chairmanship is None:
            return None
        not_delivered = progress.work_plan_progress(chairmanship, today()).not_delivered
        # The output of autoescaped templates: every value in them is escaped already.
        head = render_template(
            "review/_handover_head.html",
            chairmanship=chairmanship,
            successor=handover_queries.successor_of(chairmanship),
            today=today(),
        )
        items = render_template(
            "review/_not_delivered.html", chairmanship=chairmanship, not_delivered=not_delivered
        )
        return HandoverChair(
            id=chairmanship.id,
            title=chairmanship.title,
            head=Markup(head),  # noqa: S704
            not_delivered_count=len(not_delivered),
            not_delivered=Markup(items),  # noqa: S704
        )

    key = (request.script_root, chairmanship_id, today())
    return memoised("handover_chair", key, _CHAIR_READS, write)


def _open_rows(found: list[handover_queries.OpenRecommendation]) -> Markup:
    """The rows of the open recommendations, each kept for the values it shows
    (``kept_fragment``): after a status update, which reads the list again, only the rows
    whose figures changed are written again."""
    write = get_template_attribute("review/_rows.html", "open_row")
    link = row_link("recommendations.recommendation", "recommendation_id")
    statuses = list(FollowUpStatus)
    root = request.script_root

    def row(r: handover_queries.OpenRecommendation) -> Markup:
        shown = (r.id, r.code, r.text, r.activity_title, r.addressees, r.pending, r.overdue)
        key = (root, shown, tuple(r.by_status[s] for s in statuses))
        return kept_fragment("open_row", key, lambda: write(r, statuses, link))

    return Markup("").join(row(r) for r in found)


def _overdue_rows(found: list[queries.OverdueFollowUp]) -> Markup:
    """The rows of overdue follow-ups, each kept for the values it shows and the day."""
    write = get_template_attribute("review/_rows.html", "overdue_row")
    recommendation_link = row_link("recommendations.recommendation", "recommendation_id")
    follow_up_link = row_link("recommendations.follow_up", "follow_up_id")
    root, day = request.script_root, today()

    def row(f: queries.OverdueFollowUp) -> Markup:
        return kept_fragment(
            "overdue_row",
            (root, f, day),
            lambda: write(f, day, recommendation_link, follow_up_link),
        )

    return Markup("").join(row(f) for f in found)


@bp.route("/chair/<int:chairmanship_id>/handover")
@kept_page
def handover(chairmanship_id: int):
    chair = _handover_chair(chairmanship_id)
    if chair is None:
        abort(404)
    shown = handover_queries.PAGE_ROWS
    pack = handover_queries.handover_lists(scope_of(current_user), today(), shown, open_rows=shown)
    return render_template(
        "review/handover.html",
        upcoming_table=_upcoming_table(pack.upcoming[:shown], shown) if pack.upcoming else None,
        open_rows=_open_rows(pack.open_recommendations),
        overdue_rows=_overdue_rows(pack.overdue),
        shown=shown,
        list_limit=queries.LIST_LIMIT,
        pack=pack,
        chair=chair,
        statuses=list(FollowUpStatus),
        scope=scope_of(current_user),
        today=today(),
    )


@bp.route("/chair/<int:chairmanship_id>/handover.xlsx")
def handover_xlsx(chairmanship_id: int):
    chairmanship = _chairmanship_or_404(chairmanship_id)
    pack = handover_queries.handover_pack(chairmanship, scope_of(current_user), today())
    return _download(
        write_workbook(exports.handover_sheets(pack, today())),
        f"kpplan-handover-{_slug(chairmanship)}-{today():%Y-%m-%d}.xlsx",
        XLSX,
    )


# Snapshots ----------------------------------------------------------------------------


@bp.route("/activities/<int:activity_id>/snapshot", methods=["POST"])
def take_snapshot(activity_id: int):
    permissions.require(permissions.can_take_snapshots(current_user))
    activity = db.get_or_404(Activity, activity_id)
    try:
        snapshot = services.take_snapshot(acting_user(), activity, today())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("meetings.activity", activity_id=activity_id) + "#review-snapshot")
    db.session.commit()
    flash(
        f"The follow-up of {snapshot.entry_count} addressees is frozen at {activity.title}.",
        "success",
    )
    return redirect(url_for("review.snapshot", snapshot_id=snapshot.id))


@bp.route("/chair/snapshots/<int:snapshot_id>")
@kept_page
def snapshot(snapshot_id: int):
    found = snapshots.snapshot_page(snapshot_id)
    if found is None:
        abort(404)
    scope = scope_of(current_user)
    previous = snapshots.previous_snapshot(found)
    rows = snapshots.differences(found, previous, scope)
    state_id = int_arg("state") if scope.everything else None
    return render_template(
        "review/snapshot.html",
        snapshot=found,
        previous=previous,
        rows=rows,
        total=snapshots.totals(rows),
        changes=snapshots.changes(found, previous, scope, state_id),
        state_id=state_id,
        labels=snapshots.CHANGE_LABELS,
        scope=scope,
        chairmanship=chair_queries.chairmanship_on(found.activity.start_date),
    )
