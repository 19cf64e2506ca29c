from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from kpplan import permissions
from kpplan.audit import queries as audit_queries
from kpplan.chair import queries, services
from kpplan.chair.forms import (
    ChairmanshipForm,
    DropForm,
    LinkActivityForm,
    NewChairmanshipForm,
    NewWorkPlanForm,
    NewWorkPlanItemForm,
    ReinstateForm,
    UnlinkForm,
    WorkPlanForm,
    WorkPlanItemForm,
)
from kpplan.chair.models import Chairmanship, WorkPlan, WorkPlanItem, work_plan_item_activities
from kpplan.core.cache import memoised, watch
from kpplan.core.clock import today
from kpplan.core.etags import stamp_every_page_with
from kpplan.core.extensions import db
from kpplan.core.forms import first_error
from kpplan.core.kept_pages import kept_page
from kpplan.core.requests import acting_user, commit_or_flash, save_form
from kpplan.directory.models import State
from kpplan.meetings.models import Activity

bp = Blueprint("chair", __name__, url_prefix="/chair")

# The header of every page names the Chair (a state): pages answered with a 304 while
# nothing changed (``core.etags.page_etag``) must change when either does.
stamp_every_page_with(Chairmanship, State)
_CHAIR_LINE_READS = watch(Chairmanship, State)


@bp.before_request
@login_required
def signed_in_only():
    """Every page of the Chair is for signed-in users."""


@bp.app_template_global()
def chair_line():
    """The current and upcoming Chair for the header of every page, kept until the
    chairmanships or the states change (or the day): no query of its own on a page that
    reads the change counters anyway, and none for a visitor who is not signed in."""
    if not current_user.is_authenticated:
        return None
    if "chair_line" not in g:
        try:
            day = today()
            g.chair_line = memoised(
                "chair_line", day, _CHAIR_LINE_READS, lambda: queries.chair_line(day)
            )
        except SQLAlchemyError:
            # The header never breaks a page, not even the error page of a database failure.
            db.session.rollback()
            g.chair_line = None
    return g.chair_line


# What an activity's page shows of its Chair: a status update changes none of it.
_ACTIVITY_CHAIR_READS = watch(
    Chairmanship, State, WorkPlan, WorkPlanItem, work_plan_item_activities
)


@bp.app_template_global()
def chair_of_activity(activity: Activity) -> queries.ChairOfActivity:
    """For an activity's page: the chairmanship it falls under (by its start date) and the
    work-plan items it delivers, kept until a chairmanship, a state, a work plan, an item
    or their activities change (the activity's start date is part of the key)."""
    return memoised(
        "chair_of_activity",
        (activity.id, activity.start_date),
        _ACTIVITY_CHAIR_READS,
        lambda: queries.chair_of_activity(activity.id, activity.start_date),
    )


# Chairmanships ------------------------------------------------------------------------


@bp.route("/")
@kept_page
def chairmanships():
    found = queries.chairmanships()
    return render_template(
        "chair/chairmanships.html",
        chairmanships=found,
        warnings=services.alternation_warnings(found),
        line=chair_line(),
        today=today(),
    )


@bp.route("/<int:chairmanship_id>")
@kept_page
def chairmanship(chairmanship_id: int):
    found = queries.chairmanship_page(chairmanship_id)
    if found is None:
        abort(404)
    return render_template(
        "chair/chairmanship.html",
        chairmanship=found,
        warning=services.alternation_warning_for(found),
        today=today(),
        # Like an activity's, a chairmanship's own history is for everyone who reads it.
        history=audit_queries.history_of(found, limit=10),
    )


@bp.route("/new", methods=["GET", "POST"])
def new_chairmanship():
    permissions.require(permissions.can_edit_chairmanships(current_user))
    form = NewChairmanshipForm()
    form.set_choices(queries.handover_candidates())
    status = 200
    if form.validate_on_submit():
        created, status = save_form(
            form, lambda: services.create_chairmanship(acting_user(), **form.values())
        )
        if created is not None:
            flash(f"The {created.title} has been added.", "success")
            return redirect(url_for("chair.chairmanship", chairmanship_id=created.id))
    return render_template("chair/chairmanship_form.html", form=form, chairmanship=None), status


