from __future__ import annotations

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
from sqlalchemy import select

from kpplan import permissions
from kpplan.core import spreadsheets
from kpplan.core.clock import today
from kpplan.core.errors import DomainError, StaleEdit
from kpplan.core.extensions import db
from kpplan.core.files import Upload, send_kept_file
from kpplan.core.forms import attach_error
from kpplan.core.requests import acting_user, enum_arg, int_arg, page_arg, save_form
from kpplan.directory import queries as directory_queries
from kpplan.directory.models import Role, State
from kpplan.meetings.models import Activity
from kpplan.recommendations import queries, services, transfer
from kpplan.recommendations.forms import (
    ConfirmImportForm,
    ImportForm,
    RecommendationForm,
    RecordForm,
    UpdateForm,
    ValidationForm,
    WithdrawForm,
)
from kpplan.recommendations.models import (
    Evidence,
    FollowUp,
    FollowUpStatus,
    Recommendation,
    StatusUpdate,
)
from kpplan.recommendations.themes import BY_CODE, THEMES

bp = Blueprint("recommendations", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def signed_in_only():
    """Every page of recommendations and follow-ups is for signed-in users."""


def _scope() -> queries.Scope:
    return queries.scope_of(current_user)


def _imports_folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def _evidence_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "evidence"


def _download(body: bytes, filename: str, fmt: str) -> Response:
    mimetype = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _predecessor(code: str | None) -> tuple[Recommendation | None, str | None]:
    code = (code or "").strip()
    if not code:
        return None, None
    found = queries.recommendation_by_code(code)
    if found is None:
        return None, f"No recommendation has the code {code}."
    return found, None


# --- All recommendations ------------------------------------------------------------


def _filters() -> queries.Filters:
    theme = request.args.get("theme", "").upper()
    show = request.args.get("show", "open")
    return queries.Filters(
        status=enum_arg(FollowUpStatus, "status"),
        state_id=int_arg("state"),
        theme=theme if theme in BY_CODE else None,
        activity_id=int_arg("activity"),
        year=int_arg("year", 1, 9999),
        overdue=request.args.get("overdue") == "1",
        words=request.args.get("q", "").strip()[:100],
        show=show if show in ("open", "withdrawn", "all") else "open",
    )


@bp.route("/recommendations/")
def index():
    filters = _filters()
    pagination, figures = queries.recommendations_page(
        filters, _scope(), today(), page_arg(), current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "recommendations/index.html",
        pagination=pagination,
        figures=figures,
        filters=filters,
        statuses=list(FollowUpStatus),
        themes=THEMES,
        years=queries.recommendation_years(),
        states=directory_queries.member_state_choices() if _scope().everything else [],
        activities=queries.activities_with_recommendations(filters.activity_id),
    )


@bp.route("/recommendations/export.<any(csv, xlsx):fmt>")
def export(fmt: str):
    """The recommendations the filters find, in the columns the import reads."""
    rows = [
        transfer.recommendation_row(r) for r in queries.export_rows(_filters(), _scope(), today())
    ]
    columns = transfer.RECOMMENDATION_COLUMNS
    if fmt == "xlsx":
        body = spreadsheets.write_xlsx("Recommendations", columns, rows)
    else:
        body = spreadsheets.write_csv(columns, rows)
    return _download(body, f"kpplan-recommendations-{today():%Y-%m-%d}", fmt)


@bp.route("/recommendations/shares")
def shares():
    scope = _scope()
    return render_template(
        "recommendations/shares.html",
        by_state=queries.shares_by_state(scope),
        by_theme=queries.shares_by_theme(scope),
        totals=queries.status_totals(scope),
        statuses=list(FollowUpStatus),
    )


@bp.route("/recommendations/<int:recommendation_id>")
def recommendation(recommendation_id: int):
    found = queries.recommendation_page(recommendation_id)
    if found is None:
        abort(404)
    scope = _scope()
    follow_ups = queries.follow_ups_of(found, scope)
    figures = queries.figures_for([found.id], scope, today()).get(found.id, queries.Figures())
    withdraw_form = None
    if permissions.can_record_recommendations(current_user) and not found.is_withdrawn:
        withdraw_form = WithdrawForm(data={"version": found.version})
    return render_template(
        "recommendations/recommendation.html",
        recommendation=found,
        follow_ups=follow_ups,
        successors=queries.successors(found),
        figures=figures,
        withdraw_form=withdraw_form,
        today=today(),
    )


def _recommendation_or_404(recommendation_id: int) -> Recommendation:
    return db.get_or_404(Recommendation, recommendation_id)


@bp.route("/recommendations/<int:recommendation_id>/edit", methods=["GET", "POST"])
def edit(recommendation_id: int):
    permissions.require(permissions.can_record_recommendations(current_user))
    found = _recommendation_or_404(recommendation_id)
    if found.is_withdrawn:
        flash("This recommendation has been withdrawn; it is kept as it was.", "error")
        return redirect(url_for(".recommendation", recommendation_id=found.id))
    form = RecommendationForm()
    choices = form.set_choices()
    if request.method == "GET":
        form.version.data = found.version
        form.fields.form.fill_from(found)
    status = 200
    if form.validate_on_submit():
        predecessor, error = _predecessor(form.fields.form.predecessor.data)
        if error:
            form.fields.form.predecessor.errors.append(error)
        else:
            draft = form.fields.form.draft(choices, predecessor)
            try:
                saved = services.update_recommendation(
                    acting_user(), found, form.version.data, draft, form.revision_reason.data
                )
            except DomainError as error:
                db.session.rollback()
                status = 409 if isinstance(error, StaleEdit) else 200
                # The service names the recommendation's fields: show its message there.
                inner = getattr(form.fields.form, error.field or "", None)
                if inner is not None:
                    inner.errors = [*inner.errors, error.message]
                else:
                    attach_error(form, error)
            else:
                db.session.commit()
                flash(f"{saved.code} has been saved.", "success")
                return redirect(url_for(".recommendation", recommendation_id=saved.id))
    return render_template(
        "recommendations/edit.html",
        form=form,
        recommendation=found,
        has_reports=services.has_reports(found),
    ), status


@bp.route("/recommendations/<int:recommendation_id>/withdraw", methods=["POST"])
def withdraw(recommendation_id: int):
    permissions.require(permissions.can_record_recommendations(current_user))
    found = _recommendation_or_404(recommendation_id)
    form = WithdrawForm()
    if not form.validate():
        flash("Say why the recommendation is withdrawn.", "error")
        return redirect(url_for(".recommendation", recommendation_id=found.id))
    try:
        services.withdraw(acting_user(), found, form.version.data, form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{found.code} has been withdrawn; it stays on record.", "success")
    return redirect(url_for(".recommendation", recommendation_id=recommendation_id))


# --- One activity's recommendations -------------------------------------------------


@bp.route("/activities/<int:activity_id>/recommendations")
def activity_matrix(activity_id: int):
    activity = db.get_or_404(Activity, activity_id)
    return render_template(
        "recommendations/activity.html",
        activity=activity,
        matrix=queries.activity_matrix(activity, _scope()),
        today=today(),
    )


@bp.route("/activities/<int:activity_id>/recommendations/new", methods=["GET", "POST"])
def record(activity_id: int):
    """Several recommendations of one meeting in one form."""
    permissions.require(permissions.can_record_recommendations(current_user))
    activity = db.get_or_404(Activity, activity_id)
    rows = min(int_arg("rows", 1, 1_000_000) or 3, 30)
    form = RecordForm()
    while request.method == "GET" and len(form.entries) < rows:
        form.entries.append_entry()
    choices = form.set_choices()
    status = 200
    if form.validate_on_submit():
        # Every block is checked before anything is recorded, so that each shows its
        # message at once; then all are recorded together, or none.
        drafts, failed = [], False
        for entry in form.entries:
            if entry.form.is_blank:
                continue
            predecessor, error = _predecessor(entry.form.predecessor.data)
            if error:
                entry.form.predecessor.errors.append(error)
                failed = True
                continue
            draft = entry.form.draft(choices, predecessor)
            try:
                services.check_draft(draft)
            except DomainError as problem:
                field = getattr(entry.form, problem.field or "text", entry.form.text)
                field.errors.append(problem.message)
                failed = True
            else:
                drafts.append(draft)
        if not drafts and not failed:
            form.entries[0].form.text.errors.append("Write at least one recommendation.")
            failed = True
        if not failed:
            created, status = save_form(
                form,
                lambda: services.record_recommendations(acting_user(), activity, drafts),
            )
            if created is not None:
                flash(
                    f"{len(created)} recommendation{'s' if len(created) != 1 else ''} recorded: "
                    + ", ".join(r.code for r in created)
                    + ".",
                    "success",
                )
                return redirect(url_for(".activity_matrix", activity_id=activity.id))
    return render_template(
        "recommendations/record.html", form=form, activity=activity, rows=rows
    ), status


# --- Import -------------------------------------------------------------------------


def _read_upload(form: ImportForm) -> tuple[bytes, str] | None:
    try:
        kind = spreadsheets.upload_kind(form.file.data.filename or "")
    except DomainError as error:
        attach_error(form, error)
        return None
    data = form.file.data.stream.read(current_app.config["MAX_DOCUMENT_SIZE"] + 1)
    if len(data) > current_app.config["MAX_DOCUMENT_SIZE"]:
        form.file.errors.append("The file is too large to import.")
        return None
    return data, kind


def _plan(data: bytes, kind: str, what: str, activity: Activity | None):
    if what == "recommendations":
        rows = spreadsheets.read_table(data, kind, transfer.RECOMMENDATION_COLUMNS)
        return transfer.plan_recommendations(rows, activity)
    rows = spreadsheets.read_table(data, kind, transfer.FOLLOW_UP_COLUMNS)
    return transfer.plan_follow_ups(rows, _scope(), today())


def _import(what: str, activity: Activity | None = None):
    """Upload → a preview of every row with its errors → import all rows or none."""
    form = ImportForm()
    plan, token, status = None, None, 200
    if form.validate_on_submit():
        upload = _read_upload(form)
        if upload is not None:
            data, kind = upload
            try:
                plan = _plan(data, kind, what, activity)
            except DomainError as error:
                attach_error(form, error)
            else:
                if plan.valid:
                    token = spreadsheets.keep_upload(_imports_folder(), current_user.id, kind, data)
            finally:
                db.session.rollback()
    return render_template(
        "recommendations/import.html",
        form=form,
        plan=plan,
        what=what,
        activity=activity,
        confirm=ConfirmImportForm(data={"token": token}) if token else None,
        columns=transfer.RECOMMENDATION_COLUMNS
        if what == "recommendations"
        else transfer.FOLLOW_UP_COLUMNS,
    ), status


def _confirm(what: str, activity: Activity | None, back: str):
    form = ConfirmImportForm()
    kept = (
        spreadsheets.kept_upload(_imports_folder(), current_user.id, form.token.data or "")
        if form.validate()
        else None
    )
    if kept is None:
        flash("The file to import has expired; upload it again.", "error")
        return redirect(back)
    data, kind = kept
    try:
        plan = _plan(data, kind, what, activity)
        if not plan.valid:
            raise DomainError(
                f"{plan.error_count} rows are refused now (the data changed since the preview); "
                "upload the file again to see why."
            )
        if what == "recommendations":
            done = transfer.apply_recommendations(acting_user(), plan, "a file")
            message = f"Imported: {done['new']} recorded, {done['change']} changed."
        else:
            posted = transfer.apply_follow_ups(acting_user(), plan, today())
            message = f"Imported: {posted} status update{'s' if posted != 1 else ''} posted."
    except DomainError as error:
        db.session.rollback()
        flash(f"Nothing was imported. {error.message}", "error")
        return redirect(back)
    db.session.commit()
    (_imports_folder() / form.token.data).unlink(missing_ok=True)
    flash(message, "success")
    return redirect(back)


@bp.route("/recommendations/import", methods=["GET", "POST"])
def import_recommendations():
    permissions.require(permissions.can_record_recommendations(current_user))
    return _import("recommendations")


@bp.route("/recommendations/import/confirm", methods=["POST"])
def confirm_recommendations():
    permissions.require(permissions.can_record_recommendations(current_user))
    return _confirm("recommendations", None, url_for(".index"))


@bp.route("/follow-ups/import", methods=["GET", "POST"])
def import_follow_ups():
    permissions.require(permissions.can_report_follow_ups(current_user))
    return _import("follow_ups")


@bp.route("/follow-ups/import/confirm", methods=["POST"])
def confirm_follow_ups():
    permissions.require(permissions.can_report_follow_ups(current_user))
    return _confirm("follow_ups", None, url_for(".follow_ups"))


# --- Follow-ups ---------------------------------------------------------------------


def _state_for_list() -> State | None:
    """A focal point's own state; for others, the state chosen with ``?state=``."""
    if current_user.role is Role.FOCAL_POINT:
        return current_user.state
    state_id = int_arg("state")
    return db.session.get(State, state_id) if state_id else None


@bp.route("/follow-ups/")
def follow_ups():
    """A state's follow-ups, most urgent first, one click from the update form."""
    state = _state_for_list()
    only = request.args.get("only")
    listing = None
    if state is not None:
        listing = queries.state_follow_ups(
            state.id, today(), page_arg(), current_app.config["PAGE_SIZE"], only
        )
    return render_template(
        "recommendations/follow_ups.html",
        state=state,
        listing=listing,
        only=only,
        labels=queries.URGENCY_LABELS,
        urgency_of=queries.urgency_of,
        states=directory_queries.member_state_choices()
        if current_user.role is not Role.FOCAL_POINT
        else [],
        today=today(),
    )


@bp.route("/follow-ups/export.<any(csv, xlsx):fmt>")
def export_follow_ups(fmt: str):
    """A focal point's state's follow-ups (or, for others, a chosen state's or all), in the
    columns the import of updates reads."""
    state = _state_for_list()
    if current_user.role is Role.FOCAL_POINT and state is None:
        abort(404)
    rows = [
        transfer.follow_up_row(f)
        for f in queries.follow_up_export_rows(state.id if state else None)
    ]
    columns = transfer.FOLLOW_UP_COLUMNS
    if fmt == "xlsx":
        body = spreadsheets.write_xlsx("Follow-ups", columns, rows)
    else:
        body = spreadsheets.write_csv(columns, rows)
    name = f"kpplan-follow-ups-{(state.iso_code if state else 'all').lower()}-{today():%Y-%m-%d}"
    return _download(body, name, fmt)


@bp.route("/follow-ups/validation")
def validation_queue():
    permissions.require(permissions.can_record_recommendations(current_user))
    return render_template(
        "recommendations/validation.html",
        pagination=queries.validation_queue(page_arg(), current_app.config["PAGE_SIZE"]),
        form=ValidationForm(),
    )


def _visible_follow_up_or_404(follow_up_id: int) -> FollowUp:
    """The follow-up, or 404 when it does not exist or is another state's."""
    found = queries.follow_up_page(follow_up_id)
    if found is None or not permissions.can_see_follow_up(current_user, found):
        abort(404)
    return found


@bp.route("/follow-ups/<int:follow_up_id>", methods=["GET", "POST"])
def follow_up(follow_up_id: int):
    found = _visible_follow_up_or_404(follow_up_id)
    may_update = permissions.can_update_follow_up(current_user, found)
    if request.method == "POST":
        permissions.require(may_update)
    form = UpdateForm() if may_update else None
    if form is not None and request.method == "GET":
        form.version.data = found.version
        form.status.data = found.status.value
    status = 200
    if form is not None and form.validate_on_submit():
        try:
            links = form.evidence_links()
        except ValueError as error:
            form.links.errors.append(str(error))
        else:
            files = [
                Upload(f.stream, f.filename) for f in (form.files.data or []) if f and f.filename
            ]
            update, status = save_form(
                form,
                lambda: services.post_update(
                    acting_user(),
                    found,
                    form.version.data,
                    status=FollowUpStatus(form.status.data),
                    narrative=form.narrative.data,
                    today=today(),
                    progress=form.progress.data,
                    reason=form.reason.data,
                    next_review_date=form.next_review_date.data,
                    links=links,
                    files=files,
                    upload_folder=_evidence_folder(),
                    max_size=current_app.config["MAX_DOCUMENT_SIZE"],
                ),
            )
            if update is not None:
                if update.validation is not None:
                    flash(
                        "Your update has been posted. The secretariat will validate the "
                        "implementation before it counts.",
                        "success",
                    )
                else:
                    flash("Your update has been posted.", "success")
                return redirect(url_for(".follow_up", follow_up_id=follow_up_id))
            found = _visible_follow_up_or_404(follow_up_id)
    return render_template(
        "recommendations/follow_up.html",
        follow_up=found,
        recommendation=found.recommendation,
        form=form,
        validation_form=ValidationForm()
        if permissions.can_record_recommendations(current_user)
        else None,
        today=today(),
    ), status


@bp.route("/follow-ups/<int:follow_up_id>/evidence/<int:evidence_id>")
def evidence(follow_up_id: int, evidence_id: int):
    """A file of evidence, only to those who see its follow-up (404 for anyone else)."""
    item = db.session.scalar(
        select(Evidence)
        .join(StatusUpdate, Evidence.status_update_id == StatusUpdate.id)
        .where(Evidence.id == evidence_id, StatusUpdate.follow_up_id == follow_up_id)
    )
    if item is None or not item.is_file:
        abort(404)
    follow_up_found = db.session.get(FollowUp, follow_up_id)
    if not permissions.can_see_follow_up(current_user, follow_up_found):
        abort(404)
    return send_kept_file(
        _evidence_folder(), item.stored_name, item.content_type, item.original_name
    )


@bp.route("/follow-ups/updates/<int:update_id>/validate", methods=["POST"])
def validate(update_id: int):
    permissions.require(permissions.can_record_recommendations(current_user))
    update = db.get_or_404(StatusUpdate, update_id)
    form = ValidationForm()
    back = request.form.get("back") == "queue"
    target = (
        url_for(".validation_queue")
        if back
        else url_for(".follow_up", follow_up_id=update.follow_up_id)
    )
    if not form.validate():
        flash("Choose to accept or to return the update.", "error")
        return redirect(target)
    try:
        services.validate(
            acting_user(), update, form.decision.data == "accept", form.comment.data or ""
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(
            "The implementation has been validated."
            if form.decision.data == "accept"
            else "The update has been returned to the focal point with your comment.",
            "success",
        )
    return redirect(target)
