"""Follow-ups: a state's list most urgent first, its export, one follow-up's timeline and
update form, its evidence files, and the secretariat's validation of "implemented"."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from kpplan import permissions
from kpplan.core import spreadsheets
from kpplan.core.clock import today
from kpplan.core.extensions import db
from kpplan.core.files import Upload, send_kept_file
from kpplan.core.forms import attach_error
from kpplan.core.kept_pages import kept_page
from kpplan.core.links import row_link
from kpplan.core.requests import acting_user, int_arg, page_arg, save_form
from kpplan.directory.models import Role, State
from kpplan.recommendations import (
    at_a_glance,
    follow_up_queries,
    follow_up_services,
    queries,
    state_follow_up_list,
)
from kpplan.recommendations.blueprint import bp, download, evidence_folder
from kpplan.recommendations.exports import FOLLOW_UP_COLUMNS, follow_up_row
from kpplan.recommendations.follow_up_models import Evidence, FollowUp, StatusUpdate
from kpplan.recommendations.forms import UpdateForm, ValidationForm
from kpplan.recommendations.statuses import FollowUpStatus


def _state_for_list() -> State | None:
    """A focal point's own state; for others, the state chosen with ``?state=``."""
    if current_user.role is Role.FOCAL_POINT:
        return current_user.state
    state_id = int_arg("state")
    return db.session.get(State, state_id) if state_id else None


@bp.route("/follow-ups/")
@kept_page
def follow_ups():
    """A state's follow-ups, most urgent first, one click from the update form; without a
    state (for all but focal points), every state at a glance."""
    state = _state_for_list()
    only = request.args.get("only")
    listing = overview = totals = None
    if state is not None:
        listing = state_follow_up_list.state_follow_ups(
            state.id, today(), request.args.get("cursor"), current_app.config["PAGE_SIZE"], only
        )
    elif current_user.role is not Role.FOCAL_POINT:
        overview = at_a_glance.states_at_a_glance(today())
        totals = at_a_glance.totals(today(), overview)
    return render_template(
        "recommendations/follow_ups.html",
        state=state,
        listing=listing,
        overview=overview,
        totals=totals,
        only=only,
        labels=state_follow_up_list.urgency_labels(),
        recommendation_link=row_link("recommendations.recommendation", "recommendation_id"),
        follow_up_link=row_link("recommendations.follow_up", "follow_up_id"),
        state_link=row_link("recommendations.follow_ups", "state"),
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
        follow_up_row(f)
        for f in follow_up_queries.follow_up_export_rows(state.id if state else None)
    ]
    if fmt == "xlsx":
        body = spreadsheets.write_xlsx("Follow-ups", FOLLOW_UP_COLUMNS, rows)
    else:
        body = spreadsheets.write_csv(FOLLOW_UP_COLUMNS, rows)
    name = f"kpplan-follow-ups-{(state.iso_code if state else 'all').lower()}-{today():%Y-%m-%d}"
    return download(body, name, fmt)


@bp.route("/follow-ups/validation")
@kept_page
def validation_queue():
    permissions.require(permissions.can_record_recommendations(current_user))
    return render_template(
        "recommendations/validation.html",
        pagination=follow_up_queries.validation_queue(page_arg(), current_app.config["PAGE_SIZE"]),
    )


def _visible_follow_up_or_404(follow_up_id: int) -> FollowUp:
    """The follow-up, or 404 when it does not exist or is another state's."""
    found = queries.follow_up_page(follow_up_id)
    if found is None or not permissions.can_see_follow_up(current_user, found):
        abort(404)
    return found


def _checked(form: UpdateForm, found: FollowUp) -> bool:
    """Whether the update breaks no rule of ``follow_up_services.check_update``; else each message
    is shown next to its field at once."""
    problems = follow_up_services.check_update(
        found,
        status=FollowUpStatus(form.status.data),
        narrative=form.narrative.data,
        today=today(),
        progress=form.progress.data,
        reason=form.reason.data,
        next_review_date=form.next_review_date.data,
    )
    for problem in problems:
        attach_error(form, problem)
    return not problems


@bp.route("/follow-ups/<int:follow_up_id>", methods=["GET", "POST"])
@kept_page
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
        # Every message at once: the evidence links and the rules of an update.
        try:
            links = form.evidence_links()
        except ValueError as error:
            form.links.errors.append(str(error))
            links = None
        if _checked(form, found) and links is not None:
            files = [
                Upload(f.stream, f.filename) for f in (form.files.data or []) if f and f.filename
            ]
            update, status = save_form(
                form,
                lambda: follow_up_services.post_update(
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
                    upload_folder=evidence_folder(),
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
            # Refused and rolled back: the page shows the follow-up as it stands now.
            found = _visible_follow_up_or_404(follow_up_id)
    before = int_arg("before")
    return render_template(
        "recommendations/follow_up.html",
        follow_up=found,
        recommendation=found.recommendation,
        form=form,
        timeline=follow_up_queries.follow_up_timeline(found.id, before),
        earlier=before is not None,
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
        evidence_folder(), item.stored_name, item.content_type, item.original_name
    )


@bp.route("/follow-ups/updates/<int:update_id>/validate", methods=["GET", "POST"])
def validate(update_id: int):
    """One update to "implemented", its narrative and evidence, and the secretariat's
    decision on it: the page the validation reminder leads to."""
    permissions.require(permissions.can_record_recommendations(current_user))
    update = follow_up_queries.update_for_validation(update_id)
    if update is None:
        abort(404)
    waiting = update.follow_up.pending_update_id == update.id
    form = ValidationForm() if waiting else None
    status = 200
    if form is not None and form.validate_on_submit():
        accepted = form.decision.data == "accept"
        done, status = save_form(
            form,
            lambda: follow_up_services.validate(
                acting_user(),
                update,
                accepted,
                form.comment.data or "",
                without_evidence=bool(form.accept_without_evidence.data),
            ),
        )
        if done is not None:
            code = update.follow_up.recommendation.code
            flash(
                f"{code}, {update.follow_up.addressee}: the implementation has been validated."
                if accepted
                else f"{code}, {update.follow_up.addressee}: the update has been returned to "
                "the focal point with your comment.",
                "success",
            )
            return redirect(url_for(".validation_queue"))
        # Refused and rolled back: draw the update as it stands now.
        update = follow_up_queries.update_for_validation(update_id)
    return render_template(
        "recommendations/validate.html", update=update, form=form, today=today()
    ), status