@bp.route("/<int:chairmanship_id>/edit", methods=["GET", "POST"])
def edit_chairmanship(chairmanship_id: int):
    permissions.require(permissions.can_edit_chairmanships(current_user))
    found = db.get_or_404(Chairmanship, chairmanship_id)
    form = ChairmanshipForm.for_record(found)
    form.set_choices(queries.handover_candidates())
    status = 200
    if form.validate_on_submit():
        saved, status = save_form(
            form,
            lambda: services.update_chairmanship(
                acting_user(), found, form.version.data, **form.values()
            ),
        )
        if saved is not None:
            flash(f"The {saved.title} has been saved.", "success")
            return redirect(url_for("chair.chairmanship", chairmanship_id=saved.id))
    return render_template("chair/chairmanship_form.html", form=form, chairmanship=found), status


# Work plans ---------------------------------------------------------------------------


@bp.route("/<int:chairmanship_id>/work-plan/new", methods=["GET", "POST"])
def new_work_plan(chairmanship_id: int):
    found = db.get_or_404(Chairmanship, chairmanship_id)
    permissions.require(permissions.can_edit_work_plan(current_user, found))
    form = NewWorkPlanForm()
    status = 200
    if form.validate_on_submit():
        created, status = save_form(
            form,
            lambda: services.create_work_plan(
                acting_user(), found, form.title.data, form.summary.data
            ),
        )
        if created is not None:
            flash(f"{created.title} has been added.", "success")
            return redirect(url_for("chair.chairmanship", chairmanship_id=found.id))
    return render_template(
        "chair/work_plan_form.html", form=form, chairmanship=found, plan=None
    ), status


@bp.route("/work-plans/<int:work_plan_id>/edit", methods=["GET", "POST"])
def edit_work_plan(work_plan_id: int):
    plan = db.get_or_404(WorkPlan, work_plan_id)
    permissions.require(permissions.can_edit_work_plan(current_user, plan.chairmanship))
    form = WorkPlanForm.for_record(plan)
    status = 200
    if form.validate_on_submit():
        saved, status = save_form(
            form,
            lambda: services.update_work_plan(
                acting_user(), plan, form.version.data, form.title.data, form.summary.data
            ),
        )
        if saved is not None:
            flash(f"{saved.title} has been saved.", "success")
            return redirect(url_for("chair.chairmanship", chairmanship_id=plan.chairmanship_id))
    return render_template(
        "chair/work_plan_form.html", form=form, chairmanship=plan.chairmanship, plan=plan
    ), status


# Items --------------------------------------------------------------------------------


def _item_or_404(item_id: int) -> WorkPlanItem:
    found = queries.item_page(item_id)
    if found is None:
        abort(404)
    return found


def _require_item_editor(item: WorkPlanItem) -> None:
    permissions.require(permissions.can_edit_work_plan(current_user, item.work_plan.chairmanship))


@bp.route("/work-plans/<int:work_plan_id>/items/new", methods=["GET", "POST"])
def new_item(work_plan_id: int):
    plan = db.get_or_404(WorkPlan, work_plan_id)
    permissions.require(permissions.can_edit_work_plan(current_user, plan.chairmanship))
    form = NewWorkPlanItemForm()
    form.set_choices()
    status = 200
    if form.validate_on_submit():
        created, status = save_form(
            form, lambda: services.add_item(acting_user(), plan, **form.values())
        )
        if created is not None:
            flash(f"{created.theme} has been added to {plan.title}.", "success")
            return redirect(url_for("chair.item", item_id=created.id))
    return render_template("chair/item_form.html", form=form, plan=plan, item=None), status


