"""An activity's page, and what the secretariat changes from it: its record, its status,
its milestones and its links to other activities."""

from __future__ import annotations

from flask import abort, flash, get_template_attribute, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup

from kpplan import permissions
from kpplan.audit import queries as audit_queries
from kpplan.core.cache import memoised
from kpplan.core.clock import today
from kpplan.core.errors import DomainError
from kpplan.core.extensions import db
from kpplan.core.forms import first_error
from kpplan.core.kept_pages import kept_page
from kpplan.core.requests import acting_user, save_form
from kpplan.directory import queries as directory_queries
from kpplan.directory.models import User
from kpplan.meetings import lifecycle, queries, services
from kpplan.meetings.blueprint import activity_page_or_404, bp
from kpplan.meetings.forms import (
    ActivityForm,
    DocumentForm,
    LinkForm,
    MilestoneForm,
    MoveForm,
    NewActivityForm,
)
from kpplan.meetings.models import Activity, ActivityLink, Milestone, Relation, Status


def _warn_overlaps(activity: Activity) -> None:
    others = services.overlapping(activity.id, activity.start_date, activity.end_date)
    if others:
        names = "; ".join(f"{a.title} ({a.first_day})" for a in others[:3])
        flash(f"Note: these dates overlap with {names}.", "warning")


def _link_options(activity: Activity) -> Markup:
    """The "link to" choices as the options of their select, written once and kept until
    an activity changes: hundreds at scale, whose dates and titles were read, written and
    escaped again on every view of the page (after any write elsewhere, since the page
    reads the history). An empty text when there is none."""
    write = get_template_attribute("meetings/_link_options.html", "options")
    return memoised(
        "activity-link-options",
        (activity.id,),
        queries.LINK_CHOICES_READ,
        lambda: write(queries.link_choices(activity)),
    )


@bp.route("/<int:activity_id>")
@kept_page
def activity(activity_id: int):
    found = activity_page_or_404(activity_id)
    # An activity's own history is for everyone who sees the activity.
    history = audit_queries.history_of(found, limit=20)
    milestone_form = None
    if permissions.can_plan_activities(current_user):
        milestone_form = MilestoneForm()
        milestone_form.set_owner_choices(directory_queries.staff_choices())
    document_form = DocumentForm() if permissions.can_plan_activities(current_user) else None
    link_form, link_targets = None, []
    if permissions.can_plan_activities(current_user):
        link_form, link_targets = LinkForm(), _link_options(found)
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
    found = activity_page_or_404(activity_id)
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
        flash(first_error(form), "error")
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
        flash(first_error(form), "error")
    return redirect(url_for("meetings.activity", activity_id=activity_id) + "#preparation")


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
