from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from kpplan import permissions
from kpplan.audit import queries as audit_queries
from kpplan.core import cache, files
from kpplan.core.clock import today
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.kept_pages import kept_page
from kpplan.core.links import row_link
from kpplan.core.requests import acting_user, enum_arg, int_arg, page_arg, save_form
from kpplan.directory import queries as directory_queries
from kpplan.directory.models import User
from kpplan.meetings import calendars, documents, ical, lifecycle, queries, services
from kpplan.meetings.forms import (
    ActivityForm,
    DocumentForm,
    LinkForm,
    MilestoneForm,
    MoveForm,
    NewActivityForm,
)
from kpplan.meetings.kinds import ActivityKind
from kpplan.meetings.models import (
    Activity,
    ActivityLink,
    Document,
    DocumentKind,
    Format,
    Milestone,
    Relation,
    Status,
)

bp = Blueprint("meetings", __name__, url_prefix="/activities")
# The feed lives outside the signed-in pages: a calendar program brings a token, not a session.
feed_bp = Blueprint("feeds", __name__)


@bp.before_request
@login_required
def signed_in_only():
    """Every activity page is for signed-in users."""


def _activity_page_or_404(activity_id: int) -> Activity:
    found = queries.activity_page(activity_id)
    if found is None:
        abort(404)
    return found


def _warn_overlaps(activity: Activity) -> None:
    others = services.overlapping(activity.id, activity.start_date, activity.end_date)
    if others:
        names = "; ".join(f"{a.title} ({a.first_day})" for a in others[:3])
        flash(f"Note: these dates overlap with {names}.", "warning")


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


@bp.route("/<int:activity_id>.ics")
def activity_ics(activity_id: int):
    found = _activity_page_or_404(activity_id)
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


@bp.route("/<int:activity_id>")
@kept_page
def activity(activity_id: int):
    found = _activity_page_or_404(activity_id)
    # An activity's own history is for everyone who sees the activity.
    history = audit_queries.history_of(found, limit=20)
    milestone_form = None
    if permissions.can_plan_activities(current_user):
        milestone_form = MilestoneForm()
        milestone_form.set_owner_choices(directory_queries.staff_choices())
    document_form = DocumentForm() if permissions.can_plan_activities(current_user) else None
    link_form, link_targets = None, []
    if permissions.can_plan_activities(current_user):
        # Hundreds of choices at scale, their labels kept: the template writes them in
        # one loop, rather than the form's widget building each option.
        link_form, link_targets = LinkForm(), queries.link_choices(found)
    return render_template(
        "meetings/activity.html",
        activity=found,
        related=queries.related(found),
        document_form=document_form,
        link_form=link_form,
        link_targets=link_targets,
        milestone_form=milestone_form,
        today=today(),
        moves=lifecycle.allowed_moves(found),
        actions=lifecycle.ACTIONS,
        move_form=MoveForm(),
        history=history,
    )


@bp.route("/new", methods=["GET", "POST"])
def new_activity():
    permissions.require(permissions.can_plan_activities(current_user))
    form = NewActivityForm()
    form.set_choices()
    status = 200
    if form.validate_on_submit():
        created, status = save_form(
            form, lambda: services.create_activity(acting_user(), **form.values())
        )
        if created is not None:
            flash(f"{created.title} has been added as a draft.", "success")
            _warn_overlaps(created)
            return redirect(url_for("meetings.activity", activity_id=created.id))
    return render_template("meetings/activity_form.html", form=form, activity=None), status