@bp.route("/items/<int:item_id>")
@kept_page
def item(item_id: int):
    found = _item_or_404(item_id)
    editable = permissions.can_edit_work_plan(current_user, found.work_plan.chairmanship)
    link_form = drop_form = reinstate_form = None
    if editable:
        link_form = LinkActivityForm()
        link_form.set_activities(queries.link_candidates(found))
        drop_form = DropForm(data={"version": found.version})
        reinstate_form = ReinstateForm(data={"version": found.version})
    return render_template(
        "chair/item.html",
        item=found,
        status=found.status_on(today()),
        today=today(),
        editable=editable,
        link_form=link_form,
        drop_form=drop_form,
        reinstate_form=reinstate_form,
        unlink_form=UnlinkForm() if editable else None,
        history=audit_queries.history_of(found, limit=20),
    )


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
def edit_item(item_id: int):
    found = _item_or_404(item_id)
    _require_item_editor(found)
    form = WorkPlanItemForm.for_record(found)
    form.set_choices()
    status = 200
    if form.validate_on_submit():
        saved, status = save_form(
            form,
            lambda: services.update_item(acting_user(), found, form.version.data, **form.values()),
        )
        if saved is not None:
            flash(f"{saved.theme} has been saved.", "success")
            return redirect(url_for("chair.item", item_id=saved.id))
    return render_template(
        "chair/item_form.html", form=form, plan=found.work_plan, item=found
    ), status


@bp.route("/items/<int:item_id>/activities", methods=["POST"])
def link_activity(item_id: int):
    found = _item_or_404(item_id)
    _require_item_editor(found)
    form = LinkActivityForm()
    form.set_activities(queries.link_candidates(found))
    activity = db.session.get(Activity, form.activity.data) if form.validate() else None
    if activity is None:
        flash("Choose an activity from the list.", "error")
    else:
        if commit_or_flash(lambda: services.link_activity(acting_user(), found, activity)):
            flash(f"{activity.title} now delivers this item.", "success")
    return redirect(url_for("chair.item", item_id=item_id) + "#delivery")


@bp.route("/items/<int:item_id>/activities/<int:activity_id>/remove", methods=["POST"])
def unlink_activity(item_id: int, activity_id: int):
    found = _item_or_404(item_id)
    _require_item_editor(found)
    activity = next((a for a in found.activities if a.id == activity_id), None)
    if activity is None:
        abort(404)
    if UnlinkForm().validate() and commit_or_flash(
        lambda: services.unlink_activity(acting_user(), found, activity)
    ):
        flash(f"{activity.title} no longer delivers this item.", "success")
    return redirect(url_for("chair.item", item_id=item_id) + "#delivery")


@bp.route("/items/<int:item_id>/drop", methods=["POST"])
def drop_item(item_id: int):
    found = _item_or_404(item_id)
    _require_item_editor(found)
    form = DropForm()
    status = 200
    if form.validate():
        saved, status = save_form(
            form,
            lambda: services.drop_item(acting_user(), found, form.version.data, form.reason.data),
        )
        if saved is not None:
            flash(f"{saved.theme} has been dropped.", "success")
            return redirect(url_for("chair.item", item_id=item_id))
    # The form again, with its message next to the reason (or what changed meanwhile).
    return render_template("chair/drop_form.html", form=form, item=found), status


@bp.route("/items/<int:item_id>/reinstate", methods=["POST"])
def reinstate_item(item_id: int):
    found = _item_or_404(item_id)
    _require_item_editor(found)
    form = ReinstateForm()
    if not form.validate():
        flash(first_error(form), "error")
        return redirect(url_for("chair.item", item_id=item_id))
    # A stale page or an item not dropped: the error page says so (409 or 400).
    services.reinstate_item(acting_user(), found, form.version.data)
    db.session.commit()
    flash(f"{found.theme} is taken up again.", "success")
    return redirect(url_for("chair.item", item_id=item_id))