@bp.route("/<int:activity_id>/edit", methods=["GET", "POST"])
def edit_activity(activity_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    found = _activity_page_or_404(activity_id)
    form = ActivityForm.for_record(found)
    form.set_choices()
    status = 200
    if form.validate_on_submit():
        saved, status = save_form(
            form,
            lambda: services.update_activity(
                acting_user(), found, form.version.data, **form.values()
            ),
        )
        if saved is not None:
            flash(f"{saved.title} has been saved.", "success")
            _warn_overlaps(saved)
            return redirect(url_for("meetings.activity", activity_id=saved.id))
    return render_template("meetings/activity_form.html", form=form, activity=found), status


@bp.route("/<int:activity_id>/status", methods=["POST"])
def move(activity_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    found = db.get_or_404(Activity, activity_id)
    form = MoveForm()
    if not form.validate():
        flash("Choose a valid status and dates.", "error")
        return redirect(url_for("meetings.activity", activity_id=found.id))
    try:
        services.move(
            acting_user(),
            found,
            Status(form.to.data),
            today(),
            reason=form.reason.data,
            new_start=form.new_start.data,
            new_end=form.new_end.data,
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{found.title} is now {found.status.label.lower()}.", "success")
        if found.status is Status.POSTPONED:
            _warn_overlaps(found)
    return redirect(url_for("meetings.activity", activity_id=activity_id))


def _milestone_form() -> MilestoneForm:
    form = MilestoneForm()
    form.set_owner_choices(directory_queries.staff_choices())
    return form


@bp.route("/<int:activity_id>/milestones", methods=["POST"])
def add_milestone(activity_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    found = db.get_or_404(Activity, activity_id)
    form = _milestone_form()
    if form.validate():
        owner = db.session.get(User, form.owner.data) if form.owner.data else None
        try:
            services.add_milestone(
                acting_user(), found, form.name.data or "", form.due_date.data, owner
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash("The milestone has been added.", "success")
    else:
        flash(_first_error(form), "error")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#preparation")


@bp.route("/<int:activity_id>/milestones/<int:milestone_id>", methods=["POST"])
def update_milestone(activity_id: int, milestone_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.activity_id != activity_id:
        abort(404)
    form = _milestone_form()
    if form.validate():
        owner = db.session.get(User, form.owner.data) if form.owner.data else None
        done_on = (milestone.done_on or today()) if form.done.data else None
        services.update_milestone(acting_user(), milestone, form.due_date.data, owner, done_on)
        db.session.commit()
        flash(f"{milestone.name} has been saved.", "success")
    else:
        flash(_first_error(form), "error")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#preparation")


def _first_error(form) -> str:
    for field in form:
        if field.errors:
            return f"{field.label.text}: {field.errors[0]}"
    return "The form could not be read; reload the page and try again."


@bp.route("/<int:activity_id>/links", methods=["POST"])
def add_link(activity_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    found = db.get_or_404(Activity, activity_id)
    form = LinkForm()
    form.set_targets(queries.link_candidates(found))
    target = db.session.get(Activity, form.target.data) if form.validate() else None
    if target is None:
        flash("Choose an activity from the list.", "error")
    else:
        try:
            services.link_activities(acting_user(), found, target, Relation(form.relation.data))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash("The activities are linked.", "success")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#related")


@bp.route("/<int:activity_id>/links/<int:link_id>/remove", methods=["POST"])
def remove_link(activity_id: int, link_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    link = db.session.get(ActivityLink, link_id)
    if link is None or activity_id not in (link.source_id, link.target_id):
        abort(404)
    services.unlink_activities(acting_user(), link)
    db.session.commit()
    flash("The link has been removed.", "success")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#related")


@bp.route("/<int:activity_id>/documents", methods=["POST"])
def add_document(activity_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    found = db.get_or_404(Activity, activity_id)
    form = DocumentForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return redirect(url_for("meetings.activity", activity_id=activity_id) + "#documents")
    try:
        document = documents.add_document(
            acting_user(),
            found,
            DocumentKind(form.kind.data),
            form.title.data,
            files.Upload(form.file.data.stream, form.file.data.filename),
            Path(current_app.config["UPLOAD_FOLDER"]),
            current_app.config["MAX_DOCUMENT_SIZE"],
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{document.title} has been added.", "success")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#documents")


def _document_or_404(activity_id: int, document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or document.activity_id != activity_id:
        abort(404)
    return document


@bp.route("/<int:activity_id>/documents/<int:document_id>")
def document(activity_id: int, document_id: int):
    """The file, to everyone signed in who may see the activity (everyone, for now)."""
    permissions.require(permissions.can_view_activities(current_user))
    found = _document_or_404(activity_id, document_id)
    return files.send_kept_file(
        Path(current_app.config["UPLOAD_FOLDER"]),
        found.stored_name,
        found.content_type,
        found.original_name,
    )


@bp.route("/<int:activity_id>/documents/<int:document_id>/remove", methods=["POST"])
def remove_document(activity_id: int, document_id: int):
    permissions.require(permissions.can_plan_activities(current_user))
    found = _document_or_404(activity_id, document_id)
    title = found.title
    stored = documents.remove_document(acting_user(), found)
    db.session.commit()
    (Path(current_app.config["UPLOAD_FOLDER"]) / stored).unlink(missing_ok=True)
    flash(f"{title} has been removed.", "success")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#documents")
